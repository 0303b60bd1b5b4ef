/**
 * Memory limits of a run, and what to do when one is near (issue: bert-base crashed with
 * `Aborted()`). TF.js's wasm backend keeps every tensor on one 32-bit wasm heap that cannot
 * grow past 4 GiB and never shrinks; the host stores (parameters, gradients, optimizer
 * moments) live outside it. A micro-batch fits when its measured peak of heap tensors stays
 * under the heap's ceiling (with headroom for the allocator and TF.js's own buffers) and the
 * whole run — heap plus host stores — stays within the memory budget.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { MemoryError } from '../core/errors.js';
import { formatBytes } from '../train/autobatch.js';
import type { TrainableModel } from '../train/types.js';
import { GradientStore } from '../train/store.js';

/** Emscripten's limit for the wasm backend's heap (tfjs-backend-wasm 4.x: getHeapMax). */
export const WASM_HEAP_MAX = 4294901760;
/** Share of the heap tensors may use: the rest is the allocator's fragmentation and TF.js's own buffers. */
const HEAP_HEADROOM = 0.85;

export interface MemoryLimits {
  /** Heap bytes tensors may reach (Infinity on backends without a fixed heap). */
  heapBytes: number;
  /** Heap + host bytes the run may use. */
  budgetBytes: number;
  /** Host bytes the run holds whatever the micro-batch (parameters, gradients, optimizer state, worker shares). */
  hostBytes: number;
}

export function memoryLimits(hostBytes: number, budgetBytes?: number): MemoryLimits {
  return {
    heapBytes: tf.getBackend() === 'wasm' ? Math.floor(WASM_HEAP_MAX * HEAP_HEADROOM) : Infinity,
    budgetBytes: budgetBytes ?? Math.floor(os.totalmem() * 0.75),
    hostBytes,
  };
}

export function fitsLimits(peakHeapBytes: number, limits: MemoryLimits): boolean {
  return peakHeapBytes <= limits.heapBytes && peakHeapBytes + limits.hostBytes <= limits.budgetBytes;
}

export function describeLimits(peakHeapBytes: number, limits: MemoryLimits): string {
  if (peakHeapBytes > limits.heapBytes) return `the wasm heap's ${formatBytes(limits.heapBytes)} usable for tensors (its ceiling is 4 GiB)`;
  return `the memory budget of ${formatBytes(limits.budgetBytes)} (${formatBytes(limits.hostBytes)} of it held by parameters, gradients and optimizer state)`;
}

/**
 * Peak heap tensor bytes of one training forward + backward of `samples` (the parameters'
 * heap mirrors included), into `grads` (zeroed afterwards; by default scratch buffers — a
 * run passes its own, so that probing costs no second copy of the gradients).
 */
export async function measurePeak<Sample>(model: TrainableModel<Sample>, samples: readonly Sample[], grads = new GradientStore(model.parameters.layout)): Promise<number> {
  const count = model.countItems(samples, 0);
  const profile = await tf.profile(() => {
    model.accumulateGradients(samples, grads, { factor: 1 / Math.max(1, count), training: true, dropoutSeeds: samples.map(() => 0), epoch: 0 });
  });
  grads.zero();
  return profile.peakBytes;
}

/** Peak per micro-batch size from two measurements, assuming growth linear in the size. */
export function extrapolate(peakOne: number, peakTwo: number, size: number): number {
  return peakOne + Math.max(0, peakTwo - peakOne) * (size - 1);
}

/** The largest size whose extrapolated peak fits (0 if not even 1). */
export function largestFitting(peakOne: number, peakTwo: number, limits: MemoryLimits, cap: number): number {
  let size = 0;
  while (size < cap && fitsLimits(extrapolate(peakOne, peakTwo, size + 1), limits)) size += 1;
  return size;
}

/**
 * Samples per evaluation forward pass: up to `wanted`, as many as a conservative estimate
 * (`bytesFor`, a training pass's saved activations — inference keeps one layer's) says fit,
 * and never fewer than `known` (a size already measured to fit a training pass).
 */
export function inferenceBatch(wanted: number, known: number, bytesFor: (size: number) => number, limits: MemoryLimits): number {
  let size = Math.max(1, Math.min(known, wanted));
  while (size < wanted && fitsLimits(bytesFor(size + 1), limits)) size += 1;
  return size;
}

/** Whether `error` is the wasm heap (or the process) running out of memory. */
export function isOutOfMemory(error: unknown): boolean {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return /Aborted\(\)|memory access out of bounds|Cannot enlarge memory|Out of memory|WebAssembly\.Memory|Array buffer allocation failed|Invalid typed array length|RangeError: .*allocation/i.test(message);
}

export function outOfMemoryError(microBatch: number, fitting: number | undefined): MemoryError {
  const advice =
    fitting !== undefined && fitting >= 1
      ? `--micro-batch ${fitting} fits (the result does not depend on it), or use --micro-batch auto`
      : 'use --micro-batch 1, a shorter --max-length, or a smaller model';
  return new MemoryError(`${microBatch} ran out of memory: ${advice}`, { field: 'microBatch' });
}
