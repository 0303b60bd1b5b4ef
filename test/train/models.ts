/**
 * Small TrainableModels and data sets for the train tests. Every model's lossSum is the SUM
 * of its per-item losses, and its initial weights are a pure function of a seed, so two
 * instances built with the same seed start identical.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '../../src/core/random.js';
import { autodiffModel, type AutodiffModelOptions, type NamedVariable, type TrainableModel } from '../../src/train/index.js';

export interface Regression {
  x: number[];
  y: number;
}

export interface TokenSequence {
  tokens: number[];
  /** One label per token; IGNORE marks tokens that carry no loss. */
  labels: number[];
}

export const IGNORE = -100;

export interface TestModel<Sample> extends TrainableModel<Sample> {
  /** The variables the model computes with (they always hold the current values). */
  readonly params: readonly NamedVariable[];
  dispose(): void;
}

/** An autodiff model over `options.params` that can free its variables. */
function testModel<Sample>(options: AutodiffModelOptions<Sample>): TestModel<Sample> {
  return { ...autodiffModel(options), params: options.params, dispose: () => disposeAll(options.params) };
}

/** Normal(0, std) values from a seeded generator (Box–Muller). */
export function normals(count: number, seed: number, std = 1): number[] {
  const random = createRng(seed);
  return Array.from({ length: count }, () => std * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

function variable(name: string, values: number[], shape: number[]): NamedVariable {
  const initial = tf.tensor(values, shape, 'float32');
  const created = tf.variable(initial, true);
  initial.dispose();
  return { name, variable: created };
}

function disposeAll(params: readonly NamedVariable[]): void {
  for (const { variable: v } of params) v.dispose();
}

/** Features [n, d] of a micro-batch. */
function features(samples: readonly Regression[]): tf.Tensor2D {
  return tf.tensor2d(samples.map((sample) => sample.x));
}

function targets(samples: readonly Regression[]): tf.Tensor1D {
  return tf.tensor1d(samples.map((sample) => sample.y));
}

/** Σ ½ (x·w + b − y)². */
export function linearRegression(inputs: number, seed: number): TestModel<Regression> {
  const params = [variable('linear.weight', normals(inputs, seed, 0.5), [inputs, 1]), variable('linear.bias', [0.1], [1])];
  return testModel({
    params,
    countItems: (samples) => samples.length,
    lossSum: (samples) =>
      tf.tidy(() => {
        const prediction = tf.reshape(tf.add(tf.matMul(features(samples), params[0]!.variable), params[1]!.variable), [-1]);
        return tf.mul(0.5, tf.sum(tf.square(tf.sub(prediction, targets(samples))))) as tf.Scalar;
      }),
  });
}

/** Σ binary cross-entropy of sigmoid(x·w + b) against y ∈ {0, 1}, as softplus(z) − y·z. */
export function logisticRegression(inputs: number, seed: number): TestModel<Regression> {
  const params = [variable('logistic.weight', normals(inputs, seed, 0.5), [inputs, 1]), variable('logistic.bias', [0], [1])];
  return testModel({
    params,
    countItems: (samples) => samples.length,
    lossSum: (samples) =>
      tf.tidy(() => {
        const logits = tf.reshape(tf.add(tf.matMul(features(samples), params[0]!.variable), params[1]!.variable), [-1]);
        return tf.sum(tf.sub(tf.softplus(logits), tf.mul(targets(samples), logits))) as tf.Scalar;
      }),
  });
}

/** d → hidden (tanh) → 1, squared error. */
export function mlp(inputs: number, hidden: number, seed: number): TestModel<Regression> {
  const params = [
    variable('mlp.0.weight', normals(inputs * hidden, seed, 0.5), [inputs, hidden]),
    variable('mlp.0.bias', normals(hidden, seed + 1, 0.1), [hidden]),
    variable('mlp.1.weight', normals(hidden, seed + 2, 0.5), [hidden, 1]),
    variable('mlp.1.bias', [0.05], [1]),
  ];
  return testModel({
    params,
    countItems: (samples) => samples.length,
    lossSum: (samples) =>
      tf.tidy(() => {
        const hiddenActivations = tf.tanh(tf.add(tf.matMul(features(samples), params[0]!.variable), params[1]!.variable));
        const prediction = tf.reshape(tf.add(tf.matMul(hiddenActivations, params[2]!.variable), params[3]!.variable), [-1]);
        return tf.mul(0.5, tf.sum(tf.square(tf.sub(prediction, targets(samples))))) as tf.Scalar;
      }),
  });
}

/**
 * A token-level tagger: embedding → (dropout) → linear → softmax cross-entropy per token.
 * Sequences have different lengths and are padded to the micro-batch's longest; padding and
 * IGNORE labels carry no loss, so items are the labelled tokens, as in masked LM.
 * Dropout masks come from `dropoutSeed` only (tf.dropout with an explicit seed).
 */
export function tokenTagger(vocab: number, width: number, classes: number, seed: number, dropout = 0): TestModel<TokenSequence> {
  const params = [
    variable('embeddings.word_embeddings.weight', normals(vocab * width, seed, 0.5), [vocab, width]),
    variable('embeddings.LayerNorm.weight', new Array<number>(width).fill(1), [width]),
    variable('classifier.weight', normals(width * classes, seed + 1, 0.5), [width, classes]),
    variable('classifier.bias', new Array<number>(classes).fill(0), [classes]),
  ];
  const countItems = (samples: readonly TokenSequence[]): number =>
    samples.reduce((count, sample) => count + sample.labels.filter((label) => label !== IGNORE).length, 0);
  return testModel({
    params,
    countItems,
    lossSum: (samples, training, dropoutSeed) =>
      tf.tidy(() => {
        const length = Math.max(...samples.map((sample) => sample.tokens.length));
        const pad = <T>(values: number[], fill: T) => [...values, ...new Array<T>(length - values.length).fill(fill)];
        const tokens = tf.tensor2d(samples.map((sample) => pad(sample.tokens, 0)), undefined, 'int32');
        const labelRows = samples.map((sample) => pad(sample.labels, IGNORE));
        const mask = tf.tensor2d(labelRows.map((row) => row.map((label) => (label === IGNORE ? 0 : 1))));
        const labels = tf.tensor2d(labelRows.map((row) => row.map((label) => (label === IGNORE ? 0 : label))), undefined, 'int32');
        let embedded = tf.mul(tf.gather(params[0]!.variable, tokens), params[1]!.variable);
        if (training && dropout > 0) embedded = tf.dropout(embedded, dropout, undefined, dropoutSeed);
        const logits = tf.add(tf.matMul(tf.reshape(embedded, [-1, width]), params[2]!.variable), params[3]!.variable);
        const logProbabilities = tf.logSoftmax(logits);
        const picked = tf.sum(tf.mul(logProbabilities, tf.oneHot(tf.reshape(labels, [-1]), classes)), -1);
        return tf.neg(tf.sum(tf.mul(picked, tf.reshape(mask, [-1])))) as tf.Scalar;
      }),
  });
}

/** n regression samples with d features, targets from a noisy linear rule. */
export function regressionData(n: number, inputs: number, seed: number): Regression[] {
  const values = normals(n * (inputs + 1), seed);
  const truth = normals(inputs, seed + 7);
  return Array.from({ length: n }, (_, i) => {
    const x = values.slice(i * (inputs + 1), i * (inputs + 1) + inputs);
    return { x, y: x.reduce((sum, value, k) => sum + value * truth[k]!, 0) + 0.1 * values[i * (inputs + 1) + inputs]! };
  });
}

/** n binary samples: y = 1 when a noisy linear score is positive. */
export function classificationData(n: number, inputs: number, seed: number): Regression[] {
  return regressionData(n, inputs, seed).map(({ x, y }) => ({ x, y: y > 0 ? 1 : 0 }));
}

/** n sequences of 1..maxLength tokens; about a quarter of the labels are IGNORE, never a whole sequence. */
export function tokenData(n: number, vocab: number, classes: number, maxLength: number, seed: number): TokenSequence[] {
  const random = createRng(seed);
  return Array.from({ length: n }, () => {
    const length = 1 + Math.floor(random() * maxLength);
    const tokens = Array.from({ length }, () => 1 + Math.floor(random() * (vocab - 1)));
    const labels = tokens.map((token, position) => (position > 0 && random() < 0.25 ? IGNORE : token % classes));
    return { tokens, labels };
  });
}

/** All parameter values, concatenated, copied out of the tensors. */
export function flatParams(params: readonly NamedVariable[]): Float32Array {
  const parts = params.map(({ variable: v }) => v.dataSync() as Float32Array);
  const flat = new Float32Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    flat.set(part, offset);
    offset += part.length;
  }
  return flat;
}
