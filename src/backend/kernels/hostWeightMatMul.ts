/**
 * `MicrobatchHostWeightMatMul` (wasm): y = x · op(W) where x is a tensor [..., K] and W a host
 * Float32Array (a parameter in the host store, never copied to the wasm heap), op(W) = W or Wᵀ.
 * The host `sgemm` reads x on the heap and W where it is, and writes y on the heap.
 * Dense layers use it for their forward (x·Wᵀ with W stored [out, in]) and for the input
 * gradient (dy·W), so a model's large matrices exist once, on the host, shared by every worker.
 * With `bf16` the product is bf16 autocast's (both operands rounded to bfloat16, float32
 * accumulation) by the host `sgemmBf16`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Sgemm } from '../../core/host.js';
import { asWasmBackend, heapArray } from '../wasmHeap.js';

export const HOST_WEIGHT_MATMUL = 'MicrobatchHostWeightMatMul';

export interface HostWeightMatMulAttrs {
  /** Row-major [rows, cols]. */
  weight: Float32Array;
  rows: number;
  cols: number;
  /** true: y = x · Wᵀ (x's last axis has `cols` values); false: y = x · W (`rows` values). */
  transposeWeight: boolean;
  /** Round x and W to bfloat16 (the host `sgemmBf16`); default false. */
  bf16?: boolean;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

export function hostWeightMatMulConfig(sgemm: Sgemm, sgemmBf16?: Sgemm): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as unknown as { x: tf.TensorInfo };
    const { weight, rows, cols, transposeWeight, bf16 } = args.attrs as unknown as HostWeightMatMulAttrs;
    const gemm = bf16 === true ? sgemmBf16 : sgemm;
    if (gemm === undefined) throw new Error(`${HOST_WEIGHT_MATMUL}: no host sgemmBf16 for a bf16 product`);
    const k = x.shape[x.shape.length - 1]!;
    const n = transposeWeight ? rows : cols;
    if (x.dtype !== 'float32') throw new Error(`${HOST_WEIGHT_MATMUL}: x must be float32, got ${x.dtype}`);
    if (k !== (transposeWeight ? cols : rows) || weight.length !== rows * cols) {
      throw new Error(`${HOST_WEIGHT_MATMUL}: x [${x.shape}] does not match a ${transposeWeight ? 'transposed ' : ''}[${rows}, ${cols}] weight`);
    }
    const m = tf.util.sizeFromShape(x.shape) / k;
    const backend = asWasmBackend(args.backend);
    const out = backend.makeOutput([...x.shape.slice(0, -1), n], 'float32');
    // Views only now: allocating the output may have grown (and replaced) the heap buffer.
    gemm(heapArray(backend, x) as Float32Array, weight, heapArray(backend, out) as Float32Array, 1, m, k, n, 0, 0, false, transposeWeight, false);
    return out;
  };
  return { kernelName: HOST_WEIGHT_MATMUL, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc };
}

/** Runs the kernel (it must be installed: see `hostMatMulInstalled`). */
export function hostWeightMatMul(x: tf.Tensor, attrs: HostWeightMatMulAttrs): tf.Tensor {
  return tf.engine().runKernel(HOST_WEIGHT_MATMUL, { x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
