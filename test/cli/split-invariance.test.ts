/**
 * DESIGN §2 through the CLI: with dropout off and no shuffling, the saved weights do not depend
 * on the micro-batch size nor on the number of workers (up to float32 rounding).
 *
 * The runs use SGD, which maps the (split-invariant) window gradient linearly onto the weights.
 * AdamW divides by √v̂, so on parameters whose true gradient is zero — BERT's attention key
 * biases, since softmax ignores a constant shift — it turns float32 noise into ±lr updates,
 * whatever the split; that is AdamW's conditioning, not accumulation's (test/train covers AdamW
 * on well-conditioned models).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
