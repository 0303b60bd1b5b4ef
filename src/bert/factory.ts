/**
 * Builds a BERT classifier from plain, structured-cloneable options: the factory that worker
 * replicas (`--workers N`) call. Its initial weights do not matter — the main thread sends
 * its parameters before every window.
 */
import type { BertConfig } from './config.js';
import { BertForSequenceClassification } from './model.js';

export interface BertFactoryOptions {
  config: BertConfig;
  numLabels: number;
  dropout?: number;
}

export function createBertModel(options: BertFactoryOptions): BertForSequenceClassification {
  return BertForSequenceClassification.create(options.config, {
    numLabels: options.numLabels,
    ...(options.dropout !== undefined ? { dropout: options.dropout } : {}),
  });
}
