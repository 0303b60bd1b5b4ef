/**
 * Bad input: a non-zero exit with one clear line naming the file, line and field,
 * and nothing written — not even the output directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, sentimentRows, tempDir, tinyModel, writeJsonl, type CliResult } from './helpers.js';

/** Runs all cases, two CLI processes at a time (the machine has two cores). */
async function runAll(cases: readonly { args: string[] }[]): Promise<CliResult[]> {
  const results: CliResult[] = [];
  for (let i = 0; i < cases.length; i += 2) results.push(...(await Promise.all(cases.slice(i, i + 2).map(({ args }) => runCli(args)))));
  return results;
}

test('bad data files: one error line naming file, line and field; no output written', async () => {
  const dir = tempDir('cli-bad-data');
  const model = await tinyModel(path.join(dir, 'model'));
  const good = writeJsonl(path.join(dir, 'good.jsonl'), sentimentRows(6));
  const file = (name: string, content: string) => {
    const target = path.join(dir, name);
    writeFileSync(target, content);
    return target;
  };
  const missing = path.join(dir, 'missing.jsonl');
  const empty = file('empty.jsonl', '');
  const malformed = file('malformed.jsonl', '{"text": "good", "label": "positive"}\n{"text": "bad", label: "negative"}\n');
  const noText = file('no-text.jsonl', '{"text": "good", "label": "positive"}\n\n{"txt": "bad", "label": "negative"}\n');
  const columns = file('columns.csv', 'text,label\ngood,positive\n"bad, really",negative,extra\n');
  const unknownLabel = file('unknown.jsonl', '{"text": "good", "label": "positive"}\n{"text": "meh", "label": "neutral"}\n');

  const cases = [
    { data: missing, message: `${missing}: file not found` },
    { data: empty, message: `${empty}: the file is empty` },
    { data: malformed, message: new RegExp(`^${escape(malformed)}, line 2: malformed JSON`) },
    { data: noText, message: new RegExp(`^${escape(noText)}, line 3, field "text": missing text field`) },
    { data: columns, message: new RegExp(`^${escape(columns)}, line 3: expected 2 columns as in the header, found 3`) },
    // Training data whose labels are not the model's trains a new head (tested in train.test.ts), but
    // an --eval file with a label the training data does not have fails before training starts.
    { data: good, eval: unknownLabel, message: new RegExp(`^${escape(unknownLabel)}, line 2, field "label": unknown label "neutral"`) },
  ];
  const runs = cases.map((entry, i) => {
    const out = path.join(dir, `out-${i}`);
    const args = ['train', '--data', entry.data, '--model', model, '--out', out, '--backend', 'cpu', '--workers', '1', ...(entry.eval !== undefined ? ['--eval', entry.eval] : [])];
    return { args, out };
  });
  const results = await runAll(runs);
  results.forEach((result, i) => {
    const { message } = cases[i]!;
    assert.equal(result.code, 1, `case ${i}: ${result.stderr}`);
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    assert.equal(lines.length, 1, `case ${i}: exactly one line, got ${JSON.stringify(result.stderr)}`);
    const text = lines[0]!.replace(/^microbatch: error: /, '');
    assert.ok(lines[0]!.startsWith('microbatch: error: '), lines[0]);
    if (typeof message === 'string') assert.equal(text, message);
    else assert.match(text, message);
    assert.equal(result.stdout, '');
    assert.ok(!existsSync(runs[i]!.out), `case ${i}: no output directory`);
  });
});

test('eval and predict: bad data fails with one line naming file, line and field', async () => {
  const dir = tempDir('cli-bad-eval');
  // A trained-classifier directory: config with id2label negative/positive.
  const model = await tinyModel(path.join(dir, 'model'));
  const unknownLabel = writeJsonl(path.join(dir, 'unknown.jsonl'), [{ text: 'good', label: 'positive' }, { text: 'meh', label: 'neutral' }]);
  const noText = writeJsonl(path.join(dir, 'no-text.jsonl'), [{ text: 'good' }, { body: 'bad' }]);
  const output = path.join(dir, 'predictions.jsonl');
  const [evalResult, predictResult] = await runAll([
    { args: ['eval', '--model', model, '--data', unknownLabel, '--backend', 'cpu'] },
    { args: ['predict', '--model', model, '--data', noText, '--backend', 'cpu', '--output', output] },
  ]);
  assert.equal(evalResult!.code, 1);
  assert.equal(evalResult!.stdout, '');
  assert.match(evalResult!.stderr, new RegExp(`^microbatch: error: ${escape(unknownLabel)}, line 2, field "label": unknown label "neutral" \\(the model's labels are "negative", "positive"\\)\\n$`));
  assert.equal(predictResult!.code, 1);
  assert.match(predictResult!.stderr, new RegExp(`^microbatch: error: ${escape(noText)}, line 2, field "text": missing text field[^\\n]*\\n$`));
  assert.ok(!existsSync(output), 'predict wrote no partial output');
});

test('bad flags: non-zero exit, a message naming the flag, nothing written', async () => {
  const dir = tempDir('cli-bad-flags');
  const model = await tinyModel(path.join(dir, 'model'));
  const data = writeJsonl(path.join(dir, 'train.jsonl'), sentimentRows(6));
  const cases = [
    { flags: ['--batch', '0'], code: 2, message: /^error: option '--batch <n>' argument '0' is invalid\. expected a positive integer, got "0"$/ },
    { flags: ['--micro-batch', '64', '--batch', '32'], code: 1, message: /^microbatch: error: --micro-batch \(64\) must be a positive integer not exceeding the batch \(32\)$/ },
    { flags: ['--remainder', 'foo'], code: 2, message: /^error: option '--remainder <policy>' argument 'foo' is invalid\. Allowed choices are step, balance, drop\.$/ },
    { flags: ['--lr', 'nan'], code: 2, message: /^error: option '--lr <rate>' argument 'nan' is invalid\. expected a finite number, got "nan"$/ },
    { flags: ['--micro-batch', 'some'], code: 2, message: /^error: option '--micro-batch <n\|auto>' argument 'some' is invalid/ },
  ];
  const runs = cases.map((entry, i) => ({ args: ['train', '--data', data, '--model', model, '--out', path.join(dir, `out-${i}`), '--backend', 'cpu', '--workers', '1', ...entry.flags] }));
  // --data alone starts from the shipped pretrained model (test/cli/default-model.test.ts); --model alone has nothing to train on.
  runs.push({ args: ['train', '--model', model, '--out', path.join(dir, 'out-no-model'), '--backend', 'cpu'] });
  const results = await runAll(runs);
  results.slice(0, cases.length).forEach((result, i) => {
    assert.equal(result.code, cases[i]!.code, `${cases[i]!.flags.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr.split('\n')[0]!, cases[i]!.message);
    assert.ok(!existsSync(path.join(dir, `out-${i}`)));
  });
  const noData = results[cases.length]!;
  assert.equal(noData.code, 1);
  assert.equal(noData.stderr, 'microbatch: error: train needs --data FILE (or neither --data nor --model, for the embedded default)\n');
  assert.ok(!existsSync(path.join(dir, 'out-no-model')));
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
