/**
 * Softmax cross-entropy summed over labelled rows (HF's CrossEntropyLoss with reduction 'sum'
 * and ignore_index −100), with its gradient. Computed in float64 on the host: logits are small
 * next to the encoder (samples × labels, or masked tokens × vocabulary).
 */
import * as tf from '@tensorflow/tfjs-core';
import { tensorValues } from '../backend/transfer.js';
import { DataError } from '../core/errors.js';

export const IGNORE_INDEX = -100;

export interface CrossEntropyResult {
  /** Σ over labelled rows of −log softmax(logits)[label]. */
  lossSum: number;
  /** Labelled rows. */
  count: number;
  /** factor · ∂lossSum/∂logits (zero rows where ignored), when asked for. */
  dLogits?: tf.Tensor2D;
}

/** logits [rows, classes]; labels[row] in [0, classes) or IGNORE_INDEX. */
export function crossEntropySum(logits: tf.Tensor2D, labels: Int32Array, options: { gradient: boolean; factor?: number }): CrossEntropyResult {
  const [rows, classes] = logits.shape;
  if (labels.length !== rows) throw new DataError(`got ${labels.length} labels for ${rows} rows of logits`);
  const values = tensorValues(logits);
  const gradient = options.gradient ? new Float32Array(rows * classes) : undefined;
  const factor = options.factor ?? 1;
  let lossSum = 0;
  let count = 0;
  for (let row = 0; row < rows; row++) {
    const label = labels[row]!;
    if (label === IGNORE_INDEX) continue;
    if (!(label >= 0 && label < classes)) throw new DataError(`label ${label} of row ${row} is not a class index in [0, ${classes})`);
    const offset = row * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, values[offset + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(values[offset + c]! - max);
    const logSum = Math.log(sum) + max;
    lossSum += logSum - values[offset + label]!;
    count += 1;
    if (gradient !== undefined) {
      for (let c = 0; c < classes; c++) gradient[offset + c] = factor * Math.exp(values[offset + c]! - logSum);
      gradient[offset + label]! -= factor;
    }
  }
  return { lossSum, count, ...(gradient !== undefined ? { dLogits: tf.tensor2d(gradient, [rows, classes]) } : {}) };
}

/** Softmax probabilities of each row (float64), for predictions and metrics. */
export function softmaxRows(logits: tf.Tensor2D): Float64Array[] {
  const [rows, classes] = logits.shape;
  const values = logits.dataSync();
  const out: Float64Array[] = [];
  for (let row = 0; row < rows; row++) {
    const offset = row * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, values[offset + c]!);
    const probabilities = new Float64Array(classes);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += probabilities[c] = Math.exp(values[offset + c]! - max);
    for (let c = 0; c < classes; c++) probabilities[c]! /= sum;
    out.push(probabilities);
  }
  return out;
}
