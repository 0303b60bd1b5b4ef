import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { RandomStream, deriveSeed, shuffleInPlace } from '../../src/core/random.js';
import {
  EVALUATION_EPOCH,
  IGNORE_INDEX,
  MASKING_STREAM,
  evaluationMasks,
  maskTokens,
  roundHalfToEven,
  wholeWordBudget,
  type MaskOptions,
  type MaskedSample,
  type TokenizedSample,
} from '../../src/tasks/masking.js';

const CLS = 101;
const SEP = 102;
const PAD = 0;
const MASK = 103;
const VOCAB = 1000;

/**
 * A BERT-like sample: [CLS] words… [SEP] then `padding` pads. Word w has `pieces[w]` tokens with
 * ids ≥ 200 (so never a special id).
 */
function sample(pieces: readonly number[], padding = 0, firstId = 200): TokenizedSample {
  const ids = [CLS];
  const specialTokensMask = [1];
  const wordIds: (number | null)[] = [null];
  let id = firstId;
  pieces.forEach((count, word) => {
    for (let piece = 0; piece < count; piece++) {
      ids.push(200 + (id++ % (VOCAB - 200)));
      specialTokensMask.push(0);
      wordIds.push(word);
    }
  });
  ids.push(SEP);
  specialTokensMask.push(1);
  wordIds.push(null);
  for (let i = 0; i < padding; i++) {
    ids.push(PAD);
    specialTokensMask.push(1);
    wordIds.push(null);
  }
  return { ids, specialTokensMask, wordIds };
}

const base = { maskTokenId: MASK, vocabSize: VOCAB, padTokenId: PAD };

const arbitrarySample = fc
  .tuple(fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 40 }), fc.integer({ min: 0, max: 8 }), fc.nat(10_000))
  .map(([pieces, padding, firstId]) => sample(pieces, padding, firstId));

/** Checks what every mask must satisfy and returns the predicted positions. */
function checkInvariants(input: TokenizedSample, masked: MaskedSample): number[] {
  const predicted: number[] = [];
  assert.equal(masked.inputIds.length, input.ids.length);
  assert.equal(masked.labels.length, input.ids.length);
  input.ids.forEach((id, i) => {
    const label = masked.labels[i]!;
    if (label === IGNORE_INDEX) {
      assert.equal(masked.inputIds[i], id, `position ${i} changed without being predicted`);
    } else {
      assert.equal(label, id, 'a label is the original id');
      assert.equal(input.specialTokensMask[i], 0, 'special tokens are never predicted');
      assert.notEqual(id, PAD, 'padding is never predicted');
      const shown = masked.inputIds[i]!;
      assert.ok(Number.isInteger(shown) && shown >= 0 && shown < VOCAB);
      predicted.push(i);
    }
  });
  assert.equal(masked.count, predicted.length);
  return predicted;
}

test('maskTokens: deterministic, labels/inputs consistent, specials and padding never masked (both modes)', () => {
  fc.assert(
    fc.property(arbitrarySample, fc.integer(), fc.nat(50), fc.nat(100_000), fc.boolean(), fc.double({ min: 0, max: 1, noNaN: true }), (input, seed, epoch, sampleIndex, wholeWordMask, probability) => {
      const options: MaskOptions = { ...base, seed, epoch, sampleIndex, wholeWordMask, probability };
      const masked = maskTokens(input, options);
      assert.deepEqual(maskTokens(input, options), masked);
      checkInvariants(input, masked);
    }),
    { numRuns: 300 },
  );
});

test('masks depend on (seed, epoch, sample index) only: not on call order, grouping or other samples', () => {
  const samples = Array.from({ length: 40 }, (_, i) => sample(Array.from({ length: 5 + (i % 17) }, (_, w) => 1 + ((i + w) % 3)), i % 5, i * 37));
  for (const wholeWordMask of [false, true]) {
    const masksOf = (order: number[]) => {
      const out = new Map<number, MaskedSample>();
      for (const index of order) out.set(index, maskTokens(samples[index]!, { ...base, seed: 7, epoch: 2, sampleIndex: index, wholeWordMask }));
      return out;
    };
    const inOrder = masksOf(samples.map((_, i) => i));
    // Any order, any cut into micro-batches (here: a seeded shuffle processed in chunks of 3).
    const shuffled = shuffleInPlace(samples.map((_, i) => i), new RandomStream(99));
    const chunked: number[] = [];
    for (let start = 0; start < shuffled.length; start += 3) chunked.push(...shuffled.slice(start, start + 3));
    const otherOrder = masksOf(chunked);
    for (const [index, masked] of inOrder) assert.deepEqual(otherOrder.get(index), masked);
    // Resuming: masking sample 25 alone gives what the full pass gave.
    assert.deepEqual(maskTokens(samples[25]!, { ...base, seed: 7, epoch: 2, sampleIndex: 25, wholeWordMask }), inOrder.get(25));
    // Another epoch or seed gives other masks (for these sizes, equality would be a broken key).
    const labelsOf = (options: Partial<MaskOptions>) =>
      samples.map((s, i) => maskTokens(s, { ...base, seed: 7, epoch: 2, sampleIndex: i, wholeWordMask, ...options }).labels);
    const reference = [...inOrder.values()].map((masked) => masked.labels);
    assert.notDeepEqual(labelsOf({ epoch: 3 }), reference);
    assert.notDeepEqual(labelsOf({ seed: 8 }), reference);
  }
});

