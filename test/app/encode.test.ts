import test from 'node:test';
import assert from 'node:assert/strict';
import { buildLabelMap, encodeRows, lengthStats, type LabelledData, type TextEncoder } from '../../src/app/data/index.js';
import { DataError } from '../../src/core/errors.js';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'good', 'bad', 'film', 'very', '!'];

/** Lower-cased words and '!' as tokens, [CLS] … [SEP] around them (what encodeRows needs of a tokenizer). */
const tokenizer: TextEncoder = {
  encode(text, { maxLength }) {
    const words = text.toLowerCase().match(/[a-z]+|!/g) ?? [];
    const ids = words.map((word) => Math.max(1, VOCAB.indexOf(word)));
    const kept = ids.slice(0, maxLength - 2);
    return { ids: [2, ...kept, 3], truncated: kept.length < ids.length };
  },
};

function data(rows: [string, string | null][]): LabelledData {
  return {
    rows: rows.map(([text, label], index) => ({ text, label, line: index + 1 })),
    report: { file: 'reviews.jsonl', format: 'jsonl', textField: 'text', labelField: 'label', rowsRead: rows.length, labels: {} },
  };
}

test('encodeRows gives [CLS] … [SEP] ids truncated to maxLength and class ids, in file order', () => {
  const reviews = data([
    ['Good film!', 'pos'],
    ['very very very bad film', 'neg'],
    ['bad', 'neg'],
  ]);
  const { label2id } = buildLabelMap(reviews);
  const encoded = encodeRows(reviews, tokenizer, { maxLength: 5, label2id });
  assert.deepEqual(encoded, [
    { ids: [2, 4, 6, 8, 3], label: 1, line: 1, truncated: false },
    { ids: [2, 7, 7, 7, 3], label: 0, line: 2, truncated: true },
    { ids: [2, 5, 3], label: 0, line: 3, truncated: false },
  ]);
  assert.deepEqual(lengthStats(encoded), { count: 3, minTokens: 3, meanTokens: 13 / 3, maxTokens: 5, truncated: 1 });
});

test('encodeRows rejects rows whose label is missing or not in label2id', () => {
  const { label2id } = buildLabelMap(data([['good', 'pos']]));
  assert.throws(
    () => encodeRows(data([['good', 'pos'], ['bad', 'neg']]), tokenizer, { maxLength: 8, label2id }),
    (error: unknown) => error instanceof DataError && error.message === 'reviews.jsonl, line 2, field "label": unknown label "neg"',
  );
  assert.throws(
    () => encodeRows(data([['good', null]]), tokenizer, { maxLength: 8, label2id }),
    (error: unknown) => error instanceof DataError && error.line === 1 && /label is missing/.test(error.message),
  );
});

test('lengthStats of no examples is all zeros', () => {
  assert.deepEqual(lengthStats([]), { count: 0, minTokens: 0, meanTokens: 0, maxTokens: 0, truncated: 0 });
});
