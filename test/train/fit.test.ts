/** fit(): exact resume, callbacks and the LR schedule, tensor hygiene, a custom engine, bad input. */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, ConfigError, DataError } from '../../src/core/errors.js';
import { deriveSeed } from '../../src/core/random.js';
import { MASKING_STREAM } from '../../src/tasks/masking.js';
import { createOptimizer, lrMultiplier } from '../../src/optim/index.js';
import {
  accumulateWindow,
  fit,
  LossScaler,
  sampleDropoutSeed,
  type FitOptions,
  type StepEvent,
  type TrainingState,
  type WindowGradientEngine,
} from '../../src/train/index.js';
import { useBackend } from '../helpers/backend.js';
import { flatParams, linearRegression, regressionData, tokenData, tokenTagger, type Regression, type TokenSequence } from './models.js';

test.before(() => useBackend('cpu'));

const TOKENS = tokenData(37, 16, 5, 9, 21);

/** A run with everything that has state: AdamW, warm-up + linear decay, an active scaler, clipping, dropout. */
function resumableRun(resume?: TrainingState) {
  const model = tokenTagger(16, 6, 5, 8, 0.3);
  const optimizer = createOptimizer({ kind: 'adamw', weightDecay: 0.1 });
  const scaler = new LossScaler({ enabled: true, growthInterval: 2 });
  const options: FitOptions<TokenSequence> = {
    model,
    data: TOKENS,
    epochs: 3,
    microBatch: 3,
    batch: 8,
    seed: 5,
    optimizer,
    lr: 0.05,
    schedule: 'linear',
    warmupSteps: 3,
    clipNorm: 0.5,
    scaler,
    resume,
  };
  return { model, optimizer, options };
}

test('resuming from a saved state gives the same weights as an uninterrupted run', async () => {
  const full = resumableRun();
  const fullResult = await fit(full.options);
  const expected = flatParams(full.model.params);
  full.optimizer.dispose();
  full.model.dispose();

  // 37 samples, batch 8: 5 windows per epoch. Stop inside epoch 2, at an epoch boundary, inside epoch 3.
  for (const stopAfter of [7, 5, 13]) {
    const interrupted = resumableRun();
    let saved: { state: TrainingState; weights: Float32Array[] } | undefined;
    let boundaries = 0;
    interrupted.options.callbacks = {
      onWindowBoundary: (boundary) => {
        boundaries += 1;
        if (boundaries < stopAfter) return;
        // What the CLI does: write the state next to the weights, then (here) crash.
        saved = { state: structuredClone(boundary.state()), weights: interrupted.model.parameters.entries.map((entry) => Float32Array.from(interrupted.model.parameters.view(entry.index))) };
        throw new Error('interrupted');
      },
    };
    await assert.rejects(fit(interrupted.options), /interrupted/);
    interrupted.optimizer.dispose();
    interrupted.model.dispose();
    assert.ok(saved !== undefined);
    assert.equal(saved.state.globalStep, stopAfter);
    assert.equal(saved.state.ledger === null, stopAfter % 5 === 0);

    const resumed = resumableRun(saved.state);
    resumed.model.parameters.entries.forEach((entry) => resumed.model.parameters.view(entry.index).set(saved!.weights[entry.index]!));
    resumed.model.parameters.markUpdated();
    const result = await fit(resumed.options);
    assert.deepEqual(flatParams(resumed.model.params), expected, `resumed after ${stopAfter} windows`);
    assert.deepEqual(result.epochs, fullResult.epochs);
    assert.deepEqual(result.state, fullResult.state);
    resumed.optimizer.dispose();
    resumed.model.dispose();
  }
});

test('dropout seeds depend on the training position: a different seed gives different weights', async () => {
  const first = resumableRun();
  await fit(first.options);
  const second = resumableRun();
  second.options.seed = 6;
  await fit(second.options);
  assert.notDeepEqual(flatParams(first.model.params), flatParams(second.model.params));
  for (const run of [first, second]) {
    run.optimizer.dispose();
    run.model.dispose();
  }
});

