/**
 * The invariant holds for every family: the parameters after an epoch do not depend on the
 * micro-batch size or on the worker count (to float32 rounding), on the tiny checkpoints of
 * each family in Hugging Face's layout — with dropout off, and with dropout on, whose masks
 * are drawn per sample (from the seed, the epoch and the sample's index), not per micro-batch.
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

async function setUp(family: string, dropout: number) {
  const folder = (await folders).find((entry) => entry.family === family && entry.head === 'sequence-classification' && entry.variant === null)!;
  const configJson = JSON.parse(readFileSync(path.join(folder.dir, 'config.json'), 'utf8')) as unknown;
  const { family: registered, config } = readConfig(configJson, folder.dir, dropout);
  const tokenizer = loadTokenizer(await readTokenizerFiles(folder.dir), registered.modelType, folder.dir);
  const weights = (await readWeights(folder.dir))!;
  const labels = config.labels!;
  const samples: SequenceSample[] = TEXTS.map((text, i) => ({ ...tokenizer.encode(text, { maxLength: 16 }), label: i % labels.length }));
  const make = (shared = false) => buildModel(registered, config, { task: 'sequence-classification', labels, tensors: weights.tensors, arena: { shared }, source: weights.file }).model as TaskModel<SequenceSample>;
  const spec: ModelSpec = { configJson, configFile: folder.dir, task: 'sequence-classification', labels, dropout };
  return { samples, make, spec };
}

type Kind = 'sgd' | 'adamw';

async function trainEpoch(model: TaskModel<SequenceSample>, samples: SequenceSample[], microBatch: number, kind: Kind, engine?: Awaited<ReturnType<typeof createParallelEngine<SequenceSample>>>): Promise<TaskModel<SequenceSample>> {
  const optimizer = createOptimizer({ kind, weightDecay: 0.01 });
  await fit({ model, data: samples, epochs: 1, microBatch, batch: 5, seed: 3, optimizer, lr: kind === 'sgd' ? 0.5 : 0.01, clipNorm: 1, ...(engine !== undefined ? { engine, gradients: engine.gradients } : {}) });
  optimizer.dispose();
  return model;
}

/**
 * The largest relative difference (floor 1e-2) over the parameters whose names do not match
 * `skip`. AdamW divides each gradient by its own root mean square, so a gradient that is zero in
 * exact arithmetic and rounding noise in float32 — the attention key bias's: it adds the same
 * amount to every score of a query, which softmax ignores — becomes a full ±lr step whose sign
 * is the noise's. Those are compared under SGD only.
 */
function difference(a: TaskModel<SequenceSample>, b: TaskModel<SequenceSample>, skip?: RegExp): number {
  let worst = 0;
  for (const entry of a.parameters.entries) {
    if (skip?.test(entry.name)) continue;
    worst = Math.max(worst, maxRelativeDifference(a.parameters.view(entry.index), b.parameters.view(entry.index), 1e-2));
  }
  return worst;
}

const KEY_BIAS = /(\.key|k_lin)\.bias$/;

for (const family of ['bert', 'distilbert', 'roberta', 'electra']) {
  test(`${family}: an epoch ends with the same parameters for micro-batches of 1, 2 and 5 and for 2 workers`, { timeout: 120_000 }, async () => {
    await useBackend('cpu');
    const { samples, make, spec } = await setUp(family, 0);
    const reference = await trainEpoch(make(), samples, 5, 'sgd');
    assert.ok(difference(reference, make()) > 1e-3, 'training moved the parameters');
    for (const microBatch of [1, 2]) {
      const found = difference(await trainEpoch(make(), samples, microBatch, 'sgd'), reference);
      assert.ok(found <= 1e-5, `SGD, micro-batch ${microBatch}: ${found}`);
    }
    const adamw = difference(await trainEpoch(make(), samples, 1, 'adamw'), await trainEpoch(make(), samples, 5, 'adamw'), KEY_BIAS);
    // Adam divides by √v: a small gradient's rounding difference is magnified in the first steps.
    assert.ok(adamw <= 5e-5, `AdamW, micro-batch 1: ${adamw}`);
    const found = difference(await trainWithWorkers(make, spec, samples), reference);
    assert.ok(found <= 1e-5, `SGD, 2 workers: ${found}`);
  });

  test(`${family} with dropout 0.1: micro-batches of 1, 2 and 5 and 2 workers end the epoch with the same parameters`, { timeout: 120_000 }, async () => {
    await useBackend('cpu');
    const { samples, make, spec } = await setUp(family, 0.1);
    const reference = await trainEpoch(make(), samples, 5, 'sgd');
    const { samples: undropped, make: makeUndropped } = await setUp(family, 0);
    // Dropout is on: the same split without it trains other weights.
    assert.ok(difference(reference, await trainEpoch(makeUndropped(), undropped, 5, 'sgd')) > 1e-3, 'dropout changed the training');
    for (const microBatch of [1, 2]) {
      const found = difference(await trainEpoch(make(), samples, microBatch, 'sgd'), reference);
      assert.ok(found <= 1e-5, `SGD, micro-batch ${microBatch}: ${found}`);
    }
    const found = difference(await trainWithWorkers(make, spec, samples), reference);
    assert.ok(found <= 1e-5, `SGD, 2 workers: ${found}`);
  });
}

/** An SGD epoch at micro-batch 1 on 2 workers (the main thread and one worker thread). */
async function trainWithWorkers(make: (shared?: boolean) => TaskModel<SequenceSample>, spec: ModelSpec, samples: SequenceSample[]): Promise<TaskModel<SequenceSample>> {
  const shared = make(true);
  const engine = await createParallelEngine<SequenceSample>(shared, {
    workers: 2,
    factory: { module: new URL('../../src/node/replica.js', import.meta.url).href, exportName: 'taskModelReplica', options: spec },
    backend: 'cpu',
    fastKernels: false,
  });
  try {
    return await trainEpoch(shared, samples, 1, 'sgd', engine);
  } finally {
    await engine.close();
  }
}
