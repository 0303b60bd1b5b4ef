/**
 * The native AdamW and SGD steps are bit-identical to the JavaScript references (Math.fround
 * after every operation, in adamw.ts / sgd.ts order) and to the TF.js optimizer classes on
 * the cpu backend, over random, denormal, zero and huge inputs, with 1 and 2 threads and on
 * SharedArrayBuffer views.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../../helpers/backend.js';
import { AdamW } from '../../../src/optim/adamw.js';
import { SGD } from '../../../src/optim/sgd.js';
import { adamwScalars, adamwUpdate, sgdUpdate, type AdamWStepOptions } from '../../../src/node/native/addon.js';
import { adamwReference, sgdReference } from '../../../src/node/native/reference.js';
import { firstBitDifference, hardArray, native, normalArray, skip, withThreads } from './helpers.js';

function copies(...arrays: Float32Array[]): Float32Array[] {
  return arrays.map((array) => array.slice());
}

function assertSameBits(actual: Float32Array, expected: Float32Array, label: string): void {
  const index = firstBitDifference(actual, expected);
  assert.equal(index, -1, `${label}: first difference at ${index}: ${actual[index]} vs ${expected[index]}`);
}

const ADAMW_CASES: (Omit<AdamWStepOptions, 'step'> & { label: string })[] = [
  { label: 'defaults, decays', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, decays: true },
  { label: 'no decay (bias)', lr: 5e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, decays: false },
  { label: 'odd betas, eps 0', lr: 0.3, betas: [0.5, 0.95], eps: 0, weightDecay: 0.2, decays: true },
  { label: 'beta 0', lr: 2e-5, betas: [0, 0], eps: 1e-6, weightDecay: 0, decays: true },
];

for (const size of [1, 15, 16, 17, 1000, 200_003]) {
  for (const c of ADAMW_CASES) {
    test(`adamwStep bit-identical to the reference: ${c.label}, ${size} elements`, { skip }, () => {
      const a = native();
      for (const threads of size > 100_000 ? [1, 2] : [1]) {
        const p = hardArray(size, size + 1);
        const m = normalArray(size, size + 2, 1e-3);
        const v = normalArray(size, size + 3, 1e-3).map(Math.abs);
        const [pNative, mNative, vNative] = copies(p, m, v) as [Float32Array, Float32Array, Float32Array];
        for (let step = 1; step <= 3; step++) {
          const g = step === 2 ? hardArray(size, size * 7 + step) : normalArray(size, size * 7 + step, 10 ** (step - 3));
          const options = { ...c, step };
          adamwReference(p, g, m, v, adamwScalars(options));
          withThreads(threads, () => adamwUpdate(a, pNative, g, mNative, vNative, options));
          assertSameBits(pNative, p, `param step ${step}, ${threads} threads`);
          assertSameBits(mNative, m, `m step ${step}`);
          assertSameBits(vNative, v, `v step ${step}`);
        }
      }
    });
  }
}

test('adamwStep on SharedArrayBuffer subarrays equals the plain-array result', { skip }, () => {
  const a = native();
  const size = 70_001;
  const sab = (seed: number, std: number) => normalArray(size, seed, std, { shared: true, offset: 3 });
  const p = sab(1, 1), g = sab(2, 1e-2), m = sab(3, 1e-3), v = sab(4, 1e-3).map(Math.abs);
  assert.ok(p.buffer instanceof SharedArrayBuffer);
  const [p2, m2, v2] = copies(p, m, v) as [Float32Array, Float32Array, Float32Array];
  const options = { ...ADAMW_CASES[0]!, step: 1 };
  adamwUpdate(a, p, g, m, v, options);
  adamwReference(p2, g, m2, v2, adamwScalars(options));
  assertSameBits(p, p2, 'param');
  assertSameBits(m, m2, 'm');
  assertSameBits(v, v2, 'v');
});

const SGD_CASES = [
  { label: 'plain', momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
  { label: 'coupled decay', momentum: 0, dampening: 0, nesterov: false, weightDecay: 0.05 },
  { label: 'momentum + dampening', momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 1e-4 },
  { label: 'nesterov', momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.01 },
];

for (const c of SGD_CASES) {
  for (const size of [5, 1000, 150_001]) {
    test(`sgdStep bit-identical to the reference: ${c.label}, ${size} elements`, { skip }, () => {
      const a = native();
      for (const threads of size > 100_000 ? [1, 2] : [1]) {
        const p = hardArray(size, 11);
        const pNative = p.slice();
        const buffer = c.momentum !== 0 ? new Float32Array(size) : undefined;
        const bufferNative = buffer?.slice();
        for (let step = 1; step <= 3; step++) {
          const g = step === 2 ? hardArray(size, 20 + step) : normalArray(size, 20 + step);
          const options = { ...c, lr: 0.05, decays: true, firstStep: step === 1 };
          sgdReference(p, g, buffer, { weightDecay: c.weightDecay, momentum: c.momentum, oneMinusDampening: 1 - c.dampening, nesterov: c.nesterov, firstStep: step === 1, negLr: -0.05 });
          withThreads(threads, () => sgdUpdate(a, pNative, g, bufferNative, options));
          assertSameBits(pNative, p, `param step ${step}, ${threads} threads`);
          if (buffer !== undefined) assertSameBits(bufferNative!, buffer, `buffer step ${step}`);
        }
      }
    });
  }
}

test('sgdStep with momentum needs a buffer', { skip }, () => {
  const a = native();
  assert.throws(() => a.sgdStep(new Float32Array(4), new Float32Array(4), null, 0, 0.9, 1, false, true, -0.1), /needs a buffer/);
});

/** Runs `steps` optimizer steps of src/optim's JavaScript optimizer on host arrays; returns the parameters. */
function tfjsSteps(optimizer: AdamW | SGD, values: Float32Array[], grads: Float32Array[][], names: string[], lr: number): Float32Array[] {
  const params = values.map((value, index) => ({ name: names[index]!, values: value.slice() }));
  for (const stepGrads of grads) optimizer.step(params.map((param, index) => ({ ...param, grad: stepGrads[index]! })), lr);
  optimizer.dispose();
  return params.map((param) => param.values);
}

