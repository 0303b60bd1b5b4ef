/**
 * The hand-written backward passes of every family × task against TF.js's autodiff of an
 * independent forward (test/helpers/reference-model.ts): same loss, same gradients, with
 * dropout on (same masks from the same seeds) and padding in the batch. Three ways to run the
 * layers: TF.js ops on cpu, on wasm, and — when the native addon is built — wasm with the
 * native host kernels (host weights, host dW, the fused bias + GELU / residual + LayerNorm /
 * scale + mask + softmax / bias + dropout kernels) on 2 threads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { RandomStream } from '../../src/core/random.js';
import { ConfigReader, getFamily, type EncoderConfig, type ModelFamily } from '../../src/models/index.js';
import { MaskedLanguageModel, SequenceClassifier, TokenClassifier, type MaskedInput, type TaskModel } from '../../src/tasks/model.js';
import { GradientStore } from '../../src/train/store.js';
import { maxRelativeDifference } from '../helpers/backend.js';
import { useMode, modeSkip, MODES } from '../helpers/modes.js';
import { referenceCrossEntropySum, referenceEncoder, referenceHead, type ReferenceInput } from '../helpers/reference-model.js';

const TINY: Record<string, Record<string, unknown>> = {
  bert: { model_type: 'bert', vocab_size: 40, hidden_size: 12, num_hidden_layers: 2, num_attention_heads: 3, intermediate_size: 17, max_position_embeddings: 20, type_vocab_size: 2 },
  distilbert: { model_type: 'distilbert', vocab_size: 40, dim: 12, n_layers: 2, n_heads: 3, hidden_dim: 17, max_position_embeddings: 20, dropout: 0.1, attention_dropout: 0.1, seq_classif_dropout: 0.2 },
  roberta: { model_type: 'roberta', vocab_size: 40, hidden_size: 12, num_hidden_layers: 2, num_attention_heads: 3, intermediate_size: 17, max_position_embeddings: 22, type_vocab_size: 1, pad_token_id: 1 },
  electra: { model_type: 'electra', vocab_size: 40, embedding_size: 8, hidden_size: 12, num_hidden_layers: 2, num_attention_heads: 3, intermediate_size: 17, max_position_embeddings: 20, hidden_act: 'gelu_new' },
};

function tinyConfig(modelType: string, overrides: Record<string, unknown> = {}): { family: ModelFamily; config: EncoderConfig } {
  const family = getFamily(modelType);
  return { family, config: family.parseConfig(ConfigReader.parse({ ...TINY[modelType], ...overrides }, `${modelType} config`)) };
}

/** Values far from HF's tiny init so every parameter matters. */
function randomValues(model: TaskModel<unknown>, seed: number): Map<string, Float32Array> {
  const stream = new RandomStream(seed);
  return new Map(model.parameters.entries.map((entry) => [entry.name, Float32Array.from({ length: entry.size }, () => (stream.uniform() * 2 - 1) * 0.4)]));
}

function inputs(modelType: string, seed: number): ReferenceInput[] {
  const stream = new RandomStream(seed);
  const pad = modelType === 'roberta' ? 1 : 0;
  return [7, 4, 9].map((length) => ({
    ids: Array.from({ length }, () => {
      let id = pad;
      while (id === pad) id = stream.below(40);
      return id;
    }),
    ...(modelType === 'bert' || modelType === 'electra' ? { typeIds: Array.from({ length }, (_, i) => (i > length / 2 ? 1 : 0)) } : {}),
  }));
}

/** One dropout seed per sample of `inputs`' three. */
const SEEDS = [1234, 99, 0xfedcba98];

/** Our gradients (accumulateGradients) and the reference's (tf.variableGrads), per parameter name. */
function compare(model: TaskModel<unknown>, samples: unknown[], referenceLoss: (params: Map<string, tf.Variable>) => tf.Scalar, factor: number): number {
  let worst = 0;
  const grads = new GradientStore(model.parameters.layout);
  const before = tf.memory().numTensors;
  const lossSum = model.accumulateGradients(samples, grads, { factor, training: true, dropoutSeeds: SEEDS, epoch: 0 });
  // The parameters' heap mirrors are the store's; everything else must be freed.
  model.parameters.releaseMirrors();
  assert.equal(tf.memory().numTensors, before, 'accumulateGradients leaks no tensor');
  const variables = new Map(model.parameters.entries.map((entry) => [entry.name, tf.variable(tf.tensor(model.parameters.view(entry.index), [...entry.shape]))]));
  const { value, grads: expected } = tf.variableGrads(() => tf.mul(referenceLoss(variables), factor) as tf.Scalar, [...variables.values()]);
  const referenceSum = value.dataSync()[0]! / factor;
  assert.ok(Math.abs(lossSum - referenceSum) <= 1e-4 * Math.abs(referenceSum), `loss ${lossSum} vs reference ${referenceSum}`);
  for (const entry of model.parameters.entries) {
    const reference = expected[variables.get(entry.name)!.name];
    const ours = grads.view(entry.index);
    const wanted = reference === undefined || reference === null ? new Float32Array(entry.size) : (reference.dataSync() as Float32Array);
    const difference = maxRelativeDifference(ours, wanted, 1e-3);
    worst = Math.max(worst, difference);
    // Measured ≤ 2.2e-5 on cpu and wasm (float32 sums in a different order), ≤ 1.8e-5 with the native kernels.
    assert.ok(difference < 2e-4, `${entry.name}: max relative difference ${difference}`);
  }
  tf.dispose([value, ...Object.values(expected)]);
  tf.dispose([...variables.values()]);
  return worst;
}

