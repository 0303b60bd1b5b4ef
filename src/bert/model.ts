/**
 * BERT sequence classifier in TF.js with Hugging Face numerics (post-LayerNorm blocks, exact erf
 * GELU, additive attention mask, tanh pooler over [CLS]).
 *
 * This is the hot path of training, so the layout is chosen for TF.js's kernels: linear weights
 * live as [in, out] and every matMul (forward AND backward, via custom gradients) is an
 * untransposed one — on wasm a plain matMul runs ≈ 40 GFLOP/s while `transposeA/B` run at 1–3.5.
 * Dense layers see [B·L, H] 2-D inputs; attention is a batched matMul over [B, heads, L, d].
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradients; the tfjs-layers bundle registers all of
// TF.js's gradients into the global registry, which lossSum needs inside a gradient tape.
import '@tensorflow/tfjs-layers';
import { ConfigError, DataError } from '../core/errors.js';
import type { NamedVariable } from '../optim/types.js';
import type { TrainableModel } from '../train/types.js';
import type { BertConfig } from './config.js';
import type { F32Tensor } from '../core/safetensors.js';
import { bertParameterSpecs, internalShape, transpose2d, type ParamSpec } from './weights.js';

/** A tokenised sample: `ids` already include [CLS] … [SEP]; `label` is the class index. */
export interface EncodedExample {
  ids: number[];
  label: number;
}

export interface BertModelOptions {
  numLabels: number;
  /** Seed of the initialisation of parameters not given by a checkpoint (default 0). */
  seed?: number;
  /** Overrides every dropout probability of the config (hidden, attention, classifier). */
  dropout?: number;
}

/** HF masks attention with the dtype's minimum; exp() of it underflows to exactly zero probability. */
const FLOAT32_MIN = -3.4028234663852886e38;

/** 32-bit mixing hash of integers (for deriving independent seeds from a seed and a position). */
export function mixSeed(...values: number[]): number {
  let hash = 0x811c9dc5;
  for (const value of values) {
    const high = Math.floor(value / 0x100000000);
    for (const word of [value >>> 0, high >>> 0]) {
      hash = Math.imul(hash ^ word, 0x01000193);
      hash ^= hash >>> 15;
      hash = Math.imul(hash, 0x2c1b3c6d);
      hash ^= hash >>> 12;
    }
  }
  return hash >>> 0;
}

/** Seeded standard-normal generator (mulberry32 + Box-Muller): initialisation without tensors. */
function normalGenerator(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/**
 * The inverted-dropout multiplier for a tensor of `shape`: 0 with probability `rate`, else
 * 1/(1 − rate), drawn from a mulberry32 stream seeded by `seed` (the same mask for the same
 * seed on every backend). Built in one JavaScript pass: tf.dropout's seeded randomUniform
 * (seedrandom's alea) plus add, floor and divide kernels cost twice as much per element.
 */
export function dropoutMask(shape: readonly number[], rate: number, seed: number): tf.Tensor {
  checkProbability('dropout rate', rate);
  const size = shape.reduce((product, dim) => product * dim, 1);
  const mask = new Float32Array(size);
  const keptValue = 1 / (1 - rate);
  // A 32-bit draw below this is a drop: P = rate (to 2^-32).
  const dropBelow = rate * 4294967296;
  let state = seed >>> 0;
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    mask[i] = (t ^ (t >>> 14)) >>> 0 < dropBelow ? 0 : keptValue;
  }
  return tf.tensor(mask, [...shape], 'float32');
}

/** HF `_init_weights`: normal(0, initializer_range) weights, zero biases, LayerNorm (1, 0), zero padding embedding. */
function initialValues(spec: ParamSpec, config: BertConfig, seed: number): Float32Array {
  const size = spec.fileShape.reduce((product, dim) => product * dim, 1);
  const values = new Float32Array(size);
  if (spec.init === 'ones') values.fill(1);
  if (spec.init === 'normal' || spec.init === 'embedding') {
    const normal = normalGenerator(seed);
    for (let i = 0; i < size; i++) values[i] = normal() * config.initializer_range;
  }
  if (spec.init === 'embedding' && config.pad_token_id < config.vocab_size) {
    const hidden = spec.fileShape[1]!;
    values.fill(0, config.pad_token_id * hidden, (config.pad_token_id + 1) * hidden);
  }
  return values;
}

