import test from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointError } from '../../src/core/errors.js';
import type { SafetensorsTensor } from '../../src/core/safetensors.js';
import { bertParameterSpecs, canonicalTensorName, internalShape, selectCheckpointTensors, transpose2d } from '../../src/bert/weights.js';
import { tinyConfig } from './fixtures.js';

const config = tinyConfig();

/** What HF's BertForSequenceClassification(num_labels=3).state_dict() holds for the tiny 2-layer config. */
function expectedHfNames(): string[] {
  const names = [
    'bert.embeddings.word_embeddings.weight',
    'bert.embeddings.position_embeddings.weight',
    'bert.embeddings.token_type_embeddings.weight',
    'bert.embeddings.LayerNorm.weight',
    'bert.embeddings.LayerNorm.bias',
  ];
  for (const layer of [0, 1]) {
    for (const part of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense', 'attention.output.LayerNorm',
      'intermediate.dense', 'output.dense', 'output.LayerNorm']) {
      names.push(`bert.encoder.layer.${layer}.${part}.weight`, `bert.encoder.layer.${layer}.${part}.bias`);
    }
  }
  names.push('bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'classifier.weight', 'classifier.bias');
  return names;
}

function checkpointFor(numLabels: number, rename: (name: string) => string = (name) => name): Map<string, SafetensorsTensor> {
  const tensors = new Map<string, SafetensorsTensor>();
  for (const spec of bertParameterSpecs(config, numLabels)) {
    const numel = spec.fileShape.reduce((product, dim) => product * dim, 1);
    tensors.set(rename(spec.name), { dtype: 'F32', shape: spec.fileShape, data: new Float32Array(numel).fill(spec.name.length) });
  }
  return tensors;
}

test('bertParameterSpecs lists every HF parameter with PyTorch shapes, linear weights [out, in]', () => {
  const specs = bertParameterSpecs(config, 3);
  assert.deepEqual(specs.map((spec) => spec.name), expectedHfNames());
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  assert.deepEqual(byName.get('bert.embeddings.word_embeddings.weight')!.fileShape, [50, 16]);
  assert.deepEqual(byName.get('bert.embeddings.position_embeddings.weight')!.fileShape, [64, 16]);
  assert.deepEqual(byName.get('bert.embeddings.token_type_embeddings.weight')!.fileShape, [2, 16]);
  const intermediate = byName.get('bert.encoder.layer.1.intermediate.dense.weight')!;
  assert.deepEqual(intermediate.fileShape, [32, 16]);
  assert.equal(intermediate.transposed, true);
  assert.deepEqual(internalShape(intermediate), [16, 32]);
  assert.deepEqual(byName.get('bert.encoder.layer.0.output.dense.weight')!.fileShape, [16, 32]);
  assert.deepEqual(byName.get('classifier.weight')!.fileShape, [3, 16]);
  assert.deepEqual(byName.get('classifier.bias')!.fileShape, [3]);
  assert.equal(byName.get('bert.embeddings.LayerNorm.weight')!.init, 'ones');
  assert.equal(byName.get('bert.pooler.dense.bias')!.init, 'zeros');
  assert.equal(byName.get('bert.embeddings.word_embeddings.weight')!.transposed, false);
});

test('canonicalTensorName maps bare BertModel names and LayerNorm.gamma/beta to HF names', () => {
  assert.equal(canonicalTensorName('embeddings.word_embeddings.weight'), 'bert.embeddings.word_embeddings.weight');
  assert.equal(canonicalTensorName('encoder.layer.3.output.LayerNorm.gamma'), 'bert.encoder.layer.3.output.LayerNorm.weight');
  assert.equal(canonicalTensorName('bert.embeddings.LayerNorm.beta'), 'bert.embeddings.LayerNorm.bias');
  assert.equal(canonicalTensorName('pooler.dense.bias'), 'bert.pooler.dense.bias');
  assert.equal(canonicalTensorName('classifier.weight'), 'classifier.weight');
  assert.equal(canonicalTensorName('cls.predictions.bias'), 'cls.predictions.bias');
});

test('selectCheckpointTensors takes every tensor of a full checkpoint', () => {
  const { values, report } = selectCheckpointTensors(bertParameterSpecs(config, 3), checkpointFor(3), 'm.safetensors');
  assert.deepEqual([...values.keys()], expectedHfNames());
  assert.equal(report.loaded, expectedHfNames().length);
  assert.deepEqual(report.ignored, []);
  assert.deepEqual(report.initialized, []);
  assert.equal(values.get('classifier.bias')![0], 'classifier.bias'.length);
});

