/**
 * Seeded inverted dropout: the mask is a pure function of (shape, rate, seed), drawn by the one
 * random module, so the backward pass makes the same mask again instead of keeping it. With the
 * fused kernels (context.fused) the mask is drawn inside the kernel — the very same values, never
 * materialised — and a preceding bias add and the bias gradient share the pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import { biasDropout, biasDropoutGrad, type DropoutMaskAttrs } from '../backend/kernels/biasDropout.js';
import { tensorValues } from '../backend/transfer.js';
import { hostKernels } from '../core/host.js';
import { checkProbability, dropoutStreamState, fillDropoutMask } from '../core/random.js';
import type { BackwardContext, LayerContext } from './context.js';

export interface DropoutSite {
  rate: number;
  training: boolean;
  seed: number;
  /**
   * The tensor is row 0 of each of `groups` groups of `rows` rows of a larger one (a layer that
   * computes the first position only): its mask is the same rows of the larger tensor's mask,
   * so skipping the other positions changes nothing.
   */
  firstOf?: { groups: number; rows: number };
}

type Fused = Pick<LayerContext, 'fused'>;

export function dropoutMask(shape: readonly number[], site: Omit<DropoutSite, 'training'>): tf.Tensor {
  const size = shape.reduce((product, dim) => product * dim, 1);
  const mask = new Float32Array(size);
  if (site.firstOf === undefined) return tf.tensor(fillDropoutMask(mask, site.rate, site.seed), [...shape], 'float32');
  const { groups, rows } = site.firstOf;
  const rowSize = size / groups;
  for (let group = 0; group < groups; group++) fillDropoutMask(mask.subarray(group * rowSize, (group + 1) * rowSize), site.rate, site.seed, group * rows * rowSize);
  return tf.tensor(mask, [...shape], 'float32');
}

function active(site: DropoutSite | undefined): site is DropoutSite {
  return site !== undefined && site.training && site.rate > 0;
}

/**
 * The fused kernels' description of the mask of `site` over a tensor of `size` elements with
 * `cols` columns (rate 0 when inactive), or undefined when a `firstOf` group does not hold whole
 * rows (the kernels read the mask row by row; the layers never make such shapes).
 */
function maskAttrs(site: DropoutSite | undefined, size: number, cols: number): DropoutMaskAttrs | undefined {
  const rows = cols === 0 ? 0 : size / cols;
  if (!active(site)) return { rate: 0, seed: 0, groupRows: Math.max(rows, 1), groupRowStride: Math.max(rows, 1) };
  checkProbability('dropout rate', site.rate);
  const seed = dropoutStreamState(site.seed);
  if (site.firstOf === undefined) return { rate: site.rate, seed, groupRows: Math.max(rows, 1), groupRowStride: Math.max(rows, 1) };
  const rowSize = size / site.firstOf.groups;
  if (cols === 0 || rowSize % cols !== 0) return undefined;
  const groupRows = rowSize / cols;
  return { rate: site.rate, seed, groupRows, groupRowStride: site.firstOf.rows * groupRows };
}

function lastDim(x: tf.Tensor): number {
  return x.shape[x.shape.length - 1]!;
}

/** x · mask / (1 − rate) while training with rate > 0; x itself otherwise (not a copy). */
export function dropoutForward<T extends tf.Tensor>(x: T, site: DropoutSite, context: Fused): T {
  if (!active(site)) return x;
  const attrs = context.fused ? maskAttrs(site, x.size, lastDim(x)) : undefined;
  if (attrs !== undefined) return biasDropout(x, { ...attrs, bias: null }) as T;
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
  const attrs = context.fused ? maskAttrs(site, x.size, lastDim(x)) : undefined;
  if (attrs !== undefined) return biasDropout(x, { ...attrs, bias: bias === undefined ? null : context.store.view(bias) }) as tf.Tensor2D;
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
  const attrs = context.fused && fused !== undefined ? maskAttrs(site, dy.size, lastDim(dy)) : undefined;
  if (attrs !== undefined && fused !== undefined) {
    const [rows, cols] = [dy.shape[0], dy.shape[1]];
    const target = bias === undefined ? undefined : context.grads.target(bias);
    const dbias = target === undefined ? {} : { dbias: target.buffer, accumulateDbias: !target.assign };
    if (active(site)) return biasDropoutGrad(dy, { ...attrs, dbias: null, accumulateDbias: false, ...dbias }) as tf.Tensor2D;
    // No dropout: dx is dy; only the bias gradient is left, a column sum into the host buffer.
    if (target !== undefined) fused.biasDropoutBackward(tensorValues(dy), rows, cols, 0, 0, attrs.groupRows, attrs.groupRowStride, null, target.buffer, !target.assign);
    return dy;
  }
  const dx = site === undefined ? dy : dropoutBackward(dy, site, { fused: false });
  if (bias !== undefined) tf.tidy(() => context.grads.addTensor(bias, tf.sum(dx, 0)));
  return dx;
}
