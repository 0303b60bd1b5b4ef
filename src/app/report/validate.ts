/**
 * Reading a run's files into a RunRecord: JSON syntax and the shape of every field are
 * checked, and a problem is a DataError naming the file, the line (where the file has lines
 * that mean something: metrics.jsonl, or a JSON syntax error) and the field
 * (`epochs[1].windows[3]`). Unknown fields are ignored, so newer runs still make reports.
 */
import { DataError } from '../../core/errors.js';
import type { EntityMetrics, EpochRecord, EvalRecord, MaskedLmEvalRecord, MetricsLine, RunRecord, RunSummary, Scores } from './types.js';

export const SUMMARY_FILE = 'summary.json';
export const METRICS_FILE = 'metrics.jsonl';

interface Where {
  file: string;
  line?: number;
}

type JsonObject = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isNumberOrNull = (value: unknown): value is number | null => value === null || isNumber(value);

/** Typed access to one JSON object's fields; every failure names `path.key`. */
class Fields {
  constructor(
    readonly record: JsonObject,
    private readonly where: Where,
    private readonly path: string,
  ) {}

  static of(value: unknown, where: Where, path: string): Fields {
    if (!isObject(value)) fail(where, path || undefined, `expected an object, got ${describe(value)}`);
    return new Fields(value, where, path);
  }

  name(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  private get<T>(key: string, required: boolean, test: (value: unknown) => value is T, expected: string): T | undefined {
    const value = this.record[key];
    if (value === undefined) {
      if (required) fail(this.where, this.name(key), `missing (expected ${expected})`);
      return undefined;
    }
    if (!test(value)) fail(this.where, this.name(key), `expected ${expected}, got ${describe(value)}`);
    return value;
  }

  count(key: string): number {
    return this.get(key, true, isCount, 'an integer ≥ 0')!;
  }
  optionalCount(key: string): number | undefined {
    return this.get(key, false, isCount, 'an integer ≥ 0');
  }
  positive(key: string): number {
    return this.get(key, true, (value): value is number => isCount(value) && value >= 1, 'an integer ≥ 1')!;
  }
  optionalPositive(key: string): number | undefined {
    return this.get(key, false, (value): value is number => isCount(value) && value >= 1, 'an integer ≥ 1');
  }
  number(key: string): number {
    return this.get(key, true, isNumber, 'a number')!;
  }
  optionalNumber(key: string): number | undefined {
    return this.get(key, false, isNumber, 'a number');
  }
  numberOrNull(key: string): number | null {
    return this.get(key, true, isNumberOrNull, 'a number or null')!;
  }
  optionalNumberOrNull(key: string): number | null | undefined {
    return this.get(key, false, isNumberOrNull, 'a number or null');
  }
  optionalString(key: string): string | undefined {
    return this.get(key, false, (value): value is string => typeof value === 'string', 'a string');
  }
  optionalBoolean(key: string): boolean | undefined {
    return this.get(key, false, (value): value is boolean => typeof value === 'boolean', 'true or false');
  }
  optionalObject(key: string): JsonObject | undefined {
    return this.get(key, false, isObject, 'an object');
  }
  array(key: string): unknown[] {
    return this.get(key, true, Array.isArray, 'an array')!;
  }
  optionalArray(key: string): unknown[] | undefined {
    return this.get(key, false, Array.isArray, 'an array');
  }

  /** Each element checked with `test`; the failure names the element (`windows[3]`). */
  items<T>(key: string, values: unknown[], test: (value: unknown) => value is T, expected: string): T[] {
    values.forEach((value, index) => {
      if (!test(value)) fail(this.where, `${this.name(key)}[${index}]`, `expected ${expected}, got ${describe(value)}`);
    });
    return values as T[];
  }
}

function fail(where: Where, field: string | undefined, detail: string): never {
  throw new DataError(detail, { file: where.file, ...(where.line !== undefined ? { line: where.line } : {}), ...(field !== undefined ? { field } : {}) });
}

/**
 * JSON.parse with the error located: V8 says "… at position N" (or "(line L column C)");
 * the position becomes a line of `text`, counted from `firstLine`.
 */
function parseJson(text: string, where: Where): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const lineColumn = /\(line (\d+) column \d+\)/.exec(message);
    const position = /at position (\d+)/.exec(message);
    let line = where.line;
    if (lineColumn) line = (where.line ?? 1) + Number(lineColumn[1]) - 1;
    else if (position) line = (where.line ?? 1) + (text.slice(0, Number(position[1])).match(/\n/g)?.length ?? 0);
    const detail = message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '');
    throw new DataError(`not valid JSON: ${detail}`, { file: where.file, ...(line !== undefined ? { line } : {}) });
  }
}

function scores(value: unknown, where: Where, path: string): Scores {
  const fields = Fields.of(value, where, path);
  const support = fields.optionalCount('support');
  return {
    precision: fields.number('precision'),
    recall: fields.number('recall'),
    f1: fields.number('f1'),
    ...(support !== undefined ? { support } : {}),
  };
}

