/** Turning labelled rows into token ids and class ids, and summarising their lengths. */
import type { EncodedExample } from '../bert/model.js';
import type { BertTokenizer } from '../bert/tokenizer.js';
import { DataError } from '../core/errors.js';
import type { LabelMap } from './labels.js';
import type { LabelledData } from './read.js';

/** An encoded row (a model `EncodedExample`), with where it came from and how much truncation removed. */
export interface EncodedRow extends EncodedExample {
  line: number;
  truncatedTokens: number;
}

export interface LengthStats {
  count: number;
  /** Sequence lengths in tokens, `[CLS]` and `[SEP]` included. */
  minTokens: number;
  meanTokens: number;
  maxTokens: number;
  /** Examples that lost word pieces to `maxLength`. */
  truncated: number;
}

export interface EncodeOptions {
  maxLength: number;
  label2id: LabelMap['label2id'];
}

/** `[CLS] text [SEP]` ids (truncated to `maxLength`) and the class id of every row, in file order. */
export function encodeRows(data: LabelledData, tokenizer: Pick<BertTokenizer, 'encode'>, options: EncodeOptions): EncodedRow[] {
  const { file, labelField } = data.report;
  return data.rows.map((row) => {
    if (row.label === null) throw new DataError('label is missing', { file, line: row.line, field: labelField });
    if (!Object.hasOwn(options.label2id, row.label)) {
      throw new DataError(`unknown label "${row.label}"`, { file, line: row.line, field: labelField });
    }
    const { ids, truncatedTokens } = tokenizer.encode(row.text, { maxLength: options.maxLength });
    return { ids, label: options.label2id[row.label]!, line: row.line, truncatedTokens };
  });
}

/** Length summary for the run report. */
export function lengthStats(examples: readonly EncodedRow[]): LengthStats {
  if (examples.length === 0) return { count: 0, minTokens: 0, meanTokens: 0, maxTokens: 0, truncated: 0 };
  let minTokens = Infinity;
  let maxTokens = 0;
  let total = 0;
  let truncated = 0;
  for (const example of examples) {
    minTokens = Math.min(minTokens, example.ids.length);
    maxTokens = Math.max(maxTokens, example.ids.length);
    total += example.ids.length;
    if (example.truncatedTokens > 0) truncated++;
  }
  return { count: examples.length, minTokens, meanTokens: total / examples.length, maxTokens, truncated };
}