for (const backend of MODES) {
  for (const modelType of ['bert', 'distilbert', 'roberta', 'electra']) {
    test(`${backend} ${modelType}: sequence classification gradients equal TF.js autodiff`, { skip: modeSkip(backend) }, async (t) => {
      await useMode(backend);
      const { family, config } = tinyConfig(modelType);
      const probe = new SequenceClassifier({ family, config, labels: ['a', 'b', 'c'] });
      const model = new SequenceClassifier({ family, config, labels: ['a', 'b', 'c'] }, { values: randomValues(probe, 5) });
      const texts = inputs(modelType, 3);
      const labels = [2, 0, 1];
      const worst = compare(
        model as TaskModel<unknown>,
        texts.map((text, i) => ({ ...text, label: labels[i]! })),
        (params) => {
          const hidden = referenceEncoder(family, config, params, texts, true, SEEDS);
          const first = tf.reshape(tf.slice(hidden, [0, 0, 0], [texts.length, 1, config.hiddenSize]), [texts.length, config.hiddenSize]);
          return referenceCrossEntropySum(referenceHead(family.heads['sequence-classification']!, family, config, params, first, true, SEEDS), labels);
        },
        0.25,
      );
      t.diagnostic(`worst relative gradient difference ${worst.toExponential(2)}`);
    });

    test(`${backend} ${modelType}: token classification gradients equal TF.js autodiff`, { skip: modeSkip(backend) }, async (t) => {
      await useMode(backend);
      const { family, config } = tinyConfig(modelType);
      const probe = new TokenClassifier({ family, config, labels: ['O', 'B', 'I'] });
      const model = new TokenClassifier({ family, config, labels: ['O', 'B', 'I'] }, { values: randomValues(probe, 6) });
      const texts = inputs(modelType, 4);
      const stream = new RandomStream(9);
      const labels = texts.map((text) => text.ids.map((_, i) => (i === 0 || stream.uniform() < 0.3 ? -100 : stream.below(3))));
      const length = Math.max(...texts.map((text) => text.ids.length));
      const worst = compare(
        model as TaskModel<unknown>,
        texts.map((text, i) => ({ ...text, labels: labels[i]! })),
        (params) => {
          const hidden = referenceEncoder(family, config, params, texts, true, SEEDS);
          const logits = referenceHead(family.heads['token-classification']!, family, config, params, tf.reshape(hidden, [-1, config.hiddenSize]), true, SEEDS);
          return referenceCrossEntropySum(logits, labels.flatMap((row) => [...row, ...new Array(length - row.length).fill(-100)]));
        },
        1 / 7,
      );
      t.diagnostic(`worst relative gradient difference ${worst.toExponential(2)}`);
    });

    test(`${backend} ${modelType}: masked-LM gradients (tied decoder) equal TF.js autodiff`, { skip: modeSkip(backend) }, async (t) => {
      await useMode(backend);
      const { family, config } = tinyConfig(modelType);
      const texts = inputs(modelType, 5);
      const stream = new RandomStream(11);
      const masked: MaskedInput[] = texts.map((text) => ({
        ...text,
        labels: text.ids.map((id) => (stream.uniform() < 0.35 ? id : -100)),
      }));
      const mask = (sample: MaskedInput) => sample;
      const probe = new MaskedLanguageModel<MaskedInput>({ family, config }, { mask });
      const model = new MaskedLanguageModel<MaskedInput>({ family, config }, { mask, values: randomValues(probe, 7) });
      const length = Math.max(...texts.map((text) => text.ids.length));
      const flatLabels = masked.flatMap((row) => [...row.labels, ...new Array(length - row.labels.length).fill(-100)]);
      const rows = flatLabels.map((label, row) => [label, row] as const).filter(([label]) => label !== -100);
      const worst = compare(
        model as TaskModel<unknown>,
        masked,
        (params) => {
          const hidden = tf.reshape(referenceEncoder(family, config, params, texts, true, SEEDS), [-1, config.hiddenSize]);
          const selected = tf.gather(hidden, tf.tensor1d(rows.map(([, row]) => row), 'int32'));
          const logits = referenceHead(family.heads['masked-lm']!, family, config, params, selected, true, SEEDS);
          return referenceCrossEntropySum(logits, rows.map(([label]) => label));
        },
        1 / 9,
      );
      t.diagnostic(`worst relative gradient difference ${worst.toExponential(2)}`);
    });
  }
}
