/** The accumulation invariants on the wasm backend: split invariance, agreement with cpu, determinism. */
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import { createOptimizer, type OptimizerKind } from '../../src/optim/index.js';
import type { RemainderPolicy } from '../../src/plan/index.js';
import { fit, LossScaler } from '../../src/train/index.js';
import { maxRelativeDifference, useBackend } from '../helpers/backend.js';
import { classificationData, flatParams, logisticRegression, mlp, regressionData } from './models.js';

test.before(() => useBackend('wasm'));

async function trainMlp(size: number, batch: number, microBatch: number, remainder: RemainderPolicy, seed: number, kind: OptimizerKind) {
  const model = mlp(3, 8, 11);
  const optimizer = createOptimizer({ kind });
  try {
    await fit({ model, data: regressionData(size, 3, seed), epochs: 1, microBatch, batch, remainder, seed, optimizer, lr: 0.02, clipNorm: 1 });
    return flatParams(model.params);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

test('runs on wasm', () => {
  assert.equal(tf.getBackend(), 'wasm');
});

test('an MLP is split invariant on wasm', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 200 }),
      fc.integer({ min: 1, max: 32 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom<RemainderPolicy>('step', 'balance'),
      fc.integer({ min: 0, max: 1000 }),
      fc.constantFrom<OptimizerKind>('sgd', 'adamw'),
      async (size, batch, fraction, remainder, seed, kind) => {
        const microBatch = 1 + Math.min(batch - 1, Math.floor(fraction * batch));
        const whole = await trainMlp(size, batch, batch, remainder, seed, kind);
        const split = await trainMlp(size, batch, microBatch, remainder, seed, kind);
        assert.ok(maxRelativeDifference(split, whole, 1e-2) <= 1e-5);
      },
    ),
    { numRuns: 20, seed: 99 },
  );
});

test('scaled training is deterministic on wasm and agrees with cpu', async () => {
  const runs: Float32Array[] = [];
  for (const backend of ['wasm', 'wasm', 'cpu'] as const) {
    await useBackend(backend);
    const model = logisticRegression(3, 5);
    const optimizer = createOptimizer({ kind: 'adamw' });
    await fit({
      model,
      data: classificationData(110, 3, 3),
      epochs: 2,
      microBatch: 8,
      batch: 32,
      seed: 7,
      optimizer,
      lr: 0.05,
      scaler: new LossScaler({ enabled: true, onOverflow: 'retry' }),
    });
    runs.push(flatParams(model.params));
    optimizer.dispose();
    model.dispose();
  }
  await useBackend('wasm');
  assert.deepEqual(runs[0], runs[1]);
  assert.ok(maxRelativeDifference(runs[0]!, runs[2]!, 1e-2) <= 1e-5);
});
