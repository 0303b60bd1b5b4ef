/**
 * `--precision bf16` through the command line: autocast reaches every matrix product of the run
 * (main thread and workers alike), the setting is recorded and resumed, and the result stays
 * near fp32 without being equal to it.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { differenceRelativeToUpdate, runCli, sentimentRows, tempDir, tinyModel, writeJsonl } from './helpers.js';

const dir = tempDir('cli-precision');
const data = writeJsonl(path.join(dir, 'train.jsonl'), sentimentRows(16));

function train(model: string, out: string, extra: string[]): ReturnType<typeof runCli> {
  return runCli(['train', '--data', data, '--model', model, '--out', out, '--epochs', '2', '--batch', '8', '--micro-batch', '4', '--max-length', '16', '--optimizer', 'sgd', '--lr', '0.5', '--backend', 'wasm', ...extra]);
}

test('--precision bf16 trains near fp32 but not equal to it, the same with 1 and 2 workers, and is recorded', async () => {
  const model = await tinyModel(path.join(dir, 'model'));
  const [fp32, bf16, bf16Workers] = await Promise.all([
    train(model, path.join(dir, 'fp32'), ['--workers', '1']),
    train(model, path.join(dir, 'bf16'), ['--workers', '1', '--precision', 'bf16']),
    train(model, path.join(dir, 'bf16-workers'), ['--workers', '2', '--precision', 'bf16']),
  ]);
  for (const run of [fp32, bf16, bf16Workers]) assert.equal(run.code, 0, run.stderr);
  const settings = (name: string) => (JSON.parse(readFileSync(path.join(dir, name, 'summary.json'), 'utf8')) as { settings: { precision: string } }).settings;
  assert.equal(settings('fp32').precision, 'fp32');
  assert.equal(settings('bf16').precision, 'bf16');
  // Differences relative to how far training moved the weights: float32 rounding gives ~1e-6.
  const apart = differenceRelativeToUpdate(model, path.join(dir, 'fp32'), path.join(dir, 'bf16')).ratio;
  assert.ok(apart > 1e-4, `bf16 products must change the weights (${apart} of the update)`);
  assert.ok(apart < 0.2, `bf16 stays near fp32 (${apart} of the update)`);
  const workers = differenceRelativeToUpdate(model, path.join(dir, 'bf16'), path.join(dir, 'bf16-workers')).ratio;
  assert.ok(workers < 1e-4, `workers compute in bf16 too (${workers} of the update apart from 1 worker)`);
});

test('--precision takes fp32 or bf16 only', async () => {
  const result = await runCli(['train', '--data', data, '--model', await tinyModel(path.join(dir, 'model-bad')), '--out', path.join(dir, 'bad'), '--precision', 'fp16']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--precision/);
  assert.match(result.stderr, /fp32, bf16/);
});
