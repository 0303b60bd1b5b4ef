/** Classification metrics from predicted and true label ids (pure functions, no tensors). */

export interface ClassificationReport {
  samples: number;
  accuracy: number;
  /** Unweighted mean of per-label F1 over labels that occur in the truth or the predictions. */
  macro_f1: number;
  labels: string[];
  /** confusion[t][p] = samples of true label t predicted as p. */
  confusion: number[][];
  per_label: { label: string; precision: number; recall: number; f1: number; support: number }[];
}

export function classificationReport(predicted: readonly number[], actual: readonly number[], labels: readonly string[]): ClassificationReport {
  if (predicted.length !== actual.length) throw new RangeError(`${predicted.length} predictions for ${actual.length} labels`);
  const confusion = labels.map(() => labels.map(() => 0));
  let correct = 0;
  predicted.forEach((p, i) => {
    const t = actual[i]!;
    confusion[t]![p]! += 1;
    if (p === t) correct += 1;
  });
  const perLabel = labels.map((label, k) => {
    const truePositives = confusion[k]![k]!;
    const predictedK = confusion.reduce((sum, row) => sum + row[k]!, 0);
    const support = confusion[k]!.reduce((sum, n) => sum + n, 0);
    const precision = predictedK === 0 ? 0 : truePositives / predictedK;
    const recall = support === 0 ? 0 : truePositives / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, precision, recall, f1, support, present: support > 0 || predictedK > 0 };
  });
  const present = perLabel.filter((entry) => entry.present);
  return {
    samples: actual.length,
    accuracy: actual.length === 0 ? 0 : correct / actual.length,
    macro_f1: present.length === 0 ? 0 : present.reduce((sum, entry) => sum + entry.f1, 0) / present.length,
    labels: [...labels],
    confusion,
    per_label: perLabel.map(({ label, precision, recall, f1, support }) => ({ label, precision, recall, f1, support })),
  };
}

/** A fixed-width confusion matrix for the terminal (rows: truth, columns: prediction). */
export function formatConfusion(report: ClassificationReport): string {
  const corner = 'true\\pred';
  // One width for every column, the corner label included, so the columns line up.
  const width = Math.max(corner.length, ...report.labels.map((label) => label.length), ...report.confusion.flat().map((n) => String(n).length)) + 1;
  const pad = (text: string) => text.padStart(width);
  const header = pad(corner) + report.labels.map(pad).join('');
  const rows = report.labels.map((label, t) => pad(label) + report.confusion[t]!.map((n) => pad(String(n))).join(''));
  return [header, ...rows].join('\n');
}
