/**
 * docs/design.md §2 through the CLI: the saved weights do not depend on the micro-batch size nor on the
 * number of workers (up to float32 rounding) — with dropout off and no shuffling, and with the
 * model's own dropout (0.1) and shuffling, since each sample's masks come from the seed, the
 * epoch and its index alone.
 *
 * The runs use SGD, which maps the (split-invariant) window gradient linearly onto the weights.
 * AdamW divides by √v̂, so on parameters whose true gradient is zero — BERT's attention key
 * biases, since softmax ignores a constant shift — it turns float32 noise into ±lr updates,
 * whatever the split; that is AdamW's conditioning, not accumulation's (test/train covers AdamW
 * on well-conditioned models).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { maxWeightDifference, readWeights, runCli, sentimentRows, tempDir, tinyModel, writeJsonl } from './helpers.js';
import { maxRelativeDifference } from '../helpers/backend.js';

test('micro-batch 3, 8 and 32 and --workers 2 train the same weights', async () => {
  const dir = tempDir('cli-split');
  const model = await tinyModel(path.join(dir, 'model'), { randomWeights: true });
  // 40 rows with batch 32: a full window and a partial one per epoch.
  const data = writeJsonl(path.join(dir, 'train.jsonl'), sentimentRows(40));
  const common = ['train', '--data', data, '--model', model, '--epochs', '2', '--batch', '32', '--optimizer', 'sgd', '--lr', '0.05', '--no-shuffle', '--dropout', '0', '--backend', 'cpu'];
  const runs = [
    { name: 'micro3', args: ['--micro-batch', '3', '--workers', '1'] },
    { name: 'micro8', args: ['--micro-batch', '8', '--workers', '1'] },
    { name: 'micro32', args: ['--micro-batch', '32', '--workers', '1'] },
    { name: 'workers2', args: ['--micro-batch', '3', '--workers', '2'] },
  ];
  // Two at a time: the machine has two cores.
  for (let i = 0; i < runs.length; i += 2) {
    const results = await Promise.all(runs.slice(i, i + 2).map((run) => runCli([...common, ...run.args, '--out', path.join(dir, run.name)])));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
  }
  const reference = path.join(dir, 'micro3');
  // Training moved the weights (so agreement below is not trivially about the initial weights).
  const initial = readWeights(model).get('classifier.weight')!;
  assert.ok(maxRelativeDifference(initial, readWeights(reference).get('classifier.weight')!) > 1e-3);
  for (const run of runs.slice(1)) {
    const difference = maxWeightDifference(reference, path.join(dir, run.name));
    assert.ok(difference <= 1e-5, `${run.name} differs from micro-batch 3 by ${difference}`);
  }
});

test('with the model\'s dropout (0.1) and shuffling, micro-batch 2 and 8 and --workers 2 train the same weights', async () => {
  const dir = tempDir('cli-split-dropout');
  const model = await tinyModel(path.join(dir, 'model'), { randomWeights: true });
  const config = JSON.parse(readFileSync(path.join(model, 'config.json'), 'utf8')) as Record<string, number>;
  assert.equal(config.hidden_dropout_prob, 0.1);
  assert.equal(config.attention_probs_dropout_prob, 0.1);
  // 20 rows with batch 8: windows of 8, 8 and 4 samples per epoch.
  const data = writeJsonl(path.join(dir, 'train.jsonl'), sentimentRows(20));
  const common = ['train', '--data', data, '--model', model, '--epochs', '2', '--batch', '8', '--optimizer', 'sgd', '--lr', '0.05', '--seed', '5', '--backend', 'cpu'];
  const runs = [
    { name: 'micro2', args: ['--micro-batch', '2', '--workers', '1'] },
    { name: 'micro8', args: ['--micro-batch', '8', '--workers', '1'] },
    { name: 'workers2', args: ['--micro-batch', '3', '--workers', '2'] },
    { name: 'nodropout', args: ['--micro-batch', '8', '--workers', '1', '--dropout', '0'] },
  ];
  for (let i = 0; i < runs.length; i += 2) {
    const results = await Promise.all(runs.slice(i, i + 2).map((run) => runCli([...common, ...run.args, '--out', path.join(dir, run.name)])));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
  }
  const reference = path.join(dir, 'micro8');
  // Dropout was on: the same run without it ends elsewhere.
  assert.ok(maxWeightDifference(reference, path.join(dir, 'nodropout')) > 1e-3, 'dropout changed the training');
  for (const run of ['micro2', 'workers2']) {
    const difference = maxWeightDifference(reference, path.join(dir, run));
    assert.ok(difference <= 1e-5, `${run} differs from micro-batch 8 by ${difference}`);
  }
});
