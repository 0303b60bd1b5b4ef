/**
 * The finetune trial runner: how a trial's settings become a finetune run, how the run's summary
 * becomes the trial's result (checked against the sweep's replay of early stopping), and — in real
 * trial processes on the tiny test model — that a trial stopped after an epoch and resumed ends
 * bit-identical to one that ran through, and that a finished trial is answered from its files.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { planRefit, planSweep, type SweepInput } from '../../../src/app/sweep/plan.js';
import { checkTrialResult, withoutTiming } from '../../../src/app/sweep/record.js';
import type { Settings, TrialSpec } from '../../../src/app/sweep/types.js';
import { ConfigError } from '../../../src/core/errors.js';
import type { FinetuneSummary } from '../../../src/node/finetune.js';
import { executeTrial } from '../../../src/node/sweep/executor.js';
import { trialDir } from '../../../src/node/sweep/files.js';
import { finetuneRunnerRef, parseEpochEvaluation, trialResult } from '../../../src/node/sweep/finetune-runner.js';
import { checkTrialSettings, finetuneSettingsFor, parseSettingValues, SWEEPABLE_SETTINGS } from '../../../src/node/sweep/settings.js';
import { sentimentRows, tempDir, tinyModel, writeJsonl } from '../../cli/helpers.js';

/** Every setting a trial carries, as `microbatch sweep` fills them from train's defaults. */
function completeSettings(data: string, model: string): Settings {
  return {
    data, model, task: 'sequence-classification', textField: 'text', labelField: 'label', maxLength: 128, microBatch: 4, shuffle: true, backend: 'wasm', saveEvery: 0,
    lr: 0.3, epochs: 4, batch: 8, weightDecay: 0, warmupSteps: 0, reinitLayers: 0, schedule: 'linear', optimizer: 'adamw', clipNorm: 1, remainder: 'step', lossScale: false, onOverflow: 'retry',
  };
}

const input = (base: Settings, overrides: Partial<SweepInput> = {}): SweepInput => ({ grid: [], base, seeds: [3], folds: 2, metric: 'loss', patience: 1, ...overrides });

test('finetuneSettingsFor: the trial\'s seed, fold, early stopping, one thread and one worker; a refit runs exactly its epochs without validation', () => {
  const settings = completeSettings('/data/train.jsonl', '/models/tiny');
  const plan = planSweep(input(settings));
  const trial = plan.trials[1]!;
  const run = finetuneSettingsFor(trial, '/out/trial', 1);
  assert.deepEqual(run.split, { folds: 2, fold: 1, seed: 0 });
  assert.equal(run.seed, 3);
  assert.deepEqual(run.earlyStopping, { metric: 'loss', patience: 1 });
  assert.equal(run.evaluateEveryEpoch, true);
  assert.equal(run.workers, 1);
  assert.equal(run.threads, 1);
  assert.equal(run.out, '/out/trial');
  assert.equal(run.lossScale, false);
  assert.equal(run.eval, undefined);
  assert.equal(run.microBatch, 4);
  const small = finetuneSettingsFor(planSweep(input({ ...settings, batch: 2 })).trials[0]!, '/out/small', 1);
  assert.equal(small.microBatch, 2, 'a batch below the micro-batch lowers the micro-batch');

  const refit = finetuneSettingsFor(planRefit(plan, plan.configs[0]!.id, [2, 3]), '/out/refit', 1);
  assert.equal(refit.epochs, 3);
  assert.equal(refit.split, undefined);
  assert.equal(refit.earlyStopping, undefined);
  assert.equal(refit.evaluateEveryEpoch, false);

  const holdout = planSweep(input({ ...settings, eval: '/data/eval.jsonl' }, { folds: null }));
  assert.equal(finetuneSettingsFor(holdout.trials[0]!, '/out/x', 1).eval, '/data/eval.jsonl');
  assert.throws(() => finetuneSettingsFor(planSweep(input({ ...settings, eval: '/data/eval.jsonl' })).trials[0]!, '/out/x', 1), /^ConfigError: eval and cross-validation folds exclude each other/);
  assert.throws(() => finetuneSettingsFor(planSweep(input(settings, { folds: null })).trials[0]!, '/out/x', 1), /^ConfigError: eval is missing/);
});

test('checkTrialSettings: unknown, missing and ill-typed settings fail naming the setting', () => {
  const settings = completeSettings('/d', '/m');
  const fails = (value: Settings, pattern: RegExp) =>
    assert.throws(
      () => checkTrialSettings(value, { complete: true }),
      (error: unknown) => error instanceof ConfigError && pattern.test(error.message),
    );
  checkTrialSettings(settings, { complete: true });
  fails({ ...settings, seed: 1 }, /^seed is not a setting a trial passes to finetune/);
  const { batch: _batch, ...withoutBatch } = settings;
  fails(withoutBatch, /^batch is missing/);
  fails({ ...settings, lr: 'fast' }, /^lr must be a finite number, got "fast"$/);
  fails({ ...settings, remainder: 'keep' }, /^remainder must be one of step, balance, drop, got "keep"$/);
  fails({ ...settings, microBatch: 0 }, /^microBatch must be a positive integer or "auto", got 0$/);
  fails({ ...settings, dropout: 1 }, /^dropout must be < 1, got 1$/);
  checkTrialSettings({ ...settings, microBatch: 'auto', warmupRatio: 0.1, dropout: 0.1 }, { complete: true });
});

