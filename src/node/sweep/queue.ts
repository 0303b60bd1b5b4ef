/**
 * A sweep across machines through BullMQ on Redis.
 *
 * The coordinator (`runSweepQueued`) enqueues one job per trial. A job's id is
 * `<sweep key>.<trial id>`, where the sweep key hashes the plan's id and the out dir, so adding
 * the same trial again is a no-op (BullMQ ignores an add whose job id exists): a re-run of the
 * same sweep re-attaches to its jobs, whatever state they are in, and no trial is ever queued
 * twice. The coordinator then polls the jobs' states, reports progress, and aggregates the
 * records the jobs return (a trial whose result file already exists in the shared out dir is not
 * queued at all). It may exit at any time; the workers go on, and a later coordinator picks up.
 *
 * A worker (`startSweepWorker`) takes jobs, checks each payload (a malformed job fails at once
 * with the reason and the worker goes on), runs the trial in a child process (executor.ts) so
 * its own event loop stays free to renew the job's lock, resumes from the trial's checkpoint
 * when an earlier attempt left one, writes the trial's record to the shared out dir and returns
 * it as the job's result.
 *
 * Failure handling, all BullMQ's own mechanisms:
 * * a worker killed mid-trial stops renewing its lock; after `lockDurationMs` another worker's
 *   stalled-job check (every `stalledIntervalMs`) moves the job back to waiting, and a worker
 *   resumes the trial from its last checkpoint (the killed worker's trial process exits when its
 *   parent's IPC channel closes). Deterministic trials end identical to an uninterrupted run;
 *   the job completes once. A job that stalls more than `maxStalledCount` times fails.
 * * SIGTERM/SIGINT (`closeOnSignals`): running trials are asked to stop (they keep their last
 *   checkpoint), their jobs go back to waiting without counting an attempt, the worker exits.
 * * a lost lock (another worker took the job over) stops the local trial process.
 * * Redis going away: ioredis reconnects (capped backoff) and commands wait for it
 *   (`maxRetriesPerRequest: null`); with Redis persistence on, jobs survive a restart.
 */
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { Queue, UnrecoverableError, WaitingError, Worker, type Job, type RedisOptions } from 'bullmq';
import { ConfigError } from '../../core/errors.js';
import { stableHash } from '../../app/sweep/grid.js';
import type { SweepPlan } from '../../app/sweep/plan.js';
import { planRefit } from '../../app/sweep/plan.js';
import { failedRecord, formatRecord, parseRecordValue, parseTrialJob, type TrialJob } from '../../app/sweep/record.js';
import type { EpochMetrics, RunnerRef, TrialRecord, TrialSpec } from '../../app/sweep/types.js';
import { executeTrial } from './executor.js';
import { claimOutDir, forgetTrialRecord, readTrialRecord, SWEEP_FILE, writeSweepReport, writeTrialRecord } from './files.js';
import type { SweepCounts, SweepEvent, SweepOutcome } from './local.js';

/** Where the jobs live. Workers and coordinators of a sweep must agree on all three. */
export interface QueueTarget {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). */
  url: string;
  /** Queue name (default `microbatch-trials`): one queue serves any number of sweeps. */
  name?: string;
  /** Redis key prefix (default `microbatch`). */
  prefix?: string;
}

export const DEFAULT_QUEUE_NAME = 'microbatch-trials';
export const DEFAULT_PREFIX = 'microbatch';

/**
 * ioredis options for `url`: reconnect forever with a backoff of 100 ms × attempt capped at 2 s
 * (a restarted Redis is found again within 2 s), and let commands wait for the connection instead
 * of failing after 20 retries (`maxRetriesPerRequest: null`, which BullMQ requires for workers).
 */
export function redisOptions(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`must be a redis://host:port URL, got "${url}"`, { field: 'queue' });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new ConfigError(`must be a redis:// or rediss:// URL, got "${url}"`, { field: 'queue' });
  if (parsed.hostname === '') throw new ConfigError(`has no host: "${url}"`, { field: 'queue' });
  return {
    url,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  };
}

function target(queue: QueueTarget): { name: string; prefix: string; connection: RedisOptions } {
  const name = queue.name ?? DEFAULT_QUEUE_NAME;
  if (name.includes(':')) throw new ConfigError(`must not contain ':', got "${name}"`, { field: 'queueName' });
  return { name, prefix: queue.prefix ?? DEFAULT_PREFIX, connection: redisOptions(queue.url) };
}

/**
 * The sweep's identity in the queue: its plan and its out dir (the same sweep run into two out
 * dirs is two sets of jobs, each writing where its coordinator reads).
 */