/** Swaps the last two axes (explicitly, so that the following matMul needs no transpose flag). */
function swapLastAxes(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, axis) => axis);
  perm[perm.length - 1] = perm.length - 2;
  perm[perm.length - 2] = perm.length - 1;
  return tf.transpose(x, perm);
}

/** a·b (rank ≥ 2, batched over leading axes) whose gradients are also untransposed matMuls. */
const plainMatMul = tf.customGrad((a: tf.Tensor | tf.GradSaveFunc, b: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
  const left = a as tf.Tensor;
  const right = b as tf.Tensor;
  (save as tf.GradSaveFunc)([left, right]);
  return {
    value: tf.matMul(left, right),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.matMul(dy, swapLastAxes(saved[1]!)), tf.matMul(swapLastAxes(saved[0]!), dy)],
  };
}) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** x·W + b for x [N, in], W [in, out]; the gradient is computed with untransposed matMuls. */
const dense = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, w: tf.Tensor | tf.GradSaveFunc, b: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
  const input = x as tf.Tensor2D;
  const weight = w as tf.Tensor2D;
  (save as tf.GradSaveFunc)([input, weight]);
  return {
    value: tf.fused.matMul({ a: input, b: weight, bias: b as tf.Tensor1D }),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
      tf.matMul(dy as tf.Tensor2D, tf.transpose(saved[1]!) as tf.Tensor2D),
      tf.matMul(tf.transpose(saved[0]!) as tf.Tensor2D, dy as tf.Tensor2D),
      tf.sum(dy, 0),
    ],
  };
}) as (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;

/**
 * Rows `ids` of `table`. TF.js's own gather gradient needs UnsortedSegmentSum, which the wasm
 * backend lacks; ScatterNd (which sums duplicate indices) exists on every backend.
 */
function gatherRows(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const lookup = tf.customGrad((t: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const source = t as tf.Tensor2D;
    // Saved, not captured: the caller's tidy disposes `ids` before the backward pass runs.
    (save as tf.GradSaveFunc)([ids]);
    return {
      value: tf.gather(source, ids),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(tf.reshape(saved[0]!, [ids.shape[0], 1]), dy, source.shape),
    };
  }) as (t: tf.Tensor) => tf.Tensor2D;
  return lookup(table);
}

/**
 * LayerNorm over the last axis of x [N, H] with its textbook gradient: with x̂ the normalised
 * input and g = dy·γ, dx = (g − mean(g) − x̂·mean(g·x̂)) / σ, dγ = Σ dy·x̂, dβ = Σ dy. TF.js
 * would differentiate mean, variance and rsqrt one op at a time (about twice the kernels).
 */
function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor2D {
  const normalize = tf.customGrad((input: tf.Tensor | tf.GradSaveFunc, scale: tf.Tensor | tf.GradSaveFunc, shift: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const rows = input as tf.Tensor2D;
    const mean = tf.mean(rows, -1, true);
    const centered = tf.sub(rows, mean);
    const inverseStd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps));
    const normalized = tf.mul(centered, inverseStd);
    (save as tf.GradSaveFunc)([normalized, inverseStd, scale as tf.Tensor]);
    return {
      value: tf.add(tf.mul(normalized, scale as tf.Tensor), shift as tf.Tensor),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xHat, invStd, gammaSaved] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const scaled = tf.mul(dy, gammaSaved);
        const projection = tf.mul(xHat, tf.mean(tf.mul(scaled, xHat), -1, true));
        const dx = tf.mul(tf.sub(tf.sub(scaled, tf.mean(scaled, -1, true)), projection), invStd);
        return [dx, tf.sum(tf.mul(dy, xHat), 0), tf.sum(dy, 0)];
      },
    };
  }) as (input: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor) => tf.Tensor2D;
  return normalize(x, gamma, beta);
}

