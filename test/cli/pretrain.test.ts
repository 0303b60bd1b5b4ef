/**
 * `microbatch pretrain` end to end on the tiny checkpoints: masked-LM training is split invariant
 * (the masks come from (seed, epoch, sample index) and every window is normalised by the masked
 * tokens of all its micro-batches), resumes exactly, proves every sample used, writes each
 * family's …ForMaskedLM checkpoint with Hugging Face's tensor names, and its output is a base for
 * `train`, `eval` (perplexity with fixed masks) and `fill-mask`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hfSavedTensors, type HfFamily } from '../fixtures/hf-names.js';
import { makeTinyCheckpoints } from '../fixtures/tiny-checkpoints.js';
import { differenceRelativeToUpdate, maxWeightDifference, readWeights, runCli, tempDir, writeJsonl } from './helpers.js';
import { corpusLines, writeConll, nerSentences, writeLines } from './token-data.js';

const setUp = (() => {
  let ready: Promise<{ dir: string; models: string; corpus: string; heldout: string }> | undefined;
  return () =>
    (ready ??= (async () => {
      const dir = tempDir('cli-pretrain');
      const models = path.join(dir, 'tiny');
      await makeTinyCheckpoints(models);
      // 22 documents with batch 8: windows [8, 8, 6], micro-batches of different masked-token counts.
      const corpus = writeLines(path.join(dir, 'corpus.txt'), corpusLines(22));
      const heldout = writeLines(path.join(dir, 'heldout.txt'), corpusLines(6).map((line) => line.split(' ').reverse().join(' ')));
      return { dir, models, corpus, heldout };
    })());
})();

function summaryOf(out: string) {
  return JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
}

test('pretrain: micro-batch 1, 3 and 8 and --workers 2 train the same weights; the ledger counts every document', async () => {
  const { dir, models, corpus } = await setUp();
  const model = path.join(models, 'bert-masked-lm');
  const common = ['pretrain', '--data', corpus, '--model', model, '--epochs', '2', '--batch', '8', '--optimizer', 'sgd', '--lr', '0.5', '--no-shuffle', '--dropout', '0', '--backend', 'cpu'];
  const runs = [
    { name: 'micro1', args: ['--micro-batch', '1', '--workers', '1'] },
    { name: 'micro3', args: ['--micro-batch', '3', '--workers', '1'] },
    { name: 'micro8', args: ['--micro-batch', '8', '--workers', '1'] },
    { name: 'workers2', args: ['--micro-batch', '1', '--workers', '2'] },
  ];
  for (let i = 0; i < runs.length; i += 2) {
    const results = await Promise.all(runs.slice(i, i + 2).map((run) => runCli([...common, ...run.args, '--out', path.join(dir, run.name)])));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
  }
  const reference = path.join(dir, 'micro1');
  for (const run of runs.slice(1)) {
    const { ratio, update } = differenceRelativeToUpdate(model, reference, path.join(dir, run.name));
    assert.ok(update > 1e-3, `training moved the weights (${update})`);
    assert.ok(ratio <= 1e-5, `${run.name} differs from micro-batch 1 by ${ratio} of the update`);
  }
  const summary = summaryOf(reference);
  assert.equal(summary.task, 'masked-lm');
  assert.equal(summary.samples, 22);
  for (const epoch of summary.epochs) {
    assert.equal(epoch.samples_seen, 22);
    assert.deepEqual(epoch.windows, [8, 8, 6]);
  }
  // Every step's item count is its window's masked tokens, the same whatever the micro-batch size.
  const items = (name: string) => readFileSync(path.join(dir, name, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line).items);
  assert.deepEqual(items('micro3'), items('micro1'));
  assert.deepEqual(items('workers2'), items('micro1'));
  assert.ok(new Set(items('micro1')).size > 1, 'windows hold different numbers of masked tokens');
});

test('pretrain: stopped mid-epoch and resumed (dropout and shuffling on) ends with the uninterrupted run\'s weights', async () => {
  const { dir, models, corpus } = await setUp();
  const args = (out: string) => ['pretrain', '--data', corpus, '--model', path.join(models, 'bert-masked-lm'), '--out', out, '--epochs', '2', '--batch', '8', '--micro-batch', '3', '--lr', '1e-3', '--whole-word-mask', '--backend', 'cpu', '--workers', '1'];
  const reference = path.join(dir, 'resume-reference');
  const out = path.join(dir, 'resumed');
  const [full, first] = await Promise.all([runCli(args(reference)), runCli([...args(out), '--stop-after-steps', '2', '--save-every', '1'])]);
  assert.equal(full.code, 0, full.stderr);
  assert.equal(first.code, 0, first.stderr);
  assert.ok(!existsSync(path.join(out, 'summary.json')));
  const resumed = await runCli(['pretrain', '--resume', out, '--backend', 'cpu', '--workers', '1']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(maxWeightDifference(out, reference), 0, 'resumed weights equal the uninterrupted run bit for bit');
  assert.deepEqual(summaryOf(out).epochs, summaryOf(reference).epochs);
});

const FAMILY_MASKS: Record<HfFamily, string> = { bert: '[MASK]', distilbert: '[MASK]', roberta: '<mask>', electra: '[MASK]' };

test('pretrain writes each family\'s …ForMaskedLM checkpoint (HF names); eval gives its perplexity; fill-mask uses the family\'s mask token; train takes it as a base', async () => {
  const { dir, models, corpus, heldout } = await setUp();
  const families = Object.keys(FAMILY_MASKS) as HfFamily[];
  // From the base checkpoints (no head): the masked-LM head starts fresh (RoBERTa's limit is 40 positions).
  const pretrain = (family: HfFamily) =>
    runCli(['pretrain', '--data', corpus, '--eval', heldout, '--eval-every-epoch', '--model', path.join(models, `${family}-base`), '--out', path.join(dir, `pt-${family}`), '--epochs', '2', '--batch', '8', '--max-length', '32', '--pack', '--backend', 'cpu', '--workers', '1']);
  for (let i = 0; i < families.length; i += 2) {
    const results = await Promise.all(families.slice(i, i + 2).map(pretrain));
    results.forEach((result, k) => assert.equal(result.code, 0, `${families[i + k]}: ${result.stderr}`));
  }
  for (const family of families) {
    const out = path.join(dir, `pt-${family}`);
    const config = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8'));
    const expected = hfSavedTensors(family, 'masked-lm', config);
    assert.deepEqual(config.architectures, [architecture(family)]);
    assert.equal(config.id2label, undefined, 'a masked-LM config has no labels');
    const weights = readWeights(out);
    assert.deepEqual([...weights.keys()].sort(), expected.map((tensor) => tensor.name));
    for (const tensor of expected) assert.equal(weights.get(tensor.name)!.length, tensor.shape.reduce((a, b) => a * b, 1), tensor.name);
    const summary = summaryOf(out);
    assert.equal(summary.eval.perplexity, Math.exp(summary.eval.loss));
    assert.deepEqual(summary.evaluations.map((evaluation: { epoch: number }) => evaluation.epoch), [1, 2], '--eval-every-epoch');
    assert.ok(summary.eval.masked_tokens > 0);
    assert.match(readFileSync(path.join(out, 'report.html'), 'utf8'), /Perplexity/);
  }

  // eval reads the task from config.json and draws the same fixed masks: the same perplexity.
  const bertRun = path.join(dir, 'pt-bert');
  const evaluation = await runCli(['eval', '--model', bertRun, '--data', heldout, '--max-length', '32', '--pack', '--json', '--backend', 'cpu']);
  assert.equal(evaluation.code, 0, evaluation.stderr);
  const report = JSON.parse(evaluation.stdout);
  assert.equal(report.task, 'masked-lm');
  assert.equal(report.masked_tokens, summaryOf(bertRun).eval.masked_tokens);
  assert.ok(Math.abs(report.perplexity - summaryOf(bertRun).eval.perplexity) <= 1e-6 * report.perplexity, `${report.perplexity} vs ${summaryOf(bertRun).eval.perplexity}`);

  for (const family of ['bert', 'roberta'] as const) {
    const mask = FAMILY_MASKS[family];
    const filled = await runCli(['fill-mask', '--model', path.join(dir, `pt-${family}`), '--text', `the cat ${mask} on the warm ${mask}`, '--top-k', '3', '--backend', 'cpu']);
    assert.equal(filled.code, 0, filled.stderr);
    const lines = filled.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(lines.length, 2, 'one line per mask');
    lines.forEach((line, k) => {
      assert.equal(line.mask, k + 1);
      assert.equal(line.candidates.length, 3);
      const scores = line.candidates.map((candidate: { score: number }) => candidate.score);
      assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
      for (const candidate of line.candidates) assert.ok(Number.isInteger(candidate.id) && typeof candidate.token === 'string');
    });
  }
  const wrongMask = await runCli(['fill-mask', '--model', path.join(dir, 'pt-roberta'), '--text', 'the cat [MASK] here', '--backend', 'cpu']);
  assert.equal(wrongMask.code, 1);
  assert.match(wrongMask.stderr, /has no <mask>/);

  // A pretraining output is a base model for token classification (its MLM head is set aside).
  const ner = writeConll(path.join(dir, 'ner.conll'), nerSentences(6));
  const trained = await runCli(['train', '--task', 'token-classification', '--data', ner, '--model', path.join(dir, 'pt-distilbert'), '--out', path.join(dir, 'ner-from-pretrained'), '--epochs', '1', '--batch', '4', '--backend', 'cpu', '--workers', '1']);
  assert.equal(trained.code, 0, trained.stderr);
  assert.match(trained.stderr, /initialised fresh classifier\.weight, classifier\.bias/);
  assert.match(trained.stderr, /ignored 5 checkpoint tensors \(vocab_layer_norm\.bias/);
  assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'ner-from-pretrained', 'config.json'), 'utf8')).architectures, ['DistilBertForTokenClassification']);
});

function architecture(family: HfFamily): string {
  return { bert: 'BertForMaskedLM', distilbert: 'DistilBertForMaskedLM', roberta: 'RobertaForMaskedLM', electra: 'ElectraForMaskedLM' }[family];
}

test('pretrain reads JSONL and CSV text fields and refuses a model without room for --max-length', async () => {
  const { dir, models } = await setUp();
  const jsonl = writeJsonl(path.join(dir, 'docs.jsonl'), corpusLines(5).map((body, i) => ({ id: i, body })));
  const missing = await runCli(['pretrain', '--data', jsonl, '--model', path.join(models, 'bert-masked-lm'), '--out', path.join(dir, 'x'), '--backend', 'cpu']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /docs\.jsonl, line 1, field "text": missing text field \(available fields: "id", "body"\)/);
  const tooLong = await runCli(['pretrain', '--data', jsonl, '--text-field', 'body', '--pack', '--max-length', '64', '--model', path.join(models, 'bert-masked-lm'), '--out', path.join(dir, 'x'), '--backend', 'cpu']);
  assert.equal(tooLong.code, 1);
  assert.match(tooLong.stderr, /--max-length gives a sample of \d+ tokens, more than the model's 40 positions: use --max-length 40 or less/);
  assert.ok(!existsSync(path.join(dir, 'x')), 'bad input leaves no output directory');
});
