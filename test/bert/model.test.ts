import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError } from '../../src/core/errors.js';
import type { BertConfig } from '../../src/bert/config.js';
import { activation, BertForSequenceClassification, mixSeed, type EncodedExample } from '../../src/bert/model.js';
import type { F32Tensor } from '../../src/core/safetensors.js';
import { bertParameterSpecs } from '../../src/bert/weights.js';
import { maxRelativeDifference, useBackend } from '../helpers/backend.js';
import { randomWeights, tinyConfig } from './fixtures.js';

const NUM_LABELS = 3;
const BACKENDS = ['cpu', 'wasm'] as const;

// ---------------------------------------------------------------------------------------------
// A float64 plain-JS BertForSequenceClassification, written from HF's modeling_bert.py, one
// sample at a time (so it has no padding at all). Weights in file layout (linear [out, in]).
// ---------------------------------------------------------------------------------------------

type Weights = ReadonlyMap<string, ArrayLike<number>>;

/** erf by its Maclaurin series (float64-accurate for |x| ≤ 5; beyond, 1 − |erf| < 2e-12). */
function erf64(x: number): number {
  const z = Math.abs(x);
  if (z > 5) return Math.sign(x);
  let sum = 0;
  let power = z; // (-1)^n z^(2n+1) / n!
  for (let n = 0; n < 200; n++) {
    const term = power / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-18) break;
    power *= (-z * z) / (n + 1);
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
}

function act64(x: number, kind: BertConfig['hidden_act']): number {
  switch (kind) {
    case 'gelu':
      return 0.5 * x * (1 + erf64(x / Math.SQRT2));
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'relu':
      return Math.max(0, x);
  }
}

function linear64(weights: Weights, prefix: string, x: number[], outFeatures: number): number[] {
  const w = weights.get(`${prefix}.weight`)!;
  const b = weights.get(`${prefix}.bias`)!;
  const inFeatures = x.length;
  return Array.from({ length: outFeatures }, (_, o) => {
    let sum = b[o]!;
    for (let i = 0; i < inFeatures; i++) sum += w[o * inFeatures + i]! * x[i]!;
    return sum;
  });
}

function layerNorm64(weights: Weights, prefix: string, x: number[], eps: number): number[] {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
  const gamma = weights.get(`${prefix}.weight`)!;
  const beta = weights.get(`${prefix}.bias`)!;
  return x.map((value, i) => ((value - mean) / Math.sqrt(variance + eps)) * gamma[i]! + beta[i]!);
}

