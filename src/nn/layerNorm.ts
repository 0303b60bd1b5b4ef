/**
 * LayerNorm over the last axis of x [n, h] with its textbook gradient: with x̂ the normalised
 * input and g = dy·γ, dx = (g − mean(g) − x̂·mean(g·x̂)) / σ, dγ = Σ dy·x̂, dβ = Σ dy.
 */
import * as tf from '@tensorflow/tfjs-core';
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

export function layerNormForward(x: tf.Tensor2D, params: LayerNormParams, context: LayerContext): { y: tf.Tensor2D; saved: LayerNormSaved } {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const inverseStd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), params.eps)) as tf.Tensor2D;
    const normalized = tf.mul(centered, inverseStd) as tf.Tensor2D;
    const y = tf.add(tf.mul(normalized, context.store.tensor(params.weight)), context.store.tensor(params.bias)) as tf.Tensor2D;
    return { y, saved: { normalized, inverseStd } };
  });
}

/** γ·x̂ + β from saved values (to recompute the output instead of keeping it). */
export function layerNormOutput(saved: LayerNormSaved, params: LayerNormParams, context: LayerContext): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.mul(saved.normalized, context.store.tensor(params.weight)), context.store.tensor(params.bias)) as tf.Tensor2D);
}

/** Adds dγ, dβ into the gradient store and returns dx; frees `saved`. */
export function layerNormBackward(dy: tf.Tensor2D, saved: LayerNormSaved, params: LayerNormParams, context: BackwardContext): tf.Tensor2D {
  const dx = tf.tidy(() => {
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
