/**
 * prepareClassificationRun — what the web page runs before training — prepares exactly what
 * `microbatch train` prepares from the same files (src/node/tasks.ts, src/node/checkpoint.ts):
 * the same samples, labels and initial weights, the same errors; and checkpointContents writes
 * a checkpoint that loads back to the same parameters.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { buildModel, readConfig } from '../../src/app/checkpoint.js';
import { checkpointContents, evaluateClassification, prepareClassificationRun, readModelFolder, type ModelFolder } from '../../src/app/prepare.js';
import { CheckpointError } from '../../src/core/errors.js';
import { readConfigJson } from '../../src/node/checkpoint.js';
import { sequenceClassification } from '../../src/node/tasks.js';
import { loadTokenizer } from '../../src/tokenizers/index.js';
import { useBackend } from '../helpers/backend.js';
import { tempDir } from '../helpers/tempdir.js';
import { REPO_ROOT } from './report-fixture.js';

const MODEL = path.join(REPO_ROOT, 'data', 'default-model');
const TRAIN = path.join(REPO_ROOT, 'data', 'spam', 'train.jsonl');
const EVAL = path.join(REPO_ROOT, 'data', 'spam', 'eval.jsonl');
const SETTINGS = { textField: 'text', labelField: 'label', maxLength: 64, seed: 3 };

/** A directory as the page sees a dropped folder. */
async function folderOf(dir: string, extra: Record<string, Uint8Array> = {}): Promise<ModelFolder> {
  const names = [...(await fs.readdir(dir)), ...Object.keys(extra)];
  return { source: dir, names, read: async (name) => extra[name] ?? new Uint8Array(await fs.readFile(path.join(dir, name))) };
}

const data = async (file: string) => ({ file, content: await fs.readFile(file, 'utf8') });

test('the same samples, labels and initial weights as microbatch train prepares from the same files', async () => {
  await useBackend('wasm');
  const prepared = await prepareClassificationRun(await folderOf(MODEL), await data(TRAIN), await data(EVAL), SETTINGS);
  try {
    const { json, file } = await readConfigJson(MODEL);
    const { family, config } = readConfig(json, file);
    const tokenizer = loadTokenizer({ 'vocab.txt': await fs.readFile(path.join(MODEL, 'vocab.txt'), 'utf8') }, family.modelType, MODEL);
    const node = await sequenceClassification.prepare({ data: TRAIN, eval: EVAL, ...SETTINGS }, tokenizer, config);
    assert.deepEqual(prepared.labels, node.labels);
    assert.deepEqual(prepared.train, node.train);
    assert.deepEqual(prepared.eval, node.eval);
    assert.deepEqual(prepared.notices, [`data: ${node.describe}`, `model: ${MODEL} has no model.safetensors: initialised a new bert from config.json (seed 3)`]);
    const built = buildModel(family, config, { task: 'sequence-classification', labels: node.labels, seed: 3, source: file });
    assert.deepEqual(prepared.model.parameters.values.data, built.model.parameters.values.data);
    built.model.dispose();
    assert.deepEqual(Object.keys(prepared.tokenizerFiles).sort(), ['special_tokens_map.json', 'tokenizer_config.json', 'vocab.txt']);

    // The checkpoint loads back (from the bytes alone) to the same parameters, and evaluates the same.
    const files = checkpointContents(prepared.model as never, prepared.tokenizerFiles);
    assert.deepEqual([...files.keys()], ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']);
    const reloaded = await readModelFolder({ source: 'zip', names: [...files.keys()], read: async (name) => files.get(name)! });
    assert.deepEqual(reloaded.config.labels, ['ham', 'spam']);
    const again = buildModel(reloaded.family, reloaded.config, { task: 'sequence-classification', labels: ['ham', 'spam'], tensors: reloaded.weights!.tensors, source: reloaded.weights!.file });
    assert.deepEqual(again.model.parameters.values.data, prepared.model.parameters.values.data);
    const evaluation = evaluateClassification(prepared.model, prepared.eval!.slice(0, 40), prepared.labels, 16);
    assert.deepEqual(evaluateClassification(again.model as never, prepared.eval!.slice(0, 40), prepared.labels, 16), evaluation);
    assert.equal(evaluation.summary.samples, 40);
    assert.match(evaluation.line, /^accuracy \d\.\d{4} \(\d+\/40\), macro-F1 \d\.\d{4}$/);
    again.model.dispose();
  } finally {
    prepared.model.dispose();
  }
});

test('a folder\'s problems get the CLI\'s errors: no config.json, PyTorch weights, a shard the index names but the folder lacks', async () => {
  await useBackend('wasm');
  const empty = tempDir('prepare-empty');
  const nodeError = await readConfigJson(empty).then(() => undefined, (error: unknown) => error as CheckpointError);
  await assert.rejects(prepareClassificationRun(await folderOf(empty), await data(TRAIN), undefined, SETTINGS), (error: unknown) => {
    assert.ok(error instanceof CheckpointError);
    assert.equal(error.message, nodeError!.message);
    return true;
  });
  await assert.rejects(prepareClassificationRun(await folderOf(MODEL, { 'pytorch_model.bin': new Uint8Array(8) }), await data(TRAIN), undefined, SETTINGS), {
    message: `${MODEL}/pytorch_model.bin: only safetensors weights are supported, this directory has pytorch_model.bin: convert it with transformers' model.save_pretrained(dir, safe_serialization=True)`,
  });
  const index = new TextEncoder().encode(JSON.stringify({ weight_map: { 'bert.pooler.dense.weight': 'model-00001-of-00002.safetensors' } }));
  await assert.rejects(readModelFolder(await folderOf(MODEL, { 'model.safetensors.index.json': index })), { message: `${MODEL}/model-00001-of-00002.safetensors: weights not found` });
  await assert.rejects(prepareClassificationRun(await folderOf(MODEL), await data(TRAIN), undefined, { ...SETTINGS, maxLength: 2 }), { message: 'maxLength must be at least 3 (a token between the special tokens), got 2' });
});
