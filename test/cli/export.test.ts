/**
 * `microbatch export` and `predict --engine onnx` end to end: a small run trained by the CLI is
 * exported, transformers.js loads the folder (remote models off, a local path) and predicts the
 * labels `microbatch predict` prints, and onnxruntime through `predict --engine onnx` prints the
 * same lines as TF.js. Bad input fails with one line and writes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTinyCheckpoints } from '../fixtures/tiny-checkpoints.js';
import { runCli, REPO_ROOT, tempDir } from './helpers.js';

interface PredictionLine {
  line: number;
  text: string;
  label: string;
  probabilities: Record<string, number>;
}

const parseLines = (text: string): PredictionLine[] =>
  text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as PredictionLine);

function rows(file: string, start: number, count: number): string {
  return readFileSync(path.join(REPO_ROOT, 'data', 'spam', file), 'utf8').split('\n').filter((line) => line.trim() !== '').slice(start, start + count).join('\n') + '\n';
}

test('export --help and predict --help describe the flags', async () => {
  const [exportHelp, predictHelp] = await Promise.all([runCli(['export', '--help']), runCli(['predict', '--help'])]);
  assert.equal(exportHelp.code, 0);
  for (const flag of ['--model <dir>', '--format <name>', '--out <dir>', '--quantize <type>', '--opset <n>']) assert.ok(exportHelp.stdout.includes(flag), flag);
  assert.match(exportHelp.stdout, /transformers\.js/);
  assert.equal(predictHelp.code, 0);
  assert.match(predictHelp.stdout, /--engine <name>/);
  assert.match(predictHelp.stdout, /--quantized/);
});

test('train → export → transformers.js and predict --engine onnx predict what microbatch predict prints', async () => {
  const dir = tempDir('cli-export');
  const train = path.join(dir, 'train.jsonl');
  writeFileSync(train, rows('train.jsonl', 0, 20));
  const data = path.join(dir, 'eval.jsonl');
  writeFileSync(data, rows('eval.jsonl', 0, 120));
  const run = path.join(dir, 'run');
  const trained = await runCli(['train', '--data', train, '--model', path.join(REPO_ROOT, 'data', 'default-model'), '--epochs', '1', '--out', run, '--workers', '1', '--backend', 'wasm']);
  assert.equal(trained.code, 0, trained.stderr);

  const out = path.join(dir, 'export');
  const exported = await runCli(['export', '--model', run, '--format', 'onnx', '--out', out, '--quantize', 'int8']);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^exported BertForSequenceClassification \(sequence-classification\) to .*: opset 17, inputs input_ids, attention_mask, token_type_ids, output logits\n/);
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx']) assert.ok(existsSync(path.join(out, file)), file);

  const [tfjs, onnx, int8] = await Promise.all([
    runCli(['predict', '--model', run, '--data', data, '--backend', 'wasm']),
    runCli(['predict', '--model', out, '--data', data, '--engine', 'onnx']),
    runCli(['predict', '--model', out, '--data', data, '--engine', 'onnx', '--quantized']),
  ]);
  for (const result of [tfjs, onnx, int8]) assert.equal(result.code, 0, result.stderr);
  const ours = parseLines(tfjs.stdout);
  assert.equal(ours.length, 120);
  const onnxLines = parseLines(onnx.stdout);
  onnxLines.forEach((line, i) => {
    assert.equal(line.line, ours[i]!.line);
    assert.equal(line.text, ours[i]!.text);
    assert.equal(line.label, ours[i]!.label, `row ${i}`);
    for (const [label, probability] of Object.entries(ours[i]!.probabilities)) assert.ok(Math.abs(line.probabilities[label]! - probability) <= 1e-4, `row ${i}, ${label}`);
  });
  const int8Agreeing = parseLines(int8.stdout).filter((line, i) => line.label === ours[i]!.label).length;
  assert.ok(int8Agreeing >= 114, `int8: ${int8Agreeing}/120 labels as float32`);

  // transformers.js: the folder as a local model path, nothing remote.
  const { pipeline, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  const classifier = (await pipeline('text-classification', out)) as unknown as ((texts: string[], options: object) => Promise<{ label: string; score: number }[][]>) & {
    tokenizer: (texts: string[], options: object) => { input_ids: number[][] };
    dispose(): Promise<void>;
  };
  try {
    const texts = ours.map((line) => line.text);
    const results = await classifier(texts, { top_k: null });
    const lengths = classifier.tokenizer(texts, { return_tensor: false }).input_ids.map((ids) => ids.length);
    let fitting = 0;
    results.forEach((scores, i) => {
      assert.equal(scores[0]!.label, ours[i]!.label, `row ${i}: transformers.js label`);
      // Texts longer than model_max_length (128) differ in one token: transformers.js cuts the
      // final [SEP] when it truncates. Those that fit must score the same.
      if (lengths[i]! <= 128) {
        fitting += 1;
        for (const { label, score } of scores) assert.ok(Math.abs(score - ours[i]!.probabilities[label]!) <= 1e-4, `row ${i}, ${label}: ${score} vs ${ours[i]!.probabilities[label]}`);
      }
    });
    assert.ok(fitting >= 5, `${fitting} texts fit in 128 tokens`);
  } finally {
    await classifier.dispose();
  }

  // Exporting again replaces the earlier export.
  const again = await runCli(['export', '--model', run, '--format', 'onnx', '--out', out]);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(!existsSync(path.join(out, 'onnx', 'model_quantized.onnx')), 'the earlier export was replaced, not merged');
  assert.deepEqual((JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>)['transformers.js_config'], { dtype: 'fp32' });
});

test('bad input: one error line, exit 1, nothing written', async () => {
  const dir = tempDir('cli-export-bad');
  const unrelated = path.join(dir, 'unrelated');
  mkdirSync(unrelated);
  writeFileSync(path.join(unrelated, 'notes.txt'), 'keep me');
  const model = path.join(REPO_ROOT, 'data', 'default-model');
  const data = path.join(dir, 'texts.jsonl');
  writeFileSync(data, '{"text": "hello"}\n');
  const out = path.join(dir, 'out');
  const cases: { args: string[]; message: RegExp }[] = [
    { args: ['export', '--model', model, '--format', 'onnx', '--out', out], message: /default-model: has no model\.safetensors: export needs a trained model directory/ },
    { args: ['export', '--model', path.join(dir, 'missing'), '--format', 'onnx', '--out', out], message: /missing: model directory not found$/ },
    { args: ['export', '--model', model, '--format', 'tflite', '--out', out], message: /^--format must be onnx, got "tflite"$/ },
    { args: ['export', '--model', model, '--format', 'onnx', '--out', out, '--quantize', 'int4'], message: /^--quantize must be int8, got "int4"$/ },
    { args: ['export', '--model', model, '--format', 'onnx', '--out', out, '--opset', '13'], message: /^--opset must be an integer from 14 to 21, got 13$/ },
    { args: ['predict', '--model', model, '--data', data, '--engine', 'onnx'], message: /onnx\/model\.onnx: not found: .* is not an ONNX export \(make one with microbatch export\)$/ },
    { args: ['predict', '--model', model, '--data', data, '--quantized'], message: /^--quantized needs --engine onnx$/ },
  ];
  const results = [];
  for (let i = 0; i < cases.length; i += 2) results.push(...(await Promise.all(cases.slice(i, i + 2).map(({ args }) => runCli(args)))));
  results.forEach((result, i) => {
    assert.equal(result.code, 1, `case ${i}: ${result.stderr}`);
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    assert.equal(lines.length, 1, `case ${i}: one line, got ${JSON.stringify(result.stderr)}`);
    assert.match(lines[0]!.replace(/^microbatch: error: /, ''), cases[i]!.message, `case ${i}`);
    assert.equal(result.stdout, '');
  });
  assert.ok(!existsSync(out), 'no output directory');

  // An --out holding something else, or the model itself, is refused and left as it was.
  const trained = (await makeTinyCheckpoints(path.join(dir, 'tiny'))).find((folder) => folder.name === 'distilbert-token-classification')!.dir;
  const [refused, itself] = await Promise.all([
    runCli(['export', '--model', trained, '--format', 'onnx', '--out', unrelated]),
    runCli(['export', '--model', trained, '--format', 'onnx', '--out', path.dirname(trained)]),
  ]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /unrelated: exists and is not an earlier export \(no onnx\/model\.onnx\): choose a new or empty --out\n$/);
  assert.deepEqual(readdirSync(unrelated), ['notes.txt']);
  assert.equal(itself.code, 1);
  assert.match(itself.stderr, /would replace the model directory/);
  assert.ok(existsSync(path.join(trained, 'model.safetensors')));
});
