/**
 * Seeded inverted dropout: the mask is a pure function of (shape, rate, seed), drawn by the one
 * random module, so the backward pass makes the same mask again instead of keeping it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fillDropoutMask } from '../core/random.js';

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

export function dropoutMask(shape: readonly number[], site: Omit<DropoutSite, 'training'>): tf.Tensor {
  const size = shape.reduce((product, dim) => product * dim, 1);
  if (site.firstOf === undefined) return tf.tensor(fillDropoutMask(new Float32Array(size), site.rate, site.seed), [...shape], 'float32');
  const { groups, rows } = site.firstOf;
  const rowSize = size / groups;
  const full = fillDropoutMask(new Float32Array(groups * rows * rowSize), site.rate, site.seed);
  const mask = new Float32Array(size);
  for (let group = 0; group < groups; group++) mask.set(full.subarray(group * rows * rowSize, group * rows * rowSize + rowSize), group * rowSize);
  return tf.tensor(mask, [...shape], 'float32');
}

/** x · mask / (1 − rate) while training with rate > 0; x itself otherwise (not a copy). */
export function dropoutForward<T extends tf.Tensor>(x: T, site: DropoutSite): T {
  if (!site.training || site.rate === 0) return x;
  return tf.tidy(() => tf.mul(x, dropoutMask(x.shape, site)) as T);
}

/** The gradient through the same dropout: dy · mask / (1 − rate), or dy itself. */
export function dropoutBackward<T extends tf.Tensor>(dy: T, site: DropoutSite): T {
  return dropoutForward(dy, site);
}
