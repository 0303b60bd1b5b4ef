/**
 * Seeded shuffling for the epoch permutation, and the small PRNG / hash the training loop
 * also uses to derive per-micro-batch dropout seeds. Pure TypeScript so the planner runs
 * (and is tested) without TensorFlow.js.
 */
import { ConfigError } from '../errors.js';

/**
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit state PRNG that passes
 * gjrand/PractRand up to its period for this use. Returns a function giving uniform
 * numbers in [0, 1) with 32 bits of resolution. `seed` is reduced to 32 bits.
 */
export function createRng(seed: number): () => number {
  let state = toUint32(seed);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A well-mixed unsigned 32-bit hash of a sequence of numbers (e.g. seed, epoch, window,
 * micro-batch). Each part is hashed by its full float64 bit pattern, so 1 and 1.5, or
 * 2^32 and 0, give different seeds; -0 is treated as 0. Mixing is MurmurHash3's
 * multiply-rotate step followed by its fmix32 finaliser; the part count is folded in so
 * (a) and (a, 0) differ.
 */
export function deriveSeed(...parts: number[]): number {
  let hash = 0x9e3779b9;
  for (const part of parts) {
    PART_BYTES.setFloat64(0, part === 0 ? 0 : part, true);
    hash = mixWord(hash, PART_BYTES.getUint32(0, true));
    hash = mixWord(hash, PART_BYTES.getUint32(4, true));
  }
  hash ^= parts.length;
  return fmix32(hash);
}

/**
 * The permutation of 0..size-1 for `epoch` (0-based): Fisher–Yates (Durstenfeld) driven by
 * `createRng(deriveSeed(seed, epoch))`, or the identity when `shuffle` is false. It depends
 * on (size, seed, epoch) only — never on micro-batch or batch size — which is what makes the
 * trained parameters independent of how the epoch is split.
 */
export function epochPermutation(size: number, seed: number, epoch: number, shuffle = true): number[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new ConfigError(`size must be an integer ≥ 0, got ${String(size)}`);
  if (!Number.isFinite(seed)) throw new ConfigError(`seed must be a finite number, got ${String(seed)}`);
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new ConfigError(`epoch must be an integer ≥ 0, got ${String(epoch)}`);
  const permutation = Array.from({ length: size }, (_, index) => index);
  if (!shuffle) return permutation;
  const random = createRng(deriveSeed(seed, epoch));
  for (let i = size - 1; i > 0; i--) {
    // With 32-bit uniforms the modulo bias of floor(u·(i+1)) is below (i+1)/2^32: negligible
    // for dataset sizes this library targets.
    const j = Math.floor(random() * (i + 1));
    const held = permutation[i]!;
    permutation[i] = permutation[j]!;
    permutation[j] = held;
  }
  return permutation;
}

// Explicit little-endian access keeps seeds identical on every platform.
const PART_BYTES = new DataView(new ArrayBuffer(8));

function toUint32(value: number): number {
  return Number.isInteger(value) && value >= 0 && value <= 0xffffffff ? value : deriveSeed(value);
}

function mixWord(hash: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let h = hash ^ k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