test('parseSettingValues: every sweepable setting reads a list; --loss-scale takes train\'s words', () => {
  assert.deepEqual(parseSettingValues('lr', '2e-5,5e-5'), [2e-5, 5e-5]);
  assert.deepEqual(parseSettingValues('lossScale', 'off,dynamic'), [false, true]);
  assert.deepEqual(parseSettingValues('reinitLayers', '0,1,2'), [0, 1, 2]);
  assert.deepEqual(parseSettingValues('warmupRatio', '0,0.1'), [0, 0.1]);
  assert.throws(() => parseSettingValues('warmupRatio', '0.1,1.5'), /^ConfigError: warmupRatio must be ≤ 1, got 1\.5$/);
  assert.throws(() => parseSettingValues('epochs', '3,2.5'), /^ConfigError: epochs must be integers, got "2\.5"$/);
  assert.throws(() => parseSettingValues('data', 'a,b'), /^ConfigError: data is not a setting a sweep can list$/);
  assert.deepEqual(SWEEPABLE_SETTINGS.slice(0, 3), ['lr', 'epochs', 'batch']);
});

test('trialResult: finetune\'s evaluations and best epoch; a run without any finite metric has no best epoch; a refit reports its training loss', () => {
  const plan = planSweep(input(completeSettings('/d', '/m'), { patience: 2 }));
  const trial = plan.trials[0]!;
  const summary = (evaluations: { epoch: number; metrics: Record<string, number | null> }[], best: number, stoppedAt?: number) =>
    ({ epochs: evaluations.map(({ epoch }) => ({ epoch, loss: 0.5 })), evaluations, early_stopping: { metric: 'loss', patience: 2, best_epoch: best, stopped_at_epoch: stoppedAt } }) as unknown as FinetuneSummary;
  const good = trialResult(trial, summary([{ epoch: 1, metrics: { loss: 0.7 } }, { epoch: 2, metrics: { loss: 0.5 } }, { epoch: 3, metrics: { loss: 0.5 } }, { epoch: 4, metrics: { loss: 0.6 } }], 2, 4));
  assert.deepEqual(checkTrialResult(trial, good), { epochs: good.epochs, bestEpoch: 2, stoppedEarly: true });
  // summary.json writes NaN as null; finetune names its last epoch when nothing was finite, the policy none.
  const diverged = trialResult(trial, summary([{ epoch: 1, metrics: { loss: null } }, { epoch: 2, metrics: { loss: null } }], 2, 2));
  assert.ok(Number.isNaN(diverged.epochs[0]!.metrics.loss));
  assert.equal(diverged.bestEpoch, null);
  assert.deepEqual(checkTrialResult(trial, diverged).bestEpoch, null);
  const refitTrial = planRefit(plan, plan.configs[0]!.id, [2]);
  const refit = trialResult(refitTrial, { epochs: [{ epoch: 1, loss: 0.5 }, { epoch: 2, loss: null }] } as unknown as FinetuneSummary);
  assert.equal(refit.epochs[0]!.metrics.train_loss, 0.5);
  assert.ok(Number.isNaN(refit.epochs[1]!.metrics.train_loss));
  assert.deepEqual(checkTrialResult(refitTrial, refit), refit);
});

test('parseEpochEvaluation reads finetune\'s per-epoch evaluation line', () => {
  assert.deepEqual(parseEpochEvaluation('eval after epoch 3: accuracy 0.8636, macro_f1 0.8571, loss 0.3154'), { epoch: 3, metrics: { accuracy: 0.8636, macro_f1: 0.8571, loss: 0.3154 } });
  assert.equal(parseEpochEvaluation('early stopping: best loss at epoch 2'), undefined);
});

test('the finetune runner in trial processes: stopped after epoch 1 and resumed, a trial ends bit-identical to one run through; a finished trial is answered from its files', async () => {
  const dir = tempDir('finetune-runner');
  const model = await tinyModel(path.join(dir, 'model'), { randomWeights: true });
  const data = writeJsonl(path.join(dir, 'train.jsonl'), sentimentRows(40));
  // patience null: every epoch runs, so the interrupted trial certainly has epochs left.
  const plan = planSweep(input(completeSettings(data, model), { patience: null }));
  const trial: TrialSpec = plan.trials[0]!;
  const runner = finetuneRunnerRef();
  const whole = path.join(dir, 'whole');
  const uninterrupted = await executeTrial(trial, { outDir: whole, runner });
  assert.equal(uninterrupted.kind, 'record');
  if (uninterrupted.kind !== 'record') return;
  assert.equal(uninterrupted.record.status, 'completed', uninterrupted.record.error);
  assert.equal(uninterrupted.record.epochs.length, 4);

  const resumed = path.join(dir, 'resumed');
  const controller = new AbortController();
  const stopped = await executeTrial(trial, { outDir: resumed, runner, signal: controller.signal, onEpoch: ({ epoch }) => epoch === 1 && controller.abort() });
  assert.equal(stopped.kind, 'aborted');
  const second = await executeTrial(trial, { outDir: resumed, runner });
  assert.equal(second.kind, 'record');
  if (second.kind !== 'record') return;
  assert.ok(second.resumed);
  assert.deepEqual(withoutTiming(second.record), withoutTiming(uninterrupted.record));
  const weights = (out: string) => readFileSync(path.join(trialDir(out, trial), 'model.safetensors'));
  assert.ok(weights(resumed).equals(weights(whole)), 'bit-identical final weights');
  const log = () => readFileSync(path.join(trialDir(resumed, trial), 'trial.log'), 'utf8');
  assert.match(log(), /^trial \S+: resuming from the checkpoint after epoch 1$/m);

  // Killed after the run finished but before its record was written: answered from summary.json.
  const third = await executeTrial(trial, { outDir: resumed, runner });
  assert.equal(third.kind, 'record');
  if (third.kind !== 'record') return;
  assert.deepEqual(withoutTiming(third.record), withoutTiming(uninterrupted.record));
  assert.match(log(), /finished in an earlier attempt; answering from its summary\.json$/m);
});