/** `{name: scores}` or `[{<key>: name, …scores}]`, kept in the form it came in. */
function scoreTable(value: unknown, where: Where, path: string, key: 'label' | 'type'): Record<string, Scores> | (Scores & { [k: string]: unknown })[] {
  if (Array.isArray(value)) {
    return value.map((entry, index) => {
      const fields = Fields.of(entry, where, `${path}[${index}]`);
      const name = fields.record[key];
      if (typeof name !== 'string') fail(where, fields.name(key), `expected a string, got ${describe(name)}`);
      return { [key]: name, ...scores(entry, where, `${path}[${index}]`) };
    });
  }
  if (!isObject(value)) fail(where, path, `expected an object or an array, got ${describe(value)}`);
  const table: Record<string, Scores> = {};
  for (const [name, entry] of Object.entries(value)) table[name] = scores(entry, where, `${path}.${name}`);
  return table;
}

function validateEpoch(value: unknown, where: Where, path: string): EpochRecord {
  const fields = Fields.of(value, where, path);
  const skippedSamples = fields.optionalCount('skipped_samples');
  return {
    epoch: fields.positive('epoch'),
    samples_seen: fields.count('samples_seen'),
    windows: fields.items('windows', fields.array('windows'), isCount, 'an integer ≥ 0'),
    steps: fields.count('steps'),
    skipped_steps: fields.count('skipped_steps'),
    dropped_samples: fields.count('dropped_samples'),
    ...(skippedSamples !== undefined ? { skipped_samples: skippedSamples } : {}),
    loss: fields.numberOrNull('loss'),
  };
}

function validateEval(value: unknown, where: Where, summaryLabels: string[] | undefined): EvalRecord {
  const fields = Fields.of(value, where, 'eval');
  const result: EvalRecord = {
    accuracy: fields.number('accuracy'),
    macro_f1: fields.number('macro_f1'),
    samples: fields.count('samples'),
    correct: fields.count('correct'),
  };
  const file = fields.optionalString('file');
  if (file !== undefined) result.file = file;
  const labelsValue = fields.optionalArray('labels');
  if (labelsValue !== undefined) result.labels = fields.items('labels', labelsValue, (item): item is string => typeof item === 'string', 'a string');
  if (fields.record.per_label !== undefined) result.per_label = scoreTable(fields.record.per_label, where, 'eval.per_label', 'label') as EvalRecord['per_label'];
  const matrix = fields.optionalArray('confusion_matrix');
  if (matrix !== undefined) {
    const labels = result.labels ?? summaryLabels;
    const size = labels?.length ?? matrix.length;
    if (matrix.length !== size) fail(where, 'eval.confusion_matrix', `expected ${size} rows (one per label), got ${matrix.length}`);
    result.confusion_matrix = matrix.map((row, t) => {
      const rowPath = `confusion_matrix[${t}]`;
      if (!Array.isArray(row)) fail(where, `eval.${rowPath}`, `expected an array, got ${describe(row)}`);
      if (row.length !== size) fail(where, `eval.${rowPath}`, `expected ${size} columns (one per label), got ${row.length}`);
      return fields.items(rowPath, row, isCount, 'an integer ≥ 0');
    });
  }
  const entities = fields.optionalObject('entities');
  if (entities !== undefined) {
    const entityFields = Fields.of(entities, where, 'eval.entities');
    result.entities = {
      per_type: scoreTable(entityFields.record.per_type ?? {}, where, 'eval.entities.per_type', 'type') as EntityMetrics['per_type'],
      micro: scores(entityFields.record.micro, where, 'eval.entities.micro'),
      macro: scores(entityFields.record.macro, where, 'eval.entities.macro'),
    };
  }
  return result;
}

/** A masked-LM run's `eval`: told apart from a classifier's by its perplexity. */
function validateMaskedLmEval(value: unknown, where: Where): MaskedLmEvalRecord {
  const fields = Fields.of(value, where, 'eval');
  const result: MaskedLmEvalRecord = {
    loss: fields.numberOrNull('loss'),
    perplexity: fields.numberOrNull('perplexity'),
    masked_tokens: fields.count('masked_tokens'),
    samples: fields.count('samples'),
  };
  const file = fields.optionalString('file');
  if (file !== undefined) result.file = file;
  return result;
}