/**
 * Exact GELU x·Φ(x), Φ(x) = (1 + erf(x/√2))/2, with the gradient Φ(x) + x·φ(x) written out:
 * TF.js's chain rule through erf takes about twice the kernels on the largest activations.
 */
const geluErf = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
  const input = x as tf.Tensor;
  // ×0.5 is exact, so this is bit for bit the old 0.5·x·(1 + erf(x/√2)).
  const cdf = tf.mul(tf.add(tf.erf(tf.mul(input, Math.SQRT1_2)), 1), 0.5);
  (save as tf.GradSaveFunc)([input, cdf]);
  return {
    value: tf.mul(input, cdf),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedInput, savedCdf] = saved as [tf.Tensor, tf.Tensor];
      const density = tf.mul(tf.exp(tf.mul(tf.square(savedInput), -0.5)), 1 / Math.sqrt(2 * Math.PI));
      return tf.mul(dy, tf.add(savedCdf, tf.mul(savedInput, density)));
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

/** The feed-forward activation, exactly as HF's ACT2FN. */
export function activation(x: tf.Tensor, kind: BertConfig['hidden_act']): tf.Tensor {
  switch (kind) {
    case 'gelu':
      return geluErf(x);
    case 'gelu_new':
    case 'gelu_pytorch_tanh': {
      const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
    }
    case 'relu':
      return tf.relu(x);
  }
}

function checkProbability(name: string, value: number): void {
  if (!(value >= 0 && value < 1)) throw new ConfigError(`${name} must be a probability in [0, 1), got ${value}`);
}

export class BertForSequenceClassification implements TrainableModel<EncodedExample> {
  readonly params: readonly NamedVariable[];
  readonly numLabels: number;
  readonly hiddenDropout: number;
  readonly attentionDropout: number;
  readonly classifierDropout: number;
  private readonly specs: readonly ParamSpec[];
  private readonly byName: ReadonlyMap<string, tf.Variable>;
  private static instances = 0;

  private constructor(
    readonly config: BertConfig,
    options: BertModelOptions,
    fileValues: ReadonlyMap<string, Float32Array>,
  ) {
    const { numLabels, seed = 0, dropout } = options;
    if (!Number.isSafeInteger(numLabels) || numLabels < 1) throw new ConfigError(`numLabels must be an integer >= 1, got ${numLabels}`);
    if (!Number.isSafeInteger(seed)) throw new ConfigError(`seed must be an integer, got ${seed}`);
    if (dropout !== undefined) checkProbability('dropout', dropout);
    this.numLabels = numLabels;
    this.hiddenDropout = dropout ?? config.hidden_dropout_prob;
    this.attentionDropout = dropout ?? config.attention_probs_dropout_prob;
    this.classifierDropout = dropout ?? config.classifier_dropout ?? config.hidden_dropout_prob;
    this.specs = bertParameterSpecs(config, numLabels);
    // TF.js variable names are global; the HF name is NamedVariable.name, the variable gets a unique one.
    const instance = BertForSequenceClassification.instances++;
    const params: NamedVariable[] = [];
    this.specs.forEach((spec, index) => {
      const given = fileValues.get(spec.name) ?? initialValues(spec, config, mixSeed(seed, index));
      const values = spec.transposed ? transpose2d(given, spec.fileShape[0]!, spec.fileShape[1]!) : given;
      const initial = tf.tensor(values, internalShape(spec), 'float32');
      params.push({ name: spec.name, variable: tf.variable(initial, true, `bert${instance}/${spec.name}`) });
      initial.dispose();
    });
    this.params = params;
    this.byName = new Map(params.map(({ name, variable }) => [name, variable]));
  }

  /** A freshly initialised model (HF `_init_weights`, deterministic for a given `seed`). */
  static create(config: BertConfig, options: BertModelOptions): BertForSequenceClassification {
    return new BertForSequenceClassification(config, options, new Map());
  }

  /**
   * A model whose parameters come from `values` (HF names, file layout: linear weights [out, in]);
   * parameters absent from `values` are initialised as in `create`.
   */
  static fromWeights(config: BertConfig, values: ReadonlyMap<string, Float32Array>, options: BertModelOptions): BertForSequenceClassification {
    return new BertForSequenceClassification(config, options, values);
  }

