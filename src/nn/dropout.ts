/**
 * Seeded inverted dropout: the mask is a pure function of (seeds, rate, row stride) and the
 * element's place, drawn by the one random module, so the backward pass makes the same mask again
 * instead of keeping it. With the fused kernels (context.fused) the mask is drawn inside the
 * kernel — the very same values, never materialised — and a preceding bias add and the bias
 * gradient share the pass.
 *
 * A tensor's rows (its size over its last dimension) form groups of consecutive rows, one per
 * seed: a sample's positions ([b·t, hidden] states: b groups), one head's query positions of a
 * sample ([b, heads, q, t] attention probabilities: b·heads groups), or a sample's single row
 * ([b, hidden] pooled states). Element (row i of a group, column c) is draw i·rowStride + c of its
 * group's stream (docs/design.md §5, dropout). Neither the other samples of the micro-batch nor
 * the padded length change a sample's mask, and a layer that computes position 0 only (1 row per
 * group) gets exactly position 0's mask of the full layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { biasDropout, biasDropoutGrad, type DropoutMaskAttrs } from '../backend/kernels/biasDropout.js';
import { tensorValues } from '../backend/transfer.js';
import { hostKernels } from '../core/host.js';
import { checkProbability, dropoutGroupRows, dropoutStreamState, fillGroupedDropoutMask } from '../core/random.js';
import type { BackwardContext, LayerContext } from './context.js';

export interface DropoutSite {
  rate: number;
  training: boolean;
  /** One seed per group of consecutive rows, in row order (LayerContext.dropoutSeeds). */
  seeds: readonly number[];
  /**
   * Draws from one row of a group to the next, ≥ the column count (default: the column count).
   * Attention probabilities use max_position_embeddings, so a key's draw does not depend on how
   * many keys the padded batch has.
   */
  rowStride?: number;
}

type Fused = Pick<LayerContext, 'fused'>;

export function dropoutMask(shape: readonly number[], site: Omit<DropoutSite, 'training'>): tf.Tensor {
  const size = shape.reduce((product, dim) => product * dim, 1);
  const cols = shape[shape.length - 1] ?? 1;
  return tf.tensor(fillGroupedDropoutMask(new Float32Array(size), cols, site.rate, site.seeds, site.rowStride ?? cols), [...shape], 'float32');
}

function active(site: DropoutSite | undefined): site is DropoutSite {
  return site !== undefined && site.training && site.rate > 0;
}

/** The fused kernels' description of the mask of `site` over a tensor of `size` elements with `cols` columns (rate 0 when inactive). */
function maskAttrs(site: DropoutSite | undefined, size: number, cols: number): DropoutMaskAttrs {
  if (!active(site)) return { rate: 0, seeds: null, groupRows: Math.max(cols === 0 ? 0 : size / cols, 1), rowStride: cols };
  checkProbability('dropout rate', site.rate);
  const rowStride = site.rowStride ?? cols;
  const groupRows = dropoutGroupRows(size, cols, site.seeds.length, rowStride);
  return { rate: site.rate, seeds: Uint32Array.from(site.seeds, dropoutStreamState), groupRows, rowStride };
}

function lastDim(x: tf.Tensor): number {
  return x.shape[x.shape.length - 1]!;
}

/** x · mask / (1 − rate) while training with rate > 0; x itself otherwise (not a copy). */
export function dropoutForward<T extends tf.Tensor>(x: T, site: DropoutSite, context: Fused): T {
  if (!active(site)) return x;
  if (context.fused) return biasDropout(x, { ...maskAttrs(site, x.size, lastDim(x)), bias: null }) as T;
  return tf.tidy(() => tf.mul(x, dropoutMask(x.shape, site)) as T);
}

/** The gradient through the same dropout: dy · mask / (1 − rate), or dy itself. */
export function dropoutBackward<T extends tf.Tensor>(dy: T, site: DropoutSite, context: Fused): T {
  return dropoutForward(dy, site, context);
}

/**
 * dropout(x + b) — a dense layer's bias (store index `bias`, or none) and the dropout after it
 * (`site`, or none) in one pass with the fused kernels.
 */
export function biasDropoutForward(x: tf.Tensor2D, bias: number | undefined, site: DropoutSite | undefined, context: LayerContext): tf.Tensor2D {
  if (bias === undefined && !active(site)) return x;
  if (context.fused) return biasDropout(x, { ...maskAttrs(site, x.size, lastDim(x)), bias: bias === undefined ? null : context.store.view(bias) }) as tf.Tensor2D;
  return tf.tidy(() => {
    const biased = bias === undefined ? x : (tf.add(x, context.store.tensor(bias)) as tf.Tensor2D);
    return site === undefined ? biased : dropoutForward(biased, site, { fused: false });
  });
}

/**
 * The backward of `biasDropoutForward`: returns dx = dy · mask (dy itself without dropout) and
 * adds the bias gradient Σ_rows dx into the gradient store.
 */
export function biasDropoutBackward(dy: tf.Tensor2D, bias: number | undefined, site: DropoutSite | undefined, context: BackwardContext): tf.Tensor2D {
  const fused = hostKernels()?.fused;
  if (context.fused && fused !== undefined) {
    const attrs = maskAttrs(site, dy.size, lastDim(dy));
    const [rows, cols] = [dy.shape[0], dy.shape[1]];
    const target = bias === undefined ? undefined : context.grads.target(bias);
    const dbias = target === undefined ? {} : { dbias: target.buffer, accumulateDbias: !target.assign };
    if (active(site)) return biasDropoutGrad(dy, { ...attrs, dbias: null, accumulateDbias: false, ...dbias }) as tf.Tensor2D;
    // No dropout: dx is dy; only the bias gradient is left, a column sum into the host buffer.
    if (target !== undefined) fused.biasDropoutBackward(tensorValues(dy), rows, cols, 0, null, attrs.groupRows, attrs.rowStride, null, target.buffer, !target.assign);
    return dy;
  }
  const dx = site === undefined ? dy : dropoutBackward(dy, site, { fused: false });
  if (bias !== undefined) tf.tidy(() => context.grads.addTensor(bias, tf.sum(dx, 0)));
  return dx;
}
