/**
 * Parsers for labelled text: JSONL, CSV and TSV, from the file's content (reading files is the
 * platform's job: src/node/files.ts, or a File in the browser). Every row is either returned or
 * rejected with a DataError naming file, line and field; nothing is skipped except lines that
 * hold no data at all (blank lines), which keep their place in the line count.
 */
import { parse } from 'csv-parse/browser/esm/sync';
import { DataError } from '../../core/errors.js';

export type DataFormat = 'jsonl' | 'csv' | 'tsv';

export interface ReadOptions {
  textField?: string;
  labelField?: string;
  /** Default: from the extension (.jsonl/.ndjson/.json-lines, .csv, .tsv/.tab). */
  format?: DataFormat;
  /** When false, rows without a label get `label: null` (for prediction). Default true. */
  requireLabel?: boolean;
}

export interface LabelledRow {
  text: string;
  label: string | null;
  /** 1-based line where the row starts in the file. */
  line: number;
}

export interface ReadReport {
  file: string;
  format: DataFormat;
  textField: string;
  labelField: string;
  rowsRead: number;
  /** Rows per label (rows without a label are not counted here). */
  labels: Record<string, number>;
}

export interface LabelledData {
  rows: LabelledRow[];
  report: ReadReport;
}

const EXTENSIONS: Record<string, DataFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json-lines': 'jsonl',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
};

interface Fields {
  file: string;
  textField: string;
  labelField: string;
  requireLabel: boolean;
}

/** The format a file name's extension says, if any. */
export function formatOfFileName(file: string): DataFormat | undefined {
  const dot = file.lastIndexOf('.');
  const slash = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return dot > slash ? EXTENSIONS[file.slice(dot).toLowerCase()] : undefined;
}

function extensionOf(file: string): string {
  const dot = file.lastIndexOf('.');
  return dot > Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) ? file.slice(dot) : '';
}

/** Parses the content of labelled text file `file`; see the module comment for the error contract. */
export function parseLabelledText(content: string, file: string, options: ReadOptions = {}): LabelledData {
  const fields: Fields = {
    file,
    textField: options.textField ?? 'text',
    labelField: options.labelField ?? 'label',
    requireLabel: options.requireLabel ?? true,
  };
  const format = options.format ?? formatOfFileName(file);
  if (format === undefined) {
    throw new DataError(`unknown data format "${extensionOf(file)}" (use .jsonl, .ndjson, .json-lines, .csv, .tsv or .tab, or name the format)`, { file });
  }
  if (!Object.hasOwn(FORMAT_READERS, format)) {
    throw new DataError(`unknown data format "${String(format)}" (expected jsonl, csv or tsv)`, { file });
  }
  // A UTF-8 byte-order mark is an encoding artefact, not part of the first field name.
  if (content.startsWith('\ufeff')) content = content.slice(1);
  if (content.trim().length === 0) throw new DataError('the file is empty', { file });
  const rows = FORMAT_READERS[format](content, fields);
  if (rows.length === 0) throw new DataError('no data rows (only a header or blank lines)', { file });
  // Prototype-free, so a label such as "__proto__" is counted like any other.
  const labels: Record<string, number> = Object.create(null);
  for (const row of rows) if (row.label !== null) labels[row.label] = (labels[row.label] ?? 0) + 1;
  return {
    rows,
    report: { file, format, textField: fields.textField, labelField: fields.labelField, rowsRead: rows.length, labels },
  };
}

