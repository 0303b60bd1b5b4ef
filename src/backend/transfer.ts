/**
 * Moving values between tensors and host Float32Arrays. On the wasm backend a tensor's values
 * are read in place on the wasm heap (no copy); elsewhere through `dataSync`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { asWasmBackend, heapArray } from './wasmHeap.js';

/** True when the active backend is wasm (its tensors live on the wasm heap). */
export function onWasm(): boolean {
  return tf.getBackend() === 'wasm';
}

/**
 * The float32 values of `tensor`: on wasm a view of its heap memory, valid only until the next
 * tensor allocation (which may grow and move the heap); elsewhere a copy. Read it at once.
 */
export function tensorValues(tensor: tf.Tensor): Float32Array {
  if (tensor.dtype !== 'float32') throw new Error(`expected a float32 tensor, got ${tensor.dtype}`);
  if (onWasm()) return heapArray(asWasmBackend(tf.backend()), tensor) as Float32Array;
  return tensor.dataSync() as Float32Array;
}

/** target (+)= alpha · values(tensor), elementwise; sizes must match. */
export function addTensorInto(target: Float32Array, tensor: tf.Tensor, alpha: number, assign: boolean): void {
  const values = tensorValues(tensor);
  if (values.length !== target.length) throw new Error(`cannot add ${values.length} values into ${target.length}`);
  if (assign) {
    if (alpha === 1) target.set(values);
    else for (let i = 0; i < target.length; i++) target[i] = values[i]! * alpha;
  } else if (alpha === 1) {
    for (let i = 0; i < target.length; i++) target[i]! += values[i]!;
  } else {
    for (let i = 0; i < target.length; i++) target[i]! += values[i]! * alpha;
  }
}

/** A new float32 tensor holding a copy of `values`. */
export function tensorFromHost(values: Float32Array, shape: readonly number[]): tf.Tensor {
  return tf.tensor(values, [...shape], 'float32');
}
