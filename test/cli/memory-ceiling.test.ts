/**
 * The wasm heap's 4 GiB ceiling, crossed on purpose: a model whose attention scores at 1024
 * tokens take 64 MiB per sample and layer (16 heads), trained at a micro-batch far over the
 * ceiling. The run must stop before training with one line naming the micro-batch that fits —
 * never `Aborted()` — leave no checkpoint behind, and the size it names must then train.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempDir, tinyModel, writeJsonl } from './helpers.js';

const LENGTH = 1024;

function longRows(count: number): { text: string; label: string }[] {
  // Each word is one token: [CLS] + (LENGTH - 2) words + [SEP] = LENGTH tokens.
  return Array.from({ length: count }, (_, i) => {
    const positive = i % 2 === 0;
    const words = Array.from({ length: LENGTH - 2 }, (_, k) => (k % 7 === 0 ? (positive ? 'good' : 'bad') : 'the'));
    return { text: words.join(' '), label: positive ? 'positive' : 'negative' };
  });
}

test('a micro-batch over the wasm heap ceiling stops before training with the size that fits, and that size trains', { timeout: 300_000 }, async () => {
  const dir = tempDir('cli-memory-ceiling');
  const model = await tinyModel(path.join(dir, 'model'), {
    config: { hidden_size: 32, num_attention_heads: 16, intermediate_size: 32, max_position_embeddings: LENGTH, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 },
  });
  const data = writeJsonl(path.join(dir, 'train.jsonl'), longRows(32));
  const args = (out: string, microBatch: string, batch: string, extra: string[] = []) => [
    'train', '--data', data, '--model', model, '--out', out, '--max-length', String(LENGTH),
    '--batch', batch, '--micro-batch', microBatch, '--epochs', '1', '--backend', 'wasm', '--workers', '1', ...extra,
  ];

  const refused = path.join(dir, 'refused');
  const result = await runCli(args(refused, '32', '32'));
  assert.equal(result.code, 1, result.stderr);
  assert.doesNotMatch(result.stderr, /Aborted|unexpected error/);
  const lines = result.stderr.trim().split('\n');
  const message = lines.at(-1)!;
  const match = /^microbatch: error: --micro-batch 32 would need about .* over the wasm heap's .* usable for tensors .*: --micro-batch (\d+) fits \(the result does not depend on it\), or use --micro-batch auto$/.exec(message);
  assert.ok(match !== null, `one clear line naming the size that fits, got:\n${result.stderr}`);
  const fitting = Number(match[1]);
  assert.ok(fitting >= 2 && fitting < 32, `fitting size ${fitting}`);
  assert.ok(!existsSync(path.join(refused, 'checkpoint')) && !existsSync(path.join(refused, 'model.safetensors')), 'nothing that looks like a trained model is left');

  // The size the message names trains: one optimizer step of one micro-batch, then a resumable stop.
  const fits = path.join(dir, 'fits');
  const trained = await runCli(args(fits, String(fitting), String(fitting), ['--stop-after-steps', '1']));
  assert.equal(trained.code, 0, trained.stderr);
  assert.doesNotMatch(trained.stderr, /Aborted|out of memory/);
  const state = JSON.parse(readFileSync(path.join(fits, 'checkpoint', 'training_state.json'), 'utf8')) as { microBatch: number };
  assert.equal(state.microBatch, fitting);
});
