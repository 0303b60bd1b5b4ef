/**
 * From trial records to a verdict: per config the mean, sample std and 95 % Student's t interval
 * of the metric at each trial's kept epoch, and the best config.
 *
 * Best-config rule: only configs whose every planned trial completed with a finite metric are
 * candidates (a config that crashed or diverged on some seed or fold is not "best on average",
 * its average is over the trials that survived). Among them the highest mean wins (lowest for
 * `loss`); an exact tie goes to the smaller standard deviation (the more stable config), then to
 * the config listed first in the grid.
 */
import type { SweepPlan } from './plan.js';
import { confidenceInterval, type Estimate } from './stats.js';
import type { MetricName, Settings, TrialRecord } from './types.js';
import { metricMode } from './types.js';

export interface ConfigSummary {
  config: string;
  index: number;
  /** The swept settings only. */
  settings: Settings;
  /** Trials planned for this config (seeds × folds). */
  planned: number;
  completed: number;
  failed: number;
  /** Planned trials without a record yet (an unfinished sweep). */
  missing: number;
  /** The metric at each completed trial's kept epoch, in trial order; NaN for a diverged trial. */
  values: number[];
  /** Mean, std and 95 % interval over the finite values; null when there is none. */
  estimate: Estimate | null;
  /** Each completed trial's kept epoch, in trial order (null entries for diverged trials skipped). */
  bestEpochs: number[];
  /** Whether the config may be chosen as best; `reason` says why not. */
  eligible: boolean;
  reason?: string;
}

/** Summaries of every config of `plan`, in grid order, from whatever records exist. */
export function summarizeConfigs(plan: SweepPlan, records: readonly TrialRecord[]): ConfigSummary[] {
  const byTrial = new Map(records.map((record) => [record.trial, record]));
  return plan.configs.map((config) => {
    const trials = plan.trials.filter((trial) => trial.configId === config.id);
    const own = trials.map((trial) => byTrial.get(trial.id));
    const completed = own.filter((record): record is TrialRecord => record?.status === 'completed');
    const failed = own.filter((record) => record?.status === 'failed').length;
    const missing = own.filter((record) => record === undefined).length;
    const values = completed.map((record) => record.metrics?.[plan.input.metric] ?? NaN);
    const finite = values.filter(Number.isFinite);
    const bestEpochs = completed.flatMap((record) => (record.bestEpoch === null ? [] : [record.bestEpoch]));
    let reason: string | undefined;
    if (missing > 0) reason = `${missing} of ${trials.length} trials have not finished`;
    else if (failed > 0) reason = `${failed} of ${trials.length} trials failed`;
    else if (finite.length < values.length) reason = `${values.length - finite.length} of ${trials.length} trials never had a finite ${plan.input.metric}`;
    return {
      config: config.id,
      index: config.index,
      settings: config.settings,
      planned: trials.length,
      completed: completed.length,
      failed,
      missing,
      values,
      estimate: finite.length === 0 ? null : confidenceInterval(finite, 0.95),
      bestEpochs,
      eligible: reason === undefined,
      ...(reason !== undefined ? { reason } : {}),
    };
  });
}

/** The best config by the rule in this module's comment, or null when no config is eligible. */
export function selectBest(summaries: readonly ConfigSummary[], metric: MetricName): ConfigSummary | null {
  const sign = metricMode(metric) === 'max' ? 1 : -1;
  let best: ConfigSummary | null = null;
  for (const summary of summaries) {
    if (!summary.eligible || summary.estimate === null) continue;
    if (best === null || compare(summary, best, sign) < 0) best = summary;
  }
  return best;
}

/** Negative when `a` ranks before `b`. */
function compare(a: ConfigSummary, b: ConfigSummary, sign: number): number {
  const byMean = sign * (b.estimate!.mean - a.estimate!.mean);
  if (byMean !== 0) return byMean;
  // n = 1 gives NaN std: treat it as the least stable.
  const stdA = Number.isNaN(a.estimate!.std) ? Infinity : a.estimate!.std;
  const stdB = Number.isNaN(b.estimate!.std) ? Infinity : b.estimate!.std;
  if (stdA !== stdB) return stdA - stdB;
  return a.index - b.index;
}