/** Checks a parsed summary.json; returns a copy with the known fields only (and `settings` as is). */
export function validateSummary(value: unknown, file = SUMMARY_FILE): RunSummary {
  const where = { file };
  const fields = Fields.of(value, where, '');
  const epochs = fields.array('epochs').map((epoch, index) => validateEpoch(epoch, where, `epochs[${index}]`));
  const summary: RunSummary = { samples: fields.count('samples'), epochs };
  const labels = fields.optionalArray('labels');
  if (labels !== undefined) summary.labels = fields.items('labels', labels, (item): item is string => typeof item === 'string', 'a string');
  const optional = {
    micro_batch: fields.optionalPositive('micro_batch'),
    batch: fields.optionalPositive('batch'),
    backend: fields.optionalString('backend'),
    backend_detail: fields.optionalString('backend_detail'),
    workers: fields.optionalPositive('workers'),
    train_seconds: fields.optionalNumber('train_seconds'),
    stopped_early: fields.optionalBoolean('stopped_early'),
    task: fields.optionalString('task'),
    model_type: fields.optionalString('model_type'),
    settings: fields.optionalObject('settings'),
  };
  for (const [key, entry] of Object.entries(optional)) if (entry !== undefined) (summary as unknown as JsonObject)[key] = entry;
  // summary.json keeps a masked-LM run's evaluation under `eval`; a RunSummary (validated again by renderReport) under `masked_lm_eval`.
  const evaluation = fields.record.eval;
  const maskedLm = fields.record.masked_lm_eval ?? (isObject(evaluation) && evaluation.perplexity !== undefined ? evaluation : undefined);
  if (maskedLm !== undefined) summary.masked_lm_eval = validateMaskedLmEval(maskedLm, where);
  else if (evaluation !== undefined && evaluation !== null) summary.eval = validateEval(evaluation, where, summary.labels);
  return summary;
}

/** summary.json's text → RunSummary (DataError on bad JSON, with its line, or a bad field). */
export function parseSummary(text: string, file = SUMMARY_FILE): RunSummary {
  return validateSummary(parseJson(text, { file }), file);
}

/** Checks one parsed metrics.jsonl line (`line` is its 1-based line number in `file`). */
export function validateMetricsLine(value: unknown, file: string, line: number): MetricsLine {
  const where = { file, line };
  const fields = Fields.of(value, where, '');
  const metrics: MetricsLine = { step: fields.positive('step'), epoch: fields.positive('epoch'), loss: fields.numberOrNull('loss') };
  const optional = {
    window: fields.optionalPositive('window'),
    windows: fields.optionalPositive('windows'),
    window_size: fields.optionalCount('window_size'),
    items: fields.optionalCount('items'),
    samples_seen: fields.optionalCount('samples_seen'),
    lr: fields.optionalNumber('lr'),
    grad_norm: fields.optionalNumberOrNull('grad_norm'),
    loss_scale: fields.optionalNumber('loss_scale'),
    skipped: fields.optionalBoolean('skipped'),
    retries: fields.optionalCount('retries'),
    elapsed_s: fields.optionalNumber('elapsed_s'),
  };
  for (const [key, entry] of Object.entries(optional)) if (entry !== undefined) (metrics as unknown as JsonObject)[key] = entry;
  return metrics;
}

/**
 * metrics.jsonl's text → its lines (blank lines ignored; steps must increase). A last line
 * without its newline that is not valid JSON is what a run killed mid-write leaves: it is
 * left out with a warning instead of failing the report.
 */
export function parseMetrics(text: string, file = METRICS_FILE): { metrics: MetricsLine[]; warnings: string[] } {
  const lines = text.split('\n');
  const metrics: MetricsLine[] = [];
  const warnings: string[] = [];
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    if (raw.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = parseJson(raw, { file, line });
    } catch (error) {
      const unterminatedLast = index === lines.length - 1;
      if (!unterminatedLast) throw error;
      warnings.push(`${file}, line ${line}: incomplete last line ignored (the run was probably stopped while writing it)`);
      break;
    }
    const entry = validateMetricsLine(parsed, file, line);
    const previous = metrics[metrics.length - 1];
    if (previous !== undefined && entry.step <= previous.step) fail({ file, line }, 'step', `step ${entry.step} follows step ${previous.step} (steps must increase)`);
    metrics.push(entry);
  }
  return { metrics, warnings };
}

/**
 * Checks a RunRecord built elsewhere (a web page's, or JSON of unknown origin) the way the
 * files are checked; metrics entries are located as lines of metrics.jsonl.
 */
export function validateRunRecord(run: unknown): RunRecord {
  const fields = Fields.of(run, { file: 'run record' }, '');
  const record: RunRecord = {
    metrics: fields.array('metrics').map((line, index) => validateMetricsLine(line, METRICS_FILE, index + 1)),
  };
  if (fields.record.summary !== undefined) record.summary = validateSummary(fields.record.summary);
  const settings = fields.optionalObject('settings');
  if (settings !== undefined) record.settings = settings;
  const finishedAt = fields.optionalString('finishedAt');
  if (finishedAt !== undefined) record.finishedAt = finishedAt;
  const warnings = fields.optionalArray('warnings');
  if (warnings !== undefined) record.warnings = fields.items('warnings', warnings, (item): item is string => typeof item === 'string', 'a string');
  return record;
}
