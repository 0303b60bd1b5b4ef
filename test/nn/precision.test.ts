/**
 * bf16 autocast of the nn layers' products (nn/matmul.ts, nn/dense.ts): operands rounded to
 * bfloat16 exactly as torch's `.to(torch.bfloat16)`, products accumulated in float32. The native
 * path (the host's sgemmBf16 under wasm: VDPBF16PS, or its emulation) and the fallback (operands
 * rounded in JavaScript, then TF.js's fp32 matMul, on cpu and on stock wasm) must both be the
 * float64 product of the rounded operands up to float32 summation order — and so equal each
 * other up to it — and visibly not the fp32 product.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { roundToBf16 } from '../../src/core/bf16.js';
import { RandomStream } from '../../src/core/random.js';
import { backwardContext, layerContext, type BackwardContext, type Precision } from '../../src/nn/context.js';
import { denseBackward, denseForward } from '../../src/nn/dense.js';
import { matMul } from '../../src/nn/matmul.js';
import { loadNativeAddon } from '../../src/node/native/addon.js';
import { GradientStore, ParameterStore } from '../../src/train/store.js';
import { modeSkip, useMode, MODES } from '../helpers/modes.js';

const nativeSkip = modeSkip('wasm+native');

function normal(size: number, seed: number, std = 1): Float32Array {
  const stream = new RandomStream(seed);
  return Float32Array.from({ length: size }, () => stream.normal() * std);
}

/** Values that stress the rounding: ties (both parities), carries into the exponent, ±0, ±Inf, NaNs, denormals, the largest finite values. */
function hardValues(): Float32Array {
  const bits = [
    0x3f808000, 0x3f818000, 0x3f80c000, 0x3f807fff, 0x3f7fffff, 0x3fff8000, 0x7f7fffff, 0xff7fffff, 0x7f7f8000, 0x00000001, 0x80008000, 0x00018000,
    0x007fffff, 0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc00001, 0x7fbfffff,
  ];
  const out = new Float32Array(bits.length + 4000);
  new Uint32Array(out.buffer).set(bits);
  const stream = new RandomStream(3);
  for (let i = bits.length; i < out.length; i++) out[i] = stream.normal() * 10 ** (stream.below(20) - 10);
  return out;
}

test('roundToBf16 (JavaScript) is round-to-nearest-even on the bit pattern, NaN → 0x7FC00000, as torch', () => {
  const cases: [number, number][] = [
    [0x3f808000, 0x3f800000], // 1 + 2⁻⁸: a tie, to the even 1
    [0x3f818000, 0x3f820000], // a tie, to the even neighbour above
    [0x3f80c000, 0x3f810000], // above the tie
    [0x3f807fff, 0x3f800000], // below the tie
    [0x7f7fffff, 0x7f800000], // the largest float rounds to +Inf, as torch
    [0x00018000, 0x00020000], // denormals round like any value
    [0x80000000, 0x80000000], // −0 stays
    [0xff800000, 0xff800000],
    [0x7f800001, 0x7fc00000], // a signalling NaN
    [0xffc00001, 0x7fc00000], // a negative NaN
  ];
  const input = new Float32Array(cases.length);
  new Uint32Array(input.buffer).set(cases.map(([bits]) => bits));
  const out = new Uint32Array(roundToBf16(input, new Float32Array(cases.length)).buffer);
  cases.forEach(([from, to], i) => assert.equal(out[i], to, `0x${from.toString(16)} → 0x${out[i]!.toString(16)}, expected 0x${to.toString(16)}`));
});

test('roundToBf16: JavaScript and the native kernel agree bit for bit', { skip: nativeSkip }, () => {
  const values = hardValues();
  const js = roundToBf16(values, new Float32Array(values.length));
  const native = new Float32Array(values.length);
  loadNativeAddon()!.roundToBf16(values, native);
  assert.deepEqual(new Uint32Array(native.buffer), new Uint32Array(js.buffer));
});

/** C = op(A)·op(B) in float64 of bf16-rounded operands (row-major, one matrix), with Σ|a||b| per element. */
function referenceProduct(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transposeA: boolean, transposeB: boolean): { value: Float64Array; magnitude: Float64Array } {
  const ra = roundToBf16(a, new Float32Array(a.length));
  const rb = roundToBf16(b, new Float32Array(b.length));
  const value = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      let abs = 0;
      for (let p = 0; p < k; p++) {
        const product = ra[transposeA ? p * m + i : i * k + p]! * rb[transposeB ? j * k + p : p * n + j]!;
        sum += product;
        abs += Math.abs(product);
      }
      value[i * n + j] = sum;
      magnitude[i * n + j] = abs;
    }
  }
  return { value, magnitude };
}

