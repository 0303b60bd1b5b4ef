/**
 * Gradient clipping by global L2 norm, as `torch.nn.utils.clip_grad_norm_` (DESIGN §4 step 3).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors.js';

export interface ClipResult {
  /** The total L2 norm over all gradients before clipping (Inf or NaN if a gradient is not finite). */
  norm: number;
  /** New tensors, in input order, that the caller must dispose; the inputs are left untouched. */
  grads: tf.Tensor[];
}

/**
 * Scales `grads` by min(1, maxNorm / (norm + 1e-6)), where norm is the L2 norm of all of them
 * concatenated. `maxNorm` 0 or Infinity disables clipping (the norm is still measured, for
 * logging). A non-finite norm is returned as is with unclipped copies, so the caller decides
 * (fit never gets here with non-finite gradients: the scaler check runs first).
 * Per-tensor sums of squares are added in float64 on the JS side, so a large model does not
 * overflow float32 while summing.
 */
export function clipByGlobalNorm(grads: readonly tf.Tensor[], maxNorm: number): ClipResult {
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm) || maxNorm < 0) {
    throw new ConfigError(`clipNorm must be a number ≥ 0 (0 or Infinity disables clipping), got ${String(maxNorm)}`);
  }
  const norm = globalNorm(grads);
  const coefficient = maxNorm / (norm + 1e-6);
  const clips = maxNorm > 0 && Number.isFinite(maxNorm) && Number.isFinite(norm) && coefficient < 1;
  return {
    norm,
    // clone shares the data (no copy), so "always new tensors" costs nothing when not clipping.
    grads: grads.map((grad) => (clips ? tf.mul(grad, coefficient) : tf.clone(grad))),
  };
}

/** L2 norm of all `grads` taken together. One small tensor is read back. */
export function globalNorm(grads: readonly tf.Tensor[]): number {
  if (grads.length === 0) return 0;
  const squares = tf.tidy(() => tf.stack(grads.map((grad) => tf.sum(tf.square(grad)))));
  let sumOfSquares = 0;
  try {
    for (const value of squares.dataSync()) sumOfSquares += value;
  } finally {
    squares.dispose();
  }
  return Math.sqrt(sumOfSquares);
}
