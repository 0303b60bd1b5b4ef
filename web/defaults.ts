/**
 * The page's preselected run: `microbatch train` with neither --data nor --model — the bundled
 * default model and data with EMBEDDED_DEFAULT's settings (src/cli/train.ts) over the train
 * command's flag defaults. A test checks these against the CLI's own, so the page and the CLI
 * train the same run unless the user changes something.
 */
import type { PageSettings } from './protocol.js';

export const DEFAULT_SETTINGS: PageSettings = {
  microBatch: 8,
  batch: 32,
  epochs: 12,
  lr: 3e-4,
  weightDecay: 0.01,
  optimizer: 'adamw',
  schedule: 'linear',
  warmupSteps: 4,
  clipNorm: 1,
  remainder: 'step',
  seed: 0,
  shuffle: true,
  lossScale: false,
  onOverflow: 'retry',
  textField: 'text',
  labelField: 'label',
  maxLength: 128,
};
