/**
 * Each fused unit of the nn layers — bias + GELU, residual + LayerNorm (and its recomputed
 * output), scale + mask + softmax inside attention, bias + dropout, a dense layer's bias — run
 * by the native fused kernels (wasm + host kernels) against the same layer's TF.js-op path on
 * the cpu backend, on the same inputs: forward values, input gradients and the parameter
 * gradients added into the host store. Dropout must agree bit for bit (the same mask); the
 * rest to float32 rounding (the fused kernels round once where the ops round at every step).
 * Both runs must free every tensor they make.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { RandomStream } from '../../src/core/random.js';
import { biasActivationBackward, biasActivationForward } from '../../src/nn/activations.js';
import { attentionBackward, attentionForward, FLOAT32_MIN } from '../../src/nn/attention.js';
import { backwardContext, layerContext, type BackwardContext } from '../../src/nn/context.js';
import { denseBackward, denseForward } from '../../src/nn/dense.js';
import { biasDropoutBackward, biasDropoutForward, dropoutForward, type DropoutSite } from '../../src/nn/dropout.js';
import { layerNormBackward, layerNormForward, layerNormOutput } from '../../src/nn/layerNorm.js';
import { GradientStore, ParameterStore } from '../../src/train/store.js';
import { maxRelativeDifference } from '../helpers/backend.js';
import { modeSkip, useMode, type Mode } from '../helpers/modes.js';

const skip = modeSkip('wasm+native');

function normal(size: number, seed: number, std = 1): Float32Array {
  const stream = new RandomStream(seed);
  return Float32Array.from({ length: size }, () => stream.normal() * std);
}

interface Param {
  shape: number[];
  values: Float32Array;
}

interface Run {
  outputs: Float32Array[];
  grads: Map<string, Float32Array>;
}

/**
 * Runs `body` (forward and backward of a layer, returning the tensors to compare) in `mode` with
 * a parameter store of `params`; the gradient buffers start at `initialGrads` where given (so
 * the accumulate path is taken) and are returned by name.
 */
async function run(mode: Mode, params: Record<string, Param>, body: (context: BackwardContext, index: (name: string) => number) => tf.Tensor[], initialGrads: Record<string, Float32Array> = {}): Promise<Run> {
  await useMode(mode);
  // A store needs a parameter; layers without any get an unused one.
  const names = Object.keys(params).length > 0 ? Object.keys(params) : ['unused'];
  params = Object.keys(params).length > 0 ? params : { unused: { shape: [1], values: new Float32Array(1) } };
  const store = ParameterStore.create(
    names.map((name) => ({ name, shape: params[name]!.shape })),
    (entry, target) => target.set(params[entry.name]!.values),
  );
  const grads = new GradientStore(store.layout);
  for (const [name, values] of Object.entries(initialGrads)) grads.add(store.layout.indexOf(name), values);
  const context = backwardContext(layerContext(store, true, [42]), grads);
  assert.equal(context.fused, mode === 'wasm+native', 'fused kernels in use exactly on wasm + native');
  const before = tf.memory().numTensors;
  const tensors = body(context, (name) => store.layout.indexOf(name));
  const outputs = tensors.map((tensor) => Float32Array.from(tensor.dataSync()));
  tf.dispose(tensors);
  store.releaseMirrors();
  assert.equal(tf.memory().numTensors, before, `${mode}: the layer frees every tensor it makes`);
  return { outputs, grads: new Map(names.map((name) => [name, Float32Array.from(grads.view(store.layout.indexOf(name)))])) };
}

/** Fused (wasm + native) and unfused (TF.js ops on cpu) runs of the same body. */
async function both(params: Record<string, Param>, body: Parameters<typeof run>[2], initialGrads?: Record<string, Float32Array>): Promise<{ fused: Run; ops: Run }> {
  const ops = await run('cpu', params, body, initialGrads);
  const fused = await run('wasm+native', params, body, initialGrads);
  return { fused, ops };
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, bound: number, floor: number, what: string): void {
  const difference = maxRelativeDifference(actual, expected, floor);
  assert.ok(difference <= bound, `${what}: max relative difference ${difference} > ${bound}`);
}

