/** fromLayersModel: a tfjs-layers model trains through fit, exactly and split invariantly. */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from '../../src/core/errors.js';
import { createOptimizer } from '../../src/optim/index.js';
import { fit, fromLayersModel, GradientStore, type LayersSample } from '../../src/train/index.js';
import { maxRelativeDifference, useBackend } from '../helpers/backend.js';
import { regressionData } from './models.js';

test.before(() => useBackend('cpu'));

function smallNetwork(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 6, inputShape: [3], activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

const data: LayersSample[] = regressionData(53, 3, 8).map(({ x, y }) => ({ x, y }));

async function train(microBatch: number): Promise<{ params: Float32Array; losses: number[]; names: string[] }> {
  const network = smallNetwork();
  const model = fromLayersModel(network, tfl.metrics.meanSquaredError);
  const optimizer = createOptimizer({ kind: 'adamw', weightDecay: 0.01 });
  const losses: number[] = [];
  try {
    await fit({
      model,
      data,
      epochs: 3,
      microBatch,
      batch: 16,
      seed: 2,
      optimizer,
      lr: 0.02,
      callbacks: { onEpochEnd: (summary) => void losses.push(summary.loss!) },
    });
    const params = new Float32Array(model.parameters.entries.flatMap((entry) => Array.from(model.parameters.view(entry.index))));
    return { params, losses, names: model.parameters.entries.map(({ name }) => name) };
  } finally {
    optimizer.dispose();
    network.dispose();
  }
}

test('a tf.sequential trains through fromLayersModel, independent of the micro-batch size', async () => {
  const whole = await train(16);
  assert.equal(whole.names.length, 4);
  assert.ok(whole.names.every((name) => /kernel$|bias$/.test(name)), whole.names.join(', '));
  assert.ok(whole.losses[2]! < whole.losses[0]!, `loss goes down: ${whole.losses}`);
  for (const microBatch of [1, 5]) {
    const split = await train(microBatch);
    assert.ok(maxRelativeDifference(split.params, whole.params, 1e-2) <= 1e-5, `micro-batch ${microBatch}`);
  }
});

test('the loss sum is Σ lossPerItem over the samples', () => {
  const network = smallNetwork();
  const model = fromLayersModel(network, tfl.metrics.meanSquaredError);
  const samples = data.slice(0, 4);
  const lossSum = model.accumulateGradients(samples, new GradientStore(model.parameters.layout), { factor: 1, training: false, dropoutSeeds: samples.map(() => 0), epoch: 0 });
  const prediction = network.predict(tf.tensor2d(samples.map((sample) => sample.x as number[]))) as tf.Tensor;
  const predicted = prediction.dataSync();
  const expected = samples.reduce((sum, sample, index) => sum + (predicted[index]! - (sample.y as number)) ** 2, 0);
  assert.ok(Math.abs(lossSum - expected) <= 1e-5 * expected);
  assert.equal(model.countItems(samples, 0), 4);
  tf.dispose(prediction);
  network.dispose();
});

test('fromLayersModel rejects models without weights and losses of the wrong shape', () => {
  const empty = tfl.sequential({ layers: [tfl.layers.activation({ activation: 'relu', inputShape: [2] })] });
  assert.throws(() => fromLayersModel(empty, tfl.metrics.meanSquaredError), ConfigError);
  const network = smallNetwork();
  const model = fromLayersModel(network, (yTrue, yPred) => tf.sub(yTrue, yPred));
  assert.throws(() => model.accumulateGradients(data.slice(0, 3), new GradientStore(model.parameters.layout), { factor: 1, training: true, dropoutSeeds: [0, 0, 0], epoch: 0 }), ConfigError);
  network.dispose();
  empty.dispose();
});
