/**
 * The optional native addon (native/sgemm.cc + native/kernels.cc, built by `npm install` when a
 * compiler is present; typed in ./native/addon.ts) as the host kernels (src/core/host.ts): its
 * AVX-512/AVX2 GEMM becomes the wasm backend's `BatchMatMul` and the dense layers' host-weight
 * products, its optimizer steps and norms replace the JavaScript loops. On machines without the
 * build, or with MICROBATCH_NATIVE=0, everything here reports "unavailable" and installing is a
 * no-op, so callers need no special case.
 */
import { ConfigError } from '../core/errors.js';
import { hostKernels, setHostKernels, type HostKernels } from '../core/host.js';
import { installHostMatMul, uninstallHostMatMul } from '../backend/host.js';
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

/** The addon as host kernels: each gives what its JavaScript fallback gives (sgemm: up to float32 summation order). */
function hostKernelsOf(addon: NativeAddon): HostKernels {
  return {
    description: `native ${addon.isa()}`,
    sgemm: addon.sgemm,
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
  /** Threads of the addon's own pool (default 1; one per core at most helps). */
  threads?: number;
}

let ours: HostKernels | undefined;

/**
 * Installs the addon as the host kernels and, for the wasm backend, the host matMul kernels.
 * Returns false, changing nothing, when the addon is unavailable. Calling it again only
 * updates `threads`.
 */
export function installNativeKernels(options: NativeKernelOptions = {}): boolean {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new ConfigError(`must be an integer from 1 to 256, got ${threads}`, { field: 'nativeThreads' });
  }
  const addon = loadNativeAddon();
  if (addon === undefined) return false;
  addon.setThreads(threads);
  if (ours === undefined || hostKernels() !== ours) {
    ours = hostKernelsOf(addon);
    setHostKernels(ours);
  }
  installHostMatMul();
  return true;
}

/** Removes the native kernels (host kernels and the wasm matMul kernels). A no-op when not installed. */
export function uninstallNativeKernels(): void {
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
