/**
 * Fast `BatchMatMul` for the wasm backend.
 *
 * The stock wasm kernel only reaches XNNPACK's fast GEMM (≈ 40 GFLOP/s here) for one
 * matrix times one matrix with no transpose flags. Everything training needs besides
 * that falls back to a naive loop: transposeA ≈ 0.9 GFLOP/s, transposeB ≈ 3 GFLOP/s,
 * batched (attention) ≈ 3 GFLOP/s. Backward passes use exactly those variants
 * (dA = dY·Bᵀ, dB = Aᵀ·dY). So this kernel reshapes every call into fast calls:
 *
 * 1. transpose flags → materialise the transpose (a memory-bound copy, cheap next to
 *    the product; see transposeLastTwo.ts);
 * 2. B has a single matrix → fold A's batch into its rows: one [batch·M, K]×[K, N] GEMM
 *    over the same memory;
 * 3. otherwise → one fast 2-D GEMM per output matrix over zero-copy views of the inputs,
 *    with batch broadcasting, copying each product into the output.
 *
 * Tiny batched products stay on the stock kernel: there the per-call overhead of a GEMM
 * (operator creation, weight packing) costs more than the naive loop.
 */
import * as tf from '@tensorflow/tfjs-core';
import { transposeLastTwo } from './transposeLastTwo.js';
import { asWasmBackend, disposeIntermediate, heapIndex, makeView, releaseView, type WasmBackend } from '../wasmHeap.js';

/**
 * Below this many multiply-adds per matrix, a batched product runs on the stock kernel.
 * Measured on 32 cubes: per-matrix GEMM is 2× slower than stock at 24³, 2.6× faster at 32³.
 */
export const MIN_SLICED_MULTIPLY_ADDS = 32 * 1024;

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Flat index into `inDims` (right-aligned, size-1 dims broadcast) of flat index `outIndex` of `outDims`. */
function broadcastSourceIndex(outIndex: number, outDims: number[], inDims: number[]): number {
  let remainder = outIndex;
  let sourceIndex = 0;
  let sourceStride = 1;
  for (let axis = outDims.length - 1, inAxis = inDims.length - 1; axis >= 0; axis--, inAxis--) {
    const outSize = outDims[axis]!;
    const position = remainder % outSize;
    remainder = Math.floor(remainder / outSize);
    if (inAxis >= 0) {
      const inSize = inDims[inAxis]!;
      if (inSize !== 1) sourceIndex += position * sourceStride;
      sourceStride *= inSize;
    }
  }
  return sourceIndex;
}

/** A·B for untransposed float32 operands [...batchA, M, K] and [...batchB, K, N]. */
function untransposedProduct(stock: tf.KernelFunc, backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const aBatchDims = a.shape.slice(0, -2);
  const bBatchDims = b.shape.slice(0, -2);
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const outBatchDims = tf.backend_util.assertAndGetBroadcastShape(aBatchDims, bBatchDims);
  const outShape = [...outBatchDims, m, n];
  const aBatch = tf.util.sizeFromShape(aBatchDims);
  const bBatch = tf.util.sizeFromShape(bBatchDims);
  const outBatch = tf.util.sizeFromShape(outBatchDims);
  const attrs = { transposeA: false, transposeB: false };
  const kernelBackend = backend as unknown as tf.KernelBackend;

  if (bBatch === 1 && aBatch === outBatch) {
    // Rows of all A matrices are contiguous, so [...batchA, M, K] is one [batchA·M, K] matrix.
    const aRows = { ...a, shape: [1, aBatch * m, k] };
    const bMatrix = { ...b, shape: [1, k, n] };
    const out = stock({ inputs: { a: aRows, b: bMatrix }, backend: kernelBackend, attrs }) as tf.TensorInfo;
    return { ...out, shape: outShape };
  }
  if (m * k * n < MIN_SLICED_MULTIPLY_ADDS || outBatch === 0 || m * k * n === 0) {
    const out = stock({ inputs: { a, b }, backend: kernelBackend, attrs }) as tf.TensorInfo;
    return { ...out, shape: outShape };
  }

  const out = backend.makeOutput(outShape, 'float32');
  for (let index = 0; index < outBatch; index++) {
    const aView = makeView(backend, a, broadcastSourceIndex(index, outBatchDims, aBatchDims) * m * k, [1, m, k]);
    const bView = makeView(backend, b, broadcastSourceIndex(index, outBatchDims, bBatchDims) * k * n, [1, k, n]);
    const product = stock({ inputs: { a: aView, b: bView }, backend: kernelBackend, attrs }) as tf.TensorInfo;
    releaseView(backend, aView);
    releaseView(backend, bView);
    // Read HEAPF32 only now: the product's allocation may have grown (and replaced) the heap.
    const source = heapIndex(backend, product);
    backend.wasm.HEAPF32.copyWithin(heapIndex(backend, out) + index * m * n, source, source + m * n);
    disposeIntermediate(backend, product);
  }
  return out;
}

/** Builds the fast kernel config around the stock BatchMatMul kernel. */
export function fastBatchMatMulConfig(stock: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs as unknown as tf.BatchMatMulInputs & { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    // Anything the fast paths do not cover (other dtypes, bad ranks, mismatched inner
    // dimensions) goes to the stock kernel, which also owns the error messages.
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
      return stock.kernelFunc(args) as tf.TensorInfo;
    }
    const innerA = a.shape[a.shape.length - (transposeA ? 2 : 1)];
    const innerB = b.shape[b.shape.length - (transposeB ? 1 : 2)];
    if (innerA !== innerB) return stock.kernelFunc(args) as tf.TensorInfo;
    const backend = asWasmBackend(args.backend);
    const aPlain = transposeA ? transposeLastTwo(backend, a) : a;
    const bPlain = transposeB ? transposeLastTwo(backend, b) : b;
    try {
      return untransposedProduct(stock.kernelFunc, backend, aPlain, bPlain);
    } finally {
      if (transposeA) disposeIntermediate(backend, aPlain);
      if (transposeB) disposeIntermediate(backend, bPlain);
    }
  };
  return { ...stock, kernelFunc: kernelFunc as tf.KernelFunc };
}
