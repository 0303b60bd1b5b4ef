import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../../src/core/errors.js';
import { EarlyStopping, replayEarlyStopping } from '../../../src/app/sweep/early-stopping.js';

test('EarlyStopping (max): stops after `patience` epochs without improvement, keeps the best epoch', () => {
  const policy = new EarlyStopping({ mode: 'max', patience: 2 });
  assert.deepEqual(policy.observe(1, 0.6), { improved: true, stop: false });
  assert.deepEqual(policy.observe(2, 0.7), { improved: true, stop: false });
  assert.deepEqual(policy.observe(3, 0.7), { improved: false, stop: false }); // a tie keeps the earlier epoch
  assert.deepEqual(policy.observe(4, 0.65), { improved: false, stop: true });
  assert.equal(policy.bestEpoch, 2);
  assert.equal(policy.bestValue, 0.7);
  assert.ok(policy.stopped);
  assert.throws(() => policy.observe(5, 0.9), /after the policy said stop at epoch 4/);
});

test('EarlyStopping (min) for loss, minDelta, and non-finite values never improve', () => {
  const policy = EarlyStopping.forMetric('loss', 1);
  assert.equal(policy.mode, 'min');
  assert.deepEqual(policy.observe(1, NaN), { improved: false, stop: true });
  assert.equal(policy.bestEpoch, null);
  const loss = new EarlyStopping({ mode: 'min', patience: 2, minDelta: 0.01 });
  assert.equal(loss.observe(1, 1.0).improved, true);
  assert.equal(loss.observe(2, 0.995).improved, false); // less than minDelta better
  assert.equal(loss.observe(3, 0.98).improved, true);
  assert.equal(loss.observe(4, Infinity).improved, false);
  assert.equal(loss.observe(5, 0.5).improved, true);
  assert.equal(loss.bestEpoch, 5);
  assert.equal(EarlyStopping.forMetric('macro_f1', null).mode, 'max');
});

test('EarlyStopping: patience null never stops; bad options and epochs are ConfigErrors', () => {
  const policy = new EarlyStopping({ mode: 'max', patience: null });
  for (let epoch = 1; epoch <= 50; epoch++) assert.equal(policy.observe(epoch, 1 / epoch).stop, false);
  assert.equal(policy.bestEpoch, 1);
  assert.throws(() => new EarlyStopping({ mode: 'max', patience: 0 }), (error: unknown) => error instanceof ConfigError && error.field === 'patience');
  assert.throws(() => new EarlyStopping({ mode: 'up' as 'max', patience: 1 }), (error: unknown) => error instanceof ConfigError && error.field === 'mode');
  assert.throws(() => new EarlyStopping({ mode: 'max', patience: 1, minDelta: -1 }), /minDelta/);
  const ordered = new EarlyStopping({ mode: 'max', patience: 3 });
  ordered.observe(2, 0.5);
  assert.throws(() => ordered.observe(2, 0.5), (error: unknown) => error instanceof ConfigError && error.field === 'epoch');
});

test('property: restoring the state mid-run decides exactly as an uninterrupted run', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(NaN)), { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 1, max: 5 }),
      fc.nat(),
      fc.constantFrom<'max' | 'min'>('max', 'min'),
      (values, patience, cut, mode) => {
        const run = (policy: EarlyStopping, from: number) => {
          const decisions = [];
          for (let position = from; position < values.length && !policy.stopped; position++) decisions.push(policy.observe(position + 1, values[position]!));
          return decisions;
        };
        const whole = new EarlyStopping({ mode, patience });
        const expected = run(whole, 0);
        const split = cut % values.length;
        const first = new EarlyStopping({ mode, patience });
        const before = [];
        for (let position = 0; position < split && !first.stopped; position++) before.push(first.observe(position + 1, values[position]!));
        const resumed = new EarlyStopping({ mode, patience }, JSON.parse(JSON.stringify(first.state())));
        const after = first.stopped ? [] : run(resumed, split);
        assert.deepEqual([...before, ...after], expected);
        assert.equal(first.stopped ? first.bestEpoch : resumed.bestEpoch, whole.bestEpoch);
        // The best epoch holds the best finite value, the earliest on ties.
        const seen = values.slice(0, expected.length);
        const finite = seen.map((value, position) => [value, position + 1] as const).filter(([value]) => Number.isFinite(value));
        if (finite.length === 0) assert.equal(whole.bestEpoch, null);
        else {
          const target = mode === 'max' ? Math.max(...finite.map(([value]) => value)) : Math.min(...finite.map(([value]) => value));
          assert.equal(whole.bestEpoch, finite.find(([value]) => value === target)![1]);
        }
      },
    ),
  );
});

test('replayEarlyStopping: best and stop epoch of a run', () => {
  const epochs = [0.5, 0.6, 0.55, 0.58, 0.7].map((accuracy, position) => ({ epoch: position + 1, metrics: { accuracy } }));
  assert.deepEqual(replayEarlyStopping(epochs, 'accuracy', 2), { bestEpoch: 2, stopEpoch: 4 });
  assert.deepEqual(replayEarlyStopping(epochs, 'accuracy', 3), { bestEpoch: 5, stopEpoch: null });
  assert.deepEqual(replayEarlyStopping(epochs, 'accuracy', null), { bestEpoch: 5, stopEpoch: null });
  // A missing metric counts as non-finite.
  assert.deepEqual(replayEarlyStopping(epochs, 'loss', 1), { bestEpoch: null, stopEpoch: 1 });
});