test('native AdamW equals src/optim/adamw.ts bit for bit (decay and no-decay names)', { skip }, async () => {
  await useBackend('cpu');
  const a = native();
  const names = ['encoder.dense.weight', 'encoder.dense.bias'];
  const values = [hardArray(999, 1), normalArray(64, 2)];
  const grads = [1, 2, 3, 4].map((step) => [normalArray(999, 10 + step, 0.1), normalArray(64, 20 + step, 0.1)]);
  const lr = 1e-3;
  const expected = tfjsSteps(new AdamW({ weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8 }), values, grads, names, lr);
  const actual = values.map((value) => value.slice());
  const moments = values.map((value) => [new Float32Array(value.length), new Float32Array(value.length)] as const);
  grads.forEach((stepGrads, index) => {
    actual.forEach((param, p) => {
      adamwUpdate(a, param, stepGrads[p]!, moments[p]![0], moments[p]![1], { lr, step: index + 1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, decays: p === 0 });
    });
  });
  actual.forEach((param, p) => assertSameBits(param, expected[p]!, names[p]!));
});

test('native SGD equals src/optim/sgd.ts bit for bit (nesterov, decay)', { skip }, async () => {
  await useBackend('cpu');
  const a = native();
  const names = ['w', 'LayerNorm.bias'];
  const values = [hardArray(777, 3), normalArray(32, 4)];
  const grads = [1, 2, 3].map((step) => [normalArray(777, 30 + step), normalArray(32, 40 + step)]);
  const lr = 0.01;
  const options = { momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.01 };
  const expected = tfjsSteps(new SGD(options), values, grads, names, lr);
  const actual = values.map((value) => value.slice());
  const buffers = values.map((value) => new Float32Array(value.length));
  grads.forEach((stepGrads, index) => {
    actual.forEach((param, p) => {
      sgdUpdate(a, param, stepGrads[p]!, buffers[p], { ...options, lr, decays: p === 0, firstStep: index === 0 });
    });
  });
  actual.forEach((param, p) => assertSameBits(param, expected[p]!, names[p]!));
});

test('optimizer arguments are checked: lengths and overlaps', { skip }, () => {
  const a = native();
  const p = new Float32Array(8);
  assert.throws(() => a.adamwStep(p, new Float32Array(7), new Float32Array(8), new Float32Array(8), 1, 0.1, 0.999, 0.001, 1, 1e-8, -1e-3), RangeError);
  assert.throws(() => a.adamwStep(p, p, new Float32Array(8), new Float32Array(8), 1, 0.1, 0.999, 0.001, 1, 1e-8, -1e-3), /param overlaps grad/);
  const untyped = a.adamwStep as unknown as (...args: unknown[]) => void;
  assert.throws(() => untyped(p, new Float32Array(8), new Float32Array(8), new Float32Array(8), 1, 0.1, 0.999, 0.001, 1, 1e-8), /expects 11 arguments/);
  assert.throws(() => a.adamwStep(p, new Float64Array(8) as never, new Float32Array(8), new Float32Array(8), 1, 0.1, 0.999, 0.001, 1, 1e-8, -1e-3), TypeError);
});
