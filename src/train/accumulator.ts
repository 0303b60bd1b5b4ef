/**
 * Exact accumulation (docs/design.md §2, §4 step 1).
 *
 * Each micro-batch contributes ∇(Σ_{i ∈ micro} loss_i) · lossScale / |I(W)|, where |I(W)| is
 * the item count of the whole window, known before its first backward. Summed over the
 * window's micro-batches this is lossScale · ∇[Σ_{i ∈ I(W)} loss_i] / |I(W)| whatever the
 * split, which is what makes training independent of the micro-batch size.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors.js';
import type { HostParameter } from '../optim/types.js';
import { GradientStore, ParameterStore } from './store.js';
import type { TrainableModel, WindowWork } from './types.js';

/** A trainable tf.Variable with its HF-style name. */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

/**
 * Gradient accumulation for your own loop over tf.Variables (the Accelerate-style piece):
 * `accumulate` differentiates a micro-batch's loss SUM with TF.js's autodiff and adds the
 * result, divided by the window's item count, into host gradient buffers.
 */
export class GradientAccumulator {
  readonly parameters: ParameterStore;
  readonly gradients: GradientStore;

  constructor(params: readonly NamedVariable[]) {
    if (params.length === 0) throw new ConfigError('the model has no trainable parameters');
    this.parameters = ParameterStore.fromVariables(params);
    this.gradients = new GradientStore(this.parameters.layout);
  }

  /**
   * Forward and backward of one micro-batch: adds ∇(lossSumFn()) · lossScale / windowItemCount
   * into the buffers and frees every tensor it made. Returns the micro-batch's unscaled loss sum.
   */
  accumulate(lossSumFn: () => tf.Scalar, windowItemCount: number, lossScale = 1): number {
    return accumulateAutodiff(this.parameters, this.gradients, lossSumFn, normaliser(windowItemCount, lossScale));
  }

  /** Parameters with their gradients, for `optimizer.step`. */
  hostParameters(): HostParameter[] {
    return this.gradients.pairWith(this.parameters);
  }

  /** After `optimizer.step`: writes the new values into the variables and zeroes the gradients. */
  finishStep(): void {
    this.parameters.markUpdated();
    this.gradients.zero();
  }

  zero(): void {
    this.gradients.zero();
  }
}

/** lossScale / windowItemCount, checked. */
export function normaliser(windowItemCount: number, lossScale: number): number {
  if (!Number.isSafeInteger(windowItemCount) || windowItemCount < 1) {
    throw new ConfigError(`must be a positive integer, got ${String(windowItemCount)}`, { field: 'windowItemCount' });
  }
  if (!Number.isFinite(lossScale) || lossScale <= 0) throw new ConfigError(`must be a positive finite number, got ${String(lossScale)}`, { field: 'lossScale' });
  return lossScale / windowItemCount;
}

/**
 * TF.js autodiff of `lossSumFn() · factor` with respect to the variables the store was made from,
 * added into `grads`. Returns the unscaled loss sum. Parameters the loss does not reach get nothing.
 */
export function accumulateAutodiff(parameters: ParameterStore, grads: GradientStore, lossSumFn: () => tf.Scalar, factor: number): number {
  const variables = parameters.boundVariables();
  if (variables === undefined) throw new ConfigError('autodiff needs a parameter store made from tf.Variables (ParameterStore.fromVariables)');
  // Kept out of the tape's tidy so the unscaled value can be read after the backward.
  const kept: { lossSum?: tf.Scalar } = {};
  try {
    const { value, grads: computed } = tf.variableGrads(() => {
      kept.lossSum = tf.keep(lossSumFn());
      return tf.mul(kept.lossSum, factor) as tf.Scalar;
    }, [...variables]);
    try {
      variables.forEach((variable, index) => {
        const grad = computed[variable.name];
        if (grad !== undefined && grad !== null) grads.addTensor(index, grad);
      });
      return kept.lossSum!.dataSync()[0]!;
    } finally {
      value.dispose();
      tf.dispose(Object.values(computed).filter((grad) => grad !== null));
    }
  } finally {
    kept.lossSum?.dispose();
  }
}

/**
 * Runs the micro-batches of one window through `model`, adding their normalised, scaled
 * gradients into `grads` (docs/design.md §4 step 1). Returns the loss sum over all micro-batches.
 */
export function accumulateWindow<Sample>(
  grads: GradientStore,
  model: TrainableModel<Sample>,
  work: WindowWork<Sample>,
  onMicroBatch?: (microIndex: number, lossSum: number) => void,
): number {
  const { microBatches, dropoutSeeds } = work;
  if (dropoutSeeds.length !== microBatches.length) {
    throw new ConfigError(`expected dropout seeds for ${microBatches.length} micro-batches, got ${dropoutSeeds.length}`);
  }
  microBatches.forEach((samples, microIndex) => {
    const seeds = dropoutSeeds[microIndex]!.length;
    if (seeds !== samples.length) throw new ConfigError(`micro-batch ${microIndex} has ${samples.length} samples but ${seeds} dropout seeds (one per sample)`);
  });
  const factor = normaliser(work.itemCount, work.lossScale);
  let windowLossSum = 0;
  microBatches.forEach((samples, microIndex) => {
    const lossSum = model.accumulateGradients(samples, grads, { factor, training: true, dropoutSeeds: dropoutSeeds[microIndex]!, epoch: work.epoch });
    windowLossSum += lossSum;
    onMicroBatch?.(microIndex, lossSum);
  });
  return windowLossSum;
}
