/**
 * LossScaler unit behaviour (GradScaler semantics) and its use by `fit`: a window whose scaled
 * gradient overflows is skipped (policy 'skip') or recomputed at the lower scale ('retry'),
 * the scale is updated once per window, and clipping on unscaled gradients makes a scaled run
 * equal an unscaled one.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../src/core/errors.js';
import { createOptimizer } from '../../src/optim/index.js';
import { autodiffModel, fit, LossScaler, type LossScalerOptions, type MicroBatchEvent, type NamedVariable, type StepEvent, type TrainableModel } from '../../src/train/index.js';
import { maxRelativeDifference, useBackend } from '../helpers/backend.js';
import { flatParams, linearRegression, regressionData } from './models.js';

test.before(() => useBackend('cpu'));

test('a disabled scaler has scale 1 and never changes', () => {
  const scaler = new LossScaler();
  assert.equal(scaler.enabled, false);
  assert.equal(scaler.scale, 1);
  scaler.update(true);
  scaler.update(false);
  assert.equal(scaler.scale, 1);
  assert.equal(scaler.getState().growthTracker, 0);
});

test('an enabled scaler starts at 2^16, backs off by half and grows after the interval', () => {
  const scaler = new LossScaler({ enabled: true, growthInterval: 3 });
  assert.equal(scaler.scale, 2 ** 16);
  scaler.update(true);
  assert.equal(scaler.scale, 2 ** 15);
  scaler.update(false);
  scaler.update(false);
  assert.equal(scaler.scale, 2 ** 15);
  scaler.update(true); // an overflow restarts the count
  scaler.update(false);
  scaler.update(false);
  assert.equal(scaler.scale, 2 ** 14);
  scaler.update(false);
  assert.equal(scaler.scale, 2 ** 15);
  assert.equal(scaler.getState().growthTracker, 0);
});

test('GradScaler defaults and a state round trip', () => {
  const scaler = new LossScaler({ enabled: true });
  assert.deepEqual(scaler.getState(), {
    enabled: true,
    scale: 65536,
    growthFactor: 2,
    backoffFactor: 0.5,
    growthInterval: 2000,
    growthTracker: 0,
    onOverflow: 'skip',
    maxRetries: 8,
  });
  scaler.update(false);
  const copy = new LossScaler();
  copy.setState(JSON.parse(JSON.stringify(scaler.getState())));
  assert.deepEqual(copy.getState(), scaler.getState());
  assert.equal(copy.scale, 65536);
});

test('bad scaler options and states are ConfigErrors', () => {
  const bad: LossScalerOptions[] = [
    { initScale: 0 },
    { initScale: Number.NaN },
    { growthFactor: 1 },
    { backoffFactor: 1 },
    { backoffFactor: 0 },
    { growthInterval: 0 },
    { growthInterval: 1.5 },
    { maxRetries: -1 },
    { onOverflow: 'ignore' as never },
  ];
  for (const options of bad) assert.throws(() => new LossScaler(options), ConfigError, JSON.stringify(options));
  const scaler = new LossScaler();
  assert.throws(() => scaler.setState({ ...scaler.getState(), growthTracker: 2000 }), ConfigError);
});

/**
 * A sample of the probe model: `overflow` adds `weight × w0` to the loss. Its scaled gradient
 * `weight · scale / |W|` overflows float32 at scale 2^120 when weight/|W| = 300, yet is finite
 * (3·10^2 unscaled) at 2^119 — an overflow caused by the scale alone, as in mixed precision.
 * `poison` adds sqrt(w0 − w0), whose value is 0 but whose gradient is NaN at any scale.
 */
interface Probe {
  x: number;
  y: number;
  overflow?: number;
  poison?: boolean;
}

function probeModel(): TrainableModel<Probe> & { params: NamedVariable[]; dispose(): void } {
  const initial = tf.tensor1d([0.5, -0.25]);
  const params: NamedVariable[] = [{ name: 'probe.weight', variable: tf.variable(initial, true) }];
  initial.dispose();
  const w = params[0]!.variable;
  const model = autodiffModel<Probe>({
    params,
    countItems: (samples) => samples.length,
    lossSum: (samples) =>
      tf.tidy(() => {
        const x = tf.tensor1d(samples.map((sample) => sample.x));
        const y = tf.tensor1d(samples.map((sample) => sample.y));
        const w0 = tf.slice(w, [0], [1]);
        const prediction = tf.add(tf.mul(x, w0), tf.slice(w, [1], [1]));
        let loss = tf.mul(0.5, tf.sum(tf.square(tf.sub(prediction, y))));
        const overflow = samples.reduce((sum, sample) => sum + (sample.overflow ?? 0), 0);
        if (overflow !== 0) loss = tf.add(loss, tf.sum(tf.mul(overflow, w0)));
        if (samples.some((sample) => sample.poison === true)) loss = tf.add(loss, tf.sum(tf.sqrt(tf.sub(w0, w0))));
        return loss as tf.Scalar;
      }),
  });
  return { ...model, params, dispose: () => w.dispose() };
}

/** 8 samples, windows of 4 (micro-batches of 2, no shuffle): sample 5 sits in window 1. */
function probeData(special: Partial<Probe>): Probe[] {
  return Array.from({ length: 8 }, (_, index) => ({ x: index / 4, y: 1 - index / 8, ...(index === 5 ? special : {}) }));
}

