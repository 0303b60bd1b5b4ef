/**
 * Invariants of the task models: padding, the [CLS]-only last layer, determinism, no leaks, a
 * sample's dropout masks independent of its micro-batch — on the TF.js-op layers (cpu, wasm) and
 * the native fused kernels, in fp32 and bf16.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { readConfig } from '../../src/app/checkpoint.js';
import type { EncoderInput } from '../../src/models/encoder.js';
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
      const context = layerContext(model.parameters, true, [77, 78, 0xffffffff], { precision });
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
      const pass = (seed: number) => model.accumulateGradients(TEXTS, grads, { factor: 1 / 3, training: true, dropoutSeeds: TEXTS.map((_, i) => seed + i), epoch: 0 });
      const first = pass(1);
      assert.equal(pass(1), first);
      assert.notEqual(pass(2), first);
      assert.throws(() => model.accumulateGradients(TEXTS, grads, { factor: 1, training: true, dropoutSeeds: [1, 2], epoch: 0 }), /3 samples needs one dropout seed per sample, got 2/);
      const tensors = tf.memory().numTensors;
      for (let i = 0; i < 10; i++) pass(i);
      assert.equal(tf.memory().numTensors, tensors);
      model.dispose();
    });
  }
}

/**
 * A training pass's hidden states of the sample at `at` of `inputs` (its real positions, [t, 16])
 * and its [CLS]-only logits through the head, dropout on.
 */
function trainingOutputs(model: SequenceClassifier, inputs: readonly EncoderInput[], seeds: readonly number[], at: number): { hidden: Float32Array; logits: Float32Array } {
  return tf.tidy(() => {
    const batch = model.encoder.batch(inputs);
    const context = layerContext(model.parameters, true, seeds);
    const width = model.config.hiddenSize;
    const hidden = model.encoder.encode(batch, context).dataSync().slice(at * batch.length * width, (at * batch.length + inputs[at]!.ids.length) * width) as Float32Array;
    const logits = model.head.forward(model.encoder.encode(batch, context, { firstTokenOnly: true }), context).logits;
    return { hidden, logits: logits.dataSync().slice(at * logits.shape[1], (at + 1) * logits.shape[1]) as Float32Array };
  });
}

for (const backend of MODES) {
  test(`[${backend}] property: a sample's dropout masks depend neither on its place in the micro-batch nor on the padded length`, { skip: modeSkip(backend) }, async () => {
    await useMode(backend);
    // Dropout 0.3 everywhere (embeddings, attention, hidden, classifier): a different mask anywhere moves the outputs by O(1).
    const model = classifier(0.3);
    const ids = (maxLength: number) => fc.array(fc.integer({ min: 5, max: 49 }), { minLength: 0, maxLength }).map((middle) => ({ ids: [2, ...middle, 3] }));
    const seed = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(ids(10), seed, fc.array(fc.record({ input: ids(20), seed }), { maxLength: 3 }), fc.nat(), (target, targetSeed, others, place) => {
        const at = place % (others.length + 1);
        const inputs = others.map((other) => other.input);
        inputs.splice(at, 0, target);
        const seeds = others.map((other) => other.seed);
        seeds.splice(at, 0, targetSeed);
        const alone = trainingOutputs(model, [target], [targetSeed], 0);
        const together = trainingOutputs(model, inputs, seeds, at);
        // Real positions and logits are O(1); matrix products of other shapes may sum in another float32 order.
        assert.ok(maxRelativeDifference(together.hidden, alone.hidden, 1) < 1e-5, 'hidden states');
        assert.ok(maxRelativeDifference(together.logits, alone.logits, 1) < 1e-5, 'logits');
      }),
      { numRuns: 25 },
    );
    model.dispose();
  });
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