test('the stream is keyed by deriveSeed(seed, epoch, sampleIndex, MASKING_STREAM)', () => {
  // Re-derive the selection draws of token masking by hand: 4 draws per position, the first decides.
  const input = sample([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  const masked = maskTokens(input, { ...base, seed: 3, epoch: 1, sampleIndex: 9, probability: 0.5 });
  const stream = new RandomStream(deriveSeed(3, 1, 9, MASKING_STREAM));
  const expected = input.ids.map((id, i) => {
    const select = stream.uniform() < 0.5;
    stream.uniform();
    stream.uniform();
    stream.below(VOCAB);
    return select && input.specialTokensMask[i] === 0 ? id : IGNORE_INDEX;
  });
  assert.deepEqual(masked.labels, expected);
  assert.ok(MASKING_STREAM < 0);
});

test('padding appended after a sample changes none of its masks (micro-batch padding is harmless)', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 20 }), fc.boolean(), fc.nat(1000), (pieces, padding, wholeWordMask, sampleIndex) => {
      const options = { ...base, seed: 1, epoch: 0, sampleIndex, wholeWordMask };
      const plain = maskTokens(sample(pieces), options);
      const padded = maskTokens(sample(pieces, padding), options);
      assert.deepEqual(padded.labels.slice(0, plain.labels.length), plain.labels);
      assert.deepEqual(padded.inputIds.slice(0, plain.inputIds.length), plain.inputIds);
      assert.equal(padded.count, plain.count);
    }),
    { numRuns: 200 },
  );
});

test('token masking statistics: selection rate p, then 80 % mask / 10 % random / 10 % unchanged (chi-square)', () => {
  const input = sample(Array.from({ length: 510 }, () => 1));
  const probability = 0.15;
  let candidates = 0;
  let selected = 0;
  const outcome = { mask: 0, other: 0, unchanged: 0 };
  const randomBuckets = new Array<number>(10).fill(0);
  for (let sampleIndex = 0; sampleIndex < 400; sampleIndex++) {
    const masked = maskTokens(input, { ...base, seed: 12345, epoch: 0, sampleIndex, probability });
    input.ids.forEach((id, i) => {
      if (input.specialTokensMask[i] === 1) return;
      candidates++;
      if (masked.labels[i] === IGNORE_INDEX) return;
      selected++;
      const shown = masked.inputIds[i]!;
      if (shown === MASK) outcome.mask++;
      else if (shown === id) outcome.unchanged++;
      else {
        outcome.other++;
        randomBuckets[Math.floor((shown / VOCAB) * 10)]!++;
      }
    });
  }
  // Selection: binomial(candidates, 0.15) within 4 standard deviations.
  const expectedSelected = candidates * probability;
  assert.ok(Math.abs(selected - expectedSelected) < 4 * Math.sqrt(expectedSelected * (1 - probability)), `${selected} of ${candidates}`);
  // Outcomes: a random id equals the mask id or the original with probability 1/V each.
  const probabilities = { mask: 0.8 + 0.1 / VOCAB, other: (0.1 * (VOCAB - 2)) / VOCAB, unchanged: 0.1 + 0.1 / VOCAB };
  let chiSquare = 0;
  for (const key of ['mask', 'other', 'unchanged'] as const) {
    const expected = selected * probabilities[key];
    chiSquare += (outcome[key] - expected) ** 2 / expected;
  }
  // 2 degrees of freedom: P(χ² > 13.8) = 0.001.
  assert.ok(chiSquare < 13.8, `χ² = ${chiSquare.toFixed(2)} for ${JSON.stringify(outcome)} of ${selected}`);
  assert.ok(outcome.mask / selected > 0.78 && outcome.mask / selected < 0.82);
  // Random ids uniform over [0, V): ten buckets, 9 degrees of freedom, P(χ² > 27.9) = 0.001.
  // (Bucket 0 holds ids 0..99, which include the mask id; drawing the original id counts as unchanged.)
  const totalRandom = randomBuckets.reduce((sum, count) => sum + count, 0);
  const bucketChiSquare = randomBuckets.reduce((sum, count) => sum + (count - totalRandom / 10) ** 2 / (totalRandom / 10), 0);
  assert.ok(bucketChiSquare < 27.9, `χ² = ${bucketChiSquare.toFixed(2)} for ${randomBuckets}`);
});

