/**
 * The invariant holds for every family: the parameters after an epoch do not depend on the
 * micro-batch size or on the worker count (to float32 rounding), with dropout on, on the tiny
 * checkpoints of each family in Hugging Face's layout.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildModel, readConfig } from '../../src/app/checkpoint.js';
import { readTokenizerFiles, readWeights } from '../../src/node/checkpoint.js';
import { createParallelEngine } from '../../src/node/parallel.js';
import type { ModelSpec } from '../../src/node/replica.js';
import { createOptimizer } from '../../src/optim/index.js';
import type { SequenceSample, TaskModel } from '../../src/tasks/model.js';
import { loadTokenizer } from '../../src/tokenizers/index.js';
import { fit } from '../../src/train/fit.js';
import { maxRelativeDifference, useBackend } from '../helpers/backend.js';
import { tempDir } from '../helpers/tempdir.js';
import { makeTinyCheckpoints } from '../fixtures/tiny-checkpoints.js';

const TEXTS = ['good movie', 'a terrible film !', 'i love this , it was great fun', 'boring', 'not good at all', 'hello , meeting tomorrow', 'win free money now', 'click here', 'the film was fun', 'bad'];
const folders = makeTinyCheckpoints(tempDir('families-invariance'));

async function setUp(family: string) {
  const folder = (await folders).find((entry) => entry.family === family && entry.head === 'sequence-classification' && entry.variant === null)!;
  const configJson = JSON.parse(readFileSync(path.join(folder.dir, 'config.json'), 'utf8')) as unknown;
  const { family: registered, config } = readConfig(configJson, folder.dir);
  const tokenizer = loadTokenizer(await readTokenizerFiles(folder.dir), registered.modelType, folder.dir);
  const weights = (await readWeights(folder.dir))!;
  const labels = config.labels!;
  const samples: SequenceSample[] = TEXTS.map((text, i) => ({ ...tokenizer.encode(text, { maxLength: 16 }), label: i % labels.length }));
  const make = (shared = false) => buildModel(registered, config, { task: 'sequence-classification', labels, tensors: weights.tensors, arena: { shared }, source: weights.file }).model as TaskModel<SequenceSample>;
  const spec: ModelSpec = { configJson, configFile: folder.dir, task: 'sequence-classification', labels };
  return { samples, make, spec };
}

async function trainEpoch(model: TaskModel<SequenceSample>, samples: SequenceSample[], microBatch: number, engine?: Awaited<ReturnType<typeof createParallelEngine<SequenceSample>>>): Promise<Float32Array> {
  const optimizer = createOptimizer({ kind: 'adamw', weightDecay: 0.01 });
  await fit({ model, data: samples, epochs: 1, microBatch, batch: 5, seed: 3, optimizer, lr: 0.01, clipNorm: 1, ...(engine !== undefined ? { engine, gradients: engine.gradients } : {}) });
  optimizer.dispose();
  return Float32Array.from(model.parameters.values.data);
}

for (const family of ['bert', 'distilbert', 'roberta', 'electra']) {
  test(`${family}: an epoch ends with the same parameters for micro-batches of 1, 2 and 5 and for 2 workers`, { timeout: 120_000 }, async () => {
    await useBackend('cpu');
    const { samples, make, spec } = await setUp(family);
    const reference = await trainEpoch(make(), samples, 5);
    const initial = Float32Array.from(make().parameters.values.data);
    assert.ok(maxRelativeDifference(reference, initial, 1e-2) > 1e-3, 'training moved the parameters');
    for (const microBatch of [1, 2]) {
      const difference = maxRelativeDifference(await trainEpoch(make(), samples, microBatch), reference, 1e-2);
      assert.ok(difference <= 1e-5, `micro-batch ${microBatch}: ${difference}`);
    }
    const shared = make(true);
    const engine = await createParallelEngine<SequenceSample>(shared, {
      workers: 2,
      factory: { module: new URL('../../src/node/replica.js', import.meta.url).href, exportName: 'taskModelReplica', options: spec },
      backend: 'cpu',
      fastKernels: false,
    });
    try {
      const difference = maxRelativeDifference(await trainEpoch(shared, samples, 1, engine), reference, 1e-2);
      assert.ok(difference <= 1e-5, `2 workers: ${difference}`);
    } finally {
      await engine.close();
    }
  });
}
