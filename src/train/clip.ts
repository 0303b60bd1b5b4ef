/**
 * Gradient clipping by global L2 norm, as `torch.nn.utils.clip_grad_norm_` (docs/design.md §4 step 3),
 * on the host gradient buffers.
 */
import { ConfigError } from '../core/errors.js';
import type { GradientStore } from './store.js';

/**
 * Scales the gradients in place by min(1, maxNorm / (norm + 1e-6)), where norm is the L2 norm
 * of all of them together (summed in float64); returns that norm. `maxNorm` 0 or Infinity
 * disables clipping (the norm is still measured, for logging); a non-finite norm clips nothing.
 */
export function clipByGlobalNorm(grads: GradientStore, maxNorm: number): { norm: number; clipped: boolean } {
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm) || maxNorm < 0) {
    throw new ConfigError(`must be a number ≥ 0 (0 or Infinity disables clipping), got ${String(maxNorm)}`, { field: 'clipNorm' });
  }
  const norm = Math.sqrt(grads.sumSquares());
  const coefficient = maxNorm / (norm + 1e-6);
  const clipped = maxNorm > 0 && Number.isFinite(maxNorm) && Number.isFinite(norm) && coefficient < 1;
  if (clipped) grads.scale(coefficient);
  return { norm, clipped };
}
