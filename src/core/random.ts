/**
 * The one seeded random module: epoch permutations, parameter initialisation, dropout masks and
 * masked-LM masks all draw from here, so the same (seed, position) gives the same numbers on
 * every platform and backend, in Node and in a browser.
 *
 * Generator: mulberry32 (Tommy Ettinger, public domain), a 32-bit-state PRNG that passes
 * gjrand/PractRand up to its period for this use. Streams are keyed by `deriveSeed(...)` of the
 * position they serve (seed, epoch, sample, site, head …), never by call order.
 */
import { ConfigError } from './errors.js';

/** A stream of uniform 32-bit integers; `nextUint32()` advances it. */
export class RandomStream {
  private state: number;

  constructor(seed: number) {
    this.state = toUint32(seed);
  }

  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in (0, 1): never 0, so log() is finite. */
  uniformOpen(): number {
    return (this.nextUint32() + 0.5) / 4294967296;
  }

  /** One standard normal value (Box–Muller); `fillNormal` fills arrays faster. */
  normal(): number {
    return Math.sqrt(-2 * Math.log(this.uniformOpen())) * Math.cos(2 * Math.PI * this.uniformOpen());
  }

  /** An integer in [0, bound) (bound ≤ 2^32; modulo bias below bound / 2^32). */
  below(bound: number): number {
    return Math.floor(this.uniform() * bound);
  }
}

/** A function giving uniform numbers in [0, 1) from `seed` (a RandomStream's `uniform`). */
export function createRng(seed: number): () => number {
  const stream = new RandomStream(seed);
  return () => stream.uniform();
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

/** Fisher–Yates (Durstenfeld) shuffle of `values` in place, driven by `stream`. */
export function shuffleInPlace<T>(values: T[], stream: RandomStream): T[] {
  for (let i = values.length - 1; i > 0; i--) {
    // With 32-bit uniforms the modulo bias of floor(u·(i+1)) is below (i+1)/2^32: negligible
    // for dataset sizes this library targets.
    const j = stream.below(i + 1);
    const held = values[i]!;
    values[i] = values[j]!;
    values[j] = held;
  }
  return values;
}

/**
 * Fills `target` with normal(0, std) values from `seed` (HF `_init_weights`' normal_(0,
 * initializer_range)): Marsaglia's polar method, two values per accepted pair of uniforms and no
 * trigonometry — a bert-base initialisation is 89 M values.
 */
export function fillNormal(target: Float32Array, std: number, seed: number): Float32Array {
  // RandomStream.uniform inlined on a local state (the same draws, bit for bit): this loop
  // runs over every new weight, 89 M of them for bert-base.
  let state = toUint32(seed) | 0;
  const count = target.length;
  for (let i = 0; i < count; i += 2) {
    let u: number;
    let v: number;
    let s: number;
    do {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), state | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      u = 2 * (((t ^ (t >>> 14)) >>> 0) / 4294967296) - 1;
      state = (state + 0x6d2b79f5) | 0;
      t = Math.imul(state ^ (state >>> 15), state | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      v = 2 * (((t ^ (t >>> 14)) >>> 0) / 4294967296) - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const factor = Math.sqrt((-2 * Math.log(s)) / s) * std;
    target[i] = u * factor;
    if (i + 1 < count) target[i + 1] = v * factor;
  }
  return target;
}

/**
 * Fills `mask` with an inverted-dropout multiplier: 0 with probability `rate`, else
 * 1/(1 − rate), from the stream of `seed`, starting `start` draws into it (mask[i] is draw
 * start + i). One pass in JavaScript: the same mask for the same seed everywhere, and cheaper
 * than TF.js's seeded randomUniform plus compare and scale kernels. The native dropout kernels
 * (native/kernels.cc) draw exactly these values.
 */
export function fillDropoutMask(mask: Float32Array, rate: number, seed: number, start = 0): Float32Array {
  checkProbability('dropout rate', rate);
  drawDropoutMask(mask, 0, mask.length, rate, dropoutStreamState(seed), start);
  return mask;
}

/**
 * Fills a row-major `mask` of `cols` columns whose rows form `seeds.length` equal groups of
 * consecutive rows, each group with its own stream: element (row i of group g, column c) is draw
 * i·rowStride + c of the stream of seeds[g] (fillDropoutMask's `start`). With rowStride ≥ cols
 * no two elements share a draw, and an element's value depends on its group's seed and its row
 * and column within the group only — not on how many groups, rows or columns there are. The
 * native dropout kernels draw exactly these values.
 */
export function fillGroupedDropoutMask(mask: Float32Array, cols: number, rate: number, seeds: readonly number[], rowStride = cols): Float32Array {
  checkProbability('dropout rate', rate);
  const groupRows = dropoutGroupRows(mask.length, cols, seeds.length, rowStride);
  const states = seeds.map(dropoutStreamState);
  for (let row = 0; row * cols < mask.length; row++) {
    const within = row % groupRows;
    drawDropoutMask(mask, row * cols, (row + 1) * cols, rate, states[(row - within) / groupRows]!, within * rowStride);
  }
  return mask;
}

/** mask[from + i] for i < to − from: draw start + i of the stream whose state is `state`. */
function drawDropoutMask(mask: Float32Array, from: number, to: number, rate: number, state: number, start: number): void {
  const kept = 1 / (1 - rate);
  // A 32-bit draw below this is a drop: P = rate (to 2^-32).
  const dropBelow = rate * 4294967296;
  // RandomStream.nextUint32 inlined on a local state: this loop runs over every activation.
  // Mulberry32's state after n steps is seed + n·0x6d2b79f5, so a stream can start anywhere.
  let current = (state + Math.imul(start % 4294967296, 0x6d2b79f5)) | 0;
  for (let i = from; i < to; i++) {
    current = (current + 0x6d2b79f5) | 0;
    let t = Math.imul(current ^ (current >>> 15), current | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    mask[i] = (t ^ (t >>> 14)) >>> 0 < dropBelow ? 0 : kept;
  }
}

/**
 * Rows per group of a grouped dropout mask of `size` elements, `cols` columns and `groups` seeds;
 * a ConfigError unless the rows split into whole groups and rowStride ≥ cols.
 */
export function dropoutGroupRows(size: number, cols: number, groups: number, rowStride: number): number {
  const rows = cols === 0 ? 0 : size / cols;
  if (!Number.isInteger(rows) || groups < 1 || rows % groups !== 0) {
    throw new ConfigError(`a dropout mask of ${size} elements in rows of ${cols} does not split into ${groups} equal groups of rows (one seed each)`);
  }
  if (!Number.isInteger(rowStride) || rowStride < cols) throw new ConfigError(`a dropout mask's row stride must be an integer ≥ its ${cols} columns, got ${rowStride}`);
  return Math.max(1, rows / groups);
}

/** The unsigned 32-bit state a dropout stream of `seed` starts from (what the native kernels take). */
export function dropoutStreamState(seed: number): number {
  return toUint32(seed);
}

export function checkProbability(field: string, value: number): void {
  if (!(value >= 0 && value < 1)) throw new ConfigError(`must be a probability in [0, 1), got ${value}`, { field });
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
