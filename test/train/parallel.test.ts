/**
 * The multi-worker window engine (src/node/parallel.ts over src/node/pool.ts): the same
 * parameters as the local engine to float32 rounding, replicas that compute every window on the
 * main thread's exact parameters (one shared copy), and a crashed worker that fails the run with
 * a WorkerError and shuts the pool down instead of hanging.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { readConfig } from '../../src/app/checkpoint.js';
import { WorkerError } from '../../src/core/errors.js';
import { createOptimizer } from '../../src/optim/index.js';
import { createRng } from '../../src/core/random.js';
import { fit } from '../../src/train/fit.js';
import { createParallelEngine, splitShares, type ParallelEngine } from '../../src/node/parallel.js';
import type { ModelSpec } from '../../src/node/replica.js';
import { SequenceClassifier, type SequenceSample } from '../../src/tasks/model.js';
import type { TrainableModel } from '../../src/train/types.js';
import { randomWeights, tinyConfigJson } from '../fixtures/tiny-bert.js';
import { createMlp, createSharedMlp, mlpData, type MlpOptions, type MlpSample } from '../fixtures/workerModels.js';
import { maxRelativeDifference, useBackend } from '../helpers/backend.js';

const TASK_FACTORY = new URL('../../src/node/replica.js', import.meta.url).href;
const MLP_FACTORY = new URL('../fixtures/workerModels.js', import.meta.url).href;
// A worker that never answers would otherwise hang the file; fail it instead.
const TIMEOUT = { timeout: 120_000 };

function flatParams(model: TrainableModel<unknown>): Float32Array {
  return Float32Array.from(model.parameters.values.data);
}

/** Float64 sum of each parameter's host values. */
function parameterSums(model: TrainableModel<unknown>): number[] {
  return model.parameters.entries.map((entry) => model.parameters.view(entry.index).reduce((sum, value) => sum + value, 0));
}

function tokenExamples(count: number, seed: number): SequenceSample[] {
  const random = createRng(seed);
  return Array.from({ length: count }, (_, i) => ({
    ids: [2, ...Array.from({ length: 3 + Math.floor(random() * 8) }, () => 5 + Math.floor(random() * 45)), 3],
    label: i % 2,
  }));
}

/**
 * Trains `model` for two epochs (dropout and shuffling on: replicas must reproduce the masks)
 * with `engine` (or the local one). With an engine, checks at every step that each replica
 * computed the window on exactly the parameters the main thread had when the window started.
 */
async function train<Sample>(model: TrainableModel<Sample>, data: Sample[], engine?: ParallelEngine<Sample>): Promise<Float32Array> {
  const optimizer = createOptimizer({ kind: 'sgd', momentum: 0.9 });
  const tensorsBefore = tf.memory().numTensors;
  let checkedSteps = 0;
  try {
    await fit({
      model,
      data,
      epochs: 2,
      microBatch: 2,
      batch: 8,
      seed: 5,
      optimizer,
      lr: 0.05,
      clipNorm: 1,
      ...(engine !== undefined ? { engine, gradients: engine.gradients } : {}),
      callbacks: {
        // onStep runs after the update: every replica must already hold the new parameters.
        onStep: async () => {
          if (engine !== undefined) {
            const expected = parameterSums(model as TrainableModel<unknown>);
            const replicas = await engine.replicaParamSums();
            assert.equal(replicas.length, engine.pool.size);
            for (const sums of replicas) assert.deepEqual(sums, expected);
            checkedSteps += 1;
          }
        },
      },
    });
  } finally {
    optimizer.dispose();
  }
  if (engine !== undefined) assert.equal(checkedSteps, 2 * Math.ceil(data.length / 8));
  // The parameters' heap mirrors are the store's; everything else must be freed.
  model.parameters.releaseMirrors();
  assert.equal(tf.memory().numTensors, tensorsBefore, 'fit with this engine freed every tensor it made');
  return flatParams(model as TrainableModel<unknown>);
}

test('splitShares: contiguous shares that cover every micro-batch, balanced within one micro-batch', () => {
  assert.deepEqual(splitShares([8, 8, 8, 8], 2), [[0, 2], [2, 4]]);
  assert.deepEqual(splitShares([8, 6], 3), [[0, 1], [1, 1], [1, 2]]);
  assert.deepEqual(splitShares([3], 1), [[0, 1]]);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 6 }), (sizes, groups) => {
      const shares = splitShares(sizes, groups);
      assert.equal(shares.length, groups);
      let expectedStart = 0;
      for (const [start, end] of shares) {
        assert.equal(start, expectedStart);
        assert.ok(end >= start);
        expectedStart = end;
      }
      assert.equal(expectedStart, sizes.length);
      const total = sizes.reduce((sum, size) => sum + size, 0);
      const largest = Math.max(...sizes);
      for (const [start, end] of shares) {
        const samples = sizes.slice(start, end).reduce((sum, size) => sum + size, 0);
        assert.ok(Math.abs(samples - total / groups) <= largest, `share ${samples} of ${total} over ${groups} (largest ${largest})`);
      }
    }),
  );
});

