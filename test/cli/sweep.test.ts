/**
 * `microbatch sweep` on this machine, through the CLI, with real training runs (the tiny test
 * model): two trials at a time give the same sweep.jsonl and summary as one at a time; every trial
 * is a complete run whose early stopping agrees with the sweep's replay of the policy; --refit
 * trains the best config on all the data; bad flags fail with one line naming the flag.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { replayEarlyStopping } from '../../src/app/sweep/early-stopping.js';
import { loadSweepPlan, trialDir } from '../../src/node/sweep/files.js';
import { runCli, tempDir, type CliResult } from './helpers.js';
import { smallSweep, sweepLines, type SmallSweep } from './sweep-helpers.js';

interface RunSummary {
  samples: number;
  epochs: unknown[];
  evaluations: { epoch: number; metrics: Record<string, number> }[];
  early_stopping: { best_epoch: number; stopped_at_epoch?: number };
  settings: { seed: number; split?: { folds: number; fold: number; seed: number }; workers: number; threads: number };
}

let setup: Promise<{ dir: string; sweep: SmallSweep; parallel: string; serial: string; parallelRun: CliResult; serialRun: CliResult }> | undefined;

/** The small sweep twice: 2 trials at a time, then 1 (both cores, then one). */
function sweeps() {
  setup ??= (async () => {
    const dir = tempDir('cli-sweep');
    const sweep = await smallSweep(dir);
    const parallel = path.join(dir, 'parallel');
    const serial = path.join(dir, 'serial');
    const parallelRun = await runCli([...sweep.args, '--out', parallel, '--parallel', '2']);
    const serialRun = await runCli([...sweep.args, '--out', serial, '--parallel', '1']);
    return { dir, sweep, parallel, serial, parallelRun, serialRun };
  })();
  return setup;
}

test('sweep: 2 trials at a time and 1 at a time give the same sweep.jsonl and summary; the table and the best config on stdout', async () => {
  const { parallel, serial, parallelRun, serialRun } = await sweeps();
  assert.equal(parallelRun.code, 0, parallelRun.stderr);
  assert.equal(serialRun.code, 0, serialRun.stderr);
  const lines = sweepLines(parallel);
  assert.equal(lines.length, 8);
  assert.deepEqual(lines, sweepLines(serial));
  assert.deepEqual(JSON.parse(readFileSync(path.join(parallel, 'summary.json'), 'utf8')), JSON.parse(readFileSync(path.join(serial, 'summary.json'), 'utf8')));
  assert.equal(parallelRun.stdout, serialRun.stdout.replaceAll(serial, parallel));
  assert.ok(lines.every((record) => record.status === 'completed'), JSON.stringify(lines.map((record) => record.error)));

  // Two trials ran at once: two starts before the first trial ended.
  const progress = parallelRun.stderr.split('\n');
  const firstEnd = progress.findIndex((line) => /^\[1\/8\]/.test(line));
  assert.equal(progress.slice(0, firstEnd).filter((line) => / started$/.test(line)).length, 2, parallelRun.stderr);
  // Live progress: each epoch's validation loss, from the trial's own log.
  assert.match(parallelRun.stderr, /^\[0\/8\] c[0-9a-f]{10}-s0-f[01] epoch 1: loss \d\.\d{4}$/m);

  // stdout: the table (one row per config, the best marked), the best config, where the files are.
  const out = parallelRun.stdout.split('\n');
  assert.match(out[0]!, /^ {2}config +lr +n +loss \(mean ± std\) +95 % CI$/);
  assert.equal(out.slice(1, 3).filter((line) => /^\* c[0-9a-f]{10} /.test(line)).length, 1);
  assert.match(parallelRun.stdout, /^best: c[0-9a-f]{10} \(lr (0\.3|2)\): loss \d+\.\d{4} ± \d+\.\d{4} \(n = 4, 95 % CI \[-?\d+\.\d{4}, \d+\.\d{4}\]\)$/m);
  assert.match(parallelRun.stdout, /^wrote .*parallel: sweep\.jsonl, summary\.json, report\.html$/m);
});