export function sweepKey(plan: SweepPlan, outDir: string): string {
  return `${plan.id}-${stableHash(path.resolve(outDir)).slice(0, 8)}`;
}

export function jobId(key: string, trial: TrialSpec): string {
  return `${key}.${trial.id}`;
}

// ---------------------------------------------------------------- coordinator

export type QueueSweepEvent = SweepEvent | { type: 'connection'; message: string };

export interface QueuedSweepOptions {
  plan: SweepPlan;
  /** The sweep's out dir: an absolute path that every worker sees (a shared file system). */
  outDir: string;
  queue: QueueTarget;
  /** Run failed trials again (their jobs are retried). */
  retryFailed?: boolean;
  /** How often to look at the jobs (default 1000 ms). */
  pollMs?: number;
  /** Detach: stop waiting (the jobs go on in the workers) and report what has finished. */
  signal?: AbortSignal;
  onEvent?: (event: QueueSweepEvent, counts: SweepCounts) => void;
  /** Attempts per job for trials that fail (default 1: a runner error is a result, not a glitch). Stalls do not count. */
  attempts?: number;
}

/** Runs (or re-attaches to) a sweep through the queue and writes its report to the out dir. */
export async function runSweepQueued(options: QueuedSweepOptions): Promise<SweepOutcome> {
  const { plan, outDir } = options;
  if (!path.isAbsolute(outDir)) throw new ConfigError(`must be an absolute path that every worker sees, got "${outDir}"`, { field: 'out' });
  await claimOutDir(outDir, plan);
  const records = await awaitTrials(plan.trials, options);
  const report = await writeSweepReport(outDir, plan, [...records.values()]);
  return { ...report, plan, finished: records.size === plan.trials.length };
}

/** Retrains the best config of a finished sweep as one more job (see `refitBest` in local.ts). */
export async function refitBestQueued(outcome: SweepOutcome, options: Omit<QueuedSweepOptions, 'plan'>): Promise<TrialRecord | undefined> {
  if (outcome.best === null) throw new ConfigError('no config is eligible (see summary.json), so there is nothing to refit', { field: 'refit' });
  const trial = planRefit(outcome.plan, outcome.best.config, outcome.best.bestEpochs);
  const records = await awaitTrials([trial], { ...options, plan: outcome.plan });
  return records.get(trial.id);
}

async function awaitTrials(trials: readonly TrialSpec[], options: QueuedSweepOptions): Promise<Map<string, TrialRecord>> {
  const { plan, outDir } = options;
  const { name, prefix, connection } = target(options.queue);
  const key = sweepKey(plan, outDir);
  const counts: SweepCounts = { total: trials.length, completed: 0, failed: 0, running: 0 };
  const emit = (event: QueueSweepEvent) => options.onEvent?.(event, { ...counts });
  const records = new Map<string, TrialRecord>();
  const settle = (trial: TrialSpec, record: TrialRecord) => {
    records.set(trial.id, record);
    if (record.status === 'completed') counts.completed++;
    else counts.failed++;
  };

  const queue = new Queue(name, { connection, prefix });
  let lastConnectionError = '';
  queue.on('error', (error: Error) => {
    // One report per distinct message: a Redis restart would otherwise repeat it every retry.
    if (error.message !== lastConnectionError) emit({ type: 'connection', message: error.message });
    lastConnectionError = error.message;
  });
  try {
    const toQueue: TrialSpec[] = [];
    for (const trial of trials) {
      const record = await readTrialRecord(outDir, trial);
      if (record !== undefined && !(record.status === 'failed' && options.retryFailed === true)) {
        settle(trial, record);
        emit({ type: 'skipped', trial, record });
      } else {
        if (record !== undefined) await forgetTrialRecord(outDir, trial);
        toQueue.push(trial);
      }
    }
    const jobOptions = { attempts: options.attempts ?? 1, removeOnComplete: false, removeOnFail: false };
    const enqueue = (pending: TrialSpec[]) =>
      queue.addBulk(
        pending.map((trial) => ({
          name: 'trial',
          data: { version: 1, sweep: key, outDir, trial } satisfies TrialJob,
          opts: { ...jobOptions, jobId: jobId(key, trial) },
        })),
      );
    await enqueue(toQueue);
    if (options.retryFailed === true) {
      for (const trial of toQueue) {
        const job = await queue.getJob(jobId(key, trial));
        if (job !== undefined && (await job.getState()) === 'failed') await job.retry('failed');
      }
    }

    const active = new Set<string>();
    const progress = new Map<string, number>();
    while (records.size < trials.length && options.signal?.aborted !== true) {
      try {
        const missing: TrialSpec[] = [];
        let running = 0;
        for (const trial of trials) {
          if (records.has(trial.id)) continue;
          // State first, then the job: a job read before it completes would lack its result.
          const id = jobId(key, trial);
          const state = await queue.getJobState(id);
          const job = state === 'unknown' ? undefined : await queue.getJob(id);
          if (job === undefined) {
            missing.push(trial);
            continue;
          }
          if (state === 'completed') {
            const fromJob = recordFromJob(trial, job);
            // An unreadable job result falls back to the record the worker wrote to the shared out dir.
            const record =
              typeof fromJob !== 'string' ? fromJob : ((await readTrialRecord(outDir, trial).catch(() => undefined)) ?? failedRecord(trial, fromJob, jobDuration(job)));
            await writeTrialRecord(outDir, trial, record);
            settle(trial, record);
            emit({ type: 'finished', trial, record });
          } else if (state === 'failed') {
            const record = failedRecord(trial, job.failedReason || 'the job failed without a reason', jobDuration(job));
            await writeTrialRecord(outDir, trial, record);
            settle(trial, record);
            emit({ type: 'finished', trial, record });
          } else if (state === 'active') {
            running++;
            if (!active.has(trial.id)) {
              active.add(trial.id);
              emit({ type: 'started', trial, resume: job.attemptsStarted > 1 });
            }
            const epoch = epochOf(job.progress);
            if (epoch !== undefined && epoch.epoch !== progress.get(trial.id)) {
              progress.set(trial.id, epoch.epoch);
              emit({ type: 'epoch', trial, epoch });
            }
          } else {
            active.delete(trial.id);
          }
        }
        counts.running = running;
        // A job removed from Redis (by hand, or a Redis without persistence restarted) is queued again.
        if (missing.length > 0) await enqueue(missing);
        lastConnectionError = '';
      } catch (error) {
        emit({ type: 'connection', message: (error as Error).message });
      }
      if (records.size < trials.length) await sleep(options.pollMs ?? 1000, options.signal);
    }
    return records;
  } finally {
    await queue.close();
  }
}

