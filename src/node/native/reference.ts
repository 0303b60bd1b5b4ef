/**
 * Pure-JavaScript references for the native host kernels (native/kernels.cc, native/sgemm.cc).
 *
 * Two kinds:
 *   * exact float32 replays — AdamW, SGD, axpy, scale, the fixed-order float64 sum of
 *     squares, bf16 rounding — with `Math.fround` after every operation, in exactly the
 *     order of src/optim/adamw.ts and src/optim/sgd.ts (which is torch's op order as the
 *     project spells it). The native kernels must be bit-identical to these;
 *   * float64 references — GEMM (optionally with bf16-rounded inputs), exact-erf GELU and
 *     its derivative, LayerNorm and softmax forward/backward — computed without the float32
 *     roundings, to bound the native kernels' error.
 *
 * Nothing here is fast; it is what the tests and the benchmark compare against.
 */
import type { AdamWScalars } from './addon.js';

const f = Math.fround;

/** AdamW, one step in place (see src/optim/adamw.ts for the formula and its order). */
export function adamwReference(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, s: AdamWScalars): void {
  const decay = f(s.decay);
  const oneMinusBeta1 = f(s.oneMinusBeta1);
  const beta2 = f(s.beta2);
  const oneMinusBeta2 = f(s.oneMinusBeta2);
  const bc2 = f(s.biasCorrection2Sqrt);
  const eps = f(s.eps);
  const negStep = f(s.negStepSize);
  for (let i = 0; i < p.length; i++) {
    const param = s.decay !== 1 ? f(p[i]! * decay) : p[i]!;
    const grad = g[i]!;
    const nextM = f(m[i]! + f(f(grad - m[i]!) * oneMinusBeta1));
    const nextV = f(f(v[i]! * beta2) + f(f(grad * grad) * oneMinusBeta2));
    const denom = f(f(f(Math.sqrt(nextV)) / bc2) + eps);
    p[i] = f(param + f(f(nextM * negStep) / denom));
    m[i] = nextM;
    v[i] = nextV;
  }
}

export interface SgdReferenceScalars {
  weightDecay: number;
  momentum: number;
  oneMinusDampening: number;
  nesterov: boolean;
  firstStep: boolean;
  negLr: number;
}

/** SGD, one step in place (see src/optim/sgd.ts). `buffer` is needed when momentum ≠ 0. */
export function sgdReference(p: Float32Array, g: Float32Array, buffer: Float32Array | undefined, s: SgdReferenceScalars): void {
  const wd = f(s.weightDecay);
  const momentum = f(s.momentum);
  const oneMinusDampening = f(s.oneMinusDampening);
  const negLr = f(s.negLr);
  for (let i = 0; i < p.length; i++) {
    let direction = g[i]!;
    if (s.weightDecay !== 0) direction = f(direction + f(p[i]! * wd));
    if (s.momentum !== 0) {
      const b = s.firstStep ? direction : f(f(buffer![i]! * momentum) + f(direction * oneMinusDampening));
      buffer![i] = b;
      direction = s.nesterov ? f(direction + f(b * momentum)) : b;
    }
    p[i] = f(p[i]! + f(direction * negLr));
  }
}

export function axpyReference(y: Float32Array, alpha: number, x: ArrayLike<number>): void {
  const a = f(alpha);
  for (let i = 0; i < y.length; i++) y[i] = f(y[i]! + f(a * x[i]!));
}

export function scaleReference(x: Float32Array, factor: number): void {
  const s = f(factor);
  for (let i = 0; i < x.length; i++) x[i] = f(x[i]! * s);
}

/** Summation order of the native sumSquares: see kSumChunk in native/kernels.cc. */
export const SUM_SQUARES_CHUNK = 8192;
const SUM_SQUARES_LANES = 32;

