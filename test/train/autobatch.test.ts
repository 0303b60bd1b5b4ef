/** Automatic micro-batch sizing: the largest size whose measured peak fits, verified from both sides. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { readConfig } from '../../src/app/checkpoint.js';
import { ConfigError } from '../../src/core/errors.js';
import { measurePeak } from '../../src/node/memory.js';
import { SequenceClassifier, type SequenceSample } from '../../src/tasks/model.js';
import { chooseMicroBatch, formatBytes, type AutoMicroBatchOptions } from '../../src/train/autobatch.js';
import { tinyConfigJson } from '../fixtures/tiny-bert.js';
import { useBackend } from '../helpers/backend.js';
import { runCli, sentimentRows, tempDir, tinyModel, writeJsonl } from '../cli/helpers.js';

const LONGEST: SequenceSample = { ids: [2, 10, 20, 24, 7, 30, 31, 12, 11, 5, 3], label: 1 };

function tinyClassifier(): SequenceClassifier {
  const { family, config } = readConfig(tinyConfigJson(), 'tiny');
  return new SequenceClassifier({ family, config, labels: ['a', 'b'] }, { seed: 1 });
}

/** A chooser over `peak(size)` with a plain budget. */
function options(peak: (size: number) => Promise<number> | number, budgetBytes: number, maxMicroBatch = 16): AutoMicroBatchOptions {
  return { maxMicroBatch, measure: peak, fits: (bytes) => bytes <= budgetBytes, describeLimit: (bytes) => `even a micro-batch of 1 needs ${bytes}` };
}

test('chooseMicroBatch returns the largest size whose measured peak fits, verified from both sides', async () => {
  await useBackend('cpu');
  const model = tinyClassifier();
  const peak = async (size: number) => {
    const bytes = await measurePeak(model, Array.from({ length: size }, () => LONGEST));
    model.parameters.releaseMirrors();
    return bytes;
  };
  const peaks = [0];
  for (let size = 1; size <= 8; size++) peaks.push(await peak(size));
  assert.equal(await peak(3), peaks[3], 'a probe is deterministic');
  for (let size = 2; size <= 8; size++) assert.ok(peaks[size]! > peaks[size - 1]!, `peak grows with the micro-batch (${peaks.join(', ')})`);

  const tensorsBefore = tf.memory().numTensors;
  for (const target of [1, 2, 5, 7]) {
    const budget = Math.floor((peaks[target]! + peaks[target + 1]!) / 2);
    const choice = await chooseMicroBatch(options(peak, budget));
    assert.equal(choice.microBatch, target, `budget ${formatBytes(budget)}`);
    assert.ok(choice.peakBytes <= budget);
    assert.ok(choice.probes.some((probe) => probe.microBatch === target + 1 && probe.peakBytes > budget), 'the next size up was measured over budget');
  }
  // Exactly at a measured peak: that size fits.
  assert.equal((await chooseMicroBatch(options(peak, peaks[4]!))).microBatch, 4);
  assert.equal(tf.memory().numTensors, tensorsBefore, 'probing frees every tensor');
  model.dispose();
});

test('chooseMicroBatch is capped by maxMicroBatch; not even 1 fitting is a ConfigError naming the limit', async () => {
  const linear = (size: number) => 1000 + 100 * size;
  assert.equal((await chooseMicroBatch(options(linear, 1e12, 6))).microBatch, 6);
  assert.equal((await chooseMicroBatch(options(linear, 1e12, 1))).microBatch, 1);
  assert.equal((await chooseMicroBatch(options(linear, 1000 + 100 * 37 + 50, 64))).microBatch, 37);
  // A peak that grows faster than linearly: the bracket search still verifies its answer.
  const quadratic = (size: number) => size * size;
  assert.equal((await chooseMicroBatch(options(quadratic, 400, 64))).microBatch, 20);
  await assert.rejects(chooseMicroBatch(options(linear, 1099)), (error: unknown) => error instanceof ConfigError && error.field === 'microBatch' && /even a micro-batch of 1 needs 1100/.test(error.message));
  await assert.rejects(chooseMicroBatch(options(linear, 1e9, 0)), ConfigError);
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
  const run = async (budget: string): Promise<{ microBatch: number; line: string }> => {
    const out = path.join(dir, `out-${budget}`);
    const result = await runCli(['train', '--data', data, '--model', model, '--out', out, '--epochs', '1', '--batch', '16', '--micro-batch', 'auto', '--memory-budget', budget, '--backend', 'cpu', '--workers', '1']);
    assert.equal(result.code, 0, result.stderr);
    const match = /^micro-batch auto: (\d+) \(peak .* of heap tensors at \d+ tokens, host .*; probes .*\)$/m.exec(result.stderr);
    assert.ok(match, result.stderr);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.micro_batch, Number(match[1]));
    assert.equal(summary.epochs[0].samples_seen, 22);
    return { microBatch: Number(match[1]), line: match[0] };
  };
  const large = await run('64MB');
  assert.equal(large.microBatch, 16, 'a large budget is capped by --batch');
  // A budget of the host stores plus the measured peak of a micro-batch of 2 allows 2 (or 3, rounding).
  const kib = (text: string) => Number(/([\d.]+) KiB/.exec(text)![1]);
  const host = kib(/host ([\d.]+ KiB)/.exec(large.line)![1]!);
  const peakTwo = kib(/2→([\d.]+ KiB)/.exec(large.line)![1]!);
  const small = await run(`${Math.ceil((host + peakTwo) * 1.024)}KB`);
  assert.ok(small.microBatch >= 2 && small.microBatch <= 3, small.line);
  const refused = await runCli(['train', '--data', data, '--model', model, '--out', path.join(dir, 'refused'), '--micro-batch', 'auto', '--memory-budget', '10KB', '--backend', 'cpu', '--workers', '1']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^microbatch: error: --micro-batch auto: even a micro-batch of 1 needs .* over the memory budget of 9\.8 KiB/m);
});
