/**
 * The optional native addon (native/sgemm.cc + native/kernels.cc, built by `npm install` when a
 * compiler is present; typed in ./native/addon.ts) as the host kernels (src/core/host.ts): its
 * AVX-512/AVX2 GEMM becomes the wasm backend's `BatchMatMul` and the dense layers' host-weight
 * products (fp32, and bf16 autocast with `sgemmBf16`), its fused elementwise kernels replace the
 * layers' chains of TF.js ops (bias + GELU, residual + LayerNorm, scale + mask + softmax, bias +
 * dropout), its optimizer steps and norms replace the JavaScript loops. On machines without the
 * build, or with MICROBATCH_NATIVE=0, everything here reports "unavailable" and installing is a
 * no-op, so callers need no special case.
 */
import { ConfigError } from '../core/errors.js';
import { hostKernels, setHostKernels, type HostKernels } from '../core/host.js';
import { installHostMatMul, uninstallHostMatMul } from '../backend/host.js';
import { installHostLayerKernels, uninstallHostLayerKernels } from '../backend/hostLayers.js';
import { loadNativeAddon, nativeAddonStatus, type NativeAddon } from './native/addon.js';

export interface NativeStatus {
  available: boolean;
  /** Why it is unavailable (disabled, not built, failed to load); undefined when available. */
  reason?: string;
  /** The addon's instruction set when available. */
  isa?: string;
}

/** Whether the native kernels can be used: the addon is built and loads, and MICROBATCH_NATIVE is not 0. */
export function nativeStatus(): NativeStatus {
  const addon = loadNativeAddon();
  if (addon !== undefined) return { available: true, isa: addon.isa() };
  const { reason } = nativeAddonStatus();
  return { available: false, ...(reason !== undefined ? { reason } : {}) };
}

export function nativeAvailable(): boolean {
  return loadNativeAddon() !== undefined;
}

/**
 * The addon as host kernels: each gives what its JavaScript fallback gives (GEMMs: up to float32
 * summation order; fused layers: up to float32 rounding, dropout exactly). `fused: false` leaves
 * the layers on their TF.js ops (to compare the two).
 */
function hostKernelsOf(addon: NativeAddon, fused: boolean): HostKernels {
  return {
    description: `native ${addon.isa()}${fused ? ' fused' : ''}, bf16 ${addon.bf16Isa()}`,
    sgemm: addon.sgemm,
    sgemmBf16: addon.sgemmBf16,
    roundToBf16: (x, out) => addon.roundToBf16(x, out),
    ...(fused
      ? {
          fused: {
            biasGeluForward: addon.biasGeluForward,
            biasGeluBackward: addon.biasGeluBackward,
            layerNormForward: addon.layerNormForward,
            layerNormBackward: addon.layerNormBackward,
            layerNormAffine: addon.layerNormAffine,
            softmaxForward: addon.softmaxForward,
            softmaxBackward: addon.softmaxBackward,
            biasDropoutForward: addon.biasDropoutForward,
            biasDropoutBackward: addon.biasDropoutBackward,
          },
        }
      : {}),
    adamw: (param, grad, m, v, args) =>
      addon.adamwStep(param, grad, m, v, args.decayFactor, 1 - args.beta1, args.beta2, 1 - args.beta2, args.biasCorrection2Sqrt, args.eps, -args.stepSize),
    sgd: (param, grad, buffer, args) => addon.sgdStep(param, grad, buffer ?? null, args.weightDecay, args.momentum, 1 - args.dampening, args.nesterov, args.firstStep, -args.lr),
    sumSquares: (x) => addon.sumSquares(x),
    allFinite: (x) => addon.allFinite(x),
    scale: (x, factor) => addon.scale(x, factor),
    axpy: (y, alpha, x) => addon.axpy(y, alpha, x),
  };
}

export interface NativeKernelOptions {
  /**
   * Threads of the addon's own pool (default 1; one per core at most helps): GEMMs, the dW
   * accumulation and the fused elementwise kernels split large calls over it. With one worker,
   * one per core; with a worker per core, 1.
   */
  threads?: number;
  /** Install the fused layer kernels too (default true); false keeps the layers on TF.js ops. */
  fused?: boolean;
}

let ours: HostKernels | undefined;

/**
 * Installs the addon as the host kernels and, for the wasm backend, the host matMul and fused
 * layer kernels. Returns false, changing nothing, when the addon is unavailable. Calling it
 * again updates `threads` (and `fused`).
 */
export function installNativeKernels(options: NativeKernelOptions = {}): boolean {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new ConfigError(`must be an integer from 1 to 256, got ${threads}`, { field: 'nativeThreads' });
  }
  const addon = loadNativeAddon();
  if (addon === undefined) return false;
  const fused = options.fused ?? true;
  addon.setThreads(threads);
  if (ours === undefined || hostKernels() !== ours || (ours.fused !== undefined) !== fused) {
    ours = hostKernelsOf(addon, fused);
    setHostKernels(ours);
  }
  installHostMatMul();
  if (fused) installHostLayerKernels();
  else uninstallHostLayerKernels();
  return true;
}

/** Removes the native kernels (host kernels and the wasm matMul kernels). A no-op when not installed. */
export function uninstallNativeKernels(): void {
  uninstallHostLayerKernels();
  uninstallHostMatMul();
  if (ours !== undefined && hostKernels() === ours) setHostKernels(undefined);
  ours = undefined;
}

/** True while the addon is the installed host kernels. */
export function nativeKernelsInstalled(): boolean {
  return ours !== undefined && hostKernels() === ours;
}

/** Threads of the addon's pool, or 0 when the addon is unavailable. */
export function nativeThreads(): number {
  return loadNativeAddon()?.getThreads() ?? 0;
}
