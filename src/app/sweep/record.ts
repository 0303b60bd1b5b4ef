/**
 * The trial record (one line of sweep.jsonl), the queue's job payload, and the checks on what a
 * trial runner answers. Everything that crosses a process, a queue or a file is parsed here with
 * errors naming the field, so a malformed line or job fails with a reason instead of a crash later.
 *
 * JSON has no NaN: a non-finite metric (a diverged run) is written as null and read back as NaN.
 */
import { replayEarlyStopping } from './early-stopping.js';
import { trialFold } from './plan.js';
import type { EpochMetrics, Metrics, Settings, TrialRecord, TrialResult, TrialSpec, TrialSplit } from './types.js';
import { METRIC_NAMES } from './types.js';
import { arrayAt, booleanAt, describe, fail, integerAt, objectAt, oneOf, stringAt, type JsonObject, type Source } from './validate.js';

/** The record of a trial whose runner answered `result` (already checked by `checkTrialResult`). */
export function completedRecord(trial: TrialSpec, result: TrialResult, durationMs: number): TrialRecord {
  const best = result.bestEpoch === null ? undefined : result.epochs.find((epoch) => epoch.epoch === result.bestEpoch);
  return {
    ...recordHead(trial),
    status: 'completed',
    metric: trial.metric,
    epochs: result.epochs,
    bestEpoch: result.bestEpoch,
    metrics: best === undefined ? null : best.metrics,
    stoppedEarly: result.stoppedEarly,
    durationMs,
  };
}

/** The record of a trial that failed: `error` says why (the runner's message, the exit code …). */
export function failedRecord(trial: TrialSpec, error: string, durationMs: number): TrialRecord {
  return {
    ...recordHead(trial),
    status: 'failed',
    metric: trial.metric,
    epochs: [],
    bestEpoch: null,
    metrics: null,
    stoppedEarly: false,
    error,
    durationMs,
  };
}

function recordHead(trial: TrialSpec): Pick<TrialRecord, 'trial' | 'index' | 'config' | 'settings' | 'seed' | 'fold'> {
  return { trial: trial.id, index: trial.index, config: trial.configId, settings: trial.settings, seed: trial.seed, fold: trialFold(trial) };
}

function metricsAt(value: unknown, source: Source, field: string): Metrics {
  const object = objectAt(value, source, field);
  const metrics: Metrics = {};
  for (const [name, item] of Object.entries(object)) {
    if (item === null) metrics[name] = NaN;
    else if (typeof item === 'number') metrics[name] = item;
    else fail(source, `${field}.${name}`, `must be a number or null, got ${describe(item)}`);
  }
  return metrics;
}

function epochsAt(object: JsonObject, source: Source, prefix: string): EpochMetrics[] {
  const epochs = arrayAt(object, 'epochs', source, prefix).map((item, position) => {
    const field = `${prefix}epochs.${position}`;
    const epoch = objectAt(item, source, field);
    return { epoch: integerAt(epoch, 'epoch', source, field + '.', 1), metrics: metricsAt(epoch.metrics, source, field + '.metrics') };
  });
  epochs.forEach((epoch, position) => {
    if (epoch.epoch !== position + 1) fail(source, `${prefix}epochs.${position}.epoch`, `must be ${position + 1} (epochs are 1, 2, … in order), got ${epoch.epoch}`);
  });
  return epochs;
}

function nullableInteger(object: JsonObject, key: string, source: Source, prefix: string, minimum: number): number | null {
  return object[key] === null ? null : integerAt(object, key, source, prefix, minimum);
}

/**
 * Checks a trial runner's answer against the trial: epochs 1, 2, … each with the sweep's metric,
 * and the kept epoch and the stopping point those of the early-stopping policy replayed on them.
 * A refit (split `all`) must run exactly its epochs and keep none.
 */
