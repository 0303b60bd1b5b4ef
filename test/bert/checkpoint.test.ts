import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { CheckpointError, ConfigError } from '../../src/core/errors.js';
import { loadBertCheckpoint, saveBertCheckpoint } from '../../src/bert/checkpoint.js';
import type { EncodedExample } from '../../src/bert/model.js';
import { parseSafetensors } from '../../src/core/safetensors.js';
import { useBackend } from '../helpers/backend.js';
import { makeTinyCheckpoint } from './fixtures.js';

const SAMPLES: EncodedExample[] = [
  { ids: [2, 10, 24, 12, 20, 3], label: 1 },
  { ids: [2, 30, 3], label: 0 },
];

async function temporaryDirectory(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'microbatch-bert-'));
}

test('a saved checkpoint loads back with identical weights, logits and labels', async () => {
  await useBackend('cpu');
  const root = await temporaryDirectory();
  try {
    await makeTinyCheckpoint(path.join(root, 'source'), { randomWeights: true, labels: ['ham', 'spam'] });
    const source = await loadBertCheckpoint(path.join(root, 'source'));
    assert.deepEqual(source.labels, ['ham', 'spam']);
    assert.deepEqual(source.report, { loaded: 41, ignored: [], initialized: [] });
    await saveBertCheckpoint(path.join(root, 'out'), source.model, {
      labels: source.labels,
      tokenizerFilesFrom: path.join(root, 'source'),
      extraFiles: { 'training_state.json': '{"step":3}', 'blob.bin': new Uint8Array([1, 2, 3]) },
    });
    const reloaded = await loadBertCheckpoint(path.join(root, 'out'));
    assert.deepEqual(reloaded.labels, ['ham', 'spam']);
    const before = source.model.logits(SAMPLES);
    const after = reloaded.model.logits(SAMPLES);
    assert.deepEqual(after.arraySync(), before.arraySync());
    before.dispose();
    after.dispose();
    const original = source.model.exportWeights();
    for (const [name, tensor] of reloaded.model.exportWeights()) assert.deepEqual(tensor.data, original.get(name)!.data, name);
    source.model.dispose();
    reloaded.model.dispose();

    const files = (await fs.readdir(path.join(root, 'out'))).sort();
    assert.deepEqual(files, ['blob.bin', 'config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer_config.json', 'training_state.json', 'vocab.txt']);
    assert.equal(await fs.readFile(path.join(root, 'out', 'vocab.txt'), 'utf8'), await fs.readFile(path.join(root, 'source', 'vocab.txt'), 'utf8'));
    assert.deepEqual([...(await fs.readFile(path.join(root, 'out', 'blob.bin')))], [1, 2, 3]);
    // Exactly what HF writes: F32, HF names, [out, in] linear weights, pt metadata.
    const saved = parseSafetensors(new Uint8Array(await fs.readFile(path.join(root, 'out', 'model.safetensors'))), 'saved');
    assert.deepEqual(saved.metadata, { format: 'pt' });
    assert.equal(saved.tensors.size, 41);
    assert.deepEqual(saved.tensors.get('bert.encoder.layer.0.intermediate.dense.weight')!.shape, [32, 16]);
    assert.deepEqual(saved.tensors.get('classifier.weight')!.shape, [2, 16]);
    assert.ok([...saved.tensors.values()].every((tensor) => tensor.dtype === 'F32'));
    const config = JSON.parse(await fs.readFile(path.join(root, 'out', 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(config.id2label, { '0': 'ham', '1': 'spam' });
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('saving over an existing checkpoint replaces it atomically and leaves no temporary directory', async () => {
  await useBackend('cpu');
  const root = await temporaryDirectory();
  try {
    await makeTinyCheckpoint(path.join(root, 'source'));
    const { model } = await loadBertCheckpoint(path.join(root, 'source'), { dropout: 0 });
    const target = path.join(root, 'nested', 'checkpoint');
    await saveBertCheckpoint(target, model, { labels: ['a', 'b'], extraFiles: { 'old-only.txt': 'x' } });
    await saveBertCheckpoint(target, model, { labels: ['c', 'd'] });
    assert.deepEqual(await fs.readdir(path.join(root, 'nested')), ['checkpoint']);
    assert.deepEqual((await fs.readdir(target)).sort(), ['config.json', 'model.safetensors']);
    assert.deepEqual((await loadBertCheckpoint(target)).labels, ['c', 'd']);

    // A failing save (bad extra file name) leaves the previous checkpoint untouched.
    await assert.rejects(saveBertCheckpoint(target, model, { labels: ['e', 'f'], extraFiles: { '../escape': 'x' } }), ConfigError);
    await assert.rejects(saveBertCheckpoint(target, model, { labels: ['e', 'f'], extraFiles: { 'config.json': '{}' } }), /must not replace config\.json/);
    await assert.rejects(saveBertCheckpoint(target, model, { labels: ['only-one'] }), /1 labels given for a model with 2 classes/);
    const again = await loadBertCheckpoint(target);
    assert.deepEqual(again.labels, ['c', 'd']);
    again.model.dispose();
    assert.deepEqual(await fs.readdir(path.join(root, 'nested')), ['checkpoint']);
    model.dispose();
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('a base checkpoint (bare BertModel, legacy names, buffers, no labels) gets a fresh head and the caller labels', async () => {
  await useBackend('cpu');
  const root = await temporaryDirectory();
  try {
    const dir = path.join(root, 'base');
    const written = await makeTinyCheckpoint(dir, { bareBertModel: true, legacyLayerNormNames: true, extraTensors: true, labels: null, seed: 3 });
    const { model, labels, report } = await loadBertCheckpoint(dir, { labels: ['x', 'y', 'z'], seed: 5 });
    assert.deepEqual(labels, ['x', 'y', 'z']);
    assert.deepEqual(report.initialized, ['classifier.weight', 'classifier.bias']);
    assert.deepEqual(report.ignored, ['cls.predictions.bias', 'embeddings.position_ids']);
    const weights = model.exportWeights();
    assert.deepEqual(weights.get('bert.embeddings.LayerNorm.weight')!.data, written.weights.get('bert.embeddings.LayerNorm.weight')!.data);
    assert.deepEqual(weights.get('bert.encoder.layer.1.output.dense.weight')!.data, written.weights.get('bert.encoder.layer.1.output.dense.weight')!.data);
    assert.deepEqual(weights.get('classifier.weight')!.shape, [3, 16]);
    assert.ok(weights.get('classifier.bias')!.data.every((value) => value === 0));
    const classifier = weights.get('classifier.weight')!.data;
    const std = Math.sqrt(classifier.reduce((sum, value) => sum + value * value, 0) / classifier.length);
    assert.ok(std > 0.01 && std < 0.03, `fresh head std ${std} ≈ initializer_range 0.02`);
    model.dispose();

    const placeholders = await loadBertCheckpoint(dir, { numLabels: 4 });
    assert.deepEqual(placeholders.labels, ['LABEL_0', 'LABEL_1', 'LABEL_2', 'LABEL_3']);
    placeholders.model.dispose();
    const defaults = await loadBertCheckpoint(dir);
    assert.deepEqual(defaults.labels, ['LABEL_0', 'LABEL_1']);
    defaults.model.dispose();
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('labels: real id2label names win over the caller labels; HF placeholders do not', async () => {
  await useBackend('cpu');
  const root = await temporaryDirectory();
  try {
    await makeTinyCheckpoint(path.join(root, 'named'), { labels: ['neg', 'pos'] });
    const named = await loadBertCheckpoint(path.join(root, 'named'), { labels: ['b', 'a'] });
    assert.deepEqual(named.labels, ['neg', 'pos']);
    named.model.dispose();
    await makeTinyCheckpoint(path.join(root, 'placeholder'), { labels: ['LABEL_0', 'LABEL_1'], withClassifier: false });
    const placeholder = await loadBertCheckpoint(path.join(root, 'placeholder'), { labels: ['b', 'a'] });
    assert.deepEqual(placeholder.labels, ['b', 'a']);
    placeholder.model.dispose();
    await assert.rejects(loadBertCheckpoint(path.join(root, 'placeholder'), { labels: [] }), /labels must not be empty/);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('missing or malformed checkpoint directories and files are CheckpointErrors naming the path', async () => {
  await useBackend('cpu');
  const root = await temporaryDirectory();
  try {
    const missing = path.join(root, 'nope');
    await assert.rejects(loadBertCheckpoint(missing), (error: unknown) => error instanceof CheckpointError && error.message === `${missing}: checkpoint directory not found`);
    const dir = path.join(root, 'ckpt');
    await makeTinyCheckpoint(dir);
    await fs.writeFile(path.join(root, 'file'), 'x');
    await assert.rejects(loadBertCheckpoint(path.join(root, 'file')), /not a directory/);

    await fs.rm(path.join(dir, 'model.safetensors'));
    await assert.rejects(loadBertCheckpoint(dir), (error: unknown) => error instanceof CheckpointError && error.message.startsWith(`${path.join(dir, 'model.safetensors')}: weights (only model.safetensors is supported`));
    await fs.writeFile(path.join(dir, 'model.safetensors'), new Uint8Array(4));
    await assert.rejects(loadBertCheckpoint(dir), /model\.safetensors: truncated safetensors file/);

    await fs.writeFile(path.join(dir, 'config.json'), '{"hidden_size": 16,');
    await assert.rejects(loadBertCheckpoint(dir), /config\.json: not valid JSON/);
    await fs.writeFile(path.join(dir, 'config.json'), '{"hidden_act": "swish"}');
    await assert.rejects(loadBertCheckpoint(dir), /config\.json: field "hidden_act"/);
    await fs.rm(path.join(dir, 'config.json'));
    await assert.rejects(loadBertCheckpoint(dir), (error: unknown) => error instanceof CheckpointError && /config\.json: config not found/.test(error.message));

    // Encoder tensors of the wrong size: the error names tensor, expected and found shapes.
    await makeTinyCheckpoint(path.join(root, 'wide'), { config: { intermediate_size: 24 } });
    await fs.copyFile(path.join(root, 'wide', 'model.safetensors'), path.join(root, 'narrow.safetensors'));
    await makeTinyCheckpoint(path.join(root, 'mismatch'));
    await fs.copyFile(path.join(root, 'narrow.safetensors'), path.join(root, 'mismatch', 'model.safetensors'));
    await assert.rejects(loadBertCheckpoint(path.join(root, 'mismatch')), /tensor "bert\.encoder\.layer\.0\.intermediate\.dense\.weight" has shape \[24,16\], expected \[32,16\]/);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