  /** The parameters in checkpoint form: HF names, float32, linear weights transposed back to [out, in]. */
  exportWeights(): Map<string, F32Tensor> {
    const out = new Map<string, F32Tensor>();
    for (const spec of this.specs) {
      const data = this.byName.get(spec.name)!.dataSync() as Float32Array;
      const fileData = spec.transposed ? transpose2d(data, spec.fileShape[1]!, spec.fileShape[0]!) : Float32Array.from(data);
      out.set(spec.name, { dtype: 'F32', shape: [...spec.fileShape], data: fileData });
    }
    return out;
  }

  countItems(samples: readonly EncodedExample[]): number {
    return samples.length;
  }

  /** Sum over `samples` of the cross-entropy of their labels (HF's CrossEntropyLoss with reduction 'sum'). */
  lossSum(samples: readonly EncodedExample[], training: boolean, dropoutSeed: number): tf.Scalar {
    const labels = samples.map((sample, index) => {
      const { label } = sample;
      if (!Number.isInteger(label) || label < 0 || label >= this.numLabels) {
        throw new DataError(`sample ${index}: label ${label} is not a class index in [0, ${this.numLabels})`);
      }
      return label;
    });
    return tf.tidy(() => {
      const logits = this.forward(samples, training, dropoutSeed);
      const logProbabilities = tf.logSoftmax(logits);
      const targets = tf.oneHot(tf.tensor1d(labels, 'int32'), this.numLabels);
      return tf.neg(tf.sum(tf.mul(logProbabilities, targets))) as tf.Scalar;
    });
  }

  /** Logits [samples, numLabels] without dropout (evaluation / prediction); the caller disposes them. */
  logits(samples: readonly EncodedExample[]): tf.Tensor2D {
    return tf.tidy(() => this.forward(samples, false, 0));
  }

  /** Frees every variable. The model is unusable afterwards. */
  dispose(): void {
    for (const { variable } of this.params) variable.dispose();
  }

  private param(name: string): tf.Variable {
    return this.byName.get(name)!;
  }

