/** Turning labelled rows into token ids and class ids, and summarising their lengths. */
import { DataError } from '../../core/errors.js';
import type { SequenceSample } from '../../tasks/model.js';
import type { LabelMap } from './labels.js';
import type { LabelledData } from './labelled.js';

/** What encoding needs of a tokenizer: ids with the family's special tokens, truncated to `maxLength`. */
export interface TextEncoder {
  encode(text: string, options: { maxLength: number }): { ids: number[]; typeIds?: number[]; truncated: boolean };
}

/** An encoded row (a sequence-classification sample), with the line it came from. */
export interface EncodedRow extends SequenceSample {
  line: number;
  truncated: boolean;
}

export interface LengthStats {
  count: number;
  /** Sequence lengths in tokens, special tokens included. */
  minTokens: number;
  meanTokens: number;
  maxTokens: number;
  /** Examples that lost word pieces to `maxLength`. */
  truncated: number;
}

export interface EncodeRowsOptions {
  maxLength: number;
  label2id: LabelMap['label2id'];
}

/** Token ids (with special tokens, truncated to `maxLength`) and the class id of every row, in file order. */
export function encodeRows(data: LabelledData, tokenizer: TextEncoder, options: EncodeRowsOptions): EncodedRow[] {
  const { file, labelField } = data.report;
  return data.rows.map((row) => {
    if (row.label === null) throw new DataError('label is missing', { file, line: row.line, field: labelField });
    if (!Object.hasOwn(options.label2id, row.label)) {
      throw new DataError(`unknown label "${row.label}"`, { file, line: row.line, field: labelField });
    }
    const { ids, typeIds, truncated } = tokenizer.encode(row.text, { maxLength: options.maxLength });
    return { ids, ...(typeIds !== undefined ? { typeIds } : {}), label: options.label2id[row.label]!, line: row.line, truncated };
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
    if (example.truncated) truncated++;
  }
  return { count: examples.length, minTokens, meanTokens: total / examples.length, maxTokens, truncated };
}