function assertSame(actual: Float32Array, expected: Float32Array, what: string): void {
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const at = a.findIndex((bits, i) => bits !== b[i]);
  assert.equal(at, -1, `${what}: differs at ${at} (${actual[at]} vs ${expected[at]})`);
}

test('bias + GELU: one fused kernel each way equals Add → GELU ops and their backward (values, dx, bias gradient, accumulated)', { skip }, async () => {
  const [rows, cols] = [37, 70];
  const x = normal(rows * cols, 1, 3);
  const dy = normal(rows * cols, 2);
  const params = { bias: { shape: [cols], values: normal(cols, 3) } };
  const { fused, ops } = await both(
    params,
    (context, index) =>
      tf.tidy(() => {
        const { y, z } = biasActivationForward(tf.tensor2d(x, [rows, cols]), index('bias'), 'gelu', context);
        const dz = biasActivationBackward(tf.tensor2d(dy, [rows, cols]), z, index('bias'), 'gelu', context);
        return [y, z, dz];
      }),
    { bias: normal(cols, 4) },
  );
  const [y, z, dz] = fused.outputs;
  assertSame(z!, ops.outputs[1]!, 'z = x + bias');
  // TF.js's erf is a 1.5e-7-absolute approximation; the fused GELU is correctly rounded.
  assertClose(y!, ops.outputs[0]!, 1e-6, 1, 'GELU');
  assertClose(dz!, ops.outputs[2]!, 1e-6, 1, 'dx');
  assertClose(fused.grads.get('bias')!, ops.grads.get('bias')!, 1e-5, 1, 'bias gradient');
});

test('residual + LayerNorm: the fused forward, its recomputed output and backward equal the ops (x̂, 1/σ, y, dx, dγ, dβ)', { skip }, async () => {
  const [rows, cols] = [33, 48];
  const x = normal(rows * cols, 5, 2);
  const residual = normal(rows * cols, 6, 3);
  // An offset row: the fused kernel's float64 statistics do not cancel where float32 ones might.
  for (let j = 0; j < cols; j++) x[j] = x[j]! + 300;
  const dy = normal(rows * cols, 7);
  const params = { gamma: { shape: [cols], values: normal(cols, 8, 0.5) }, beta: { shape: [cols], values: normal(cols, 9) } };
  const { fused, ops } = await both(params, (context, index) =>
    tf.tidy(() => {
      const norm = { weight: index('gamma'), bias: index('beta'), eps: 1e-12 };
      const { y, saved } = layerNormForward(tf.tensor2d(x, [rows, cols]), norm, context, tf.tensor2d(residual, [rows, cols]));
      const again = layerNormOutput(saved, norm, context);
      const kept = [tf.clone(saved.normalized), tf.clone(saved.inverseStd)];
      const dx = layerNormBackward(tf.tensor2d(dy, [rows, cols]), saved, norm, context);
      return [y, again, dx, ...kept];
    }),
  );
  const [y, again, dx, normalized, inverseStd] = fused.outputs;
  assertSame(again!, y!, 'recomputed output (fused)');
  // Against float64: the fused kernel's statistics are float64, the ops' float32 (the offset row cancels).
  const exact = layerNormFloat64(x, residual, params.gamma.values, params.beta.values, rows, cols, 1e-12);
  assertClose(y!, exact, 1e-6, 1, 'y (fused) against float64');
  assertClose(ops.outputs[0]!, exact, 2e-5, 1, 'y (ops) against float64');
  assertClose(y!, ops.outputs[0]!, 2e-5, 1, 'y');
  assertClose(normalized!, ops.outputs[3]!, 2e-5, 1, 'x̂');
  assertClose(inverseStd!, ops.outputs[4]!, 1e-6, 1e-6, '1/σ');
  assertClose(dx!, ops.outputs[2]!, 1e-5, 1, 'dx');
  // The ops' x̂ of the offset row is off by up to ~5e-6: dγ = Σ dy·x̂ inherits it.
  assertClose(fused.grads.get('gamma')!, ops.grads.get('gamma')!, 5e-5, 1, 'dγ');
  assertClose(fused.grads.get('beta')!, ops.grads.get('beta')!, 1e-5, 1, 'dβ');
});