test('a resume state from another run is refused', async () => {
  const run = resumableRun();
  let state: TrainingState | undefined;
  run.options.callbacks = { onWindowBoundary: (boundary) => void (state ??= boundary.state()) };
  await fit({ ...run.options, epochs: 1 });
  assert.ok(state !== undefined);
  const bad: [Partial<FitOptions<TokenSequence>>, RegExp][] = [
    [{ resume: state, epochs: 3 }, /epochs/],
    [{ resume: { ...state, run: { ...state.run, epochs: 3 }, globalStep: 2 }, epochs: 3 }, /globalStep/],
    [{ resume: { ...state, run: { ...state.run, epochs: 3 }, ledger: null }, epochs: 3 }, /ledger/],
    [{ resume: state, epochs: 1, batch: 4 }, /batch/],
  ];
  for (const [override, message] of bad) {
    await assert.rejects(fit({ ...run.options, ...override }), (error: Error) => error instanceof CheckpointError && message.test(error.message));
  }
  run.optimizer.dispose();
  run.model.dispose();
});

test('callbacks report every window, the schedule counts skipped windows too, and nothing leaks', async () => {
  const model = linearRegression(3, 2);
  const optimizer = createOptimizer({ kind: 'adamw' });
  const steps: StepEvent[] = [];
  const tensorsAfter: number[] = [];
  const epochEnds: number[] = [];
  const data = regressionData(50, 3, 4);
  // Sample 7 poisons its window: a NaN target makes every gradient of that window NaN.
  const poisoned = 7;
  data[poisoned] = { x: data[poisoned]!.x, y: Number.NaN };
  const tensorsBefore = tf.memory().numTensors;
  const result = await fit({
    model,
    data,
    epochs: 3,
    microBatch: 4,
    batch: 7,
    remainder: 'balance',
    seed: 1,
    optimizer,
    lr: 0.1,
    schedule: 'cosine',
    warmupSteps: 4,
    clipNorm: 1,
    scaler: new LossScaler({ enabled: true }),
    callbacks: {
      onStep: (event) => {
        steps.push(event);
        tensorsAfter.push(tf.memory().numTensors);
      },
      onEpochEnd: (summary) => void epochEnds.push(summary.epoch),
    },
  });
  // 50 samples, batch 7, balance: 8 windows of 7,7,6,6,6,6,6,6 per epoch.
  assert.equal(steps.length, 24);
  assert.deepEqual(result.epochs[0]!.windows, [7, 7, 6, 6, 6, 6, 6, 6]);
  assert.deepEqual(epochEnds, [1, 2, 3]);
  steps.forEach((step, index) => {
    assert.equal(step.globalStep, index + 1);
    assert.equal(step.totalSteps, 24);
    assert.equal(step.windows, 8);
    // LambdaLR semantics: step s uses lr × multiplier(s), skipped windows included.
    assert.equal(step.lr, 0.1 * lrMultiplier('cosine', index, 4, 24));
  });
  const skipped = steps.filter((step) => step.skipped);
  assert.equal(skipped.length, 3, 'one poisoned window per epoch');
  assert.deepEqual(
    result.epochs.map((epoch) => epoch.skipped_steps),
    [1, 1, 1],
  );
  for (const step of steps.filter((event) => !event.skipped)) {
    assert.ok(Number.isFinite(step.loss) && Number.isFinite(step.gradNorm));
    assert.equal(step.itemCount, step.windowSize);
  }
  const epochTwo = steps.filter((step) => step.epoch === 1);
  assert.equal(epochTwo.at(-1)!.samplesSeen, 50 - skipped[1]!.windowSize);
  assert.ok(flatParams(model.params).every(Number.isFinite));
  // Slots are created on the first applied step; from then on the count is flat.
  assert.equal(tensorsAfter[1], tensorsAfter[19]);
  assert.equal(new Set(tensorsAfter.slice(1)).size, 1);
  optimizer.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, tensorsBefore - 2, 'only the model and optimizer held tensors');
});

test('fit is deterministic for a given seed', async () => {
  const runs: Float32Array[] = [];
  for (let repeat = 0; repeat < 2; repeat++) {
    const run = resumableRun();
    await fit({ ...run.options, epochs: 1 });
    runs.push(flatParams(run.model.params));
    run.optimizer.dispose();
    run.model.dispose();
  }
  assert.deepEqual(runs[0], runs[1]);
});

test('a custom engine computes the windows', async () => {
  const model = linearRegression(2, 3);
  const optimizer = createOptimizer({ kind: 'sgd' });
  const calls: number[][] = [];
  const engine: WindowGradientEngine<Regression> = {
    async computeWindow(grads, work) {
      calls.push(work.microBatches.map((samples) => samples.length));
      return { lossSum: accumulateWindow(grads, model, work) };
    },
  };
  await fit({ model, data: regressionData(10, 2, 1), epochs: 1, microBatch: 3, batch: 8, optimizer, lr: 0.1, engine });
  assert.deepEqual(calls, [[3, 3, 2], [2]]);
  optimizer.dispose();
  model.dispose();
});

