/**
 * Token-exact normalisation (docs/design.md §2, §8), the README's worked example: one window of
 * two micro-batches holding 10 and 30 labelled tokens.
 *
 * 1. Closed form. One parameter θ, a token with target x has loss ½(θ − x)². The 10 tokens of
 *    micro-batch 1 have x = 0, the 30 of micro-batch 2 have x = 1. The full-batch gradient at θ = 0
 *    is mean(θ − x) = −30/40 = −0.75, so one SGD step with lr 1 gives θ = 0.75 — which `fit`
 *    reproduces with either micro-batch size. The per-micro-batch-mean recipe (each micro-batch's
 *    mean loss divided by k = 2 micro-batches) weighs the 10 tokens like the 30: its gradient is
 *    ½(0 − 0) + ½(0 − 1) = −0.5 and θ = 0.5.
 * 2. The real heads. A token classifier and a masked LM (tiny BERT, random weights) on the same
 *    10 + 30 split: summing ∇(Σ loss) / 40 over the micro-batches equals the full-batch gradient
 *    to float32 rounding; the per-micro-batch mean gives parameters that differ at order 1.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { RandomStream } from '../../src/core/random.js';
import { ConfigReader, getFamily } from '../../src/models/index.js';
import { createOptimizer } from '../../src/optim/index.js';
import { MaskedLanguageModel, TokenClassifier, type MaskedInput, type TaskModel, type TokenSample } from '../../src/tasks/model.js';
import { GradientAccumulator, accumulateWindow } from '../../src/train/accumulator.js';
import { autodiffModel } from '../../src/train/autodiff.js';
import { fit } from '../../src/train/fit.js';
import { GradientStore } from '../../src/train/store.js';
import { useBackend } from '../helpers/backend.js';

test.before(() => useBackend('cpu'));

interface Sentence {
  targets: number[];
}

const SENTENCES: Sentence[] = [{ targets: new Array(10).fill(0) }, { targets: new Array(30).fill(1) }];

function scalarModel() {
  const theta = tf.variable(tf.zeros([1]));
  const params = [{ name: 'theta', variable: theta }];
  const lossSum = (samples: readonly Sentence[]) =>
    tf.tidy(() => {
      const targets = tf.tensor1d(samples.flatMap((sample) => sample.targets));
      return tf.mul(0.5, tf.sum(tf.square(tf.sub(theta, targets)))) as tf.Scalar;
    });
  return { theta, params, lossSum };
}

test('closed form: fit gives θ = 0.75 (the full-batch step) with micro-batches of 10 and 30 tokens; the per-micro-batch mean gives 0.5', async () => {
  for (const microBatch of [1, 2]) {
    const { theta, params, lossSum } = scalarModel();
    const model = autodiffModel<Sentence>({ params, countItems: (samples) => samples.reduce((sum, sample) => sum + sample.targets.length, 0), lossSum });
    const optimizer = createOptimizer({ kind: 'sgd' });
    const steps: number[] = [];
    await fit({ model, data: SENTENCES, epochs: 1, microBatch, batch: 2, shuffle: false, optimizer, lr: 1, callbacks: { onStep: (event) => void steps.push(event.itemCount) } });
    assert.deepEqual(steps, [40], 'one window of 40 items, counted before its first backward');
    assert.equal(theta.dataSync()[0], 0.75, `micro-batch ${microBatch}`);
    optimizer.dispose();
    theta.dispose();
  }

  // The per-micro-batch-mean recipe with the same accumulator: micro-batch j is weighted 1 / (n_j · k).
  const { theta, params, lossSum } = scalarModel();
  const accumulator = new GradientAccumulator(params);
  for (const sentence of SENTENCES) accumulator.accumulate(() => lossSum([sentence]), sentence.targets.length * SENTENCES.length);
  const optimizer = createOptimizer({ kind: 'sgd' });
  optimizer.step(accumulator.hostParameters(), 1);
  accumulator.finishStep();
  assert.equal(theta.dataSync()[0], 0.5);
  optimizer.dispose();
  theta.dispose();
});

const CONFIG = { model_type: 'bert', vocab_size: 40, hidden_size: 12, num_hidden_layers: 2, num_attention_heads: 3, intermediate_size: 17, max_position_embeddings: 48, type_vocab_size: 2, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 };

function tinyBert() {
  const family = getFamily('bert');
  return { family, config: family.parseConfig(ConfigReader.parse(CONFIG, 'tiny bert')) };
}

function randomValues(model: TaskModel<unknown>, seed: number): Map<string, Float32Array> {
  const stream = new RandomStream(seed);
  return new Map(model.parameters.entries.map((entry) => [entry.name, Float32Array.from({ length: entry.size }, () => (stream.uniform() * 2 - 1) * 0.4)]));
}

/** A sentence of `length` tokens of which `labelled` (the first ones after [CLS]) carry a label. */
function sentence(length: number, labelled: number, seed: number, labelOf: (stream: RandomStream, id: number) => number): { ids: number[]; labels: number[] } {
  const stream = new RandomStream(seed);
  const ids = [2, ...Array.from({ length: length - 2 }, () => 5 + stream.below(35)), 3];
  const labels = ids.map((id, position) => (position >= 1 && position <= labelled ? labelOf(stream, id) : -100));
  return { ids, labels };
}

