/**
 * Swaps the last two dimensions of a float32 wasm tensor into a new tensor. Used by the
 * fast BatchMatMul to materialise transposed operands. A blocked JavaScript loop over the
 * heap is ~5× faster than the stock wasm Transpose kernel here (1024×256: 0.35 vs 2 ms):
 * 8×8 tiles keep both the rows read and the rows written in cache.
 */
import * as tf from '@tensorflow/tfjs-core';
import { heapArray, type WasmBackend } from '../wasmHeap.js';

const TILE = 8;

export function transposeLastTwo(backend: WasmBackend, x: tf.TensorInfo): tf.TensorInfo {
  const batchDims = x.shape.slice(0, -2);
  const [rows, cols] = x.shape.slice(-2) as [number, number];
  const out = backend.makeOutput([...batchDims, cols, rows], 'float32');
  // Views only after the allocation above, which may have grown the heap.
  const source = heapArray(backend, x);
  const target = heapArray(backend, out);
  const matrixSize = rows * cols;
  const batch = tf.util.sizeFromShape(batchDims);
  for (let matrix = 0; matrix < batch; matrix++) {
    const base = matrix * matrixSize;
    for (let rowStart = 0; rowStart < rows; rowStart += TILE) {
      const rowEnd = Math.min(rows, rowStart + TILE);
      for (let colStart = 0; colStart < cols; colStart += TILE) {
        const colEnd = Math.min(cols, colStart + TILE);
        for (let row = rowStart; row < rowEnd; row++) {
          const sourceRow = base + row * cols;
          for (let col = colStart; col < colEnd; col++) target[base + col * rows + row] = source[sourceRow + col]!;
        }
      }
    }
  }
  return out;
}
