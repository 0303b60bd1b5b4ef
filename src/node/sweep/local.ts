/**
 * A sweep on this machine: up to `parallel` trials at a time (default: the number of cores), each
 * in its own process with one compute thread. The result does not depend on the parallelism or on
 * which trial finishes first: each trial's record is a function of its spec (the runner is
 * deterministic), written under the trial's id, and the report is built in trial order.
 *
 * Re-running into the same out dir skips trials with a record (completed, or failed unless
 * `retryFailed`) and resumes the others from their checkpoint.
 */
import os from 'node:os';
import type { SweepPlan } from '../../app/sweep/plan.js';
import { planRefit } from '../../app/sweep/plan.js';
import type { EpochMetrics, RunnerRef, TrialRecord, TrialSpec } from '../../app/sweep/types.js';
import { ConfigError } from '../../core/errors.js';
import { executeTrial } from './executor.js';
import { claimOutDir, forgetTrialRecord, readTrialRecord, writeSweepReport, writeTrialRecord, type SweepReport } from './files.js';

/** What happened, for a progress display or a log. */
export type SweepEvent =
  | { type: 'skipped'; trial: TrialSpec; record: TrialRecord }
  | { type: 'started'; trial: TrialSpec; resume: boolean }
  | { type: 'epoch'; trial: TrialSpec; epoch: EpochMetrics }
  | { type: 'finished'; trial: TrialSpec; record: TrialRecord };

export interface SweepCounts {
  total: number;
  completed: number;
  failed: number;
  running: number;
}

export interface SweepOutcome extends SweepReport {
  plan: SweepPlan;
  /** False when stopped by `signal` (or detached, for a queued sweep) before every trial ended. */
  finished: boolean;
}

export interface LocalSweepOptions {
  plan: SweepPlan;
  /** The sweep's out dir (created if missing). */
  outDir: string;
  runner: RunnerRef;
  /** Trials at a time (default: os.availableParallelism()). */
  parallel?: number;
  /** Run trials again whose record says failed (default: keep their record). */
  retryFailed?: boolean;
  /** Stops starting trials and asks running ones to stop; they resume on the next run. */
  signal?: AbortSignal;
  onEvent?: (event: SweepEvent, counts: SweepCounts) => void;
  /** Grace for an aborted trial to stop before it is killed (default 30 s). */
  killGraceMs?: number;
}

export async function runSweepLocal(options: LocalSweepOptions): Promise<SweepOutcome> {
  const { plan, outDir } = options;
  const parallel = options.parallel ?? os.availableParallelism();
  if (!Number.isSafeInteger(parallel) || parallel < 1) throw new ConfigError(`must be a positive integer, got ${parallel}`, { field: 'parallel' });
  await claimOutDir(outDir, plan);
  const records = new Map<string, TrialRecord>();
  const counts: SweepCounts = { total: plan.trials.length, completed: 0, failed: 0, running: 0 };
  const emit = (event: SweepEvent) => options.onEvent?.(event, { ...counts });
  const count = (record: TrialRecord) => (record.status === 'completed' ? counts.completed++ : counts.failed++);

  const pending: TrialSpec[] = [];
  for (const trial of plan.trials) {
    const record = await readTrialRecord(outDir, trial);
    if (record !== undefined && !(record.status === 'failed' && options.retryFailed === true)) {
      records.set(trial.id, record);
      count(record);
      emit({ type: 'skipped', trial, record });
    } else {
      if (record !== undefined) await forgetTrialRecord(outDir, trial);
      pending.push(trial);
    }
  }

  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < pending.length && options.signal?.aborted !== true) {
      const trial = pending[next++]!;
      const record = await runOne(trial, options, counts, emit);
      if (record === undefined) continue;
      records.set(trial.id, record);
      count(record);
      emit({ type: 'finished', trial, record });
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, pending.length) }, lane));

  const report = await writeSweepReport(outDir, plan, [...records.values()]);
  return { ...report, plan, finished: records.size === plan.trials.length };
}

/** Runs one trial and stores its record; undefined when aborted. */
async function runOne(trial: TrialSpec, options: LocalSweepOptions, counts: SweepCounts, emit: (event: SweepEvent) => void): Promise<TrialRecord | undefined> {
  counts.running++;
  try {
    const outcome = await executeTrial(trial, {
      outDir: options.outDir,
      runner: options.runner,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
      onStart: (resume) => emit({ type: 'started', trial, resume }),
      onEpoch: (epoch) => emit({ type: 'epoch', trial, epoch }),
    });
    if (outcome.kind === 'aborted') return undefined;
    await writeTrialRecord(options.outDir, trial, outcome.record);
    return outcome.record;
  } finally {
    counts.running--;
  }
}

export interface RefitOptions {
  outDir: string;
  runner: RunnerRef;
  signal?: AbortSignal;
  onEvent?: (event: SweepEvent, counts: SweepCounts) => void;
}

/**
 * Retrains the best config of a finished sweep on all the training data (OUT/refit/), for the
 * median of its trials' best epochs. Returns the refit's record (undefined if aborted); a refit
 * already done is not repeated.
 */
export async function refitBest(outcome: SweepOutcome, options: RefitOptions): Promise<TrialRecord | undefined> {
  if (outcome.best === null) throw new ConfigError('no config is eligible (see summary.json), so there is nothing to refit', { field: 'refit' });
  const trial = planRefit(outcome.plan, outcome.best.config, outcome.best.bestEpochs);
  const done = await readTrialRecord(options.outDir, trial);
  if (done?.status === 'completed') return done;
  const counts: SweepCounts = { total: 1, completed: 0, failed: 0, running: 0 };
  return runOne(trial, { plan: outcome.plan, ...options }, counts, (event) => options.onEvent?.(event, { ...counts }));
}
