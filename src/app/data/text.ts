/**
 * Pretraining text: documents parsed from a string (the caller reads the file, so this runs in a
 * browser too), then turned into model inputs the way Hugging Face's
 * examples/pytorch/language-modeling/run_mlm.py does.
 *
 * Documents: plain text is one document per line (lines end with \n, \r\n or \r, as the
 * `datasets` text loader reads them); JSONL and CSV/TSV give the text field of each row, with the
 * same quoting and error contract as src/data/read.ts (DataError naming file, line and field).
 * Blank documents — empty or only whitespace (Python's `isspace`) — are skipped in every format
 * and counted in `blankSkipped`, as run_mlm's `--line_by_line` filter drops them.
 *
 * Model inputs, from a tokenizer callback `encode(text)` that returns the ids WITH the special
 * tokens (run_mlm tokenizes with them and `return_special_tokens_mask=True`):
 * * `packDocuments` is run_mlm's default `group_texts`: the encoded documents of each group of
 *   `mapBatchSize` documents (1000: `datasets.map(batched=True)`'s batch) are concatenated —
 *   ids, special-token flags and word ids — and cut into blocks of `maxSeqLength`; the remainder
 *   shorter than a block is dropped, except that a group with fewer tokens than one block yields
 *   that one short block (`if total_length >= max_seq_length:`). The special-token flags travel
 *   with the ids, so the [CLS]/[SEP] inside a block are never masked. Word ids are renumbered
 *   per block (0, 1, … in order of appearance; a word cut by a block boundary is a word of each
 *   block), so whole-word masking never joins words of different documents.
 * * `truncateDocuments` is run_mlm's `--line_by_line`: each document alone, truncated as the
 *   tokenizer's `truncation=True, max_length=max_seq_length` does for one sequence — the
 *   template's special tokens at both ends are kept and the text in between is cut at its end.
 *   No padding (run_mlm's default; the collator pads a batch).
 *
 * One difference from run_mlm: its packed mode tokenizes blank lines too (each adds its
 * [CLS] [SEP] to the stream, and they count in the groups of 1000); we skip them in both modes.
 */
import { ConfigError, DataError } from '../../core/errors.js';
import { delimitedRecords } from './labelled.js';

export type TextFormat = 'text' | 'jsonl' | 'csv' | 'tsv';

export interface TextReadOptions {
  format: TextFormat;
  /** The source's name in error messages (the file the caller read). */
  file?: string;
  /** The JSONL field or CSV/TSV column that holds the text. Default 'text'. */
  textField?: string;
}

export interface TextDocument {
  text: string;
  /** 1-based line where the document starts. */
  line: number;
}

export interface TextDocuments {
  documents: TextDocument[];
  /** Empty or whitespace-only documents that were skipped. */
  blankSkipped: number;
}

/** A tokenizer's output for one text, with the special tokens of its template. */
export interface EncodedText {
  ids: number[];
  specialTokensMask: number[];
  wordIds: (number | null)[];
}

export type EncodeText = (text: string) => EncodedText;

/** One model input: a packed block or a truncated document. */
export interface PretrainingBlock extends EncodedText {
  /** Line of the document that holds the block's first token. */
  line: number;
}

const TEXT_EXTENSIONS: Readonly<Record<string, TextFormat>> = {
  '.txt': 'text',
  '.text': 'text',
  '.raw': 'text',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json-lines': 'jsonl',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
};

/** The format a file name's extension implies, if any. */
export function textFormatOf(fileName: string): TextFormat | undefined {
  const dot = fileName.lastIndexOf('.');
  if (dot < 0 || fileName.lastIndexOf('/') > dot) return undefined;
  return TEXT_EXTENSIONS[fileName.slice(dot).toLowerCase()];
}

/** The documents of `content`; see the module comment. */
export function parseTextDocuments(content: string, options: TextReadOptions): TextDocuments {
  const where = options.file === undefined ? {} : { file: options.file };
  const text = content.startsWith('\ufeff') ? content.slice(1) : content;
  const textField = options.textField ?? 'text';
  let rows: { text: string; line: number }[];
  switch (options.format) {
    case 'text':
      rows = plainLines(text);
      break;
    case 'jsonl':
      rows = jsonLines(text, where, textField);
      break;
    case 'csv':
    case 'tsv':
      rows = delimitedRows(text, where, textField, options.format === 'csv' ? ',' : '\t');
      break;
    default:
      throw new DataError(`unknown text format "${String(options.format)}" (expected text, jsonl, csv or tsv)`, where);
  }
  const documents = rows.filter((row) => !isBlank(row.text));
  return { documents, blankSkipped: rows.length - documents.length };
}

