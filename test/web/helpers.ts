/**
 * Shared by the web page's tests: `npm run web`'s server as a child process on a free port,
 * Debian's Chromium (test/app/report-fixture.ts launches it), the CLI as a child process with a
 * chosen environment, and checkpoint weights compared tensor by tensor.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { SafetensorsTensor } from '../../src/core/safetensors.js';
import { REPO_ROOT } from '../app/report-fixture.js';

export interface WebServer {
  url: string;
  /** Everything the server printed on stdout. */
  output: string;
  close(): Promise<void>;
}

/** Starts `node scripts/web.mjs --port 0 …` and resolves with the URL it prints. */
export function startWebServer(args: readonly string[] = []): Promise<WebServer> {
  const child: ChildProcess = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts', 'web.mjs'), '--port', '0', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let errors = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the web server printed no URL within 60 s: ${output}${errors}`)), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the web server exited with ${code}: ${errors}`));
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = /^microbatch web: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        url: match[1]!,
        get output() {
          return output;
        },
        close: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

export { runCli, type CliResult } from '../cli/helpers.js';

/** Collects what would make a page suspicious: console errors and uncaught exceptions. */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return problems;
}

export interface WeightDifference {
  tensors: number;
  parameters: number;
  /** Parameters whose float32 values are bit-identical. */
  identical: number;
  maxAbsolute: number;
  /** max |a − b| / max(|a|, floor) over every parameter. */
  maxRelative: number;
  /** The tensor and index of the largest relative difference. */
  worst?: string;
}

/**
 * Every parameter of two checkpoints compared. The relative difference of an element is taken
 * against max(|a|, floor): a weight that is ~0 (a zero-initialised bias after one small step)
 * has no meaningful relative error, and `floor` says what counts as ~0.
 */
export function compareWeights(expected: ReadonlyMap<string, SafetensorsTensor>, actual: ReadonlyMap<string, SafetensorsTensor>, floor: number): WeightDifference {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), 'the same tensor names');
  const result: WeightDifference = { tensors: expected.size, parameters: 0, identical: 0, maxAbsolute: 0, maxRelative: 0 };
  for (const [name, tensor] of expected) {
    const other = actual.get(name)!;
    assert.deepEqual(other.shape, tensor.shape, `${name}: shape`);
    const a = tensor.data as Float32Array;
    const b = other.data as Float32Array;
    for (let index = 0; index < a.length; index++) {
      const difference = Math.abs(a[index]! - b[index]!);
      result.parameters += 1;
      if (Object.is(a[index], b[index])) result.identical += 1;
      result.maxAbsolute = Math.max(result.maxAbsolute, difference);
      const relative = difference / Math.max(Math.abs(a[index]!), floor);
      if (relative > result.maxRelative) {
        result.maxRelative = relative;
        result.worst = `${name}[${index}]`;
      }
    }
  }
  return result;
}
