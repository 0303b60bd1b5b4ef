/**
 * The report's sample ledger: one row per epoch that says where each of the N samples went
 * (applied step, skipped step, dropped), and whether that adds up to N. Finished epochs come
 * from summary.json; an epoch the run did not finish — or every epoch, when a stopped run has
 * no summary.json — is rebuilt from metrics.jsonl, which has one line per window.
 */
import type { EpochRecord, MetricsLine, RunRecord } from './types.js';

export type WindowStatus = 'applied' | 'skipped' | 'pending' | 'unknown';

export interface LedgerRow {
  epoch: number;
  /** Window sizes: all planned windows when known, else those run so far. */
  windows: number[];
  /** Per window: applied, skipped (no update), pending (not run yet), unknown (summary without metrics). */
  status: WindowStatus[];
  samplesSeen: number;
  steps: number;
  skippedSteps: number;
  skippedSamples: number;
  /** Undefined when unknown (a row rebuilt from metrics). */
  dropped: number | undefined;
  loss: number | null;
  /** Every window of the epoch was applied or skipped. */
  complete: boolean;
  /** Where the row comes from. */
  source: 'summary' | 'metrics';
}

export type Verdict = { level: 'ok' | 'warn' | 'error' | 'none'; title: string; details: string[] };

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Item-weighted mean loss of the applied steps (Σ loss·items / Σ items), as the ledger computes it. */
export function meanLoss(lines: readonly MetricsLine[]): number | null {
  let total = 0;
  let items = 0;
  for (const line of lines) {
    if (line.skipped || line.loss === null) continue;
    const weight = line.items ?? line.window_size ?? 1;
    total += line.loss * weight;
    items += weight;
  }
  return items > 0 ? total / items : null;
}

function linesByEpoch(metrics: readonly MetricsLine[]): Map<number, MetricsLine[]> {
  const byEpoch = new Map<number, MetricsLine[]>();
  for (const line of metrics) {
    const lines = byEpoch.get(line.epoch) ?? [];
    lines.push(line);
    byEpoch.set(line.epoch, lines);
  }
  return byEpoch;
}

/** Statuses of a finished epoch's windows: from its metrics lines when there are some for each window. */
function summaryStatus(record: EpochRecord, lines: readonly MetricsLine[]): WindowStatus[] {
  const byWindow = new Map(lines.filter((line) => line.window !== undefined).map((line) => [line.window!, line]));
  if (record.windows.every((_, index) => byWindow.has(index + 1))) {
    return record.windows.map((_, index) => (byWindow.get(index + 1)!.skipped ? 'skipped' : 'applied'));
  }
  return record.windows.map(() => (record.skipped_steps === 0 ? 'applied' : 'unknown'));
}

function summaryRow(record: EpochRecord, lines: readonly MetricsLine[]): LedgerRow {
  const planned = sum(record.windows);
  return {
    epoch: record.epoch,
    windows: [...record.windows],
    status: summaryStatus(record, lines),
    samplesSeen: record.samples_seen,
    steps: record.steps,
    skippedSteps: record.skipped_steps,
    skippedSamples: record.skipped_samples ?? Math.max(0, planned - record.samples_seen),
    dropped: record.dropped_samples,
    loss: record.loss,
    complete: true,
    source: 'summary',
  };
}

/** An epoch rebuilt from its metrics lines (ordered by window). */
function metricsRow(epoch: number, lines: readonly MetricsLine[]): LedgerRow {
  const planned = Math.max(lines[lines.length - 1]?.windows ?? 0, lines.length);
  const windows = lines.map((line) => line.window_size ?? 0);
  const status: WindowStatus[] = lines.map((line) => (line.skipped ? 'skipped' : 'applied'));
  const applied = lines.filter((line) => !line.skipped);
  const skipped = lines.filter((line) => line.skipped);
  const pending = planned - lines.length;
  return {
    epoch,
    windows,
    status: [...status, ...Array.from({ length: pending }, (): WindowStatus => 'pending')],
    samplesSeen: sum(applied.map((line) => line.window_size ?? 0)),
    steps: applied.length,
    skippedSteps: skipped.length,
    skippedSamples: sum(skipped.map((line) => line.window_size ?? 0)),
    dropped: undefined,
    loss: meanLoss(lines),
    complete: pending === 0,
    source: 'metrics',
  };
}

/** The ledger rows of a run, in epoch order. */
export function ledgerRows(run: RunRecord): LedgerRow[] {
  const byEpoch = linesByEpoch(run.metrics);
  const rows = (run.summary?.epochs ?? []).map((record) => summaryRow(record, byEpoch.get(record.epoch) ?? []));
  const lastSummarised = rows.length > 0 ? rows[rows.length - 1]!.epoch : 0;
  for (const [epoch, lines] of byEpoch) {
    if (epoch <= lastSummarised) continue;
    rows.push(metricsRow(epoch, [...lines].sort((a, b) => (a.window ?? a.step) - (b.window ?? b.step))));
  }
  return rows;
}

/** Whether a finished epoch's samples add up to N (undefined when that cannot be known). */
export function accountsFor(row: LedgerRow, samples: number | undefined): boolean | undefined {
  if (!row.complete || samples === undefined || row.dropped === undefined) return undefined;
  return row.samplesSeen + row.skippedSamples + row.dropped === samples && sum(row.windows) + row.dropped === samples;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** The one-line conclusion above the ledger table, with the details that qualify it. */
export function ledgerVerdict(rows: readonly LedgerRow[], samples: number | undefined): Verdict {
  const complete = rows.filter((row) => row.complete);
  const details: string[] = [];
  for (const row of rows) {
    if (!row.complete) {
      const done = row.status.filter((status) => status !== 'pending').length;
      details.push(`Epoch ${row.epoch} stopped after ${done} of ${plural(row.status.length, 'window')} (${plural(row.samplesSeen, 'sample')} trained so far).`);
    }
    if (row.skippedSteps > 0) {
      details.push(
        `Epoch ${row.epoch}: ${plural(row.skippedSteps, 'step')} skipped (${plural(row.skippedSamples, 'sample')} not trained): non-finite gradients under --on-overflow skip.`,
      );
    }
    if (row.dropped !== undefined && row.dropped > 0) details.push(`Epoch ${row.epoch}: ${plural(row.dropped, 'sample')} dropped by --remainder drop.`);
  }
  if (complete.length === 0) {
    return { level: 'none', title: rows.length === 0 ? 'No optimizer step was recorded.' : 'No epoch finished yet.', details };
  }
  const broken = complete.filter((row) => accountsFor(row, samples) === false);
  if (broken.length > 0) {
    return {
      level: 'error',
      title: `The ledger does not add up to ${samples} samples in ${broken.length === 1 ? 'epoch' : 'epochs'} ${broken.map((row) => row.epoch).join(', ')}.`,
      details,
    };
  }
  const epochs = plural(complete.length, 'finished epoch');
  if (samples === undefined || complete.some((row) => row.dropped === undefined)) {
    return { level: details.length > 0 ? 'warn' : 'none', title: `${epochs}; without summary.json the dataset size is unknown, so the ledger cannot be checked.`, details };
  }
  const allTrained = complete.every((row) => row.samplesSeen === samples);
  if (allTrained) {
    return {
      level: rows.length === complete.length ? 'ok' : 'warn',
      title: `Every sample counted: all ${samples} samples trained exactly once in each of the ${epochs}.`,
      details,
    };
  }
  return { level: 'warn', title: `All ${samples} samples accounted for in each of the ${epochs}, but not all were trained.`, details };
}
