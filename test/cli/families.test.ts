/**
 * Every family through the command line with no new flags: train from a bare base checkpoint
 * (a fresh classification head), then eval, predict and tokenize on the result — on tiny
 * random checkpoints in exactly Hugging Face's layout (scripts/make-tiny-checkpoints.mjs).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makeTinyCheckpoints } from '../fixtures/tiny-checkpoints.js';
import { runCli, sentimentRows, tempDir, writeJsonl } from './helpers.js';

const dir = tempDir('cli-families');
const folders = makeTinyCheckpoints(path.join(dir, 'models'));

for (const family of ['bert', 'distilbert', 'roberta', 'electra']) {
  test(`${family}: train from a base checkpoint, then eval, predict and tokenize`, async () => {
    const base = (await folders).find((folder) => folder.family === family && folder.head === 'base' && folder.variant === null)!;
    const data = writeJsonl(path.join(dir, `${family}-train.jsonl`), sentimentRows(12));
    const out = path.join(dir, `${family}-out`);
    const trained = await runCli(['train', '--data', data, '--eval', data, '--model', base.dir, '--out', out, '--epochs', '2', '--batch', '4', '--micro-batch', '2', '--backend', 'cpu', '--workers', '1']);
    assert.equal(trained.code, 0, trained.stderr);
    assert.match(trained.stdout, /epoch 2: 12\/12 samples in 3 steps \[4, 4, 4\]/);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { model_type: string; eval: { accuracy: number } };
    assert.equal(summary.model_type, family);
    const config = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')) as { architectures: string[]; id2label: Record<string, string> };
    assert.match(config.architectures[0]!, /ForSequenceClassification$/);
    assert.deepEqual(config.id2label, { 0: 'negative', 1: 'positive' });

    const evaluated = await runCli(['eval', '--model', out, '--data', data, '--json', '--backend', 'cpu']);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    assert.equal((JSON.parse(evaluated.stdout) as { accuracy: number }).accuracy, summary.eval.accuracy, 'eval of the saved model = the run\'s final evaluation');

    const predicted = await runCli(['predict', '--model', out, '--data', data, '--backend', 'cpu']);
    assert.equal(predicted.code, 0, predicted.stderr);
    const lines = predicted.stdout.trim().split('\n').map((line) => JSON.parse(line) as { label: string; probabilities: Record<string, number> });
    assert.equal(lines.length, 12);
    for (const line of lines) assert.ok(Math.abs(line.probabilities.negative! + line.probabilities.positive! - 1) < 1e-9);

    const tokenized = await runCli(['tokenize', '--model', out, '--text', 'good movie']);
    assert.equal(tokenized.code, 0, tokenized.stderr);
    const { tokens } = JSON.parse(tokenized.stdout) as { tokens: string[] };
    assert.deepEqual([tokens[0], tokens.at(-1)], family === 'roberta' ? ['<s>', '</s>'] : ['[CLS]', '[SEP]']);
  });
}
