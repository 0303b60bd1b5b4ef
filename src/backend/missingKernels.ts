/**
 * Kernels training needs that the stock wasm backend does not have at all. They are not
 * "fast" replacements (there is no stock kernel to compare or restore), so they are
 * registered whenever wasm is used, with or without the fast kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { unsortedSegmentSumConfig } from './kernels/unsortedSegmentSum.js';

const MISSING_KERNELS: readonly tf.KernelConfig[] = [unsortedSegmentSumConfig];

/** Registers each missing wasm kernel not registered yet (idempotent). */
export function registerMissingKernels(): void {
  for (const config of MISSING_KERNELS) {
    if (tf.getKernel(config.kernelName, config.backendName) === undefined) tf.registerKernel(config);
  }
}
