import type * as tf from '@tensorflow/tfjs-core';
import type { NamedVariable } from '../optim/types.js';

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
  /** Scalar sum of per-item losses over `samples` (called inside a gradient tape). */
  lossSum(samples: readonly Sample[], training: boolean): tf.Scalar;
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