test('selectCheckpointTensors accepts legacy gamma/beta names and a bare BertModel, leaving the head to fresh init', () => {
  const legacy = checkpointFor(2, (name) => name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'));
  assert.equal(selectCheckpointTensors(bertParameterSpecs(config, 2), legacy, 'm').values.size, expectedHfNames().length);

  const bare = checkpointFor(2, (name) => name.replace(/^bert\./, ''));
  bare.delete('classifier.weight');
  bare.delete('classifier.bias');
  const { values, report } = selectCheckpointTensors(bertParameterSpecs(config, 2), bare, 'm');
  assert.equal(values.get('bert.embeddings.LayerNorm.weight')![0], 'bert.embeddings.LayerNorm.weight'.length);
  assert.deepEqual(report.initialized, ['classifier.weight', 'classifier.bias']);
  assert.ok(!values.has('classifier.weight'));
});

test('selectCheckpointTensors ignores position_ids buffers and MLM/NSP heads, and reports them', () => {
  const tensors = checkpointFor(2);
  tensors.set('bert.embeddings.position_ids', { dtype: 'I64', shape: [1, 64], data: new Uint8Array(8 * 64) });
  tensors.set('cls.predictions.bias', { dtype: 'F32', shape: [50], data: new Float32Array(50) });
  tensors.set('cls.seq_relationship.weight', { dtype: 'F32', shape: [2, 16], data: new Float32Array(32) });
  const { report } = selectCheckpointTensors(bertParameterSpecs(config, 2), tensors, 'm');
  assert.deepEqual(report.ignored, ['bert.embeddings.position_ids', 'cls.predictions.bias', 'cls.seq_relationship.weight']);
});

test('selectCheckpointTensors rejects a missing encoder weight, a wrong shape, an integer dtype and duplicates', () => {
  const specs = bertParameterSpecs(config, 2);
  const missing = checkpointFor(2);
  missing.delete('bert.encoder.layer.1.attention.self.key.bias');
  assert.throws(() => selectCheckpointTensors(specs, missing, 'm.safetensors'),
    (error: unknown) => error instanceof CheckpointError && /^m\.safetensors: missing tensor "bert\.encoder\.layer\.1\.attention\.self\.key\.bias" \(expected shape \[16\]\)$/.test(error.message));

  const wrongShape = checkpointFor(2);
  wrongShape.set('bert.encoder.layer.0.intermediate.dense.weight', { dtype: 'F32', shape: [16, 32], data: new Float32Array(512) });
  assert.throws(() => selectCheckpointTensors(specs, wrongShape, 'm.safetensors'),
    /m\.safetensors: tensor "bert\.encoder\.layer\.0\.intermediate\.dense\.weight" has shape \[16,32\], expected \[32,16\]/);

  const wrongLabels = checkpointFor(3);
  assert.throws(() => selectCheckpointTensors(specs, wrongLabels, 'm'), /tensor "classifier\.weight" has shape \[3,16\], expected \[2,16\]/);

  const integer = checkpointFor(2);
  integer.set('bert.pooler.dense.bias', { dtype: 'I32', shape: [16], data: new Uint8Array(64) });
  assert.throws(() => selectCheckpointTensors(specs, integer, 'm'), /tensor "bert\.pooler\.dense\.bias" has dtype I32, expected a floating dtype/);

  const duplicate = checkpointFor(2);
  duplicate.set('embeddings.LayerNorm.gamma', duplicate.get('bert.embeddings.LayerNorm.weight')!);
  assert.throws(() => selectCheckpointTensors(specs, duplicate, 'm'),
    /tensors "bert\.embeddings\.LayerNorm\.weight" and "embeddings\.LayerNorm\.gamma" both provide "bert\.embeddings\.LayerNorm\.weight"/);
});

test('transpose2d converts between [out, in] and [in, out] and is its own inverse', () => {
  const matrix = Float32Array.from([1, 2, 3, 4, 5, 6]); // 2 × 3
  const transposed = transpose2d(matrix, 2, 3);
  assert.deepEqual(Array.from(transposed), [1, 4, 2, 5, 3, 6]);
  assert.deepEqual(Array.from(transpose2d(transposed, 3, 2)), Array.from(matrix));
});
