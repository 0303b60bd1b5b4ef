/**
 * Shared pieces of the CLI end-to-end tests: running `node bin/microbatch.mjs …` as a child
 * process from the repository root, tiny data files in the tiny test vocabulary, and reading
 * a saved model's weights.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import '@tensorflow/tfjs-backend-cpu';
import { parseSafetensors } from '../../src/core/safetensors.js';
export { tempDir } from '../helpers/tempdir.js';
import { makeTinyCheckpoint, type TinyCheckpointOptions } from '../fixtures/tiny-bert.js';
import { maxRelativeDifference, useBackend } from '../helpers/backend.js';

/** The repository root (tests are compiled to dist/test/cli/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = path.join(REPO_ROOT, 'bin', 'microbatch.mjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Starts the CLI (in the repository root unless `cwd` is given); stdout/stderr are collected.
 * `MICROBATCH_DEBUG` is cleared so errors stay one line.
 */
export function startCli(args: readonly string[], cwd = REPO_ROOT, extraEnv: Record<string, string> = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const env = { ...process.env, ...extraEnv };
  delete env.MICROBATCH_DEBUG;
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function runCli(args: readonly string[], cwd = REPO_ROOT, env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, cwd, env).done;
}


/** Writes a tiny HF checkpoint (50-token vocab, hidden 16, 2 layers) into `dir`. */
export async function tinyModel(dir: string, options: TinyCheckpointOptions = {}): Promise<string> {
  await useBackend('cpu');
  await makeTinyCheckpoint(dir, options);
  return dir;
}

const POSITIVE = ['good', 'great', 'love', 'fun', 'good movie', 'great film', 'i love this', 'fun and good', 'this was great', 'you love it'];
const NEGATIVE = ['bad', 'terrible', 'hate', 'boring', 'bad movie', 'terrible film', 'i hate this', 'boring and bad', 'this was bad', 'not good'];

/** `count` labelled rows in the tiny vocabulary, alternating positive / negative. */
export function sentimentRows(count: number): { text: string; label: string }[] {
  return Array.from({ length: count }, (_, i) => {
    const positive = i % 2 === 0;
    const phrases = positive ? POSITIVE : NEGATIVE;
    const text = `${phrases[Math.floor(i / 2) % phrases.length]}${i % 3 === 0 ? ' !' : i % 3 === 1 ? ' .' : ', the movie'}`;
    return { text, label: positive ? 'positive' : 'negative' };
  });
}

export function writeJsonl(file: string, rows: readonly object[]): string {
  writeFileSync(file, rows.map((row) => JSON.stringify(row) + '\n').join(''));
  return file;
}

/** The F32 tensors of a checkpoint directory's model.safetensors, by name. */
export function readWeights(dir: string): Map<string, Float32Array> {
  const file = path.join(dir, 'model.safetensors');
  const bytes = readFileSync(file);
  const parsed = parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
  const weights = new Map<string, Float32Array>();
  for (const [name, tensor] of parsed.tensors) {
    if (tensor.dtype !== 'F32') throw new Error(`${name}: expected F32, got ${tensor.dtype}`);
    weights.set(name, tensor.data);
  }
  return weights;
}

/**
 * Largest relative difference over all tensors of two checkpoint directories (same names
 * required). `floor` is the magnitude below which differences count as absolute, as in
 * maxRelativeDifference.
 */
export function maxWeightDifference(dirA: string, dirB: string, floor = 1e-6): number {
  const a = readWeights(dirA);
  const b = readWeights(dirB);
  if ([...a.keys()].sort().join() !== [...b.keys()].sort().join()) throw new Error(`${dirA} and ${dirB} hold different tensors`);
  let worst = 0;
  for (const [name, values] of a) worst = Math.max(worst, maxRelativeDifference(values, b.get(name)!, floor));
  return worst;
}

/**
 * How far two trained checkpoints are apart, relative to how far training moved the weights:
 * max |a − b| over all tensors, divided by max |a − initial| over the tensors the initial
 * checkpoint has (a freshly initialised head is not in it). Float32 rounding gives about 1e-6;
 * a different normalisation of any window gives order 1.
 */
export function differenceRelativeToUpdate(initialDir: string, dirA: string, dirB: string): { ratio: number; update: number } {
  const initial = readWeights(initialDir);
  const a = readWeights(dirA);
  const b = readWeights(dirB);
  if ([...a.keys()].sort().join() !== [...b.keys()].sort().join()) throw new Error(`${dirA} and ${dirB} hold different tensors`);
  let difference = 0;
  let update = 0;
  for (const [name, values] of a) {
    const other = b.get(name)!;
    // A bare base checkpoint names its tensors without the family prefix (`embeddings.…`, not `bert.embeddings.…`).
    const start = initial.get(name) ?? initial.get(name.replace(/^[^.]+\./, ''));
    for (let i = 0; i < values.length; i++) {
      difference = Math.max(difference, Math.abs(values[i]! - other[i]!));
      if (start !== undefined) update = Math.max(update, Math.abs(values[i]! - start[i]!));
    }
  }
  return { ratio: difference / update, update };
}
