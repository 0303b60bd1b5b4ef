/**
 * Scaled dot-product attention over heads with an additive mask, as HF encoders compute it:
 * probabilities = softmax(q·kᵀ + mask), context = dropout(probabilities)·v. The queries come
 * already scaled by 1/√d (the same as scaling the scores, on fewer elements). The dropout mask
 * is drawn again in the backward from its seed, so only q, k, v and the probabilities are kept.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dropoutBackward, dropoutForward, type DropoutSite } from './dropout.js';

/** HF masks attention with the dtype's minimum; exp() of it underflows to exactly zero probability. */
export const FLOAT32_MIN = -3.4028234663852886e38;

export interface AttentionSaved {
  queries: tf.Tensor4D;
  keys: tf.Tensor4D;
  values: tf.Tensor4D;
  probabilities: tf.Tensor4D;
}


/**
 * queries [b, heads, q, d], keys and values [b, heads, t, d], maskBias [b, 1, 1, t] (0 or
 * FLOAT32_MIN); returns context [b, heads, q, d] and what the backward needs (q, k, v are kept).
 */
export function attentionForward(
  queries: tf.Tensor4D,
  keys: tf.Tensor4D,
  values: tf.Tensor4D,
  maskBias: tf.Tensor4D,
  dropout: DropoutSite,
): { context: tf.Tensor4D; saved: AttentionSaved } {
  return tf.tidy(() => {
    const probabilities = tf.softmax(tf.add(tf.matMul(queries, keys, false, true), maskBias)) as tf.Tensor4D;
    const dropped = dropoutForward(probabilities, dropout);
    const context = tf.matMul(dropped, values) as tf.Tensor4D;
    return { context, saved: { queries: tf.clone(queries), keys: tf.clone(keys), values: tf.clone(values), probabilities } };
  });
}

/** Gradients of the queries, keys and values from the context's gradient; frees `saved`. */
export function attentionBackward(dContext: tf.Tensor4D, saved: AttentionSaved, dropout: DropoutSite): { dQueries: tf.Tensor4D; dKeys: tf.Tensor4D; dValues: tf.Tensor4D } {
  const result = tf.tidy(() => {
    const { queries, keys, values, probabilities } = saved;
    const dropped = dropoutForward(probabilities, dropout);
    const dValues = tf.matMul(dropped, dContext, true, false) as tf.Tensor4D;
    const dProbabilities = dropoutBackward(tf.matMul(dContext, values, false, true), dropout);
    // softmax backward: ds = p · (dp − Σ dp·p)
    const dScores = tf.mul(probabilities, tf.sub(dProbabilities, tf.sum(tf.mul(dProbabilities, probabilities), -1, true)));
    const dQueries = tf.matMul(dScores, keys) as tf.Tensor4D;
    const dKeys = tf.matMul(dScores, queries, true, false) as tf.Tensor4D;
    return { dQueries, dKeys, dValues };
  });
  tf.dispose([saved.queries, saved.keys, saved.values, saved.probabilities]);
  return result;
}
