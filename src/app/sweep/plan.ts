/**
 * From what the user listed to the trials of a sweep: configs (the grid) × seeds × folds, in that
 * nesting order, each trial with an id that is a pure function of its config, seed and fold. The
 * sweep's id hashes everything that defines the trials, so a re-run with the same flags finds the
 * same out dir contents and the same queue jobs, and a re-run with other flags is refused there.
 */
import { ConfigError } from '../../core/errors.js';
import { canonicalJson, expandGrid, stableHash, type Grid } from './grid.js';
import type { MetricName, SettingValue, Settings, SweepConfig, TrialSpec } from './types.js';
import { METRIC_NAMES } from './types.js';
import { describe, fail, integerAt, objectAt, oneOf, type Source } from './validate.js';

/** What defines a sweep (what `sweep.json` stores). */
export interface SweepInput {
  /** Swept settings and their values, first varying slowest. */
  grid: Grid;
  /** Settings given once (data and model paths, fixed flags); may not repeat a swept one. */
  base?: Settings;
  seeds: readonly number[];
  /** k of stratified k-fold, or null for a fixed evaluation set (`--eval FILE`, a base setting). */
  folds: number | null;
  /** Seed of the fold split, the same for all trials (default 0). */
  splitSeed?: number;
  metric: MetricName;
  /** Early-stopping patience in epochs; null = train every epoch, still keep the best. */
  patience: number | null;
}

export interface SweepPlan {
  version: 1;
  /** `s` + 12 hex digits of the input's hash. */
  id: string;
  input: Required<SweepInput>;
  configs: SweepConfig[];
  trials: TrialSpec[];
}

export function planSweep(input: SweepInput): SweepPlan {
  const base = input.base ?? {};
  const splitSeed = input.splitSeed ?? 0;
  if (!METRIC_NAMES.includes(input.metric)) throw new ConfigError(`must be one of ${METRIC_NAMES.join(', ')}, got ${String(input.metric)}`, { field: 'metric' });
  if (input.seeds.length === 0) throw new ConfigError('must list at least one seed', { field: 'seeds' });
  const seen = new Set<number>();
  for (const seed of input.seeds) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError(`must be non-negative integers, got ${seed}`, { field: 'seeds' });
    if (seen.has(seed)) throw new ConfigError(`lists ${seed} twice`, { field: 'seeds' });
    seen.add(seed);
  }
  if (input.folds !== null && (!Number.isSafeInteger(input.folds) || input.folds < 2)) {
    throw new ConfigError(`must be an integer ≥ 2 (or no folds with a fixed evaluation set), got ${input.folds}`, { field: 'folds' });
  }
  if (!Number.isSafeInteger(splitSeed) || splitSeed < 0) throw new ConfigError(`must be a non-negative integer, got ${splitSeed}`, { field: 'splitSeed' });
  if (input.patience !== null && (!Number.isSafeInteger(input.patience) || input.patience < 1)) {
    throw new ConfigError(`must be an integer ≥ 1, got ${input.patience}`, { field: 'patience' });
  }
  for (const [name, value] of Object.entries(base)) {
    if (!['number', 'string', 'boolean'].includes(typeof value)) throw new ConfigError(`must be a number, string or boolean, got ${describe(value)}`, { field: name });
    if (input.grid.some(([swept]) => swept === name)) throw new ConfigError('is both swept and given once', { field: name });
  }
  const configs = expandGrid(input.grid);
  const normalized: Required<SweepInput> = {
    grid: input.grid.map(([name, values]) => [name, [...values]] as const),
    base: { ...base },
    seeds: [...input.seeds],
    folds: input.folds,
    splitSeed,
    metric: input.metric,
    patience: input.patience,
  };
  const id = 's' + stableHash(canonicalJson({ ...normalized, grid: normalized.grid.map(([name, values]) => [name, values]) })).slice(0, 12);
  const trials: TrialSpec[] = [];
  const folds: (number | null)[] = input.folds === null ? [null] : Array.from({ length: input.folds }, (_, fold) => fold);
  for (const config of configs) {
    for (const seed of input.seeds) {
      for (const fold of folds) {
        trials.push({
          id: trialId(config.id, seed, fold),
          index: trials.length,
          configId: config.id,
          settings: { ...base, ...config.settings },
          seed,
          split: fold === null ? { kind: 'holdout' } : { kind: 'kfold', folds: input.folds!, fold, seed: splitSeed },
          metric: input.metric,
          patience: input.patience,
        });
      }
    }
  }
  return { version: 1, id, input: normalized, configs, trials };
}

