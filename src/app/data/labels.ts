/** Label vocabularies: the class names of a classifier and their ids. */
import { DataError } from '../../core/errors.js';
import type { LabelledData } from './labelled.js';

export interface LabelMap {
  /** Class names in id order (`id2label`). */
  labels: string[];
  label2id: Record<string, number>;
}

/**
 * Without `fixedLabels`: the data's distinct labels, sorted (code-unit order, like Python's
 * `sorted`), so the same data always gives the same ids. With `fixedLabels` (a checkpoint's
 * `id2label` in id order) those are the classes, and a row whose label is not one of them is a
 * DataError naming file, line and field. Rows without a label are an error either way: a
 * label map is only built for training or evaluation.
 */
export function buildLabelMap(data: LabelledData, fixedLabels?: readonly string[]): LabelMap {
  const { file, labelField } = data.report;
  if (fixedLabels !== undefined) {
    if (new Set(fixedLabels).size !== fixedLabels.length) {
      throw new DataError(`the fixed labels contain duplicates: ${JSON.stringify(fixedLabels)}`);
    }
    const labels = [...fixedLabels];
    const label2id = toIndex(labels);
    for (const row of data.rows) {
      if (row.label === null) throw new DataError('label is missing', { file, line: row.line, field: labelField });
      if (!Object.hasOwn(label2id, row.label)) {
        throw new DataError(`unknown label "${row.label}" (the model's labels are ${labels.map((label) => `"${label}"`).join(', ')})`, { file, line: row.line, field: labelField });
      }
    }
    return { labels, label2id };
  }
  const distinct = new Set<string>();
  for (const row of data.rows) {
    if (row.label === null) throw new DataError('label is missing', { file, line: row.line, field: labelField });
    distinct.add(row.label);
  }
  const labels = [...distinct].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { labels, label2id: toIndex(labels) };
}

function toIndex(labels: readonly string[]): Record<string, number> {
  // A prototype-free object: labels such as "constructor" or "__proto__" are ordinary keys.
  const label2id: Record<string, number> = Object.create(null);
  labels.forEach((label, id) => {
    label2id[label] = id;
  });
  return label2id;
}
