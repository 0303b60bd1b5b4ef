/**
 * Invariants of the task models: padding, the [CLS]-only last layer, determinism, no leaks — on
 * the TF.js-op layers (cpu, wasm) and the native fused kernels, in fp32 and bf16.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { readConfig } from '../../src/app/checkpoint.js';
import { SequenceClassifier, TokenClassifier, type SequenceSample } from '../../src/tasks/model.js';
import { GradientStore } from '../../src/train/store.js';
import { layerContext, type Precision } from '../../src/nn/context.js';
import { maxRelativeDifference, useBackend } from '../helpers/backend.js';
import { modeSkip, useMode, MODES } from '../helpers/modes.js';
import { randomWeights, tinyConfigJson } from '../fixtures/tiny-bert.js';

function classifier(dropout?: number, precision: Precision = 'fp32'): SequenceClassifier {
  const { family, config } = readConfig(tinyConfigJson(), 'tiny', dropout);
  return new SequenceClassifier({ family, config, labels: ['a', 'b', 'c'] }, { values: randomWeights(config, 3, 4), precision });
}

const TEXTS: SequenceSample[] = [
  { ids: [2, 10, 24, 12, 20, 3], label: 1 },
  { ids: [2, 30, 3], label: 0 },
  { ids: [2, 11, 12, 13, 14, 15, 16, 17, 3], label: 2 },
];

for (const backend of MODES) {
  for (const precision of ['fp32', 'bf16'] as const) {
    const name = `[${backend}, ${precision}]`;
    const skip = modeSkip(backend);

    test(`${name} probabilities do not depend on the padding the batch adds`, { skip }, async () => {
      await useMode(backend);
      const model = classifier(undefined, precision);
      const together = model.probabilities(TEXTS);
      TEXTS.forEach((text, i) => assert.ok(maxRelativeDifference(model.probabilities([text])[0]!, together[i]!) < 1e-5, `sample ${i}`));
      model.dispose();
    });

    test(`${name} the [CLS]-only last layer gives the full encoder's first position, dropout included`, { skip }, async () => {
      await useMode(backend);
      const model = classifier(0.2, precision);
      const batch = model.encoder.batch(TEXTS);
      const context = { ...layerContext(model.parameters, true, 0, { precision }), dropoutSeed: (site: number) => 77 + site };
      const full = model.encoder.encode(batch, context);
      const first = model.encoder.encode(batch, context, { firstTokenOnly: true });
      const fullFirst = tf.tidy(() => tf.reshape(tf.slice(tf.reshape(full, [3, batch.length, 16]), [0, 0, 0], [3, 1, 16]), [3, 16]));
      // LayerNorm outputs are O(1): compared to 1e-5 absolutely, the products of a one-query layer
      // may take another float32 summation order than the full layer's (tiny ones stay on wasm).
      assert.ok(maxRelativeDifference(first.dataSync(), fullFirst.dataSync(), 1) < 1e-5);
      tf.dispose([full, first, fullFirst]);
      model.dispose();
    });

    test(`${name} a training pass is deterministic for a dropout seed and leaks no tensor over 10 passes`, { skip }, async () => {
      await useMode(backend);
      const model = classifier(0.1, precision);
      const grads = new GradientStore(model.parameters.layout);
      const pass = (seed: number) => model.accumulateGradients(TEXTS, grads, { factor: 1 / 3, training: true, dropoutSeed: seed, epoch: 0 });
      const first = pass(1);
      assert.equal(pass(1), first);
      assert.notEqual(pass(2), first);
      const tensors = tf.memory().numTensors;
      for (let i = 0; i < 10; i++) pass(i);
      assert.equal(tf.memory().numTensors, tensors);
      model.dispose();
    });
  }
}

test('token classification probabilities come per token of each sample', async () => {
  await useBackend('cpu');
  const { family, config } = readConfig(tinyConfigJson(), 'tiny');
  const model = new TokenClassifier({ family, config, labels: ['O', 'B-X', 'I-X'] });
  const rows = model.probabilities(TEXTS);
  assert.deepEqual(rows.map((row) => row.length), [6, 3, 9]);
  assert.ok(rows.flat().every((probabilities) => Math.abs(probabilities.reduce((sum, p) => sum + p, 0) - 1) < 1e-9));
  model.dispose();
});
