import type { OptimizerState } from '../optim/types.js';
import type { EpochLedgerJSON, EpochSummary, RemainderPolicy } from '../plan/index.js';
import type { GradientStore, ParameterStore } from './store.js';

/** What one forward + backward of a micro-batch is told. */
export interface PassOptions {
  /** Multiplies every gradient: lossScale / |I(W)| (the window's item count). */
  factor: number;
  training: boolean;
  /**
   * One dropout seed per sample of the micro-batch, in order: a pure function of the run's seed,
   * the epoch and the sample's index in the data (fit.ts `sampleDropoutSeed`), so a sample's
   * masks do not depend on the micro-batch it lands in, the worker or the resume point.
   */
  dropoutSeeds: readonly number[];
  /** 0-based epoch (masked LM draws its masks from (seed, epoch, sample)). */
  epoch: number;
}

/**
 * What `fit` trains. A model computes, for a micro-batch, the gradient of the SUM (not the mean)
 * of its per-item losses times `factor`, and adds it into the gradient store; the window's item
 * count is in `factor`. Items are samples for sequence-level losses, or labelled / masked
 * tokens for token-level ones.
 */
export interface TrainableModel<Sample> {
  /** Master parameters (HF-style names: biases end in "bias", LayerNorm parameters contain "LayerNorm"/"layer_norm"). */
  readonly parameters: ParameterStore;
  /** Number of loss items in these samples in `epoch`, computed without running the model. */
  countItems(samples: readonly Sample[], epoch: number): number;
  /**
   * Adds factor · ∇(Σ per-item losses over `samples`) into `grads` and returns the unscaled
   * loss sum. Frees every tensor it makes.
   */
  accumulateGradients(samples: readonly Sample[], grads: GradientStore, pass: PassOptions): number;
}

/** What happens to a window whose unscaled gradients are not finite. */
export type OverflowPolicy = 'skip' | 'retry';

export interface LossScalerState {
  enabled: boolean;
  scale: number;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
  /** Consecutive finite steps since the last growth or backoff. */
  growthTracker: number;
  onOverflow: OverflowPolicy;
  maxRetries: number;
}

/** The micro-batches of one window and what every one of them needs. */
export interface WindowWork<Sample> {
  microBatches: readonly (readonly Sample[])[];
  /** |I(W)|. */
  itemCount: number;
  lossScale: number;
  /** Micro-batch j's per-sample dropout seeds (PassOptions.dropoutSeeds) are dropoutSeeds[j]. */
  dropoutSeeds: readonly (readonly number[])[];
  epoch: number;
}

/**
 * Computes one window's gradient into a gradient store: on return `grads` holds
 * Σ over the micro-batches of ∇(loss sum) · lossScale / itemCount (not yet unscaled).
 * The local engine runs the micro-batches in this thread; a multi-worker engine computes
 * shares of them elsewhere and adds them in. `onMicroBatch` is told each micro-batch's
 * unscaled loss sum.
 */
export interface WindowGradientEngine<Sample> {
  computeWindow(grads: GradientStore, work: WindowWork<Sample>, onMicroBatch?: (microIndex: number, lossSum: number) => void): Promise<{ lossSum: number }>;
  /** Called after every optimizer update (not after a skipped window), before `onStep`. */
  afterStep?(): Promise<void>;
}

/** The plan settings a run was started with; a resume with different ones is refused. */
export interface RunSettings {
  size: number;
  batch: number;
  remainder: RemainderPolicy;
  seed: number;
  shuffle: boolean;
  epochs: number;
}

/**
 * Everything besides the weights needed to continue a run exactly where it stopped, made by
 * `fit` after every window. At an epoch boundary `ledger` is null and `nextWindow` 0. All of it
 * is JSON but the optimizer's moments (Float32Arrays; run files store them as safetensors).
 */
export interface TrainingState {
  /** 0-based epoch to continue in (= epochs when the run is finished). */
  epoch: number;
  /** 0-based index of the next window of that epoch. */
  nextWindow: number;
  /** Windows done so far, applied or skipped: the LR schedule's step. */
  globalStep: number;
  optimizer: OptimizerState;
  scaler: LossScalerState;
  /** Ledger of `epoch` so far; null when no window of it has run yet. */
  ledger: EpochLedgerJSON | null;
  /** Summaries of the finished epochs, in order. */
  completed: EpochSummary[];
  run: RunSettings;
}
