/**
 * An independent forward pass of a family × task model in plain TF.js ops, differentiated by
 * TF.js's own autodiff: the reference the hand-written backward passes are checked against.
 * It shares only the parameter names, the config and the dropout masks with the model under
 * test — drawn here from docs/design.md §5's rule written out again (per sample seeds, the same
 * sites), not by nn/dropout.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { deriveSeed, fillDropoutMask } from '../../src/core/random.js';
import type { EncoderConfig, HeadSpec, ModelFamily } from '../../src/models/index.js';

export interface ReferenceInput {
  ids: number[];
  typeIds?: number[];
}

type Params = ReadonlyMap<string, tf.Variable>;

function act(x: tf.Tensor, kind: string): tf.Tensor {
  switch (kind) {
    case 'gelu':
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.div(x, Math.SQRT2)), 1));
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI))), 1));
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
  }
  throw new Error(`activation ${kind}`);
}

function layerNorm(x: tf.Tensor, params: Params, prefix: string, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), params.get(`${prefix}.weight`)!), params.get(`${prefix}.bias`)!);
}

function linear(x: tf.Tensor, params: Params, prefix: string): tf.Tensor {
  const shape = x.shape;
  const flat = tf.reshape(x, [-1, shape[shape.length - 1]!]);
  const y = tf.add(tf.matMul(flat, params.get(`${prefix}.weight`)!, false, true), params.get(`${prefix}.bias`)!);
  return tf.reshape(y, [...shape.slice(0, -1), -1]);
}

/**
 * x · mask with x's rows (size over the last dimension) in `groupSeeds.length` equal groups: row i
 * of group g, column c takes draw i·rowStride + c of the stream of groupSeeds[g].
 */
function groupedDropout(x: tf.Tensor, rate: number, training: boolean, groupSeeds: readonly number[], rowStride: number): tf.Tensor {
  if (!training || rate === 0) return x;
  const cols = x.shape[x.shape.length - 1]!;
  const groupRows = x.size / cols / groupSeeds.length;
  const mask = new Float32Array(x.size);
  groupSeeds.forEach((seed, group) => {
    for (let row = 0; row < groupRows; row++) {
      const start = (group * groupRows + row) * cols;
      fillDropoutMask(mask.subarray(start, start + cols), rate, seed, row * rowStride);
    }
  });
  return tf.mul(x, tf.tensor(mask, x.shape));
}

/** Dropout of rows per sample (positions, or the one pooled row): sample b's stream is deriveSeed(seed_b, site). */
function dropout(x: tf.Tensor, rate: number, training: boolean, sampleSeeds: readonly number[], site: number): tf.Tensor {
  return groupedDropout(x, rate, training, sampleSeeds.map((seed) => deriveSeed(seed, site)), x.shape[x.shape.length - 1]!);
}

/** Dropout of attention probabilities [b, heads, q, t]: stream deriveSeed(seed_b, site, head), rows max_position_embeddings apart. */
function attentionDropout(x: tf.Tensor, config: EncoderConfig, training: boolean, sampleSeeds: readonly number[], site: number): tf.Tensor {
  const seeds = sampleSeeds.flatMap((seed) => Array.from({ length: config.numHeads }, (_, head) => deriveSeed(seed, site, head)));
  return groupedDropout(x, config.attentionDropout, training, seeds, config.maxPositions);
}

