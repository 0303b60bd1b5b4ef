/**
 * Installs microbatch's fast kernels into TF.js's kernel registry for the wasm backend,
 * replacing stock kernels by name (like any TF.js backend registers its kernels). The
 * stock configs are kept so the replacements can delegate to them and so
 * `uninstallFastKernels` can put them back, e.g. to benchmark stock against fast.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fastBatchMatMulConfig } from './kernels/batchMatMul.js';
import { fastCastConfig } from './kernels/cast.js';
import { fastGatherConfig } from './kernels/gather.js';
import { fastIdentityConfig } from './kernels/identity.js';
import { fastSumConfig } from './kernels/sum.js';
import { fastTransposeConfig } from './kernels/transpose.js';

const BACKEND = 'wasm';

/** Each fast kernel: the name it replaces and how to build it from the stock kernels. */
const FAST_KERNELS: ReadonlyArray<{ name: string; build: (stock: tf.KernelConfig) => tf.KernelConfig }> = [
  { name: tf.BatchMatMul, build: fastBatchMatMulConfig },
  { name: tf.Identity, build: fastIdentityConfig },
  { name: tf.Cast, build: fastCastConfig },
  { name: tf.Transpose, build: fastTransposeConfig },
  { name: tf.GatherV2, build: fastGatherConfig },
  { name: tf.Sum, build: fastSumConfig },
];

/** Stock configs replaced by the current installation (empty when not installed). */
const replacedStockKernels = new Map<string, tf.KernelConfig>();

function wasmKernelsRegistered(): boolean {
  return tf.getKernel(tf.BatchMatMul, BACKEND) !== undefined;
}

/**
 * Replaces the stock wasm kernels with the fast ones. Idempotent. Requires the wasm
 * backend package to be loaded (its kernels registered); the backend need not be active.
 */
export function installFastKernels(): void {
  if (fastKernelsInstalled()) return;
  if (!wasmKernelsRegistered()) {
    throw new Error("fast kernels need the wasm backend: import '@tensorflow/tfjs-backend-wasm' first");
  }
  for (const { name, build } of FAST_KERNELS) {
    const stock = tf.getKernel(name, BACKEND);
    const fast = build(stock);
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(fast);
    replacedStockKernels.set(name, stock);
  }
}

/** Puts the stock kernels back. A no-op when the fast kernels are not installed. */
export function uninstallFastKernels(): void {
  for (const [name, stock] of replacedStockKernels) {
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(stock);
  }
  replacedStockKernels.clear();
}

/**
 * True while an installation is in effect. Judged by this module's own state, not by the
 * registry: the native matMul (native.ts) registers over the fast BatchMatMul and delegates
 * to it, and that must neither read as "not installed" nor make a second install wrap it.
 */
export function fastKernelsInstalled(): boolean {
  return replacedStockKernels.size === FAST_KERNELS.length;
}
