/** Inference over a dataset in batches: predicted classes, probabilities and metrics. */
import * as tf from '@tensorflow/tfjs-core';
import { loadBertCheckpoint } from '../bert/checkpoint.js';
import type { BertForSequenceClassification, EncodedExample } from '../bert/model.js';
import { BertTokenizer } from '../bert/tokenizer.js';
import { classificationReport, type ClassificationReport } from './metrics.js';

export interface Prediction {
  label: number;
  probabilities: number[];
}

/** Class probabilities (softmax of the logits, no dropout) of every example, `batchSize` at a time. */
export function predictClassifier(model: Pick<BertForSequenceClassification, 'logits'>, examples: readonly EncodedExample[], batchSize: number): Prediction[] {
  const predictions: Prediction[] = [];
  for (let start = 0; start < examples.length; start += batchSize) {
    const probabilities = tf.tidy(() => tf.softmax(model.logits(examples.slice(start, start + batchSize))));
    // Read outside tidy: returning a TypedArray from tidy makes it walk every element.
    const rows = probabilities.arraySync() as number[][];
    probabilities.dispose();
    for (const row of rows) {
      let best = 0;
      for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
      predictions.push({ label: best, probabilities: row });
    }
  }
  return predictions;
}

export interface EvaluationResult {
  report: ClassificationReport;
  correct: number;
  predictions: Prediction[];
}

export function evaluateClassifier(
  model: Pick<BertForSequenceClassification, 'logits'>,
  examples: readonly EncodedExample[],
  labels: readonly string[],
  batchSize: number,
): EvaluationResult {
  const predictions = predictClassifier(model, examples, batchSize);
  const report = classificationReport(
    predictions.map((prediction) => prediction.label),
    examples.map((example) => example.label),
    labels,
  );
  const correct = predictions.filter((prediction, i) => prediction.label === examples[i]!.label).length;
  return { report, correct, predictions };
}

/** A trained classifier directory ready for inference: model, tokenizer and label names. */
export async function loadClassifier(dir: string): Promise<{ model: BertForSequenceClassification; tokenizer: BertTokenizer; labels: string[] }> {
  const tokenizer = BertTokenizer.fromDirectory(dir);
  const { model, labels } = await loadBertCheckpoint(dir);
  return { model, tokenizer, labels };
}
