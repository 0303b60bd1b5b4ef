import type * as tf from '@tensorflow/tfjs-core';
import type { NamedVariable, OptimizerState } from '../optim/types.js';
import type { EpochLedgerJSON, EpochSummary, RemainderPolicy } from '../plan/index.js';
import type { GradientAccumulator } from './accumulator.js';

/**
 * What `fit` trains. A model sees a micro-batch as a list of samples and returns the SUM
 * (not the mean) of its per-item losses; the accumulator divides by the window's item count.
 * Items are samples for sequence-level losses, or non-ignored tokens for token-level ones.
 */
export interface TrainableModel<Sample> {
  /** Trainable parameters, stable order, HF-style names (biases end in "bias", LayerNorm params contain "LayerNorm"). */
  readonly params: readonly NamedVariable[];
  /** Number of loss items in these samples, computed without running the model. */
  countItems(samples: readonly Sample[]): number;
  /**
   * Scalar sum of per-item losses over `samples` (called inside a gradient tape).
   * `dropoutSeed` makes dropout masks a pure function of the training position, so a
   * resumed or retried window sees the same masks; models without dropout ignore it.
   */
  lossSum(samples: readonly Sample[], training: boolean, dropoutSeed: number): tf.Scalar;
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

/**
 * Computes one window's gradient into an accumulator: on return `accumulator` holds
 * Σ over `microBatches` of ∇(loss sum) · lossScale / windowItemCount (not yet unscaled).
 * The local engine runs the micro-batches in this thread; a multi-worker engine can send
 * shares of them elsewhere (`computeWindowGradients`) and add the results with
 * `accumulator.addGradients`. Micro-batch j must use `dropoutSeeds[j]`. `onMicroBatch`, if
 * given, is told each micro-batch's unscaled loss sum.
 */
export interface WindowGradientEngine<Sample> {
  computeWindow(
    accumulator: GradientAccumulator,
    microBatches: readonly (readonly Sample[])[],
    windowItemCount: number,
    lossScale: number,
    dropoutSeeds: readonly number[],
    onMicroBatch?: (microIndex: number, lossSum: number) => void,
  ): Promise<{ lossSum: number }>;
  /**
   * Called after every optimizer update (not after a skipped window), before `onStep`: a
   * multi-worker engine brings its replicas to the new parameters here.
   */
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
 * Everything besides the weights needed to continue a run exactly where it stopped, written
 * by `fit` after every window (JSON-serialisable). At an epoch boundary `ledger` is null and
 * `nextWindow` 0.
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
