import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
// Registers the gradients (tfjs-core's Node bundle has none).
import '@tensorflow/tfjs-layers';
import { maxRelativeDifference, useBackend } from '../helpers/backend.js';
import { fastKernelsInstalled, installFastKernels, registerMissingKernels, uninstallFastKernels } from '../../src/backend/index.js';
import { leadingAxesCount } from '../../src/backend/kernels/sum.js';
import { CONFLICT_ROW_MULTIPLE, MIN_TILED_ELEMENTS, swapsLastTwoAxes } from '../../src/backend/kernels/transpose.js';

/**
 * Forward value of `op(x)` and the gradient of sum(op(x) ⊙ w) with respect to x, read back
 * (or the error message, which the fast kernel must reproduce).
 */
async function valueAndGradient(op: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): Promise<{ shape: number[]; value: ArrayLike<number>; grad: ArrayLike<number> } | string> {
  try {
    const y = op(x);
    const weights = tf.randomNormal(y.shape, 0, 1, 'float32', 7);
    const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(op(input), weights)))(x);
    const result = { shape: y.shape, value: await y.data(), grad: await grad.data() };
    tf.dispose([y, weights, grad]);
    return result;
  } catch (error) {
    return (error as Error).message;
  }
}

/** max |a − b| / max |b|: the relative difference of two vectors as a whole. */
function normRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let difference = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    difference = Math.max(difference, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return difference / Math.max(scale, 1e-30);
}

/**
 * Stock and fast kernels agree (≤ 1e-5 relative) on the value and the gradient, or fail alike.
 * `byNorm` compares values relative to the largest one: for sums, where cancellation makes
 * single small entries differ by the (stock kernel's) float32 rounding alone.
 */
async function assertFastMatchesStock(label: string, op: (x: tf.Tensor) => tf.Tensor, makeInput: () => tf.Tensor, byNorm = false): Promise<void> {
  const x = makeInput();
  uninstallFastKernels();
  const stock = await valueAndGradient(op, x);
  installFastKernels();
  try {
    const fast = await valueAndGradient(op, x);
    if (typeof stock === 'string' || typeof fast === 'string') {
      assert.equal(fast, stock, `${label}: error`);
      return;
    }
    assert.deepEqual(fast.shape, stock.shape, label);
    const valueDifference = byNorm ? normRelativeDifference(fast.value, stock.value) : maxRelativeDifference(fast.value, stock.value);
    assert.ok(valueDifference <= 1e-5, `${label}: value differs by ${valueDifference}`);
    assert.ok(maxRelativeDifference(fast.grad, stock.grad) <= 1e-5, `${label}: gradient`);
  } finally {
    uninstallFastKernels();
    x.dispose();
  }
}

/** Runs `body` twice with the fast kernels and checks that the second run frees all it makes. */
async function assertNoLeak(body: () => Promise<void>): Promise<void> {
  installFastKernels();
  try {
    await body();
    const snapshot = () => ({ ...tf.memory(), backendDataIds: tf.engine().backend.numDataIds() });
    const before = snapshot();
    await body();
    const after = snapshot();
    assert.equal(after.numTensors, before.numTensors, 'tensors');
    assert.equal(after.numDataBuffers, before.numDataBuffers, 'data buffers');
    assert.equal(after.numBytes, before.numBytes, 'bytes');
    // Shared data (Identity, Cast) is counted per owner in the backend: freed only when all are.
    assert.equal(after.backendDataIds, before.backendDataIds, 'backend data ids');
  } finally {
    uninstallFastKernels();
  }
}

test.before(async () => {
  await useBackend('wasm');
  registerMissingKernels();
});

test('install and uninstall swap every fast kernel in and out', () => {
  installFastKernels();
  assert.ok(fastKernelsInstalled());
  uninstallFastKernels();
  assert.ok(!fastKernelsInstalled());
});