export function checkTrialResult(trial: TrialSpec, value: unknown, source: Source = { file: 'trial runner result' }): TrialResult {
  const object = objectAt(value, source, 'result');
  const epochs = epochsAt(object, source, '');
  const bestEpoch = nullableInteger(object, 'bestEpoch', source, '', 1);
  const stoppedEarly = booleanAt(object, 'stoppedEarly', source);
  if (trial.split.kind === 'all') {
    if (epochs.length !== trial.split.epochs) fail(source, 'epochs', `a refit must run exactly ${trial.split.epochs} epochs, got ${epochs.length}`);
    if (bestEpoch !== null || stoppedEarly) fail(source, 'bestEpoch', 'a refit validates nothing: bestEpoch must be null and stoppedEarly false');
    return { epochs, bestEpoch, stoppedEarly };
  }
  if (epochs.length === 0) fail(source, 'epochs', 'must hold at least one epoch');
  epochs.forEach((epoch, position) => {
    if (!(trial.metric in epoch.metrics)) fail(source, `epochs.${position}.metrics.${trial.metric}`, 'is missing: the sweep selects on it');
  });
  const replay = replayEarlyStopping(epochs, trial.metric, trial.patience);
  if (replay.stopEpoch !== null && replay.stopEpoch !== epochs.length) {
    fail(source, 'epochs', `run to epoch ${epochs.length}, but patience ${trial.patience} stops after epoch ${replay.stopEpoch}`);
  }
  if (stoppedEarly && replay.stopEpoch === null) fail(source, 'stoppedEarly', `is true, but patience ${trial.patience} does not stop at epoch ${epochs.length}`);
  if (bestEpoch !== replay.bestEpoch) fail(source, 'bestEpoch', `must be ${replay.bestEpoch} (the best ${trial.metric}), got ${bestEpoch}`);
  return { epochs, bestEpoch, stoppedEarly };
}

function withNulls(metrics: Metrics): Record<string, number | null> {
  return Object.fromEntries(Object.entries(metrics).map(([name, value]) => [name, Number.isFinite(value) ? value : null]));
}

/** One sweep.jsonl line (no newline), fields in a fixed order. */
export function formatRecord(record: TrialRecord): string {
  return JSON.stringify({
    trial: record.trial,
    index: record.index,
    config: record.config,
    settings: record.settings,
    seed: record.seed,
    fold: record.fold,
    status: record.status,
    metric: record.metric,
    epochs: record.epochs.map(({ epoch, metrics }) => ({ epoch, metrics: withNulls(metrics) })),
    bestEpoch: record.bestEpoch,
    metrics: record.metrics === null ? null : withNulls(record.metrics),
    stoppedEarly: record.stoppedEarly,
    ...(record.error !== undefined ? { error: record.error } : {}),
    durationMs: record.durationMs,
  });
}

function settingsAt(value: unknown, source: Source, field: string): Settings {
  const object = objectAt(value, source, field);
  for (const [name, item] of Object.entries(object)) {
    if (!['number', 'string', 'boolean'].includes(typeof item)) fail(source, `${field}.${name}`, `must be a number, string or boolean, got ${describe(item)}`);
  }
  return object as Settings;
}

/** Parses a parsed-JSON trial record. */
export function parseRecordValue(value: unknown, source: Source): TrialRecord {
  const object = objectAt(value, source, 'record');
  const status = oneOf(object, 'status', ['completed', 'failed'] as const, source);
  const record: TrialRecord = {
    trial: stringAt(object, 'trial', source),
    index: integerAt(object, 'index', source),
    config: stringAt(object, 'config', source),
    settings: settingsAt(object.settings, source, 'settings'),
    seed: integerAt(object, 'seed', source),
    fold: nullableInteger(object, 'fold', source, '', 0),
    status,
    metric: oneOf(object, 'metric', METRIC_NAMES, source),
    epochs: epochsAt(object, source, ''),
    bestEpoch: nullableInteger(object, 'bestEpoch', source, '', 1),
    metrics: object.metrics === null ? null : metricsAt(object.metrics, source, 'metrics'),
    stoppedEarly: booleanAt(object, 'stoppedEarly', source),
    durationMs: typeof object.durationMs === 'number' && object.durationMs >= 0 ? object.durationMs : fail(source, 'durationMs', `must be a number ≥ 0, got ${describe(object.durationMs)}`),
  };
  if (status === 'failed') record.error = stringAt(object, 'error', source);
  if (record.bestEpoch !== null && !record.epochs.some((epoch) => epoch.epoch === record.bestEpoch)) {
    fail(source, 'bestEpoch', `names epoch ${record.bestEpoch}, which is not among the ${record.epochs.length} epochs`);
  }
  return record;
}