for (const queries of [6, 1]) {
  test(`attention (${queries === 1 ? '[CLS]-only queries' : 'all queries'}): scale + mask + softmax and its backward fused, with attention dropout and padding, equal the ops`, { skip }, async () => {
    const [size, heads, keys, width] = [2, 2, 6, 3];
    const scale = 1 / Math.sqrt(width);
    const q = normal(size * heads * queries * width, 10, 1.5);
    const k = normal(size * heads * keys * width, 11, 1.5);
    const v = normal(size * heads * keys * width, 12);
    const dContext = normal(size * heads * queries * width, 13);
    // Sample 1 has 4 real tokens: its last two keys are masked.
    const mask = Float32Array.from({ length: size * keys }, (_, i) => (i >= keys && i % keys >= 4 ? FLOAT32_MIN : 0));
    // One stream per sample and head; rows (queries) 8 draws apart, more than the 6 keys.
    const site: DropoutSite = { rate: 0.3, training: true, seeds: [4242, 4243, 0, 0xffffffff], rowStride: 8 };
    const { fused, ops } = await both({}, (context) =>
      tf.tidy(() => {
        const attention = attentionForward(
          tf.tensor4d(q, [size, heads, queries, width]),
          tf.tensor4d(k, [size, heads, keys, width]),
          tf.tensor4d(v, [size, heads, keys, width]),
          tf.tensor4d(mask, [size, 1, 1, keys]),
          scale,
          site,
          context,
        );
        const probabilities = tf.clone(attention.saved.probabilities);
        const grads = attentionBackward(tf.tensor4d(dContext, [size, heads, queries, width]), attention.saved, scale, site, context);
        return [attention.context, probabilities, grads.dQueries, grads.dKeys, grads.dValues];
      }),
    );
    const names = ['context', 'probabilities', 'dQueries', 'dKeys', 'dValues'];
    // The fused path scales the scores, the ops the queries: different roundings of the same product.
    // The gradients are sums of O(1) terms (|dQueries| reaches 3) that can cancel to ~1e-3: their
    // float32 rounding is absolute, so values below 0.1 are compared absolutely.
    names.forEach((name, i) => assertClose(fused.outputs[i]!, ops.outputs[i]!, 5e-5, 0.1, name));
    // Masked keys get exactly zero probability on both paths.
    const probabilities = fused.outputs[1]!;
    for (let row = heads * queries; row < 2 * heads * queries; row++) for (const key of [4, 5]) assert.equal(probabilities[row * keys + key], 0);
  });
}

test('bias + dropout: the fused kernel is Add → Mul(mask) bit for bit, its backward dy·mask bit for bit, the bias gradient Σ to float32', { skip }, async () => {
  const [rows, cols] = [40, 24];
  const x = normal(rows * cols, 14, 2);
  const dy = normal(rows * cols, 15);
  const params = { bias: { shape: [cols], values: normal(cols, 16) } };
  for (const site of [
    { rate: 0.3, training: true, seeds: [77, 78, 79, 80] },
    { rate: 0.1, training: true, seeds: Array.from({ length: rows }, (_, row) => 0xfedcba98 - row) },
    { rate: 0.3, training: true, seeds: [77], rowStride: 100 },
    { rate: 0.3, training: false, seeds: [77] },
  ]) {
    const { fused, ops } = await both(params, (context, index) =>
      tf.tidy(() => {
        const y = biasDropoutForward(tf.tensor2d(x, [rows, cols]), index('bias'), site, context);
        const dx = biasDropoutBackward(tf.tensor2d(dy, [rows, cols]), index('bias'), site, context);
        return [y, dx];
      }),
    );
    assertSame(fused.outputs[0]!, ops.outputs[0]!, `forward ${JSON.stringify(site)}`);
    assertSame(fused.outputs[1]!, ops.outputs[1]!, `backward ${JSON.stringify(site)}`);
    assertClose(fused.grads.get('bias')!, ops.grads.get('bias')!, 1e-5, 1, 'bias gradient');
  }
});