test('Identity (clone) shares data: equal values and gradients, and the clone outlives its source', async () => {
  await assertFastMatchesStock('clone', (x) => tf.clone(x), () => tf.randomNormal([13, 17], 0, 1, 'float32', 1));
  await assertFastMatchesStock('clone int32', (x) => tf.cast(tf.clone(tf.cast(x, 'int32')), 'float32'), () => tf.randomUniform([40], -50, 50, 'float32', 2));
  installFastKernels();
  try {
    const source = tf.tensor1d([1.5, -2, 3]);
    const copy = tf.clone(source);
    source.dispose();
    assert.deepEqual(Array.from(await copy.data()), [1.5, -2, 3]);
    copy.dispose();
    const label = tf.tensor1d(['a', 'b'], 'string');
    const labelCopy = tf.clone(label);
    label.dispose();
    assert.deepEqual(await labelCopy.data(), ['a', 'b']);
    labelCopy.dispose();
  } finally {
    uninstallFastKernels();
  }
});

test('Cast to the same dtype shares data; real conversions match stock', async () => {
  await assertFastMatchesStock('float32 → float32', (x) => tf.cast(x, 'float32'), () => tf.randomNormal([5, 9], 0, 1, 'float32', 3));
  await assertFastMatchesStock('float32 → int32 → float32', (x) => tf.cast(tf.cast(x, 'int32'), 'float32'), () => tf.randomNormal([64], 0, 10, 'float32', 4));
  await assertFastMatchesStock('float32 → bool → float32', (x) => tf.cast(tf.cast(x, 'bool'), 'float32'), () => tf.tensor1d([0, 1.5, -2, 0]));
  installFastKernels();
  try {
    const ints = tf.tensor1d([3, -4], 'int32');
    const same = tf.cast(ints, 'int32');
    ints.dispose();
    assert.equal(same.dtype, 'int32');
    assert.deepEqual(Array.from(await same.data()), [3, -4]);
    same.dispose();
  } finally {
    uninstallFastKernels();
  }
});

test('swapsLastTwoAxes recognises exactly the last-two-axes swaps', () => {
  assert.ok(swapsLastTwoAxes([1, 0]));
  assert.ok(swapsLastTwoAxes([0, 1, 3, 2]));
  assert.ok(!swapsLastTwoAxes([0, 1]));
  assert.ok(!swapsLastTwoAxes([0, 2, 1, 3]));
  assert.ok(!swapsLastTwoAxes([1, 0, 3, 2]));
  assert.ok(!swapsLastTwoAxes([0]));
});

test('Transpose matches stock on the tiled path and on every fall-back', async () => {
  const tiledRows = CONFLICT_ROW_MULTIPLE * 2;
  const tiledCols = Math.ceil(MIN_TILED_ELEMENTS / tiledRows) + 3;
  const cases: [string, number[], number[]][] = [
    ['2-D tiled', [tiledRows, tiledCols], [1, 0]],
    ['batched tiled', [2, CONFLICT_ROW_MULTIPLE, Math.ceil(MIN_TILED_ELEMENTS / CONFLICT_ROW_MULTIPLE)], [0, 2, 1]],
    ['rows not a multiple', [tiledRows + 1, tiledCols], [1, 0]],
    ['small matrix', [CONFLICT_ROW_MULTIPLE, 5], [1, 0]],
    ['other permutation', [3, 4, 5, 6], [0, 2, 1, 3]],
    ['rotation', [3, 4, 5], [2, 0, 1]],
  ];
  for (const [label, shape, perm] of cases) {
    await assertFastMatchesStock(label, (x) => tf.transpose(x, perm), () => tf.randomNormal(shape, 0, 1, 'float32', shape.length));
  }
  await assertFastMatchesStock('int32', (x) => tf.cast(tf.transpose(tf.cast(x, 'int32'), [1, 0]), 'float32'), () => tf.randomUniform([tiledRows, tiledCols], -9, 9, 'float32', 5));
});

