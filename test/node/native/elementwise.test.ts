/**
 * Fused elementwise kernels against unfused float64 references (src/node/native/reference.ts)
 * and within float32 tolerance of TF.js's unfused ops on the cpu backend (the formulas of
 * src/bert/model.ts): bias + exact-erf GELU, residual add + LayerNorm, scale + mask + softmax,
 * forward and backward, with 1 and 2 threads.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../helpers/backend.js';
import {
  geluDerivativeReference,
  geluReference,
  layerNormBackwardReference,
  layerNormReference,
  softmaxBackwardReference,
  softmaxReference,
} from '../../../src/node/native/reference.js';
import { maxRelativeError, native, normalArray, skip, withThreads } from './helpers.js';

/** Error in units of the float32 spacing at the reference value. */
function maxUlps(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    if (Math.abs(e) < 1e-37) {
      assert.ok(Math.abs(actual[i]! - e) < 1e-37, `tiny value at ${i}: ${actual[i]} vs ${e}`);
      continue;
    }
    const ulp = 2 ** (Math.floor(Math.log2(Math.abs(e))) - 23);
    worst = Math.max(worst, Math.abs(actual[i]! - e) / ulp);
  }
  return worst;
}

/** max |a − b| / (Σ|terms| scale): errors measured against the magnitude that produced the value. */
function maxScaledError(actual: ArrayLike<number>, expected: ArrayLike<number>, scale: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / (scale[i]! + 1e-30));
  return worst;
}

/** GELU inputs across the whole interesting range (and past it), plus exact special values. */
function geluInputs(rows: number, cols: number): { x: Float32Array; bias: Float32Array } {
  const x = normalArray(rows * cols, 1, 4);
  const specials = [0, -0, 1, -1, 0.999999, -1.0000001, 5.5, -5.5, -10, -13.5, -15, -20, 8, 1e-30, -1e-30, 3e38, -3e38];
  specials.forEach((value, index) => (x[index * 7] = value));
  return { x, bias: normalArray(cols, 2, 0.5) };
}

for (const [rows, cols] of [[1, 1], [3, 17], [64, 1024], [300, 31]] as const) {
  test(`biasGeluForward/Backward: ${rows}×${cols} against float64 (correctly rounded forward)`, { skip }, () => {
    const a = native();
    const { x, bias } = geluInputs(rows, cols);
    const z = new Float32Array(rows * cols);
    for (let i = 0; i < z.length; i++) z[i] = Math.fround(x[i]! + bias[i % cols]!);
    const yRef = Float64Array.from(z, geluReference);
    const dy = normalArray(rows * cols, 3);
    const dxRef = Float64Array.from(z, (value, i) => dy[i]! * geluDerivativeReference(value));
    // Error scale of the derivative: |dy|·(Φ + |x|·φ), the terms it is computed from.
    const dxScale = Float64Array.from(z, (value, i) => Math.abs(dy[i]!) * (Math.abs(geluReference(value) / (value || 1)) + Math.abs(value) * Math.exp(-0.5 * value * value) * 0.4) || 0);
    for (const threads of [1, 2]) {
      withThreads(threads, () => {
        const y = new Float32Array(rows * cols);
        const saved = new Float32Array(rows * cols);
        a.biasGeluForward(x, bias, rows, cols, y, saved);
        assert.deepEqual(saved, z, 'saved pre-activation');
        assert.ok(maxUlps(y, yRef) <= 0.53, `forward ${maxUlps(y, yRef)} ulp`);
        const dx = new Float32Array(rows * cols);
        const dbias = normalArray(cols, 4);
        const dbiasBefore = dbias.slice();
        a.biasGeluBackward(dy, saved, rows, cols, dx, dbias, true);
        assert.ok(maxScaledError(dx, dxRef, dxScale) <= 1.2e-7, `backward ${maxScaledError(dx, dxRef, dxScale)}`);
        for (let j = 0; j < cols; j++) {
          let sum = 0;
          let scale = 0;
          for (let r = 0; r < rows; r++) {
            sum += dx[r * cols + j]!;
            scale += Math.abs(dx[r * cols + j]!);
          }
          assert.ok(Math.abs(dbias[j]! - (dbiasBefore[j]! + sum)) <= 1.2e-7 * (scale + Math.abs(dbiasBefore[j]!)) + 1e-30, `dbias ${j}`);
        }
        // The bias gradient does not depend on the thread count, bit for bit.
        const dbiasOther = dbiasBefore.slice();
        withThreads(3 - threads, () => a.biasGeluBackward(dy, saved, rows, cols, new Float32Array(rows * cols), dbiasOther, true));
        assert.deepEqual(dbiasOther, dbias);
        // In place: y = x, dx = dy.
        const inPlace = x.slice();
        a.biasGeluForward(inPlace, bias, rows, cols, inPlace, null);
        assert.deepEqual(inPlace, y);
        const dyCopy = dy.slice();
        a.biasGeluBackward(dyCopy, saved, rows, cols, dyCopy, null);
        assert.deepEqual(dyCopy, dx);
      });
    }
  });
}

