/**
 * docs/design.md §2: the parameters after an epoch do not depend on the micro-batch size. For random
 * N, batch, micro-batch, remainder policy and seed, one epoch with micro-batch m must match one
 * epoch with micro-batch = batch (each window one forward/backward) within 1e-5 relative, for
 * SGD and AdamW, on four kinds of model (sample- and token-level losses).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import { createOptimizer, type OptimizerKind } from '../../src/optim/index.js';
import type { RemainderPolicy } from '../../src/plan/index.js';
import { fit } from '../../src/train/index.js';
import { maxRelativeDifference, useBackend } from '../helpers/backend.js';
import {
  classificationData,
  flatParams,
  linearRegression,
  logisticRegression,
  mlp,
  regressionData,
  tokenData,
  tokenTagger,
  type TestModel,
} from './models.js';

interface Case {
  size: number;
  batch: number;
  microBatch: number;
  remainder: RemainderPolicy;
  seed: number;
}

const caseArbitrary = (maxSize: number): fc.Arbitrary<Case> =>
  fc
    .record({
      size: fc.integer({ min: 1, max: maxSize }),
      batch: fc.integer({ min: 1, max: 48 }),
      microFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      remainder: fc.constantFrom<RemainderPolicy>('step', 'balance', 'drop'),
      seed: fc.integer({ min: 0, max: 2 ** 31 }),
    })
    .map(({ size, batch, microFraction, remainder, seed }) => ({
      size,
      batch,
      microBatch: 1 + Math.min(batch - 1, Math.floor(microFraction * batch)),
      remainder,
      seed,
    }))
    // `drop` with N < batch has no window at all: nothing to compare.
    .filter(({ size, batch, remainder }) => remainder !== 'drop' || size >= batch);

async function trainOneEpoch<Sample>(
  makeModel: () => TestModel<Sample>,
  data: readonly Sample[],
  split: Case,
  microBatch: number,
  kind: OptimizerKind,
): Promise<Float32Array> {
  const model = makeModel();
  const optimizer = createOptimizer({ kind, weightDecay: 0.01 });
  try {
    await fit({
      model,
      data,
      epochs: 1,
      microBatch,
      batch: split.batch,
      remainder: split.remainder,
      seed: split.seed,
      optimizer,
      lr: kind === 'sgd' ? 0.05 : 0.01,
    });
    return flatParams(model.params);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

async function checkSplitInvariance<Sample>(
  name: string,
  makeModel: () => TestModel<Sample>,
  makeData: (size: number, seed: number) => Sample[],
  maxSize: number,
  numRuns: number,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(caseArbitrary(maxSize), async (split) => {
      const data = makeData(split.size, split.seed);
      for (const kind of ['sgd', 'adamw'] as const) {
        const reference = await trainOneEpoch(makeModel, data, split, split.batch, kind);
        const candidate = await trainOneEpoch(makeModel, data, split, split.microBatch, kind);
        // Entries below 1e-2 are compared absolutely (to 1e-7): a bias that ends near 0 carries
        // the float32 rounding of O(1) terms, which is meaningless relative to its own size.
        const difference = maxRelativeDifference(candidate, reference, 1e-2);
        assert.ok(difference <= 1e-5, `${name}/${kind} ${JSON.stringify(split)}: relative difference ${difference}`);
      }
    }),
    { numRuns, seed: 20240611 },
  );
}

test.before(() => useBackend('cpu'));

test('linear regression is split invariant', async () => {
  await checkSplitInvariance('linear', () => linearRegression(4, 3), (n, seed) => regressionData(n, 4, seed), 300, 30);
});

test('logistic regression is split invariant', async () => {
  await checkSplitInvariance('logistic', () => logisticRegression(3, 5), (n, seed) => classificationData(n, 3, seed), 300, 30);
});

test('a 2-layer MLP is split invariant', async () => {
  await checkSplitInvariance('mlp', () => mlp(3, 8, 11), (n, seed) => regressionData(n, 3, seed), 300, 25);
});

test('a token-level model with padding and ignored tokens is split invariant', async () => {
  await checkSplitInvariance('tokens', () => tokenTagger(12, 6, 4, 17), (n, seed) => tokenData(n, 12, 4, 7, seed), 200, 20);
});

test('the micro-batch size changes nothing even with 1-sample micro-batches', async () => {
  // A fixed, deterministic extreme: micro-batch 1 against whole windows, with the remainder window.
  const split: Case = { size: 110, batch: 32, microBatch: 1, remainder: 'step', seed: 4 };
  const data = classificationData(110, 3, 4);
  const tensorsBefore = tf.memory().numTensors;
  const reference = await trainOneEpoch(() => logisticRegression(3, 5), data, split, 32, 'adamw');
  const candidate = await trainOneEpoch(() => logisticRegression(3, 5), data, split, 1, 'adamw');
  assert.ok(maxRelativeDifference(candidate, reference, 1e-2) <= 1e-5);
  assert.equal(tf.memory().numTensors, tensorsBefore, 'fit, the model and the optimizer freed every tensor');
});
