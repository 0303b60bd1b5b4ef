import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { buildModel, readConfig } from '../../src/app/checkpoint.js';
import { CheckpointError } from '../../src/core/errors.js';
import { parseSafetensors, serializeSafetensors, type F32Tensor } from '../../src/core/safetensors.js';
import { readConfigJson, readTokenizerFiles, readWeights, saveCheckpoint } from '../../src/node/checkpoint.js';
import { loadTrainedModel } from '../../src/node/models.js';
import type { SequenceClassifier, SequenceSample, TaskModel } from '../../src/tasks/model.js';
import { useBackend } from '../helpers/backend.js';
import { tempDir } from '../helpers/tempdir.js';
import { makeTinyCheckpoint } from '../fixtures/tiny-bert.js';

const SAMPLES: SequenceSample[] = [
  { ids: [2, 10, 24, 12, 20, 3], label: 1 },
  { ids: [2, 30, 3], label: 0 },
];

/** A classifier from `dir` for training: the checkpoint's weights, the given labels. */
async function loadForTraining(dir: string, labels: string[], freshHead = false): Promise<{ model: SequenceClassifier; report: ReturnType<typeof buildModel>['report'] }> {
  const { json, file } = await readConfigJson(dir);
  const { family, config } = readConfig(json, file);
  const weights = await readWeights(dir);
  const built = buildModel(family, config, { task: 'sequence-classification', labels, tensors: weights!.tensors, freshHead, seed: 5, source: weights!.file });
  return { model: built.model as SequenceClassifier, report: built.report };
}

test('a saved checkpoint loads back with identical weights, probabilities and labels', async () => {
  await useBackend('cpu');
  const root = await tempDir('checkpoint');
  await makeTinyCheckpoint(path.join(root, 'source'), { randomWeights: true, labels: ['ham', 'spam'] });
  const source = await loadTrainedModel<SequenceClassifier>(path.join(root, 'source'), 'sequence-classification');
  assert.deepEqual(source.labels, ['ham', 'spam']);
  await saveCheckpoint(path.join(root, 'out'), source.model as TaskModel<unknown>, {
    tokenizerFiles: await readTokenizerFiles(path.join(root, 'source')),
    extraFiles: { 'training_state.json': '{"step":3}', 'blob.bin': new Uint8Array([1, 2, 3]) },
  });
  const reloaded = await loadTrainedModel<SequenceClassifier>(path.join(root, 'out'), 'sequence-classification');
  assert.deepEqual(reloaded.labels, ['ham', 'spam']);
  assert.deepEqual(reloaded.model.probabilities(SAMPLES), source.model.probabilities(SAMPLES));
  for (const [name, values] of reloaded.model.weights()) assert.deepEqual(values, source.model.weights().get(name), name);
  source.model.dispose();
  reloaded.model.dispose();

  const files = (await fs.readdir(path.join(root, 'out'))).sort();
  assert.deepEqual(files, ['blob.bin', 'config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer_config.json', 'training_state.json', 'vocab.txt']);
  assert.deepEqual([...(await fs.readFile(path.join(root, 'out', 'blob.bin')))], [1, 2, 3]);
  // Exactly what HF writes: F32, HF names, [out, in] linear weights, pt metadata.
  const saved = parseSafetensors(new Uint8Array(await fs.readFile(path.join(root, 'out', 'model.safetensors'))), 'saved');
  assert.deepEqual(saved.metadata, { format: 'pt' });
  assert.equal(saved.tensors.size, 41);
  assert.deepEqual(saved.tensors.get('bert.encoder.layer.0.intermediate.dense.weight')!.shape, [32, 16]);
  assert.deepEqual(saved.tensors.get('classifier.weight')!.shape, [2, 16]);
  assert.ok([...saved.tensors.values()].every((tensor) => tensor.dtype === 'F32'));
});

