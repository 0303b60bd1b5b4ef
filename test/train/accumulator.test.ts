/** GradientAccumulator, accumulateWindow / computeWindowGradients, clipByGlobalNorm / globalNorm. */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../src/core/errors.js';
import {
  accumulateWindow,
  clipByGlobalNorm,
  computeWindowGradients,
  globalNorm,
  GradientAccumulator,
  localEngine,
} from '../../src/train/index.js';
import { maxRelativeDifference, useBackend } from '../helpers/backend.js';
import { linearRegression, regressionData, tokenData, tokenTagger } from './models.js';

test.before(() => useBackend('cpu'));

async function values(tensors: readonly tf.Tensor[]): Promise<number[]> {
  const parts = await Promise.all(tensors.map((tensor) => tensor.data()));
  return parts.flatMap((part) => Array.from(part));
}

test('accumulate adds ∇(loss sum) · scale / windowItemCount and returns the unscaled loss sum', async () => {
  // loss = Σ ½ (x·w + b − y)² with w = [[2]], b = [0]: ∂/∂w = Σ (2x − y) x, ∂/∂b = Σ (2x − y).
  const w = tf.variable(tf.tensor2d([[2]]), true, 'acc_w');
  const b = tf.variable(tf.tensor1d([0]), true, 'acc_b');
  const unused = tf.variable(tf.tensor1d([5, 5]), true, 'acc_unused');
  const params = [
    { name: 'w', variable: w },
    { name: 'b', variable: b },
    { name: 'unused', variable: unused },
  ];
  const lossFor = (xs: number[], ys: number[]) => () =>
    tf.tidy(() => {
      const residual = tf.sub(tf.add(tf.mul(tf.tensor1d(xs), tf.reshape(w, [1])), b), tf.tensor1d(ys));
      return tf.mul(0.5, tf.sum(tf.square(residual))) as tf.Scalar;
    });
  const accumulator = new GradientAccumulator(params);
  const before = tf.memory().numTensors;
  // Window of 3 items split 2 + 1, with loss scale 4.
  const first = accumulator.accumulate(lossFor([1, 2], [1, 1]), 3, 4);
  const second = accumulator.accumulate(lossFor([3], [2]), 3, 4);
  assert.equal(tf.memory().numTensors, before, 'accumulate frees everything it made');
  assert.equal(first, 0.5 * (1 + 9));
  assert.equal(second, 0.5 * 16);
  // Σ (2x − y) x = 1 + 6 + 12 = 19; Σ (2x − y) = 1 + 3 + 4 = 8.
  assert.ok(maxRelativeDifference(await values(accumulator.gradients()), [(19 * 4) / 3, (8 * 4) / 3, 0, 0]) < 1e-6);
  assert.equal(accumulator.allFinite(), true);
  accumulator.unscale(4);
  assert.ok(maxRelativeDifference(await values(accumulator.gradients()), [19 / 3, 8 / 3, 0, 0]) < 1e-6);
  accumulator.zero();
  assert.deepEqual(await values(accumulator.gradients()), [0, 0, 0, 0]);
  const infinite = tf.tensor2d([[Number.POSITIVE_INFINITY]]);
  accumulator.addGradients([infinite, new Float32Array([1]), new Float32Array([0, 0])]);
  assert.equal(accumulator.allFinite(), false);
  accumulator.dispose();
  tf.dispose([w, b, unused, infinite]);
});

test('addGradients checks counts and shapes, and frees only what it created', () => {
  const v = tf.variable(tf.zeros([2, 2]), true);
  const accumulator = new GradientAccumulator([{ name: 'v', variable: v }]);
  assert.throws(() => accumulator.addGradients([]), ConfigError);
  assert.throws(() => accumulator.addGradients([new Float32Array(3)]), ConfigError);
  const wrongShape = tf.zeros([4]);
  assert.throws(() => accumulator.addGradients([wrongShape]), ConfigError);
  const grad = tf.ones([2, 2]);
  accumulator.addGradients([grad]);
  assert.equal(grad.isDisposed, false, "the caller's tensor stays the caller's");
  assert.throws(() => accumulator.accumulate(() => tf.sum(v) as tf.Scalar, 0), ConfigError);
  assert.throws(() => accumulator.accumulate(() => tf.sum(v) as tf.Scalar, 2, Number.NaN), ConfigError);
  assert.throws(() => new GradientAccumulator([]), ConfigError);
  tf.dispose([wrongShape, grad, v]);
  accumulator.dispose();
});

