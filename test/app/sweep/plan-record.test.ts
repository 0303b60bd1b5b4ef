import test from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DataError } from '../../../src/core/errors.js';
import {
  checkTrialResult,
  completedRecord,
  failedRecord,
  formatRecord,
  parseRecord,
  parseSweepJsonl,
  parseTrialJob,
  withoutTiming,
} from '../../../src/app/sweep/record.js';
import { parseSweepInput, planRefit, planSweep, trialPath, type SweepInput } from '../../../src/app/sweep/plan.js';
import { formatProgress, formatSummaryTable, selectBest, summarizeConfigs, sweepSummary } from '../../../src/app/sweep/aggregate.js';
import type { TrialRecord } from '../../../src/app/sweep/types.js';

const INPUT: SweepInput = {
  grid: [
    ['lr', [2e-5, 5e-5]],
    ['epochs', [3, 10]],
  ],
  base: { data: '/data/train.csv', microBatch: 8 },
  seeds: [0, 1],
  folds: 3,
  metric: 'accuracy',
  patience: 2,
};

function dataError(field: string, pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof DataError, String(error));
    assert.equal(error.field, field);
    assert.match(error.message, pattern);
    return true;
  };
}

test('planSweep: configs × seeds × folds in order, stable ids, fixed settings merged', () => {
  const plan = planSweep(INPUT);
  assert.equal(plan.configs.length, 4);
  assert.equal(plan.trials.length, 4 * 2 * 3);
  assert.match(plan.id, /^s[0-9a-f]{12}$/);
  assert.equal(planSweep(structuredClone(INPUT) as SweepInput).id, plan.id);
  assert.notEqual(planSweep({ ...INPUT, patience: 3 }).id, plan.id);
  assert.notEqual(planSweep({ ...INPUT, base: { ...INPUT.base, data: '/other.csv' } }).id, plan.id);
  const [first, second, , fourth] = plan.trials;
  assert.deepEqual(first, {
    id: `${plan.configs[0]!.id}-s0-f0`,
    index: 0,
    configId: plan.configs[0]!.id,
    settings: { data: '/data/train.csv', microBatch: 8, lr: 2e-5, epochs: 3 },
    seed: 0,
    split: { kind: 'kfold', folds: 3, fold: 0, seed: 0 },
    metric: 'accuracy',
    patience: 2,
  });
  assert.equal(second!.id, `${plan.configs[0]!.id}-s0-f1`);
  assert.equal(fourth!.id, `${plan.configs[0]!.id}-s1-f0`);
  assert.deepEqual(
    plan.trials.map((trial) => trial.index),
    plan.trials.map((_, index) => index),
  );
  assert.deepEqual(trialPath(first!), ['trials', plan.configs[0]!.id, 'seed-0', 'fold-0']);
  const holdout = planSweep({ ...INPUT, folds: null });
  assert.equal(holdout.trials.length, 8);
  assert.deepEqual(holdout.trials[0]!.split, { kind: 'holdout' });
  assert.match(holdout.trials[0]!.id, /-s0-eval$/);
  assert.deepEqual(trialPath(holdout.trials[0]!).slice(-1), ['eval']);
  // The stored input plans the same sweep.
  assert.equal(planSweep(parseSweepInput(JSON.parse(JSON.stringify(plan.input)), { file: 'sweep.json' })).id, plan.id);
});

test('planSweep: bad inputs are ConfigErrors naming the field', () => {
  const field = (input: Partial<SweepInput>, name: string) =>
    assert.throws(() => planSweep({ ...INPUT, ...input }), (error: unknown) => error instanceof ConfigError && error.field === name);
  field({ seeds: [] }, 'seeds');
  field({ seeds: [1, 1] }, 'seeds');
  field({ seeds: [-1] }, 'seeds');
  field({ folds: 1 }, 'folds');
  field({ patience: 0 }, 'patience');
  field({ metric: 'f1' as 'loss' }, 'metric');
  field({ splitSeed: 1.5 }, 'splitSeed');
  field({ base: { lr: 1e-5 } }, 'lr');
  assert.throws(() => parseSweepInput({ ...JSON.parse(JSON.stringify(INPUT)), folds: 'five' }, { file: 'sweep.json' }), dataError('input.folds', /integer ≥ 2/));
});

