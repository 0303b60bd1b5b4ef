import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CheckpointError } from '../../src/core/errors.js';
import { EpochLedger, LedgerError, formatLedgerLine, planEpoch, type EpochPlan, type RemainderPolicy } from '../../src/plan/index.js';

const plan110 = (remainder: RemainderPolicy = 'step', epoch = 0): EpochPlan => planEpoch({ size: 110, microBatch: 8, batch: 32, epoch, seed: 3, remainder });

test('a complete step epoch: summary as in summary.json and one ledger line', () => {
  const ledger = new EpochLedger(plan110());
  assert.equal(ledger.isWindowDone(0), false);
  ledger.recordStep(0, 32 * 0.5, 32);
  ledger.recordStep(1, 32 * 0.25, 32);
  ledger.recordStep(2, 32 * 0.25, 32);
  assert.throws(() => ledger.verify(), /epoch 1: window 3 was neither applied nor skipped/);
  ledger.recordStep(3, 14 * 1, 14);
  assert.equal(ledger.isWindowDone(3), true);
  ledger.verify();
  const summary = ledger.summary();
  assert.deepEqual(summary, {
    epoch: 1,
    samples_seen: 110,
    windows: [32, 32, 32, 14],
    steps: 4,
    skipped_steps: 0,
    dropped_samples: 0,
    skipped_samples: 0,
    loss: (16 + 8 + 8 + 14) / 110,
  });
  assert.equal(formatLedgerLine(summary, 110), 'epoch 1: 110/110 samples in 4 steps [32, 32, 32, 14]');
});

test('drop and skipped windows are reported, never counted as seen', () => {
  const drop = new EpochLedger(plan110('drop', 1));
  drop.recordStep(0, 4, 32);
  drop.recordSkipped(1);
  drop.recordStep(2, 12, 32);
  drop.verify();
  const summary = drop.summary();
  assert.deepEqual(summary, {
    epoch: 2,
    samples_seen: 64,
    windows: [32, 32, 32],
    steps: 2,
    skipped_steps: 1,
    dropped_samples: 14,
    skipped_samples: 32,
    loss: 16 / 64,
  });
  assert.equal(formatLedgerLine(summary, 110), 'epoch 2: 64/110 samples in 2 steps [32, 32, 32], 14 dropped, 1 step skipped (32 samples)');

  const allSkipped = new EpochLedger(planEpoch({ size: 3, microBatch: 1, batch: 2, epoch: 0 }));
  allSkipped.recordSkipped(0);
  allSkipped.recordSkipped(1);
  allSkipped.verify();
  assert.equal(allSkipped.summary().loss, null);
  assert.equal(formatLedgerLine(allSkipped.summary(), 3), 'epoch 1: 0/3 samples in 0 steps [2, 1], 2 steps skipped (3 samples)');

  const nothing = new EpochLedger(planEpoch({ size: 5, microBatch: 2, batch: 8, epoch: 0, remainder: 'drop' }));
  nothing.verify();
  assert.equal(formatLedgerLine(nothing.summary(), 5), 'epoch 1: 0/5 samples in 0 steps [], 5 dropped');
  const one = new EpochLedger(planEpoch({ size: 1, microBatch: 1, batch: 1, epoch: 0 }));
  one.recordStep(0, 0.7, 1);
  assert.equal(formatLedgerLine(one.summary(), 1), 'epoch 1: 1/1 samples in 1 step [1]');
});

test('loss is item-weighted (token-level item counts), NaN losses stay visible', () => {
  const ledger = new EpochLedger(planEpoch({ size: 4, microBatch: 2, batch: 2, epoch: 0 }));
  ledger.recordStep(0, 30, 10);
  ledger.recordStep(1, 10, 30);
  assert.equal(ledger.summary().loss, 40 / 40);
  const diverged = new EpochLedger(planEpoch({ size: 4, microBatch: 2, batch: 2, epoch: 0 }));
  diverged.recordStep(0, Number.NaN, 10);
  assert.ok(Number.isNaN(diverged.summary().loss));
});

test('misuse: a window recorded twice, unknown windows, bad counts', () => {
  const ledger = new EpochLedger(plan110());
  ledger.recordStep(0, 1, 32);
  assert.throws(() => ledger.recordStep(0, 1, 32), (error: unknown) => error instanceof LedgerError && /window 0 of epoch 1 was already applied/.test(error.message));
  assert.throws(() => ledger.recordSkipped(0), /already applied/);
  ledger.recordSkipped(1);
  assert.throws(() => ledger.recordStep(1, 1, 32), /window 1 of epoch 1 was already skipped/);
  assert.throws(() => ledger.recordStep(4, 1, 14), /window 4 does not exist: epoch 1 has 4 windows/);
  assert.throws(() => ledger.recordSkipped(-1), /window -1 does not exist/);
  assert.throws(() => ledger.isWindowDone(1.5), LedgerError);
  assert.throws(() => ledger.recordStep(2, 1, -1), /item count of window 2 must be an integer ≥ 0/);
  assert.throws(() => ledger.recordStep(2, 1, 2.5), /item count/);
  assert.throws(() => ledger.recordStep(2, '1' as unknown as number, 2), /loss sum of window 2 must be a number/);
  assert.equal(ledger.isWindowDone(2), false, 'a rejected record leaves the window pending');
});

