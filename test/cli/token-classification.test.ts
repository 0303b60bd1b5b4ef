/**
 * `train --task token-classification` end to end on the tiny BERT: split invariance (every window
 * normalised by the labelled tokens of all its micro-batches), the ledger, an exact resume,
 * `eval` and `predict` reading the task from config.json, and bad CoNLL / JSONL failing with
 * the file, line and field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTinyCheckpoints } from '../fixtures/tiny-checkpoints.js';
import { differenceRelativeToUpdate, maxWeightDifference, runCli, tempDir, writeJsonl } from './helpers.js';
import { nerSentences, writeConll } from './token-data.js';

const setUp = (() => {
  let ready: Promise<{ dir: string; model: string; conll: string; jsonl: string }> | undefined;
  return () =>
    (ready ??= (async () => {
      const dir = tempDir('cli-ner');
      await makeTinyCheckpoints(path.join(dir, 'tiny'));
      // 18 sentences of 1 to 8 words, batch 8: windows [8, 8, 2] of different labelled-token counts.
      const sentences = nerSentences(18);
      return {
        dir,
        model: path.join(dir, 'tiny', 'bert-base'),
        conll: writeConll(path.join(dir, 'train.conll'), sentences),
        jsonl: writeJsonl(path.join(dir, 'train.jsonl'), sentences),
      };
    })());
})();

const summaryOf = (out: string) => JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));

test('token classification: micro-batch 1, 3 and 8 and --workers 2 train the same weights; --label-all-tokens counts more items', async () => {
  const { dir, model, conll, jsonl } = await setUp();
  const common = ['train', '--task', 'token-classification', '--model', model, '--epochs', '2', '--batch', '8', '--optimizer', 'sgd', '--lr', '0.5', '--no-shuffle', '--dropout', '0', '--backend', 'cpu'];
  const runs = [
    { name: 'micro1', args: ['--data', conll, '--micro-batch', '1', '--workers', '1'] },
    { name: 'micro3', args: ['--data', jsonl, '--micro-batch', '3', '--workers', '1'] },
    { name: 'micro8', args: ['--data', conll, '--micro-batch', '8', '--workers', '1'] },
    { name: 'workers2', args: ['--data', conll, '--micro-batch', '1', '--workers', '2'] },
    { name: 'all-tokens', args: ['--data', conll, '--micro-batch', '8', '--workers', '1', '--label-all-tokens'] },
  ];
  for (let i = 0; i < runs.length; i += 2) {
    const results = await Promise.all(runs.slice(i, i + 2).map((run) => runCli([...common, ...run.args, '--out', path.join(dir, run.name)])));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
  }
  const reference = path.join(dir, 'micro1');
  for (const run of runs.slice(1, 4)) {
    const { ratio, update } = differenceRelativeToUpdate(model, reference, path.join(dir, run.name));
    assert.ok(update > 1e-3, `training moved the weights (${update})`);
    assert.ok(ratio <= 1e-5, `${run.name} differs from micro-batch 1 by ${ratio} of the update`);
  }
  const summary = summaryOf(reference);
  assert.equal(summary.task, 'token-classification');
  assert.deepEqual(summary.labels, ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER']);
  for (const epoch of summary.epochs) {
    assert.equal(epoch.samples_seen, 18);
    assert.deepEqual(epoch.windows, [8, 8, 2]);
  }
  const items = (name: string) => readFileSync(path.join(dir, name, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line).items);
  // No shuffling: epoch 1's windows hold sentences 0–7, 8–15, 16–17; one item per word.
  const words = nerSentences(18).map((sentence) => sentence.tokens.length);
  const sum = (from: number, to: number) => words.slice(from, to).reduce((a, b) => a + b, 0);
  assert.deepEqual(items('micro1').slice(0, 3), [sum(0, 8), sum(8, 16), sum(16, 18)]);
  assert.deepEqual(items('micro3'), items('micro1'));
  assert.ok(items('all-tokens')[0] > items('micro1')[0], 'with --label-all-tokens every sub-token is an item');
});

test('token classification: stopped mid-epoch and resumed ends with the uninterrupted run\'s weights', async () => {
  const { dir, model, conll } = await setUp();
  const args = (out: string) => ['train', '--task', 'token-classification', '--data', conll, '--model', model, '--out', out, '--epochs', '2', '--batch', '8', '--micro-batch', '3', '--lr', '1e-3', '--backend', 'cpu', '--workers', '1'];
  const reference = path.join(dir, 'resume-reference');
  const out = path.join(dir, 'resumed');
  const [full, first] = await Promise.all([runCli(args(reference)), runCli([...args(out), '--stop-after-steps', '4', '--save-every', '2'])]);
  assert.equal(full.code, 0, full.stderr);
  assert.equal(first.code, 0, first.stderr);
  const resumed = await runCli(['train', '--resume', out, '--backend', 'cpu', '--workers', '1']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(maxWeightDifference(out, reference), 0, 'resumed weights equal the uninterrupted run bit for bit');
  assert.deepEqual(summaryOf(out).epochs, summaryOf(reference).epochs);
});

test('eval and predict read the task from config.json: seqeval entity scores, entities with character spans', async () => {
  const { dir, model, conll } = await setUp();
  const run = path.join(dir, 'fitted');
  // Enough steps for the tiny model to learn the tags of its training sentences.
  const trained = await runCli(['train', '--task', 'token-classification', '--data', conll, '--eval', conll, '--model', model, '--out', run, '--epochs', '30', '--batch', '6', '--micro-batch', '6', '--lr', '3e-3', '--dropout', '0', '--backend', 'cpu', '--workers', '1']);
  assert.equal(trained.code, 0, trained.stderr);
  // In IOB2 every entity starts with its B- tag.
  const sentences = nerSentences(18);
  const count = (tag: string) => sentences.reduce((sum, sentence) => sum + sentence.tags.filter((t) => t === tag).length, 0);
  const words = sentences.reduce((sum, sentence) => sum + sentence.tokens.length, 0);
  const entities = count('B-PER') + count('B-LOC');
  assert.ok(trained.stdout.includes(`entity F1 1.0000 (precision 1.0000, recall 1.0000, ${entities} entities), macro-F1 1.0000, token accuracy 1.0000 (${words}/${words} words)`), trained.stdout);
  const summary = summaryOf(run);
  assert.equal(summary.eval.entities.micro.f1, 1);
  assert.deepEqual(Object.keys(summary.eval.entities.per_type), ['LOC', 'PER']);
  assert.match(readFileSync(path.join(run, 'report.html'), 'utf8'), /Entity micro-F1/);

  const evaluation = await runCli(['eval', '--model', run, '--data', conll, '--json', '--backend', 'cpu']);
  assert.equal(evaluation.code, 0, evaluation.stderr);
  const report = JSON.parse(evaluation.stdout);
  assert.equal(report.task, 'token-classification');
  assert.equal(report.f1, 1);
  assert.equal(report.entities.per_type.PER.support, count('B-PER'));
  assert.equal(report.entities.per_type.LOC.support, count('B-LOC'));
  const text = await runCli(['eval', '--model', run, '--data', conll, '--mode', 'strict', '--backend', 'cpu']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /seqeval strict mode, IOB2/);
  assert.match(text.stdout, new RegExp(`\\n\\s+micro avg\\s+1\\.0000\\s+1\\.0000\\s+1\\.0000\\s+${entities}\\n`));

  const input = writeJsonl(path.join(dir, 'predict.jsonl'), [{ text: 'The Mayor of Ashford went to the market' }, { tokens: ['pepper', 'sleeps', 'in', 'the', 'library'] }]);
  const predicted = await runCli(['predict', '--model', run, '--data', input, '--backend', 'cpu']);
  assert.equal(predicted.code, 0, predicted.stderr);
  const [fromText, fromWords] = predicted.stdout.trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(fromText.line, 1);
  for (const entity of fromText.entities) assert.equal(fromText.text.slice(entity.start, entity.end), entity.text);
  assert.deepEqual(fromText.entities.map((entity: { type: string; text: string }) => [entity.type, entity.text]), [['PER', 'Mayor'], ['LOC', 'Ashford']]);
  assert.equal(fromWords.text, 'pepper sleeps in the library');
  assert.deepEqual(fromWords.tags, ['B-PER', 'O', 'O', 'O', 'B-LOC']);
  assert.deepEqual(fromWords.entities.map(({ type, start, end, words }: { type: string; start: number; end: number; words: number[] }) => ({ type, start, end, words })), [
    { type: 'PER', start: 0, end: 6, words: [0, 1] },
    { type: 'LOC', start: 21, end: 28, words: [4, 5] },
  ]);
  const fromConll = await runCli(['predict', '--model', run, '--data', conll, '--backend', 'cpu']);
  assert.equal(fromConll.code, 0, fromConll.stderr);
  assert.equal(fromConll.stdout.trim().split('\n').length, 18, 'one line per sentence');
});

test('bad CoNLL and JSONL fail with the file, line and field before anything is trained', async () => {
  const { dir, model, conll } = await setUp();
  const train = (data: string, ...extra: string[]) => runCli(['train', '--task', 'token-classification', '--data', data, '--model', model, '--out', path.join(dir, 'never'), '--backend', 'cpu', ...extra]);
  const cases: { name: string; content: string; error: RegExp }[] = [
    { name: 'count.jsonl', content: '{"tokens": ["the", "mayor"], "tags": ["O", "B-PER"]}\n{"tokens": ["the", "baker", "opens"], "tags": ["O", "B-PER"]}\n', error: /count\.jsonl, line 2, field "tags": 2 tags for 3 tokens/ },
    { name: 'empty.jsonl', content: '{"tokens": ["rain"], "tags": ["O"]}\n\n{"tokens": [], "tags": []}\n', error: /empty\.jsonl, line 3, field "tokens": the token list is empty \(an empty sentence\)/ },
    { name: 'missing-tag.conll', content: 'the O\nmayor B-PER\nof\n', error: /missing-tag\.conll, line 3: too few columns: found 1, expected 2 as on line 1/ },
  ];
  for (const { name, content, error } of cases) {
    writeFileSync(path.join(dir, name), content);
    const result = await train(path.join(dir, name));
    assert.equal(result.code, 1, `${name}: ${result.stderr}`);
    assert.match(result.stderr, error);
    assert.equal(result.stderr.trim().split('\n').length, 1, 'one line');
  }
  // An evaluation file with a tag the training data does not have: named with its line and CoNLL column.
  writeFileSync(path.join(dir, 'unknown.conll'), 'the O\nmayor B-PER\n\nthe O\nbaker B-CHEF\n');
  const unknown = await train(conll, '--eval', path.join(dir, 'unknown.conll'));
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown\.conll, line 5, field "column 2": unknown tag "B-CHEF" \(the tag set has 5: O, B-LOC, I-LOC, B-PER, I-PER\)/);
  assert.ok(!existsSync(path.join(dir, 'never')), 'bad input leaves no output directory');
});