test('probability 0 masks nothing and 1 predicts every candidate (token masking)', () => {
  const input = sample([2, 1, 3], 2);
  const none = maskTokens(input, { ...base, seed: 0, epoch: 0, sampleIndex: 0, probability: 0 });
  assert.equal(none.count, 0);
  assert.deepEqual(none.inputIds, input.ids);
  const all = maskTokens(input, { ...base, seed: 0, epoch: 0, sampleIndex: 0, probability: 1 });
  assert.deepEqual(checkInvariants(input, all), [1, 2, 3, 4, 5, 6]);
});

test('whole-word masking: all pieces of a word or none, budget round(length·p) tokens as HF', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 0, max: 6 }), fc.nat(1000), fc.nat(5), (pieces, padding, sampleIndex, epoch) => {
      const input = sample(pieces, padding);
      const masked = maskTokens(input, { ...base, seed: 5, epoch, sampleIndex, wholeWordMask: true });
      const predicted = new Set(checkInvariants(input, masked));
      const positionsOf = new Map<number, number[]>();
      input.wordIds.forEach((word, i) => word !== null && positionsOf.set(word, [...(positionsOf.get(word) ?? []), i]));
      for (const positions of positionsOf.values()) {
        const taken = positions.filter((i) => predicted.has(i)).length;
        assert.ok(taken === 0 || taken === positions.length, `word split: ${positions} vs ${[...predicted]}`);
      }
      // HF counts the unpadded sample, [CLS] and [SEP] included.
      const budget = wholeWordBudget(input.ids.length - padding, 0.15);
      assert.ok(masked.count <= budget, `${masked.count} > ${budget}`);
      // The greedy pass only stops short when the remaining words do not fit.
      const unpicked = [...positionsOf.values()].filter((positions) => !predicted.has(positions[0]!));
      if (masked.count < budget) assert.ok(unpicked.every((positions) => masked.count + positions.length > budget));
    }),
    { numRuns: 300 },
  );
  // Single-piece words: the budget is met exactly.
  const singles = sample(Array.from({ length: 28 }, () => 1)); // 30 tokens with [CLS] and [SEP]
  assert.equal(maskTokens(singles, { ...base, seed: 1, epoch: 0, sampleIndex: 0, wholeWordMask: true }).count, 4); // round(4.5) = 4
  // HF's max(1, …): even probability 0 predicts one word.
  assert.equal(maskTokens(singles, { ...base, seed: 1, epoch: 0, sampleIndex: 0, wholeWordMask: true, probability: 0 }).count, 1);
  // maxPredictions caps the budget.
  assert.equal(maskTokens(singles, { ...base, seed: 1, epoch: 0, sampleIndex: 0, wholeWordMask: true, probability: 1, maxPredictions: 3 }).count, 3);
});

test('whole-word masking groups by word id only across consecutive non-special tokens', () => {
  // A packed block holding two documents whose words both have id 0: they are two words.
  const block: TokenizedSample = {
    ids: [CLS, 500, 501, SEP, CLS, 502, 503, SEP],
    specialTokensMask: [1, 0, 0, 1, 1, 0, 0, 1],
    wordIds: [null, 0, 0, null, null, 0, 0, null],
  };
  const seen = new Set<string>();
  for (let sampleIndex = 0; sampleIndex < 200; sampleIndex++) {
    const masked = maskTokens(block, { ...base, seed: 0, epoch: 0, sampleIndex, wholeWordMask: true, probability: 0.25 });
    const predicted = checkInvariants(block, masked);
    seen.add(predicted.join(','));
  }
  // Budget round(8 · 0.25) = 2 tokens: exactly one of the two-piece words each time, both occur.
  assert.deepEqual([...seen].sort(), ['1,2', '5,6']);
  // A special token inside a word (e.g. a literal [MASK] the tokenizer gave a word id) splits it.
  const split: TokenizedSample = { ids: [CLS, 500, MASK, 502, SEP], specialTokensMask: [1, 0, 1, 0, 1], wordIds: [null, 0, 0, 0, null] };
  for (let sampleIndex = 0; sampleIndex < 20; sampleIndex++) {
    // Budget round(5 · 0.2) = 1 token: one of the two one-token words, never nothing.
    const masked = maskTokens(split, { ...base, seed: 0, epoch: 0, sampleIndex, wholeWordMask: true, probability: 0.2 });
    assert.equal(checkInvariants(split, masked).length, 1);
  }
  // Tokens without a word id are words of their own.
  const loose: TokenizedSample = { ids: [CLS, 600, 601, 602, SEP], specialTokensMask: [1, 0, 0, 0, 1], wordIds: [null, null, null, null, null] };
  const single = maskTokens(loose, { ...base, seed: 0, epoch: 0, sampleIndex: 0, wholeWordMask: true, probability: 0.2 });
  assert.equal(single.count, 1);
});

