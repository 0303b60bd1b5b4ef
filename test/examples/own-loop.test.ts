import assert from 'node:assert/strict';
import test from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../helpers/backend.js';
import { ownLoop } from '../../examples/own-loop.js';

test('the README\'s own-loop example trains every sample of every epoch and frees its tensors', async () => {
  await useBackend('cpu');
  const features = Array.from({ length: 110 }, (_, i) => [Math.sin(i), Math.cos(3 * i), (i % 7) / 7]);
  const labels = features.map(([a, c]) => (a! + c! > 0 ? 1 : 0));
  const before = tf.memory().numTensors;
  const lines = ownLoop(features, labels, 2);
  assert.deepEqual(lines, ['epoch 1: 110/110 samples in 4 steps [32, 32, 32, 14]', 'epoch 2: 110/110 samples in 4 steps [32, 32, 32, 14]']);
  assert.equal(tf.memory().numTensors, before);
});
