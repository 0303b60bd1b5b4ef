/**
 * Puts the host kernels (src/core/host.ts) to work in TF.js's wasm backend: the host `sgemm`
 * becomes the wasm `BatchMatMul` (wrapping whatever kernel was registered, which it delegates
 * to for what it does not take), and `MicrobatchHostWeightMatMul` multiplies by a weight that
 * lives on the host. Installed and removed as a pair, reversibly, like the fast kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostKernels } from '../core/host.js';
import { hostBatchMatMulConfig } from './kernels/hostBatchMatMul.js';
import { HOST_WEIGHT_MATMUL, hostWeightMatMulConfig } from './kernels/hostWeightMatMul.js';
import { onWasm } from './transfer.js';

const BACKEND = 'wasm';

let installed: { batchMatMul: tf.KernelConfig; previous: tf.KernelConfig } | undefined;

/**
 * Registers the host matMul kernels over the current wasm `BatchMatMul`. Returns false, changing
 * nothing, when no host `sgemm` is installed. Idempotent. Install after the fast kernels.
 */
export function installHostMatMul(): boolean {
  const sgemm = hostKernels()?.sgemm;
  if (sgemm === undefined) return false;
  if (hostMatMulInstalled()) return true;
  const previous = tf.getKernel(tf.BatchMatMul, BACKEND);
  if (previous === undefined) throw new Error("host matMul needs the wasm backend: import '@tensorflow/tfjs-backend-wasm' first");
  const batchMatMul = hostBatchMatMulConfig(previous, sgemm);
  tf.unregisterKernel(tf.BatchMatMul, BACKEND);
  tf.registerKernel(batchMatMul);
  if (tf.getKernel(HOST_WEIGHT_MATMUL, BACKEND) !== undefined) tf.unregisterKernel(HOST_WEIGHT_MATMUL, BACKEND);
  tf.registerKernel(hostWeightMatMulConfig(sgemm));
  installed = { batchMatMul, previous };
  return true;
}

/** Puts back the `BatchMatMul` registered before. A no-op when not installed. */
export function uninstallHostMatMul(): void {
  if (installed === undefined) return;
  // Only when ours is still the registered one: if another installer replaced it since,
  // restoring now would undo that installation.
  if (tf.getKernel(tf.BatchMatMul, BACKEND)?.kernelFunc === installed.batchMatMul.kernelFunc) {
    tf.unregisterKernel(tf.BatchMatMul, BACKEND);
    tf.registerKernel(installed.previous);
  }
  if (tf.getKernel(HOST_WEIGHT_MATMUL, BACKEND) !== undefined) tf.unregisterKernel(HOST_WEIGHT_MATMUL, BACKEND);
  installed = undefined;
}

export function hostMatMulInstalled(): boolean {
  return installed !== undefined && tf.getKernel(tf.BatchMatMul, BACKEND)?.kernelFunc === installed.batchMatMul.kernelFunc;
}

/**
 * Layers may keep weights on the host and multiply them there: wasm is active and the
 * host-weight kernel is registered (possibly wrapped, e.g. by a profiler).
 */
export function hostWeightsUsable(): boolean {
  return onWasm() && installed !== undefined && tf.getKernel(HOST_WEIGHT_MATMUL, BACKEND) !== undefined;
}
