/**
 * The per-epoch ledger: which windows were applied or skipped, with their losses, so a run
 * can prove (and report) that every sample was trained on exactly once, dropped by `drop`,
 * or skipped by an overflowing loss scaler — never silently lost.
 */
import { CheckpointError, MicrobatchError } from '../core/errors.js';
import type { EpochPlan } from './types.js';

/** The ledger was used inconsistently (a window recorded twice, an unknown window) or does not add up. */
export class LedgerError extends MicrobatchError {}

/** One epoch's entry of summary.json (`FinetuneSummary.epochs` in src/node/finetune.ts), plus `skipped_samples`. */
export interface EpochSummary {
  /** 1-based, as users count epochs. */
  epoch: number;
  /** Samples in applied windows. */
  samples_seen: number;
  /** Planned window sizes, in order. */
  windows: number[];
  /** Optimizer steps applied. */
  steps: number;
  /** Windows whose update was skipped (non-finite gradients under the `skip` policy). */
  skipped_steps: number;
  /** Samples left out by the `drop` policy. */
  dropped_samples: number;
  /** Samples of skipped windows. */
  skipped_samples: number;
  /** Item-weighted mean loss over applied windows (Σ loss sums / Σ item counts), null if none. */
  loss: number | null;
}

/** A window's outcome as serialised; loss sums that are not finite are written as null. */
export type WindowRecordJSON = { status: 'applied'; lossSum: number | null; itemCount: number } | { status: 'skipped' };

/** Serialised ledger: enough to check it belongs to the plan it is restored against. */
export interface EpochLedgerJSON {
  /** 0-based, as in EpochPlan. */
  epoch: number;
  size: number;
  windowSizes: number[];
  /** One entry per window, null while the window is pending. */
  windows: (WindowRecordJSON | null)[];
}

type WindowRecord = { status: 'applied'; lossSum: number; itemCount: number } | { status: 'skipped' };

export class EpochLedger {
  private readonly records: (WindowRecord | undefined)[];

  constructor(readonly plan: EpochPlan) {
    this.records = new Array<WindowRecord | undefined>(plan.windows.length).fill(undefined);
  }

  /**
   * Records an applied optimizer step for window `windowIndex`: `lossSum` is the sum of its
   * per-item losses, `itemCount` the window's item count (samples or non-ignored tokens).
   * A non-finite `lossSum` is kept as is so a diverging run shows a NaN loss, not a made-up one.
   */
  recordStep(windowIndex: number, lossSum: number, itemCount: number): void {
    this.checkPending(windowIndex);
    if (typeof lossSum !== 'number') throw new LedgerError(`loss sum of window ${windowIndex} must be a number, got ${String(lossSum)}`);
    if (!Number.isSafeInteger(itemCount) || itemCount < 0) {
      throw new LedgerError(`item count of window ${windowIndex} must be an integer ≥ 0, got ${String(itemCount)}`);
    }
    this.records[windowIndex] = { status: 'applied', lossSum, itemCount };
  }

  /** Records that window `windowIndex` was not applied; its samples count as skipped, not seen. */
  recordSkipped(windowIndex: number): void {
    this.checkPending(windowIndex);
    this.records[windowIndex] = { status: 'skipped' };
  }

  /** True once window `windowIndex` has been applied or skipped. */
  isWindowDone(windowIndex: number): boolean {
    this.checkIndex(windowIndex);
    return this.records[windowIndex] !== undefined;
  }

  /**
   * Throws a LedgerError unless the epoch adds up: every sample index 0..size-1 is in exactly
   * one window or in `dropped`, each window's micro-batches are its samples in order, and every
   * window has been applied or skipped.
   */
  verify(): void {
    const { plan } = this;
    const label = `epoch ${plan.epoch + 1}`;
    const owner = new Array<string | undefined>(plan.size).fill(undefined);
    const claim = (sample: number, place: string): void => {
      if (!Number.isInteger(sample) || sample < 0 || sample >= plan.size) {
        throw new LedgerError(`${label}: ${place} holds ${sample}, not a sample index of 0..${plan.size - 1}`);
      }
      const previous = owner[sample];
      if (previous !== undefined) throw new LedgerError(`${label}: sample ${sample} appears in ${previous} and in ${place}`);
      owner[sample] = place;
    };
    for (const window of plan.windows) {
      for (const sample of window.samples) claim(sample, `window ${window.index}`);
      const joined = window.microBatches.flat();
      if (joined.length !== window.samples.length || joined.some((sample, position) => sample !== window.samples[position])) {
        throw new LedgerError(`${label}: the micro-batches of window ${window.index} are not its samples in order`);
      }
    }
    for (const sample of plan.dropped) claim(sample, 'the dropped samples');
    const missing = owner.findIndex((place) => place === undefined);
    if (missing !== -1) throw new LedgerError(`${label}: sample ${missing} is in no window and not dropped`);
    const pending = this.records.findIndex((record) => record === undefined);
    if (pending !== -1) throw new LedgerError(`${label}: window ${pending} was neither applied nor skipped`);
  }