test('computeWindowGradients shares, added with addGradients, equal the local window gradient', async () => {
  const model = tokenTagger(10, 4, 3, 2);
  const data = tokenData(9, 10, 3, 6, 5);
  const microBatches = [data.slice(0, 4), data.slice(4, 7), data.slice(7)];
  const itemCount = model.countItems(data);
  const seeds = [11, 12, 13];

  const local = new GradientAccumulator(model.params);
  const localLoss = (await localEngine(model).computeWindow(local, microBatches, itemCount, 8, seeds)).lossSum;

  // Two "workers": micro-batches {0, 1} and {2}.
  const pooled = new GradientAccumulator(model.params);
  const shareA = await computeWindowGradients(model, microBatches.slice(0, 2), itemCount, 8, seeds.slice(0, 2));
  const shareB = await computeWindowGradients(model, microBatches.slice(2), itemCount, 8, seeds.slice(2));
  pooled.addGradients(shareA.gradients);
  pooled.addGradients(shareB.gradients);

  assert.ok(Math.abs(shareA.lossSum + shareB.lossSum - localLoss) <= 1e-5 * Math.abs(localLoss));
  assert.ok(maxRelativeDifference(await values(pooled.gradients()), await values(local.gradients()), 1e-3) <= 1e-6);
  local.dispose();
  pooled.dispose();
  model.dispose();
});

test('accumulateWindow needs one dropout seed per micro-batch', () => {
  const model = linearRegression(2, 1);
  const accumulator = new GradientAccumulator(model.params);
  const data = regressionData(4, 2, 1);
  assert.throws(() => accumulateWindow(accumulator, model, [data.slice(0, 2), data.slice(2)], 4, 1, [1]), ConfigError);
  accumulator.dispose();
  model.dispose();
});

test('clipByGlobalNorm scales by maxNorm / (norm + 1e-6) like clip_grad_norm_', async () => {
  const grads = [tf.tensor1d([3, 0]), tf.tensor2d([[4]])]; // global norm 5
  const before = tf.memory().numTensors;
  const clipped = clipByGlobalNorm(grads, 1);
  assert.equal(clipped.norm, 5);
  const coefficient = 1 / (5 + 1e-6);
  assert.ok(maxRelativeDifference(await values(clipped.grads), [3 * coefficient, 0, 4 * coefficient]) < 1e-6);
  assert.deepEqual(await values(grads), [3, 0, 4], 'inputs untouched');
  tf.dispose(clipped.grads);
  assert.equal(tf.memory().numTensors, before);

  for (const maxNorm of [0, Number.POSITIVE_INFINITY, 10]) {
    const result = clipByGlobalNorm(grads, maxNorm);
    assert.equal(result.norm, 5);
    assert.deepEqual(await values(result.grads), [3, 0, 4], `maxNorm ${maxNorm} leaves the gradient as is`);
    tf.dispose(result.grads);
  }
  assert.throws(() => clipByGlobalNorm(grads, -1), ConfigError);
  assert.throws(() => clipByGlobalNorm(grads, Number.NaN), ConfigError);

  const infinite = [tf.tensor1d([Number.POSITIVE_INFINITY, 1])];
  const result = clipByGlobalNorm(infinite, 1);
  assert.equal(result.norm, Number.POSITIVE_INFINITY);
  assert.deepEqual(await values(result.grads), [Number.POSITIVE_INFINITY, 1], 'a non-finite norm is reported, not applied');
  tf.dispose([...result.grads, ...infinite, ...grads]);
});

test('globalNorm sums squares in float64 (no float32 overflow across tensors)', () => {
  const big = [tf.tensor1d([1.5e19]), tf.tensor1d([1.5e19])]; // each square fits float32, their sum does not
  assert.ok(Math.abs(globalNorm(big) - Math.SQRT2 * 1.5e19) / 1.5e19 < 1e-6);
  assert.equal(globalNorm([]), 0);
  tf.dispose(big);
});

test('a frozen (non-trainable) parameter gets a zero gradient', () => {
  const trained = tf.variable(tf.tensor1d([1, 2]), true);
  const frozen = tf.variable(tf.tensor1d([3]), false);
  const accumulator = new GradientAccumulator([
    { name: 'trained', variable: trained },
    { name: 'frozen', variable: frozen },
  ]);
  const before = tf.memory().numTensors;
  const lossSum = accumulator.accumulate(() => tf.sum(tf.mul(trained, frozen)) as tf.Scalar, 1);
  assert.equal(lossSum, 9);
  assert.deepEqual(Array.from(accumulator.gradients()[0]!.dataSync()), [3, 3]);
  assert.deepEqual(Array.from(accumulator.gradients()[1]!.dataSync()), [0]);
  assert.equal(tf.memory().numTensors, before);
  accumulator.dispose();
  tf.dispose([trained, frozen]);
});
