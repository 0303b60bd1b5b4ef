import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { DataError } from '../../src/core/errors.js';
import {
  accuracyScore,
  autoDetectScheme,
  classificationReport,
  countEntities,
  f1Score,
  formatClassificationReport,
  formatFixed,
  getEntities,
  numpySum,
  precisionRecallFscoreSupport,
  precisionScore,
  recallScore,
  scoresFromCounts,
  sentenceEntities,
  type SeqevalOptions,
  type SeqevalReport,
} from '../../src/app/metrics/seqeval.js';

// ---------------------------------------------------------------------------------------------
// Against seqeval itself: test/app/fixtures/make-seqeval-cases.py ran seqeval 1.2.2 (with numpy)
// on 320 random cases — default and strict mode, all six schemes, suffix tags, zero_division=1,
// up to 20 entity types, tags seqeval only warns about — and recorded what it returned.

interface FixtureCase {
  yTrue: string[];
  yPred: string[];
  options: SeqevalOptions;
  error?: string;
  types?: [string, number | null, number | null, number | null, number][];
  avg?: Record<'micro avg' | 'macro avg' | 'weighted avg', [number | null, number | null, number | null, number]>;
  text?: string | null;
  text4?: string;
  accuracy: number | null;
}

const fixture = JSON.parse(readFileSync(new URL('../../../test/app/fixtures/seqeval-cases.json', import.meta.url), 'utf8')) as { cases: FixtureCase[] };
const sentencesOf = (lines: string[]) => lines.map((line) => (line === '' ? [] : line.split(' ')));
/** JSON has no NaN: the generator wrote null for it. */
const fromJson = (value: number | null) => (value === null ? NaN : value);

test('classificationReport equals seqeval bit for bit on 320 recorded cases (scores, supports, accuracy, text)', () => {
  assert.ok(fixture.cases.length >= 300);
  let compared = 0;
  for (const [index, c] of fixture.cases.entries()) {
    const yTrue = sentencesOf(c.yTrue);
    const yPred = sentencesOf(c.yPred);
    const label = `case ${index} ${JSON.stringify(c.options)}`;
    if (c.error !== undefined) {
      assert.throws(() => classificationReport(yTrue, yPred, c.options), DataError, label);
      continue;
    }
    const report = classificationReport(yTrue, yPred, c.options);
    assert.deepEqual(
      report.types.map((row) => [row.type, row.precision, row.recall, row.f1, row.support]),
      c.types!.map(([type, p, r, f, s]) => [type, fromJson(p), fromJson(r), fromJson(f), s]),
      label,
    );
    const averages: [keyof NonNullable<FixtureCase['avg']>, keyof SeqevalReport][] = [
      ['micro avg', 'microAvg'],
      ['macro avg', 'macroAvg'],
      ['weighted avg', 'weightedAvg'],
    ];
    for (const [name, key] of averages) {
      const scores = report[key] as SeqevalReport['microAvg'];
      const [p, r, f, s] = c.avg![name];
      assert.deepEqual([scores.precision, scores.recall, scores.f1, scores.support], [fromJson(p), fromJson(r), fromJson(f), s], `${label} ${name}`);
    }
    assert.deepEqual(report.accuracy, fromJson(c.accuracy), `${label} accuracy`);
    if (c.text !== null) {
      assert.equal(formatClassificationReport(report), c.text, label);
      assert.equal(formatClassificationReport(report, 4), c.text4, label);
    }
    compared++;
  }
  assert.ok(compared >= 290, `${compared} cases compared`);
});

// ---------------------------------------------------------------------------------------------
// seqeval's documented examples and its own tests, quoted.