test('biasGelu matches TF.js unfused 0.5·x·(1 + erf(x/√2)) and its gradient within float32 tolerance', { skip }, async () => {
  await useBackend('cpu');
  const a = native();
  const rows = 32;
  const cols = 256;
  const x = normalArray(rows * cols, 5, 3);
  const bias = normalArray(cols, 6, 0.1);
  const dy = normalArray(rows * cols, 7);
  const [tfY, tfDx] = tf.tidy(() => {
    const z = tf.add(tf.tensor2d(x, [rows, cols]), tf.tensor1d(bias));
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(z, Math.SQRT1_2)), 1), 0.5);
    const density = tf.mul(tf.exp(tf.mul(tf.square(z), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return [tf.mul(z, cdf).dataSync(), tf.mul(tf.tensor2d(dy, [rows, cols]), tf.add(cdf, tf.mul(z, density))).dataSync()];
  });
  const y = new Float32Array(rows * cols);
  const saved = new Float32Array(rows * cols);
  a.biasGeluForward(x, bias, rows, cols, y, saved);
  const dx = new Float32Array(rows * cols);
  a.biasGeluBackward(dy, saved, rows, cols, dx, null);
  // TF.js's erf is a polynomial approximation good to ~1e-7 absolute, and 1 + erf cancels
  // for negative inputs: the difference is bounded by ~3e-7·(|x| + 1) in absolute terms.
  for (let i = 0; i < y.length; i++) {
    assert.ok(Math.abs(y[i]! - tfY[i]!) <= 3e-7 * (Math.abs(saved[i]!) + 1), `y ${i}: ${y[i]} vs ${tfY[i]}`);
    assert.ok(Math.abs(dx[i]! - tfDx[i]!) <= 3e-7 * (Math.abs(saved[i]!) + 1) * Math.abs(dy[i]!) + 1e-30, `dx ${i}: ${dx[i]} vs ${tfDx[i]}`);
  }
});

for (const [rows, cols, residual] of [[1, 1, true], [5, 33, false], [130, 768, true], [1000, 256, true]] as const) {
  test(`layerNorm forward/backward: ${rows}×${cols}${residual ? ' + residual' : ''} against float64`, { skip }, () => {
    const a = native();
    const x = normalArray(rows * cols, 8, 2);
    // A large common offset stresses the variance computation (mean ≫ spread).
    for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i]! + 300);
    const res = residual ? normalArray(rows * cols, 9) : undefined;
    const gamma = normalArray(cols, 10, 0.3).map((g) => g + 1);
    const beta = normalArray(cols, 11, 0.1);
    const eps = 1e-12;
    const ref = layerNormReference(x, res, gamma, beta, rows, cols, eps);
    const dy = normalArray(rows * cols, 12);
    const grads = layerNormBackwardReference(dy, ref.xhat, ref.invStd, gamma, rows, cols);
    for (const threads of [1, 2]) {
      withThreads(threads, () => {
        const out = new Float32Array(rows * cols);
        const xhat = new Float32Array(rows * cols);
        const invStd = new Float32Array(rows);
        a.layerNormForward(x, res ?? null, gamma, beta, rows, cols, eps, out, xhat, invStd);
        // Centering happens in float64, so a mean of ≈ 300 over a spread of ≈ 2 costs nothing
        // (a float32 x − mean would lose ulp(300)/2 ≈ 1.5e-5 absolute, 7.6e-6 of x̂).
        assert.ok(maxRelativeError(xhat, ref.xhat, 1) <= 2e-7, `xhat ${maxRelativeError(xhat, ref.xhat, 1)}`);
        assert.ok(maxRelativeError(invStd, ref.invStd, 0) <= 2e-7, `invStd ${maxRelativeError(invStd, ref.invStd, 0)}`);
        assert.ok(maxRelativeError(out, ref.out, 1) <= 4e-6, 'out');
        const dx = normalArray(rows * cols, 13);
        const dxBefore = dx.slice();
        const dgamma = new Float32Array(cols).fill(0.5);
        const dbeta = new Float32Array(cols).fill(-0.5);
        // Backward from the float64 saved values, to measure the backward kernel alone.
        a.layerNormBackward(dy, Float32Array.from(ref.xhat), Float32Array.from(ref.invStd), gamma, rows, cols, dx, dgamma, dbeta, true, true);
        const expectedDx = Float64Array.from(grads.dx, (value, i) => value + dxBefore[i]!);
        assert.ok(maxRelativeError(dx, expectedDx, 1) <= 3e-6, `dx ${maxRelativeError(dx, expectedDx, 1)}`);
        assert.ok(maxRelativeError(dgamma, grads.dgamma.map((g) => g + 0.5), Math.sqrt(rows)) <= 1e-6, 'dgamma');
        assert.ok(maxRelativeError(dbeta, grads.dbeta.map((g) => g - 0.5), Math.sqrt(rows)) <= 1e-6, 'dbeta');
      });
    }
    // Thread count does not change a single bit (column sums are reduced in fixed blocks).
    const run = (threads: number) =>
      withThreads(threads, () => {
        const dx = new Float32Array(rows * cols);
        const dgamma = new Float32Array(cols);
        a.layerNormBackward(dy, Float32Array.from(ref.xhat), Float32Array.from(ref.invStd), gamma, rows, cols, dx, dgamma, null);
        return [dx, dgamma];
      });
    assert.deepEqual(run(1), run(2));
  });
}

