/**
 * LayerNorm over the last axis of x [n, h] — of x + residual when given, the post-LayerNorm
 * blocks' "add & norm" — with its textbook gradient: with x̂ the normalised input and g = dy·γ,
 * dx = (g − mean(g) − x̂·mean(g·x̂)) / σ, dγ = Σ dy·x̂, dβ = Σ dy. With the fused kernels
 * each direction is one pass (statistics in float64) and γ, β are read, dγ, dβ accumulated,
 * on the host; otherwise TF.js ops. Either way x̂ and 1/σ are what is kept.
 */
import * as tf from '@tensorflow/tfjs-core';
import { layerNorm, layerNormAffine, layerNormGrad } from '../backend/kernels/layerNorm.js';
import type { BackwardContext, LayerContext } from './context.js';

export interface LayerNormParams {
  weight: number;
  bias: number;
  eps: number;
}

export interface LayerNormSaved {
  normalized: tf.Tensor2D;
  inverseStd: tf.Tensor2D;
}

/** LayerNorm(x + residual) (residual: the caller's, e.g. the block's input; x alone when absent). */
export function layerNormForward(x: tf.Tensor2D, params: LayerNormParams, context: LayerContext, residual?: tf.Tensor2D): { y: tf.Tensor2D; saved: LayerNormSaved } {
  if (context.fused) {
    const [y, normalized, inverseStd] = layerNorm(x, residual, { gamma: context.store.view(params.weight), beta: context.store.view(params.bias), eps: params.eps });
    return { y: y as tf.Tensor2D, saved: { normalized: normalized as tf.Tensor2D, inverseStd: inverseStd as tf.Tensor2D } };
  }
  return tf.tidy(() => {
    const sum = residual === undefined ? x : tf.add(x, residual);
    const mean = tf.mean(sum, -1, true);
    const centered = tf.sub(sum, mean);
    const inverseStd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), params.eps)) as tf.Tensor2D;
    const normalized = tf.mul(centered, inverseStd) as tf.Tensor2D;
    const y = tf.add(tf.mul(normalized, context.store.tensor(params.weight)), context.store.tensor(params.bias)) as tf.Tensor2D;
    return { y, saved: { normalized, inverseStd } };
  });
}

/** γ·x̂ + β from saved values (to recompute the output instead of keeping it). */
export function layerNormOutput(saved: LayerNormSaved, params: LayerNormParams, context: LayerContext): tf.Tensor2D {
  if (context.fused) return layerNormAffine(saved.normalized, { gamma: context.store.view(params.weight), beta: context.store.view(params.bias) }) as tf.Tensor2D;
  return tf.tidy(() => tf.add(tf.mul(saved.normalized, context.store.tensor(params.weight)), context.store.tensor(params.bias)) as tf.Tensor2D);
}

/** Adds dγ, dβ into the gradient store and returns dx (the gradient of x and of the residual alike); frees `saved`. */
export function layerNormBackward(dy: tf.Tensor2D, saved: LayerNormSaved, params: LayerNormParams, context: BackwardContext): tf.Tensor2D {
  const dx = context.fused ? fusedBackward(dy, saved, params, context) : tf.tidy(() => {
    const { normalized, inverseStd } = saved;
    context.grads.addTensor(params.weight, tf.sum(tf.mul(dy, normalized), 0));
    context.grads.addTensor(params.bias, tf.sum(dy, 0));
    const scaled = tf.mul(dy, context.store.tensor(params.weight));
    const projection = tf.mul(normalized, tf.mean(tf.mul(scaled, normalized), -1, true));
    return tf.mul(tf.sub(tf.sub(scaled, tf.mean(scaled, -1, true)), projection), inverseStd) as tf.Tensor2D;
  });
  tf.dispose([saved.normalized, saved.inverseStd]);
  return dx;
}

function fusedBackward(dy: tf.Tensor2D, saved: LayerNormSaved, params: LayerNormParams, context: BackwardContext): tf.Tensor2D {
  const dgamma = context.grads.target(params.weight);
  const dbeta = context.grads.target(params.bias);
  // One accumulate flag for both: a buffer that would take an assignment is zeroed instead.
  const accumulate = !(dgamma.assign && dbeta.assign);
  if (accumulate && dgamma.assign) dgamma.buffer.fill(0);
  if (accumulate && dbeta.assign) dbeta.buffer.fill(0);
  return layerNormGrad(dy, saved.normalized, saved.inverseStd, {
    gamma: context.store.view(params.weight),
    dgamma: dgamma.buffer,
    dbeta: dbeta.buffer,
    accumulateParams: accumulate,
  }) as tf.Tensor2D;
}