/** summary.json: the sweep's verdict, plain JSON (NaN as null). */
export interface SweepSummary {
  sweep: string;
  metric: MetricName;
  /** Whether larger is better. */
  mode: 'max' | 'min';
  trials: { planned: number; completed: number; failed: number; missing: number };
  configs: Array<{
    config: string;
    settings: Settings;
    completed: number;
    failed: number;
    missing: number;
    n: number;
    mean: number | null;
    std: number | null;
    ci95: [number, number] | null;
    bestEpochs: number[];
    eligible: boolean;
    reason?: string;
  }>;
  best: { config: string; settings: Settings; mean: number; std: number | null; ci95: [number, number] | null } | null;
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function interval(summary: ConfigSummary): [number, number] | null {
  const estimate = summary.estimate;
  return estimate === null || !Number.isFinite(estimate.halfWidth) ? null : [estimate.low, estimate.high];
}

export function sweepSummary(plan: SweepPlan, summaries: readonly ConfigSummary[], best: ConfigSummary | null): SweepSummary {
  const total = (key: 'completed' | 'failed' | 'missing') => summaries.reduce((sum, summary) => sum + summary[key], 0);
  return {
    sweep: plan.id,
    metric: plan.input.metric,
    mode: metricMode(plan.input.metric),
    trials: { planned: plan.trials.length, completed: total('completed'), failed: total('failed'), missing: total('missing') },
    configs: summaries.map((summary) => ({
      config: summary.config,
      settings: summary.settings,
      completed: summary.completed,
      failed: summary.failed,
      missing: summary.missing,
      n: summary.estimate?.n ?? 0,
      mean: summary.estimate === null ? null : finiteOrNull(summary.estimate.mean),
      std: summary.estimate === null ? null : finiteOrNull(summary.estimate.std),
      ci95: interval(summary),
      bestEpochs: summary.bestEpochs,
      eligible: summary.eligible,
      ...(summary.reason !== undefined ? { reason: summary.reason } : {}),
    })),
    best:
      best === null
        ? null
        : { config: best.config, settings: best.settings, mean: best.estimate!.mean, std: finiteOrNull(best.estimate!.std), ci95: interval(best) },
  };
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return Math.abs(value) >= 1000 || (value !== 0 && Math.abs(value) < 1e-3) ? value.toExponential(3) : value.toFixed(4);
}

function formatSetting(value: unknown): string {
  return typeof value === 'number' && value !== 0 && Math.abs(value) < 1e-3 ? value.toExponential() : String(value);
}

/**
 * The summary as a text table, one row per config in grid order, the best marked with `*`:
 *
 *     config       lr     epochs  n   accuracy (mean ± std)  95 % CI
 *   * c1a2b3c4d5   2e-5   3       15  0.8412 ± 0.0213        [0.8294, 0.8530]
 */
export function formatSummaryTable(plan: SweepPlan, summaries: readonly ConfigSummary[], best: ConfigSummary | null): string[] {
  const names = plan.input.grid.map(([name]) => name);
  const header = ['config', ...names, 'n', `${plan.input.metric} (mean ± std)`, '95 % CI', ''];
  const rows = summaries.map((summary) => {
    const estimate = summary.estimate;
    const spread = estimate === null ? '—' : `${formatValue(estimate.mean)} ± ${formatValue(estimate.std)}`;
    const ci = estimate === null || !Number.isFinite(estimate.halfWidth) ? '—' : `[${formatValue(estimate.low)}, ${formatValue(estimate.high)}]`;
    const note = summary.eligible ? '' : `(${summary.reason})`;
    return [summary.config, ...names.map((name) => formatSetting(summary.settings[name])), String(estimate?.n ?? 0), spread, ci, note];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[], mark: string) => (mark + ' ' + cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')).trimEnd();
  return [line(header, ' '), ...rows.map((row, position) => line(row, summaries[position] === best ? '*' : ' '))];
}

/** `12/40 trials done (1 failed), 3 running` — the coordinator's progress line. */
export function formatProgress(progress: { total: number; completed: number; failed: number; running: number }): string {
  const done = progress.completed + progress.failed;
  const failed = progress.failed > 0 ? ` (${progress.failed} failed)` : '';
  return `${done}/${progress.total} trials done${failed}, ${progress.running} running`;
}