test('verify catches a corrupted plan: duplicated, missing, out-of-range samples, reordered micro-batches', () => {
  const complete = (plan: EpochPlan): EpochLedger => {
    const ledger = new EpochLedger(plan);
    for (const window of plan.windows) ledger.recordStep(window.index, 1, window.samples.length);
    return ledger;
  };
  const duplicated = structuredClone(plan110());
  duplicated.windows[3]!.samples[0] = duplicated.windows[0]!.samples[5]!;
  duplicated.windows[3]!.microBatches = [duplicated.windows[3]!.samples.slice(0, 8), duplicated.windows[3]!.samples.slice(8)];
  assert.throws(() => complete(duplicated).verify(), new RegExp(`sample ${duplicated.windows[0]!.samples[5]} appears in window 0 and in window 3`));

  const wholeWindowTwice = structuredClone(plan110());
  wholeWindowTwice.windows[1] = { ...structuredClone(wholeWindowTwice.windows[0]!), index: 1 };
  assert.throws(() => complete(wholeWindowTwice).verify(), /appears in window 0 and in window 1/);

  const missing = structuredClone(plan110('drop'));
  const lost = missing.dropped.pop()!;
  assert.throws(() => complete(missing).verify(), new RegExp(`sample ${lost} is in no window and not dropped`));

  const outOfRange = structuredClone(plan110());
  outOfRange.windows[0]!.samples[0] = 110;
  assert.throws(() => complete(outOfRange).verify(), /window 0 holds 110, not a sample index of 0..109/);

  const reordered = structuredClone(plan110());
  reordered.windows[2]!.microBatches.reverse();
  assert.throws(() => complete(reordered).verify(), /micro-batches of window 2 are not its samples in order/);
});

test('property: a fully recorded ledger verifies and accounts for every sample', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 300 }),
      fc.integer({ min: 1, max: 16 }),
      fc.integer({ min: 0, max: 40 }),
      fc.constantFrom<RemainderPolicy>('step', 'balance', 'drop'),
      fc.integer(),
      fc.infiniteStream(fc.boolean()),
      (size, microBatch, extra, remainder, seed, skips) => {
        const plan = planEpoch({ size, microBatch, batch: microBatch + extra, remainder, seed, epoch: 0 });
        const ledger = new EpochLedger(plan);
        for (const window of plan.windows) {
          if (skips.next().value) ledger.recordSkipped(window.index);
          else ledger.recordStep(window.index, window.samples.length, window.samples.length);
        }
        ledger.verify();
        const summary = ledger.summary();
        assert.equal(summary.samples_seen + summary.skipped_samples + summary.dropped_samples, size);
        assert.equal(summary.steps + summary.skipped_steps, plan.steps);
        assert.equal(summary.loss, summary.steps > 0 ? 1 : null);
      },
    ),
    { numRuns: 200 },
  );
});

test('toJSON / fromJSON: a resumed epoch continues its ledger', () => {
  const plan = plan110('step', 2);
  const ledger = new EpochLedger(plan);
  ledger.recordStep(0, 12.5, 32);
  ledger.recordSkipped(1);
  ledger.recordStep(2, Number.NaN, 32);
  const saved = JSON.parse(JSON.stringify(ledger)) as unknown;
  assert.deepEqual(saved, {
    epoch: 2,
    size: 110,
    windowSizes: [32, 32, 32, 14],
    windows: [{ status: 'applied', lossSum: 12.5, itemCount: 32 }, { status: 'skipped' }, { status: 'applied', lossSum: null, itemCount: 32 }, null],
  });
  // The plan is recomputed on resume: same options give the same plan.
  const resumed = EpochLedger.fromJSON(saved, plan110('step', 2));
  assert.deepEqual([0, 1, 2, 3].map((index) => resumed.isWindowDone(index)), [true, true, true, false]);
  resumed.recordStep(3, 1.5, 14);
  resumed.verify();
  const summary = resumed.summary();
  assert.equal(summary.samples_seen, 78);
  assert.equal(summary.skipped_samples, 32);
  assert.ok(Number.isNaN(summary.loss));
  assert.throws(() => resumed.recordStep(0, 1, 32), /already applied/);
});

test('fromJSON rejects a ledger of another plan or a malformed one with CheckpointError', () => {
  const saved = new EpochLedger(plan110()).toJSON();
  const rejects = (json: unknown, plan: EpochPlan, message: RegExp): void => {
    assert.throws(() => EpochLedger.fromJSON(json, plan), (error: unknown) => error instanceof CheckpointError && message.test(error.message));
  };
  rejects(saved, plan110('step', 1), /saved for epoch index 0, plan is for 1/);
  rejects(saved, planEpoch({ size: 100, microBatch: 8, batch: 32, epoch: 0 }), /saved for 110 samples, plan has 100/);
  rejects(saved, plan110('balance'), /window sizes \[32,32,32,14\] differ from the plan's \[28, 28, 27, 27\]/);
  rejects(null, plan110(), /expected an object/);
  rejects({ ...saved, windows: [null] }, plan110(), /expected 4 window entries/);
  rejects({ ...saved, windows: [{ status: 'applied', lossSum: 1 }, null, null, null] }, plan110(), /window entry 0 is malformed/);
  rejects({ ...saved, windows: [null, { status: 'done' }, null, null] }, plan110(), /window entry 1 is malformed/);
  rejects({ ...saved, windows: [null, null, { status: 'applied', lossSum: '1', itemCount: 3 }, null] }, plan110(), /window entry 2 is malformed/);
});