  /** The epoch's summary so far (complete once every window is done). */
  summary(): EpochSummary {
    let samplesSeen = 0;
    let steps = 0;
    let skippedSteps = 0;
    let skippedSamples = 0;
    let lossTotal = 0;
    let itemTotal = 0;
    for (const [index, record] of this.records.entries()) {
      if (record === undefined) continue;
      const windowSize = this.plan.windows[index]!.samples.length;
      if (record.status === 'applied') {
        steps += 1;
        samplesSeen += windowSize;
        lossTotal += record.lossSum;
        itemTotal += record.itemCount;
      } else {
        skippedSteps += 1;
        skippedSamples += windowSize;
      }
    }
    return {
      epoch: this.plan.epoch + 1,
      samples_seen: samplesSeen,
      windows: [...this.plan.windowSizes],
      steps,
      skipped_steps: skippedSteps,
      dropped_samples: this.plan.dropped.length,
      skipped_samples: skippedSamples,
      loss: itemTotal > 0 ? lossTotal / itemTotal : null,
    };
  }

  toJSON(): EpochLedgerJSON {
    return {
      epoch: this.plan.epoch,
      size: this.plan.size,
      windowSizes: [...this.plan.windowSizes],
      windows: this.records.map((record) => {
        if (record === undefined) return null;
        if (record.status === 'skipped') return { status: 'skipped' };
        return { status: 'applied', lossSum: Number.isFinite(record.lossSum) ? record.lossSum : null, itemCount: record.itemCount };
      }),
    };
  }

  /**
   * Restores a ledger saved by `toJSON` against the (re-computed) plan of the same epoch, so a
   * resumed run continues where it stopped. Throws a CheckpointError if `json` is malformed or
   * belongs to a different plan (other epoch, dataset size or window sizes).
   */
  static fromJSON(json: unknown, plan: EpochPlan): EpochLedger {
    if (typeof json !== 'object' || json === null) throw new CheckpointError('epoch ledger: expected an object');
    const data = json as Partial<EpochLedgerJSON>;
    if (data.epoch !== plan.epoch) throw new CheckpointError(`epoch ledger: saved for epoch index ${String(data.epoch)}, plan is for ${plan.epoch}`);
    if (data.size !== plan.size) throw new CheckpointError(`epoch ledger: saved for ${String(data.size)} samples, plan has ${plan.size}`);
    if (!Array.isArray(data.windowSizes) || data.windowSizes.join(',') !== plan.windowSizes.join(',')) {
      throw new CheckpointError(`epoch ledger: saved window sizes [${String(data.windowSizes)}] differ from the plan's [${plan.windowSizes.join(', ')}]`);
    }
    if (!Array.isArray(data.windows) || data.windows.length !== plan.windows.length) {
      throw new CheckpointError(`epoch ledger: expected ${plan.windows.length} window entries`);
    }
    const ledger = new EpochLedger(plan);
    for (const [index, entry] of (data.windows as unknown[]).entries()) {
      if (entry === null) continue;
      const record = entry as Partial<{ status: string; lossSum: unknown; itemCount: unknown }>;
      if (record.status === 'skipped') {
        ledger.recordSkipped(index);
      } else if (
        record.status === 'applied' &&
        (record.lossSum === null || typeof record.lossSum === 'number') &&
        Number.isSafeInteger(record.itemCount) &&
        (record.itemCount as number) >= 0
      ) {
        ledger.recordStep(index, record.lossSum ?? Number.NaN, record.itemCount as number);
      } else {
        throw new CheckpointError(`epoch ledger: window entry ${index} is malformed: ${JSON.stringify(entry)}`);
      }
    }
    return ledger;
  }

  private checkIndex(windowIndex: number): void {
    if (!Number.isInteger(windowIndex) || windowIndex < 0 || windowIndex >= this.records.length) {
      throw new LedgerError(`window ${String(windowIndex)} does not exist: epoch ${this.plan.epoch + 1} has ${this.records.length} windows`);
    }
  }

  private checkPending(windowIndex: number): void {
    this.checkIndex(windowIndex);
    if (this.records[windowIndex] !== undefined) {
      throw new LedgerError(`window ${windowIndex} of epoch ${this.plan.epoch + 1} was already ${this.records[windowIndex]!.status}`);
    }
  }
}

/**
 * One human line per epoch, e.g. `epoch 1: 110/110 samples in 4 steps [32, 32, 32, 14]`,
 * followed by `, 14 dropped` and `, 1 step skipped (32 samples)` when those are nonzero.
 */
export function formatLedgerLine(summary: EpochSummary, size: number): string {
  let line = `epoch ${summary.epoch}: ${summary.samples_seen}/${size} samples in ${plural(summary.steps, 'step')} [${summary.windows.join(', ')}]`;
  if (summary.dropped_samples > 0) line += `, ${summary.dropped_samples} dropped`;
  if (summary.skipped_steps > 0) line += `, ${plural(summary.skipped_steps, 'step')} skipped (${plural(summary.skipped_samples, 'sample')})`;
  return line;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
