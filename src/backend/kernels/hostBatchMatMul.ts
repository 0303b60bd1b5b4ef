/**
 * `BatchMatMul` for the wasm backend computed by the host `sgemm` (in Node, the optional native
 * addon, native/sgemm.cc: AVX2/AVX-512 GEMM instead of wasm's 128-bit SIMD).
 *
 * Zero copy: the addon receives Float32Array views of the operands and of the output on
 * the wasm heap and writes the product in place. Transposed operands are read through
 * strides while packing, so nothing is materialised; batch broadcasting where one side
 * has a single matrix is a stride of 0.
 *
 * Everything else goes to the kernel registered before (the fast or the stock kernel):
 * non-float32 inputs, shape errors (so the messages stay TF.js's), broadcasts that are not
 * "one matrix against a batch" (e.g. [2, 1] with [1, 3]), and products so small that a
 * native call costs more than it saves.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Sgemm } from '../../core/host.js';
import { asWasmBackend, heapArray } from '../wasmHeap.js';

/**
 * Products with fewer multiply-adds than this (over the whole batch) go to the previous
 * kernel. Measured with bench/native.ts: at 8³ a native call takes 2.1 µs against 4.0 µs
 * for the fast wasm kernel (TF.js's dispatch included), and below that every kernel costs
 * the same ~4 µs of dispatch, so the threshold gains nothing by going lower; it keeps the
 * trivially small products on the kernel that defines the reference behaviour.
 */
export const MIN_HOST_MULTIPLY_ADDS = 512;

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** A batched product one host sgemm call computes: C_i = op(A_i)·op(B_i), C [outShape]. */
export interface BatchMatMulPlan {
  batch: number;
  m: number;
  k: number;
  n: number;
  strideA: number;
  strideB: number;
  outShape: number[];
}

/**
 * The sgemm call for `a`·`b` (float32, rank ≥ 2, matching inner dimensions, each batch either
 * the output's or a single matrix), or undefined when the product is not of that form.
 * Throws TF.js's own error for incompatible batch shapes, e.g. [2, 3] with [3, 2].
 */
export function planBatchMatMul(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): BatchMatMulPlan | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  const k = a.shape[aRank - (transposeA ? 2 : 1)]!;
  if (k !== b.shape[bRank - (transposeB ? 1 : 2)]) return undefined;
  const m = a.shape[aRank - (transposeA ? 1 : 2)]!;
  const n = b.shape[bRank - (transposeB ? 2 : 1)]!;
  const aBatchDims = a.shape.slice(0, -2);
  const bBatchDims = b.shape.slice(0, -2);
  const aBatch = tf.util.sizeFromShape(aBatchDims);
  const bBatch = tf.util.sizeFromShape(bBatchDims);
  // A side whose batch size equals the output's has the output's batch layout (every
  // axis either matches or broadcasts from 1, and the sizes agree), so one stride fits.
  const batch = Math.max(aBatch, bBatch);
  if ((aBatch !== 1 && aBatch !== batch) || (bBatch !== 1 && bBatch !== batch)) return undefined;
  const outShape = [...tf.backend_util.assertAndGetBroadcastShape(aBatchDims, bBatchDims), m, n];
  return { batch, m, k, n, strideA: aBatch === 1 ? 0 : m * k, strideB: bBatch === 1 ? 0 : k * n, outShape };
}

/** Runs `plan` with `sgemm` into a new output on the heap. */
export function runBatchMatMulPlan(backend: unknown, a: tf.TensorInfo, b: tf.TensorInfo, plan: BatchMatMulPlan, transposeA: boolean, transposeB: boolean, sgemm: Sgemm): tf.TensorInfo {
  const wasm = asWasmBackend(backend);
  const out = wasm.makeOutput(plan.outShape, 'float32');
  // Views only now: allocating the output may have grown (and replaced) the heap buffer.
  sgemm(
    heapArray(wasm, a) as Float32Array,
    heapArray(wasm, b) as Float32Array,
    heapArray(wasm, out) as Float32Array,
    plan.batch,
    plan.m,
    plan.k,
    plan.n,
    plan.strideA,
    plan.strideB,
    transposeA,
    transposeB,
  );
  return out;
}

/** Builds the native kernel config; `previous` is the BatchMatMul kernel it replaces. */
export function hostBatchMatMulConfig(previous: tf.KernelConfig, sgemm: Sgemm): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    const plan = planBatchMatMul(a, b, transposeA, transposeB);
    if (plan === undefined || plan.batch * plan.m * plan.k * plan.n < MIN_HOST_MULTIPLY_ADDS) return previous.kernelFunc(args) as tf.TensorInfo;
    return runBatchMatMulPlan(args.backend, a, b, plan, transposeA, transposeB, sgemm);
  };
  return { ...previous, kernelFunc: kernelFunc as tf.KernelFunc };
}