/** Σ over micro-batches of factor_j · ∇(Σ loss of micro-batch j), as one flat array. */
function windowGradient<Sample>(model: TaskModel<Sample>, microBatches: Sample[][], factors: number[]): Float32Array {
  const grads = new GradientStore(model.parameters.layout);
  microBatches.forEach((samples, j) => model.accumulateGradients(samples, grads, { factor: factors[j]!, training: true, dropoutSeeds: samples.map(() => 7), epoch: 0 }));
  return Float32Array.from(grads.views().flatMap((view) => Array.from(view)));
}

function exactGradient<Sample>(model: TaskModel<Sample>, microBatches: Sample[][], itemCount: number): Float32Array {
  const grads = new GradientStore(model.parameters.layout);
  accumulateWindow(grads, model, { microBatches, itemCount, lossScale: 1, dropoutSeeds: microBatches.map((samples) => samples.map(() => 7)), epoch: 0 });
  return Float32Array.from(grads.views().flatMap((view) => Array.from(view)));
}

const maxAbs = (values: Float32Array) => values.reduce((most, value) => Math.max(most, Math.abs(value)), 0);
const maxAbsDifference = (a: Float32Array, b: Float32Array) => a.reduce((most, value, i) => Math.max(most, Math.abs(value - b[i]!)), 0);

function checkSplit<Sample>(model: TaskModel<Sample>, first: Sample, second: Sample, counts: [number, number]): void {
  assert.equal(model.countItems([first], 0), counts[0]);
  assert.equal(model.countItems([second], 0), counts[1]);
  const total = counts[0] + counts[1];
  const full = exactGradient(model, [[first, second]], total);
  const ours = exactGradient(model, [[first], [second]], total);
  const perMicroBatchMean = windowGradient(model, [[first], [second]], [1 / (counts[0] * 2), 1 / (counts[1] * 2)]);
  const scale = maxAbs(full);
  assert.ok(scale > 1e-3);
  assert.ok(maxAbsDifference(ours, full) <= 1e-5 * scale, `split gradient differs from the full batch by ${maxAbsDifference(ours, full) / scale}`);
  // One SGD step (lr 1) from the same parameters: θ − g.
  const parameters = model.parameters.values.data;
  const step = (gradient: Float32Array) => Float32Array.from(parameters, (value, i) => value - gradient[i]!);
  const relative = maxAbsDifference(step(perMicroBatchMean), step(full)) / maxAbsDifference(step(full), parameters);
  assert.ok(relative > 0.1, `the per-micro-batch mean moves the parameters differently (by ${relative} of the step)`);
  assert.ok(maxAbsDifference(step(ours), step(full)) <= 1e-5 * maxAbsDifference(step(full), parameters));
}

test('token classification: micro-batches of 10 and 30 labelled tokens give the full-batch gradient; the per-micro-batch mean does not', () => {
  const { family, config } = tinyBert();
  const probe = new TokenClassifier({ family, config, labels: ['O', 'B', 'I'] });
  const model = new TokenClassifier({ family, config, labels: ['O', 'B', 'I'] }, { values: randomValues(probe, 3) });
  probe.dispose();
  const label = (stream: RandomStream) => stream.below(3);
  const first: TokenSample = sentence(14, 10, 1, label);
  const second: TokenSample = sentence(34, 30, 2, label);
  checkSplit(model, first, second, [10, 30]);
  model.dispose();
});

test('masked LM: micro-batches of 10 and 30 masked tokens give the full-batch gradient; the per-micro-batch mean does not', () => {
  const { family, config } = tinyBert();
  // The masks are given (the label is the original id where masked), as a masking function returns them.
  const mask = (sample: MaskedInput) => sample;
  const probe = new MaskedLanguageModel<MaskedInput>({ family, config }, { mask });
  const model = new MaskedLanguageModel<MaskedInput>({ family, config }, { mask, values: randomValues(probe, 4) });
  probe.dispose();
  const original = (_: RandomStream, id: number) => id;
  checkSplit(model, sentence(20, 10, 5, original), sentence(40, 30, 6, original), [10, 30]);
  model.dispose();
});
