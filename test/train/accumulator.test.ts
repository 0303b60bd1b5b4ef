/** GradientAccumulator, GradientStore, accumulateWindow, clipByGlobalNorm. */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../src/core/errors.js';
import { accumulateWindow, clipByGlobalNorm, GradientAccumulator, GradientStore, localEngine, ParamLayout } from '../../src/train/index.js';
import { maxRelativeDifference, useBackend } from '../helpers/backend.js';
import { linearRegression, regressionData, tokenData, tokenTagger } from './models.js';

test.before(() => useBackend('cpu'));

function flat(store: GradientStore): number[] {
  return store.views().flatMap((view) => Array.from(view));
}

test('accumulate adds ∇(loss sum) · scale / windowItemCount into host buffers and returns the unscaled loss sum', () => {
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
  assert.ok(maxRelativeDifference(flat(accumulator.gradients), [(19 * 4) / 3, (8 * 4) / 3, 0, 0]) < 1e-6);
  assert.equal(accumulator.gradients.allFinite(), true);
  accumulator.gradients.scale(1 / 4);
  assert.ok(maxRelativeDifference(flat(accumulator.gradients), [19 / 3, 8 / 3, 0, 0]) < 1e-6);
  accumulator.zero();
  assert.deepEqual(flat(accumulator.gradients), [0, 0, 0, 0]);
  accumulator.gradients.add(0, Float32Array.of(Number.POSITIVE_INFINITY));
  assert.equal(accumulator.gradients.allFinite(), false);
  accumulator.gradients.zero();
  accumulator.gradients.add(2, Float32Array.of(0, Number.NaN));
  assert.equal(accumulator.gradients.allFinite(), false);
  tf.dispose([w, b, unused]);
});

test('finishStep writes the optimizer\'s host values back into the variables', () => {
  const v = tf.variable(tf.tensor1d([1, 2]), true);
  const accumulator = new GradientAccumulator([{ name: 'v', variable: v }]);
  accumulator.accumulate(() => tf.sum(tf.square(v)) as tf.Scalar, 1);
  const [param] = accumulator.hostParameters();
  assert.deepEqual(Array.from(param!.grad), [2, 4]);
  param!.values[0] = 7;
  accumulator.finishStep();
  assert.deepEqual(Array.from(v.dataSync()), [7, 2]);
  assert.equal(accumulator.gradients.isZero(0), true);
  v.dispose();
});

test('the gradient store checks sizes; the accumulator checks its normaliser', () => {
  const v = tf.variable(tf.zeros([2, 2]), true);
  const accumulator = new GradientAccumulator([{ name: 'v', variable: v }]);
  assert.throws(() => accumulator.gradients.add(0, new Float32Array(3)), ConfigError);
  assert.throws(() => accumulator.accumulate(() => tf.sum(v) as tf.Scalar, 0), ConfigError);
  assert.throws(() => accumulator.accumulate(() => tf.sum(v) as tf.Scalar, 2, Number.NaN), ConfigError);
  assert.throws(() => new GradientAccumulator([]), ConfigError);
  v.dispose();
});

test('a lazily zeroed store assigns its first contribution, accumulates the next, and reads zeros when untouched', () => {
  const store = new GradientStore(new ParamLayout([{ name: 'a', shape: [2] }, { name: 'b', shape: [1] }]));
  store.add(0, Float32Array.of(1, 2));
  store.add(0, Float32Array.of(10, 20), 0.5);
  assert.deepEqual(flat(store), [6, 12, 0]);
  store.zero();
  const { buffer, assign } = store.target(1);
  assert.equal(assign, true, 'a zeroed buffer is assigned, not added to');
  buffer[0] = 3;
  assert.equal(store.target(1).assign, false);
  assert.deepEqual(flat(store), [0, 0, 3]);
  assert.equal(store.sumSquares(), 9);
});

