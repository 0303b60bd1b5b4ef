/**
 * `MicrobatchBatchMatMulBf16` (wasm): `BatchMatMul` under bf16 autocast — both operands rounded
 * to bfloat16, products accumulated in float32, a float32 result — by the host `sgemmBf16`
 * (native/sgemm.cc: VDPBF16PS on bf16 pairs where the CPU has AVX512_BF16, else bf16-rounded
 * operands through the fp32 kernel). The attention products of a bf16 model go through it.
 * Only products `planBatchMatMul` takes (float32, one sgemm call); nn/matmul.ts sends anything
 * else, and everything off wasm, to its rounding fallback.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Sgemm } from '../../core/host.js';
import { planBatchMatMul, runBatchMatMulPlan } from './hostBatchMatMul.js';

export const BATCH_MATMUL_BF16 = 'MicrobatchBatchMatMulBf16';

export interface BatchMatMulBf16Attrs {
  transposeA: boolean;
  transposeB: boolean;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

export function hostBatchMatMulBf16Config(sgemmBf16: Sgemm): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulBf16Attrs;
    const plan = planBatchMatMul(a, b, transposeA, transposeB);
    if (plan === undefined) throw new Error(`${BATCH_MATMUL_BF16}: cannot multiply [${a.shape}] by [${b.shape}] in one call`);
    return runBatchMatMulPlan(args.backend, a, b, plan, transposeA, transposeB, sgemmBf16);
  };
  return { kernelName: BATCH_MATMUL_BF16, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc };
}

/** True when `planBatchMatMul` takes the product (shapes only: the kernel's precondition). */
export function bf16KernelTakes(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): boolean {
  try {
    return planBatchMatMul(a, b, transposeA, transposeB) !== undefined;
  } catch {
    return false;
  }
}

export function hostBatchMatMulBf16(a: tf.Tensor, b: tf.Tensor, attrs: BatchMatMulBf16Attrs): tf.Tensor {
  return tf.engine().runKernel(BATCH_MATMUL_BF16, { a, b }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
