/**
 * The epoch planner (docs/design.md §3): a seeded permutation cut into windows (one optimizer step
 * each) by the remainder policy, and each window cut into micro-batches.
 */
import { ConfigError } from '../core/errors.js';
import { epochPermutation } from './permutation.js';
import { REMAINDER_POLICIES, type EpochPlan, type PlanOptions, type RemainderPolicy, type Window } from './types.js';

/** Throws a ConfigError naming the first bad field of `opts`. */
export function validatePlanOptions(opts: PlanOptions): void {
  checkSize(opts.size);
  checkPositiveInteger('microBatch', opts.microBatch);
  checkPositiveInteger('batch', opts.batch);
  if (opts.batch < opts.microBatch) {
    throw new ConfigError(`batch (${opts.batch}) must be at least microBatch (${opts.microBatch})`);
  }
  if (opts.remainder !== undefined) checkRemainder(opts.remainder);
  if (!Number.isSafeInteger(opts.epoch) || opts.epoch < 0) {
    throw new ConfigError(`epoch must be an integer ≥ 0, got ${describe(opts.epoch)}`);
  }
  if (opts.seed !== undefined && (typeof opts.seed !== 'number' || !Number.isFinite(opts.seed))) {
    throw new ConfigError(`seed must be a finite number, got ${describe(opts.seed)}`);
  }
  if (opts.shuffle !== undefined && typeof opts.shuffle !== 'boolean') {
    throw new ConfigError(`shuffle must be a boolean, got ${describe(opts.shuffle)}`);
  }
}

/**
 * Sizes of the windows of an epoch of `size` samples:
 * `step` → full windows then the remainder; `balance` → K = ceil(size/batch) windows whose
 * sizes differ by at most one (larger ones first); `drop` → full windows only.
 */
export function windowSizes(size: number, batch: number, remainder: RemainderPolicy = 'step'): number[] {
  checkSize(size);
  checkPositiveInteger('batch', batch);
  checkRemainder(remainder);
  const fullWindows = Math.floor(size / batch);
  const leftover = size % batch;
  switch (remainder) {
    case 'step':
      return leftover === 0 ? new Array<number>(fullWindows).fill(batch) : [...new Array<number>(fullWindows).fill(batch), leftover];
    case 'drop':
      return new Array<number>(fullWindows).fill(batch);
    case 'balance': {
      const windowCount = Math.ceil(size / batch);
      const smaller = Math.floor(size / windowCount);
      const largerCount = size % windowCount;
      return Array.from({ length: windowCount }, (_, index) => (index < largerCount ? smaller + 1 : smaller));
    }
  }
}

/** Optimizer steps per epoch (= number of windows); what LR schedules count. */
export function stepsPerEpoch(size: number, batch: number, remainder: RemainderPolicy = 'step'): number {
  checkSize(size);
  checkPositiveInteger('batch', batch);
  checkRemainder(remainder);
  return remainder === 'drop' ? Math.floor(size / batch) : Math.ceil(size / batch);
}

/** The full plan of one epoch: permutation, windows with their micro-batches, dropped samples. */
export function planEpoch(opts: PlanOptions): EpochPlan {
  validatePlanOptions(opts);
  const remainder = opts.remainder ?? 'step';
  const permutation = epochPermutation(opts.size, opts.seed ?? 0, opts.epoch, opts.shuffle ?? true);
  const sizes = windowSizes(opts.size, opts.batch, remainder);
  const windows: Window[] = [];
  let start = 0;
  for (const [index, windowSize] of sizes.entries()) {
    const samples = permutation.slice(start, start + windowSize);
    const microBatches: number[][] = [];
    for (let offset = 0; offset < samples.length; offset += opts.microBatch) {
      microBatches.push(samples.slice(offset, offset + opts.microBatch));
    }
    windows.push({ index, samples, microBatches });
    start += windowSize;
  }
  return {
    epoch: opts.epoch,
    size: opts.size,
    permutation,
    windows,
    // Only `drop` leaves samples over: the tail of the permutation.
    dropped: permutation.slice(start),
    windowSizes: sizes,
    steps: windows.length,
  };
}

function checkSize(size: unknown): void {
  if (size === 0) throw new ConfigError('size must be at least 1: the dataset is empty');
  checkPositiveInteger('size', size);
}

function checkPositiveInteger(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(`${field} must be a positive integer, got ${describe(value)}`);
  }
}

function checkRemainder(remainder: unknown): asserts remainder is RemainderPolicy {
  if (!REMAINDER_POLICIES.includes(remainder as RemainderPolicy)) {
    throw new ConfigError(`remainder must be one of ${REMAINDER_POLICIES.join(', ')}, got ${describe(remainder)}`);
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
