/**
 * src/app/token-classification.ts with a real WordPiece tokenizer and a stand-in model whose
 * probabilities are chosen by the test: tag alignment as run_ner's tokenize_and_align_labels,
 * per-word evaluation with seqeval's scores, entities with character spans.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignTaggedSentences, evaluateTokenClassifier, predictEntities, type TaggedSample } from '../../src/app/token-classification.js';
import { classificationReport } from '../../src/app/metrics/seqeval.js';
import { DataError } from '../../src/core/errors.js';
import { loadTokenizer } from '../../src/tokenizers/index.js';
import { BERT_VOCAB } from '../tokenizers/fixtures.js';

const tokenizer = loadTokenizer({ 'vocab.txt': BERT_VOCAB.join('\n') + '\n', 'tokenizer_config.json': JSON.stringify({ do_lower_case: false }) }, 'bert', 'fixture');
const LABELS = ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER'];
const id = (token: string) => tokenizer.tokenToId(token)!;

test('tags label the first sub-token of each word; special tokens and later sub-tokens get -100', () => {
  // "unaffable" is three pieces: un ##aff ##able.
  const [sample] = alignTaggedSentences([{ line: 3, words: ['new', 'york', 'is', 'unaffable'], tags: ['B-LOC', 'I-LOC', 'O', 'B-PER'] }], tokenizer, LABELS, { maxLength: 32, labelAllTokens: false });
  assert.deepEqual(sample!.ids, [id('[CLS]'), id('new'), id('york'), id('is'), id('un'), id('##aff'), id('##able'), id('[SEP]')]);
  assert.deepEqual(sample!.labels, [-100, 1, 2, 0, 3, -100, -100, -100]);
  assert.deepEqual(sample!.firstTokens, [1, 2, 3, 4]);
  assert.equal(sample!.line, 3);
});

test('--label-all-tokens labels later sub-tokens too, B- turned into I- (run_ner\'s b_to_i_label)', () => {
  const [sample] = alignTaggedSentences([{ line: 1, words: ['unaffable', 'is', 'unaffable'], tags: ['B-PER', 'O', 'B-LOC'] }], tokenizer, LABELS, { maxLength: 32, labelAllTokens: true });
  assert.deepEqual(sample!.labels, [-100, 3, 4, 4, 0, 1, 2, 2, -100]);
  // A B- tag without its I- keeps its own id.
  const [alone] = alignTaggedSentences([{ line: 1, words: ['unaffable'], tags: ['B-X'] }], tokenizer, ['O', 'B-X'], { maxLength: 32, labelAllTokens: true });
  assert.deepEqual(alone!.labels, [-100, 1, 1, 1, -100]);
});

test('words cut off by maxLength get no label and no first token', () => {
  const [sample] = alignTaggedSentences([{ line: 1, words: ['new', 'york', 'is', 'big'], tags: ['B-LOC', 'I-LOC', 'O', 'O'] }], tokenizer, LABELS, { maxLength: 4, labelAllTokens: false });
  assert.deepEqual(sample!.ids, [id('[CLS]'), id('new'), id('york'), id('[SEP]')]);
  assert.deepEqual(sample!.firstTokens, [1, 2, -1, -1]);
});

test('a tag outside the labels is a DataError naming the file and line', () => {
  assert.throws(
    () => alignTaggedSentences([{ line: 7, words: ['new'], tags: ['B-ORG'] }], tokenizer, LABELS, { maxLength: 8, labelAllTokens: false, file: 'dev.conll' }),
    (error: unknown) => error instanceof DataError && error.message === 'dev.conll, line 7, field "tags": unknown tag "B-ORG" (the model\'s labels are O, B-LOC, I-LOC, B-PER, I-PER)',
  );
});

/** A stand-in token classifier: the probability rows the test chose, per sample and token position. */
function fakeModel(rows: Map<string, number[][]>) {
  const calls: number[] = [];
  return {
    calls,
    probabilities(inputs: readonly { ids: readonly number[] }[]): Float64Array[][] {
      calls.push(inputs.length);
      return inputs.map((input) => {
        const chosen = rows.get(input.ids.join(','));
        assert.ok(chosen !== undefined, `no probabilities for ${input.ids.join(',')}`);
        return chosen.map((row) => Float64Array.from(row));
      });
    },
  };
}

const oneHot = (index: number, confidence = 0.9) => LABELS.map((_, k) => (k === index ? confidence : (1 - confidence) / (LABELS.length - 1)));

