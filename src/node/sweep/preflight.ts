/**
 * What a sweep checks before it starts anything: every config's settings (as finetune would check
 * them), the data and evaluation files, the fold count against the data, and the model's config.
 * Each trial would find the same problems, but only after a process start each — and a sweep of
 * 50 trials that all fail the same way is 50 failures instead of one line naming the flag.
 */
import { readConfig } from '../../app/checkpoint.js';
import { validateTrainingSettings, type TrainingSettings } from '../../app/run.js';
import { stratifiedFolds } from '../../app/sweep/folds.js';
import type { SweepPlan } from '../../app/sweep/plan.js';
import { ConfigError } from '../../core/errors.js';
import { readConfigJson } from '../checkpoint.js';
import { readLabelledFile } from '../files.js';
import { checkTrialSettings } from './settings.js';

export interface PreflightReport {
  /** Rows of the training data. */
  rows: number;
  /** Rows per label. */
  labels: Record<string, number>;
}

export async function preflightSweep(plan: SweepPlan): Promise<PreflightReport> {
  const base = plan.input.base;
  for (const config of plan.configs) {
    const settings = { ...base, ...config.settings };
    checkTrialSettings(settings, { complete: true });
    const microBatch = settings.microBatch === 'auto' ? 1 : settings.microBatch;
    validateTrainingSettings({ ...(settings as unknown as TrainingSettings), microBatch: microBatch as number, seed: 0 });
  }
  if (plan.input.folds !== null && base.eval !== undefined) throw new ConfigError('and --folds exclude each other: folds validate on the training data, --eval on a fixed file', { field: 'eval' });
  if (plan.input.folds === null && base.eval === undefined) throw new ConfigError('a sweep validates every trial: give --folds K or --eval FILE', { field: 'folds' });
  const fields = { textField: String(base.textField), labelField: String(base.labelField) };
  const data = await readLabelledFile(String(base.data), fields);
  if (plan.input.folds !== null) {
    stratifiedFolds(
      data.rows.map((row) => row.label!),
      plan.input.folds,
      plan.input.splitSeed,
    );
  } else {
    await readLabelledFile(String(base.eval), fields);
  }
  const { json, file } = await readConfigJson(String(base.model));
  const { config } = readConfig(json, file);
  for (const settings of plan.configs.map((candidate) => ({ ...base, ...candidate.settings }))) {
    const layers = settings.reinitLayers as number;
    if (layers > config.numLayers) throw new ConfigError(`(${layers}) exceeds the model's ${config.numLayers} layers`, { field: 'reinitLayers' });
  }
  return { rows: data.rows.length, labels: data.report.labels };
}
