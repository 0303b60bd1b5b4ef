/**
 * What a layer needs to run: where its parameters are (host store, heap mirrors), whether it
 * trains (dropout), and, for the backward pass, where parameter gradients go.
 *
 * The models built from these layers do not use TF.js's autodiff tape: every layer has a
 * forward that returns its output plus the few tensors its backward needs, and a backward that
 * frees them, returns the input gradient and adds each parameter's gradient into the host
 * gradient store as soon as it is known (docs/design.md §6).
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostWeightsUsable } from '../backend/host.js';
import { deriveSeed } from '../core/random.js';
import type { GradientStore, ParameterStore } from '../train/store.js';

export interface LayerContext {
  readonly store: ParameterStore;
  readonly training: boolean;
  /** Weights may be read from the host arena directly (host kernels under wasm). */
  readonly hostWeights: boolean;
  /** The dropout seed of dropout site `site` of this pass (a pure function of the pass seed). */
  dropoutSeed(site: number): number;
}

export interface BackwardContext extends LayerContext {
  readonly grads: GradientStore;
}

export function layerContext(store: ParameterStore, training: boolean, passSeed: number, options: { hostWeights?: boolean } = {}): LayerContext {
  return {
    store,
    training,
    hostWeights: options.hostWeights ?? hostWeightsUsable(),
    dropoutSeed: (site) => deriveSeed(passSeed, site),
  };
}

export function backwardContext(context: LayerContext, grads: GradientStore): BackwardContext {
  return { ...context, grads };
}

/**
 * tf.tidy for a function returning a structure of tensors mixed with plain values (TF.js keeps
 * every tensor found in the result and frees the rest; it only types results made of tensors).
 */
export function tidy<T>(fn: () => T): T {
  return tf.tidy(fn as () => tf.TensorContainer) as T;
}