/** max |actual − value| / (k·2⁻²³·Σ|a||b|): ≤ 1 is float32 summation order. */
function summationError(actual: ArrayLike<number>, reference: { value: Float64Array; magnitude: Float64Array }, k: number): number {
  let worst = 0;
  for (let i = 0; i < reference.value.length; i++) {
    const bound = k * 2 ** -23 * reference.magnitude[i]! + 1e-37;
    worst = Math.max(worst, Math.abs(actual[i]! - reference.value[i]!) / bound);
  }
  return worst;
}

function contextFor(store: ParameterStore, precision: Precision): BackwardContext {
  return backwardContext(layerContext(store, true, [], { precision }), new GradientStore(store.layout));
}

for (const mode of MODES) {
  test(`[${mode}] matMul at bf16 is the product of bf16-rounded operands up to float32 summation order (2-D, transposed, batched, broadcast)`, { skip: modeSkip(mode) }, async () => {
    await useMode(mode);
    const store = ParameterStore.create([{ name: 'unused', shape: [1] }]);
    const context = contextFor(store, 'bf16');
    assert.equal(context.hostBf16, mode === 'wasm+native');
    const cases: { a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }[] = [
      { a: [37, 300], b: [300, 29], transposeA: false, transposeB: false },
      { a: [300, 37], b: [29, 300], transposeA: true, transposeB: true },
      { a: [2, 3, 7, 5], b: [2, 3, 6, 5], transposeA: false, transposeB: true },
      { a: [2, 3, 7, 5], b: [5, 6], transposeA: false, transposeB: false },
    ];
    for (const [index, c] of cases.entries()) {
      const aValues = normal(c.a.reduce((x, y) => x * y), 10 + index);
      const bValues = normal(c.b.reduce((x, y) => x * y), 20 + index);
      const before = tf.memory().numTensors;
      const [bf16, fp32] = tf.tidy(() => {
        const a = tf.tensor(aValues, c.a);
        const b = tf.tensor(bValues, c.b);
        return [matMul(a, b, c.transposeA, c.transposeB, context).dataSync(), matMul(a, b, c.transposeA, c.transposeB, { precision: 'fp32', hostBf16: false }).dataSync()];
      });
      assert.equal(tf.memory().numTensors, before);
      const rank = c.a.length;
      const m = c.a[rank - (c.transposeA ? 1 : 2)]!;
      const k = c.a[rank - (c.transposeA ? 2 : 1)]!;
      const n = c.b[c.b.length - (c.transposeB ? 2 : 1)]!;
      const batch = bf16!.length / (m * n);
      let worst = 0;
      let fromFp32 = 0;
      for (let item = 0; item < batch; item++) {
        const aItem = c.a.length > 2 ? aValues.subarray(item * m * k, (item + 1) * m * k) : aValues;
        const bItem = c.b.length > 2 ? bValues.subarray(item * k * n, (item + 1) * k * n) : bValues;
        const reference = referenceProduct(aItem, bItem, m, k, n, c.transposeA, c.transposeB);
        worst = Math.max(worst, summationError(bf16!.subarray(item * m * n, (item + 1) * m * n), reference, k));
        fromFp32 = Math.max(fromFp32, summationError(fp32!.subarray(item * m * n, (item + 1) * m * n), reference, k));
      }
      assert.ok(worst <= 1, `case ${index}: ${worst} × the float32 summation bound`);
      // The fp32 product of the unrounded operands is far outside that bound: the rounding happened.
      assert.ok(fromFp32 > 4, `case ${index}: fp32 product only ${fromFp32} × the bound away`);
    }
  });

  test(`[${mode}] dense at bf16: forward, dx and dW (into the host gradient buffer) are bf16 products up to float32 summation order`, { skip: modeSkip(mode) }, async () => {
    await useMode(mode);
    const [rows, inputs, outputs] = [41, 96, 35];
    const weight = normal(outputs * inputs, 30, 0.3);
    const x = normal(rows * inputs, 31);
    const dy = normal(rows * outputs, 32);
    const store = ParameterStore.create([{ name: 'weight', shape: [outputs, inputs] }], (_, target) => target.set(weight));
    const context = contextFor(store, 'bf16');
    const before = tf.memory().numTensors;
    const [y, dx] = tf.tidy(() => {
      const input = tf.tensor2d(x, [rows, inputs]);
      const out = denseForward(input, { weight: 0 }, context);
      const grad = denseBackward(tf.tensor2d(dy, [rows, outputs]), input, { weight: 0 }, context)!;
      return [out.dataSync(), grad.dataSync()];
    });
    store.releaseMirrors();
    assert.equal(tf.memory().numTensors, before);
    assert.ok(summationError(y!, referenceProduct(x, weight, rows, inputs, outputs, false, true), inputs) <= 1, 'forward');
    assert.ok(summationError(dx!, referenceProduct(dy, weight, rows, outputs, inputs, false, false), outputs) <= 1, 'dx');
    assert.ok(summationError(context.grads.view(0), referenceProduct(dy, x, outputs, rows, inputs, true, false), rows) <= 1, 'dW');
  });
}