// sequence_labeling.py, classification_report docstring.
const DOC_TRUE = [['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
const DOC_PRED = [['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];

test('seqeval docstring: classification_report text (default mode and strict IOB2)', () => {
  const expected = [
    '              precision    recall  f1-score   support',
    '',
    '        MISC       0.00      0.00      0.00         1',
    '         PER       1.00      1.00      1.00         1',
    '',
    '   micro avg       0.50      0.50      0.50         2',
    '   macro avg       0.50      0.50      0.50         2',
    'weighted avg       0.50      0.50      0.50         2',
    '',
  ].join('\n');
  assert.equal(formatClassificationReport(classificationReport(DOC_TRUE, DOC_PRED)), expected);
  assert.equal(formatClassificationReport(classificationReport(DOC_TRUE, DOC_PRED, { mode: 'strict', scheme: 'IOB2' })), expected);
  // precision_recall_fscore_support docstring: (0.5, 0.5, 0.5, 2) for every average.
  for (const average of ['micro', 'macro', 'weighted'] as const) {
    assert.deepEqual(precisionRecallFscoreSupport(DOC_TRUE, DOC_PRED, { average }), { precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
  }
  // accuracy_score docstring: 0.80.
  assert.equal(accuracyScore(DOC_TRUE, DOC_PRED), 0.8);
});

test('seqeval docstring: f1/precision/recall_score averages', () => {
  const yTrue = [['O', 'O', 'B-MISC', 'I-MISC', 'B-MISC', 'O', 'O'], ['B-PER', 'I-PER', 'O']];
  const yPred = [['O', 'O', 'B-MISC', 'I-MISC', 'B-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
  for (const score of [f1Score, precisionScore, recallScore]) {
    assert.equal(score(yTrue, yPred), 0.6666666666666666);
    assert.equal(score(yTrue, yPred, { average: 'micro' }), 0.6666666666666666);
    assert.equal(score(yTrue, yPred, { average: 'macro' }), 0.75);
    assert.equal(score(yTrue, yPred, { average: 'weighted' }), 0.6666666666666666);
  }
  // average=None: array([0.5, 1. ]) for MISC, PER.
  const counts = countEntities(yTrue, yPred);
  assert.deepEqual(counts.types, ['MISC', 'PER']);
  assert.deepEqual(scoresFromCounts(counts, null).f, [0.5, 1]);
});

test('seqeval tests: get_entities (entity at the end, suffix style, bare B/I, nested lists)', () => {
  // get_entities docstring: the entity at the end of the sequence is closed by the appended O.
  assert.deepEqual(getEntities(['B-PER', 'I-PER', 'O', 'B-LOC']), [['PER', 0, 1], ['LOC', 3, 3]]);
  // test_get_entities
  assert.deepEqual(getEntities(['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O', 'B-PER', 'I-PER']), [['MISC', 3, 5], ['PER', 7, 8]]);
  // test_get_entities_with_suffix_style
  assert.deepEqual(getEntities(['O', 'O', 'O', 'MISC-B', 'MISC-I', 'MISC-I', 'O', 'PER-B', 'PER-I'], true), [['MISC', 3, 5], ['PER', 7, 8]]);
  // test_get_entities_with_only_IOB: nested lists are flattened with an O after each.
  assert.deepEqual(getEntities([['O', 'O', 'O', 'B', 'I', 'I', 'O'], ['B', 'I', 'O']]), [['_', 3, 5], ['_', 8, 9]]);
});

test('default mode is lenient: I- without B- opens an entity, a type change closes one, E-/S- end one', () => {
  assert.deepEqual(getEntities(['I-PER', 'I-PER', 'O']), [['PER', 0, 1]]);
  assert.deepEqual(getEntities(['O', 'I-PER']), [['PER', 1, 1]]);
  assert.deepEqual(getEntities(['B-PER', 'I-LOC', 'I-LOC']), [['PER', 0, 0], ['LOC', 1, 2]]);
  assert.deepEqual(getEntities(['B-PER', 'B-PER']), [['PER', 0, 0], ['PER', 1, 1]]);
  assert.deepEqual(getEntities(['S-PER', 'B-LOC', 'E-LOC', 'I-LOC']), [['PER', 0, 0], ['LOC', 1, 2], ['LOC', 3, 3]]);
  // Types keep everything after the first dash; a tag without a type is '_'.
  assert.deepEqual(getEntities(['B-ORG-CO', 'I-ORG-CO', 'B']), [['ORG-CO', 0, 1], ['_', 2, 2]]);
  // test_conll_f1score: default mode accepts I-ORG I-ORG as B-ORG I-ORG (f1 = 1 for every average) …
  for (const average of ['micro', 'macro', 'weighted'] as const) assert.equal(f1Score([['B-ORG', 'I-ORG']], [['I-ORG', 'I-ORG']], { average }), 1);
  // … test_strict_f1score: strict IOB2 does not (0).
  for (const average of ['micro', 'macro', 'weighted'] as const) {
    assert.equal(f1Score([['B-ORG', 'I-ORG']], [['I-ORG', 'I-ORG']], { average, mode: 'strict', scheme: 'IOB2' }), 0);
  }
});

test('seqeval v1 tests: per-class scores, averages, beta = inf, output_dict and output_string', () => {
  const yTrue = [['B-A', 'B-B', 'O', 'B-A']];
  const yPred = [['O', 'B-B', 'B-C', 'B-A']];
  const strict = { mode: 'strict', scheme: 'IOB2' } as const;
  const counts = countEntities(yTrue, yPred, strict);
  const perType = scoresFromCounts(counts, null);
  // test_scores
  assert.deepEqual(perType.precision, [1, 1, 0]);
  assert.deepEqual(perType.recall, [0.5, 1, 0]);
  assert.deepEqual(perType.f.map((value) => Number(value.toFixed(2))), [0.67, 1, 0]);
  assert.deepEqual(perType.support, [2, 1, 0]);
  // test_average_scores (to 2 decimals) and test_average_scores_beta_inf
  const rounded = (scores: { precision: number; recall: number; f1: number; support: number }) =>
    [scores.precision, scores.recall, scores.f1].map((value) => Number(value.toFixed(2))).concat(scores.support);
  assert.deepEqual(rounded(scoresFromCounts(counts, 'micro')), [0.67, 0.67, 0.67, 3]);
  assert.deepEqual(rounded(scoresFromCounts(counts, 'macro')), [0.67, 0.5, 0.56, 3]);
  assert.deepEqual(rounded(scoresFromCounts(counts, 'weighted')), [1, 0.67, 0.78, 3]);
  assert.deepEqual(rounded(scoresFromCounts(counts, 'macro', { beta: Infinity })), [0.67, 0.5, 0.5, 3]);
  assert.deepEqual(rounded(scoresFromCounts(counts, 'weighted', { beta: Infinity })), [1, 0.67, 0.67, 3]);
  // test_output_dict: exact floats.
  const report = classificationReport(yTrue, yPred);
  assert.deepEqual(report.types, [
    { type: 'A', precision: 1.0, recall: 0.5, f1: 0.6666666666666666, support: 2 },
    { type: 'B', precision: 1.0, recall: 1.0, f1: 1.0, support: 1 },
    { type: 'C', precision: 0.0, recall: 0.0, f1: 0.0, support: 0 },
  ]);
  assert.deepEqual(report.macroAvg, { precision: 0.6666666666666666, recall: 0.5, f1: 0.5555555555555555, support: 3 });
  assert.deepEqual(report.microAvg, { precision: 0.6666666666666666, recall: 0.6666666666666666, f1: 0.6666666666666666, support: 3 });
  assert.deepEqual(report.weightedAvg, { precision: 1.0, recall: 0.6666666666666666, f1: 0.7777777777777777, support: 3 });
  // test_output_string
  assert.equal(
    formatClassificationReport(report),
    `              precision    recall  f1-score   support

           A       1.00      0.50      0.67         2
           B       1.00      1.00      1.00         1
           C       0.00      0.00      0.00         0

   micro avg       0.67      0.67      0.67         3
   macro avg       0.67      0.50      0.56         3
weighted avg       1.00      0.67      0.78         3
`,
  );
  assert.throws(() => scoresFromCounts(counts, 'micro', { beta: -0.1 }), DataError); // test_bad_beta
});

test('seqeval: zero divisions give 0 (or zeroDivision), weighted with no true entity, macro over no type is NaN', () => {
  // test_weighted_true_sum_zero
  assert.deepEqual(precisionRecallFscoreSupport([['O']], [['O']], { average: 'weighted', mode: 'strict', scheme: 'IOB2' }), { precision: 0, recall: 0, f1: 0, support: 0 });
  // Nothing true, something predicted: precision 0, recall 0 (1 with zeroDivision 1), F 0.
  const predictedOnly = { yTrue: [['O', 'O']], yPred: [['B-PER', 'O']] };
  assert.deepEqual(precisionRecallFscoreSupport(predictedOnly.yTrue, predictedOnly.yPred, { average: 'micro' }), { precision: 0, recall: 0, f1: 0, support: 0 });
  assert.deepEqual(precisionRecallFscoreSupport(predictedOnly.yTrue, predictedOnly.yPred, { average: 'micro', zeroDivision: 1 }), { precision: 0, recall: 1, f1: 0, support: 0 });
  assert.deepEqual(precisionRecallFscoreSupport(predictedOnly.yTrue, predictedOnly.yPred, { average: 'weighted', zeroDivision: 1 }), { precision: 0, recall: 1, f1: 0, support: 0 });
  // test_undefined_metric_warning / test_runtime_warning: [[]] vs [[]] — micro 0, macro NaN (numpy's mean of nothing).
  assert.equal(f1Score([[]], [[]], { average: 'micro' }), 0);
  assert.ok(Number.isNaN(f1Score([[]], [[]], { average: 'macro' })));
  assert.ok(Number.isNaN(accuracyScore([[]], [[]])));
  // test_value_error / check_consistent_length
  assert.throws(() => f1Score([['O']], [[]]), DataError);
  assert.throws(() => f1Score([[]], [['O']]), DataError);
  assert.throws(() => f1Score([['B'], []], [['B']]), DataError);
  assert.throws(() => classificationReport([], []), /no sentences/);
});

test('seqeval scheme tests: IOB2 and IOBES entities (end exclusive), invalid prefixes, auto_detect', () => {
  const entities = (tags: string[], scheme: 'IOB2' | 'IOBES' | 'IOB1') => sentenceEntities(tags, scheme).map((entity) => [entity.type, entity.start, entity.end]);
  // test_iob2_tokens
  const iob2: [string[], [string, number, number][]][] = [
    [[], []],
    [['B-PER'], [['PER', 0, 1]]],
    [['I-PER'], []],
    [['O'], []],
    [['O', 'I-PER'], []],
    [['O', 'B-PER'], [['PER', 1, 2]]],
    [['I-PER', 'O'], []],
    [['I-PER', 'I-PER'], []],
    [['I-PER', 'I-ORG'], []],
    [['I-PER', 'B-PER'], [['PER', 1, 2]]],
    [['I-PER', 'B-ORG'], [['ORG', 1, 2]]],
    [['B-PER', 'O'], [['PER', 0, 1]]],
    [['B-PER', 'I-PER'], [['PER', 0, 2]]],
    [['B-PER', 'I-ORG'], [['PER', 0, 1]]],
    [['B-PER', 'B-PER'], [['PER', 0, 1], ['PER', 1, 2]]],
    [['B-PER', 'B-ORG'], [['PER', 0, 1], ['ORG', 1, 2]]],
  ];
  for (const [tags, expected] of iob2) assert.deepEqual(entities(tags, 'IOB2'), expected, tags.join(' '));
  // test_iobes_tokens
  const iobes: [string[], [string, number, number][]][] = [
    [['O'], []],
    [['I-PER'], []],
    [['B-PER'], []],
    [['E-PER'], []],
    [['S-PER'], [['PER', 0, 1]]],
    [['O', 'S-PER'], [['PER', 1, 2]]],
    [['I-PER', 'S-PER'], [['PER', 1, 2]]],
    [['B-PER', 'I-PER'], []],
    [['B-PER', 'E-PER'], [['PER', 0, 2]]],
    [['B-PER', 'E-ORG'], []],
    [['B-PER', 'S-PER'], [['PER', 1, 2]]],
    [['E-PER', 'S-PER'], [['PER', 1, 2]]],
    [['S-PER', 'O'], [['PER', 0, 1]]],
    [['S-PER', 'I-PER'], [['PER', 0, 1]]],
    [['S-PER', 'E-PER'], [['PER', 0, 1]]],
    [['S-PER', 'S-PER'], [['PER', 0, 1], ['PER', 1, 2]]],
  ];
  for (const [tags, expected] of iobes) assert.deepEqual(entities(tags, 'IOBES'), expected, tags.join(' '));
  // test_iob1_tokens (a few): an entity starts with I-, B- only separates adjacent same-type entities.
  assert.deepEqual(entities(['I-PER'], 'IOB1'), [['PER', 0, 1]]);
  assert.deepEqual(entities(['I-PER', 'B-PER'], 'IOB1'), [['PER', 0, 1], ['PER', 1, 2]]);
  assert.deepEqual(entities(['B-PER', 'I-PER'], 'IOB1'), [['PER', 1, 2]]);
  // TestTokens: IOBES tokens under IOB2 raise.
  assert.throws(() => sentenceEntities(['B-PER', 'E-PER', 'S-PER'], 'IOB2'), /not allowed in IOB2/);
  // TestIOB2Token.test_invalid_prefix, TestToken.test_raises_index_error_if_input_is_empty_string
  assert.throws(() => sentenceEntities(['T'], 'IOB2'), /no I\/O\/B\/E\/S\/U\/L prefix/);
  assert.throws(() => sentenceEntities([''], 'IOB2'), /empty string/);
  // test_token_tag: the type is the rest with dashes stripped, '_' when empty.
  assert.deepEqual(sentenceEntities(['S-ORG-COMPANY', 'S', 'S-組織'], 'IOBES').map((entity) => entity.type), ['ORG-COMPANY', '_', '組織']);
  assert.deepEqual(sentenceEntities(['ORG-COMPANY-S'], 'IOBES', { suffix: true }).map((entity) => entity.type), ['ORG-COMPANY']);
  // TestAutoDetect
  const detected: [string[], string][] = [
    [['B', 'I', 'O'], 'IOB2'],
    [['B', 'O'], 'IOB2'],
    [['I', 'O', 'E'], 'IOE2'],
    [['I', 'O', 'B', 'E', 'S'], 'IOBES'],
    [['O', 'B', 'E'], 'IOBES'],
    [['S'], 'IOBES'],
    [['I', 'O', 'B', 'L', 'U'], 'BILOU'],
    [['U'], 'BILOU'],
  ];
  for (const [tags, scheme] of detected) assert.equal(autoDetectScheme([tags]), scheme, tags.join(' '));
  assert.throws(() => autoDetectScheme([['I', 'O']]), /cannot detect/);
  assert.throws(() => autoDetectScheme([['H']]), /prefix/);
  // Strict mode without a scheme detects it from the true tags, as classification_report does.
  assert.equal(classificationReport([['B-PER', 'E-PER']], [['B-PER', 'E-PER']], { mode: 'strict' }).scheme, 'IOBES');
});

test('entity types sort in code point order, as Python sorts them (not UTF-16 order)', () => {
  // seqeval 1.2.2: classification_report([['B-Ｚ', 'B-𝒜']], [['B-Ｚ', 'O']]) lists Ｚ (U+FF3A), then 𝒜 (U+1D49C).
  const report = classificationReport([['B-Ｚ', 'B-𝒜']], [['B-Ｚ', 'O']]);
  assert.deepEqual(report.types.map((row) => [row.type, row.f1]), [['Ｚ', 1], ['𝒜', 0]]);
  assert.equal(
    formatClassificationReport(report),
    [
      '              precision    recall  f1-score   support',
      '',
      '           Ｚ       1.00      1.00      1.00         1',
      '           𝒜       0.00      0.00      0.00         1',
      '',
      '   micro avg       1.00      0.50      0.67         2',
      '   macro avg       0.50      0.50      0.50         2',
      'weighted avg       0.50      0.50      0.50         2',
      '',
    ].join('\n'),
  );
});

test('formatFixed rounds as Python format(value, ".Nf"): exact ties to even, others correctly', () => {
  // Values from Python 3: format(0.125, '.2f') == '0.12', …
  const cases: [number, number, string][] = [
    [0.125, 2, '0.12'],
    [0.375, 2, '0.38'],
    [0.625, 2, '0.62'],
    [0.875, 2, '0.88'],
    [0.5, 0, '0'],
    [1.5, 0, '2'],
    [2.5, 0, '2'],
    [0.675, 2, '0.68'],
    [1.005, 2, '1.00'],
    [0.0625, 3, '0.062'],
    [0.3125, 3, '0.312'],
    [2 / 3, 2, '0.67'],
    [1 / 3, 4, '0.3333'],
    [0.99995, 4, '1.0000'],
    [NaN, 2, 'nan'],
  ];
  for (const [value, digits, expected] of cases) assert.equal(formatFixed(value, digits), expected, `${value} .${digits}f`);
  // A type with precision 1/8 shows 0.12 in seqeval's report, not JavaScript's 0.13.
  const yTrue = [['B-X', 'O', 'O', 'O', 'O', 'O', 'O', 'O']];
  const yPred = [['B-X', 'B-X', 'B-X', 'B-X', 'B-X', 'B-X', 'B-X', 'B-X']];
  assert.match(formatClassificationReport(classificationReport(yTrue, yPred)), /^ {11}X {7}0\.12 {6}1\.00 {6}0\.22 {9}1$/m);
});

test('numpySum reproduces numpy float64 sums (pairwise, 8 accumulators), not sequential ones', () => {
  // float(np.array(a).sum()) in numpy 2.4 vs Python's sum(): 17.500999999999998 vs 18.501.
  const a = [1e16, 1.0, -1e16, 1.0, 3.0, 1e-3, 2.0, 7.0, 5.5];
  assert.equal(numpySum(a), 17.500999999999998);
  // 300 terms: blocks of 128 and a recursive split (numpy 6.282663880299504, sequential …502).
  assert.equal(numpySum(Array.from({ length: 300 }, (_, i) => 1 / (i + 1))), 6.282663880299504);
  assert.equal(numpySum([]), 0);
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { maxLength: 400 }), (values) => {
      const sequential = values.reduce((sum, value) => sum + value, 0);
      assert.ok(Math.abs(numpySum(values) - sequential) <= 1e-9 * Math.max(1, sequential));
    }),
  );
});

// ---------------------------------------------------------------------------------------------
// Properties.

const TYPES = ['PER', 'LOC', 'ORG', 'MISC'];

/** A valid IOB2 or IOBES sentence built from random entities and gaps. */
function validSentence(scheme: 'IOB2' | 'IOBES') {
  const piece = fc.oneof(
    fc.constant<string[]>(['O']),
    fc.tuple(fc.constantFrom(...TYPES), fc.integer({ min: 1, max: 4 })).map(([type, length]) => {
      if (scheme === 'IOB2') return [`B-${type}`, ...Array.from({ length: length - 1 }, () => `I-${type}`)];
      if (length === 1) return [`S-${type}`];
      return [`B-${type}`, ...Array.from({ length: length - 2 }, () => `I-${type}`), `E-${type}`];
    }),
  );
  return fc.array(piece, { maxLength: 8 }).map((pieces) => pieces.flat());
}

test('property: a perfect prediction scores 1 everywhere (default and strict mode)', () => {
  fc.assert(
    fc.property(fc.constantFrom<'IOB2' | 'IOBES'>('IOB2', 'IOBES'), fc.constantFrom(0, 1), (scheme, zeroDivision) =>
      fc.assert(
        fc.property(fc.array(validSentence(scheme), { minLength: 1, maxLength: 5 }), (sentences) => {
          fc.pre(sentences.some((tags) => tags.some((tag) => tag !== 'O')));
          for (const options of [{}, { mode: 'strict', scheme }] as SeqevalOptions[]) {
            const report = classificationReport(sentences, sentences, { ...options, zeroDivision: zeroDivision as 0 | 1 });
            for (const scores of [report.microAvg, report.macroAvg, report.weightedAvg, ...report.types]) {
              assert.deepEqual([scores.precision, scores.recall, scores.f1], [1, 1, 1]);
            }
            assert.equal(report.accuracy, 1);
            assert.equal(report.microAvg.support, getEntities(sentences).length);
          }
        }),
        { numRuns: 50 },
      ),
    ),
    { numRuns: 4 },
  );
});

test('property: micro F1 = 2·TP / (predicted + true) from independently counted entity sets', () => {
  const tag = fc.constantFrom('O', 'O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC', 'E-LOC', 'S-PER', 'B', 'I');
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.tuple(tag, tag), { maxLength: 12 }), { minLength: 1, maxLength: 5 }),
      (pairs) => {
        const yTrue = pairs.map((sentence) => sentence.map(([t]) => t));
        const yPred = pairs.map((sentence) => sentence.map(([, p]) => p));
        const key = (chunk: [string, number, number]) => chunk.join('|');
        const trueSet = new Set(getEntities(yTrue).map(key));
        const predSet = new Set(getEntities(yPred).map(key));
        const truePositives = [...predSet].filter((chunk) => trueSet.has(chunk)).length;
        const micro = precisionRecallFscoreSupport(yTrue, yPred, { average: 'micro' });
        const expected = trueSet.size + predSet.size === 0 ? 0 : (2 * truePositives) / (trueSet.size + predSet.size);
        assert.ok(Math.abs(micro.f1 - expected) < 1e-12, `${micro.f1} vs ${expected}`);
        assert.equal(micro.support, trueSet.size);
        const counts = countEntities(yTrue, yPred);
        counts.types.forEach((_, i) => assert.ok(counts.truePositives[i]! <= Math.min(counts.predicted[i]!, counts.actual[i]!)));
        for (const scores of [micro, precisionRecallFscoreSupport(yTrue, yPred, { average: 'macro' })]) {
          for (const value of [scores.precision, scores.recall, scores.f1]) assert.ok(Number.isNaN(value) || (value >= 0 && value <= 1));
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('property: on valid IOB2 / IOBES sequences the lenient default chunking equals the strict scheme', () => {
  for (const scheme of ['IOB2', 'IOBES'] as const) {
    fc.assert(
      fc.property(validSentence(scheme), (tags) => {
        const lenient = getEntities(tags).map(([type, start, end]) => [type, start, end + 1]);
        const strict = sentenceEntities(tags, scheme).map((entity) => [entity.type, entity.start, entity.end]);
        assert.deepEqual(lenient, strict);
      }),
      { numRuns: 300 },
    );
  }
});
