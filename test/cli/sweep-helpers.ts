/**
 * Shared pieces of the `sweep` / `worker` CLI tests: one small real sweep (the tiny test model,
 * 2 configs × 2 seeds × 2 folds, early stopping on the validation loss), CLI processes whose
 * stderr a test watches while they run, and sweep.jsonl without its timing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseSweepJsonl, withoutTiming } from '../../src/app/sweep/record.js';
import { CLI, REPO_ROOT, sentimentRows, tinyModel, writeJsonl } from './helpers.js';

export interface SmallSweep {
  model: string;
  data: string;
  /** The sweep's flags without --out. */
  args: string[];
}

/**
 * 32 rows, 2 folds: 16 training rows per trial, 4 epochs at most, patience 1 on the loss; learning
 * rates 0.3 and 2 (the second makes the loss jump, so trials stop early at different epochs).
 */
export async function smallSweep(dir: string): Promise<SmallSweep> {
  const model = await tinyModel(path.join(dir, 'model'), { randomWeights: true });
  const data = writeJsonl(path.join(dir, 'train.jsonl'), sentimentRows(32));
  const args = ['sweep', '--data', data, '--model', model, '--seeds', '0-1', '--folds', '2', '--lr', '0.3,2', '--epochs', '4', '--batch', '8', '--micro-batch', '4', '--metric', 'loss', '--patience', '1', '--backend', 'wasm'];
  return { model, data, args };
}

/** sweep.jsonl of `outDir`, every field but durationMs. */
export function sweepLines(outDir: string) {
  return parseSweepJsonl(readFileSync(path.join(outDir, 'sweep.jsonl'), 'utf8'), 'sweep.jsonl').map(withoutTiming);
}

/** A CLI process whose output a test reads while it runs. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly label: string,
    args: readonly string[],
  ) {
    const env = { ...process.env };
    delete env.MICROBATCH_DEBUG;
    this.child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once('close', (code, signal) => resolve({ code, signal })));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get lines(): string[] {
    return this.stderr.split('\n');
  }

  async stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }
}

export async function until(condition: () => boolean, timeoutMs: number, what: string, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