test('layerNorm matches the TF.js formulas of src/bert/model.ts within float32 tolerance', { skip }, async () => {
  await useBackend('cpu');
  const a = native();
  const rows = 40;
  const cols = 128;
  const eps = 1e-12;
  const x = normalArray(rows * cols, 14, 3);
  const res = normalArray(rows * cols, 15);
  const gamma = normalArray(cols, 16, 0.2).map((g) => g + 1);
  const beta = normalArray(cols, 17, 0.1);
  const dy = normalArray(rows * cols, 18);
  const [tfOut, tfDx, tfDgamma, tfDbeta] = tf.tidy(() => {
    const input = tf.add(tf.tensor2d(x, [rows, cols]), tf.tensor2d(res, [rows, cols]));
    const mean = tf.mean(input, -1, true);
    const centered = tf.sub(input, mean);
    const inverseStd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps));
    const normalized = tf.mul(centered, inverseStd);
    const out = tf.add(tf.mul(normalized, tf.tensor1d(gamma)), tf.tensor1d(beta));
    const dyT = tf.tensor2d(dy, [rows, cols]);
    const scaled = tf.mul(dyT, tf.tensor1d(gamma));
    const projection = tf.mul(normalized, tf.mean(tf.mul(scaled, normalized), -1, true));
    const dx = tf.mul(tf.sub(tf.sub(scaled, tf.mean(scaled, -1, true)), projection), inverseStd);
    return [out.dataSync(), dx.dataSync(), tf.sum(tf.mul(dyT, normalized), 0).dataSync(), tf.sum(dyT, 0).dataSync()];
  });
  const out = new Float32Array(rows * cols);
  const xhat = new Float32Array(rows * cols);
  const invStd = new Float32Array(rows);
  a.layerNormForward(x, res, gamma, beta, rows, cols, eps, out, xhat, invStd);
  const dx = new Float32Array(rows * cols);
  const dgamma = new Float32Array(cols);
  const dbeta = new Float32Array(cols);
  a.layerNormBackward(dy, xhat, invStd, gamma, rows, cols, dx, dgamma, dbeta);
  assert.ok(maxRelativeError(out, tfOut, 1) <= 2e-6, `out ${maxRelativeError(out, tfOut, 1)}`);
  assert.ok(maxRelativeError(dx, tfDx, 1) <= 5e-6, `dx ${maxRelativeError(dx, tfDx, 1)}`);
  assert.ok(maxRelativeError(dgamma, tfDgamma, 1) <= 5e-6, 'dgamma');
  assert.ok(maxRelativeError(dbeta, tfDbeta, 1) <= 5e-6, 'dbeta');
});

