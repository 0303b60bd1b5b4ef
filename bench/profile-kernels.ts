/**
 * Per-kernel wall-clock timing for a TF.js backend, by wrapping every registered kernel
 * function of that backend in the kernel registry for the duration of a callback.
 *
 * Why not `tf.profile`: it works on wasm (the backend's `time()` is a synchronous
 * stopwatch) but also downloads every kernel output to check it for NaN
 * (CHECK_COMPUTATION_FOR_ERRORS) and keeps a record per kernel call; the wrapper adds only
 * two `performance.now()` calls per kernel. Kernels that call other kernels directly (not
 * through the registry, as the fast kernels call the stock ones) are counted once, under
 * the name that was dispatched.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface KernelTime {
  kernel: string;
  ms: number;
  calls: number;
}

export async function timeKernels<T>(backendName: string, run: () => Promise<T> | T): Promise<{ result: T; kernels: KernelTime[] }> {
  const totals = new Map<string, KernelTime>();
  const originals = tf.getKernelsForBackend(backendName);
  for (const config of originals) {
    const entry: KernelTime = { kernel: config.kernelName, ms: 0, calls: 0 };
    totals.set(config.kernelName, entry);
    const inner = config.kernelFunc;
    const timed: tf.KernelFunc = (args) => {
      const start = performance.now();
      try {
        return inner(args);
      } finally {
        entry.ms += performance.now() - start;
        entry.calls += 1;
      }
    };
    tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel({ ...config, kernelFunc: timed });
  }
  try {
    const result = await run();
    const kernels = [...totals.values()].filter((entry) => entry.calls > 0).sort((x, y) => y.ms - x.ms);
    return { result, kernels };
  } finally {
    for (const config of originals) {
      tf.unregisterKernel(config.kernelName, backendName);
      tf.registerKernel(config);
    }
  }
}

/** The median (upper median for an even count) of `values`: the one every benchmark quotes. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}