/** Σ x², float64, in the native kernel's exact order (so the result is bit-identical). */
export function sumSquaresReference(x: ArrayLike<number>): number {
  let total = 0;
  const lanes = new Float64Array(SUM_SQUARES_LANES);
  for (let start = 0; start < x.length; start += SUM_SQUARES_CHUNK) {
    lanes.fill(0);
    const end = Math.min(x.length, start + SUM_SQUARES_CHUNK);
    for (let i = start; i < end; i++) lanes[(i - start) % SUM_SQUARES_LANES] += x[i]! * x[i]!;
    let chunk = 0;
    for (let lane = 0; lane < SUM_SQUARES_LANES; lane++) chunk += lanes[lane]!;
    total += chunk;
  }
  return total;
}

const bits = new Uint32Array(1);
const bitsAsFloat = new Float32Array(bits.buffer);

/** float(bf16(x)) with torch's round_to_nearest_even (NaN → 0x7FC0). */
export function bf16Round(x: number): number {
  bitsAsFloat[0] = x;
  const u = bits[0]!;
  if ((u & 0x7fffffff) > 0x7f800000) {
    bits[0] = 0x7fc00000;
  } else {
    bits[0] = (((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16) >>> 0;
  }
  return bitsAsFloat[0]!;
}

export interface GemmReferenceArgs {
  batch: number;
  m: number;
  k: number;
  n: number;
  strideA: number;
  strideB: number;
  transposeA: boolean;
  transposeB: boolean;
  /** Round every input to bf16 first (sgemmBf16's inputs). */
  bf16?: boolean;
}

/**
 * The batched product in float64 (inputs optionally bf16-rounded), and Σ|a||b| per output
 * element, the scale of any summation-order error bound.
 */
export function gemmReference(a: ArrayLike<number>, b: ArrayLike<number>, args: GemmReferenceArgs): { c: Float64Array; magnitude: Float64Array } {
  const { batch, m, k, n, strideA, strideB, transposeA, transposeB } = args;
  const read = args.bf16 ? bf16Round : (value: number) => value;
  const c = new Float64Array(batch * m * n);
  const magnitude = new Float64Array(batch * m * n);
  for (let item = 0; item < batch; item++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        let abs = 0;
        for (let p = 0; p < k; p++) {
          const x = read(a[item * strideA + (transposeA ? p * m + i : i * k + p)]!);
          const y = read(b[item * strideB + (transposeB ? j * k + p : p * n + j)]!);
          sum += x * y;
          abs += Math.abs(x * y);
        }
        c[item * m * n + i * n + j] = sum;
        magnitude[item * m * n + i * n + j] = abs;
      }
    }
  }
  return { c, magnitude };
}

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const ONE_OVER_SQRT_PI = 0.5641895835477563;

/**
 * erfc(z) for z ≥ 0 in float64 (relative error ~1e-14): for z < 2.5 from
 * erf(z) = 2/√π·e^{−z²}·Σ 2ⁿz^{2n+1}/(1·3···(2n+1)) (positive terms, no cancellation);
 * beyond, the continued fraction erfc(z) = e^{−z²}/√π · 1/(z + ½/(z + 1/(z + 3/2/(z + …)))).
 */
export function erfcPositive(z: number): number {
  if (!(z >= 0)) throw new RangeError(`erfcPositive needs z ≥ 0, got ${z}`);
  if (z === Infinity) return 0;
  if (z < 2.5) return 1 - erfSeries(z);
  let fraction = z;
  for (let term = 120; term >= 1; term--) fraction = z + term / 2 / fraction;
  return (Math.exp(-z * z) * ONE_OVER_SQRT_PI) / fraction;
}

function erfSeries(z: number): number {
  let term = z;
  let sum = z;
  for (let n = 1; n < 200 && term > sum * 1e-17; n++) {
    term *= (2 * z * z) / (2 * n + 1);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-z * z) * sum;
}

/** Φ(x), the standard normal CDF, float64 with relative accuracy on both tails. */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const z = Math.abs(x) * Math.SQRT1_2;
  const tail = 0.5 * erfcPositive(z);
  return x < 0 ? tail : 1 - tail;
}