test('BERT: 2 and 3 workers over one shared copy of the parameters train what the local engine trains', TIMEOUT, async () => {
  await useBackend('cpu');
  const configJson = tinyConfigJson();
  const { family, config } = readConfig(configJson, 'tiny');
  const weights = randomWeights(config, 2, 7);
  const data = tokenExamples(20, 11);
  const make = (shared: boolean) => new SequenceClassifier({ family, config, labels: ['a', 'b'] }, { values: weights, arena: { shared } });
  const local = make(false);
  const reference = await train(local, data);
  local.dispose();
  const spec: ModelSpec = { configJson, configFile: 'tiny', task: 'sequence-classification', labels: ['a', 'b'] };
  for (const workers of [2, 3]) {
    const model = make(true);
    const engine = await createParallelEngine<SequenceSample>(model, {
      workers,
      factory: { module: TASK_FACTORY, exportName: 'taskModelReplica', options: spec },
      backend: 'cpu',
      fastKernels: false,
    });
    try {
      const parallel = await train(model, data, engine);
      const difference = maxRelativeDifference(parallel, reference, 1e-2);
      assert.ok(difference <= 1e-5, `${workers} workers: relative difference ${difference}`);
    } finally {
      await engine.close();
      model.dispose();
    }
  }
});

test('a non-BERT model from a user factory module: 3 workers = the local engine', TIMEOUT, async () => {
  await useBackend('cpu');
  const options: MlpOptions = { inputs: 5, hidden: 6, seed: 3 };
  const data = mlpData(30, 5, 9);
  const local = createMlp(options);
  const reference = await train<MlpSample>(local, data);
  local.dispose();
  const model = createSharedMlp(options);
  const engine = await createParallelEngine<MlpSample>(model, { workers: 3, factory: { module: MLP_FACTORY, exportName: 'createMlp', options: { ...options, seed: 99 } }, backend: 'cpu', fastKernels: false });
  try {
    const parallel = await train<MlpSample>(model, data, engine);
    assert.ok(maxRelativeDifference(parallel, reference) <= 1e-5);
  } finally {
    await engine.close();
    model.dispose();
  }
});

for (const crash of ['exit', 'throw'] as const) {
  test(`a worker whose replica ${crash === 'exit' ? 'exits (process.exit(3))' : 'throws in lossSum'} fails fit with a WorkerError and shuts the pool down`, TIMEOUT, async () => {
    await useBackend('cpu');
    const options: MlpOptions = { inputs: 3, hidden: 4, seed: 1 };
    const data = mlpData(8, 3, 2);
    // Micro-batches [0,1] [2,3] [4,5] [6,7]: the main thread takes the first two, worker 1 the rest.
    data[7] = { ...data[7]!, poison: true };
    const model = createSharedMlp(options);
    const engine = await createParallelEngine<MlpSample>(model, { workers: 2, factory: { module: MLP_FACTORY, exportName: 'createMlp', options: { ...options, crash } }, backend: 'cpu', fastKernels: false });
    const optimizer = createOptimizer({ kind: 'sgd' });
    try {
      await assert.rejects(
        fit({ model, data, epochs: 1, microBatch: 2, batch: 8, shuffle: false, optimizer, lr: 0.1, engine, gradients: engine.gradients }),
        (error: unknown) => {
          assert.ok(error instanceof WorkerError, String(error));
          assert.match(error.message, crash === 'exit' ? /^worker 1 exited unexpectedly \(code 3\)/ : /^worker 1: poisoned sample/);
          return true;
        },
      );
      // The pool is closed: further calls fail at once instead of waiting for a dead worker.
      await assert.rejects(engine.replicaParamSums(), WorkerError);
    } finally {
      optimizer.dispose();
      await engine.close();
      model.dispose();
    }
  });
}

test('createParallelEngine refuses fewer than 2 workers', async () => {
  await useBackend('cpu');
  const model = createMlp({ inputs: 2, hidden: 2, seed: 1 });
  try {
    await assert.rejects(createParallelEngine(model, { workers: 1, factory: { module: MLP_FACTORY, exportName: 'createMlp', options: {} } }), /at least 2 workers/);
    await assert.rejects(createParallelEngine(model, { workers: 2, factory: { module: MLP_FACTORY, exportName: 'createMlp', options: {} } }), /parameters in shared memory/);
  } finally {
    model.dispose();
  }
});