/** Parses one sweep.jsonl line; `source` names the file and line. */
export function parseRecord(line: string, source: Source): TrialRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    fail(source, 'record', `is not JSON: ${(error as Error).message}`);
  }
  return parseRecordValue(value, source);
}

/** Every record of a sweep.jsonl text (blank lines ignored), each error naming `file` and the line. */
export function parseSweepJsonl(text: string, file: string): TrialRecord[] {
  const records: TrialRecord[] = [];
  text.split('\n').forEach((line, position) => {
    if (line.trim() !== '') records.push(parseRecord(line, { file, line: position + 1 }));
  });
  return records;
}

/** A record without its timing, for comparing sweeps run differently (serial, parallel, queued, resumed). */
export function withoutTiming(record: TrialRecord): Omit<TrialRecord, 'durationMs'> {
  const { durationMs: _durationMs, ...rest } = record;
  return rest;
}

// ---- the queue's job payload ----

/** The data of one queue job: everything a worker started with only a Redis URL needs. */
export interface TrialJob {
  version: 1;
  /** The sweep's id (job ids are `<sweep>.<trial>`). */
  sweep: string;
  /** The sweep's out dir, an absolute path every worker sees (a shared file system). */
  outDir: string;
  trial: TrialSpec;
}

function splitAt(value: unknown, source: Source, field: string): TrialSplit {
  const object = objectAt(value, source, field);
  const kind = oneOf(object, 'kind', ['kfold', 'holdout', 'all'] as const, source, field + '.');
  if (kind === 'holdout') return { kind };
  if (kind === 'all') return { kind, epochs: integerAt(object, 'epochs', source, field + '.', 1) };
  const folds = integerAt(object, 'folds', source, field + '.', 2);
  const fold = integerAt(object, 'fold', source, field + '.');
  if (fold >= folds) fail(source, `${field}.fold`, `must be below folds (${folds}), got ${fold}`);
  return { kind, folds, fold, seed: integerAt(object, 'seed', source, field + '.') };
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Parses a trial spec that crossed a process or queue boundary. */
export function parseTrialSpec(value: unknown, source: Source, field = 'trial'): TrialSpec {
  const object = objectAt(value, source, field);
  const prefix = field + '.';
  const id = stringAt(object, 'id', source, prefix);
  // The id names a directory and a job: no separators, no '..', no ':' (BullMQ's key separator).
  if (!ID.test(id) || id.includes('..')) fail(source, `${field}.id`, `must be letters, digits, '_', '-' and single '.', got ${describe(id)}`);
  const configId = stringAt(object, 'configId', source, prefix);
  if (!ID.test(configId) || configId.includes('..')) fail(source, `${field}.configId`, `must be letters, digits, '_', '-' and single '.', got ${describe(configId)}`);
  return {
    id,
    index: integerAt(object, 'index', source, prefix),
    configId,
    settings: settingsAt(object.settings, source, `${field}.settings`),
    seed: integerAt(object, 'seed', source, prefix),
    split: splitAt(object.split, source, `${field}.split`),
    metric: oneOf(object, 'metric', METRIC_NAMES, source, prefix),
    patience: nullableInteger(object, 'patience', source, prefix, 1),
  };
}

/** Parses a job's data; a malformed job fails with this error's message and the worker goes on. */
export function parseTrialJob(value: unknown, source: Source): TrialJob {
  const object = objectAt(value, source, 'data');
  if (object.version !== 1) fail(source, 'version', `must be 1, got ${describe(object.version)}`);
  const sweep = stringAt(object, 'sweep', source);
  if (!ID.test(sweep)) fail(source, 'sweep', `must be letters, digits, '_', '-', '.', got ${describe(sweep)}`);
  const outDir = stringAt(object, 'outDir', source);
  if (!outDir.startsWith('/')) fail(source, 'outDir', `must be an absolute path, got ${describe(outDir)}`);
  return { version: 1, sweep, outDir, trial: parseTrialSpec(object.trial, source) };
}
