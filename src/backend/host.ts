/**
 * Puts the host kernels (src/core/host.ts) to work in TF.js's wasm backend: the host `sgemm`
 * becomes the wasm `BatchMatMul` (wrapping whatever kernel was registered, which it delegates
 * to for what it does not take), `MicrobatchHostWeightMatMul` multiplies by a weight that
 * lives on the host, and, when the host has `sgemmBf16`, `MicrobatchBatchMatMulBf16` is bf16
 * autocast's BatchMatMul. Installed and removed together, reversibly, like the fast kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostKernels } from '../core/host.js';
import { hostBatchMatMulConfig } from './kernels/hostBatchMatMul.js';
import { BATCH_MATMUL_BF16, hostBatchMatMulBf16Config } from './kernels/hostBatchMatMulBf16.js';
import { HOST_WEIGHT_MATMUL, hostWeightMatMulConfig } from './kernels/hostWeightMatMul.js';
import { onWasm } from './transfer.js';

const BACKEND = 'wasm';

let installed: { batchMatMul: tf.KernelConfig; previous: tf.KernelConfig; bf16: boolean } | undefined;

/**
 * Registers the host matMul kernels over the current wasm `BatchMatMul`. Returns false, changing
 * nothing, when no host `sgemm` is installed. Idempotent. Install after the fast kernels.
 */
export function installHostMatMul(): boolean {
  const sgemm = hostKernels()?.sgemm;
  const sgemmBf16 = hostKernels()?.sgemmBf16;
  if (sgemm === undefined) return false;
  if (hostMatMulInstalled()) return true;
  const previous = tf.getKernel(tf.BatchMatMul, BACKEND);
  if (previous === undefined) throw new Error("host matMul needs the wasm backend: import '@tensorflow/tfjs-backend-wasm' first");
  const batchMatMul = hostBatchMatMulConfig(previous, sgemm);
  tf.unregisterKernel(tf.BatchMatMul, BACKEND);
  tf.registerKernel(batchMatMul);
  if (tf.getKernel(HOST_WEIGHT_MATMUL, BACKEND) !== undefined) tf.unregisterKernel(HOST_WEIGHT_MATMUL, BACKEND);
  tf.registerKernel(hostWeightMatMulConfig(sgemm, sgemmBf16));
  if (tf.getKernel(BATCH_MATMUL_BF16, BACKEND) !== undefined) tf.unregisterKernel(BATCH_MATMUL_BF16, BACKEND);
  if (sgemmBf16 !== undefined) tf.registerKernel(hostBatchMatMulBf16Config(sgemmBf16));
  installed = { batchMatMul, previous, bf16: sgemmBf16 !== undefined };
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
  if (tf.getKernel(BATCH_MATMUL_BF16, BACKEND) !== undefined) tf.unregisterKernel(BATCH_MATMUL_BF16, BACKEND);
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

/**
 * bf16 autocast products may run on the host: host weights are usable and the host has
 * `sgemmBf16` (the weight kernel then takes `bf16`, and `MicrobatchBatchMatMulBf16` is there).
 */
export function hostBf16Usable(): boolean {
  return hostWeightsUsable() && installed?.bf16 === true && tf.getKernel(BATCH_MATMUL_BF16, BACKEND) !== undefined;
}
