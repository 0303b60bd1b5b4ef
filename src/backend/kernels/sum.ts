/**
 * `Sum` over leading axes for the wasm backend: Σ over the rows of a matrix, the reduction of
 * every bias and LayerNorm gradient (and of TF.js's gradient of a broadcast add). The stock
 * kernel reduces only trailing axes, so it first transposes the input with its slow stock
 * transpose: 9 ms to sum 1024×1024 over axis 0. Adding the rows into a float64 accumulator,
 * four at a time, reads memory once in order: ≈ 0.6 ms (and rounds once, at the end, where
 * the stock kernel rounds after every addition). Other axes and dtypes go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { asWasmBackend, heapArray } from '../wasmHeap.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** The number of leading axes `axes` names (0, 1, … k−1 in any order), or 0 when it names any other axis. */
export function leadingAxesCount(axes: readonly number[]): number {
  const sorted = [...axes].sort((x, y) => x - y);
  return sorted.every((axis, index) => axis === index) ? sorted.length : 0;
}

/** Builds the fast kernel config around the stock Sum kernel. */
export function fastSumConfig(stock: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as unknown as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    if (x.dtype !== 'float32') return stock.kernelFunc(args) as tf.TensorInfo;
    const reduced = leadingAxesCount(tf.util.parseAxisParam(axis, x.shape));
    // Reducing no axis or every axis is left to the stock kernel (nothing to transpose there).
    if (reduced === 0 || reduced === x.shape.length) return stock.kernelFunc(args) as tf.TensorInfo;
    const keptShape = x.shape.slice(reduced);
    const rows = tf.util.sizeFromShape(x.shape.slice(0, reduced));
    const cols = tf.util.sizeFromShape(keptShape);
    const backend = asWasmBackend(args.backend);
    const out = backend.makeOutput(keepDims ? [...new Array<number>(reduced).fill(1), ...keptShape] : keptShape, 'float32');
    const sums = new Float64Array(cols);
    // Views only after the allocation above, which may have grown the heap.
    const source = heapArray(backend, x) as Float32Array;
    let row = 0;
    // Four rows per pass over `sums`: a third of the accumulator traffic of one row per pass.
    for (; row + 4 <= rows; row += 4) {
      const base0 = row * cols;
      const base1 = base0 + cols;
      const base2 = base1 + cols;
      const base3 = base2 + cols;
      for (let col = 0; col < cols; col++) sums[col]! += source[base0 + col]! + source[base1 + col]! + source[base2 + col]! + source[base3 + col]!;
    }
    for (; row < rows; row++) {
      const base = row * cols;
      for (let col = 0; col < cols; col++) sums[col]! += source[base + col]!;
    }
    heapArray(backend, out).set(sums);
    return out;
  };
  return { ...stock, kernelFunc: kernelFunc as tf.KernelFunc };
}
