/**
 * Typed loader for the optional native addon (native/sgemm.cc + native/kernels.cc, built
 * by `npm install` when a compiler is present) and its host kernels: GEMM (fp32 and bf16
 * autocast, optionally accumulating into C), the AdamW/SGD steps, host helpers and fused
 * elementwise layers, all on Float32Arrays — host arenas, SharedArrayBuffer views or
 * wasm-heap views alike. Everything runs synchronously on the calling thread plus the
 * addon's own pool (`setThreads`).
 *
 * `loadNativeAddon()` returns undefined (never throws) when the addon is not built, fails
 * to load, or MICROBATCH_NATIVE=0; `nativeAddonStatus()` says why.
 *
 * The optimizer wrappers (`adamwUpdate`, `sgdUpdate`) derive the float32 scalars exactly
 * as src/optim/adamw.ts and src/optim/sgd.ts do, so the native step is bit-identical to
 * those classes on TF.js's cpu backend and to the JS references in ./reference.ts.
 */
import { createRequire } from 'node:module';
import type { FusedKernels } from '../../core/host.js';

/** op(A)·op(B) over a batch; see `NativeAddon.sgemm`. */
export type GemmFunction = (
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
  alpha?: number,
) => void;

/** Exactly what the addon exports (argument order as in native/README.md). */
/**
 * The addon's functions. The fused layer kernels are core/host.ts's `FusedKernels`; the three
 * backward kernels also accept their trailing accumulate flags omitted (false).
 */
export interface NativeAddon extends Omit<FusedKernels, 'biasGeluBackward' | 'layerNormBackward' | 'biasDropoutBackward'> {
  /**
   * For i < batch: C_i = alpha·op(A_i)·op(B_i), or C_i += … when `accumulate`. C_i is
   * c[i·m·n …] (m × n row-major); A_i = a[i·strideA …] (m × k, or k × m when transposeA);
   * B_i = b[i·strideB …] (k × n, or n × k when transposeB); a stride of 0 broadcasts one
   * matrix. Defaults: accumulate false, alpha 1 (the 11-argument form is unchanged).
   */
  sgemm: GemmFunction;
  /**
   * `sgemm` with A and B rounded to bfloat16 (round to nearest even, as torch's
   * `.to(torch.bfloat16)`), products accumulated in fp32, C fp32 — the matmul of
   * `torch.autocast('cpu', dtype=torch.bfloat16)` without rounding the output.
   */
  sgemmBf16: GemmFunction;
  /** out[i] = float(bf16(x[i])); out may be x. */
  roundToBf16(x: Float32Array, out: Float32Array): void;
  setThreads(threads: number): void;
  getThreads(): number;
  /** fp32 GEMM micro-kernel: 'avx512' | 'avx2' | 'portable'. */
  isa(): string;
  /** The path sgemmBf16 takes: 'avx512bf16' (VDPBF16PS) or 'emulated' (bf16-rounded fp32). */
  bf16Isa(): string;
  /** true: sgemmBf16 takes the emulated path in this addon instance (to test the fallback). */
  setBf16Emulation(force: boolean): void;
  /** ISA of the optimizer/helper/elementwise kernels: 'avx512' | 'portable'. */
  kernelIsa(): string;

  /** One AdamW step in place, float32 scalars as given (decay 1 = no decay); see `adamwUpdate`. */
  adamwStep(
    param: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    decay: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    biasCorrection2Sqrt: number,
    eps: number,
    negStepSize: number,
  ): void;
  /** One SGD step in place; see `sgdUpdate`. */
  sgdStep(
    param: Float32Array,
    grad: Float32Array,
    buffer: Float32Array | null | undefined,
    weightDecay: number,
    momentum: number,
    oneMinusDampening: number,
    nesterov: boolean,
    firstStep: boolean,
    negLr: number,
  ): void;
  /** y[i] = y[i] + float(alpha)·x[i] (two float32 roundings). */
  axpy(y: Float32Array, alpha: number, x: Float32Array): void;
  /** x[i] = x[i]·float(factor). */
  scale(x: Float32Array, factor: number): void;
  /** dst[i] = src[i] for i < src.length (overlap allowed). */
  copy(dst: Float32Array, src: Float32Array): void;
  /** Σ x[i]² in float64, in a fixed order independent of threads and ISA (see reference.ts). */
  sumSquares(x: Float32Array): number;
  /** No NaN and no ±Infinity. */
  allFinite(x: Float32Array): boolean;

  /** dx = dy·GELU'(z); dbias (+)= Σ_rows dx when given. */
  biasGeluBackward(
    dy: Float32Array,
    z: Float32Array,
    rows: number,
    cols: number,
    dx: Float32Array,
    dbias: Float32Array | null,
    accumulateDbias?: boolean,
  ): void;
  /** dx (+)= (g − mean g − x̂·mean(g·x̂))·invStd with g = dy·γ; dγ (+)= Σ dy·x̂; dβ (+)= Σ dy. */
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
    accumulateDx?: boolean,
    accumulateParams?: boolean,
  ): void;
  /** dx = dy·mask (null: not written); dbias (+)= Σ_rows dy·mask (null: skipped); mask as `biasDropoutForward`. */
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
    accumulateDbias?: boolean,
  ): void;
}

