/**
 * Runs one trial in a child process (trial-process.ts) with one compute thread, and turns whatever
 * happens into a record: the runner's checked result, the runner's error, or the way the process
 * died (exit code or signal, with the end of its log). Nothing is silently dropped: the only
 * outcome without a record is an abort the caller asked for.
 */
import { fork } from 'node:child_process';
import { existsSync, openSync, closeSync, readdirSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkTrialResult, completedRecord, failedRecord } from '../../app/sweep/record.js';
import type { EpochMetrics, RunnerRef, TrialRecord, TrialResult, TrialSpec } from '../../app/sweep/types.js';
import { trialDir } from './files.js';

export type ParentMessage = { type: 'start'; trial: TrialSpec; runner: RunnerRef; outDir: string; resume: boolean } | { type: 'abort'; reason: string };

export type ChildMessage = { type: 'epoch'; epoch: EpochMetrics } | { type: 'result'; result: TrialResult } | { type: 'error'; message: string; aborted: boolean };

/** Each trial's stdout and stderr, appended across attempts, in its directory. */
export const LOG_FILE = 'trial.log';

/**
 * Environment that limits a trial to one compute thread: OpenMP/BLAS pools (tfjs-node's
 * TensorFlow, a native addon) and TensorFlow's own pools. The runner also gets
 * `computeThreads: 1` for backends configured in code (the wasm backend's thread count).
 */
export const ONE_THREAD_ENV: Readonly<Record<string, string>> = {
  OMP_NUM_THREADS: '1',
  OPENBLAS_NUM_THREADS: '1',
  MKL_NUM_THREADS: '1',
  TF_NUM_INTRAOP_THREADS: '1',
  TF_NUM_INTEROP_THREADS: '1',
  MICROBATCH_COMPUTE_THREADS: '1',
};

export interface ExecuteOptions {
  /** The sweep's out dir; the trial runs in its directory under it. */
  outDir: string;
  runner: RunnerRef;
  /** Abort: the child is asked to stop (the runner checkpoints) and killed after `killGraceMs`. */
  signal?: AbortSignal;
  /** Called once the trial process starts; `resume` says whether an earlier attempt left files. */
  onStart?: (resume: boolean, pid: number | undefined) => void;
  onEpoch?: (epoch: EpochMetrics) => void;
  /** How long an aborted trial may take to stop before SIGKILL (default 30 s). */
  killGraceMs?: number;
}

/** A record, or 'aborted' when `signal` stopped the trial before it ended (it resumes next time). */
export type ExecuteOutcome = { kind: 'record'; record: TrialRecord; resumed: boolean } | { kind: 'aborted' };

async function logTail(file: string): Promise<string> {
  try {
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    const last = lines.slice(-3).join(' | ').trim();
    return last === '' ? '' : `; last output: ${last.length > 500 ? '…' + last.slice(-500) : last}`;
  } catch {
    return '';
  }
}

export async function executeTrial(trial: TrialSpec, options: ExecuteOptions): Promise<ExecuteOutcome> {
  const started = Date.now();
  const dir = trialDir(options.outDir, trial);
  // Anything left in the directory is an earlier attempt's: the runner continues from its checkpoint.
  const resume = existsSync(dir) && readdirSync(dir).length > 0;
  await mkdir(dir, { recursive: true });
  if (options.signal?.aborted) return { kind: 'aborted' };
  const logFile = path.join(dir, LOG_FILE);
  const log = openSync(logFile, 'a');
  const child = fork(fileURLToPath(new URL('./trial-process.js', import.meta.url)), [], {
    env: { ...process.env, ...ONE_THREAD_ENV },
    execArgv: [],
    stdio: ['ignore', log, log, 'ipc'],
    serialization: 'advanced',
  });
  closeSync(log);
  options.onStart?.(resume, child.pid);

  let answer: ChildMessage | undefined;
  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const abort = () => {
    aborted = true;
    if (child.connected) child.send({ type: 'abort', reason: 'aborted' } satisfies ParentMessage);
    killTimer = setTimeout(() => child.kill('SIGKILL'), options.killGraceMs ?? 30_000);
  };
  options.signal?.addEventListener('abort', abort, { once: true });
  child.on('message', (message: ChildMessage) => {
    if (message.type === 'epoch') options.onEpoch?.(message.epoch);
    else answer = message;
  });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, spawnError: error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.send({ type: 'start', trial, runner: options.runner, outDir: dir, resume } satisfies ParentMessage);
  });
  options.signal?.removeEventListener('abort', abort);
  clearTimeout(killTimer);
  const durationMs = Date.now() - started;

  if (answer?.type === 'result') {
    try {
      return { kind: 'record', record: completedRecord(trial, checkTrialResult(trial, answer.result), durationMs), resumed: resume };
    } catch (error) {
      return { kind: 'record', record: failedRecord(trial, `the runner's result is invalid: ${(error as Error).message}`, durationMs), resumed: resume };
    }
  }
  if (aborted) return { kind: 'aborted' };
  if (answer?.type === 'error') return { kind: 'record', record: failedRecord(trial, answer.message, durationMs), resumed: resume };
  const how = exit.spawnError
    ? `could not start: ${exit.spawnError.message}`
    : exit.signal !== null
      ? `was killed by ${exit.signal}`
      : `exited with code ${exit.code} before answering`;
  return { kind: 'record', record: failedRecord(trial, `trial process ${how}${await logTail(logFile)}`, durationMs), resumed: resume };
}
