/**
 * The training settings of a sweep's trials: which ones a sweep may list (`--lr 2e-5,5e-5`), how a
 * list is read, and how a trial's settings become the `finetune` run it is. Everything is keyed by
 * FinetuneSettings' own names (`lr`, `warmupRatio`, `reinitLayers` …), so the settings in
 * sweep.json, in a queue job and in sweep.jsonl read like a run's summary.json.
 *
 * A trial's settings must be complete: a job is all a worker has, and a worker must not fill in
 * defaults of its own version (the CLI puts `train`'s defaults into the sweep). Four things are the
 * trial's, not settings: the seed, the split (fold or eval file), early stopping (the sweep's metric
 * and patience) and the threads (one; the sweep's parallelism is across trials).
 */
import { ConfigError } from '../../core/errors.js';
import { parseSettingList, type SettingKind } from '../../app/sweep/lists.js';
import type { SettingValue, Settings, TrialSpec } from '../../app/sweep/types.js';
import type { FinetuneSettings } from '../finetune.js';
import { BACKEND_CHOICES } from '../backend.js';

interface Rule {
  /** How values are checked (and, for a setting a sweep may list, how a list is read). */
  kind: SettingKind | { kind: 'text' } | { kind: 'microBatch' };
  /** A sweep may list several values (a hyper-parameter, not where the data is or how the run computes). */
  sweepable?: true;
  /** May be absent (as the train flag may be). */
  optional?: true;
}

const LOSS_SCALE = ['off', 'dynamic'] as const;

/**
 * Every setting a trial passes to finetune, in the order a sweep's grid lists them (first varies
 * slowest), which is also the order of the summary table's columns.
 */
export const TRIAL_SETTINGS: Readonly<Record<string, Rule>> = {
  lr: { kind: { kind: 'number', min: 0 }, sweepable: true },
  epochs: { kind: { kind: 'integer', min: 1 }, sweepable: true },
  batch: { kind: { kind: 'integer', min: 1 }, sweepable: true },
  weightDecay: { kind: { kind: 'number', min: 0 }, sweepable: true },
  warmupRatio: { kind: { kind: 'number', min: 0, max: 1 }, sweepable: true, optional: true },
  warmupSteps: { kind: { kind: 'integer', min: 0 }, sweepable: true },
  reinitLayers: { kind: { kind: 'integer', min: 0 }, sweepable: true },
  schedule: { kind: { kind: 'choice', allowed: ['constant', 'linear', 'cosine'] }, sweepable: true },
  optimizer: { kind: { kind: 'choice', allowed: ['adamw', 'sgd'] }, sweepable: true },
  momentum: { kind: { kind: 'number', min: 0 }, sweepable: true, optional: true },
  clipNorm: { kind: { kind: 'number', min: 0 }, sweepable: true },
  dropout: { kind: { kind: 'number', min: 0, below: 1 }, sweepable: true, optional: true },
  precision: { kind: { kind: 'choice', allowed: ['fp32', 'bf16'] }, sweepable: true, optional: true },
  maxLength: { kind: { kind: 'integer', min: 3 }, sweepable: true },
  remainder: { kind: { kind: 'choice', allowed: ['step', 'balance', 'drop'] }, sweepable: true },
  lossScale: { kind: { kind: 'boolean' }, sweepable: true },
  onOverflow: { kind: { kind: 'choice', allowed: ['skip', 'retry'] }, sweepable: true },
  data: { kind: { kind: 'text' } },
  eval: { kind: { kind: 'text' }, optional: true },
  model: { kind: { kind: 'text' } },
  task: { kind: { kind: 'choice', allowed: ['sequence-classification'] } },
  textField: { kind: { kind: 'text' } },
  labelField: { kind: { kind: 'text' } },
  microBatch: { kind: { kind: 'microBatch' } },
  memoryBudget: { kind: { kind: 'integer', min: 1 }, optional: true },
  shuffle: { kind: { kind: 'boolean' } },
  backend: { kind: { kind: 'choice', allowed: BACKEND_CHOICES } },
  saveEvery: { kind: { kind: 'integer', min: 0 } },
};

/** The settings a sweep may list, in grid order. */
export const SWEEPABLE_SETTINGS: readonly string[] = Object.keys(TRIAL_SETTINGS).filter((name) => TRIAL_SETTINGS[name]!.sweepable === true);

/**
 * Reads a flag's text as the values of setting `name`: a comma-separated list for a sweepable
 * setting (`2e-5,5e-5`); `lossScale` takes train's words (`off,dynamic`). Errors name the setting.
 */