  /**
   * Logits for a micro-batch padded to its longest sample. Padding keys get an additive
   * FLOAT32_MIN so their attention probability is exactly zero; the [CLS] output, and hence the
   * logits, do not depend on how much padding the batch has.
   */
  private forward(samples: readonly EncodedExample[], training: boolean, dropoutSeed: number): tf.Tensor2D {
    const { config } = this;
    if (samples.length === 0) throw new DataError('cannot run BERT on an empty micro-batch');
    const batch = samples.length;
    const length = Math.max(...samples.map((sample) => sample.ids.length));
    if (length > config.max_position_embeddings) {
      throw new ConfigError(`a sample has ${length} tokens, more than max_position_embeddings (${config.max_position_embeddings})`);
    }
    const ids = new Int32Array(batch * length).fill(config.pad_token_id);
    const maskBias = new Float32Array(batch * length).fill(FLOAT32_MIN);
    samples.forEach((sample, row) => {
      if (sample.ids.length === 0) throw new DataError(`sample ${row} has no tokens (expected at least [CLS])`);
      sample.ids.forEach((id, column) => {
        if (!Number.isInteger(id) || id < 0 || id >= config.vocab_size) {
          throw new DataError(`sample ${row}: token id ${id} at position ${column} is outside the vocabulary [0, ${config.vocab_size})`);
        }
        ids[row * length + column] = id;
        maskBias[row * length + column] = 0;
      });
    });

    let dropoutSite = 0;
    const drop = <T extends tf.Tensor>(x: T, rate: number): T => {
      dropoutSite += 1;
      if (!training || rate === 0) return x;
      return tf.mul(x, dropoutMask(x.shape, rate, mixSeed(dropoutSeed, dropoutSite))) as T;
    };

    const hidden = config.hidden_size;
    const heads = config.num_attention_heads;
    const headSize = hidden / heads;
    const eps = config.layer_norm_eps;

    const words = gatherRows(this.param('bert.embeddings.word_embeddings.weight') as tf.Tensor2D, tf.tensor1d(ids, 'int32'));
    const positions = tf.slice(this.param('bert.embeddings.position_embeddings.weight'), [0, 0], [length, hidden]);
    const tokenType = tf.slice(this.param('bert.embeddings.token_type_embeddings.weight'), [0, 0], [1, hidden]);
    const embedded = tf.reshape(tf.add(tf.add(tf.reshape(words, [batch, length, hidden]), positions), tokenType), [batch * length, hidden]);
    let states = drop(
      layerNorm(embedded as tf.Tensor2D, this.param('bert.embeddings.LayerNorm.weight'), this.param('bert.embeddings.LayerNorm.bias'), eps),
      this.hiddenDropout,
    );

    const attentionBias = tf.tensor4d(maskBias, [batch, 1, 1, length]);
    const linear = (x: tf.Tensor2D, prefix: string): tf.Tensor2D => dense(x, this.param(`${prefix}.weight`), this.param(`${prefix}.bias`));
    const toHeads = (x: tf.Tensor2D, rows: number): tf.Tensor4D => tf.transpose(tf.reshape(x, [batch, rows, heads, headSize]), [0, 2, 1, 3]);
    /** Position 0 ([CLS]) of each sample of states [batch·positions, hidden]. */
    const firstPositions = (x: tf.Tensor2D, rows: number): tf.Tensor2D =>
      rows === 1 ? x : (tf.reshape(tf.slice(tf.reshape(x, [batch, rows, hidden]), [0, 0, 0], [batch, 1, hidden]), [batch, hidden]) as tf.Tensor2D);
    // Positions per sample in `states`: all of them, until the last layer keeps only [CLS].
    let statePositions = length;
    for (let layer = 0; layer < config.num_hidden_layers; layer++) {
      const prefix = `bert.encoder.layer.${layer}`;
      // Only the [CLS] output reaches the pooler, and other positions influence it only as keys
      // and values. So the last layer computes queries, attention output and feed-forward for
      // [CLS] alone: the same logits and gradients, with a fifth less work for BERT-mini.
      const queryPositions = layer === config.num_hidden_layers - 1 ? 1 : length;
      const queryStates = queryPositions === length ? states : firstPositions(states, length);
      // Scaling the queries by 1/sqrt(d) equals HF's scaling of the scores, on fewer elements.
      const queries = toHeads(tf.mul(linear(queryStates, `${prefix}.attention.self.query`), 1 / Math.sqrt(headSize)), queryPositions);
      const keysTransposed = tf.transpose(tf.reshape(linear(states, `${prefix}.attention.self.key`), [batch, length, heads, headSize]), [0, 2, 3, 1]);
      const values = toHeads(linear(states, `${prefix}.attention.self.value`), length);
      const scores = tf.add(plainMatMul(queries, keysTransposed), attentionBias);
      const probabilities = drop(tf.softmax(scores), this.attentionDropout);
      const context = tf.reshape(tf.transpose(plainMatMul(probabilities, values), [0, 2, 1, 3]), [batch * queryPositions, hidden]) as tf.Tensor2D;
      const attended = drop(linear(context, `${prefix}.attention.output.dense`), this.hiddenDropout);
      const attentionOut = layerNorm(
        tf.add(attended, queryStates),
        this.param(`${prefix}.attention.output.LayerNorm.weight`),
        this.param(`${prefix}.attention.output.LayerNorm.bias`),
        eps,
      );
      const intermediate = activation(linear(attentionOut, `${prefix}.intermediate.dense`), config.hidden_act) as tf.Tensor2D;
      const output = drop(linear(intermediate, `${prefix}.output.dense`), this.hiddenDropout);
      states = layerNorm(tf.add(output, attentionOut), this.param(`${prefix}.output.LayerNorm.weight`), this.param(`${prefix}.output.LayerNorm.bias`), eps);
      statePositions = queryPositions;
    }

    const first = firstPositions(states, statePositions);
    const pooled = tf.tanh(linear(first, 'bert.pooler.dense')) as tf.Tensor2D;
    return linear(drop(pooled, this.classifierDropout), 'classifier');
  }
}
