import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../../src/core/errors.js';
import { foldIndices, stratifiedFolds } from '../../../src/app/sweep/folds.js';

const labelArrays = fc.array(fc.constantFrom('ham', 'spam', 'other', 'x'), { minLength: 2, maxLength: 200 });

test('property: every sample is in exactly one validation fold, and train is the rest', () => {
  fc.assert(
    fc.property(labelArrays, fc.integer({ min: 2, max: 10 }), fc.nat(), (labels, k, seed) => {
      fc.pre(k <= labels.length);
      const assignment = stratifiedFolds(labels, k, seed);
      assert.equal(assignment.length, labels.length);
      const seen = new Array<number>(labels.length).fill(0);
      for (let fold = 0; fold < k; fold++) {
        const { train, validation } = foldIndices(assignment, fold);
        for (const index of validation) seen[index]! += 1;
        assert.equal(train.length + validation.length, labels.length);
        assert.deepEqual(
          [...train, ...validation].sort((a, b) => a - b),
          labels.map((_, index) => index),
        );
      }
      assert.ok(seen.every((count) => count === 1));
    }),
  );
});

test('property: per label, fold counts differ by at most one; fold sizes differ by at most one', () => {
  fc.assert(
    fc.property(labelArrays, fc.integer({ min: 2, max: 10 }), fc.nat(), (labels, k, seed) => {
      fc.pre(k <= labels.length);
      const assignment = stratifiedFolds(labels, k, seed);
      const sizes = new Array<number>(k).fill(0);
      for (const fold of assignment) sizes[fold]! += 1;
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `fold sizes ${sizes}`);
      for (const label of new Set(labels)) {
        const counts = new Array<number>(k).fill(0);
        labels.forEach((other, index) => {
          if (other === label) counts[assignment[index]!]! += 1;
        });
        const total = counts.reduce((sum, count) => sum + count, 0);
        // As equal as possible: every fold gets ⌊n/k⌋ or ⌈n/k⌉ of each label.
        assert.ok(
          counts.every((count) => count === Math.floor(total / k) || count === Math.ceil(total / k)),
          `label ${label}: ${counts}`,
        );
      }
    }),
  );
});

test('property: deterministic from the seed, independent of how labels are spelled as long as their order is', () => {
  fc.assert(
    fc.property(labelArrays, fc.integer({ min: 2, max: 5 }), fc.nat(), (labels, k, seed) => {
      fc.pre(k <= labels.length);
      const assignment = stratifiedFolds(labels, k, seed);
      assert.deepEqual(stratifiedFolds([...labels], k, seed), assignment);
      // Renaming labels by an order-preserving map changes nothing.
      const renamed = labels.map((label) => `class-${label}`);
      assert.deepEqual(stratifiedFolds(renamed, k, seed), assignment);
    }),
  );
});

test('stratifiedFolds: different seeds give different splits; numbers work as labels', () => {
  const labels = Array.from({ length: 60 }, (_, index) => index % 3);
  const a = stratifiedFolds(labels, 5, 0);
  const b = stratifiedFolds(labels, 5, 1);
  assert.notDeepEqual(a, b);
  // Pinned: existing sweeps' trials must keep validating on the same samples.
  // Labels sorted (a, b, c), each group shuffled, then dealt 0, 1, 2, 0, … across the groups.
  assert.deepEqual(stratifiedFolds(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'c', 'c'], 3, 0), [1, 1, 2, 0, 0, 2, 0, 1, 0, 2]);
  const { validation } = foldIndices(a, 0);
  assert.deepEqual(
    [0, 1, 2].map((label) => validation.filter((index) => labels[index] === label).length),
    [4, 4, 4],
  );
});

test('stratifiedFolds and foldIndices: bad settings are ConfigErrors naming the field', () => {
  assert.throws(() => stratifiedFolds(['a', 'b'], 1, 0), (error: unknown) => error instanceof ConfigError && error.field === 'folds');
  assert.throws(() => stratifiedFolds(['a', 'b'], 3, 0), /must not exceed the number of samples \(2\)/);
  assert.throws(() => stratifiedFolds(['a', 'b'], 2, -1), (error: unknown) => error instanceof ConfigError && error.field === 'splitSeed');
  assert.throws(() => foldIndices([0, 1], 2), (error: unknown) => error instanceof ConfigError && error.field === 'fold');
});