test('sweep: every trial is a complete one-thread run on its fold; its record is the run\'s evaluations and the policy\'s best epoch', async () => {
  const { parallel } = await sweeps();
  const plan = await loadSweepPlan(parallel);
  const records = new Map(sweepLines(parallel).map((record) => [record.trial, record]));
  let stoppedEarly = 0;
  for (const trial of plan.trials) {
    const dir = trialDir(parallel, trial);
    for (const file of ['model.safetensors', 'config.json', 'metrics.jsonl', 'report.html', 'trial-result.json']) assert.ok(existsSync(path.join(dir, file)), `${trial.id}: ${file}`);
    assert.ok(!existsSync(path.join(dir, 'checkpoint')), `${trial.id}: a finished run leaves no resumable checkpoint`);
    const summary = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as RunSummary;
    const record = records.get(trial.id)!;
    assert.equal(summary.samples, 16, 'trains on the other fold');
    assert.deepEqual(summary.settings.split, { folds: 2, fold: trial.split.kind === 'kfold' ? trial.split.fold : -1, seed: 0 });
    assert.equal(summary.settings.seed, trial.seed);
    assert.equal(summary.settings.workers, 1);
    assert.equal(summary.settings.threads, 1);
    // The record holds finetune's evaluations exactly, and finetune's early stopping equals the sweep's replay of the policy.
    assert.deepEqual(record.epochs, summary.evaluations);
    assert.equal(record.bestEpoch, summary.early_stopping.best_epoch);
    const replay = replayEarlyStopping(record.epochs, 'loss', 1);
    assert.equal(record.bestEpoch, replay.bestEpoch);
    assert.equal(record.stoppedEarly, summary.early_stopping.stopped_at_epoch !== undefined);
    if (record.stoppedEarly) stoppedEarly++;
    assert.equal(record.stoppedEarly, replay.stopEpoch !== null && replay.stopEpoch < 4);
    assert.deepEqual(record.metrics, summary.evaluations[record.bestEpoch! - 1]!.metrics);
  }
  assert.ok(stoppedEarly > 0, 'some trials stopped early');
  assert.ok(stoppedEarly < plan.trials.length, 'some ran every epoch');

  const report = readFileSync(path.join(parallel, 'report.html'), 'utf8');
  assert.doesNotMatch(report, /https?:\/\//, 'no URL: the page makes no request');
  assert.doesNotMatch(report, /<script/);
  for (const config of plan.configs) assert.ok(report.includes(config.id));
  assert.equal((report.match(/<polyline /g) ?? []).length, 8, 'one curve per trial');
  assert.ok(report.includes(`href="${['trials', plan.trials[0]!.configId, 'seed-0', 'fold-0', 'report.html'].join('/')}"`));
});

test('sweep --refit: the best config trained on all the data for the median of its best epochs; a re-run skips finished trials', async () => {
  const { serial, sweep } = await sweeps();
  const result = await runCli([...sweep.args, '--out', serial, '--refit']);
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /-s\d-f\d (started|resumed)$/m, 'no trial ran again');
  assert.match(result.stderr, /^\[0\/1\] c[0-9a-f]{10}-refit started$/m);
  const summary = JSON.parse(readFileSync(path.join(serial, 'summary.json'), 'utf8')) as { best: { config: string }; configs: { config: string; bestEpochs: number[] }[] };
  const bestEpochs = [...summary.configs.find((config) => config.config === summary.best.config)!.bestEpochs].sort((a, b) => a - b);
  const median = bestEpochs[Math.floor(bestEpochs.length / 2)]!;
  const refit = path.join(serial, 'refit');
  const run = JSON.parse(readFileSync(path.join(refit, 'summary.json'), 'utf8')) as RunSummary;
  assert.equal(run.samples, 32, 'all the training data');
  assert.equal(run.epochs.length, median);
  assert.equal(run.settings.split, undefined);
  assert.equal(run.settings.seed, 0, 'the first seed');
  assert.ok(existsSync(path.join(refit, 'model.safetensors')));
  assert.match(result.stdout, new RegExp(`^refit: ${summary.best.config}, seed 0, ${median} epochs on all the training data → ${refit.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  assert.match(readFileSync(path.join(serial, 'report.html'), 'utf8'), /href="refit\/report\.html"/);
  // `--out DIR` alone re-attaches to the sweep stored there: everything is done, nothing runs.
  const again = await runCli(['sweep', '--out', serial]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /^8\/8 trials done, 0 running/m);
});

test('sweep: bad flags fail with one line naming the flag, before anything is written', async () => {
  const { dir, sweep } = await sweeps();
  const out = path.join(dir, 'bad');
  const replace = (flag: string, value: string) => {
    const args = [...sweep.args];
    args[args.indexOf(flag) + 1] = value;
    return args;
  };
  const without = (flag: string) => {
    const args = [...sweep.args];
    args.splice(args.indexOf(flag), 2);
    return args;
  };
  const cases: [string[], RegExp][] = [
    [replace('--lr', ''), /^--lr has an empty item at position 1 in ""$/],
    [replace('--seeds', ''), /^--seeds has an empty item at position 1 in ""$/],
    [replace('--metric', 'f1'), /^--metric must be one of accuracy, macro_f1, loss, got "f1"$/],
    [replace('--folds', '1'), /^--folds must be an integer ≥ 2 \(or no folds with a fixed evaluation set\), got 1$/],
    [without('--metric'), /^--patience needs --metric \(the validation metric to stop on\)$/],
    [[...sweep.args, '--eval', sweep.data], /^--folds and --eval exclude each other/],
    [replace('--folds', '40'), /^--folds \(40\) must not exceed the number of samples \(32\): a fold would be empty$/],
    [replace('--micro-batch', '16'), /^--micro-batch \(16\) must be a positive integer not exceeding the batch \(8\)$/],
    [['worker', '--queue', 'http://localhost:6379'], /^--queue must be a redis:\/\/ or rediss:\/\/ URL, got "http:\/\/localhost:6379"$/],
  ];
  for (let i = 0; i < cases.length; i += 2) {
    const batch = cases.slice(i, i + 2);
    const results = await Promise.all(batch.map(([args]) => runCli(args[0] === 'sweep' ? [...args, '--out', out] : args)));
    results.forEach((result, position) => {
      const [args, message] = batch[position]!;
      const lines = result.stderr.split('\n').filter((line) => line !== '');
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(lines.length, 1, `one line for ${args.join(' ')}, got ${JSON.stringify(result.stderr)}`);
      assert.match(lines[0]!.replace(/^microbatch: error: /, ''), message);
      assert.equal(result.stdout, '');
    });
  }
  assert.ok(!existsSync(out), 'nothing written');
});
