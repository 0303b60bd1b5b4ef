/**
 * `Transpose` for the wasm backend, fast where the stock kernel is slow: swapping the last
 * two axes of large matrices whose row count is a multiple of 128 — exactly the 2-D
 * transposes of every dense layer's backward pass at BERT sizes ([1024, 256], [1024, 1024],
 * weights [256, 1024] …). The stock kernel writes the output with a stride of `rows` floats;
 * at power-of-two strides those writes collide in the cache: 1024×1000 takes 7.9 ms, but
 * 880×1024 only 0.5 ms. The tiled copy of transposeLastTwo.ts does not care (≈ 1.7 ms per
 * million elements) but is slower than stock elsewhere, so everything else — other row
 * counts, small matrices that stay in cache, other permutations, other dtypes — goes to the
 * stock kernel. Measured (ms, stock → tiled): 1024×256 1.95 → 0.41, 512×256 0.58 → 0.19,
 * 128×1024 0.42 → 0.18, 4×1024×256 7.7 → 2.0; but 960×256 0.25 vs 0.42, 8·4×128×64 0.1 vs 0.35.
 */
import * as tf from '@tensorflow/tfjs-core';
import { transposeLastTwo } from './transposeLastTwo.js';
import { asWasmBackend } from '../wasmHeap.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Row counts that are multiples of this make the stock kernel's output stride collide in cache. */
export const CONFLICT_ROW_MULTIPLE = 128;
/** Matrices smaller than this (elements; 256 KB) stay in cache, where the stock kernel is faster. */
export const MIN_TILED_ELEMENTS = 64 * 1024;

/** True when `perm` keeps every axis but swaps the last two. */
export function swapsLastTwoAxes(perm: readonly number[]): boolean {
  const rank = perm.length;
  if (rank < 2 || perm[rank - 1] !== rank - 2 || perm[rank - 2] !== rank - 1) return false;
  return perm.slice(0, -2).every((axis, index) => axis === index);
}

/** Builds the fast kernel config around the stock Transpose kernel. */
export function fastTransposeConfig(stock: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as unknown as { x: tf.TensorInfo };
    const { perm } = args.attrs as unknown as tf.TransposeAttrs;
    if (x.dtype !== 'float32' || perm.length !== x.shape.length || !swapsLastTwoAxes(perm)) return stock.kernelFunc(args) as tf.TensorInfo;
    const [rows, cols] = x.shape.slice(-2) as [number, number];
    if (rows % CONFLICT_ROW_MULTIPLE !== 0 || rows * cols < MIN_TILED_ELEMENTS) return stock.kernelFunc(args) as tf.TensorInfo;
    return transposeLastTwo(asWasmBackend(args.backend), x);
  };
  return { ...stock, kernelFunc: kernelFunc as tf.KernelFunc };
}
