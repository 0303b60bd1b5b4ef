import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../src/core/errors.js';
import { SCHEDULE_KINDS, lrMultiplier, validateSchedule, type ScheduleKind } from '../../src/optim/index.js';

const close = (actual: number, expected: number, label: string): void => {
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${label}: ${actual} != ${expected}`);
};

test('constant is 1 at every step, warm-up ignored (HF get_constant_schedule)', () => {
  for (const step of [0, 1, 5, 10, 11]) assert.equal(lrMultiplier('constant', step, 3, 10), 1);
});

test('linear with warm-up: hand-computed values for w = 2, T = 10', () => {
  const expected = [0, 0.5, 1, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8, 0, 0, 0];
  for (const [step, value] of expected.entries()) close(lrMultiplier('linear', step, 2, 10), value, `step ${step}`);
});

test('cosine with warm-up: hand-computed values for w = 2, T = 10', () => {
  const expected = [0, 0.5, 1, 0.5 * (1 + Math.cos(Math.PI / 8)), 0.5 * (1 + Math.SQRT1_2), 0.5 * (1 + Math.cos((3 * Math.PI) / 8)), 0.5];
  for (const [step, value] of expected.entries()) close(lrMultiplier('cosine', step, 2, 10), value, `step ${step}`);
  close(lrMultiplier('cosine', 9, 2, 10), 0.5 * (1 + Math.cos((7 * Math.PI) / 8)), 'final step');
  close(lrMultiplier('cosine', 10, 2, 10), 0, 'step T');
  // Past T, HF's half-cosine rises again (num_cycles 0.5 does not clamp the phase).
  close(lrMultiplier('cosine', 12, 2, 10), 0.5 * (1 + Math.cos((10 * Math.PI) / 8)), 'past T');
});

test('HF max(1, …) guards: no warm-up, warm-up = total, zero total', () => {
  close(lrMultiplier('linear', 0, 0, 4), 1, 'w = 0 starts at full LR');
  close(lrMultiplier('linear', 3, 0, 4), 1 / 4, 'w = 0 final step');
  close(lrMultiplier('cosine', 0, 0, 4), 1, 'cosine w = 0');
  close(lrMultiplier('cosine', 2, 0, 4), 0.5, 'cosine midpoint');
  close(lrMultiplier('linear', 4, 4, 4), 0, 'linear T = w');
  close(lrMultiplier('cosine', 4, 4, 4), 1, 'cosine T = w');
  close(lrMultiplier('linear', 0, 0, 0), 0, 'T = 0');
  close(lrMultiplier('linear', 3, 5, 4), 3 / 5, 'warm-up longer than the run keeps ramping, as HF');
});

test('property: multipliers stay in [0, 1], warm-up is s/w, linear decreases after warm-up', () => {
  fc.assert(
    fc.property(fc.constantFrom<ScheduleKind>(...SCHEDULE_KINDS), fc.nat(50), fc.nat(200), fc.nat(250), (kind, warmup, total, step) => {
      const value = lrMultiplier(kind, step, warmup, total);
      assert.ok(value >= 0 && value <= 1);
      if (kind !== 'constant' && step < warmup) assert.equal(value, step / warmup);
      if (kind === 'linear' && step >= warmup) assert.ok(lrMultiplier(kind, step + 1, warmup, total) <= value);
    }),
  );
});

test('bad schedule input is a ConfigError naming the field', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => lrMultiplier('exponential' as ScheduleKind, 0, 0, 10), /schedule must be one of constant, linear, cosine, got "exponential"/],
    [() => lrMultiplier('linear', -1, 0, 10), /step must be an integer ≥ 0, got -1/],
    [() => lrMultiplier('linear', 0.5, 0, 10), /step must be an integer ≥ 0/],
    [() => lrMultiplier('linear', 0, -2, 10), /warmupSteps must be an integer ≥ 0, got -2/],
    [() => lrMultiplier('cosine', 0, Number.NaN, 10), /warmupSteps must be an integer ≥ 0, got NaN/],
    [() => lrMultiplier('linear', 0, 0, Number.POSITIVE_INFINITY), /totalSteps must be an integer ≥ 0, got Infinity/],
    [() => validateSchedule({ kind: 'linear', warmupSteps: 1, totalSteps: -5 }), /totalSteps/],
  ];
  for (const [call, message] of cases) assert.throws(call, (error: unknown) => error instanceof ConfigError && message.test(error.message));
  assert.doesNotThrow(() => validateSchedule({ kind: 'cosine', warmupSteps: 0, totalSteps: 0 }));
});