/** Python's `str.isspace()` characters (Unicode White_Space plus the information separators U+001C–U+001F). */
const BLANK = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

function isBlank(text: string): boolean {
  return BLANK.test(text);
}

function plainLines(text: string): { text: string; line: number }[] {
  const lines = text.split(/\r\n|\r|\n/);
  // A final line break ends the last line; it does not start an empty one.
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((line, index) => ({ text: line, line: index + 1 }));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function jsonLines(text: string, where: { file?: string }, textField: string): { text: string; line: number }[] {
  const rows: { text: string; line: number }[] = [];
  text.split('\n').forEach((rawLine, index) => {
    const line = index + 1;
    const source = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (source.trim().length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (error) {
      throw new DataError(`malformed JSON (${(error as Error).message})`, { ...where, line });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DataError(`row must be a JSON object, got ${describe(value)}`, { ...where, line });
    }
    const record = value as Record<string, unknown>;
    if (!Object.hasOwn(record, textField)) {
      const available = Object.keys(record).map((key) => `"${key}"`).join(', ') || 'none';
      throw new DataError(`missing text field (available fields: ${available})`, { ...where, line, field: textField });
    }
    const field = record[textField];
    if (typeof field !== 'string') throw new DataError(`text must be a string, got ${describe(field)}`, { ...where, line, field: textField });
    rows.push({ text: field, line });
  });
  return rows;
}

/**
 * CSV / TSV with a header row: the records as labelled.ts's `delimitedRecords` locates them.
 */
function delimitedRows(text: string, where: { file?: string }, textField: string, delimiter: ',' | '\t'): { text: string; line: number }[] {
  const located = delimitedRecords(text, delimiter, where);
  if (located.length === 0) return [];
  const [header, ...body] = located;
  const columns = header!.record;
  const textIndex = columns.indexOf(textField);
  if (textIndex < 0) {
    const available = columns.map((name) => `"${name}"`).join(', ');
    throw new DataError(`missing text column (available columns: ${available})`, { ...where, line: header!.line, field: textField });
  }
  return body.map(({ record, line }) => {
    if (record.length !== columns.length) {
      throw new DataError(`expected ${columns.length} columns as in the header, found ${record.length}`, { ...where, line });
    }
    return { text: record[textIndex]!, line };
  });
}

// ---------------------------------------------------------------------------------------------
// Model inputs.

export interface PackOptions {
  maxSeqLength: number;
  /** Documents concatenated together before cutting (datasets.map's batch size). Default 1000; Infinity for one group. */
  mapBatchSize?: number;
  /** Name for error messages. */
  file?: string;
}

export interface PackedBlocks {
  blocks: PretrainingBlock[];
  /** Tokens of all documents, special tokens included. */
  tokens: number;
  /** Tokens dropped at the end of each group (fewer than one block each). */
  droppedTokens: number;
}

/** run_mlm's `group_texts`; see the module comment. */
export function packDocuments(documents: readonly TextDocument[], encode: EncodeText, options: PackOptions): PackedBlocks {
  const maxSeqLength = checkLength(options.maxSeqLength);
  const groupSize = options.mapBatchSize ?? 1000;
  if (!(groupSize === Infinity || (Number.isInteger(groupSize) && groupSize >= 1))) {
    throw new ConfigError(`must be a positive integer or Infinity, got ${groupSize}`, { field: 'mapBatchSize' });
  }
  const result: PackedBlocks = { blocks: [], tokens: 0, droppedTokens: 0 };
  for (let first = 0; first < documents.length; first += groupSize) {
    const group = documents.slice(first, first + groupSize);
    // The concatenation, with the document of every token so that blocks know their line and words.
    const stream = { ids: [] as number[], specialTokensMask: [] as number[], wordIds: [] as (number | null)[], documents: [] as number[] };
    group.forEach((document, index) => {
      const encoded = checkedEncode(encode, document, options.file);
      // One push per token: spreading a long document's ids into push() would overflow the stack.
      for (let i = 0; i < encoded.ids.length; i++) {
        stream.ids.push(encoded.ids[i]!);
        stream.specialTokensMask.push(encoded.specialTokensMask[i]!);
        stream.wordIds.push(encoded.wordIds[i]!);
        stream.documents.push(index);
      }
    });
    let total = stream.ids.length;
    result.tokens += total;
    if (total >= maxSeqLength) total = Math.floor(total / maxSeqLength) * maxSeqLength;
    result.droppedTokens += stream.ids.length - total;
    for (let start = 0; start < total; start += maxSeqLength) {
      const end = Math.min(start + maxSeqLength, total);
      // A document's tokens are contiguous, so its words get fresh numbers when it begins.
      let document = -1;
      let renumbered = new Map<number, number>();
      let nextWordId = 0;
      const wordIds = stream.wordIds.slice(start, end).map((wordId, offset) => {
        if (stream.documents[start + offset] !== document) {
          document = stream.documents[start + offset]!;
          renumbered = new Map();
        }
        if (wordId === null) return null;
        let id = renumbered.get(wordId);
        if (id === undefined) renumbered.set(wordId, (id = nextWordId++));
        return id;
      });
      result.blocks.push({
        ids: stream.ids.slice(start, end),
        specialTokensMask: stream.specialTokensMask.slice(start, end),
        wordIds,
        line: group[stream.documents[start]!]!.line,
      });
    }
  }
  return result;
}

export interface TruncatedDocuments {
  blocks: PretrainingBlock[];
  /** Documents longer than maxSeqLength that were cut. */
  truncated: number;
}

/** run_mlm's `--line_by_line`; see the module comment. */
export function truncateDocuments(documents: readonly TextDocument[], encode: EncodeText, options: { maxSeqLength: number; file?: string }): TruncatedDocuments {
  const maxSeqLength = checkLength(options.maxSeqLength);
  const result: TruncatedDocuments = { blocks: [], truncated: 0 };
  for (const document of documents) {
    const encoded = checkedEncode(encode, document, options.file);
    if (encoded.ids.length <= maxSeqLength) {
      result.blocks.push({ ...encoded, line: document.line });
      continue;
    }
    // The template: leading and trailing special tokens that belong to no word of the text.
    const isTemplate = (i: number) => encoded.specialTokensMask[i] === 1 && encoded.wordIds[i] === null;
    let prefix = 0;
    while (prefix < encoded.ids.length && isTemplate(prefix)) prefix++;
    let suffixStart = encoded.ids.length;
    while (suffixStart > prefix && isTemplate(suffixStart - 1)) suffixStart--;
    const specials = prefix + encoded.ids.length - suffixStart;
    if (specials >= maxSeqLength) {
      throw new ConfigError(`${maxSeqLength} leaves no room for text besides the template's ${specials} special tokens`, { field: 'maxSeqLength' });
    }
    const keep = (values: readonly (number | null)[]) => [...values.slice(0, prefix + maxSeqLength - specials), ...values.slice(suffixStart)];
    result.blocks.push({
      ids: keep(encoded.ids) as number[],
      specialTokensMask: keep(encoded.specialTokensMask) as number[],
      wordIds: keep(encoded.wordIds),
      line: document.line,
    });
    result.truncated++;
  }
  return result;
}

function checkLength(maxSeqLength: number): number {
  if (!Number.isInteger(maxSeqLength) || maxSeqLength < 1) throw new ConfigError(`must be a positive integer, got ${maxSeqLength}`, { field: 'maxSeqLength' });
  return maxSeqLength;
}

function checkedEncode(encode: EncodeText, document: TextDocument, file: string | undefined): EncodedText {
  const encoded = encode(document.text);
  const where = { ...(file === undefined ? {} : { file }), line: document.line };
  const length = encoded.ids.length;
  if (encoded.specialTokensMask.length !== length || encoded.wordIds.length !== length) {
    throw new DataError(
      `the tokenizer returned ${length} ids, ${encoded.specialTokensMask.length} special-token flags and ${encoded.wordIds.length} word ids`,
      where,
    );
  }
  return encoded;
}
