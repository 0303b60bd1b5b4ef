/**
 * What a layer needs to run: where its parameters are (host store, heap mirrors), whether it
 * trains (dropout), which kernels it may use, the matMul precision, and, for the backward pass,
 * where parameter gradients go.
 *
 * The models built from these layers do not use TF.js's autodiff tape: every layer has a
 * forward that returns its output plus the few tensors its backward needs, and a backward that
 * frees them, returns the input gradient and adds each parameter's gradient into the host
 * gradient store as soon as it is known (docs/design.md §6).
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostBf16Usable, hostWeightsUsable } from '../backend/host.js';
import { fusedKernelsUsable } from '../backend/hostLayers.js';
import { ConfigError } from '../core/errors.js';
import { deriveSeed } from '../core/random.js';
import type { GradientStore, ParameterStore } from '../train/store.js';

/**
 * The precision of every matrix product of a model (dense forward, input and weight gradients,
 * the attention products): 'fp32', or 'bf16' — `torch.autocast('cpu', dtype=torch.bfloat16)`:
 * both operands rounded to bfloat16, products accumulated and returned in float32. Master
 * weights, gradient buffers, optimizer state, LayerNorm, softmax, activations, dropout, the loss
 * and every reduction stay float32 (or float64) either way.
 */
export type Precision = 'fp32' | 'bf16';
export const PRECISIONS: readonly Precision[] = ['fp32', 'bf16'];

export function parsePrecision(value: unknown, field = 'precision'): Precision {
  if (value === 'fp32' || value === 'bf16') return value;
  throw new ConfigError(`must be one of ${PRECISIONS.join(', ')}, got ${JSON.stringify(value)}`, { field });
}

export interface LayerContext {
  readonly store: ParameterStore;
  readonly training: boolean;
  /** Weights may be read from the host arena directly (host kernels under wasm). */
  readonly hostWeights: boolean;
  /**
   * The fused layer kernels may be used (host kernels under wasm, src/backend/hostLayers.ts):
   * bias + GELU, residual + LayerNorm, scale + mask + softmax, bias + dropout in one pass each.
   * Otherwise each layer runs the same math as TF.js ops.
   */
  readonly fused: boolean;
  readonly precision: Precision;
  /** bf16 products may run on the host's `sgemmBf16` (else: operands rounded, then fp32 products). */
  readonly hostBf16: boolean;
  /**
   * The dropout seeds of site `site` (nn/dropout.ts `DropoutSite.seeds`): `groupsPerSample`
   * consecutive seeds per sample of the pass, in sample order — deriveSeed(sample seed, site), or
   * deriveSeed(sample seed, site, k) for the k-th group of a sample (an attention head) when a
   * sample has several. Each is a pure function of its sample's seed, so a sample's masks do not
   * depend on the micro-batch it is in.
   */
  dropoutSeeds(site: number, groupsPerSample?: number): readonly number[];
}

export interface BackwardContext extends LayerContext {
  readonly grads: GradientStore;
}

export interface LayerContextOptions {
  /** Default: whether the host weight kernels are usable now. */
  hostWeights?: boolean;
  /** Default: whether the fused layer kernels are usable now. */
  fused?: boolean;
  /** Default 'fp32'. */
  precision?: Precision;
}

/** `sampleSeeds`: one dropout seed per sample of the pass (PassOptions.dropoutSeeds; none when not training). */
export function layerContext(store: ParameterStore, training: boolean, sampleSeeds: readonly number[], options: LayerContextOptions = {}): LayerContext {
  const hostWeights = options.hostWeights ?? hostWeightsUsable();
  return {
    store,
    training,
    hostWeights,
    fused: options.fused ?? fusedKernelsUsable(),
    precision: options.precision ?? 'fp32',
    hostBf16: hostWeights && hostBf16Usable(),
    dropoutSeeds: (site, groupsPerSample = 1) =>
      groupsPerSample === 1 ? sampleSeeds.map((seed) => deriveSeed(seed, site)) : sampleSeeds.flatMap((seed) => Array.from({ length: groupsPerSample }, (_, group) => deriveSeed(seed, site, group))),
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