test('shares of a window computed into separate stores and added equal the local window gradient', async () => {
  const model = tokenTagger(10, 4, 3, 2);
  const data = tokenData(9, 10, 3, 6, 5);
  const microBatches = [data.slice(0, 4), data.slice(4, 7), data.slice(7)];
  const itemCount = model.countItems(data, 0);
  const work = { microBatches, itemCount, lossScale: 8, dropoutSeeds: microBatches.map((samples, j) => samples.map((_, i) => 11 + 10 * j + i)), epoch: 0 };

  const local = new GradientStore(model.parameters.layout);
  const localLoss = (await localEngine(model).computeWindow(local, work)).lossSum;

  // Two "workers": micro-batches {0, 1} and {2}.
  const shareA = new GradientStore(model.parameters.layout);
  const shareB = new GradientStore(model.parameters.layout);
  const lossA = accumulateWindow(shareA, model, { ...work, microBatches: microBatches.slice(0, 2), dropoutSeeds: work.dropoutSeeds.slice(0, 2) });
  const lossB = accumulateWindow(shareB, model, { ...work, microBatches: microBatches.slice(2), dropoutSeeds: work.dropoutSeeds.slice(2) });
  const pooled = new GradientStore(model.parameters.layout);
  pooled.addStore(shareA);
  pooled.addStore(shareB);

  assert.ok(Math.abs(lossA + lossB - localLoss) <= 1e-5 * Math.abs(localLoss));
  assert.ok(maxRelativeDifference(flat(pooled), flat(local), 1e-3) <= 1e-6);
  model.dispose();
});

test('accumulateWindow needs the dropout seeds of every micro-batch, one per sample', () => {
  const model = linearRegression(2, 1);
  const data = regressionData(4, 2, 1);
  const grads = new GradientStore(model.parameters.layout);
  const work = { microBatches: [data.slice(0, 2), data.slice(2)], itemCount: 4, lossScale: 1, epoch: 0 };
  assert.throws(() => accumulateWindow(grads, model, { ...work, dropoutSeeds: [[1, 2]] }), /dropout seeds for 2 micro-batches, got 1/);
  assert.throws(() => accumulateWindow(grads, model, { ...work, dropoutSeeds: [[1, 2], [3]] }), /micro-batch 1 has 2 samples but 1 dropout seeds/);
  assert.throws(() => accumulateWindow(grads, model, { ...work, dropoutSeeds: [[1, 2], [3]] }), ConfigError);
  model.dispose();
});

test('clipByGlobalNorm scales in place by maxNorm / (norm + 1e-6) like clip_grad_norm_', () => {
  const layout = new ParamLayout([{ name: 'a', shape: [2] }, { name: 'b', shape: [1, 1] }]);
  const fill = () => {
    const store = new GradientStore(layout);
    store.add(0, Float32Array.of(3, 0));
    store.add(1, Float32Array.of(4)); // global norm 5
    return store;
  };
  const clipped = fill();
  const result = clipByGlobalNorm(clipped, 1);
  assert.equal(result.norm, 5);
  assert.equal(result.clipped, true);
  const coefficient = Math.fround(1 / (5 + 1e-6));
  assert.ok(maxRelativeDifference(flat(clipped), [3 * coefficient, 0, 4 * coefficient]) < 1e-6);
  for (const maxNorm of [0, Number.POSITIVE_INFINITY, 10]) {
    const store = fill();
    assert.equal(clipByGlobalNorm(store, maxNorm).norm, 5);
    assert.deepEqual(flat(store), [3, 0, 4], `maxNorm ${maxNorm} leaves the gradient as is`);
  }
  assert.throws(() => clipByGlobalNorm(fill(), -1), ConfigError);
  assert.throws(() => clipByGlobalNorm(fill(), Number.NaN), ConfigError);
  const infinite = new GradientStore(layout);
  infinite.add(0, Float32Array.of(Number.POSITIVE_INFINITY, 1));
  const outcome = clipByGlobalNorm(infinite, 1);
  assert.equal(outcome.norm, Number.POSITIVE_INFINITY);
  assert.deepEqual(flat(infinite), [Number.POSITIVE_INFINITY, 1, 0], 'a non-finite norm is reported, not applied');
});

test('the global norm sums squares in float64 (no float32 overflow across parameters)', () => {
  const store = new GradientStore(new ParamLayout([{ name: 'a', shape: [1] }, { name: 'b', shape: [1] }]));
  store.add(0, Float32Array.of(1.5e19));
  store.add(1, Float32Array.of(1.5e19)); // each square fits float32, their sum does not
  assert.ok(Math.abs(clipByGlobalNorm(store, 0).norm - Math.SQRT2 * Math.fround(1.5e19)) / 1.5e19 < 1e-6);
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
  assert.deepEqual(flat(accumulator.gradients), [3, 3, 0]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([trained, frozen]);
});
