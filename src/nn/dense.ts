/**
 * Dense (linear) layer y = x·Wᵀ + b with W stored [out, in] as in PyTorch and on disk. With
 * host weights (host kernels under wasm) W is read from the host arena and its gradient
 * dW += dyᵀ·x is accumulated straight into the host gradient buffer by the host sgemm, so the
 * matrix never exists on the TF.js heap; otherwise W is a heap mirror and dW a temporary.
 * Every product runs at the context's precision (bf16: operands rounded, fp32 accumulation).
 *
 * A layer that fuses the bias into what follows (bias + GELU, bias + dropout) takes the
 * product alone: `denseForward` with params without a bias, and the same params backward.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostWeightMatMul } from '../backend/kernels/hostWeightMatMul.js';
import { tensorValues } from '../backend/transfer.js';
import { hostKernels } from '../core/host.js';
import type { BackwardContext, LayerContext } from './context.js';
import { biasDropoutBackward, biasDropoutForward } from './dropout.js';
import { matMul } from './matmul.js';

export interface DenseParams {
  /** Store index of the weight [out, in]. */
  weight: number;
  /** Store index of the bias [out], if any. */
  bias?: number;
}

function weightShape(context: LayerContext, params: DenseParams): [number, number] {
  const shape = context.store.entries[params.weight]!.shape;
  return [shape[0]!, shape[1]!];
}

/** Products with W may run on the host: host weights, and a host GEMM of the precision. */
function onHost(context: LayerContext): boolean {
  return context.hostWeights && (context.precision === 'fp32' || context.hostBf16);
}

/** y = x·Wᵀ + b for x [n, in]; returns [n, out]. The caller keeps x for the backward. */
export function denseForward(x: tf.Tensor, params: DenseParams, context: LayerContext): tf.Tensor2D {
  const [rows, cols] = weightShape(context, params);
  return tf.tidy(() => {
    const product = onHost(context)
      ? (hostWeightMatMul(x, { weight: context.store.view(params.weight), rows, cols, transposeWeight: true, bf16: context.precision === 'bf16' }) as tf.Tensor2D)
      : matMul(x as tf.Tensor2D, context.store.tensor(params.weight), false, true, context);
    return biasDropoutForward(product, params.bias, undefined, context);
  });
}

/**
 * Adds dW = dyᵀ·x and db = Σ dy into the gradient store; returns dx = dy·W unless
 * `inputGradient` is false. Frees nothing it did not make (dy and x stay the caller's).
 */
export function denseBackward(dy: tf.Tensor2D, x: tf.Tensor2D, params: DenseParams, context: BackwardContext, inputGradient = true): tf.Tensor2D | undefined {
  const [rows, cols] = weightShape(context, params);
  const host = hostKernels();
  const sgemm = context.precision === 'bf16' ? host?.sgemmBf16 : host?.sgemm;
  if (onHost(context) && sgemm !== undefined) {
    const { buffer, assign } = context.grads.target(params.weight);
    // dW [out, in] = dyᵀ [out, n] · x [n, in], accumulated in place.
    sgemm(tensorValues(dy), tensorValues(x), buffer, 1, rows, dy.shape[0], cols, 0, 0, true, false, !assign);
  } else {
    tf.tidy(() => context.grads.addTensor(params.weight, matMul(dy, x, true, false, context)));
  }
  if (params.bias !== undefined) biasDropoutBackward(dy, params.bias, undefined, context);
  if (!inputGradient) return undefined;
  return tf.tidy(() =>
    onHost(context)
      ? (hostWeightMatMul(dy, { weight: context.store.view(params.weight), rows, cols, transposeWeight: false, bf16: context.precision === 'bf16' }) as tf.Tensor2D)
      : matMul(dy, context.store.tensor(params.weight), false, false, context),
  );
}
