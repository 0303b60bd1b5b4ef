/**
 * `train` beyond the basics: evaluation after every epoch, early stopping that keeps the best
 * epoch's weights (also across a resume), the warm-up ratio, re-initialised top layers, and the
 * report every run leaves.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildModel, readConfig } from '../../src/app/checkpoint.js';
import { readConfigJson, readWeights as readDirectoryWeights } from '../../src/node/checkpoint.js';
import { maxWeightDifference, readWeights, runCli, sentimentRows, tempDir, tinyModel, writeJsonl } from './helpers.js';

interface Summary {
  epochs: { epoch: number; samples_seen: number }[];
  eval: { accuracy: number; macro_f1: number; loss: number };
  evaluations?: { epoch: number; metrics: { accuracy: number; macro_f1: number; loss: number } }[];
  early_stopping?: { metric: string; patience: number | null; best_epoch: number; stopped_at_epoch: number | null };
}

const summaryOf = (out: string) => JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as Summary;

test('early stopping on the eval loss keeps the best epoch\'s weights, writes the evaluations, and resumes to the same end', async () => {
  const dir = tempDir('cli-early-stopping');
  const model = await tinyModel(path.join(dir, 'model'), { randomWeights: true });
  const data = writeJsonl(path.join(dir, 'train.jsonl'), sentimentRows(24));
  const evalData = writeJsonl(path.join(dir, 'eval.jsonl'), sentimentRows(30).slice(24));
  // A learning rate so large that the eval loss jumps around and the run stops (measured: best
  // at epoch 3, stopped after epoch 5).
  const args = (out: string) => ['train', '--data', data, '--eval', evalData, '--model', model, '--out', out, '--epochs', '8', '--batch', '8', '--micro-batch', '4', '--lr', '2', '--metric', 'loss', '--patience', '2', '--backend', 'cpu', '--workers', '1'];
  const full = path.join(dir, 'full');
  const result = await runCli(args(full));
  assert.equal(result.code, 0, result.stderr);
  const summary = summaryOf(full);
  const { early_stopping: stopping, evaluations } = summary;
  assert.ok(stopping !== undefined && evaluations !== undefined);
  assert.equal(evaluations.length, summary.epochs.length, 'an evaluation after every epoch');
  const losses = evaluations.map((evaluation) => evaluation.metrics.loss);
  const best = losses.indexOf(Math.min(...losses)) + 1;
  assert.equal(stopping.best_epoch, best);
  // The final evaluation is the best epoch's: the model holds its weights.
  assert.equal(summary.eval.loss, losses[best - 1]);
  assert.equal(stopping.stopped_at_epoch, best + 2, 'patience 2: two epochs without improvement after the best');
  assert.equal(summary.epochs.length, best + 2);
  assert.match(result.stderr, /early stopping: best loss at epoch \d+/);

  // Interrupted mid-run and resumed: the same evaluations, the same best epoch, the same weights.
  const resumed = path.join(dir, 'resumed');
  const first = await runCli([...args(resumed), '--stop-after-steps', '5']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(existsSync(path.join(resumed, 'summary.json')), false);
  const second = await runCli(['train', '--resume', resumed, '--backend', 'cpu', '--workers', '1']);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(summaryOf(resumed).evaluations, evaluations);
  assert.deepEqual(summaryOf(resumed).early_stopping, stopping);
  assert.equal(maxWeightDifference(full, resumed, 1e-3), 0, 'bit-identical');
});

test('--warmup-ratio sets the warm-up from all optimizer steps; every run writes report.html', async () => {
  const dir = tempDir('cli-warmup');
  const model = await tinyModel(path.join(dir, 'model'));
  const data = writeJsonl(path.join(dir, 'train.jsonl'), sentimentRows(20));
  const out = path.join(dir, 'out');
  // 20 samples, batch 8: 3 steps per epoch, 12 in all; ratio 0.25 → 3 warm-up steps (HF rounds up).
  const result = await runCli(['train', '--data', data, '--model', model, '--out', out, '--epochs', '4', '--batch', '8', '--micro-batch', '8', '--lr', '0.1', '--warmup-ratio', '0.25', '--backend', 'cpu', '--workers', '1']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /linear, warmup 3\)/);
  const lrs = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { lr: number }).lr);
  assert.deepEqual(lrs.slice(0, 4).map((lr) => Number(lr.toFixed(6))), [0, 0.1 / 3, 0.2 / 3, 0.1].map((lr) => Number(lr.toFixed(6))));
  const report = readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.match(report, /<html/);
  assert.match(result.stdout, /report\.html/);
});

test('--reinit-layers N re-initialises the top N encoder layers and the pooler, and nothing else', async () => {
  const dir = tempDir('reinit');
  const model = await tinyModel(path.join(dir, 'model'), { randomWeights: true });
  const { json, file } = await readConfigJson(model);
  const { family, config } = readConfig(json, file);
  const weights = (await readDirectoryWeights(model))!;
  const built = buildModel(family, config, { task: 'sequence-classification', labels: ['negative', 'positive'], tensors: weights.tensors, reinitLayers: 1, source: weights.file });
  const original = readWeights(model);
  const reinitialised = new Set(built.report.initialized);
  for (const [name, values] of built.model.weights()) {
    const fresh = name.startsWith('bert.encoder.layer.1.') || name.startsWith('bert.pooler.');
    assert.equal(reinitialised.has(name), fresh, name);
    const same = values.every((value, i) => value === original.get(name)![i]);
    assert.equal(same, !fresh, `${name} ${fresh ? 'is new' : 'is kept'}`);
  }
  built.model.dispose();
});