function referenceLogits(config: BertConfig, weights: Weights, ids: readonly number[], numLabels: number): number[] {
  const hidden = config.hidden_size;
  const heads = config.num_attention_heads;
  const headSize = hidden / heads;
  const eps = config.layer_norm_eps;
  const row = (name: string, index: number): number[] => Array.from(weights.get(name)!).slice(index * hidden, (index + 1) * hidden);
  let states = ids.map((id, position) => {
    const word = row('bert.embeddings.word_embeddings.weight', id);
    const pos = row('bert.embeddings.position_embeddings.weight', position);
    const type = row('bert.embeddings.token_type_embeddings.weight', 0);
    return layerNorm64(weights, 'bert.embeddings.LayerNorm', word.map((value, i) => value + pos[i]! + type[i]!), eps);
  });
  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    const p = `bert.encoder.layer.${layer}`;
    const q = states.map((x) => linear64(weights, `${p}.attention.self.query`, x, hidden));
    const k = states.map((x) => linear64(weights, `${p}.attention.self.key`, x, hidden));
    const v = states.map((x) => linear64(weights, `${p}.attention.self.value`, x, hidden));
    const context = states.map(() => new Array<number>(hidden).fill(0));
    for (let h = 0; h < heads; h++) {
      const offset = h * headSize;
      for (let i = 0; i < states.length; i++) {
        const scores = states.map((_, j) => {
          let dot = 0;
          for (let d = 0; d < headSize; d++) dot += q[i]![offset + d]! * k[j]![offset + d]!;
          return dot / Math.sqrt(headSize);
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        exps.forEach((e, j) => {
          for (let d = 0; d < headSize; d++) context[i]![offset + d]! += (e / total) * v[j]![offset + d]!;
        });
      }
    }
    const attention = states.map((x, i) =>
      layerNorm64(weights, `${p}.attention.output.LayerNorm`, linear64(weights, `${p}.attention.output.dense`, context[i]!, hidden).map((value, d) => value + x[d]!), eps));
    states = attention.map((x) => {
      const inner = linear64(weights, `${p}.intermediate.dense`, x, config.intermediate_size).map((value) => act64(value, config.hidden_act));
      return layerNorm64(weights, `${p}.output.LayerNorm`, linear64(weights, `${p}.output.dense`, inner, hidden).map((value, d) => value + x[d]!), eps);
    });
  }
  const pooled = linear64(weights, 'bert.pooler.dense', states[0]!, hidden).map(Math.tanh);
  return linear64(weights, 'classifier', pooled, numLabels);
}

function referenceLossSum(config: BertConfig, weights: Weights, samples: readonly EncodedExample[]): number {
  let total = 0;
  for (const sample of samples) {
    const logits = referenceLogits(config, weights, sample.ids, NUM_LABELS);
    const max = Math.max(...logits);
    const logSum = max + Math.log(logits.reduce((a, b) => a + Math.exp(b - max), 0));
    total += logSum - logits[sample.label]!;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------

const SAMPLES: EncodedExample[] = [
  { ids: [2, 10, 24, 12, 20, 5, 3], label: 2 },
  { ids: [2, 30, 31, 3], label: 0 },
  { ids: [2, 17, 0, 45, 11, 28, 29, 13, 8, 3], label: 1 },
];

function modelWithRandomWeights(config: BertConfig, seed: number, dropout?: number): BertForSequenceClassification {
  return BertForSequenceClassification.fromWeights(config, randomWeights(config, NUM_LABELS, seed), {
    numLabels: NUM_LABELS,
    ...(dropout !== undefined ? { dropout } : {}),
  });
}

function logitsOf(model: BertForSequenceClassification, samples: readonly EncodedExample[]): number[][] {
  const logits = model.logits(samples);
  const values = logits.arraySync();
  logits.dispose();
  return values;
}

function lossOf(model: BertForSequenceClassification, samples: readonly EncodedExample[], training: boolean, seed: number): number {
  const loss = model.lossSum(samples, training, seed);
  const value = loss.dataSync()[0]!;
  loss.dispose();
  return value;
}

/** Gradients by HF name, in file layout (linear weights [out, in]). */
function gradientsOf(model: BertForSequenceClassification, samples: readonly EncodedExample[]): Map<string, Float32Array> {
  const { value, grads } = tf.variableGrads(() => model.lossSum(samples, false, 0), model.params.map((p) => p.variable));
  value.dispose();
  const specs = new Map(bertParameterSpecs(model.config, model.numLabels).map((spec) => [spec.name, spec]));
  const out = new Map<string, Float32Array>();
  for (const { name, variable } of model.params) {
    const grad = grads[variable.name]!;
    const data = grad.dataSync() as Float32Array;
    const spec = specs.get(name)!;
    if (spec.transposed) {
      const [outFeatures, inFeatures] = spec.fileShape as [number, number];
      const fileLayout = new Float32Array(data.length);
      for (let i = 0; i < inFeatures; i++) for (let o = 0; o < outFeatures; o++) fileLayout[o * inFeatures + i] = data[i * outFeatures + o]!;
      out.set(name, fileLayout);
    } else {
      out.set(name, Float32Array.from(data));
    }
  }
  tf.dispose(grads);
  return out;
}

for (const backend of BACKENDS) {
  test(`[${backend}] logits equal a float64 reference implementation of HF BERT (gelu and relu)`, async () => {
    await useBackend(backend);
    for (const hiddenAct of ['gelu', 'relu', 'gelu_new']) {
      const config = tinyConfig({ hidden_act: hiddenAct, layer_norm_eps: 1e-5 });
      const weights = randomWeights(config, NUM_LABELS, 7);
      const model = BertForSequenceClassification.fromWeights(config, weights, { numLabels: NUM_LABELS });
      const actual = logitsOf(model, SAMPLES);
      model.dispose();
      const expected = SAMPLES.map((sample) => referenceLogits(config, weights, sample.ids, NUM_LABELS));
      assert.ok(expected.flat().some((value) => Math.abs(value) > 0.1), 'logits are not trivially small');
      const difference = maxRelativeDifference(actual.flat(), expected.flat(), 1e-3);
      assert.ok(difference <= 1e-4, `${hiddenAct}: max relative difference ${difference}`);
    }
  });

  test(`[${backend}] lossSum is the summed cross-entropy of the reference`, async () => {
    await useBackend(backend);
    const config = tinyConfig();
    const weights = randomWeights(config, NUM_LABELS, 3);
    const model = BertForSequenceClassification.fromWeights(config, weights, { numLabels: NUM_LABELS });
    const loss = lossOf(model, SAMPLES, false, 0);
    model.dispose();
    const expected = referenceLossSum(config, weights, SAMPLES);
    assert.ok(Math.abs(loss - expected) / expected < 1e-5, `${loss} vs ${expected}`);
    assert.equal(model.countItems(SAMPLES), 3);
  });

  test(`[${backend}] outputs and gradients do not depend on padding or on the other samples of the micro-batch`, async () => {
    await useBackend(backend);
    const config = tinyConfig();
    const model = modelWithRandomWeights(config, 11);
    const short = SAMPLES[1]!;
    const alone = logitsOf(model, [short])[0]!;
    const besideLonger = logitsOf(model, [SAMPLES[2]!, short])[1]!;
    assert.ok(maxRelativeDifference(alone, besideLonger, 1e-3) <= 1e-5, `${alone} vs ${besideLonger}`);

    const together = gradientsOf(model, SAMPLES);
    const separately = SAMPLES.map((sample) => gradientsOf(model, [sample]));
    const norm = (values: ArrayLike<number>): number => Math.sqrt(Array.from(values).reduce((total, value) => total + value * value, 0));
    for (const [name, grad] of together) {
      if (name.endsWith('attention.self.key.bias')) {
        // Softmax ignores a per-query constant, so this gradient is zero in exact arithmetic:
        // there is only float32 noise to compare.
        assert.ok(norm(grad) < 1e-4 * norm(together.get(name.replace('key.bias', 'query.bias'))!), name);
        continue;
      }
      const sum = grad.map((_, i) => separately.reduce((total, grads) => total + grads.get(name)![i]!, 0));
      // Relative to the tensor's norm: single elements can be float32 cancellation noise.
      const difference = norm(grad.map((value, i) => value - sum[i]!)) / Math.max(norm(sum), 1e-12);
      assert.ok(difference <= 1e-5, `${name}: ${difference}`);
    }
    // The padding id (0) occurs in sample 2 as a real token, so its row has a gradient; id 1 never occurs.
    assert.ok(together.get('bert.embeddings.word_embeddings.weight')!.subarray(16, 32).every((value) => value === 0));
    model.dispose();
  });
}

test('gradients match float64 finite differences of the reference loss', async () => {
  await useBackend('cpu');
  const config = tinyConfig({ layer_norm_eps: 1e-5 });
  const weights = randomWeights(config, NUM_LABELS, 5);
  const model = BertForSequenceClassification.fromWeights(config, weights, { numLabels: NUM_LABELS });
  const grads = gradientsOf(model, SAMPLES);
  model.dispose();
  const probes: [string, number[]][] = [
    ['classifier.bias', [0, 1, 2]],
    ['classifier.weight', [0, 17, 40]],
    ['bert.pooler.dense.weight', [3, 100, 255]],
    ['bert.embeddings.LayerNorm.weight', [0, 7, 15]],
    ['bert.embeddings.word_embeddings.weight', [10 * 16 + 3, 24 * 16 + 9, 2 * 16]],
    ['bert.embeddings.position_embeddings.weight', [0, 5 * 16 + 1]],
    ['bert.embeddings.token_type_embeddings.weight', [4]],
    ['bert.encoder.layer.0.attention.self.query.weight', [0, 77, 200]],
    ['bert.encoder.layer.0.attention.self.key.bias', [3, 12]],
    ['bert.encoder.layer.0.attention.self.value.weight', [31, 250]],
    ['bert.encoder.layer.1.intermediate.dense.weight', [5, 300]],
    ['bert.encoder.layer.1.output.dense.bias', [9]],
    ['bert.encoder.layer.1.output.LayerNorm.bias', [2]],
  ];
  const step = 1e-4;
  for (const [name, indices] of probes) {
    for (const index of indices) {
      const perturbed = new Map<string, ArrayLike<number>>(weights);
      const values = Float64Array.from(weights.get(name)!);
      const original = values[index]!;
      values[index] = original + step;
      perturbed.set(name, Float64Array.from(values));
      const plus = referenceLossSum(config, perturbed, SAMPLES);
      values[index] = original - step;
      perturbed.set(name, Float64Array.from(values));
      const minus = referenceLossSum(config, perturbed, SAMPLES);
      const numeric = (plus - minus) / (2 * step);
      const analytic = grads.get(name)![index]!;
      // float32 forward/backward vs a float64 central difference: absolute floor for tiny gradients.
      const error = Math.abs(analytic - numeric) / Math.max(Math.abs(numeric), 1e-2);
      assert.ok(error < 2e-3, `${name}[${index}]: analytic ${analytic}, numeric ${numeric}`);
    }
  }
});

test('dropout is deterministic per seed, changes with the seed, and is off at p = 0 or training = false', async () => {
  await useBackend('cpu');
  const config = tinyConfig({ hidden_dropout_prob: 0.3, attention_probs_dropout_prob: 0.3 });
  const model = modelWithRandomWeights(config, 2);
  const evaluation = lossOf(model, SAMPLES, false, 0);
  const first = lossOf(model, SAMPLES, true, 42);
  assert.equal(lossOf(model, SAMPLES, true, 42), first);
  assert.notEqual(lossOf(model, SAMPLES, true, 43), first);
  assert.notEqual(first, evaluation);
  assert.equal(lossOf(model, SAMPLES, false, 42), evaluation);
  model.dispose();

  const noDropout = modelWithRandomWeights(config, 2, 0);
  assert.equal(noDropout.hiddenDropout, 0);
  assert.equal(noDropout.attentionDropout, 0);
  assert.equal(noDropout.classifierDropout, 0);
  assert.equal(lossOf(noDropout, SAMPLES, true, 42), evaluation);
  noDropout.dispose();
});

test('dropout probabilities come from the config, classifier_dropout falling back to hidden_dropout_prob, or the override', () => {
  const fallback = BertForSequenceClassification.create(tinyConfig({ hidden_dropout_prob: 0.2, attention_probs_dropout_prob: 0.05 }), { numLabels: 2 });
  assert.deepEqual([fallback.hiddenDropout, fallback.attentionDropout, fallback.classifierDropout], [0.2, 0.05, 0.2]);
  fallback.dispose();
  const explicit = BertForSequenceClassification.create(tinyConfig({ classifier_dropout: 0.4 }), { numLabels: 2 });
  assert.equal(explicit.classifierDropout, 0.4);
  explicit.dispose();
  const overridden = BertForSequenceClassification.create(tinyConfig({ classifier_dropout: 0.4 }), { numLabels: 2, dropout: 0.15 });
  assert.deepEqual([overridden.hiddenDropout, overridden.attentionDropout, overridden.classifierDropout], [0.15, 0.15, 0.15]);
  overridden.dispose();
  assert.throws(() => BertForSequenceClassification.create(tinyConfig(), { numLabels: 2, dropout: 1 }), ConfigError);
  assert.throws(() => BertForSequenceClassification.create(tinyConfig(), { numLabels: 0 }), ConfigError);
});

test('create initialises like HF _init_weights, deterministically per seed', async () => {
  await useBackend('cpu');
  const config = tinyConfig({ initializer_range: 0.05, pad_token_id: 4 });
  const initialWeights = (seed: number): Map<string, F32Tensor> => {
    const model = BertForSequenceClassification.create(config, { numLabels: 2, seed });
    const weights = model.exportWeights();
    model.dispose();
    return weights;
  };
  const a = initialWeights(9);
  const b = initialWeights(9);
  const c = initialWeights(10);
  for (const [name, tensor] of a) assert.deepEqual(tensor.data, b.get(name)!.data, name);
  assert.notDeepEqual(a.get('classifier.weight')!.data, c.get('classifier.weight')!.data);
  assert.ok(a.get('bert.embeddings.LayerNorm.weight')!.data.every((value) => value === 1));
  assert.ok(a.get('bert.encoder.layer.0.output.LayerNorm.bias')!.data.every((value) => value === 0));
  assert.ok(a.get('classifier.bias')!.data.every((value) => value === 0));
  const words = a.get('bert.embeddings.word_embeddings.weight')!.data;
  assert.ok(words.subarray(4 * 16, 5 * 16).every((value) => value === 0), 'padding row is zero');
  const query = a.get('bert.encoder.layer.1.attention.self.query.weight')!.data;
  const std = Math.sqrt(query.reduce((sum, value) => sum + value * value, 0) / query.length);
  assert.ok(Math.abs(std - 0.05) < 0.01, `std ${std}`);
  assert.deepEqual(a.get('bert.encoder.layer.0.intermediate.dense.weight')!.shape, [32, 16]);
});

test('exportWeights returns file layout: fromWeights(exportWeights()) reproduces the model', async () => {
  await useBackend('cpu');
  const config = tinyConfig();
  const model = modelWithRandomWeights(config, 4);
  const exported = model.exportWeights();
  const weights = randomWeights(config, NUM_LABELS, 4);
  for (const [name, values] of weights) assert.deepEqual(exported.get(name)!.data, values, name);
  const copy = BertForSequenceClassification.fromWeights(config, new Map([...exported].map(([name, tensor]) => [name, tensor.data])), { numLabels: NUM_LABELS });
  assert.deepEqual(logitsOf(copy, SAMPLES), logitsOf(model, SAMPLES));
  assert.deepEqual(model.params.map((p) => p.name), bertParameterSpecs(config, NUM_LABELS).map((spec) => spec.name));
  assert.deepEqual(model.params.find((p) => p.name === 'bert.pooler.dense.weight')!.variable.shape, [16, 16]);
  assert.deepEqual(model.params.find((p) => p.name === 'classifier.weight')!.variable.shape, [16, NUM_LABELS]);
  model.dispose();
  copy.dispose();
});

test('no tensors leak across repeated lossSum + gradient and logits calls', async () => {
  for (const backend of BACKENDS) {
    await useBackend(backend);
    const model = modelWithRandomWeights(tinyConfig(), 1);
    const step = (seed: number): void => {
      const { value, grads } = tf.variableGrads(() => model.lossSum(SAMPLES, true, seed), model.params.map((p) => p.variable));
      value.dispose();
      tf.dispose(grads);
      model.logits(SAMPLES).dispose();
    };
    step(0);
    const before = tf.memory().numTensors;
    for (let seed = 1; seed < 5; seed++) step(seed);
    assert.equal(tf.memory().numTensors, before, backend);
    model.dispose();
  }
});

test('bad samples are rejected with typed errors', async () => {
  await useBackend('cpu');
  const model = BertForSequenceClassification.create(tinyConfig(), { numLabels: 2 });
  assert.throws(() => model.lossSum([{ ids: [2, 3], label: 2 }], false, 0), (error: unknown) => error instanceof DataError && /label 2 is not a class index in \[0, 2\)/.test(error.message));
  assert.throws(() => model.logits([{ ids: [2, 50, 3], label: 0 }]), /token id 50 at position 1 is outside the vocabulary \[0, 50\)/);
  assert.throws(() => model.logits([{ ids: [], label: 0 }]), /has no tokens/);
  assert.throws(() => model.logits([]), /empty micro-batch/);
  assert.throws(() => model.logits([{ ids: new Array<number>(65).fill(2), label: 0 }]), (error: unknown) => error instanceof ConfigError && /65 tokens, more than max_position_embeddings \(64\)/.test(error.message));
  model.dispose();
});

test('activation computes HF gelu (erf), gelu_new (tanh) and relu, with the right gelu gradient', async () => {
  await useBackend('cpu');
  const points = [-4, -1.5, -0.3, 0, 0.2, 1, 2.5, 6];
  for (const kind of ['gelu', 'gelu_new', 'relu'] as const) {
    const output = tf.tidy(() => activation(tf.tensor1d(points), kind).arraySync() as number[]);
    const expected = points.map((x) => act64(x, kind));
    // TF.js's erf is accurate to 1.5e-7 absolute (float32 ulp of 1 is 1.2e-7), hence an absolute bound.
    const worst = Math.max(...output.map((value, i) => Math.abs(value - expected[i]!) / Math.max(1, Math.abs(expected[i]!))));
    assert.ok(worst < 1e-6, `${kind}: ${worst}`);
  }
  const gradient = tf.tidy(() => tf.grad((x: tf.Tensor) => activation(x, 'gelu'))(tf.tensor1d(points)).arraySync() as number[]);
  const phi = (x: number): number => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
  const expectedGradient = points.map((x) => 0.5 * (1 + erf64(x / Math.SQRT2)) + x * phi(x));
  const worstGradient = Math.max(...gradient.map((value, i) => Math.abs(value - expectedGradient[i]!)));
  assert.ok(worstGradient < 1e-6, `gelu gradient: ${worstGradient}`);
});

test('mixSeed is a deterministic 32-bit hash that separates nearby inputs', () => {
  assert.equal(mixSeed(1, 2), mixSeed(1, 2));
  const seeds = new Set<number>();
  for (let a = 0; a < 50; a++) for (let b = 0; b < 20; b++) seeds.add(mixSeed(a, b));
  assert.equal(seeds.size, 1000);
  assert.notEqual(mixSeed(2 ** 40), mixSeed(0));
  assert.ok(Number.isInteger(mixSeed(-3.5)) && mixSeed(-3.5) >= 0 && mixSeed(-3.5) < 2 ** 32);
});
