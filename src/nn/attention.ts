/**
 * Scaled dot-product attention over heads with an additive mask, as HF encoders compute it:
 * probabilities = softmax(scale·q·kᵀ + mask), context = dropout(probabilities)·v. The dropout
 * mask is drawn again in the backward from its seed, so only q, k, v and the probabilities are
 * kept. Products run at the context's precision.
 *
 * With the fused kernels, scale, mask and softmax are one pass over the scores (and the
 * backward's y·(dy − Σ dy·y)·scale another). The TF.js-op path scales the queries instead —
 * the same product on t/d times fewer elements — and keeps them scaled; except under bf16 with
 * a scale that is not a power of two, where rounding q·scale to bf16 would differ from torch's
 * (q·kᵀ)·scale, so it scales the scores too.
 */
import * as tf from '@tensorflow/tfjs-core';
import { softmax, softmaxGrad } from '../backend/kernels/softmax.js';
import { tidy, type LayerContext } from './context.js';
import { dropoutBackward, dropoutForward, type DropoutSite } from './dropout.js';
import { matMul } from './matmul.js';

/** HF masks attention with the dtype's minimum; exp() of it underflows to exactly zero probability. */
export const FLOAT32_MIN = -3.4028234663852886e38;

export interface AttentionSaved {
  /** The queries as given, or already multiplied by the scale (`scaledQueries`). */
  queries: tf.Tensor4D;
  keys: tf.Tensor4D;
  values: tf.Tensor4D;
  probabilities: tf.Tensor4D;
  /** The fused kernels computed the softmax (and will compute its backward). */
  fused: boolean;
  /** The scale was applied to the queries (else to the scores). */
  scaledQueries: boolean;
}

function powerOfTwo(value: number): boolean {
  return Math.log2(value) === Math.round(Math.log2(value));
}

/** The fused softmax takes a [b, 1, 1, t] mask on [b, heads, q, t] scores. */
function fusedMaskLayout(scores: readonly number[], mask: readonly number[]): { maskRows: number; maskRepeat: number } | undefined {
  const [size, heads, queries, keys] = scores as [number, number, number, number];
  const fits = mask.length === 4 && mask[0] === size && mask[1] === 1 && mask[2] === 1 && mask[3] === keys;
  return fits ? { maskRows: size, maskRepeat: heads * queries } : undefined;
}

/**
 * queries [b, heads, q, d] (unscaled), keys and values [b, heads, t, d], maskBias [b, 1, 1, t]
 * (0 or FLOAT32_MIN), scale (1/√d); returns context [b, heads, q, d] and what the backward needs.
 */
export function attentionForward(
  queries: tf.Tensor4D,
  keys: tf.Tensor4D,
  values: tf.Tensor4D,
  maskBias: tf.Tensor4D,
  scale: number,
  dropout: DropoutSite,
  context: LayerContext,
): { context: tf.Tensor4D; saved: AttentionSaved } {
  return tidy(() => {
    const layout = context.fused ? fusedMaskLayout([...queries.shape.slice(0, 3), keys.shape[2]], maskBias.shape) : undefined;
    const scaledQueries = layout === undefined && (context.precision === 'fp32' || powerOfTwo(scale));
    const savedQueries = scaledQueries ? (tf.mul(queries, scale) as tf.Tensor4D) : tf.clone(queries);
    const scores = matMul(savedQueries, keys, false, true, context);
    let probabilities: tf.Tensor4D;
    if (layout !== undefined) probabilities = softmax(scores, maskBias, { scale, ...layout }) as tf.Tensor4D;
    else probabilities = tf.softmax(tf.add(scaledQueries ? scores : tf.mul(scores, scale), maskBias)) as tf.Tensor4D;
    const dropped = dropoutForward(probabilities, dropout, context);
    const attended = matMul(dropped, values, false, false, context);
    return {
      context: attended,
      saved: { queries: savedQueries, keys: tf.clone(keys), values: tf.clone(values), probabilities, fused: layout !== undefined, scaledQueries },
    };
  });
}

/** Gradients of the (unscaled) queries, keys and values from the context's gradient; frees `saved`. */
export function attentionBackward(
  dContext: tf.Tensor4D,
  saved: AttentionSaved,
  scale: number,
  dropout: DropoutSite,
  context: LayerContext,
): { dQueries: tf.Tensor4D; dKeys: tf.Tensor4D; dValues: tf.Tensor4D } {
  const result = tf.tidy(() => {
    const { queries, keys, values, probabilities } = saved;
    const dropped = dropoutForward(probabilities, dropout, context);
    const dValues = matMul(dropped, dContext, true, false, context);
    const dProbabilities = dropoutBackward(matMul(dContext, values, false, true, context), dropout, context);
    if (saved.fused) {
      // dScores includes the scale: ds = p·(dp − Σ dp·p)·scale.
      const dScores = softmaxGrad(dProbabilities, probabilities, { scale }) as tf.Tensor4D;
      return { dQueries: matMul(dScores, keys, false, false, context), dKeys: matMul(dScores, queries, true, false, context), dValues };
    }
    // softmax backward: ds = p · (dp − Σ dp·p), then the scale where the forward applied it.
    const dSoftmax = tf.mul(probabilities, tf.sub(dProbabilities, tf.sum(tf.mul(dProbabilities, probabilities), -1, true))) as tf.Tensor4D;
    if (saved.scaledQueries) {
      const dQueries = tf.mul(matMul(dSoftmax, keys, false, false, context), scale) as tf.Tensor4D;
      return { dQueries, dKeys: matMul(dSoftmax, queries, true, false, context), dValues };
    }
    const dScores = tf.mul(dSoftmax, scale) as tf.Tensor4D;
    return { dQueries: matMul(dScores, keys, false, false, context), dKeys: matMul(dScores, queries, true, false, context), dValues };
  });
  tf.dispose([saved.queries, saved.keys, saved.values, saved.probabilities]);
  return result;
}
