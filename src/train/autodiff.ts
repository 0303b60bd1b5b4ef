/**
 * Models written with TF.js ops and trained through TF.js's autodiff: a user's tf.Variables and
 * loss, or a `tf.LayersModel` (tfjs-layers). Their gradients are added into the host buffers
 * like every other model's. The platform must have registered TF.js's gradient functions
 * (microbatch/node does; in a browser, import '@tensorflow/tfjs-core/dist/register_all_gradients').
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors.js';
import { deriveSeed } from '../core/random.js';
import { accumulateAutodiff, type NamedVariable } from './accumulator.js';
import { ParameterStore, type ArenaOptions } from './store.js';
import type { TrainableModel } from './types.js';

export interface AutodiffModelOptions<Sample> {
  params: readonly NamedVariable[];
  /** Loss items in `samples` (samples, or non-ignored tokens), without running the model. */
  countItems(samples: readonly Sample[], epoch: number): number;
  /**
   * Scalar SUM of the per-item losses over `samples` (called inside a gradient tape).
   * `dropoutSeed` makes dropout masks a pure function of the micro-batch's samples (it combines
   * their per-sample seeds), so a resumed or retried window sees the same masks; models without
   * dropout ignore it. A TF.js dropout draws one mask over the whole batch tensor, so it cannot
   * give each sample its own mask: with dropout, these models are not split-invariant (the
   * samples' masks change with the micro-batch size), unlike the task models.
   */
  lossSum(samples: readonly Sample[], training: boolean, dropoutSeed: number): tf.Scalar;
  /** Where the host copy of the parameters lives (shared memory for worker threads). */
  arena?: ArenaOptions;
}

/** A TrainableModel over tf.Variables; the variables always hold the current values. */
export function autodiffModel<Sample>(options: AutodiffModelOptions<Sample>): TrainableModel<Sample> {
  const parameters = ParameterStore.fromVariables(options.params, options.arena);
  return {
    parameters,
    countItems: (samples, epoch) => options.countItems(samples, epoch),
    accumulateGradients(samples, grads, pass) {
      const dropoutSeed = deriveSeed(...pass.dropoutSeeds);
      return accumulateAutodiff(parameters, grads, () => options.lossSum(samples, pass.training, dropoutSeed), pass.factor);
    },
  };
}

/** The part of a tfjs-layers `LayersModel` the adapter uses. */
export interface LayersModelLike {
  readonly trainableWeights: readonly { readonly name: string; read(): tf.Tensor }[];
  apply(inputs: tf.Tensor, kwargs: { training: boolean }): unknown;
}

/** A sample for a single-input, single-output LayersModel: features and target, as nested arrays. */
export interface LayersSample {
  x: number | number[] | number[][];
  y: number | number[];
}

/**
 * Per-item losses in Keras's `(yTrue, yPred)` form, e.g. `tf.metrics.meanSquaredError` or a
 * binary cross-entropy: a tensor of shape [samples] (one loss per sample).
 */
export type LossPerItem = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/**
 * A TrainableModel whose items are samples: lossSum = Σ lossPerItem(y, model(x)). Parameters
 * are `model.trainableWeights` (their variables, named by weight name, e.g. "dense_1/bias").
 * Dropout layers draw their own randomness in tfjs-layers, so `dropoutSeed` cannot make their
 * masks reproducible; use models without dropout where resumes and retries must be exact.
 */
export function fromLayersModel(model: LayersModelLike, lossPerItem: LossPerItem): TrainableModel<LayersSample> {
  const params: NamedVariable[] = model.trainableWeights.map((weight) => {
    const variable = weight.read();
    if (!(variable instanceof tf.Variable)) throw new ConfigError(`weight ${weight.name} is not backed by a tf.Variable`);
    return { name: weight.name, variable };
  });
  if (params.length === 0) throw new ConfigError('the LayersModel has no trainable weights');
  return autodiffModel<LayersSample>({
    params,
    countItems: (samples) => samples.length,
    lossSum(samples, training) {
      return tf.tidy(() => {
        const prediction = model.apply(tf.tensor(samples.map((sample) => sample.x)), { training });
        if (!(prediction instanceof tf.Tensor)) throw new ConfigError('fromLayersModel supports models with one output tensor');
        const targets = tf.tensor(samples.map((sample) => sample.y));
        // Scalar targets of a one-unit output ([n] vs [n, 1]) get the prediction's shape, as Keras does.
        const yTrue = targets.size === prediction.size ? tf.reshape(targets, prediction.shape) : targets;
        const losses = lossPerItem(yTrue, prediction);
        if (losses.rank !== 1 || losses.shape[0] !== samples.length) {
          throw new ConfigError(`lossPerItem must return one loss per sample (shape [${samples.length}]), got [${losses.shape}]`);
        }
        return tf.sum(losses) as tf.Scalar;
      });
    },
  });
}