test('GatherV2 matches stock for rows (any index shape, repeats), other axes and bad indices', async () => {
  const ids = (values: number[], shape = [values.length]) => (x: tf.Tensor) => tf.tidy(() => tf.gather(x, tf.tensor(values, shape, 'int32')));
  await assertFastMatchesStock('rows', ids([4, 7, 4, 0, 49, 7]), () => tf.randomNormal([50, 8], 0, 1, 'float32', 6));
  await assertFastMatchesStock('2-D indices, 3-D table', ids([1, 2, 0, 2], [2, 2]), () => tf.randomNormal([3, 4, 5], 0, 1, 'float32', 7));
  await assertFastMatchesStock('vector', ids([2, 2, 0]), () => tf.tensor1d([10, 20, 30]));
  await assertFastMatchesStock('axis 1', (x) => tf.tidy(() => tf.gather(x, tf.tensor1d([2, 0], 'int32'), 1)), () => tf.randomNormal([4, 3], 0, 1, 'float32', 8));
  await assertFastMatchesStock('out of range', ids([1, 5]), () => tf.randomNormal([5, 2], 0, 1, 'float32', 9));
  await assertFastMatchesStock('negative', ids([-1]), () => tf.randomNormal([5, 2], 0, 1, 'float32', 10));
  await assertFastMatchesStock('int32 table', (x) => tf.cast(tf.gather(tf.cast(x, 'int32'), tf.tensor1d([3, 1], 'int32')), 'float32'), () => tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]));
});

test('leadingAxesCount counts leading axes in any order and rejects the rest', () => {
  assert.equal(leadingAxesCount([0]), 1);
  assert.equal(leadingAxesCount([1, 0]), 2);
  assert.equal(leadingAxesCount([1]), 0);
  assert.equal(leadingAxesCount([0, 2]), 0);
  assert.equal(leadingAxesCount([]), 0);
});

test('Sum over leading axes matches stock (keepDims, odd row counts), and every other reduction falls back', async () => {
  const cases: [string, number[], number | number[], boolean][] = [
    ['rows', [1024, 96], 0, false],
    ['rows, odd count', [7, 33], 0, false],
    ['two leading axes', [6, 5, 4], [1, 0], false],
    ['keepDims', [9, 4, 3], [0, 1], true],
    ['negative axis', [5, 3], -2, false],
    ['trailing axis', [5, 3], 1, false],
    ['all axes', [5, 3], [0, 1], false],
    ['middle axis', [3, 4, 5], 1, true],
  ];
  for (const [label, shape, axis, keepDims] of cases) {
    await assertFastMatchesStock(label, (x) => tf.sum(x, axis, keepDims), () => tf.randomNormal(shape, 0, 1, 'float32', shape[0]!), true);
  }
  await assertFastMatchesStock('int32', (x) => tf.cast(tf.sum(tf.cast(x, 'int32'), 0), 'float32'), () => tf.randomUniform([20, 3], -9, 9, 'float32', 12));
});

test('Sum over rows is at least as close to a float64 sum as the stock kernel', async () => {
  const [rows, cols] = [1024, 96];
  const x = tf.randomNormal([rows, cols], 0, 1, 'float32', 13);
  const values = await x.data();
  const exact = new Float64Array(cols);
  for (let row = 0; row < rows; row++) for (let col = 0; col < cols; col++) exact[col]! += values[row * cols + col]!;
  const worstError = async (): Promise<number> => {
    const sum = tf.sum(x, 0);
    const result = await sum.data();
    sum.dispose();
    return Math.max(...Array.from(exact, (value, col) => Math.abs(result[col]! - value)));
  };
  uninstallFastKernels();
  const stockError = await worstError();
  installFastKernels();
  try {
    assert.ok((await worstError()) <= stockError, 'fast sum is less accurate than stock');
  } finally {
    uninstallFastKernels();
    x.dispose();
  }
});

test('the fast kernels free everything they allocate, forward and backward', async () => {
  await assertNoLeak(async () => {
    const x = tf.randomNormal([CONFLICT_ROW_MULTIPLE * 2, 300], 0, 1, 'float32', 11);
    const ids = tf.tensor1d([0, 5, 5, 255], 'int32');
    const [grad] = tf.grads((input: tf.Tensor) =>
      tf.sum(tf.sum(tf.mul(tf.gather(tf.transpose(tf.cast(tf.clone(input), 'float32')), ids), 2), 0)),
    )([x]);
    await grad!.data();
    tf.dispose([x, ids, grad!]);
  });
});
