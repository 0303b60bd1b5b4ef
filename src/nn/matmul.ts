/**
 * Matrix products at the model's precision (context.ts `Precision`). fp32: TF.js's matMul. bf16
 * (torch.autocast('cpu', dtype=torch.bfloat16) semantics): both operands rounded to bfloat16,
 * float32 accumulation and result — on the host's `sgemmBf16` when it is there (native
 * AVX512_BF16, or its emulation), else by rounding the operands (src/core/bf16.ts, or the host's
 * `roundToBf16`) and multiplying in fp32: the same values up to float32 summation order.
 */
import * as tf from '@tensorflow/tfjs-core';
import { bf16KernelTakes, hostBatchMatMulBf16 } from '../backend/kernels/hostBatchMatMulBf16.js';
import { tensorValues } from '../backend/transfer.js';
import { roundToBf16 } from '../core/bf16.js';
import { hostKernels } from '../core/host.js';
import type { LayerContext } from './context.js';

type Precise = Pick<LayerContext, 'precision' | 'hostBf16'>;

/** A new tensor of x's values rounded to bfloat16 (kept as float32). */
export function roundToBf16Tensor(x: tf.Tensor): tf.Tensor {
  const out = new Float32Array(x.size);
  // On wasm a view of the heap: read before the next allocation.
  (hostKernels()?.roundToBf16 ?? roundToBf16)(tensorValues(x), out);
  return tf.tensor(out, x.shape, 'float32');
}

/** op(a)·op(b) as tf.matMul (batched over leading axes), at the context's precision. */
export function matMul<T extends tf.Tensor>(a: T, b: tf.Tensor, transposeA: boolean, transposeB: boolean, context: Precise): T {
  if (context.precision === 'fp32') return tf.matMul(a, b, transposeA, transposeB) as T;
  if (context.hostBf16 && bf16KernelTakes(a, b, transposeA, transposeB)) return hostBatchMatMulBf16(a, b, { transposeA, transposeB }) as T;
  return tf.tidy(() => tf.matMul(roundToBf16Tensor(a), roundToBf16Tensor(b), transposeA, transposeB) as T);
}