test('planRefit: the chosen config on all data for the median best epoch', () => {
  const plan = planSweep(INPUT);
  const refit = planRefit(plan, plan.configs[1]!.id, [4, 2, 7, 3]);
  assert.deepEqual(refit.split, { kind: 'all', epochs: 4 });
  assert.equal(refit.patience, null);
  assert.equal(refit.id, `${plan.configs[1]!.id}-refit`);
  assert.deepEqual(trialPath(refit), ['refit']);
  assert.deepEqual(refit.settings, { data: '/data/train.csv', microBatch: 8, lr: 2e-5, epochs: 10 });
  assert.throws(() => planRefit(plan, 'c0000000000', [1]), /is not a config/);
  assert.throws(() => planRefit(plan, plan.configs[0]!.id, []), /no completed trial/);
});

const epochs = (...values: number[]) => values.map((accuracy, position) => ({ epoch: position + 1, metrics: { accuracy, loss: 1 - accuracy } }));

test('checkTrialResult: accepts what the policy would do, names what it would not', () => {
  const trial = planSweep(INPUT).trials[0]!;
  const result = { epochs: epochs(0.5, 0.7, 0.6, 0.65), bestEpoch: 2, stoppedEarly: true };
  assert.deepEqual(checkTrialResult(trial, result), result);
  assert.deepEqual(checkTrialResult(trial, { epochs: epochs(0.5, 0.7, 0.6), bestEpoch: 2, stoppedEarly: false }).bestEpoch, 2);
  assert.throws(() => checkTrialResult(trial, { ...result, bestEpoch: 4 }), dataError('bestEpoch', /must be 2 \(the best accuracy\), got 4/));
  assert.throws(() => checkTrialResult(trial, { epochs: epochs(0.5, 0.7, 0.6, 0.65, 0.9), bestEpoch: 5, stoppedEarly: false }), dataError('epochs', /stops after epoch 4/));
  assert.throws(() => checkTrialResult(trial, { epochs: epochs(0.5, 0.7), bestEpoch: 2, stoppedEarly: true }), dataError('stoppedEarly', /does not stop/));
  assert.throws(() => checkTrialResult(trial, { epochs: [], bestEpoch: null, stoppedEarly: false }), dataError('epochs', /at least one/));
  assert.throws(
    () => checkTrialResult(trial, { epochs: [{ epoch: 1, metrics: { loss: 0.3 } }], bestEpoch: 1, stoppedEarly: false }),
    dataError('epochs.0.metrics.accuracy', /missing/),
  );
  assert.throws(() => checkTrialResult(trial, { epochs: [{ epoch: 2, metrics: { accuracy: 1 } }], bestEpoch: 2, stoppedEarly: false }), dataError('epochs.0.epoch', /must be 1/));
  assert.throws(() => checkTrialResult(trial, 'done'), dataError('result', /must be an object/));
  const refit = planRefit(planSweep(INPUT), trial.configId, [2]);
  assert.deepEqual(checkTrialResult(refit, { epochs: [{ epoch: 1, metrics: {} }, { epoch: 2, metrics: {} }], bestEpoch: null, stoppedEarly: false }).epochs.length, 2);
  assert.throws(() => checkTrialResult(refit, { epochs: [{ epoch: 1, metrics: {} }], bestEpoch: null, stoppedEarly: false }), /exactly 2 epochs/);
});