const FORMAT_READERS: Record<DataFormat, (content: string, fields: Fields) => LabelledRow[]> = {
  jsonl: readJsonLines,
  csv: (content, fields) => readDelimited(content, fields, ','),
  tsv: (content, fields) => readDelimited(content, fields, '\t'),
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function checkText(value: unknown, line: number, fields: Fields): string {
  if (typeof value !== 'string') throw new DataError(`text must be a string, got ${describe(value)}`, { file: fields.file, line, field: fields.textField });
  if (value.trim().length === 0) throw new DataError('text is empty', { file: fields.file, line, field: fields.textField });
  return value;
}

function readJsonLines(content: string, fields: Fields): LabelledRow[] {
  const rows: LabelledRow[] = [];
  content.split('\n').forEach((rawLine, index) => {
    const line = index + 1;
    const source = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (source.trim().length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (error) {
      throw new DataError(`malformed JSON (${(error as Error).message})`, { file: fields.file, line });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DataError(`row must be a JSON object, got ${describe(value)}`, { file: fields.file, line });
    }
    const record = value as Record<string, unknown>;
    const available = () => `available fields: ${Object.keys(record).map((key) => `"${key}"`).join(', ') || 'none'}`;
    if (!(fields.textField in record)) throw new DataError(`missing text field (${available()})`, { file: fields.file, line, field: fields.textField });
    const text = checkText(record[fields.textField], line, fields);
    let label: string | null = null;
    const rawLabel = record[fields.labelField];
    if (rawLabel === undefined || rawLabel === null) {
      if (fields.requireLabel) {
        throw new DataError(rawLabel === null ? 'label is null' : `missing label field (${available()})`, { file: fields.file, line, field: fields.labelField });
      }
    } else if (typeof rawLabel === 'string') {
      if (rawLabel.trim().length > 0) label = rawLabel;
      else if (fields.requireLabel) throw new DataError('label is empty', { file: fields.file, line, field: fields.labelField });
    } else if (typeof rawLabel === 'number' && Number.isInteger(rawLabel)) {
      // Integer class ids and their string form name the same class.
      label = String(rawLabel);
    } else {
      throw new DataError(`label must be a string or an integer, got ${typeof rawLabel === 'number' ? rawLabel : describe(rawLabel)}`, { file: fields.file, line, field: fields.labelField });
    }
    rows.push({ text, label, line });
  });
  return rows;
}

/** Line number (1-based) of the byte at `offset`; `cache` makes increasing offsets cost O(total). */
function lineAt(bytes: Uint8Array, offset: number, cache: { offset: number; line: number }): number {
  for (let i = cache.offset; i < offset; i++) if (bytes[i] === 0x0a) cache.line++;
  cache.offset = offset;
  return cache.line;
}

/** Offset of the first byte at or after `offset` that is not a line break (skips blank lines). */
function skipLineBreaks(bytes: Uint8Array, offset: number): number {
  while (offset < bytes.length && (bytes[offset] === 0x0a || bytes[offset] === 0x0d)) offset++;
  return offset;
}

/**
 * The records of CSV / TSV `content` (quoted as Python's `csv` excel / excel-tab dialects) with
 * the line each starts on. Records are located by byte offset: csv-parse reports where each
 * record ends (its line counter counts a CRLF inside a quoted field as two lines, so it is not
 * used), and a record starts at the first non-blank line after the previous one. No Node Buffer
 * here and csv-parse's browser build: the web page parses its dropped files with this code.
 */
export function delimitedRecords(content: string, delimiter: ',' | '\t', where: { file?: string }): { record: string[]; line: number }[] {
  const bytes = new TextEncoder().encode(content);
  const cache = { offset: 0, line: 1 };
  const records: { record: string[]; end: number }[] = [];
  try {
    parse(bytes, {
      delimiter,
      quote: '"',
      escape: '"',
      relax_quotes: true,
      relax_column_count: true,
      skip_empty_lines: true,
      on_record: (record: string[], context: { bytes: number }) => {
        records.push({ record, end: context.bytes });
        return record;
      },
    });
  } catch (error) {
    const line = lineAt(bytes, skipLineBreaks(bytes, records.at(-1)?.end ?? 0), cache);
    const message = (error as Error).message.replace(/ at line \d+\.?$/, '');
    throw new DataError(`malformed ${delimiter === ',' ? 'CSV' : 'TSV'} record starting on this line: ${message}`, { ...where, line });
  }
  let previousEnd = 0;
  return records.map(({ record, end }) => {
    const line = lineAt(bytes, skipLineBreaks(bytes, previousEnd), cache);
    previousEnd = end;
    return { record, line };
  });
}

/**
 * CSV / TSV with a header row, quoting as Python's `csv` excel / excel-tab dialects: fields
 * may be quoted with `"`, `""` is a literal quote, quoted fields may hold delimiters and line
 * breaks, and a quote inside an unquoted field is literal.
 */
function readDelimited(content: string, fields: Fields, delimiter: ',' | '\t'): LabelledRow[] {
  const located = delimitedRecords(content, delimiter, { file: fields.file });
  if (located.length === 0) return [];
  const [header, ...body] = located;
  const columns = header!.record;
  const seen = new Set<string>();
  for (const name of columns) {
    if (seen.has(name)) throw new DataError(`duplicate column "${name}" in the header`, { file: fields.file, line: header!.line });
    seen.add(name);
  }
  const listColumns = () => `available columns: ${columns.map((name) => `"${name}"`).join(', ')}`;
  const textIndex = columns.indexOf(fields.textField);
  if (textIndex < 0) throw new DataError(`missing text column (${listColumns()})`, { file: fields.file, line: header!.line, field: fields.textField });
  const labelIndex = columns.indexOf(fields.labelField);
  if (labelIndex < 0 && fields.requireLabel) {
    throw new DataError(`missing label column (${listColumns()})`, { file: fields.file, line: header!.line, field: fields.labelField });
  }
  return body.map(({ record, line }) => {
    if (record.length !== columns.length) {
      throw new DataError(`expected ${columns.length} columns as in the header, found ${record.length}`, { file: fields.file, line });
    }
    const text = checkText(record[textIndex], line, fields);
    let label: string | null = labelIndex < 0 ? null : record[labelIndex]!;
    if (label !== null && label.trim().length === 0) {
      if (fields.requireLabel) throw new DataError('label is empty', { file: fields.file, line, field: fields.labelField });
      label = null;
    }
    return { text, label, line };
  });
}