/** Exact GELU x·Φ(x) in float64 (HF "gelu" / torch's approximate='none'). */
export function geluReference(x: number): number {
  return x * normalCdf(x);
}

/** d GELU/dx = Φ(x) + x·φ(x) in float64. */
export function geluDerivativeReference(x: number): number {
  return normalCdf(x) + x * Math.exp(-0.5 * x * x) * 0.3989422804014327;
}

/** LayerNorm of x (+ residual) rows in float64: out, x̂ and 1/σ. */
export function layerNormReference(
  x: ArrayLike<number>,
  residual: ArrayLike<number> | undefined,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  rows: number,
  cols: number,
  eps: number,
): { out: Float64Array; xhat: Float64Array; invStd: Float64Array } {
  const out = new Float64Array(rows * cols);
  const xhat = new Float64Array(rows * cols);
  const invStd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    // The sum x + residual is one float32 operation in every implementation (TF.js's add too).
    const s = (j: number) => (residual === undefined ? x[r * cols + j]! : f(x[r * cols + j]! + residual[r * cols + j]!));
    for (let j = 0; j < cols; j++) mean += s(j);
    mean /= cols;
    let variance = 0;
    for (let j = 0; j < cols; j++) variance += (s(j) - mean) ** 2;
    variance /= cols;
    const inverse = 1 / Math.sqrt(variance + eps);
    invStd[r] = inverse;
    for (let j = 0; j < cols; j++) {
      const normalized = (s(j) - mean) * inverse;
      xhat[r * cols + j] = normalized;
      out[r * cols + j] = normalized * gamma[j]! + beta[j]!;
    }
  }
  return { out, xhat, invStd };
}

/** The textbook LayerNorm gradient (src/bert/model.ts) in float64. */
export function layerNormBackwardReference(
  dy: ArrayLike<number>,
  xhat: ArrayLike<number>,
  invStd: ArrayLike<number>,
  gamma: ArrayLike<number>,
  rows: number,
  cols: number,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const dx = new Float64Array(rows * cols);
  const dgamma = new Float64Array(cols);
  const dbeta = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    let meanG = 0;
    let meanGX = 0;
    for (let j = 0; j < cols; j++) {
      const g = dy[r * cols + j]! * gamma[j]!;
      meanG += g;
      meanGX += g * xhat[r * cols + j]!;
    }
    meanG /= cols;
    meanGX /= cols;
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      dx[i] = (dy[i]! * gamma[j]! - meanG - xhat[i]! * meanGX) * invStd[r]!;
      dgamma[j] += dy[i]! * xhat[i]!;
      dbeta[j] += dy[i]!;
    }
  }
  return { dx, dgamma, dbeta };
}

/** softmax(x·scale + mask row) per row in float64; mask row (r / maskRepeat) % maskRows. */
export function softmaxReference(
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  scale: number,
  mask: ArrayLike<number> | undefined,
  maskRows = 1,
  maskRepeat = 1,
): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const maskRow = (Math.floor(r / maskRepeat) % maskRows) * cols;
    let max = -Infinity;
    const z = new Float64Array(cols);
    for (let j = 0; j < cols; j++) {
      z[j] = x[r * cols + j]! * scale + (mask === undefined ? 0 : mask[maskRow + j]!);
      max = Math.max(max, z[j]!);
    }
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      z[j] = Math.exp(z[j]! - max);
      sum += z[j]!;
    }
    for (let j = 0; j < cols; j++) y[r * cols + j] = z[j]! / sum;
  }
  return y;
}

/** dx = y·(dy − Σ dy·y)·scale in float64. */
export function softmaxBackwardReference(dy: ArrayLike<number>, y: ArrayLike<number>, rows: number, cols: number, scale: number): Float64Array {
  const dx = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += dy[r * cols + j]! * y[r * cols + j]!;
    for (let j = 0; j < cols; j++) dx[r * cols + j] = y[r * cols + j]! * (dy[r * cols + j]! - dot) * scale;
  }
  return dx;
}
