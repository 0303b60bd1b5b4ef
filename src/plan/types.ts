/** How the last, partial window of an epoch is handled (docs/design.md §3). */
export type RemainderPolicy = 'step' | 'balance' | 'drop';
export const REMAINDER_POLICIES: readonly RemainderPolicy[] = ['step', 'balance', 'drop'];

export interface PlanOptions {
  /** Number of samples N (≥ 1). */
  size: number;
  /** Samples per forward/backward (≥ 1). */
  microBatch: number;
  /** Samples per optimizer step, the effective batch (≥ microBatch). */
  batch: number;
  /** Default 'step'. */
  remainder?: RemainderPolicy;
  /** Seed of the per-epoch permutation. Default 0. */
  seed?: number;
  /** 0-based epoch number; the permutation depends on (seed, epoch) only. */
  epoch: number;
  /** Default true; false gives the identity permutation. */
  shuffle?: boolean;
}

/** One optimizer step: consecutive samples of the permutation, cut into micro-batches. */
export interface Window {
  /** 0-based index of the window inside its epoch. */
  index: number;
  /** Sample indices of the window, in permutation order. */
  samples: number[];
  /** `samples` cut into consecutive micro-batches of `microBatch`, the last one smaller. */
  microBatches: number[][];
}

export interface EpochPlan {
  epoch: number;
  size: number;
  permutation: number[];
  windows: Window[];
  /** Samples left out by `drop` (empty for `step` and `balance`). */
  dropped: number[];
  /** windows.map(w => w.samples.length) */
  windowSizes: number[];
  /** = windows.length: optimizer steps this epoch. */
  steps: number;
}
