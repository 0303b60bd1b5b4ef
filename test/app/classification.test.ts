/** Classification metrics: accuracy, per-label precision/recall/F1, macro-F1, confusion matrix. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classificationReport, formatConfusion } from '../../src/app/metrics/classification.js';

test('classificationReport on a worked example', () => {
  // truth:     a a a b b c
  // predicted: a a b b c c
  const report = classificationReport([0, 0, 1, 1, 2, 2], [0, 0, 0, 1, 1, 2], ['a', 'b', 'c']);
  assert.equal(report.samples, 6);
  assert.equal(report.accuracy, 4 / 6);
  assert.deepEqual(report.confusion, [
    [2, 1, 0],
    [0, 1, 1],
    [0, 0, 1],
  ]);
  const f1 = (p: number, r: number) => (2 * p * r) / (p + r);
  assert.deepEqual(report.per_label, [
    { label: 'a', precision: 1, recall: 2 / 3, f1: f1(1, 2 / 3), support: 3 },
    { label: 'b', precision: 1 / 2, recall: 1 / 2, f1: 1 / 2, support: 2 },
    { label: 'c', precision: 1 / 2, recall: 1, f1: f1(1 / 2, 1), support: 1 },
  ]);
  assert.ok(Math.abs(report.macro_f1 - (f1(1, 2 / 3) + 1 / 2 + f1(1 / 2, 1)) / 3) < 1e-12);
});

test('macro-F1 averages over labels present in the truth or the predictions only', () => {
  const report = classificationReport([0, 1, 1], [0, 1, 0], ['x', 'y', 'never']);
  assert.equal(report.per_label[2]!.f1, 0);
  assert.equal(report.per_label[2]!.support, 0);
  assert.equal(report.macro_f1, (report.per_label[0]!.f1 + report.per_label[1]!.f1) / 2);
  const empty = classificationReport([], [], ['x']);
  assert.equal(empty.accuracy, 0);
  assert.equal(empty.macro_f1, 0);
});

test('classificationReport refuses mismatched lengths', () => {
  assert.throws(() => classificationReport([0, 1], [0], ['a', 'b']), RangeError);
});

test('property: the confusion matrix counts every sample; accuracy is its trace over the total', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }).chain((classes) =>
        fc.array(fc.tuple(fc.integer({ min: 0, max: classes - 1 }), fc.integer({ min: 0, max: classes - 1 })), { minLength: 1, maxLength: 50 }).map((pairs) => ({ classes, pairs })),
      ),
      ({ classes, pairs }) => {
        const labels = Array.from({ length: classes }, (_, k) => `l${k}`);
        const report = classificationReport(pairs.map(([p]) => p), pairs.map(([, t]) => t), labels);
        assert.equal(report.confusion.flat().reduce((sum, n) => sum + n, 0), pairs.length);
        const trace = report.confusion.reduce((sum, row, k) => sum + row[k]!, 0);
        assert.equal(report.accuracy, trace / pairs.length);
        for (const entry of report.per_label) for (const value of [entry.precision, entry.recall, entry.f1]) assert.ok(value >= 0 && value <= 1);
        assert.ok(report.macro_f1 >= 0 && report.macro_f1 <= 1);
      },
    ),
  );
});

test('formatConfusion prints a fixed-width matrix, rows truth and columns prediction', () => {
  const report = classificationReport([0, 1, 1, 1], [0, 0, 1, 1], ['ham', 'spam']);
  assert.equal(formatConfusion(report), [' true\\pred       ham      spam', '       ham         1         1', '      spam         0         2'].join('\n'));
  const wide = classificationReport([0], [0], ['a-very-long-label', 'b']);
  const lines = formatConfusion(wide).split('\n');
  assert.equal(new Set(lines.map((line) => line.length)).size, 1, 'all lines have the same width');
  assert.ok(lines[1]!.includes('a-very-long-label'));
});
