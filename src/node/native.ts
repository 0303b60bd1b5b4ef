/**
 * The optional native addon (native/sgemm.cc, built by `npm install` when a compiler is
 * present): its AVX2/AVX-512 GEMM becomes the host `sgemm` (src/core/host.ts), which the wasm
 * backend's `BatchMatMul` and the dense layers' host-weight products then use. On machines
 * without the build, or with MICROBATCH_NATIVE=0, everything here reports "unavailable" and
 * installing is a no-op, so callers need no special case.
 */
import { createRequire } from 'node:module';
import { ConfigError } from '../core/errors.js';
import { hostKernels, setHostKernels, type HostKernels, type Sgemm } from '../core/host.js';
import { installHostMatMul, uninstallHostMatMul } from '../backend/host.js';

/** What the addon exports. */
interface NativeAddon {
  sgemm: Sgemm;
  setThreads(threads: number): void;
  getThreads(): number;
  /** The micro-kernel chosen at load time: 'avx512', 'avx2' or 'portable'. */
  isa(): string;
}

/** Relative to dist/src/node/native.js: node-gyp builds into <package root>/build/Release. */
const ADDON_PATH = '../../../build/Release/microbatch_native.node';

export interface NativeStatus {
  available: boolean;
  /** Why it is unavailable (disabled, not built, failed to load); undefined when available. */
  reason?: string;
  /** The addon's instruction set when available. */
  isa?: string;
}

let loaded: { addon?: NativeAddon; error?: string } | undefined;

function loadAddon(): { addon?: NativeAddon; error?: string } {
  if (loaded === undefined) {
    try {
      loaded = { addon: createRequire(import.meta.url)(ADDON_PATH) as NativeAddon };
    } catch (error) {
      const code = (error as { code?: string }).code;
      loaded = { error: code === 'MODULE_NOT_FOUND' ? 'not built (run `node scripts/build-native.mjs`)' : `failed to load: ${(error as Error).message}` };
    }
  }
  return loaded;
}

/** Whether the native kernels can be used: the addon is built and loads, and MICROBATCH_NATIVE is not 0. */
export function nativeStatus(): NativeStatus {
  if (process.env['MICROBATCH_NATIVE'] === '0') return { available: false, reason: 'disabled by MICROBATCH_NATIVE=0' };
  const { addon, error } = loadAddon();
  if (addon === undefined) return { available: false, reason: error };
  return { available: true, isa: addon.isa() };
}

export function nativeAvailable(): boolean {
  return nativeStatus().available;
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
  if (!nativeAvailable()) return false;
  const addon = loadAddon().addon!;
  addon.setThreads(threads);
  if (ours === undefined || hostKernels() !== ours) {
    ours = { description: `native ${addon.isa()}`, sgemm: accumulatingSgemm(addon.sgemm) };
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
  return nativeAvailable() ? loadAddon().addon!.getThreads() : 0;
}

/**
 * The addon's sgemm if it accumulates (C += A·B when asked), else a wrapper that computes into a
 * scratch buffer and adds. Probed once: 1·[2]·[3] + [1] is 7 when it accumulates.
 */
function accumulatingSgemm(sgemm: Sgemm): Sgemm {
  const c = Float32Array.of(1);
  try {
    sgemm(Float32Array.of(2), Float32Array.of(3), c, 1, 1, 1, 1, 0, 0, false, false, true);
  } catch {
    // An older build takes exactly 11 arguments.
  }
  if (c[0] === 7) return sgemm;
  return (a, b, out, batch, m, k, n, strideA, strideB, transposeA, transposeB, accumulate) => {
    if (!accumulate) return sgemm(a, b, out, batch, m, k, n, strideA, strideB, transposeA, transposeB);
    const scratch = new Float32Array(batch * m * n);
    sgemm(a, b, scratch, batch, m, k, n, strideA, strideB, transposeA, transposeB);
    for (let i = 0; i < scratch.length; i++) out[i]! += scratch[i]!;
  };
}