test('saving over an existing checkpoint replaces it atomically and leaves no temporary directory', async () => {
  await useBackend('cpu');
  const root = await tempDir('checkpoint');
  await makeTinyCheckpoint(path.join(root, 'source'));
  const { model } = await loadTrainedModel<SequenceClassifier>(path.join(root, 'source'), 'sequence-classification');
  const target = path.join(root, 'nested', 'checkpoint');
  await saveCheckpoint(target, model as TaskModel<unknown>, { extraFiles: { 'old-only.txt': 'x' } });
  await saveCheckpoint(target, model as TaskModel<unknown>);
  assert.deepEqual(await fs.readdir(path.join(root, 'nested')), ['checkpoint']);
  assert.deepEqual((await fs.readdir(target)).sort(), ['config.json', 'model.safetensors']);
  // A failing save (bad extra file name) leaves the previous checkpoint untouched.
  await assert.rejects(saveCheckpoint(target, model as TaskModel<unknown>, { extraFiles: { '../escape': 'x' } }), CheckpointError);
  await assert.rejects(saveCheckpoint(target, model as TaskModel<unknown>, { extraFiles: { 'config.json': '{}' } }), /must not replace config\.json/);
  assert.deepEqual((await fs.readdir(target)).sort(), ['config.json', 'model.safetensors']);
  assert.deepEqual(await fs.readdir(path.join(root, 'nested')), ['checkpoint']);
  model.dispose();
});

test('a base checkpoint (bare BertModel, legacy names, buffers) gets a fresh head; new labels get a fresh label layer', async () => {
  await useBackend('cpu');
  const root = await tempDir('checkpoint');
  const dir = path.join(root, 'base');
  const written = await makeTinyCheckpoint(dir, { bareBertModel: true, legacyLayerNormNames: true, extraTensors: true, labels: null, seed: 3 });
  const { model, report } = await loadForTraining(dir, ['x', 'y', 'z']);
  assert.deepEqual(report.initialized, ['classifier.weight', 'classifier.bias']);
  assert.deepEqual(report.ignored, ['cls.predictions.bias', 'embeddings.position_ids']);
  const weights = model.weights();
  assert.deepEqual(weights.get('bert.embeddings.LayerNorm.weight'), written.weights.get('bert.embeddings.LayerNorm.weight')!.data);
  assert.deepEqual(weights.get('bert.encoder.layer.1.output.dense.weight'), written.weights.get('bert.encoder.layer.1.output.dense.weight')!.data);
  assert.equal(weights.get('classifier.weight')!.length, 3 * 16);
  assert.ok(weights.get('classifier.bias')!.every((value) => value === 0));
  const classifier = weights.get('classifier.weight')!;
  const std = Math.sqrt(classifier.reduce((sum, value) => sum + value * value, 0) / classifier.length);
  assert.ok(std > 0.01 && std < 0.03, `fresh head std ${std} ≈ initializer_range 0.02`);
  model.dispose();

  // A trained classifier given other labels keeps its pooler and starts its classifier afresh.
  await makeTinyCheckpoint(path.join(root, 'named'), { labels: ['neg', 'pos'], randomWeights: true });
  const relabelled = await loadForTraining(path.join(root, 'named'), ['a', 'b'], true);
  assert.deepEqual(relabelled.report.initialized, ['classifier.weight', 'classifier.bias']);
  relabelled.model.dispose();
});

