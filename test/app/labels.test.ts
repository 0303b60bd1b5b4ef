import test from 'node:test';
import assert from 'node:assert/strict';
import { buildLabelMap, type LabelledData } from '../../src/app/data/index.js';
import { DataError } from '../../src/core/errors.js';

function data(labels: (string | null)[]): LabelledData {
  const rows = labels.map((label, index) => ({ text: `row ${index}`, label, line: index + 2 }));
  return { rows, report: { file: 'train.csv', format: 'csv', textField: 'text', labelField: 'category', rowsRead: rows.length, labels: {} } };
}

test('labels from the data are unique and sorted, ids follow that order', () => {
  const map = buildLabelMap(data(['spam', 'ham', 'spam', 'Zed', '10', '2']));
  assert.deepEqual(map.labels, ['10', '2', 'Zed', 'ham', 'spam']);
  // Compared through `labels`: JS objects enumerate integer-like keys ('2', '10') numerically first.
  assert.deepEqual(map.labels.map((label) => map.label2id[label]), [0, 1, 2, 3, 4]);
  assert.equal(Object.keys(map.label2id).length, 5);
});

test('labels that are Object.prototype names are ordinary keys', () => {
  const map = buildLabelMap(data(['constructor', '__proto__', 'toString']));
  assert.deepEqual(map.labels, ['__proto__', 'constructor', 'toString']);
  assert.equal(map.label2id['__proto__'], 0);
  assert.equal(map.label2id['constructor'], 1);
  assert.throws(() => buildLabelMap(data(['hasOwnProperty']), ['a']), DataError);
});

test('fixed labels (a checkpoint id2label) keep their order; unknown labels name file, line and field', () => {
  const map = buildLabelMap(data(['pos', 'neg']), ['neg', 'neutral', 'pos']);
  assert.deepEqual(map.labels, ['neg', 'neutral', 'pos']);
  assert.deepEqual(Object.entries(map.label2id), [['neg', 0], ['neutral', 1], ['pos', 2]]);
  assert.throws(
    () => buildLabelMap(data(['pos', 'neg', 'positive']), ['neg', 'pos']),
    (error: unknown) =>
      error instanceof DataError &&
      error.file === 'train.csv' &&
      error.line === 4 &&
      error.field === 'category' &&
      error.message === 'train.csv, line 4, field "category": unknown label "positive" (the model\'s labels are "neg", "pos")',
  );
  assert.throws(() => buildLabelMap(data(['a']), ['a', 'a']), /duplicates/);
});

test('rows without a label cannot build a label map', () => {
  assert.throws(() => buildLabelMap(data(['a', null])), (error: unknown) => error instanceof DataError && error.line === 3 && /label is missing/.test(error.message));
  assert.throws(() => buildLabelMap(data([null]), ['a']), (error: unknown) => error instanceof DataError && error.line === 2);
});