test('records: format → parse round trip, NaN as null, errors name file, line and field', () => {
  const plan = planSweep(INPUT);
  const record = completedRecord(plan.trials[1]!, { epochs: [...epochs(0.5, 0.7), { epoch: 3, metrics: { accuracy: 0.6, loss: NaN } }], bestEpoch: 2, stoppedEarly: false }, 1234);
  assert.equal(record.fold, 1);
  assert.deepEqual(record.metrics, { accuracy: 0.7, loss: 1 - 0.7 });
  const line = formatRecord(record);
  assert.ok(!line.includes('\n'));
  assert.match(line, /"loss":null/);
  assert.match(line, /^\{"trial":.*"durationMs":1234\}$/);
  assert.deepEqual(parseRecord(line, { file: 'sweep.jsonl', line: 1 }), record);
  const failed = failedRecord(plan.trials[2]!, 'trial process exited with code 3', 10);
  assert.deepEqual(parseSweepJsonl(`${line}\n\n${formatRecord(failed)}\n`, 'sweep.jsonl'), [record, failed]);
  assert.deepEqual(withoutTiming(record), withoutTiming({ ...record, durationMs: 99 }));
  assert.ok(!('durationMs' in withoutTiming(record)));
  assert.throws(
    () => parseSweepJsonl(`${line}\n{"trial":"x"`, 'out/sweep.jsonl'),
    (error: unknown) => error instanceof DataError && error.file === 'out/sweep.jsonl' && error.line === 2 && /is not JSON/.test(error.message),
  );
  const broken = { ...JSON.parse(line), seed: -1 };
  assert.throws(() => parseRecord(JSON.stringify(broken), { file: 'f', line: 3 }), dataError('seed', /integer ≥ 0/));
  const badBest = { ...JSON.parse(line), bestEpoch: 9 };
  assert.throws(() => parseRecord(JSON.stringify(badBest), { file: 'f' }), dataError('bestEpoch', /not among the 3 epochs/));
  const noReason = { ...JSON.parse(formatRecord(failed)) };
  delete noReason.error;
  assert.throws(() => parseRecord(JSON.stringify(noReason), { file: 'f' }), dataError('error', /non-empty string/));
});

test('parseTrialJob: a well-formed job parses; each malformation is named', () => {
  const trial = planSweep(INPUT).trials[5]!;
  const job = { version: 1, sweep: 's0123456789ab', outDir: '/shared/out', trial };
  assert.deepEqual(parseTrialJob(JSON.parse(JSON.stringify(job)), { file: 'job 1' }), job);
  const bad = (data: unknown, field: string, pattern: RegExp) => assert.throws(() => parseTrialJob(data, { file: 'job 1' }), dataError(field, pattern));
  bad(null, 'data', /must be an object, got null/);
  bad({ ...job, version: 2 }, 'version', /must be 1/);
  bad({ ...job, outDir: 'relative/out' }, 'outDir', /absolute/);
  bad({ ...job, trial: { ...trial, seed: 'zero' } }, 'trial.seed', /integer ≥ 0, got "zero"/);
  bad({ ...job, trial: { ...trial, id: '../../etc' } }, 'trial.id', /letters, digits/);
  bad({ ...job, trial: { ...trial, split: { kind: 'kfold', folds: 3, fold: 3, seed: 0 } } }, 'trial.split.fold', /below folds \(3\)/);
  bad({ ...job, trial: { ...trial, split: { kind: 'random' } } }, 'trial.split.kind', /one of kfold, holdout, all/);
  bad({ ...job, trial: { ...trial, settings: { lr: [1] } } }, 'trial.settings.lr', /number, string or boolean/);
  bad({ ...job, trial: { ...trial, metric: 'f1' } }, 'trial.metric', /one of accuracy, macro_f1, loss/);
});

function record(plan: ReturnType<typeof planSweep>, index: number, accuracy: number | 'failed'): TrialRecord {
  const trial = plan.trials[index]!;
  if (accuracy === 'failed') return failedRecord(trial, 'boom', 1);
  return completedRecord(trial, { epochs: epochs(accuracy), bestEpoch: Number.isNaN(accuracy) ? null : 1, stoppedEarly: false }, 1);
}

