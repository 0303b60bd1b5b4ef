/**
 * The few internals of the TF.js wasm backend that the fast kernels rely on: tensors live
 * in the wasm heap at `memoryOffset`, and `makeOutput(shape, dtype, offset)` can register a
 * tensor over memory that already exists. That lets a kernel hand the stock kernels
 * zero-copy views of slices of its inputs instead of copying them out.
 */
import * as tf from '@tensorflow/tfjs-core';

interface WasmTensorData {
  id: number;
  memoryOffset: number;
}

/** The parts of `BackendWasm` (tfjs-backend-wasm 4.x) used here, typed structurally. */
export interface WasmBackend {
  wasm: { HEAPF32: Float32Array; tfjs: { disposeData(id: number): void } };
  dataIdMap: { get(dataId: tf.DataId): WasmTensorData | undefined; delete(dataId: tf.DataId): boolean };
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  /** One more owner of the data: it is freed when every owner has disposed it. */
  incRef(dataId: tf.DataId): void;
}

export function asWasmBackend(backend: unknown): WasmBackend {
  return backend as WasmBackend;
}

function tensorData(backend: WasmBackend, info: tf.TensorInfo): WasmTensorData {
  const data = backend.dataIdMap.get(info.dataId);
  if (data === undefined) throw new Error('fast kernel: tensor is not on the wasm backend');
  return data;
}

/** Index (in float32 elements) of the first element of `info` in `HEAPF32`. */
export function heapIndex(backend: WasmBackend, info: tf.TensorInfo): number {
  return tensorData(backend, info).memoryOffset / Float32Array.BYTES_PER_ELEMENT;
}

/**
 * A typed-array view of a float32 or int32 tensor's heap memory. Take it right before use:
 * any allocation may grow the heap and detach it.
 */
export function heapArray(backend: WasmBackend, info: tf.TensorInfo): Float32Array | Int32Array {
  const { memoryOffset } = tensorData(backend, info);
  const size = tf.util.sizeFromShape(info.shape);
  const buffer = backend.wasm.HEAPF32.buffer;
  if (info.dtype === 'float32') return new Float32Array(buffer, memoryOffset, size);
  if (info.dtype === 'int32') return new Int32Array(buffer, memoryOffset, size);
  throw new Error(`fast kernel: unsupported dtype ${info.dtype}`);
}

/**
 * A float32 tensor of `shape` over the heap memory of `base` starting `elementOffset`
 * elements in. It owns no memory: release it with `releaseView`, never `disposeData`
 * (which would free the memory of `base`).
 */
export function makeView(backend: WasmBackend, base: tf.TensorInfo, elementOffset: number, shape: number[]): tf.TensorInfo {
  const offset = tensorData(backend, base).memoryOffset + elementOffset * Float32Array.BYTES_PER_ELEMENT;
  return backend.makeOutput(shape, 'float32', offset);
}

/** Forgets a view made by `makeView`; the C++ side also drops anything cached for its id. */
export function releaseView(backend: WasmBackend, view: tf.TensorInfo): void {
  const data = tensorData(backend, view);
  backend.wasm.tfjs.disposeData(data.id);
  backend.dataIdMap.delete(view.dataId);
}

/** Frees a tensor a kernel created for itself (intermediate transposes, partial products). */
export function disposeIntermediate(backend: WasmBackend, info: tf.TensorInfo): void {
  backend.disposeData(info.dataId);
}

/** A tensor as a row-major matrix over its last axis: [rows, cols] with cols its last dimension. */
export function rowsAndCols(info: tf.TensorInfo): [number, number] {
  const cols = info.shape[info.shape.length - 1]!;
  return [cols === 0 ? 0 : tf.util.sizeFromShape(info.shape) / cols, cols];
}
