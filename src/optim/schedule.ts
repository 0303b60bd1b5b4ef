/**
 * Learning-rate schedules as multipliers of the base LR (docs/design.md §4), identical to Hugging Face's
 * `get_constant_schedule`, `get_linear_schedule_with_warmup` and
 * `get_cosine_schedule_with_warmup(num_cycles=0.5)` used through `LambdaLR`: the LR of optimizer
 * step s (0-based) is lr × lrMultiplier(kind, s, warmupSteps, totalSteps).
 */
import { ConfigError } from '../core/errors.js';
import type { ScheduleKind } from './types.js';

export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['constant', 'linear', 'cosine'];

export interface ScheduleOptions {
  kind: ScheduleKind;
  /** Steps of linear warm-up from 0 (ignored by `constant`, as in HF's get_constant_schedule). */
  warmupSteps: number;
  /** Total optimizer steps of the run: epochs × windows per epoch. */
  totalSteps: number;
}

/** Throws a ConfigError naming the bad field: unknown kind, negative or non-integer step counts. */
export function validateSchedule(options: ScheduleOptions): void {
  if (!SCHEDULE_KINDS.includes(options.kind)) {
    throw new ConfigError(`schedule must be one of ${SCHEDULE_KINDS.join(', ')}, got ${JSON.stringify(options.kind)}`);
  }
  checkCount('warmupSteps', options.warmupSteps);
  checkCount('totalSteps', options.totalSteps);
}

/**
 * The multiplier at 0-based step `step`. Warm-up is s/w; afterwards `linear` is (T−s)/(T−w)
 * clamped at 0 and `cosine` is 0.5(1 + cos(π(s−w)/(T−w))), with HF's max(1, …) guards so
 * w = 0 and T = w do not divide by zero. Steps past T follow HF too (linear stays 0, the
 * half-cosine continues).
 */
export function lrMultiplier(kind: ScheduleKind, step: number, warmupSteps: number, totalSteps: number): number {
  validateSchedule({ kind, warmupSteps, totalSteps });
  checkCount('step', step);
  if (kind === 'constant') return 1;
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  if (kind === 'linear') return Math.max(0, (totalSteps - step) / decaySteps);
  const progress = (step - warmupSteps) / decaySteps;
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}

function checkCount(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(`${field} must be an integer ≥ 0, got ${String(value)}`);
  }
}
