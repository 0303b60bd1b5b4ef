/**
 * The epoch permutation. Pure TypeScript (the planner runs, and is tested, without
 * TensorFlow.js); its randomness comes from the one seeded random module.
 */
import { ConfigError } from '../core/errors.js';
import { RandomStream, deriveSeed, shuffleInPlace } from '../core/random.js';

/**
 * The permutation of 0..size-1 for `epoch` (0-based): Fisher–Yates driven by the stream of
 * `deriveSeed(seed, epoch)`, or the identity when `shuffle` is false. It depends on
 * (size, seed, epoch) only — never on micro-batch or batch size — which is what makes the
 * trained parameters independent of how the epoch is split.
 */
export function epochPermutation(size: number, seed: number, epoch: number, shuffle = true): number[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new ConfigError(`must be an integer ≥ 0, got ${String(size)}`, { field: 'size' });
  if (!Number.isFinite(seed)) throw new ConfigError(`must be a finite number, got ${String(seed)}`, { field: 'seed' });
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new ConfigError(`must be an integer ≥ 0, got ${String(epoch)}`, { field: 'epoch' });
  const permutation = Array.from({ length: size }, (_, index) => index);
  return shuffle ? shuffleInPlace(permutation, new RandomStream(deriveSeed(seed, epoch))) : permutation;
}
