import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { maxRelativeDifference, useBackend } from '../helpers/backend.js';
import { registerMissingKernels } from '../../src/backend/index.js';

/** Plain-JS reference with TensorFlow semantics (ids out of range dropped). */
function reference(values: Float32Array, ids: Int32Array, rowSize: number, numSegments: number): Float32Array {
  const out = new Float32Array(numSegments * rowSize);
  ids.forEach((segment, row) => {
    if (segment < 0 || segment >= numSegments) return;
    for (let i = 0; i < rowSize; i++) out[segment * rowSize + i]! += values[row * rowSize + i]!;
  });
  return out;
}

test.before(async () => {
  await useBackend('wasm');
  registerMissingKernels();
  registerMissingKernels(); // idempotent
});

test('unsortedSegmentSum on wasm matches the reference, incl. repeated, empty and out-of-range segments', async () => {
  const idValues = new Int32Array([3, 0, 3, -1, 5, 1, 9, 3]);
  const x = tf.randomNormal([8, 2, 3], 0, 1, 'float32', 1);
  const ids = tf.tensor1d(idValues, 'int32');
  const out = tf.unsortedSegmentSum(x, ids, 6);
  assert.deepEqual(out.shape, [6, 2, 3]);
  const expected = reference((await x.data()) as Float32Array, idValues, 6, 6);
  assert.ok(maxRelativeDifference(await out.data(), expected) <= 1e-6);
  tf.dispose([x, ids, out]);
});

test('2-D segment ids address the leading two dimensions', async () => {
  const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 2);
  const ids = tf.tensor2d([[0, 2, 0], [1, 1, 2]], [2, 3], 'int32');
  // The op's typing allows only 1-D ids; the kernel follows TensorFlow and takes any prefix.
  const out = tf.unsortedSegmentSum(x, ids as unknown as tf.Tensor1D, 3);
  const expected = reference((await x.data()) as Float32Array, new Int32Array([0, 2, 0, 1, 1, 2]), 4, 3);
  assert.deepEqual(out.shape, [3, 4]);
  assert.ok(maxRelativeDifference(await out.data(), expected) <= 1e-6);
  tf.dispose([x, ids, out]);
});

test('embedding gradient (gather backward) on wasm equals the cpu backend, without leaks', async () => {
  const run = async () => {
    const table = tf.randomNormal([50, 8], 0, 1, 'float32', 3);
    const ids = tf.tensor1d([4, 7, 4, 0, 49, 7, 7], 'int32');
    const weights = tf.randomNormal([7, 8], 0, 1, 'float32', 4);
    const [grad] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), weights)))([table]);
    const values = await grad!.data();
    tf.dispose([table, ids, weights, grad!]);
    return values;
  };
  const onWasm = await run();
  const tensors = tf.memory().numTensors;
  await run();
  assert.equal(tf.memory().numTensors, tensors);
  await useBackend('cpu');
  const onCpu = await run();
  await useBackend('wasm');
  assert.ok(maxRelativeDifference(onWasm, onCpu) <= 1e-6);
});

test('segment ids that are not a prefix of x are rejected', () => {
  const x = tf.zeros([4, 2]);
  const ids = tf.tensor1d([0, 1, 2], 'int32');
  assert.throws(() => tf.unsortedSegmentSum(x, ids, 3), /not a prefix/);
  tf.dispose([x, ids]);
});
