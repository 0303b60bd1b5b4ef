import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../src/core/errors.js';
import { planEpoch, stepsPerEpoch, validatePlanOptions, windowSizes, type PlanOptions, type RemainderPolicy } from '../../src/plan/index.js';

test('docs/design.md §3 table: N = 110, batch 32', () => {
  assert.deepEqual(windowSizes(110, 32, 'step'), [32, 32, 32, 14]);
  assert.deepEqual(windowSizes(110, 32, 'balance'), [28, 28, 27, 27]);
  assert.deepEqual(windowSizes(110, 32, 'drop'), [32, 32, 32]);
  assert.deepEqual(windowSizes(110, 32), [32, 32, 32, 14], 'step is the default');
  assert.equal(stepsPerEpoch(110, 32, 'step'), 4);
  assert.equal(stepsPerEpoch(110, 32, 'balance'), 4);
  assert.equal(stepsPerEpoch(110, 32, 'drop'), 3);
  assert.equal(stepsPerEpoch(110, 32), 4);
});

test('N = 110, micro 8, batch 32: windows, micro-batches, and the 14 dropped are the last of the permutation', () => {
  const step = planEpoch({ size: 110, microBatch: 8, batch: 32, epoch: 0, seed: 7 });
  assert.deepEqual(step.windowSizes, [32, 32, 32, 14]);
  assert.equal(step.steps, 4);
  assert.deepEqual(step.windows[3]!.microBatches.map((micro) => micro.length), [8, 6]);
  assert.deepEqual(step.windows[0]!.microBatches.map((micro) => micro.length), [8, 8, 8, 8]);
  assert.deepEqual(step.dropped, []);

  const balance = planEpoch({ size: 110, microBatch: 8, batch: 32, epoch: 0, seed: 7, remainder: 'balance' });
  assert.deepEqual(balance.windowSizes, [28, 28, 27, 27]);
  assert.deepEqual(balance.windows[2]!.microBatches.map((micro) => micro.length), [8, 8, 8, 3]);

  const drop = planEpoch({ size: 110, microBatch: 8, batch: 32, epoch: 0, seed: 7, remainder: 'drop' });
  assert.deepEqual(drop.windowSizes, [32, 32, 32]);
  assert.deepEqual(drop.dropped, drop.permutation.slice(96));
  assert.equal(drop.dropped.length, 14);
  // All three policies share the permutation: only the cutting differs.
  assert.deepEqual(step.permutation, drop.permutation);
  assert.deepEqual(step.permutation, balance.permutation);
});

test('edge cases: drop with N < batch, exact multiples, batch 1, N = 1', () => {
  const tiny = planEpoch({ size: 5, microBatch: 2, batch: 8, epoch: 0, remainder: 'drop' });
  assert.deepEqual(tiny.windows, []);
  assert.equal(tiny.steps, 0);
  assert.deepEqual([...tiny.dropped].sort((a, b) => a - b), [0, 1, 2, 3, 4]);
  assert.equal(stepsPerEpoch(5, 8, 'drop'), 0);

  for (const remainder of ['step', 'balance', 'drop'] as const) {
    assert.deepEqual(windowSizes(96, 32, remainder), [32, 32, 32], remainder);
    assert.deepEqual(windowSizes(1, 1, remainder), [1], remainder);
  }
  assert.deepEqual(windowSizes(5, 8, 'balance'), [5]);
  assert.deepEqual(windowSizes(33, 32, 'balance'), [17, 16]);
  assert.deepEqual(windowSizes(33, 32, 'step'), [32, 1]);
  const single = planEpoch({ size: 1, microBatch: 1, batch: 1, epoch: 3 });
  assert.deepEqual(single.windows, [{ index: 0, samples: [0], microBatches: [[0]] }]);
});