for (const [batch, heads, queries, keys] of [[1, 1, 1, 1], [2, 3, 5, 37], [8, 4, 118, 118]] as const) {
  test(`softmax forward/backward with a per-sample mask: [${batch},${heads},${queries},${keys}] against float64`, { skip }, () => {
    const a = native();
    const rows = batch * heads * queries;
    const x = normalArray(rows * keys, 19, 4);
    // BERT's additive mask: 0 for tokens, a large negative number for padding, per sample.
    const mask = new Float32Array(batch * keys);
    for (let b = 0; b < batch; b++) for (let j = Math.max(1, keys - 3 * b); j < keys; j++) mask[b * keys + j] = -3.4028234663852886e38;
    const scale = 0.125;
    const ref = softmaxReference(x, rows, keys, scale, mask, batch, heads * queries);
    const dy = normalArray(rows * keys, 20);
    const dxRef = softmaxBackwardReference(dy, ref, rows, keys, scale);
    for (const threads of [1, 2]) {
      withThreads(threads, () => {
        const y = new Float32Array(rows * keys);
        a.softmaxForward(x, rows, keys, scale, mask, batch, heads * queries, y);
        assert.ok(maxRelativeError(y, ref, 1e-30) <= 4e-7, `y ${maxRelativeError(y, ref, 1e-30)}`);
        const dx = new Float32Array(rows * keys);
        a.softmaxBackward(dy, y, rows, keys, scale, dx);
        assert.ok(maxRelativeError(dx, dxRef, 1e-3) <= 2e-6, `dx ${maxRelativeError(dx, dxRef, 1e-3)}`);
        // In place.
        const inPlace = x.slice();
        a.softmaxForward(inPlace, rows, keys, scale, mask, batch, heads * queries, inPlace);
        assert.deepEqual(inPlace, y);
      });
    }
  });
}

test('softmax without a mask, and with a [queries, keys] mask repeated over heads (causal)', { skip }, () => {
  const a = native();
  const [heads, queries, keys] = [3, 6, 6];
  const rows = heads * queries;
  const x = normalArray(rows * keys, 21);
  const y = new Float32Array(rows * keys);
  a.softmaxForward(x, rows, keys, 1, null, 0, 0, y);
  assert.ok(maxRelativeError(y, softmaxReference(x, rows, keys, 1, undefined), 1e-30) <= 4e-7);
  const causal = new Float32Array(queries * keys);
  for (let q = 0; q < queries; q++) for (let k = q + 1; k < keys; k++) causal[q * keys + k] = -Infinity;
  a.softmaxForward(x, rows, keys, 1, causal, queries, 1, y);
  const ref = softmaxReference(x, rows, keys, 1, causal, queries, 1);
  assert.ok(maxRelativeError(y, ref, 1e-30) <= 4e-7);
  assert.equal(y[keys - 1], 0);
});

test('softmax matches TF.js softmax(x·scale + mask) and its gradient within float32 tolerance', { skip }, async () => {
  await useBackend('cpu');
  const a = native();
  const [batch, heads, length] = [2, 2, 50];
  const rows = batch * heads * length;
  const x = normalArray(rows * length, 22, 3);
  const mask = new Float32Array(batch * length);
  for (let j = 40; j < length; j++) mask[length + j] = -10000;
  const dy = normalArray(rows * length, 23);
  const [tfY, tfDx] = tf.tidy(() => {
    const scores = tf.add(tf.mul(tf.tensor4d(x, [batch, heads, length, length]), 0.125), tf.tensor4d(mask, [batch, 1, 1, length]));
    const value = tf.softmax(scores);
    // TF.js's Softmax gradient, written out: dy·y − y·Σ(dy·y), times the scale of the scores.
    const dyT = tf.tensor4d(dy, [batch, heads, length, length]);
    const product = tf.mul(dyT, value);
    const grad = tf.sub(product, tf.mul(tf.sum(product, -1, true), value));
    return [value.dataSync(), tf.mul(grad, 0.125).dataSync()];
  });
  const y = new Float32Array(rows * length);
  a.softmaxForward(x, rows, length, 0.125, mask, batch, heads * length, y);
  const dx = new Float32Array(rows * length);
  a.softmaxBackward(dy, y, rows, length, 0.125, dx);
  assert.ok(maxRelativeError(y, tfY, 1e-6) <= 2e-6, `y ${maxRelativeError(y, tfY, 1e-6)}`);
  assert.ok(maxRelativeError(dx, tfDx, 1e-4) <= 1e-5, `dx ${maxRelativeError(dx, tfDx, 1e-4)}`);
});

test('elementwise kernels check shapes and aliasing', { skip }, () => {
  const a = native();
  const x = new Float32Array(12);
  assert.throws(() => a.biasGeluForward(x, new Float32Array(3), 3, 4, new Float32Array(12), null), /bias has 3 elements, needs 4/);
  assert.throws(() => a.biasGeluForward(x, null, 3, 4, x.subarray(1), null), RangeError);
  assert.throws(() => a.layerNormBackward(x, x, new Float32Array(3), new Float32Array(4), 3, 4, x, null, null), /dx overlaps dy/);
  assert.throws(() => a.softmaxForward(x, 3, 4, 1, new Float32Array(4), 0, 1, new Float32Array(12)), /maskRows/);
});
