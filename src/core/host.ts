/**
 * The host-kernel registry: optional fast implementations of the work done on host
 * Float32Arrays (matrix products into gradient buffers, optimizer updates, norms). Nothing here
 * depends on a platform: the registry starts empty and every caller has a JavaScript path.
 * In Node, `microbatch/node` fills it from the native addon when that is built (the way TF.js
 * backends register kernels), so layers and optimizers pick it up without importing Node code.
 *
 * Every kernel must give exactly what its JavaScript fallback gives, except the GEMMs (float32
 * accumulation order) and the fused layer kernels (float32 rounding: their fallback is a chain
 * of TF.js ops, which rounds after every op) — the tests hold each native kernel to its
 * JavaScript reference. Dropout is exact: the fused kernels draw fillDropoutMask's very mask.
 */

/**
 * C[i] (+)= op(A[i]) · op(B[i]) for i < batch, row-major; A[i] starts at i·strideA, B[i] at
 * i·strideB (0 broadcasts one matrix); C is contiguous [batch, m, n].
 */
export type Sgemm = (
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  batch: number,
  m: number,
  k: number,
  n: number,
  strideA: number,
  strideB: number,
  transposeA: boolean,
  transposeB: boolean,
  accumulate?: boolean,
) => void;

export interface AdamWKernelArgs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 − lr·weightDecay, or 1 when the parameter is not decayed. */
  decayFactor: number;
  /** lr / (1 − β1^t). */
  stepSize: number;
  /** sqrt(1 − β2^t). */
  biasCorrection2Sqrt: number;
}

export interface SgdKernelArgs {
  /** Coupled weight decay (0 when the parameter is not decayed). */
  weightDecay: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  /** The momentum buffer starts as the direction on a parameter's first step. */
  firstStep: boolean;
  lr: number;
}

/**
 * The fused elementwise layer kernels on row-major [rows, cols] Float32Arrays (host or wasm-heap
 * views alike); native/README.md gives each one's exact semantics and error. The nn layers use
 * them through TF.js kernels on the wasm heap (src/backend/hostLayers.ts), in place of chains
 * of TF.js ops. Optional outputs are null when not wanted.
 */
export interface FusedKernels {
  /** z = x + bias (bias [cols] or null), y = z·Φ(z) (exact erf GELU); saved = z. */
  biasGeluForward(x: Float32Array, bias: Float32Array | null, rows: number, cols: number, y: Float32Array, saved: Float32Array | null): void;
  /** dx = dy·GELU'(z); dbias (+)= Σ_rows dx. */
  biasGeluBackward(dy: Float32Array, z: Float32Array, rows: number, cols: number, dx: Float32Array, dbias: Float32Array | null, accumulateDbias: boolean): void;
  /** out = x̂·γ + β, x̂ = LayerNorm(x + residual) per row; saves x̂ and 1/σ [rows]. */
  layerNormForward(
    x: Float32Array,
    residual: Float32Array | null,
    gamma: Float32Array,
    beta: Float32Array,
    rows: number,
    cols: number,
    eps: number,
    out: Float32Array,
    xhat: Float32Array,
    invStd: Float32Array,
  ): void;
  /** dx (+)= (g − mean g − x̂·mean(g·x̂))·invStd, g = dy·γ; dγ (+)= Σ dy·x̂; dβ (+)= Σ dy. */
  layerNormBackward(
    dy: Float32Array,
    xhat: Float32Array,
    invStd: Float32Array,
    gamma: Float32Array,
    rows: number,
    cols: number,
    dx: Float32Array,
    dgamma: Float32Array | null,
    dbeta: Float32Array | null,
    accumulateDx: boolean,
    accumulateParams: boolean,
  ): void;
  /** out = x̂·γ + β: the LayerNorm's output again from its saved x̂ (bit for bit the forward's). */
  layerNormAffine(xhat: Float32Array, gamma: Float32Array, beta: Float32Array, rows: number, cols: number, out: Float32Array): void;
  /** y = softmax(x·scale + mask row ⌊r / maskRepeat⌋ mod maskRows) per row; mask may be null. */
  softmaxForward(x: Float32Array, rows: number, cols: number, scale: number, mask: Float32Array | null, maskRows: number, maskRepeat: number, y: Float32Array): void;
  /** dx = y·(dy − Σ dy·y)·scale. */
  softmaxBackward(dy: Float32Array, y: Float32Array, rows: number, cols: number, scale: number, dx: Float32Array): void;
  /**
   * y = (x + bias)·mask, the mask exactly `fillGroupedDropoutMask`'s: row r is row r mod groupRows
   * of group ⌊r / groupRows⌋, its column c draw (r mod groupRows)·rowStride + c of the stream of
   * seeds[⌊r / groupRows⌋] (the streams' uint32 states; null with rate 0).
   */
  biasDropoutForward(
    x: Float32Array,
    bias: Float32Array | null,
    rows: number,
    cols: number,
    rate: number,
    seeds: Uint32Array | null,
    groupRows: number,
    rowStride: number,
    y: Float32Array,
  ): void;
  /** dx = dy·mask (dx null: not written); dbias (+)= Σ_rows dy·mask. */
  biasDropoutBackward(
    dy: Float32Array,
    rows: number,
    cols: number,
    rate: number,
    seeds: Uint32Array | null,
    groupRows: number,
    rowStride: number,
    dx: Float32Array | null,
    dbias: Float32Array | null,
    accumulateDbias: boolean,
  ): void;
}

export interface HostKernels {
  /** One line for logs: what implements these kernels (e.g. `native avx512`). */
  readonly description: string;
  readonly sgemm?: Sgemm;
  /**
   * `sgemm` under bf16 autocast (torch.autocast('cpu', dtype=torch.bfloat16)): A and B rounded
   * to bfloat16 (nearest even), products accumulated in float32, C float32.
   */
  readonly sgemmBf16?: Sgemm;
  /** out[i] = float32(bfloat16(x[i])), round to nearest even (NaN → quiet NaN); out may be x. */
  readonly roundToBf16?: (x: Float32Array, out: Float32Array) => void;
  /** The fused elementwise layer kernels, all or none. */
  readonly fused?: FusedKernels;
  /** AdamW update of one parameter in place (see src/optim/adamw.ts for the exact operation order). */
  readonly adamw?: (param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, args: AdamWKernelArgs) => void;
  /** SGD update of one parameter in place (src/optim/sgd.ts's operation order); `buffer` when momentum ≠ 0. */
  readonly sgd?: (param: Float32Array, grad: Float32Array, buffer: Float32Array | undefined, args: SgdKernelArgs) => void;
  /** Σ x² in float64. */
  readonly sumSquares?: (x: Float32Array) => number;
  /** No Inf or NaN in x. */
  readonly allFinite?: (x: Float32Array) => boolean;
  /** x ← x · factor (factor rounded to float32). */
  readonly scale?: (x: Float32Array, factor: number) => void;
  /** y ← y + alpha · x (two float32 roundings, no fused multiply-add). */
  readonly axpy?: (y: Float32Array, alpha: number, x: Float32Array) => void;
}

let installed: HostKernels | undefined;

/** Installs (or, with undefined, removes) the host kernels; returns the previous ones. */
export function setHostKernels(kernels: HostKernels | undefined): HostKernels | undefined {
  const previous = installed;
  installed = kernels;
  return previous;
}

export function hostKernels(): HostKernels | undefined {
  return installed;
}
