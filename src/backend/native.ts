/**
 * The optional native matMul: a C++ addon (native/sgemm.cc, built by `npm install` when a
 * compiler is present) whose AVX2/AVX-512 GEMM replaces the wasm backend's `BatchMatMul`.
 * On machines without the build, or with MICROBATCH_NATIVE=0, everything here reports
 * "unavailable" and installing is a no-op, so callers need no special case.
 *
 * Install it after the fast kernels: it registers over whatever `BatchMatMul` kernel is
 * current and hands that kernel the calls it does not take.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors.js';
import { nativeBatchMatMulConfig, type NativeSgemm } from './kernels/nativeBatchMatMul.js';

/** What the addon exports. */
interface NativeAddon {
  sgemm: NativeSgemm;
  setThreads(threads: number): void;
  getThreads(): number;
  /** The micro-kernel chosen at load time: 'avx512', 'avx2' or 'portable'. */
  isa(): string;
}

/** Relative to dist/src/backend/native.js: node-gyp builds into <package root>/build/Release. */
const ADDON_PATH = '../../../build/Release/microbatch_native.node';
const BACKEND = 'wasm';

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

function disabledByEnvironment(): boolean {
  return process.env['MICROBATCH_NATIVE'] === '0';
}

/** Whether the native matMul can be used: the addon is built and loads, and MICROBATCH_NATIVE is not 0. */
export function nativeStatus(): NativeStatus {
  if (disabledByEnvironment()) return { available: false, reason: 'disabled by MICROBATCH_NATIVE=0' };
  const { addon, error } = loadAddon();
  if (addon === undefined) return { available: false, reason: error };
  return { available: true, isa: addon.isa() };
}

export function nativeAvailable(): boolean {
  return nativeStatus().available;
}

export interface NativeMatMulOptions {
  /** Threads of the addon's own pool for one product (default 1; one per core at most helps). */
  threads?: number;
}

/** The kernel config this module registered, and the one it replaced (to delegate to and restore). */
let installed: { config: tf.KernelConfig; previous: tf.KernelConfig } | undefined;

/**
 * Registers the native `BatchMatMul` for the wasm backend over the current one. Returns
 * false, changing nothing, when the addon is unavailable. Calling it again only updates
 * `threads`. Requires '@tensorflow/tfjs-backend-wasm' to be loaded.
 */
export function installNativeMatMul(options: NativeMatMulOptions = {}): boolean {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new ConfigError(`native threads: expected an integer from 1 to 256, got ${threads}`);
  }
  if (!nativeAvailable()) return false;
  const addon = loadAddon().addon!;
  addon.setThreads(threads);
  if (nativeMatMulInstalled()) return true;
  const previous = tf.getKernel(tf.BatchMatMul, BACKEND);
  if (previous === undefined) {
    throw new Error("native matMul needs the wasm backend: import '@tensorflow/tfjs-backend-wasm' first");
  }
  const config = nativeBatchMatMulConfig(previous, addon.sgemm);
  tf.unregisterKernel(tf.BatchMatMul, BACKEND);
  tf.registerKernel(config);
  installed = { config, previous };
  return true;
}

/** Puts back the kernel that was registered before `installNativeMatMul`. A no-op when not installed. */
export function uninstallNativeMatMul(): void {
  if (installed === undefined) return;
  // Only when ours is still the registered one: if another installer replaced it since,
  // restoring now would undo that installation.
  if (nativeMatMulInstalled()) {
    tf.unregisterKernel(tf.BatchMatMul, BACKEND);
    tf.registerKernel(installed.previous);
  }
  installed = undefined;
}

/** True when the native kernel is the registered wasm `BatchMatMul`. */
export function nativeMatMulInstalled(): boolean {
  return installed !== undefined && tf.getKernel(tf.BatchMatMul, BACKEND)?.kernelFunc === installed.config.kernelFunc;
}

/** Threads of the addon's pool, or 0 when the addon is unavailable. */
export function nativeThreads(): number {
  return nativeAvailable() ? loadAddon().addon!.getThreads() : 0;
}
