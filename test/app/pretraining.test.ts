/**
 * src/app/pretraining.ts: masks as a pure function of (spec, epoch, sample index), samples from
 * documents, the token-exact evaluation mean, and fill-mask's ranking.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateMaskedLm, fillMask, maskFunction, maskingSpec, pretrainingSamples, type MaskingSpec } from '../../src/app/pretraining.js';
import { readConfig } from '../../src/app/checkpoint.js';
import { ConfigError } from '../../src/core/errors.js';
import { EVALUATION_EPOCH, maskTokens } from '../../src/tasks/masking.js';
import { loadTokenizer } from '../../src/tokenizers/index.js';
import { tinyConfigJson } from '../fixtures/tiny-bert.js';
import { BERT_VOCAB } from '../tokenizers/fixtures.js';

const tokenizer = loadTokenizer({ 'vocab.txt': BERT_VOCAB.join('\n') + '\n', 'tokenizer_config.json': JSON.stringify({ do_lower_case: false }) }, 'bert', 'fixture');
const config = readConfig(tinyConfigJson({ vocab_size: BERT_VOCAB.length }), 'tiny').config;
const documents = [
  { line: 1, text: 'hello world the cafe is big' },
  { line: 2, text: 'new york is big , the world is new' },
  { line: 4, text: 'unaffable hello' },
];

test('samples are numbered in dataset order; truncation keeps the template, packing cuts blocks', () => {
  const truncated = pretrainingSamples(documents, tokenizer, { maxLength: 6, pack: false });
  assert.deepEqual(truncated.samples.map((sample) => sample.index), [0, 1, 2]);
  assert.deepEqual(truncated.samples.map((sample) => sample.line), [1, 2, 4]);
  assert.ok(truncated.samples.every((sample) => sample.ids.length <= 6 && sample.ids[0] === tokenizer.special.cls.id && sample.ids.at(-1) === tokenizer.special.sep.id));
  const packed = pretrainingSamples(documents, tokenizer, { maxLength: 5, pack: true });
  assert.ok(packed.samples.every((sample) => sample.ids.length === 5));
  assert.deepEqual(packed.samples.map((sample) => sample.index), packed.samples.map((_, i) => i));
  assert.match(packed.describe, /3 documents, \d+ tokens packed into \d+ blocks of 5/);
});

test('the masks of a sample depend on (seed, epoch, index) only: not on which other samples are masked, nor in what order', () => {
  const spec = maskingSpec(tokenizer, config, { seed: 3, probability: 0.5, wholeWordMask: false });
  const { samples } = pretrainingSamples(documents, tokenizer, { maxLength: 32, pack: false });
  const mask = maskFunction(spec);
  const forward = samples.map((sample) => mask(sample, 1));
  const backward = [...samples].reverse().map((sample) => maskFunction({ ...spec })(sample, 1)).reverse();
  assert.deepEqual(backward, forward);
  // maskTokens with the sample's dataset index, exactly.
  samples.forEach((sample, i) => {
    const direct = maskTokens(sample, { ...spec, epoch: 1, sampleIndex: i });
    assert.deepEqual(forward[i], { ids: direct.inputIds, labels: direct.labels });
  });
  assert.notDeepEqual(samples.map((sample) => mask(sample, 2)), forward, 'another epoch draws other masks');
  assert.notDeepEqual(mask({ ...samples[0]!, index: 7 }, 1), forward[0], 'another index draws other masks');
  // The spec is plain data: what a worker thread receives rebuilds the same function.
  const cloned = structuredClone(spec) as MaskingSpec;
  assert.deepEqual(samples.map((sample) => maskFunction(cloned)(sample, 1)), forward);
});

test('maskingSpec needs a mask token, a model vocabulary covering the tokenizer, and p in (0, 1]', () => {
  assert.equal(maskingSpec(tokenizer, config, { seed: 0, probability: 0.15, wholeWordMask: true }).maskTokenId, tokenizer.special.mask!.id);
  const small = readConfig(tinyConfigJson({ vocab_size: 10 }), 'tiny').config;
  assert.throws(() => maskingSpec(tokenizer, small, { seed: 0, probability: 0.15, wholeWordMask: false }), ConfigError);
  assert.throws(() => maskingSpec(tokenizer, config, { seed: 0, probability: 0, wholeWordMask: false }), /must be in \(0, 1\]/);
});

test('evaluation loss is Σ loss / Σ masked tokens over all batches (not a mean of batch means), at the fixed masks', () => {
  const epochs: number[] = [];
  const batches = [
    { lossSum: 12, count: 4 },
    { lossSum: 3, count: 1 },
  ];
  const model = {
    evaluate(samples: readonly number[], epoch: number) {
      epochs.push(epoch);
      return batches[samples[0]! / 2]!;
    },
  };
  const result = evaluateMaskedLm(model, [0, 1, 2], 2);
  assert.deepEqual(epochs, [EVALUATION_EPOCH, EVALUATION_EPOCH]);
  assert.equal(result.loss, 15 / 5);
  assert.equal(result.perplexity, Math.exp(3));
  assert.equal(result.maskedTokens, 5);
  assert.equal(result.samples, 3);
});

test('fill-mask ranks every mask\'s candidates by probability and names them by their text', () => {
  const asked: number[][] = [];
  const model = {
    predictPositions(_input: unknown, positions: readonly number[]) {
      asked.push([...positions]);
      return positions.map((_, k) => {
        const row = new Float64Array(BERT_VOCAB.length).fill(0.001);
        row[tokenizer.tokenToId(k === 0 ? 'york' : 'big')!] = 0.5;
        row[tokenizer.tokenToId('world')!] = 0.3;
        return row;
      });
    },
  };
  const results = fillMask(model, tokenizer, 'new [MASK] is [MASK]', { topK: 2, maxLength: 16 });
  assert.deepEqual(asked, [[2, 4]]);
  assert.deepEqual(
    results.map((result) => [result.mask, result.position, result.candidates.map((candidate) => [candidate.token, candidate.score])]),
    [
      [1, 2, [['york', 0.5], ['world', 0.3]]],
      [2, 4, [['big', 0.5], ['world', 0.3]]],
    ],
  );
  assert.throws(() => fillMask(model, tokenizer, 'new york', { topK: 2, maxLength: 16 }), /has no \[MASK\]: mark each word to predict with this model's mask token \[MASK\]/);
});
