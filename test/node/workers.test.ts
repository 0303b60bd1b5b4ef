/**
 * `--workers auto`: one worker per core for small models or without the native kernels, one
 * worker whose native kernels use every core from 8 M parameters up (BENCHMARKS.md, "Workers").
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { approximateParameters, defaultWorkerCount, ONE_WORKER_FROM_PARAMETERS } from '../../src/node/finetune.js';

const shape = (vocabSize: number, hiddenSize: number, numLayers: number, intermediateSize: number, maxPositions = 512, embeddingSize = hiddenSize) => ({
  vocabSize,
  hiddenSize,
  embeddingSize,
  numLayers,
  intermediateSize,
  maxPositions,
});

const BERT_BASE_UNCASED = shape(30522, 768, 12, 3072);
const BERT_MINI = shape(4000, 256, 4, 1024);
const DEMO = shape(4000, 128, 2, 512, 128);

test('the parameter estimate is within 1 % of the real counts', () => {
  // bert-base-uncased has 109,482,240 parameters with biases, norms, token types and the pooler.
  const base = approximateParameters(BERT_BASE_UNCASED);
  assert.ok(Math.abs(base - 109_482_240) / 109_482_240 < 0.01, `${base}`);
  // ELECTRA-small: 128-wide embeddings projected to hidden 256.
  const electraSmall = approximateParameters(shape(30522, 256, 12, 1024, 512, 128));
  assert.ok(Math.abs(electraSmall - 13_548_800) / 13_548_800 < 0.02, `${electraSmall}`);
});

test('with native kernels: a worker per core below 8 M parameters, one worker from there up', () => {
  assert.ok(approximateParameters(DEMO) < ONE_WORKER_FROM_PARAMETERS);
  assert.ok(approximateParameters(BERT_MINI) < ONE_WORKER_FROM_PARAMETERS);
  assert.equal(defaultWorkerCount(DEMO, true, 2), 2);
  assert.equal(defaultWorkerCount(BERT_MINI, true, 4), 4);
  assert.equal(defaultWorkerCount(BERT_BASE_UNCASED, true, 2), 1);
  assert.equal(defaultWorkerCount(BERT_BASE_UNCASED, true, 16), 1);
});

test('without native kernels every model gets a worker per core (TF.js wasm kernels are single-threaded)', () => {
  for (const config of [DEMO, BERT_MINI, BERT_BASE_UNCASED]) assert.equal(defaultWorkerCount(config, false, 2), 2);
  assert.equal(defaultWorkerCount(BERT_BASE_UNCASED, false, 1), 1);
});