test('each sample gets the dropout seed of (seed, epoch, its index), whatever the micro-batch size', async () => {
  const data = regressionData(11, 2, 1);
  const seedsOf = async (microBatch: number, seed: number): Promise<Map<string, number>> => {
    const model = linearRegression(2, 3);
    const optimizer = createOptimizer({ kind: 'sgd' });
    const seen = new Map<string, number>();
    const engine: WindowGradientEngine<Regression> = {
      async computeWindow(grads, work) {
        work.microBatches.forEach((samples, j) => samples.forEach((sample, i) => seen.set(`${work.epoch}:${data.indexOf(sample)}`, work.dropoutSeeds[j]![i]!)));
        return { lossSum: accumulateWindow(grads, model, work) };
      },
    };
    await fit({ model, data, epochs: 2, microBatch, batch: 4, seed, optimizer, lr: 0.1, engine });
    optimizer.dispose();
    model.dispose();
    return seen;
  };
  const expected = new Map(Array.from({ length: 22 }, (_, k) => [`${Math.floor(k / 11)}:${k % 11}`, sampleDropoutSeed(7, Math.floor(k / 11), k % 11)]));
  assert.deepEqual(await seedsOf(1, 7), expected);
  assert.deepEqual(await seedsOf(3, 7), expected);
  assert.equal(new Set(expected.values()).size, 22, 'every sample of every epoch has its own stream');
  assert.notDeepEqual(await seedsOf(3, 8), expected);
  // Apart from masked LM's stream of the same (seed, epoch, sample) and from the permutation's.
  assert.notEqual(sampleDropoutSeed(7, 0, 3), deriveSeed(7, 0, 3, MASKING_STREAM));
  assert.notEqual(sampleDropoutSeed(7, 0, 0), deriveSeed(7, 0));
});

test('a window without loss items is a DataError', async () => {
  const model = tokenTagger(8, 3, 2, 1);
  const optimizer = createOptimizer({ kind: 'sgd' });
  const data: TokenSequence[] = [
    { tokens: [1, 2], labels: [0, 1] },
    { tokens: [3], labels: [-100] },
  ];
  await assert.rejects(fit({ model, data, epochs: 1, microBatch: 1, batch: 1, shuffle: false, optimizer, lr: 0.1 }), DataError);
  optimizer.dispose();
  model.dispose();
});

test('bad options are ConfigErrors naming the field', async () => {
  const model = linearRegression(2, 3);
  const optimizer = createOptimizer({ kind: 'sgd' });
  const base: FitOptions<Regression> = { model, data: regressionData(10, 2, 1), epochs: 1, microBatch: 2, batch: 4, optimizer, lr: 0.1 };
  const bad: [Partial<FitOptions<Regression>>, RegExp][] = [
    [{ data: [] }, /empty/],
    [{ epochs: 0 }, /epochs/],
    [{ epochs: 1.5 }, /epochs/],
    [{ microBatch: 0 }, /microBatch/],
    [{ microBatch: 2.5 }, /microBatch/],
    [{ batch: 1 }, /batch/],
    [{ remainder: 'keep' as never }, /remainder/],
    [{ remainder: 'drop', batch: 11 }, /drop every sample/],
    [{ seed: Number.NaN }, /seed/],
    [{ lr: Number.NaN }, /lr/],
    [{ lr: Number.POSITIVE_INFINITY }, /lr/],
    [{ lr: -1 }, /lr/],
    [{ clipNorm: -1 }, /clipNorm/],
    [{ clipNorm: Number.NaN }, /clipNorm/],
    [{ schedule: 'step' as never }, /schedule/],
    [{ warmupSteps: -1 }, /warmupSteps/],
    [{ optimizer: {} as never }, /optimizer/],
    [{ scaler: {} as never }, /scaler/],
  ];
  for (const [override, message] of bad) {
    await assert.rejects(
      fit({ ...base, ...override }),
      (error: Error) => error instanceof ConfigError && message.test(error.message),
      JSON.stringify(override),
    );
  }
  const noItems = { ...model, countItems: () => -1 };
  await assert.rejects(fit({ ...base, model: noItems }), ConfigError);
  optimizer.dispose();
  model.dispose();
});