function jobDuration(job: Job): number {
  return job.finishedOn !== undefined && job.processedOn !== undefined ? Math.max(0, job.finishedOn - job.processedOn) : 0;
}

/** The record a completed job returned, or why it cannot be read. */
function recordFromJob(trial: TrialSpec, job: Job): TrialRecord | string {
  try {
    const record = parseRecordValue(job.returnvalue, { file: `job ${job.id} result` });
    if (record.trial !== trial.id) throw new Error(`it is the record of trial ${record.trial}`);
    return record;
  } catch (error) {
    return `the job's result is invalid: ${(error as Error).message}`;
  }
}

function epochOf(progress: unknown): EpochMetrics | undefined {
  if (progress === null || typeof progress !== 'object') return undefined;
  const { epoch, metrics } = progress as { epoch?: unknown; metrics?: unknown };
  if (typeof epoch !== 'number' || metrics === null || typeof metrics !== 'object') return undefined;
  return { epoch, metrics: Object.fromEntries(Object.entries(metrics).map(([name, value]) => [name, typeof value === 'number' ? value : NaN])) };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

// ---------------------------------------------------------------- worker

export type WorkerEvent =
  | { type: 'ready' }
  | { type: 'started'; job: string; trial: string; resume: boolean; pid: number | undefined }
  | { type: 'epoch'; job: string; trial: string; epoch: number }
  | { type: 'completed'; job: string; trial: string; reused: boolean }
  | { type: 'failed'; job: string; reason: string }
  | { type: 'returned'; job: string; trial: string }
  | { type: 'lock-lost'; job: string }
  | { type: 'error'; message: string }
  | { type: 'closed' };

export interface SweepWorkerOptions {
  queue: QueueTarget;
  runner: RunnerRef;
  /** Trials at a time, each in its own process (default: os.availableParallelism()). */
  concurrency?: number;
  /**
   * How long a job's lock lasts without renewal (default 30 s, renewed every half). A worker
   * that dies is noticed this long after its last renewal. The trial computes in a child
   * process, so renewals are never starved by the computation: only a dead worker or a Redis
   * outage longer than this lets a lock lapse.
   */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs of dead workers (default 30 s). */
  stalledIntervalMs?: number;
  /** Stalls a job survives before it fails (default 3: a trial may lose three workers). */
  maxStalledCount?: number;
  /** Grace for a stopping trial to checkpoint before it is killed (default 20 s, under Kubernetes' default 30 s). */
  killGraceMs?: number;
  onEvent?: (event: WorkerEvent) => void;
}

export interface SweepWorker {
  readonly worker: Worker;
  /** Stops taking jobs, returns running trials to the queue (they keep their checkpoints) and disconnects. */
  close(): Promise<void>;
}

export async function startSweepWorker(options: SweepWorkerOptions): Promise<SweepWorker> {
  const { name, prefix, connection } = target(options.queue);
  const emit = (event: WorkerEvent) => options.onEvent?.(event);
  let shuttingDown = false;

  const processor = async (job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<unknown> => {
    let data: TrialJob;
    try {
      data = parseTrialJob(job.data, { file: `job ${job.id}` });
      if (job.id !== jobId(data.sweep, data.trial)) throw new Error(`job id must be ${jobId(data.sweep, data.trial)} (sweep.trial), got ${job.id}`);
    } catch (error) {
      throw new UnrecoverableError(`malformed job: ${(error as Error).message}`);
    }
    const { trial, outDir } = data;
    if (!existsSync(path.join(outDir, SWEEP_FILE))) {
      throw new UnrecoverableError(`${outDir} is not a sweep's out dir on ${os.hostname()}: every worker must see the out dir at the same path`);
    }
    const done = await readTrialRecord(outDir, trial);
    if (done?.status === 'completed') {
      // An earlier attempt finished the trial but its job was not marked completed (worker killed in between).
      emit({ type: 'completed', job: job.id!, trial: trial.id, reused: true });
      return JSON.parse(formatRecord(done));
    }
    const outcome = await executeTrial(trial, {
      outDir,
      runner: options.runner,
      ...(signal !== undefined ? { signal } : {}),
      killGraceMs: options.killGraceMs ?? 20_000,
      onStart: (resume, pid) => emit({ type: 'started', job: job.id!, trial: trial.id, resume, pid }),
      onEpoch: (epoch) => {
        emit({ type: 'epoch', job: job.id!, trial: trial.id, epoch: epoch.epoch });
        const metrics = Object.fromEntries(Object.entries(epoch.metrics).map(([metric, value]) => [metric, Number.isFinite(value) ? value : null]));
        // Progress is cosmetic: a Redis hiccup must not fail the trial.
        job.updateProgress({ epoch: epoch.epoch, metrics }).catch(() => {});
      },
    });
    if (outcome.kind === 'aborted') {
      if (shuttingDown) {
        await job.moveToWait(token);
        emit({ type: 'returned', job: job.id!, trial: trial.id });
        throw new WaitingError();
      }
      throw new Error('the trial was stopped: this worker lost the job lock (another worker took the trial over)');
    }
    if (outcome.record.status === 'failed') throw new Error(outcome.record.error);
    await writeTrialRecord(outDir, trial, outcome.record);
    emit({ type: 'completed', job: job.id!, trial: trial.id, reused: false });
    return JSON.parse(formatRecord(outcome.record));
  };

  const worker = new Worker(name, processor, {
    connection,
    prefix,
    concurrency: options.concurrency ?? os.availableParallelism(),
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: options.maxStalledCount ?? 3,
    autorun: false,
  });
  let lastError = '';
  worker.on('error', (error: Error) => {
    if (error.message !== lastError) emit({ type: 'error', message: error.message });
    lastError = error.message;
  });
  worker.on('failed', (job: Job | undefined, error: Error) => {
    if (job !== undefined && error.name !== 'WaitingError') emit({ type: 'failed', job: job.id!, reason: error.message });
  });
  worker.on('lockRenewalFailed', (jobIds: string[]) => {
    for (const id of jobIds) {
      emit({ type: 'lock-lost', job: id });
      worker.cancelJob(id, 'lock lost');
    }
  });
  void worker.run().catch((error: Error) => emit({ type: 'error', message: error.message }));
  await worker.waitUntilReady();
  emit({ type: 'ready' });

  let closing: Promise<void> | undefined;
  return {
    worker,
    close() {
      closing ??= (async () => {
        shuttingDown = true;
        worker.cancelAllJobs('shutdown');
        await worker.close();
        emit({ type: 'closed' });
      })();
      return closing;
    },
  };
}

/**
 * Closes the worker gracefully on the first SIGTERM or SIGINT (running trials go back to the
 * queue with their checkpoints) and exits; a second signal exits at once.
 */
export function closeOnSignals(sweepWorker: SweepWorker, signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
  let received = false;
  const handler = (signal: NodeJS.Signals) => {
    if (received) process.exit(signal === 'SIGINT' ? 130 : 143);
    received = true;
    sweepWorker.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  for (const signal of signals) process.on(signal, handler);
}