async function runProbe(data: Probe[], scaler: LossScaler | undefined) {
  const model = probeModel();
  const optimizer = createOptimizer({ kind: 'sgd' });
  const steps: StepEvent[] = [];
  const micro: MicroBatchEvent[] = [];
  const afterStep: Float32Array[] = [];
  try {
    const result = await fit({
      model,
      data,
      epochs: 1,
      microBatch: 2,
      batch: 4,
      shuffle: false,
      optimizer,
      lr: 1e-3,
      scaler,
      callbacks: {
        onMicroBatch: (event) => void micro.push(event),
        onStep: (event) => {
          steps.push(event);
          afterStep.push(flatParams(model.params));
        },
      },
    });
    return { result, steps, micro, afterStep, params: flatParams(model.params) };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

test("'skip': an overflowing window is skipped, reported and the scale halved", async () => {
  const scaler = new LossScaler({ enabled: true, initScale: 2 ** 120, onOverflow: 'skip' });
  const run = await runProbe(probeData({ overflow: 300 * 4 }), scaler);
  assert.deepEqual(
    run.steps.map((step) => [step.skipped, step.lossScale]),
    [
      [false, 2 ** 120],
      [true, 2 ** 120],
    ],
  );
  assert.ok(Number.isNaN(run.steps[1]!.gradNorm));
  assert.deepEqual(run.afterStep[1], run.afterStep[0], 'the skipped window left the weights alone');
  assert.equal(scaler.scale, 2 ** 119);
  const [summary] = run.result.epochs;
  assert.equal(summary!.steps, 1);
  assert.equal(summary!.skipped_steps, 1);
  assert.equal(summary!.skipped_samples, 4);
  assert.equal(summary!.samples_seen, 4);
});

test("'retry': the window is recomputed at the lower scale and applied, no sample lost", async () => {
  const data = probeData({ overflow: 300 * 4 });
  const scaler = new LossScaler({ enabled: true, initScale: 2 ** 120, onOverflow: 'retry' });
  const run = await runProbe(data, scaler);
  assert.deepEqual(
    run.steps.map((step) => [step.skipped, step.retries, step.lossScale]),
    [
      [false, 0, 2 ** 120],
      [false, 1, 2 ** 119],
    ],
  );
  assert.deepEqual(
    run.micro.filter((event) => event.window === 1).map((event) => [event.microBatch, event.attempt]),
    [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ],
  );
  assert.equal(run.result.epochs[0]!.samples_seen, 8);
  assert.equal(run.result.epochs[0]!.skipped_steps, 0);
  // Power-of-two scales change no float32 gradient: the result is the unscaled run's.
  const unscaled = await runProbe(data, undefined);
  assert.deepEqual(run.params, unscaled.params);
});

test("'retry' gives up after maxRetries and skips the window", async () => {
  const scaler = new LossScaler({ enabled: true, onOverflow: 'retry', maxRetries: 2 });
  const run = await runProbe(probeData({ poison: true }), scaler);
  assert.equal(run.steps[1]!.skipped, true);
  assert.equal(run.steps[1]!.retries, 2);
  assert.equal(run.micro.filter((event) => event.window === 1).length, 2 * 3);
  assert.equal(scaler.scale, 2 ** 13, 'three attempts, three backoffs');
  assert.equal(run.result.epochs[0]!.skipped_samples, 4);
});

test('without a scaler a NaN gradient skips the window instead of corrupting the weights', async () => {
  const run = await runProbe(probeData({ poison: true }), undefined);
  assert.deepEqual(
    run.steps.map((step) => [step.skipped, step.lossScale, step.retries]),
    [
      [false, 1, 0],
      [true, 1, 0],
    ],
  );
  assert.ok(run.params.every(Number.isFinite));
  assert.equal(run.result.epochs[0]!.skipped_steps, 1);
});

test('the scale is updated once per window, not per micro-batch', async () => {
  const scaler = new LossScaler({ enabled: true, growthInterval: 3 });
  const model = linearRegression(2, 1);
  const optimizer = createOptimizer({ kind: 'sgd' });
  const scales: number[] = [];
  try {
    // 56 samples, windows of 8, micro-batches of 1: 7 windows, 56 micro-batches.
    await fit({
      model,
      data: regressionData(56, 2, 1),
      epochs: 1,
      microBatch: 1,
      batch: 8,
      optimizer,
      lr: 0.01,
      scaler,
      callbacks: { onStep: (event) => void scales.push(event.lossScale) },
    });
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  assert.deepEqual(scales, [2 ** 16, 2 ** 16, 2 ** 16, 2 ** 17, 2 ** 17, 2 ** 17, 2 ** 18]);
  assert.equal(scaler.scale, 2 ** 18);
  assert.equal(scaler.getState().growthTracker, 1);
});

test('clipping happens once per window on unscaled gradients: scaled, unscaled and split runs agree', async () => {
  const data = regressionData(45, 3, 2);
  const train = async (scaler: LossScaler | undefined, microBatch: number) => {
    const model = linearRegression(3, 9);
    const optimizer = createOptimizer({ kind: 'sgd', momentum: 0.9 });
    const norms: number[] = [];
    try {
      await fit({
        model,
        data,
        epochs: 2,
        microBatch,
        batch: 16,
        seed: 3,
        optimizer,
        lr: 0.05,
        clipNorm: 0.05,
        scaler,
        callbacks: { onStep: (event) => void norms.push(event.gradNorm) },
      });
      return { params: flatParams(model.params), norms };
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  };
  const plain = await train(undefined, 16);
  assert.ok(
    plain.norms.every((norm) => norm > 0.05),
    `clipping must be active for the test to mean something: ${plain.norms}`,
  );
  const scaled = await train(new LossScaler({ enabled: true }), 16);
  assert.deepEqual(scaled.params, plain.params);
  assert.deepEqual(scaled.norms, plain.norms);
  // Per-micro-batch clipping would scale each part by its own norm and differ here.
  const split = await train(new LossScaler({ enabled: true }), 3);
  assert.ok(maxRelativeDifference(split.params, plain.params, 1e-2) <= 1e-5);
});
