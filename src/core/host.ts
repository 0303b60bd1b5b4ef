/**
 * The host-kernel registry: optional fast implementations of the work done on host
 * Float32Arrays (matrix products into gradient buffers, optimizer updates, norms). Nothing here
 * depends on a platform: the registry starts empty and every caller has a JavaScript path.
 * In Node, `microbatch/node` fills it from the native addon when that is built (the way TF.js
 * backends register kernels), so layers and optimizers pick it up without importing Node code.
 *
 * Every kernel must give exactly what its JavaScript fallback gives, except `sgemm` (float32
 * accumulation order) — the tests hold each native kernel to its JavaScript reference.
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

export interface HostKernels {
  /** One line for logs: what implements these kernels (e.g. `native avx512`). */
  readonly description: string;
  readonly sgemm?: Sgemm;
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
