import { readFileSync } from 'node:fs';
import path from 'node:path';
import { planSweep, type SweepInput } from '../../../src/app/sweep/plan.js';
import { parseSweepJsonl, withoutTiming } from '../../../src/app/sweep/record.js';
import { runnerRef } from '../../../src/node/sweep/runner.js';
import type { TestRunnerOptions } from '../../fixtures/sweep-trial.js';

/**
 * 2 configs × 2 seeds × 2 folds = 8 trials of the test runner, early stopping on accuracy. Small
 * because every trial is a process, and a Node process takes about half a second to start here.
 */
export const SMALL_SWEEP: SweepInput = {
  grid: [['lr', [0.05, 0.8]]],
  base: { epochs: 6, batch: 8 },
  seeds: [0, 1],
  folds: 2,
  metric: 'accuracy',
  patience: 2,
};

export const smallPlan = () => planSweep(SMALL_SWEEP);

export function testRunner(options: TestRunnerOptions = {}) {
  return runnerRef(new URL('../../fixtures/sweep-trial.js', import.meta.url), 'createTestRunner', options);
}

/** sweep.jsonl of `outDir` without timing, for comparing sweeps run differently. */
export function sweepLines(outDir: string) {
  return parseSweepJsonl(readFileSync(path.join(outDir, 'sweep.jsonl'), 'utf8'), 'sweep.jsonl').map(withoutTiming);
}

export function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}