/** Relative to dist/src/node/native/addon.js: node-gyp builds into <package root>/build/Release. */
const ADDON_PATH = '../../../../build/Release/microbatch_native.node';

export interface NativeAddonStatus {
  available: boolean;
  /** Why it is unavailable; undefined when available. */
  reason?: string;
}

/** Every function the TypeScript side calls. */
const ADDON_FUNCTIONS: readonly (keyof NativeAddon)[] = [
  'isa', 'bf16Isa', 'sgemm', 'sgemmBf16', 'roundToBf16', 'biasGeluForward', 'biasGeluBackward', 'layerNormForward', 'layerNormBackward', 'layerNormAffine',
  'softmaxForward', 'softmaxBackward', 'biasDropoutForward', 'biasDropoutBackward', 'adamwStep', 'sgdStep', 'sumSquares', 'allFinite', 'scale', 'axpy', 'copy',
  'getThreads', 'setThreads', 'kernelIsa', 'setBf16Emulation',
];

let loaded: { addon?: NativeAddon; error?: string } | undefined;

function load(): { addon?: NativeAddon; error?: string } {
  if (loaded === undefined) {
    try {
      const addon = createRequire(import.meta.url)(ADDON_PATH) as Record<string, unknown>;
      const missing = ADDON_FUNCTIONS.filter((name) => typeof addon[name] !== 'function');
      // An addon built from older sources (a checkout updated without rebuilding) lacks kernels.
      loaded = missing.length === 0 ? { addon: addon as unknown as NativeAddon } : { error: `built from older sources (no ${missing.join(', ')}): rebuild with \`node scripts/build-native.mjs\`` };
    } catch (error) {
      const code = (error as { code?: string }).code;
      loaded = { error: code === 'MODULE_NOT_FOUND' ? 'not built (run `node scripts/build-native.mjs`)' : `failed to load: ${(error as Error).message}` };
    }
  }
  return loaded;
}

export function nativeAddonStatus(): NativeAddonStatus {
  if (process.env['MICROBATCH_NATIVE'] === '0') return { available: false, reason: 'disabled by MICROBATCH_NATIVE=0' };
  const { addon, error } = load();
  return addon === undefined ? { available: false, reason: error } : { available: true };
}

/** The addon, or undefined when it is unavailable (see `nativeAddonStatus`). */
export function loadNativeAddon(): NativeAddon | undefined {
  return nativeAddonStatus().available ? load().addon : undefined;
}

export interface AdamWStepOptions {
  lr: number;
  /** 1-based step count (bias correction). */
  step: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  /** Whether this parameter decays (false for biases/LayerNorm, see src/optim/decay.ts). */
  decays: boolean;
}

/** The float64 scalars adamw.ts derives; the kernels round each to float32 as TF.js's scalar tensors do. */
export interface AdamWScalars {
  decay: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  biasCorrection2Sqrt: number;
  eps: number;
  negStepSize: number;
}

export function adamwScalars(options: AdamWStepOptions): AdamWScalars {
  const [beta1, beta2] = options.betas;
  const stepSize = options.lr / (1 - beta1 ** options.step);
  return {
    decay: options.decays && options.weightDecay > 0 ? 1 - options.lr * options.weightDecay : 1,
    oneMinusBeta1: 1 - beta1,
    beta2,
    oneMinusBeta2: 1 - beta2,
    biasCorrection2Sqrt: Math.sqrt(1 - beta2 ** options.step),
    eps: options.eps,
    negStepSize: -stepSize,
  };
}

/** One AdamW step on host arrays (p, m, v updated in place). */
export function adamwUpdate(addon: NativeAddon, param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, options: AdamWStepOptions): void {
  const s = adamwScalars(options);
  addon.adamwStep(param, grad, m, v, s.decay, s.oneMinusBeta1, s.beta2, s.oneMinusBeta2, s.biasCorrection2Sqrt, s.eps, s.negStepSize);
}

export interface SgdStepOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  decays: boolean;
  /** True on the parameter's first step with momentum: the buffer starts as the direction. */
  firstStep: boolean;
}

/** One SGD step on host arrays (param and the momentum buffer updated in place). */
export function sgdUpdate(addon: NativeAddon, param: Float32Array, grad: Float32Array, buffer: Float32Array | undefined, options: SgdStepOptions): void {
  const weightDecay = options.decays ? options.weightDecay : 0;
  addon.sgdStep(param, grad, buffer ?? null, weightDecay, options.momentum, 1 - options.dampening, options.nesterov, options.firstStep, -options.lr);
}
