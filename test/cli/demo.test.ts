import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { runCli, tempDir } from './helpers.js';

// The README's main command: `train` with neither --data nor --model. This is the product's
// promise end to end, so it runs in full (about half a minute on two cores).
test('the embedded default fine-tunes the shipped pretrained model on the bundled data, counts every sample and reaches ≥ 0.75 eval accuracy', async () => {
  const out = path.join(tempDir('demo'), 'out');
  const result = await runCli(['train', '--out', out, '--backend', 'wasm']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /model: loaded 37 tensors from .*data[/\\]pretrained-model[/\\]model\.safetensors/);
  const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.samples, 110);
  assert.equal(summary.epochs.length, 12);
  for (const epoch of summary.epochs) {
    assert.equal(epoch.samples_seen, 110);
    assert.deepEqual(epoch.windows, [32, 32, 32, 14]);
    assert.equal(epoch.dropped_samples, 0);
  }
  assert.equal(summary.eval.samples, 440);
  assert.ok(summary.eval.accuracy >= 0.75, `eval accuracy ${summary.eval.accuracy} < 0.75`);
  assert.match(result.stdout, /epoch 12: 110\/110 samples in 4 steps \[32, 32, 32, 14\]/);
  assert.ok(existsSync(path.join(out, 'model.safetensors')));
});