test('whole-word masking: selected tokens get 80 / 10 / 10 token by token', () => {
  const input = sample(Array.from({ length: 100 }, (_, w) => 1 + (w % 3)));
  const outcome = { mask: 0, other: 0, unchanged: 0 };
  for (let sampleIndex = 0; sampleIndex < 300; sampleIndex++) {
    const masked = maskTokens(input, { ...base, seed: 2, epoch: 0, sampleIndex, wholeWordMask: true });
    for (const i of checkInvariants(input, masked)) {
      const shown = masked.inputIds[i]!;
      if (shown === MASK) outcome.mask++;
      else if (shown === input.ids[i]) outcome.unchanged++;
      else outcome.other++;
    }
  }
  const total = outcome.mask + outcome.other + outcome.unchanged;
  const probabilities = { mask: 0.8 + 0.1 / VOCAB, other: (0.1 * (VOCAB - 2)) / VOCAB, unchanged: 0.1 + 0.1 / VOCAB };
  let chiSquare = 0;
  for (const key of ['mask', 'other', 'unchanged'] as const) chiSquare += (outcome[key] - total * probabilities[key]) ** 2 / (total * probabilities[key]);
  assert.ok(chiSquare < 13.8, `χ² = ${chiSquare.toFixed(2)} for ${JSON.stringify(outcome)}`);
});

test('evaluationMasks: fixed (epoch-independent) masks, distinct from every training epoch', () => {
  const input = sample(Array.from({ length: 60 }, (_, w) => 1 + (w % 2)));
  for (const wholeWordMask of [false, true]) {
    const options = { ...base, seed: 11, sampleIndex: 4, wholeWordMask };
    const fixed = evaluationMasks(input, options);
    assert.deepEqual(evaluationMasks(input, options), fixed);
    assert.deepEqual(maskTokens(input, { ...options, epoch: EVALUATION_EPOCH }), fixed);
    for (let epoch = 0; epoch < 5; epoch++) assert.notDeepEqual(maskTokens(input, { ...options, epoch }).labels, fixed.labels);
    checkInvariants(input, fixed);
  }
});

test('Python round and the whole-word budget', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001, 0].map(roundHalfToEven), [0, 2, 2, 4, 2, 3, 0]);
  // int(round(10 * 0.15)) == 2, int(round(30 * 0.15)) == 4, int(round(128 * 0.15)) == 19 in Python.
  assert.equal(wholeWordBudget(10, 0.15), 2);
  assert.equal(wholeWordBudget(30, 0.15), 4);
  assert.equal(wholeWordBudget(128, 0.15), 19);
  assert.equal(wholeWordBudget(3, 0.15), 1);
  assert.equal(wholeWordBudget(10_000, 0.15), 512);
});

test('bad settings and inconsistent samples are rejected', () => {
  const input = sample([1, 2]);
  const options: MaskOptions = { ...base, seed: 0, epoch: 0, sampleIndex: 0 };
  const rejects = (change: Partial<MaskOptions>, field: string) =>
    assert.throws(() => maskTokens(input, { ...options, ...change }), (error: unknown) => error instanceof ConfigError && error.field === field);
  rejects({ probability: 1.5 }, 'probability');
  rejects({ probability: NaN }, 'probability');
  rejects({ vocabSize: 0 }, 'vocabSize');
  rejects({ maskTokenId: VOCAB }, 'maskTokenId');
  rejects({ epoch: -2 }, 'epoch');
  rejects({ epoch: 0.5 }, 'epoch');
  rejects({ sampleIndex: -1 }, 'sampleIndex');
  rejects({ seed: Infinity }, 'seed');
  rejects({ maxPredictions: 0 }, 'maxPredictions');
  assert.throws(() => maskTokens({ ...input, specialTokensMask: [1] }, options), (error: unknown) => error instanceof DataError && error.field === 'specialTokensMask');
  assert.throws(() => maskTokens({ ...input, wordIds: [] }, options), (error: unknown) => error instanceof DataError && error.field === 'wordIds');
  assert.throws(() => maskTokens({ ...input, ids: [CLS, 1.5, 300, 301, SEP] }, options), (error: unknown) => error instanceof DataError && error.field === 'ids');
});
