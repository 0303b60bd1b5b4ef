/** Inference over a dataset in batches: predicted classes, probabilities and metrics. */
import type { EncoderInput } from '../models/encoder.js';
import type { SequenceClassifier, SequenceSample } from '../tasks/model.js';
import { classificationReport, type ClassificationReport } from './metrics/classification.js';

export interface Prediction {
  label: number;
  probabilities: number[];
}

/** Class probabilities (softmax of the logits, no dropout) of every input, `batchSize` at a time. */
export function predictClassifier(model: Pick<SequenceClassifier, 'probabilities'>, inputs: readonly EncoderInput[], batchSize: number): Prediction[] {
  const predictions: Prediction[] = [];
  for (let start = 0; start < inputs.length; start += batchSize) {
    for (const row of model.probabilities(inputs.slice(start, start + batchSize))) {
      let best = 0;
      for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
      predictions.push({ label: best, probabilities: Array.from(row) });
    }
  }
  return predictions;
}

export interface EvaluationResult {
  report: ClassificationReport;
  correct: number;
  /** Mean cross-entropy of the true labels (natural log). */
  loss: number;
  predictions: Prediction[];
}

export function evaluateClassifier(model: Pick<SequenceClassifier, 'probabilities'>, samples: readonly SequenceSample[], labels: readonly string[], batchSize: number): EvaluationResult {
  const predictions = predictClassifier(model, samples, batchSize);
  const report = classificationReport(
    predictions.map((prediction) => prediction.label),
    samples.map((sample) => sample.label),
    labels,
  );
  const correct = predictions.filter((prediction, i) => prediction.label === samples[i]!.label).length;
  const loss = predictions.reduce((sum, prediction, i) => sum - Math.log(Math.max(prediction.probabilities[samples[i]!.label]!, Number.MIN_VALUE)), 0) / Math.max(1, samples.length);
  return { report, correct, loss, predictions };
}