test('no shuffle gives the identity permutation and consecutive windows', () => {
  const plan = planEpoch({ size: 10, microBatch: 3, batch: 4, epoch: 2, shuffle: false });
  assert.deepEqual(plan.permutation, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(
    plan.windows.map((window) => window.microBatches),
    [[[0, 1, 2], [3]], [[4, 5, 6], [7]], [[8, 9]]],
  );
});

const planArbitrary = fc
  .record({
    size: fc.integer({ min: 1, max: 300 }),
    microBatch: fc.integer({ min: 1, max: 40 }),
    extra: fc.integer({ min: 0, max: 60 }),
    remainder: fc.constantFrom<RemainderPolicy>('step', 'balance', 'drop'),
    seed: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
    epoch: fc.integer({ min: 0, max: 1000 }),
    shuffle: fc.boolean(),
  })
  .map(({ extra, ...rest }): PlanOptions => ({ ...rest, batch: rest.microBatch + extra }));

test('property: every index exactly once (or dropped), consecutive micro-batches, sizes per policy', () => {
  fc.assert(
    fc.property(planArbitrary, (opts) => {
      const plan = planEpoch(opts);
      const { size, batch, microBatch } = opts;
      assert.deepEqual([...plan.permutation].sort((a, b) => a - b), Array.from({ length: size }, (_, i) => i));
      const inWindows = plan.windows.flatMap((window) => window.samples);
      // Windows are consecutive slices of the permutation, then the dropped tail.
      assert.deepEqual([...inWindows, ...plan.dropped], plan.permutation);
      assert.deepEqual(plan.windowSizes, plan.windows.map((window) => window.samples.length));
      assert.equal(plan.steps, plan.windows.length);
      assert.equal(plan.steps, stepsPerEpoch(size, batch, opts.remainder));
      assert.deepEqual(plan.windowSizes, windowSizes(size, batch, opts.remainder));
      for (const [index, window] of plan.windows.entries()) {
        assert.equal(window.index, index);
        assert.ok(window.samples.length >= 1 && window.samples.length <= batch);
        assert.deepEqual(window.microBatches.flat(), window.samples);
        const microSizes = window.microBatches.map((micro) => micro.length);
        assert.ok(microSizes.slice(0, -1).every((length) => length === microBatch), 'all but the last are full');
        assert.ok(microSizes.at(-1)! >= 1 && microSizes.at(-1)! <= microBatch);
      }
      if (opts.remainder === 'drop') {
        assert.equal(plan.dropped.length, size % batch);
        assert.ok(plan.windowSizes.every((length) => length === batch));
      } else {
        assert.deepEqual(plan.dropped, []);
        assert.equal(plan.steps, Math.ceil(size / batch));
      }
      if (opts.remainder === 'step') {
        assert.ok(plan.windowSizes.slice(0, -1).every((length) => length === batch));
      }
      if (opts.remainder === 'balance') {
        const largest = Math.max(...plan.windowSizes);
        const smallest = Math.min(...plan.windowSizes);
        assert.ok(largest - smallest <= 1 && largest <= batch);
        assert.deepEqual(plan.windowSizes, [...plan.windowSizes].sort((a, b) => b - a), 'larger windows first');
      }
    }),
    { numRuns: 300 },
  );
});

test('property: the permutation does not depend on microBatch, batch or policy', () => {
  fc.assert(
    fc.property(planArbitrary, planArbitrary, (first, second) => {
      const common = { size: first.size, seed: first.seed, epoch: first.epoch, shuffle: first.shuffle };
      const a = planEpoch({ ...second, ...common });
      const b = planEpoch({ ...first, ...common });
      assert.deepEqual(a.permutation, b.permutation);
    }),
    { numRuns: 200 },
  );
});

test('validatePlanOptions rejects bad input with ConfigError naming the field', () => {
  const good: PlanOptions = { size: 10, microBatch: 2, batch: 4, epoch: 0 };
  assert.doesNotThrow(() => validatePlanOptions(good));
  const cases: [Partial<Record<keyof PlanOptions, unknown>>, RegExp][] = [
    [{ size: 0 }, /size must be at least 1: the dataset is empty/],
    [{ size: -3 }, /size must be a positive integer, got -3/],
    [{ size: 2.5 }, /size must be a positive integer, got 2.5/],
    [{ size: Number.NaN }, /size must be a positive integer, got NaN/],
    [{ microBatch: 0 }, /microBatch must be a positive integer, got 0/],
    [{ microBatch: 1.5 }, /microBatch must be a positive integer/],
    [{ batch: Number.POSITIVE_INFINITY }, /batch must be a positive integer, got Infinity/],
    [{ batch: 1 }, /batch \(1\) must be at least microBatch \(2\)/],
    [{ remainder: 'last' }, /remainder must be one of step, balance, drop, got "last"/],
    [{ epoch: -1 }, /epoch must be an integer ≥ 0, got -1/],
    [{ epoch: 0.5 }, /epoch must be an integer ≥ 0/],
    [{ seed: Number.NaN }, /seed must be a finite number, got NaN/],
    [{ seed: Number.NEGATIVE_INFINITY }, /seed must be a finite number/],
    [{ shuffle: 'yes' }, /shuffle must be a boolean/],
  ];
  for (const [override, message] of cases) {
    const opts = { ...good, ...override } as PlanOptions;
    assert.throws(() => validatePlanOptions(opts), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(override));
    assert.throws(() => planEpoch(opts), ConfigError);
  }
  assert.throws(() => windowSizes(0, 4, 'step'), /dataset is empty/);
  assert.throws(() => windowSizes(10, 0, 'step'), /batch must be a positive integer/);
  assert.throws(() => windowSizes(10, 4, 'last' as RemainderPolicy), /remainder must be one of/);
  assert.throws(() => stepsPerEpoch(10.5, 4, 'step'), /size must be a positive integer/);
  assert.throws(() => stepsPerEpoch(10, 4, 'none' as RemainderPolicy), ConfigError);
});
