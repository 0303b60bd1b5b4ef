import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../src/core/errors.js';
import { createRng, deriveSeed } from '../../src/core/random.js';
import { epochPermutation } from '../../src/plan/index.js';

test('createRng: deterministic, uniform in [0, 1), different seeds differ', () => {
  const draw = (seed: number, count: number): number[] => {
    const random = createRng(seed);
    return Array.from({ length: count }, () => random());
  };
  const values = draw(42, 20000);
  assert.deepEqual(values, draw(42, 20000));
  assert.notDeepEqual(draw(42, 10), draw(43, 10));
  assert.ok(values.every((value) => value >= 0 && value < 1));
  // Ten equal bins of 2000 expected each; a fair generator stays within ±10 % with overwhelming probability.
  const bins = new Array<number>(10).fill(0);
  for (const value of values) bins[Math.floor(value * 10)]! += 1;
  assert.ok(bins.every((count) => count > 1800 && count < 2200), `bins ${bins}`);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  // Seeds outside the uint32 range are hashed, not truncated to the same state.
  assert.notDeepEqual(draw(2 ** 32, 5), draw(0, 5));
  assert.notDeepEqual(draw(0.5, 5), draw(0, 5));
  assert.notDeepEqual(draw(-1, 5), draw(0xffffffff, 5));
});

test('deriveSeed: uint32, deterministic, sensitive to every part, order and count', () => {
  assert.equal(deriveSeed(1, 2, 3), deriveSeed(1, 2, 3));
  const seeds = [deriveSeed(1, 2, 3), deriveSeed(3, 2, 1), deriveSeed(1, 2), deriveSeed(1, 2, 3, 0), deriveSeed(1, 2, 4), deriveSeed(1.5, 2, 3), deriveSeed()];
  assert.equal(new Set(seeds).size, seeds.length);
  assert.equal(deriveSeed(-0, 1), deriveSeed(0, 1));
  fc.assert(
    fc.property(fc.array(fc.double({ noNaN: true }), { maxLength: 5 }), (parts) => {
      const seed = deriveSeed(...parts);
      assert.ok(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff);
    }),
  );
  // Well mixed: neighbouring micro-batch indices give seeds whose bits differ in about half the places.
  let differingBits = 0;
  const pairs = 1000;
  for (let index = 0; index < pairs; index++) {
    let bits = (deriveSeed(0, 0, index) ^ deriveSeed(0, 0, index + 1)) >>> 0;
    while (bits !== 0) {
      differingBits += bits & 1;
      bits >>>= 1;
    }
  }
  const averageBits = differingBits / pairs;
  assert.ok(averageBits > 15 && averageBits < 17, `average ${averageBits} differing bits`);
});

test('epochPermutation: a permutation, reproducible, identity without shuffle', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 300 }), fc.integer(), fc.nat(100), (size, seed, epoch) => {
      const permutation = epochPermutation(size, seed, epoch);
      assert.deepEqual([...permutation].sort((a, b) => a - b), Array.from({ length: size }, (_, i) => i));
      assert.deepEqual(epochPermutation(size, seed, epoch), permutation);
      assert.deepEqual(epochPermutation(size, seed, epoch, false), Array.from({ length: size }, (_, i) => i));
    }),
  );
});

test('property: different epochs or seeds give different permutations (N ≥ 10)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 10, max: 300 }), fc.integer(), fc.nat(1000), fc.integer({ min: 1, max: 1000 }), (size, seed, epoch, gap) => {
      assert.notDeepEqual(epochPermutation(size, seed, epoch), epochPermutation(size, seed, epoch + gap));
      assert.notDeepEqual(epochPermutation(size, seed, epoch), epochPermutation(size, seed + gap, epoch));
    }),
    { numRuns: 300 },
  );
});

test('epochPermutation shuffles every position: each sample lands in each slot about equally often', () => {
  const size = 8;
  const trials = 8000;
  const counts = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (let epoch = 0; epoch < trials; epoch++) {
    for (const [slot, sample] of epochPermutation(size, 11, epoch).entries()) counts[sample]![slot]! += 1;
  }
  // Expected 1000 per cell; ±20 % is > 6 standard deviations.
  assert.ok(counts.flat().every((count) => count > 800 && count < 1200), JSON.stringify(counts));
});

test('epochPermutation rejects bad input with ConfigError', () => {
  assert.deepEqual(epochPermutation(0, 0, 0), []);
  assert.throws(() => epochPermutation(-1, 0, 0), (error: unknown) => error instanceof ConfigError && /size must be an integer ≥ 0, got -1/.test(error.message));
  assert.throws(() => epochPermutation(2.5, 0, 0), /size must be an integer ≥ 0/);
  assert.throws(() => epochPermutation(5, Number.NaN, 0), /seed must be a finite number, got NaN/);
  assert.throws(() => epochPermutation(5, 0, -1), /epoch must be an integer ≥ 0, got -1/);
});
