/**
 * The vocabulary of a sweep: settings, configs, trials, what a trial runner answers and the
 * record each trial leaves in sweep.jsonl. Browser-safe types only; the runner that trains and
 * the machinery that runs trials in processes or through a queue live in src/node/sweep.
 */

/** One value of a training setting (`lr: 2e-5`, `remainder: 'balance'`, `shuffle: false`). */
export type SettingValue = number | string | boolean;

/** Setting name → value, in the library's names (`lr`, `epochs`, `batch`, `microBatch` …). */
export type Settings = Record<string, SettingValue>;

/** The validation metric early stopping and config selection look at. */
export type MetricName = 'accuracy' | 'macro_f1' | 'loss';
export const METRIC_NAMES: readonly MetricName[] = ['accuracy', 'macro_f1', 'loss'];

/** Whether larger or smaller values of a metric are better. */
export type MetricMode = 'max' | 'min';

export function metricMode(metric: MetricName): MetricMode {
  return metric === 'loss' ? 'min' : 'max';
}

/** Validation metrics of one epoch: at least the sweep's metric. NaN = not finite (a diverged run). */
export type Metrics = Record<string, number>;

/** One point of the grid: the swept settings and a stable id derived from them. */
export interface SweepConfig {
  /** `c` + 10 hex digits of a hash of the settings: the same settings give the same id in every sweep. */
  id: string;
  /** Position in the grid (0-based), the order of the summary. */
  index: number;
  /** Only the swept settings (those given as lists). */
  settings: Settings;
}

/**
 * Which samples a trial trains and validates on.
 * * `kfold`: stratified k-fold of the training data by `seed` (the same split for every trial seed
 *   and config, so configs are compared on the same folds); validate on fold `fold`, train on the rest.
 * * `holdout`: train on all the training data, validate on a fixed evaluation set.
 * * `all`: train on all the data for exactly `epochs` epochs, nothing to validate (the refit).
 */
export type TrialSplit = { kind: 'kfold'; folds: number; fold: number; seed: number } | { kind: 'holdout' } | { kind: 'all'; epochs: number };

/** Everything a trial runner needs, so that a worker started with only a queue URL can run it. */
export interface TrialSpec {
  /** Unique in the sweep: `<config id>-s<seed>-f<fold>` (`-eval` for holdout, `-refit` for the refit). */
  id: string;
  /** Position in the sweep's trial order (config, then seed, then fold): the order of sweep.jsonl. */
  index: number;
  configId: string;
  /** The sweep's fixed settings (data and model paths, flags given once) overlaid with the config's. */
  settings: Settings;
  /** Seed of the run (initialisation, shuffling, dropout). */
  seed: number;
  split: TrialSplit;
  /** The metric to early-stop on and to report as the trial's value. */
  metric: MetricName;
  /** Epochs without improvement before stopping; null = never stop early. */
  patience: number | null;
}

/** Validation metrics after one epoch (1-based, like the ledger's `epoch 1:`). */
export interface EpochMetrics {
  epoch: number;
  metrics: Metrics;
}

/**
 * What a trial runner answers: the validation metrics of every epoch it ran and the epoch whose
 * weights it kept. The framework replays the early-stopping policy on `epochs` and fails the
 * trial if the runner kept another epoch or stopped at another point (see `checkTrialResult`).
 */
export interface TrialResult {
  epochs: EpochMetrics[];
  /** The kept epoch; null when no epoch had a finite metric, or for a refit (nothing validated). */
  bestEpoch: number | null;
  /** The runner stopped because the policy said so, before the last epoch it was given. */
  stoppedEarly: boolean;
}

export type TrialStatus = 'completed' | 'failed';

/** One line of sweep.jsonl. Every field but `durationMs` is a pure function of the trial spec. */
export interface TrialRecord {
  trial: string;
  index: number;
  config: string;
  /** The trial's effective settings (fixed and swept). */
  settings: Settings;
  seed: number;
  /** The validation fold, or null with a fixed evaluation set. */
  fold: number | null;
  status: TrialStatus;
  metric: MetricName;
  epochs: EpochMetrics[];
  bestEpoch: number | null;
  /** The kept epoch's metrics (null when failed or nothing finite was seen). */
  metrics: Metrics | null;
  /** The run ended before its last epoch because the metric stopped improving. */
  stoppedEarly: boolean;
  /** Why the trial failed (failed only). */
  error?: string;
  /** Wall time of the trial's last attempt. Excluded from equality checks. */
  durationMs: number;
}

/** What a trial runner gets besides the trial. */
export interface TrialContext {
  /** The trial's own directory (under the sweep's out dir): its run files, ledger and checkpoint go here. */
  outDir: string;
  /** An earlier attempt left files in `outDir`: continue from its checkpoint if there is one. */
  resume: boolean;
  /** Aborted on shutdown or when the trial's queue lock is lost: stop at the next safe point and reject. */
  signal: AbortSignal;
  /** Progress: call after each epoch with its validation metrics. */
  onEpoch(epoch: EpochMetrics): void;
  /** Compute threads the runner may use: 1 in a sweep, whose parallelism is across trials. */
  computeThreads: number;
}

/**
 * Trains one trial. It must be deterministic (the same spec gives the same result in any process,
 * in any order, resumed or not), checkpoint at least after every epoch so a killed trial resumes,
 * apply `EarlyStopping.forMetric(trial.metric, trial.patience)` and keep the best epoch's weights.
 */
export interface TrialRunner {
  run(trial: TrialSpec, context: TrialContext): Promise<TrialResult>;
}

/**
 * How a process finds the runner: a module (a `file://` URL or a package specifier) whose export
 * `exportName` is a `TrialRunnerFactory`, called once per process with `options` (plain JSON).
 */
export interface RunnerRef {
  module: string;
  exportName: string;
  options?: unknown;
}

export type TrialRunnerFactory = (options: unknown) => TrialRunner | Promise<TrialRunner>;
