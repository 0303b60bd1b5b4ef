import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../../src/core/errors.js';
import { planSweep } from '../../../src/app/sweep/plan.js';
import type { TrialContext, TrialResult } from '../../../src/app/sweep/types.js';
import { loadSweepPlan, trialDir } from '../../../src/node/sweep/files.js';
import { refitBest, runSweepLocal, type SweepEvent, type SweepOutcome } from '../../../src/node/sweep/local.js';
import { createTestRunner } from '../../fixtures/sweep-trial.js';
import { tempDir } from '../../helpers/tempdir.js';
import { readJson, SMALL_SWEEP, smallPlan, sweepLines, testRunner } from './helpers.js';

function context(outDir: string, resume: boolean, signal: AbortSignal, onEpoch: TrialContext['onEpoch'] = () => {}): TrialContext {
  return { outDir, resume, signal, onEpoch, computeThreads: 1 };
}

test('test runner: a trial stopped after any epoch and resumed ends bit-identical to one run through', async () => {
  const trial = { ...smallPlan().trials[4]!, patience: null };
  const whole = tempDir('sweep-trial-whole');
  const expected = await createTestRunner().run(trial, context(whole, false, new AbortController().signal));
  assert.equal(expected.epochs.length, 6);
  for (const stopAfter of [1, 3, 5]) {
    const dir = tempDir('sweep-trial-resumed');
    const controller = new AbortController();
    const runner = createTestRunner({ epochSleepMs: 1 });
    await assert.rejects(
      runner.run(
        trial,
        context(dir, false, controller.signal, ({ epoch }) => {
          if (epoch === stopAfter) controller.abort();
        }),
      ),
      /aborted/,
    );
    const resumed: TrialResult = await createTestRunner().run(trial, context(dir, true, new AbortController().signal));
    assert.deepEqual(resumed, expected);
    assert.equal(readFileSync(path.join(dir, 'weights.json'), 'utf8'), readFileSync(path.join(whole, 'weights.json'), 'utf8'));
    assert.equal(readFileSync(path.join(dir, 'attempts.log'), 'utf8'), `fresh\nresume after epoch ${stopAfter}\n`);
    assert.ok(!existsSync(path.join(dir, 'checkpoint.json')), 'a finished trial removes its checkpoint');
  }
});

/** The small sweep run one trial at a time, once for the whole file: every other way of running it must match. */
let reference: Promise<{ outDir: string; outcome: SweepOutcome }> | undefined;
function serialReference() {
  reference ??= (async () => {
    const outDir = tempDir('sweep-serial');
    return { outDir, outcome: await runSweepLocal({ plan: smallPlan(), outDir, runner: testRunner(), parallel: 1 }) };
  })();
  return reference;
}

test('runSweepLocal: the same sweep.jsonl and summary serially and with 3 trials at a time', async () => {
  const plan = smallPlan();
  const { outDir: serial, outcome: serialOutcome } = await serialReference();
  const parallel = tempDir('sweep-parallel');
  let maxRunning = 0;
  const parallelOutcome = await runSweepLocal({
    plan,
    outDir: parallel,
    runner: testRunner({ epochSleepMs: 20 }),
    parallel: 3,
    onEvent: (_event, counts) => (maxRunning = Math.max(maxRunning, counts.running)),
  });
  assert.equal(maxRunning, 3);
  assert.ok(serialOutcome.finished && parallelOutcome.finished);
  const lines = sweepLines(serial);
  assert.equal(lines.length, 8);
  assert.deepEqual(
    lines.map((line) => line.index),
    plan.trials.map((trial) => trial.index),
  );
  assert.ok(lines.every((line) => line.status === 'completed'));
  assert.deepEqual(sweepLines(parallel), lines);
  assert.deepEqual(readJson(path.join(parallel, 'summary.json')), readJson(path.join(serial, 'summary.json')));
  // Early stopping happened somewhere and kept the best epoch.
  assert.ok(lines.some((line) => line.stoppedEarly && line.bestEpoch! < line.epochs.length));
  for (const line of lines) assert.deepEqual(line.metrics, line.epochs[line.bestEpoch! - 1]!.metrics);
  // Each trial ran in its own process, limited to one compute thread, in its own directory.
  const pids = new Set<number>();
  for (const trial of plan.trials) {
    const seen = readJson(path.join(trialDir(parallel, trial), 'context.json')) as { pid: number; computeThreads: number; OMP_NUM_THREADS: string };
    assert.equal(seen.computeThreads, 1);
    assert.equal(seen.OMP_NUM_THREADS, '1');
    assert.notEqual(seen.pid, process.pid);
    pids.add(seen.pid);
    assert.ok(existsSync(path.join(trialDir(parallel, trial), 'trial-result.json')));
  }
  assert.equal(pids.size, 8);
  assert.ok(serialOutcome.best !== null);
  assert.equal((await loadSweepPlan(serial)).id, plan.id);
});