test('dropout alone: the fused kernel draws the JavaScript mask bit for bit, for any grouping of rows and row stride', { skip }, async () => {
  const cases: { shape: [number, number]; site: DropoutSite }[] = [
    { shape: [50, 33], site: { rate: 0.2, training: true, seeds: [5] } },
    { shape: [50, 33], site: { rate: 0.2, training: true, seeds: [5, 6, 7, 8, 9] } },
    { shape: [8, 33], site: { rate: 0.5, training: true, seeds: [1, 2, 3, 4, 5, 6, 7, 8], rowStride: 40 } },
    { shape: [8, 66], site: { rate: 0.5, training: true, seeds: [6, 0xffffffff, 0, 6], rowStride: 512 } },
  ];
  for (const { shape, site } of cases) {
    const x = normal(shape[0] * shape[1], 17);
    const { fused, ops } = await both({}, (context) => tf.tidy(() => [dropoutForward(tf.tensor2d(x, shape), site, context)]));
    assertSame(fused.outputs[0]!, ops.outputs[0]!, JSON.stringify(site));
  }
});

test('dense with bias: host product + fused bias add forward, dW/db/dx backward equal the ops (GEMM summation order)', { skip }, async () => {
  const [rows, inputs, outputs] = [29, 40, 23];
  const x = normal(rows * inputs, 18);
  const dy = normal(rows * outputs, 19);
  const params = { weight: { shape: [outputs, inputs], values: normal(outputs * inputs, 20, 0.2) }, bias: { shape: [outputs], values: normal(outputs, 21) } };
  const { fused, ops } = await both(
    params,
    (context, index) =>
      tf.tidy(() => {
        const dense = { weight: index('weight'), bias: index('bias') };
        const input = tf.tensor2d(x, [rows, inputs]);
        const y = denseForward(input, dense, context);
        const dx = denseBackward(tf.tensor2d(dy, [rows, outputs]), input, dense, context)!;
        return [y, dx];
      }),
    { weight: normal(outputs * inputs, 22), bias: normal(outputs, 23) },
  );
  assertClose(fused.outputs[0]!, ops.outputs[0]!, 1e-5, 1, 'y');
  assertClose(fused.outputs[1]!, ops.outputs[1]!, 1e-5, 1, 'dx');
  assertClose(fused.grads.get('weight')!, ops.grads.get('weight')!, 1e-5, 1, 'dW');
  assertClose(fused.grads.get('bias')!, ops.grads.get('bias')!, 1e-5, 1, 'db');
});

function layerNormFloat64(x: Float32Array, residual: Float32Array, gamma: Float32Array, beta: Float32Array, rows: number, cols: number, eps: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const s = Array.from({ length: cols }, (_, j) => Math.fround(x[r * cols + j]! + residual[r * cols + j]!));
    const mean = s.reduce((sum, value) => sum + value, 0) / cols;
    const variance = s.reduce((sum, value) => sum + (value - mean) ** 2, 0) / cols;
    for (let j = 0; j < cols; j++) out[r * cols + j] = ((s[j]! - mean) / Math.sqrt(variance + eps)) * gamma[j]! + beta[j]!;
  }
  return out;
}
