import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
// Registers the gradients (tfjs-core's Node bundle has none).
import '@tensorflow/tfjs-layers';
import { maxRelativeDifference, useBackend } from '../helpers/backend.js';
import { productAndGrads, type MatMulCase } from '../helpers/matmul.js';
import { installFastKernels, uninstallFastKernels } from '../../src/backend/index.js';
import { MIN_SLICED_MULTIPLY_ADDS } from '../../src/backend/kernels/batchMatMul.js';

/** Small integers: every product and sum is exact in float32, so any summation order gives the same bits. */
function integerTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tidy(() => tf.round(tf.randomUniform(shape, -4, 4, 'float32', seed)));
}

async function assertFastMatchesStock(c: MatMulCase, makeTensor = integerTensor, tolerance = 0, floor = 1e-6): Promise<void> {
  uninstallFastKernels();
  const stock = await productAndGrads(c, makeTensor);
  installFastKernels();
  try {
    const fast = await productAndGrads(c, makeTensor);
    const label = JSON.stringify(c);
    assert.deepEqual(fast.shape, stock.shape, label);
    assert.ok(maxRelativeDifference(fast.product, stock.product, floor) <= tolerance, `product ${label}`);
    if (typeof stock.grads === 'string' || typeof fast.grads === 'string') {
      assert.equal(fast.grads, stock.grads, `gradient error ${label}`);
    } else {
      assert.ok(maxRelativeDifference(fast.grads.a, stock.grads.a, floor) <= tolerance, `gradA ${label}`);
      assert.ok(maxRelativeDifference(fast.grads.b, stock.grads.b, floor) <= tolerance, `gradB ${label}`);
    }
  } finally {
    uninstallFastKernels();
  }
}

test.before(async () => {
  await useBackend('wasm');
});

test('every transpose flag, 2-D (fold path)', async () => {
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      await assertFastMatchesStock({ aBatch: [], bBatch: [], m: 37, k: 29, n: 41, transposeA, transposeB, seed: 1 });
    }
  }
});

test('attention shapes: batched 4-D QKᵀ and PV take the per-matrix path', async () => {
  assert.ok(20 * 16 * 20 < MIN_SLICED_MULTIPLY_ADDS && 40 * 32 * 40 >= MIN_SLICED_MULTIPLY_ADDS);
  await assertFastMatchesStock({ aBatch: [2, 3], bBatch: [2, 3], m: 40, k: 32, n: 40, transposeA: false, transposeB: true, seed: 2 });
  await assertFastMatchesStock({ aBatch: [2, 3], bBatch: [2, 3], m: 40, k: 40, n: 32, transposeA: false, transposeB: false, seed: 3 });
  await assertFastMatchesStock({ aBatch: [2, 3], bBatch: [2, 3], m: 20, k: 16, n: 20, transposeA: true, transposeB: true, seed: 4 });
});

test('property: random shapes, batch broadcasting and transpose flags match the stock kernel exactly', async () => {
  // Batch shapes the stock wasm kernel supports: equal, or one side a single matrix.
  const batchPair = fc.oneof(
    fc.constant<[number[], number[]]>([[], []]),
    fc.constant<[number[], number[]]>([[3], [3]]),
    fc.constant<[number[], number[]]>([[2, 2], [2, 2]]),
    fc.constant<[number[], number[]]>([[3], [1]]),
    fc.constant<[number[], number[]]>([[1], [3]]),
    fc.constant<[number[], number[]]>([[2, 2], []]),
    fc.constant<[number[], number[]]>([[], [2, 2]]),
  );
  await fc.assert(
    fc.asyncProperty(
      batchPair,
      fc.integer({ min: 1, max: 48 }),
      fc.integer({ min: 1, max: 48 }),
      fc.integer({ min: 1, max: 48 }),
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 0, max: 1000 }),
      async ([aBatch, bBatch], m, k, n, transposeA, transposeB, seed) => {
        await assertFastMatchesStock({ aBatch, bBatch, m, k, n, transposeA, transposeB, seed });
      },
    ),
    { numRuns: 40, seed: 42 },
  );
});

test('general batch broadcasting ([2,1] with [1,3]) against a per-matrix reference', async () => {
  installFastKernels();
  try {
    const a = integerTensor([2, 1, 36, 30], 5);
    const b = integerTensor([1, 3, 30, 34], 6);
    const product = tf.matMul(a, b);
    assert.deepEqual(product.shape, [2, 3, 36, 34]);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        const expected = tf.tidy(() => tf.matMul(tf.reshape(tf.slice(a, [i, 0, 0, 0], [1, 1, 36, 30]), [36, 30]), tf.reshape(tf.slice(b, [0, j, 0, 0], [1, 1, 30, 34]), [30, 34])));
        const actual = tf.tidy(() => tf.reshape(tf.slice(product, [i, j, 0, 0], [1, 1, 36, 34]), [36, 34]));
        assert.equal(maxRelativeDifference(await actual.data(), await expected.data()), 0, `matrix ${i},${j}`);
        tf.dispose([expected, actual]);
      }
    }
    tf.dispose([a, b, product]);
  } finally {
    uninstallFastKernels();
  }
});

test('non-integer data agrees to float32 rounding (≤ 1e-5 relative to the output scale)', async () => {
  const normal = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
  // Different summation orders differ by ~K·eps of the terms, so near-zero outputs are
  // compared against the typical magnitude (floor 1) instead of their own.
  await assertFastMatchesStock({ aBatch: [4], bBatch: [4], m: 50, k: 64, n: 50, transposeA: true, transposeB: false, seed: 7 }, normal, 1e-5, 1);
  await assertFastMatchesStock({ aBatch: [], bBatch: [], m: 64, k: 96, n: 80, transposeA: false, transposeB: true, seed: 8 }, normal, 1e-5, 1);
});

test('mismatched inner dimensions and int32 inputs keep the stock errors', () => {
  installFastKernels();
  try {
    assert.throws(() => tf.matMul(tf.zeros([3, 4]), tf.zeros([5, 6])), /inner shapes/);
    assert.throws(() => tf.matMul(tf.zeros([3, 4], 'int32'), tf.zeros([4, 6], 'int32')), /float32/);
  } finally {
    uninstallFastKernels();
    tf.disposeVariables();
  }
});

test('no leaks: tensors, backend data ids and bytes are stable across calls', () => {
  installFastKernels();
  try {
    const a = tf.randomNormal([2, 3, 40, 32]);
    const b = tf.randomNormal([2, 3, 40, 32]);
    const run = () => {
      const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y, true, false)))([a, b]);
      const y = tf.matMul(a, b, false, true);
      tf.dispose([ga!, gb!, y]);
    };
    run();
    const before = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, dataIds: tf.engine().backend.numDataIds() };
    for (let i = 0; i < 3; i++) run();
    assert.deepEqual({ tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, dataIds: tf.engine().backend.numDataIds() }, before);
    tf.dispose([a, b]);
  } finally {
    uninstallFastKernels();
  }
});