test('summarizeConfigs and selectBest: mean, std, t interval; ineligible configs; tie-breaks', () => {
  const plan = planSweep({ ...INPUT, folds: null, seeds: [0, 1, 2] });
  // Trials per config: 3 (seeds). Config 0: 0.8, 0.82, 0.84; config 1: 0.9, 0.9, failed; config 2: NaN present; config 3: 0.82 ± 0.
  const values: (number | 'failed')[] = [0.8, 0.82, 0.84, 0.9, 0.9, 'failed', 0.95, NaN, 0.95, 0.82, 0.82, 0.82];
  const records = values.map((value, index) => record(plan, index, value));
  const summaries = summarizeConfigs(plan, records);
  assert.deepEqual(
    summaries.map((summary) => [summary.completed, summary.failed, summary.missing, summary.eligible]),
    [
      [3, 0, 0, true],
      [2, 1, 0, false],
      [3, 0, 0, false],
      [3, 0, 0, true],
    ],
  );
  assert.match(summaries[1]!.reason!, /1 of 3 trials failed/);
  assert.match(summaries[2]!.reason!, /never had a finite accuracy/);
  const estimate = summaries[0]!.estimate!;
  assert.ok(Math.abs(estimate.mean - 0.82) < 1e-12);
  assert.ok(Math.abs(estimate.std - 0.02) < 1e-12);
  assert.ok(Math.abs(estimate.halfWidth - (4.3026527297 * 0.02) / Math.sqrt(3)) < 1e-9);
  // Equal means 0.82: config 3 has std 0 and wins the tie over config 0.
  assert.equal(selectBest(summaries, 'accuracy')!.config, summaries[3]!.config);
  // For loss, lower is better.
  const lossPlan = planSweep({ ...INPUT, folds: null, seeds: [0], metric: 'loss' });
  const lossRecords = [0.2, 0.1, 0.3, 0.1].map((loss, index) =>
    completedRecord(lossPlan.trials[index]!, { epochs: [{ epoch: 1, metrics: { loss } }], bestEpoch: 1, stoppedEarly: false }, 1),
  );
  const lossSummaries = summarizeConfigs(lossPlan, lossRecords);
  // Exact tie (0.1 twice, std NaN for n = 1 each): the earlier config wins.
  assert.equal(selectBest(lossSummaries, 'loss')!.config, lossPlan.configs[1]!.id);
  // Missing trials make every config ineligible: no best.
  const partial = summarizeConfigs(plan, records.slice(0, 2));
  assert.equal(selectBest(partial, 'accuracy'), null);
  assert.match(partial[0]!.reason!, /1 of 3 trials have not finished/);
  const summary = sweepSummary(plan, summaries, selectBest(summaries, 'accuracy'));
  assert.deepEqual(summary.trials, { planned: 12, completed: 11, failed: 1, missing: 0 });
  assert.equal(summary.best!.config, summaries[3]!.config);
  assert.deepEqual(summary.best!.ci95, [0.82, 0.82]);
  assert.ok(JSON.stringify(summary).length > 0);
  const table = formatSummaryTable(plan, summaries, selectBest(summaries, 'accuracy'));
  assert.equal(table.length, 5);
  assert.match(table[0]!, /config\s+lr\s+epochs\s+n\s+accuracy \(mean ± std\)\s+95 % CI/);
  assert.match(table[1]!, /^ {2}c[0-9a-f]{10}\s+2e-5\s+3\s+3\s+0\.8200 ± 0\.0200\s+\[0\.7703, 0\.8697\]$/);
  assert.match(table[4]!, /^\* /);
  assert.match(table[2]!, /\(1 of 3 trials failed\)$/);
  assert.equal(formatProgress({ total: 40, completed: 11, failed: 1, running: 3 }), '12/40 trials done (1 failed), 3 running');
});