test('missing or malformed checkpoint directories and files are CheckpointErrors naming the path', async () => {
  await useBackend('cpu');
  const root = await tempDir('checkpoint');
  const missing = path.join(root, 'nope');
  await assert.rejects(loadTrainedModel(missing, 'sequence-classification'), (error: unknown) => error instanceof CheckpointError && error.message === `${missing}: model directory not found`);
  const dir = path.join(root, 'ckpt');
  await makeTinyCheckpoint(dir);
  await fs.writeFile(path.join(root, 'file'), 'x');
  await assert.rejects(loadTrainedModel(path.join(root, 'file'), 'sequence-classification'), /not a directory/);

  await fs.rm(path.join(dir, 'model.safetensors'));
  await assert.rejects(loadTrainedModel(dir, 'sequence-classification'), /has no model\.safetensors: a trained model directory is needed/);
  await fs.writeFile(path.join(dir, 'pytorch_model.bin'), 'x');
  await assert.rejects(readWeights(dir), /pytorch_model\.bin: only safetensors weights are supported, this directory has pytorch_model\.bin: convert it with transformers' model\.save_pretrained\(dir, safe_serialization=True\)/);
  await fs.writeFile(path.join(dir, 'model.safetensors'), new Uint8Array(4));
  await assert.rejects(loadTrainedModel(dir, 'sequence-classification'), /model\.safetensors: truncated safetensors file/);

  await fs.writeFile(path.join(dir, 'config.json'), '{"hidden_size": 16,');
  await assert.rejects(readConfigJson(dir), /config\.json: not valid JSON/);
  await fs.writeFile(path.join(dir, 'config.json'), '{"model_type": "bert", "hidden_act": "swish"}');
  await assert.rejects(loadTrainedModel(dir, 'sequence-classification'), /config\.json, field "hidden_act"/);
  await fs.rm(path.join(dir, 'config.json'));
  await assert.rejects(readConfigJson(dir), (error: unknown) => error instanceof CheckpointError && /config\.json: config\.json \(is .* a Hugging Face model directory\?\) not found/.test(error.message));

  // Encoder tensors of the wrong size: the error names tensor, expected and found shapes.
  await makeTinyCheckpoint(path.join(root, 'wide'), { config: { intermediate_size: 24 } });
  await makeTinyCheckpoint(path.join(root, 'mismatch'));
  await fs.copyFile(path.join(root, 'wide', 'model.safetensors'), path.join(root, 'mismatch', 'model.safetensors'));
  await assert.rejects(loadTrainedModel(path.join(root, 'mismatch'), 'sequence-classification'), /field "bert\.encoder\.layer\.0\.intermediate\.dense\.weight": has shape \[24,16\], expected \[32,16\]/);
});

test('sharded safetensors load as one checkpoint; an index that does not match its shards is refused', async () => {
  await useBackend('cpu');
  const root = await tempDir('shards');
  const dir = path.join(root, 'sharded');
  await makeTinyCheckpoint(dir, { randomWeights: true, labels: ['ham', 'spam'] });
  const whole = parseSafetensors(new Uint8Array(await fs.readFile(path.join(dir, 'model.safetensors'))), 'whole').tensors;
  const names = [...whole.keys()];
  const halves = [names.slice(0, 20), names.slice(20)];
  const weightMap: Record<string, string> = {};
  for (const [index, part] of halves.entries()) {
    const shard = `model-0000${index + 1}-of-00002.safetensors`;
    await fs.writeFile(path.join(dir, shard), serializeSafetensors(new Map(part.map((name) => [name, whole.get(name) as F32Tensor]))));
    for (const name of part) weightMap[name] = shard;
  }
  await fs.rm(path.join(dir, 'model.safetensors'));
  await fs.writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  const loaded = await readWeights(dir);
  assert.deepEqual([...loaded!.tensors.keys()].sort(), names.sort());
  const model = await loadTrainedModel<SequenceClassifier>(dir, 'sequence-classification');
  assert.deepEqual(model.labels, ['ham', 'spam']);
  model.model.dispose();
  await fs.writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { ...weightMap, extra: 'model-00001-of-00002.safetensors' } }));
  await assert.rejects(readWeights(dir), /field "weight_map": names tensor "extra", which its shard lacks/);
  await fs.writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: '../../etc/passwd' } }));
  await assert.rejects(readWeights(dir), /names a shard that is not a plain file name/);
});
