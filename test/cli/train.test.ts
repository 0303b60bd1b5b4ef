/**
 * `microbatch train` end to end on a tiny BERT: the output directory is a loadable HF
 * checkpoint with metrics.jsonl and summary.json (`FinetuneSummary`), and `eval` / `predict` /
 * `tokenize` work on it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TINY_VOCAB } from '../fixtures/tiny-bert.js';
import { runCli, sentimentRows, tempDir, tinyModel, writeJsonl } from './helpers.js';

const EPOCH_KEYS = ['dropped_samples', 'epoch', 'loss', 'samples_seen', 'skipped_steps', 'steps', 'windows'];

test('train writes an HF checkpoint, metrics.jsonl and summary.json that counts every sample; eval and predict load it', async (t) => {
  const dir = tempDir('cli-train');
  const model = await tinyModel(path.join(dir, 'model'));
  const data = writeJsonl(path.join(dir, 'train.jsonl'), sentimentRows(22));
  const evalData = writeJsonl(path.join(dir, 'eval.jsonl'), sentimentRows(10));
  const out = path.join(dir, 'out');

  const train = await runCli(['train', '--data', data, '--model', model, '--out', out, '--eval', evalData, '--epochs', '2', '--batch', '8', '--micro-batch', '3', '--lr', '1e-3', '--backend', 'cpu', '--workers', '1']);
  assert.equal(train.code, 0, train.stderr);

  await t.test('the output directory is an HF checkpoint', () => {
    for (const name of ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json']) assert.ok(existsSync(path.join(out, name)), name);
    const config = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8'));
    assert.deepEqual(config.id2label, { '0': 'negative', '1': 'positive' });
    assert.deepEqual(config.label2id, { negative: 0, positive: 1 });
    assert.equal(readFileSync(path.join(out, 'vocab.txt'), 'utf8'), TINY_VOCAB.join('\n') + '\n');
  });

  await t.test('metrics.jsonl has one line per optimizer step (epochs × windows)', () => {
    const lines = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    assert.equal(lines.length, 2 * 3);
    assert.deepEqual(lines.map((line) => line.step), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(lines.map((line) => line.window_size), [8, 8, 6, 8, 8, 6]);
    for (const line of lines) assert.ok(Number.isFinite(line.loss) && Number.isFinite(line.lr), JSON.stringify(line));
  });

  await t.test('summary.json has the FinetuneSummary shape and counts every sample', () => {
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.samples, 22);
    assert.equal(summary.epochs.length, 2);
    summary.epochs.forEach((epoch: Record<string, unknown>, index: number) => {
      for (const key of EPOCH_KEYS) assert.ok(key in epoch, `epochs[${index}].${key}`);
      assert.equal(epoch.epoch, index + 1);
      assert.equal(epoch.samples_seen, 22);
      assert.deepEqual(epoch.windows, [8, 8, 6]);
      assert.equal(epoch.steps, 3);
      assert.equal(epoch.skipped_steps, 0);
      assert.equal(epoch.dropped_samples, 0);
      assert.equal(typeof epoch.loss, 'number');
    });
    assert.equal(summary.eval.samples, 10);
    assert.ok(summary.eval.accuracy >= 0 && summary.eval.accuracy <= 1);
  });

  await t.test('the run ends by printing the ledger, the evaluation and the outputs on stdout', () => {
    const lines = train.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'epoch 1: 22/22 samples in 3 steps [8, 8, 6]', train.stdout);
    assert.equal(lines[1], 'epoch 2: 22/22 samples in 3 steps [8, 8, 6]', train.stdout);
    assert.match(lines[2]!, /^eval: .*: accuracy \d\.\d{4} \(\d+\/10\), macro-F1 \d\.\d{4}$/);
    assert.match(lines[3]!, /^wrote .*: HF checkpoint, metrics\.jsonl, summary\.json/);
  });

  await t.test('eval prints accuracy, macro-F1 and the confusion matrix', async () => {
    const result = await runCli(['eval', '--model', out, '--data', evalData, '--backend', 'cpu']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /accuracy \d\.\d{4} \(\d+\/10\)/);
    assert.match(result.stdout, /macro-F1 \d\.\d{4}/);
    assert.match(result.stdout, /confusion matrix:\n\s*true\\pred\s+negative\s+positive\n\s+negative\s+\d+\s+\d+\n\s+positive\s+\d+\s+\d+/);
  });

  await t.test('eval --json reports the same evaluation as summary.json', async () => {
    const result = await runCli(['eval', '--model', out, '--data', evalData, '--backend', 'cpu', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 1);
    const report = JSON.parse(lines[0]!);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    assert.equal(report.samples, 10);
    assert.equal(report.accuracy, summary.eval.accuracy);
    assert.deepEqual(report.labels, ['negative', 'positive']);
    assert.equal(report.confusion.flat().reduce((sum: number, n: number) => sum + n, 0), 10);
  });

  await t.test('predict writes one JSON line per input row, to stdout or --output', async () => {
    const result = await runCli(['predict', '--model', out, '--data', evalData, '--backend', 'cpu']);
    assert.equal(result.code, 0, result.stderr);
    const rows = sentimentRows(10);
    const predictions = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    assert.equal(predictions.length, rows.length);
    predictions.forEach((prediction, i) => {
      assert.equal(prediction.line, i + 1);
      assert.equal(prediction.text, rows[i]!.text);
      assert.ok(['negative', 'positive'].includes(prediction.label));
      const probabilities = Object.values(prediction.probabilities) as number[];
      assert.equal(probabilities.length, 2);
      assert.ok(Math.abs(probabilities[0]! + probabilities[1]! - 1) < 1e-5);
      assert.equal(prediction.label, probabilities[0]! >= probabilities[1]! ? 'negative' : 'positive');
    });

    const file = path.join(dir, 'predictions.jsonl');
    const toFile = await runCli(['predict', '--model', out, '--data', evalData, '--backend', 'cpu', '--output', file]);
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.equal(toFile.stdout, '');
    assert.equal(readFileSync(file, 'utf8'), result.stdout);
  });
});

test('tokenize prints one JSON line with [CLS] … [SEP]', async () => {
  const model = await tinyModel(path.join(tempDir('cli-tokenize'), 'model'));
  const result = await runCli(['tokenize', '--model', model, '--text', 'Hello, WORLD!']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, JSON.stringify({ tokens: ['[CLS]', 'hello', ',', '[UNK]', '!', '[SEP]'], ids: [2, 37, 6, 1, 7, 3] }) + '\n');
  const parsed = JSON.parse(result.stdout);
  assert.deepEqual(Object.keys(parsed), ['tokens', 'ids']);
  assert.deepEqual(parsed.ids, parsed.tokens.map((token: string) => TINY_VOCAB.indexOf(token)));
});

test('--help works for every command and lists its flags', async () => {
  const expected: Record<string, string[]> = {
    train: ['--data', '--model', '--out', '--micro-batch', '--batch', '--epochs', '--lr', '--weight-decay', '--optimizer', '--schedule', '--warmup-steps', '--clip-norm', '--remainder', '--max-length', '--seed', '--no-shuffle', '--dropout', '--text-field', '--label-field', '--eval', '--workers', '--backend', '--resume', '--save-every', '--memory-budget'],
    eval: ['--model', '--data', '--json', '--backend'],
    predict: ['--model', '--data', '--output', '--backend'],
    plan: ['--data', '--size', '--micro-batch', '--batch', '--remainder', '--json'],
    tokenize: ['--model', '--text'],
  };
  const results = await Promise.all(Object.keys(expected).map((command) => runCli([command, '--help'])));
  Object.entries(expected).forEach(([command, flags], i) => {
    const result = results[i]!;
    assert.equal(result.code, 0, `${command}: ${result.stderr}`);
    for (const flag of flags) assert.ok(result.stdout.includes(flag), `${command} --help lists ${flag}`);
  });
  const top = await runCli(['--help']);
  assert.equal(top.code, 0);
  for (const command of Object.keys(expected)) assert.match(top.stdout, new RegExp(`^\\s+${command}\\b`, 'm'));
});
