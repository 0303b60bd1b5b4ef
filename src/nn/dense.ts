/**
 * Dense (linear) layer y = x·Wᵀ + b with W stored [out, in] as in PyTorch and on disk. With
 * host weights (host kernels under wasm) W is read from the host arena and its gradient
 * dW += dyᵀ·x is accumulated straight into the host gradient buffer by the host sgemm, so the
 * matrix never exists on the TF.js heap; otherwise W is a heap mirror and dW a temporary.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostWeightMatMul } from '../backend/kernels/hostWeightMatMul.js';
import { tensorValues } from '../backend/transfer.js';
import { hostKernels } from '../core/host.js';
import type { BackwardContext, LayerContext } from './context.js';

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

/** y = x·Wᵀ + b for x [n, in]; returns [n, out]. The caller keeps x for the backward. */
export function denseForward(x: tf.Tensor, params: DenseParams, context: LayerContext): tf.Tensor2D {
  const [rows, cols] = weightShape(context, params);
  return tf.tidy(() => {
    const product = context.hostWeights
      ? hostWeightMatMul(x, { weight: context.store.view(params.weight), rows, cols, transposeWeight: true })
      : tf.matMul(x as tf.Tensor2D, context.store.tensor(params.weight) as tf.Tensor2D, false, true);
    return (params.bias === undefined ? product : tf.add(product, context.store.tensor(params.bias))) as tf.Tensor2D;
  });
}

/**
 * Adds dW = dyᵀ·x and db = Σ dy into the gradient store; returns dx = dy·W unless
 * `inputGradient` is false. Frees nothing it did not make (dy and x stay the caller's).
 */
export function denseBackward(dy: tf.Tensor2D, x: tf.Tensor2D, params: DenseParams, context: BackwardContext, inputGradient = true): tf.Tensor2D | undefined {
  const [rows, cols] = weightShape(context, params);
  const sgemm = hostKernels()?.sgemm;
  if (context.hostWeights && sgemm !== undefined) {
    const { buffer, assign } = context.grads.target(params.weight);
    // dW [out, in] = dyᵀ [out, n] · x [n, in], accumulated in place.
    sgemm(tensorValues(dy), tensorValues(x), buffer, 1, rows, dy.shape[0], cols, 0, 0, true, false, !assign);
  } else {
    tf.tidy(() => context.grads.addTensor(params.weight, tf.matMul(dy, x, true, false)));
  }
  if (params.bias !== undefined) tf.tidy(() => context.grads.addTensor(params.bias!, tf.sum(dy, 0)));
  if (!inputGradient) return undefined;
  return tf.tidy(() =>
    (context.hostWeights
      ? (hostWeightMatMul(dy, { weight: context.store.view(params.weight), rows, cols, transposeWeight: false }) as tf.Tensor2D)
      : tf.matMul(dy, context.store.tensor(params.weight) as tf.Tensor2D)) as tf.Tensor2D,
  );
}