test('runSweepLocal: crashing trials are reported failed with the reason, never dropped; retryFailed runs them again', async () => {
  const plan = smallPlan();
  const outDir = tempDir('sweep-failures');
  const [thrown, exited, lied] = [plan.trials[0]!.id, plan.trials[5]!.id, plan.trials[6]!.id];
  const outcome = await runSweepLocal({ plan, outDir, runner: testRunner({ fail: { [thrown]: 'throw', [exited]: 'exit', [lied]: 'lie' } }), parallel: 2 });
  const byId = new Map(outcome.records.map((record) => [record.trial, record]));
  assert.equal(outcome.records.length, 8);
  assert.equal(byId.get(thrown)!.status, 'failed');
  assert.equal(byId.get(thrown)!.error, `injected failure in ${thrown}`);
  assert.match(byId.get(exited)!.error!, /^trial process exited with code 3 before answering; last output: exiting on purpose in /);
  assert.match(byId.get(lied)!.error!, /^the runner's result is invalid: .*field "bestEpoch": must be \d+ \(the best accuracy\)/);
  assert.equal(outcome.records.filter((record) => record.status === 'completed').length, 5);
  // Both configs have a failure: neither may be called best.
  assert.equal(outcome.best, null);
  assert.deepEqual(outcome.summary.trials, { planned: 8, completed: 5, failed: 3, missing: 0 });

  // A re-run keeps the failures (they are results) …
  const events: SweepEvent[] = [];
  const again = await runSweepLocal({ plan, outDir, runner: testRunner(), onEvent: (event) => events.push(event) });
  assert.equal(events.filter((event) => event.type === 'started').length, 0);
  assert.equal(again.summary.trials.failed, 3);
  // … unless asked to retry them.
  const retried = await runSweepLocal({ plan, outDir, runner: testRunner(), retryFailed: true });
  assert.equal(retried.summary.trials.completed, 8);
  assert.deepEqual(sweepLines(outDir), sweepLines((await serialReference()).outDir));
});

test('runSweepLocal: an interrupted sweep re-run skips finished trials and resumes the rest from their checkpoints', async () => {
  const plan = smallPlan();
  const outDir = tempDir('sweep-interrupted');
  const controller = new AbortController();
  let epochs = 0;
  const first = await runSweepLocal({
    plan,
    outDir,
    runner: testRunner({ epochSleepMs: 30 }),
    parallel: 2,
    killGraceMs: 5000,
    signal: controller.signal,
    onEvent: (event) => {
      if (event.type === 'epoch' && ++epochs === 10) controller.abort();
    },
  });
  assert.equal(first.finished, false);
  const finishedBefore = first.records.length;
  assert.ok(finishedBefore >= 1 && finishedBefore < 8, `${finishedBefore} finished before the abort`);
  const interrupted = plan.trials.filter((trial) => existsSync(path.join(trialDir(outDir, trial), 'checkpoint.json')));
  assert.ok(interrupted.length >= 1, 'some trial was stopped mid-way with a checkpoint');

  const events: SweepEvent[] = [];
  const second = await runSweepLocal({ plan, outDir, runner: testRunner(), parallel: 2, onEvent: (event) => events.push(event) });
  assert.ok(second.finished);
  assert.equal(events.filter((event) => event.type === 'skipped').length, finishedBefore);
  for (const trial of interrupted) {
    const attempts = readFileSync(path.join(trialDir(outDir, trial), 'attempts.log'), 'utf8');
    assert.match(attempts, /^fresh\nresume after epoch [1-9]\n$/);
    assert.ok(events.some((event) => event.type === 'started' && event.trial.id === trial.id && event.resume));
  }
  assert.deepEqual(sweepLines(outDir), sweepLines((await serialReference()).outDir));
});

test('runSweepLocal: an out dir of another sweep is refused; refitBest retrains the best config', async () => {
  const { outDir, outcome } = await serialReference();
  await assert.rejects(
    runSweepLocal({ plan: planSweep({ ...SMALL_SWEEP, seeds: [0] }), outDir, runner: testRunner() }),
    (error: unknown) => error instanceof ConfigError && error.field === 'out' && /holds sweep s[0-9a-f]{12} with other settings/.test(error.message),
  );
  const refit = await refitBest(outcome, { outDir, runner: testRunner() });
  assert.equal(refit!.status, 'completed');
  const sorted = [...outcome.best!.bestEpochs].sort((a, b) => a - b);
  assert.equal(refit!.epochs.length, sorted[Math.floor(sorted.length / 2)]);
  assert.equal(refit!.bestEpoch, null);
  assert.deepEqual(refit!.settings, { ...outcome.best!.settings, epochs: 6, batch: 8 });
  assert.ok(existsSync(path.join(outDir, 'refit', 'weights.json')));
  assert.deepEqual(await refitBest(outcome, { outDir, runner: testRunner() }), refit, 'a finished refit is not repeated');
});