test('evaluation scores words at their first sub-token, as seqeval, with the mean loss over labelled tokens', () => {
  const sentences = [
    { line: 1, words: ['new', 'york', 'is', 'big'], tags: ['B-LOC', 'I-LOC', 'O', 'O'] },
    { line: 6, words: ['unaffable', 'world'], tags: ['B-PER', 'O'] },
  ];
  const samples = alignTaggedSentences(sentences, tokenizer, LABELS, { maxLength: 32, labelAllTokens: true });
  // Sentence 1: LOC right. Sentence 2: "unaffable" predicted B-PER at its first piece (its later
  // pieces say O: they do not count), "world" predicted B-LOC (a false entity).
  const rows = new Map([
    [samples[0]!.ids.join(','), [oneHot(0), oneHot(1), oneHot(2), oneHot(0), oneHot(0), oneHot(0)]],
    [samples[1]!.ids.join(','), [oneHot(0), oneHot(3, 0.6), oneHot(0), oneHot(0), oneHot(1), oneHot(0)]],
  ]);
  const model = fakeModel(rows);
  const evaluation = evaluateTokenClassifier(model, samples, LABELS, 1);
  assert.deepEqual(model.calls, [1, 1], 'batches of batchSize');
  const expected = classificationReport(
    [['B-LOC', 'I-LOC', 'O', 'O'], ['B-PER', 'O']],
    [['B-LOC', 'I-LOC', 'O', 'O'], ['B-PER', 'B-LOC']],
  );
  assert.deepEqual(evaluation.report, expected);
  assert.equal(evaluation.report.microAvg.precision, 2 / 3);
  assert.equal(evaluation.report.microAvg.recall, 1);
  assert.equal(evaluation.words, 6);
  assert.equal(evaluation.correct, 5);
  // Labelled tokens (label-all-tokens): 4 + 3 pieces of "unaffable" (B-PER, I-PER, I-PER) + "world".
  const p = (probability: number) => -Math.log(probability);
  const lossSum = 3 * p(0.9) + p(0.9) + p(0.6) + 2 * p(0.1 / 4) + p(0.1 / 4);
  assert.ok(Math.abs(evaluation.loss - lossSum / 8) < 1e-12, `${evaluation.loss} vs ${lossSum / 8}`);
});

test('predicted entities carry character spans: in the words joined by spaces, or in the raw text', () => {
  const words = { line: 4, words: ['hello', 'new', 'york'] };
  const text = { line: 9, text: 'Hello  new york!' };
  const wordsInput = tokenizer.encodeWords(words.words, { maxLength: 32 });
  const textInput = tokenizer.encode(text.text, { maxLength: 32 });
  assert.deepEqual(textInput.tokens, ['[CLS]', 'Hello', 'new', 'york', '!', '[SEP]']);
  const rows = new Map([
    [wordsInput.ids.join(','), [oneHot(0), oneHot(3, 0.7), oneHot(1, 0.8), oneHot(2, 0.6), oneHot(0)]],
    [textInput.ids.join(','), [oneHot(0), oneHot(0), oneHot(1, 0.8), oneHot(2, 0.6), oneHot(0), oneHot(0)]],
  ]);
  const [fromWords, fromText] = predictEntities(fakeModel(rows), tokenizer, [words, text], LABELS, { maxLength: 32, batchSize: 8 });
  assert.equal(fromWords!.text, 'hello new york');
  assert.deepEqual(fromWords!.tags, ['B-PER', 'B-LOC', 'I-LOC']);
  assert.deepEqual(fromWords!.entities, [
    { type: 'PER', start: 0, end: 5, text: 'hello', words: [0, 1], score: 0.7 },
    { type: 'LOC', start: 6, end: 14, text: 'new york', words: [1, 3], score: (0.8 + 0.6) / 2 },
  ]);
  assert.equal(fromText!.line, 9);
  assert.deepEqual(fromText!.words, ['Hello', 'new', 'york', '!']);
  assert.deepEqual(fromText!.entities, [{ type: 'LOC', start: 7, end: 15, text: 'new york', words: [1, 3], score: (0.8 + 0.6) / 2 }]);
});

test('without any entity: token accuracy, and entity scores by seqeval\'s zero division (micro 0, macro NaN)', () => {
  const samples: TaggedSample[] = alignTaggedSentences([{ line: 1, words: ['is'], tags: ['O'] }], tokenizer, LABELS, { maxLength: 8, labelAllTokens: false });
  const evaluation = evaluateTokenClassifier(fakeModel(new Map([[samples[0]!.ids.join(','), [oneHot(0), oneHot(0), oneHot(0)]]])), samples, LABELS, 4);
  assert.equal(evaluation.report.accuracy, 1);
  assert.equal(evaluation.words, 1);
  assert.equal(evaluation.report.microAvg.f1, 0);
  assert.ok(Number.isNaN(evaluation.report.macroAvg.f1));
});