/** Hidden states [b, t, hidden] of the reference encoder. */
export function referenceEncoder(family: ModelFamily, config: EncoderConfig, params: Params, inputs: ReferenceInput[], training: boolean, sampleSeeds: readonly number[]): tf.Tensor3D {
  const names = family.names(config);
  const size = inputs.length;
  const length = Math.max(...inputs.map((input) => input.ids.length));
  const ids: number[] = [];
  const types: number[] = [];
  const positions: number[] = [];
  const mask: number[] = [];
  for (const input of inputs) {
    let nonPad = 0;
    for (let column = 0; column < length; column++) {
      const real = column < input.ids.length;
      ids.push(real ? input.ids[column]! : config.padTokenId);
      types.push(real ? (input.typeIds?.[column] ?? 0) : 0);
      mask.push(real ? 1 : 0);
      if (config.positionStyle === 'absolute') positions.push(column);
      else {
        const counted = real && input.ids[column] !== config.padTokenId;
        if (counted) nonPad += 1;
        positions.push(counted ? config.padTokenId + nonPad : config.padTokenId);
      }
    }
  }
  const gather = (name: string, rows: number[]) => tf.reshape(tf.gather(params.get(name)!, tf.tensor1d(rows, 'int32')), [size, length, -1]);
  let x = tf.add(gather(names.word, ids), gather(names.position, positions));
  if (names.tokenType !== undefined) x = tf.add(x, gather(names.tokenType, types));
  x = dropout(layerNorm(x, params, names.embeddingNorm, config.layerNormEps), config.hiddenDropout, training, sampleSeeds, 0);
  if (names.project !== undefined) x = linear(x, params, names.project);
  const bias = tf.reshape(tf.mul(tf.sub(1, tf.tensor1d(mask)), -3.4028234663852886e38), [size, 1, 1, length]);
  const heads = config.numHeads;
  const width = config.hiddenSize / heads;
  const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [size, length, heads, width]), [0, 2, 1, 3]);
  for (let layer = 0; layer < config.numLayers; layer++) {
    const n = names.layer(layer);
    const q = split(linear(x, params, n.query));
    const k = split(linear(x, params, n.key));
    const v = split(linear(x, params, n.value));
    const scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(width)), bias);
    const probabilities = attentionDropout(tf.softmax(scores), config, training, sampleSeeds, 1 + 3 * layer);
    const context = tf.reshape(tf.transpose(tf.matMul(probabilities, v), [0, 2, 1, 3]), [size, length, config.hiddenSize]);
    const attended = dropout(linear(context, params, n.attentionOutput), config.hiddenDropout, training, sampleSeeds, 2 + 3 * layer);
    const h = layerNorm(tf.add(attended, x), params, n.attentionNorm, config.layerNormEps);
    const ff = dropout(linear(act(linear(h, params, n.intermediate), config.activation), params, n.output), config.hiddenDropout, training, sampleSeeds, 3 + 3 * layer);
    x = layerNorm(tf.add(ff, h), params, n.outputNorm, config.layerNormEps);
  }
  return x as tf.Tensor3D;
}

/** The head's logits from rows x [n, hidden]: whole groups of rows per sample, in sample order. */
export function referenceHead(head: HeadSpec, family: ModelFamily, config: EncoderConfig, params: Params, x: tf.Tensor, training: boolean, sampleSeeds: readonly number[]): tf.Tensor2D {
  let current = x;
  head.steps.forEach((step, index) => {
    switch (step.kind) {
      case 'dropout':
        current = dropout(current, step.rate === 'classifier' ? config.classifierDropout : config.hiddenDropout, training, sampleSeeds, 100_000 + index);
        break;
      case 'dense':
        current = linear(current, params, step.prefix);
        break;
      case 'activation':
        current = act(current, step.activation === 'config' ? config.activation : step.activation);
        break;
      case 'layerNorm':
        current = layerNorm(current, params, step.prefix, step.eps ?? config.layerNormEps);
        break;
      case 'tiedDecoder':
        current = tf.add(tf.matMul(current, params.get(family.names(config).word)!, false, true), params.get(step.bias)!);
        break;
    }
  });
  return current as tf.Tensor2D;
}

/** Σ cross-entropy of rows with labels (−100 ignored). */
export function referenceCrossEntropySum(logits: tf.Tensor2D, labels: number[]): tf.Scalar {
  const kept = labels.map((label, row) => [label, row] as const).filter(([label]) => label !== -100);
  const rows = tf.gather(logits, tf.tensor1d(kept.map(([, row]) => row), 'int32'));
  const targets = tf.oneHot(tf.tensor1d(kept.map(([label]) => label), 'int32'), logits.shape[1]);
  return tf.neg(tf.sum(tf.mul(tf.logSoftmax(rows), targets))) as tf.Scalar;
}