export function trialId(config: string, seed: number, fold: number | null): string {
  return `${config}-s${seed}-${fold === null ? 'eval' : `f${fold}`}`;
}

/** The trial's directory under the sweep's out dir, as path segments: trials/<config>/seed-<s>/fold-<f> (or eval, refit). */
export function trialPath(trial: TrialSpec): string[] {
  if (trial.split.kind === 'all') return ['refit'];
  return ['trials', trial.configId, `seed-${trial.seed}`, trial.split.kind === 'kfold' ? `fold-${trial.split.fold}` : 'eval'];
}

/** The fold of a trial as sweep.jsonl records it. */
export function trialFold(trial: TrialSpec): number | null {
  return trial.split.kind === 'kfold' ? trial.split.fold : null;
}

/**
 * Retraining the chosen config on all the training data: the first seed, no validation, for the
 * median of the best epochs its trials found (the upper median for an even count: with early
 * stopping the best epoch is what the data supports, not the epoch budget).
 */
export function planRefit(plan: SweepPlan, configId: string, bestEpochs: readonly number[]): TrialSpec {
  const config = plan.configs.find((candidate) => candidate.id === configId);
  if (config === undefined) throw new ConfigError(`${configId} is not a config of sweep ${plan.id}`, { field: 'config' });
  if (bestEpochs.length === 0) throw new ConfigError(`${configId} has no completed trial to take the epoch count from`, { field: 'config' });
  const sorted = [...bestEpochs].sort((a, b) => a - b);
  const epochs = sorted[Math.floor(sorted.length / 2)]!;
  return {
    id: `${configId}-refit`,
    index: plan.trials.length,
    configId,
    settings: { ...plan.input.base, ...config.settings },
    seed: plan.input.seeds[0]!,
    split: { kind: 'all', epochs },
    metric: plan.input.metric,
    patience: null,
  };
}

/** Reads a stored sweep input (sweep.json's `input`), checking each field, and plans it. */
export function parseSweepInput(value: unknown, source: Source): SweepInput {
  const object = objectAt(value, source, 'input');
  const grid = object.grid;
  if (!Array.isArray(grid)) fail(source, 'input.grid', `must be an array of [name, values], got ${describe(grid)}`);
  const pairs = grid.map((pair, position): readonly [string, SettingValue[]] => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || !Array.isArray(pair[1])) {
      fail(source, `input.grid.${position}`, `must be [name, values], got ${describe(pair)}`);
    }
    return [pair[0], pair[1] as SettingValue[]];
  });
  const seeds = object.seeds;
  if (!Array.isArray(seeds)) fail(source, 'input.seeds', `must be an array, got ${describe(seeds)}`);
  const base = objectAt(object.base ?? {}, source, 'input.base') as Settings;
  const folds = object.folds === null ? null : integerAt(object, 'folds', source, 'input.', 2);
  const patience = object.patience === null ? null : integerAt(object, 'patience', source, 'input.', 1);
  return {
    grid: pairs,
    base,
    seeds: seeds as number[],
    folds,
    splitSeed: integerAt(object, 'splitSeed', source, 'input.'),
    metric: oneOf(object, 'metric', METRIC_NAMES, source, 'input.'),
    patience,
  };
}
