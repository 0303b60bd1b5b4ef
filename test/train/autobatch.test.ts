/** Automatic micro-batch sizing: the largest size whose measured peak fits, verified from both sides. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { BertForSequenceClassification, type EncodedExample } from '../../src/bert/model.js';
import { ConfigError } from '../../src/core/errors.js';
import { chooseMicroBatch, formatBytes, measureMicroBatchPeak, type AutoMicroBatchOptions } from '../../src/train/autobatch.js';
import { tinyConfig } from '../bert/fixtures.js';
import { useBackend } from '../helpers/backend.js';
import { runCli, sentimentRows, tempDir, tinyModel, writeJsonl } from '../cli/helpers.js';

const LONGEST: EncodedExample = { ids: [2, 10, 20, 24, 7, 30, 31, 12, 11, 5, 3], label: 1 };

function options(model: BertForSequenceClassification, budgetBytes: number, maxMicroBatch = 16, optimizerStateBytes = 0): AutoMicroBatchOptions<EncodedExample> {
  return { model, probeSamples: (count) => Array.from({ length: count }, () => LONGEST), maxMicroBatch, budgetBytes, optimizerStateBytes };
}

test('chooseMicroBatch returns the largest size whose measured peak fits the budget', async () => {
  await useBackend('cpu');
  const model = BertForSequenceClassification.create(tinyConfig(), { numLabels: 2, seed: 1 });
  try {
    const peak = (size: number) => measureMicroBatchPeak(options(model, 1), size);
    const peaks = [0];
    for (let size = 1; size <= 8; size++) peaks.push(await peak(size));
    assert.equal(await peak(3), peaks[3], 'a probe is deterministic');
    for (let size = 2; size <= 8; size++) assert.ok(peaks[size]! > peaks[size - 1]!, `peak grows with the micro-batch (${peaks.join(', ')})`);

    const tensorsBefore = tf.memory().numTensors;
    for (const target of [1, 2, 5, 7]) {
      const budget = Math.floor((peaks[target]! + peaks[target + 1]!) / 2);
      const choice = await chooseMicroBatch(options(model, budget));
      assert.equal(choice.microBatch, target, `budget ${formatBytes(budget)}`);
      assert.ok(choice.peakBytes <= budget);
      assert.equal(choice.budgetBytes, budget);
      assert.ok(choice.probes.some((probe) => probe.microBatch === target + 1 && probe.peakBytes > budget), 'the next size up was measured over budget');
      assert.ok((await peak(target + 1)) > budget);
    }
    // Exactly at a measured peak: that size fits.
    assert.equal((await chooseMicroBatch(options(model, peaks[4]!))).microBatch, 4);
    assert.equal(tf.memory().numTensors, tensorsBefore, 'probing frees every tensor');
  } finally {
    model.dispose();
  }
});

test('chooseMicroBatch is capped by maxMicroBatch and counts the optimizer state', async () => {
  await useBackend('cpu');
  const model = BertForSequenceClassification.create(tinyConfig(), { numLabels: 2, seed: 1 });
  try {
    const capped = await chooseMicroBatch(options(model, 1e12, 6));
    assert.equal(capped.microBatch, 6);
    assert.equal((await chooseMicroBatch(options(model, 1e12, 1))).microBatch, 1);
    const one = await measureMicroBatchPeak(options(model, 1), 1);
    assert.equal(await measureMicroBatchPeak(options(model, 1, 16, 1000), 1), one + 1000);
  } finally {
    model.dispose();
  }
});

test('a budget below one sample, or not positive, is a ConfigError', async () => {
  await useBackend('cpu');
  const model = BertForSequenceClassification.create(tinyConfig(), { numLabels: 2, seed: 1 });
  try {
    const one = await measureMicroBatchPeak(options(model, 1), 1);
    await assert.rejects(chooseMicroBatch(options(model, one - 1)), (error: unknown) => error instanceof ConfigError && /even a micro-batch of 1 needs/.test(error.message));
    await assert.rejects(chooseMicroBatch(options(model, 0)), ConfigError);
    await assert.rejects(chooseMicroBatch(options(model, 1e9, 0)), ConfigError);
  } finally {
    model.dispose();
  }
});

test('formatBytes', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(64 * 1024 ** 2), '64.0 MiB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.00 GiB');
});

test('CLI: --micro-batch auto --memory-budget prints its choice and trains with it', async () => {
  const dir = tempDir('cli-auto');
  const model = await tinyModel(path.join(dir, 'model'));
  const data = writeJsonl(path.join(dir, 'train.jsonl'), sentimentRows(22));
  const run = async (budget: string) => {
    const out = path.join(dir, `out-${budget}`);
    const result = await runCli(['train', '--data', data, '--model', model, '--out', out, '--epochs', '1', '--batch', '16', '--micro-batch', 'auto', '--memory-budget', budget, '--backend', 'cpu', '--workers', '1']);
    assert.equal(result.code, 0, result.stderr);
    const match = /^micro-batch auto: (\d+) \(peak .* of .* at \d+ tokens; probes .*\)$/m.exec(result.stderr);
    assert.ok(match, result.stderr);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.micro_batch, Number(match[1]));
    assert.equal(summary.epochs[0].samples_seen, 22);
    return Number(match[1]);
  };
  const [large, small] = await Promise.all([run('64MB'), run('600KB')]);
  assert.equal(large, 16, 'a large budget is capped by --batch');
  assert.ok(small >= 1 && small < 16, `600KB allows ${small}`);
  const refused = await runCli(['train', '--data', data, '--model', model, '--out', path.join(dir, 'refused'), '--micro-batch', 'auto', '--memory-budget', '10KB', '--backend', 'cpu', '--workers', '1']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^microbatch: error: even a micro-batch of 1 needs .* over the memory budget of 9\.8 KiB\n$/m);
});