export function parseSettingValues(name: string, text: string): SettingValue[] {
  const rule = TRIAL_SETTINGS[name];
  if (rule === undefined || rule.sweepable !== true) throw new ConfigError('is not a setting a sweep can list', { field: name });
  if (name === 'lossScale') return parseSettingList(text, name, { kind: 'choice', allowed: LOSS_SCALE }).map((word) => word === 'dynamic');
  return parseSettingList(text, name, rule.kind as SettingKind);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : String(value);
}

/** Why `value` is not a valid value of setting `name`, or undefined when it is. */
function problem(value: SettingValue, rule: Rule): string | undefined {
  const kind = rule.kind;
  switch (kind.kind) {
    case 'text':
      return typeof value === 'string' && value !== '' ? undefined : `must be a non-empty string, got ${describe(value)}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `must be true or false, got ${describe(value)}`;
    case 'choice':
      return typeof value === 'string' && kind.allowed.includes(value) ? undefined : `must be one of ${kind.allowed.join(', ')}, got ${describe(value)}`;
    case 'microBatch':
      return value === 'auto' || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) ? undefined : `must be a positive integer or "auto", got ${describe(value)}`;
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return `must be a finite number, got ${describe(value)}`;
      if (kind.kind === 'integer' && !Number.isSafeInteger(value)) return `must be an integer, got ${value}`;
      if (kind.min !== undefined && value < kind.min) return `must be ≥ ${kind.min}, got ${value}`;
      if (kind.max !== undefined && value > kind.max) return `must be ≤ ${kind.max}, got ${value}`;
      if (kind.kind === 'number' && kind.above !== undefined && !(value > kind.above)) return `must be > ${kind.above}, got ${value}`;
      if (kind.kind === 'number' && kind.below !== undefined && !(value < kind.below)) return `must be < ${kind.below}, got ${value}`;
      return undefined;
    }
  }
}

/** Checks a sweep's settings (complete or not): known names, valid values. Errors name the setting. */
export function checkTrialSettings(settings: Settings, { complete }: { complete: boolean }): void {
  for (const [name, value] of Object.entries(settings)) {
    const rule = TRIAL_SETTINGS[name];
    if (rule === undefined) {
      throw new ConfigError(`is not a setting a trial passes to finetune (those are ${Object.keys(TRIAL_SETTINGS).join(', ')}; seed, split, early stopping and threads are the trial's own)`, { field: name });
    }
    const detail = problem(value, rule);
    if (detail !== undefined) throw new ConfigError(detail, { field: name });
  }
  if (complete) {
    for (const [name, rule] of Object.entries(TRIAL_SETTINGS)) {
      if (rule.optional !== true && !(name in settings)) throw new ConfigError('is missing: a trial carries every setting of its run', { field: name });
    }
  }
}

/**
 * The `finetune` settings of a trial: its settings, its seed and split, evaluation after every
 * epoch with early stopping on the sweep's metric (a refit: exactly its epochs, no validation),
 * one worker thread and `threads` native kernel threads, written to `out`; a micro-batch larger
 * than the trial's batch is lowered to the batch.
 */
export function finetuneSettingsFor(trial: TrialSpec, out: string, threads: number): FinetuneSettings {
  checkTrialSettings(trial.settings, { complete: true });
  const { lossScale, eval: evalFile, ...rest } = trial.settings;
  const settings = {
    ...rest,
    lossScale: lossScale === true,
    seed: trial.seed,
    out,
    workers: 1,
    threads,
  } as unknown as FinetuneSettings;
  // A grid may list batches below the micro-batch: the trial's micro-batch is then its batch
  // (the result does not depend on the micro-batch; train lowers its default the same way).
  if (typeof settings.microBatch === 'number' && settings.microBatch > settings.batch) settings.microBatch = settings.batch;
  const split = trial.split;
  if (split.kind === 'kfold') {
    if (evalFile !== undefined) throw new ConfigError('and cross-validation folds exclude each other: a k-fold trial validates on its fold', { field: 'eval' });
    settings.split = { folds: split.folds, fold: split.fold, seed: split.seed };
  } else if (split.kind === 'holdout') {
    if (evalFile === undefined) throw new ConfigError('is missing: a trial without folds validates on a fixed evaluation file', { field: 'eval' });
    settings.eval = evalFile as string;
  } else {
    // The refit trains on all the training data; a fixed evaluation file (never used to choose) still reports the final model's metrics.
    settings.epochs = split.epochs;
    if (evalFile !== undefined) settings.eval = evalFile as string;
  }
  if (split.kind === 'all') {
    settings.evaluateEveryEpoch = false;
  } else {
    settings.evaluateEveryEpoch = true;
    settings.earlyStopping = { metric: trial.metric, patience: trial.patience };
  }
  return settings;
}
