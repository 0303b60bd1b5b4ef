/**
 * A model = a family's encoder + a task head over one host parameter store. The three tasks
 * differ in what their loss items are and which positions reach the head:
 *
 * | task | items | head reads |
 * | --- | --- | --- |
 * | sequence classification | samples | the first token ([CLS] / <s>) |
 * | token classification | labelled tokens | every position |
 * | masked LM | masked tokens | the masked positions |
 *
 * Each implements `TrainableModel`: it adds factor · ∇(Σ losses) into a gradient store with the
 * encoder's and head's hand-written backward passes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors.js';
import { deriveSeed, fillNormal } from '../core/random.js';
import { backwardContext, layerContext, parsePrecision, tidy, type BackwardContext, type LayerContext, type Precision } from '../nn/context.js';
import { crossEntropySum, IGNORE_INDEX, softmaxRows } from '../nn/loss.js';
import type { EncoderConfig } from '../models/config.js';
import { disposeSaved, Encoder, encoderSpecs, type EncoderInput, type ModelParamSpec } from '../models/encoder.js';
import type { HeadSpec, ModelFamily, TaskName } from '../models/family.js';
import { ParameterStore, type ArenaOptions, type GradientStore } from '../train/store.js';
import type { PassOptions, TrainableModel } from '../train/types.js';
import { Head, headSpecs } from './head.js';

export interface ModelDefinition {
  family: ModelFamily;
  config: EncoderConfig;
  task: TaskName;
  /** Classification labels in id order (empty for masked LM). */
  labels: readonly string[];
}

export interface ModelOptions {
  /** Seed of the initialisation of parameters not given (default 0). */
  seed?: number;
  /** Parameter values by HF name (file layout); the others are initialised as HF's `_init_weights`. */
  values?: ReadonlyMap<string, Float32Array>;
  /** Where the host store lives (shared memory, or an existing buffer from another thread). */
  arena?: ArenaOptions;
  /** Precision of every matrix product (default 'fp32'; see nn/context.ts `Precision`). Settable later as `model.precision`. */
  precision?: Precision;
}

/** Every parameter of a family × task model, in HF's order: encoder, then head. */
export function modelSpecs(definition: ModelDefinition): ModelParamSpec[] {
  const head = taskHead(definition.family, definition.task);
  return [...encoderSpecs(definition.config, definition.family.names(definition.config)), ...headSpecs(head, definition.config, definition.labels.length)];
}

export function taskHead(family: ModelFamily, task: TaskName): HeadSpec {
  const head = family.heads[task];
  if (head === undefined) throw new ConfigError(`the ${family.modelType} family has no ${task} head`, { field: 'task' });
  return head;
}

/** HF `_init_weights`: normal(0, initializer_range) weights and embeddings (padding row zero), zero biases, LayerNorm (1, 0). */
export function initialValues(spec: ModelParamSpec, config: EncoderConfig, seed: number, target: Float32Array): void {
  if (spec.init === 'ones') target.fill(1);
  else if (spec.init === 'zeros') target.fill(0);
  else {
    // Keyed by the name, so a parameter's initial values do not depend on what else the model has.
    fillNormal(target, config.initializerRange, deriveSeed(seed, ...Array.from(spec.name, (char) => char.charCodeAt(0))));
    const width = spec.shape[1]!;
    if (spec.init === 'embedding' && config.padTokenId < spec.shape[0]!) target.fill(0, config.padTokenId * width, (config.padTokenId + 1) * width);
  }
}

/** The encoder and head over one parameter store; the base of the three task models. */
export abstract class TaskModel<Sample> implements TrainableModel<Sample> {
  readonly parameters: ParameterStore;
  readonly encoder: Encoder;
  readonly head: Head;
  readonly specs: readonly ModelParamSpec[];
  readonly config: EncoderConfig;
  readonly family: ModelFamily;
  readonly task: TaskName;
  readonly labels: readonly string[];
  private matMulPrecision: Precision;

  protected constructor(definition: ModelDefinition, options: ModelOptions) {
    const { family, config, task, labels } = definition;
    this.family = family;
    this.config = config;
    this.task = task;
    this.labels = [...labels];
    this.specs = modelSpecs(definition);
    this.matMulPrecision = parsePrecision(options.precision ?? 'fp32');
    const seed = options.seed ?? 0;
    if (!Number.isSafeInteger(seed)) throw new ConfigError(`must be an integer, got ${seed}`, { field: 'seed' });
    const bySpec = new Map(this.specs.map((spec) => [spec.name, spec]));
    this.parameters = ParameterStore.create(
      this.specs,
      (entry, target) => {
        const given = options.values?.get(entry.name);
        if (given !== undefined) {
          if (given.length !== target.length) throw new ConfigError(`values of ${entry.name} have ${given.length} entries, expected ${target.length}`);
          target.set(given);
        } else initialValues(bySpec.get(entry.name)!, config, seed, target);
      },
      options.arena,
    );
    this.encoder = new Encoder(config, family.names(config), this.parameters.layout);
    this.head = new Head(taskHead(family, task), config, this.parameters.layout, this.encoder.wordEmbeddings);
  }

  abstract countItems(samples: readonly Sample[], epoch: number): number;
  abstract accumulateGradients(samples: readonly Sample[], grads: GradientStore, pass: PassOptions): number;

  /**
   * A conservative estimate of the peak heap bytes of one training micro-batch of `size` samples
   * of `length` tokens: what each layer keeps for its backward (≈ 7 activations of [tokens,
   * hidden], 2 of [tokens, intermediate], the attention probabilities) for every layer, plus
   * three layers' worth for the backward's temporaries. Measured peaks are below it.
   */
  activationBytesEstimate(size: number, length: number): number {
    const { hiddenSize, intermediateSize, numHeads, numLayers } = this.config;
    const tokens = size * length;
    const perLayer = tokens * (7 * hiddenSize + 2 * intermediateSize) + size * numHeads * length * length;
    return 4 * perLayer * (numLayers + 3);
  }

  /** Every parameter by HF name in file layout (views of the host store: copy before the next step). */
  weights(): Map<string, Float32Array> {
    return new Map(this.parameters.entries.map((entry) => [entry.name, this.parameters.view(entry.index)]));
  }

  /** Frees the heap mirrors; the host store goes with the model object. */
  dispose(): void {
    this.parameters.dispose();
  }

  /**
   * 'fp32', or 'bf16' autocast for every matrix product of the forward and backward passes
   * (training, evaluation and prediction alike); parameters, gradients and optimizer state stay
   * float32. Takes effect from the next pass.
   */
  get precision(): Precision {
    return this.matMulPrecision;
  }

  set precision(value: Precision) {
    this.matMulPrecision = parsePrecision(value);
  }

  /** An inference context (no dropout). */
  protected context(): LayerContext {
    return layerContext(this.parameters, false, [], { precision: this.matMulPrecision });
  }

  /** The context of a training pass over `sampleCount` samples: their dropout seeds, checked. */
  protected passContext(pass: PassOptions, sampleCount: number): LayerContext {
    if (pass.dropoutSeeds.length !== sampleCount) throw new ConfigError(`a pass over ${sampleCount} samples needs one dropout seed per sample, got ${pass.dropoutSeeds.length}`);
    return layerContext(this.parameters, pass.training, pass.dropoutSeeds, { precision: this.matMulPrecision });
  }

  /**
   * One training step of the head: its forward on `input` (disposed), the summed cross-entropy
   * against `labels` times `factor`, and its backward. Returns the loss sum and the gradient at
   * the head's input; the caller takes it back through the encoder.
   */
  protected headStep(input: tf.Tensor2D, labels: Int32Array, context: LayerContext, backward: BackwardContext, factor: number): { lossSum: number; dInput: tf.Tensor2D } {
    const head = this.head.forward(input, context);
    input.dispose();
    const loss = crossEntropySum(head.logits, labels, { gradient: true, factor });
    head.logits.dispose();
    const dInput = this.head.backward(loss.dLogits!, head.saved, backward);
    loss.dLogits!.dispose();
    return { lossSum: loss.lossSum, dInput };
  }

  /**
   * The head's logits without dropout: per input one row ([CLS] heads) or one row per token
   * (token heads, and the masked-LM head over every position), as HF's `logits` output.
   */
  logits(inputs: readonly EncoderInput[]): Float32Array[][] {
    const batch = this.encoder.batch(inputs);
    const first = this.family.heads[this.task]!.positions === 'first';
    const logits = tidy(() => {
      const context = this.context();
      return this.head.forward(this.encoder.encode(batch, context, { firstTokenOnly: first }), context).logits;
    });
    try {
      const values = logits.dataSync() as Float32Array;
      const width = logits.shape[1];
      const row = (index: number) => values.slice(index * width, (index + 1) * width);
      return inputs.map((input, sample) => (first ? [row(sample)] : input.ids.map((_, position) => row(sample * batch.length + position))));
    } finally {
      logits.dispose();
    }
  }
}

/** A tokenised text with its class. */
export interface SequenceSample extends EncoderInput {
  /** Class index in [0, labels). */
  label: number;
}

export class SequenceClassifier extends TaskModel<SequenceSample> {
  constructor(definition: Omit<ModelDefinition, 'task'>, options: ModelOptions = {}) {
    if (definition.labels.length < 1) throw new ConfigError('a classifier needs at least one label', { field: 'labels' });
    super({ ...definition, task: 'sequence-classification' }, options);
  }

  countItems(samples: readonly SequenceSample[]): number {
    return samples.length;
  }

  accumulateGradients(samples: readonly SequenceSample[], grads: GradientStore, pass: PassOptions): number {
    const labels = Int32Array.from(samples, (sample) => sample.label);
    const context = this.passContext(pass, samples.length);
    const { hidden, saved } = this.encoder.forward(this.encoder.batch(samples), context, { firstTokenOnly: true });
    const backward = backwardContext(context, grads);
    const { lossSum, dInput } = this.headStep(hidden, labels, context, backward, pass.factor);
    this.encoder.backward(dInput, saved, backward);
    dInput.dispose();
    return lossSum;
  }

  /** Class probabilities of each sample (no dropout). */
  probabilities(inputs: readonly EncoderInput[]): Float64Array[] {
    const logits = tidy(() => {
      const context = this.context();
      const hidden = this.encoder.encode(this.encoder.batch(inputs), context, { firstTokenOnly: true });
      return this.head.forward(hidden, context).logits;
    });
    try {
      return softmaxRows(logits);
    } finally {
      logits.dispose();
    }
  }
}

/** A tokenised sentence with a label per token (IGNORE_INDEX where not labelled). */
export interface TokenSample extends EncoderInput {
  labels: readonly number[];
}

export class TokenClassifier extends TaskModel<TokenSample> {
  constructor(definition: Omit<ModelDefinition, 'task'>, options: ModelOptions = {}) {
    if (definition.labels.length < 1) throw new ConfigError('a token classifier needs at least one label', { field: 'labels' });
    super({ ...definition, task: 'token-classification' }, options);
  }

  countItems(samples: readonly TokenSample[]): number {
    let count = 0;
    for (const sample of samples) for (const label of sample.labels) if (label !== IGNORE_INDEX) count += 1;
    return count;
  }

  accumulateGradients(samples: readonly TokenSample[], grads: GradientStore, pass: PassOptions): number {
    const batch = this.encoder.batch(samples);
    const labels = paddedLabels(samples, batch.length);
    const context = this.passContext(pass, samples.length);
    const { hidden, saved } = this.encoder.forward(batch, context);
    const backward = backwardContext(context, grads);
    const { lossSum, dInput } = this.headStep(hidden, labels, context, backward, pass.factor);
    this.encoder.backward(dInput, saved, backward);
    dInput.dispose();
    return lossSum;
  }

  /** Per sample, per token: class probabilities (no dropout). */
  probabilities(inputs: readonly EncoderInput[]): Float64Array[][] {
    const batch = this.encoder.batch(inputs);
    const logits = tidy(() => {
      const context = this.context();
      const hidden = this.encoder.encode(batch, context);
      return this.head.forward(hidden, context).logits;
    });
    try {
      const rows = softmaxRows(logits);
      return inputs.map((input, sample) => rows.slice(sample * batch.length, sample * batch.length + input.ids.length));
    } finally {
      logits.dispose();
    }
  }
}

/** Labels of every position of a padded batch (IGNORE_INDEX on padding). */
function paddedLabels(samples: readonly TokenSample[], length: number): Int32Array {
  const labels = new Int32Array(samples.length * length).fill(IGNORE_INDEX);
  samples.forEach((sample, row) => {
    if (sample.labels.length !== sample.ids.length) throw new ConfigError(`sample ${row} has ${sample.ids.length} tokens but ${sample.labels.length} labels`);
    sample.labels.forEach((label, column) => (labels[row * length + column] = label));
  });
  return labels;
}

/** What the masked-LM model trains on in one epoch: the masked input and the labels (IGNORE_INDEX where not predicted). */
export interface MaskedInput extends EncoderInput {
  labels: readonly number[];
}

export interface MaskedLanguageModelOptions<Sample> extends ModelOptions {
  /** The sample's masked input in `epoch` (a pure function of the run's seed, the epoch and the sample). */
  mask(sample: Sample, epoch: number): MaskedInput;
}

/**
 * Masked LM: the head runs on the masked positions only (gathered before the transform), and
 * its decoder is tied to the word embeddings, so their gradient gets both contributions.
 */
export class MaskedLanguageModel<Sample> extends TaskModel<Sample> {
  private readonly mask: (sample: Sample, epoch: number) => MaskedInput;

  constructor(definition: Omit<ModelDefinition, 'task' | 'labels'>, options: MaskedLanguageModelOptions<Sample>) {
    super({ ...definition, task: 'masked-lm', labels: [] }, options);
    this.mask = options.mask;
  }

  countItems(samples: readonly Sample[], epoch: number): number {
    let count = 0;
    for (const sample of samples) for (const label of this.mask(sample, epoch).labels) if (label !== IGNORE_INDEX) count += 1;
    return count;
  }

  accumulateGradients(samples: readonly Sample[], grads: GradientStore, pass: PassOptions): number {
    const masked = samples.map((sample) => this.mask(sample, pass.epoch));
    const batch = this.encoder.batch(masked);
    const { rows, labels } = maskedRows(masked, batch.length);
    const context = this.passContext(pass, samples.length);
    const { hidden, saved } = this.encoder.forward(batch, context);
    if (rows.length === 0) {
      // Nothing to predict in this micro-batch: no loss, no gradient (the window's count is elsewhere).
      hidden.dispose();
      disposeSaved(saved);
      return 0;
    }
    const rowIndex = tf.tensor1d(rows, 'int32');
    const selected = tf.gather(hidden, rowIndex) as tf.Tensor2D;
    hidden.dispose();
    const backward = backwardContext(context, grads);
    const { lossSum, dInput: dSelected } = this.headStep(selected, labels, context, backward, pass.factor);
    const dHidden = tf.tidy(() => tf.scatterND(tf.reshape(rowIndex, [rows.length, 1]), dSelected, [batch.size * batch.length, this.config.hiddenSize]) as tf.Tensor2D);
    rowIndex.dispose();
    dSelected.dispose();
    this.encoder.backward(dHidden, saved, backward);
    dHidden.dispose();
    return lossSum;
  }

  /** Sum of the masked tokens' losses and their count, without dropout (for evaluation). */
  evaluate(samples: readonly Sample[], epoch: number): { lossSum: number; count: number } {
    const masked = samples.map((sample) => this.mask(sample, epoch));
    const batch = this.encoder.batch(masked);
    const { rows, labels } = maskedRows(masked, batch.length);
    if (rows.length === 0) return { lossSum: 0, count: 0 };
    const logits = tidy(() => {
      const context = this.context();
      const hidden = this.encoder.encode(batch, context);
      return this.head.forward(tf.gather(hidden, tf.tensor1d(rows, 'int32')) as tf.Tensor2D, context).logits;
    });
    try {
      const { lossSum, count } = crossEntropySum(logits, labels, { gradient: false });
      return { lossSum, count };
    } finally {
      logits.dispose();
    }
  }

  /** Vocabulary probabilities at the given positions of one input (fill-mask). */
  predictPositions(input: EncoderInput, positions: readonly number[]): Float64Array[] {
    const batch = this.encoder.batch([input]);
    const logits = tidy(() => {
      const context = this.context();
      const hidden = this.encoder.encode(batch, context);
      return this.head.forward(tf.gather(hidden, tf.tensor1d(Int32Array.from(positions), 'int32')) as tf.Tensor2D, context).logits;
    });
    try {
      return softmaxRows(logits);
    } finally {
      logits.dispose();
    }
  }
}

/** Row indices (into [b·t]) of the labelled positions of a padded batch, and their labels. */
function maskedRows(masked: readonly MaskedInput[], length: number): { rows: Int32Array; labels: Int32Array } {
  const rows: number[] = [];
  const labels: number[] = [];
  masked.forEach((input, row) => {
    if (input.labels.length !== input.ids.length) throw new ConfigError(`sample ${row} has ${input.ids.length} tokens but ${input.labels.length} labels`);
    input.labels.forEach((label, column) => {
      if (label === IGNORE_INDEX) return;
      rows.push(row * length + column);
      labels.push(label);
    });
  });
  return { rows: Int32Array.from(rows), labels: Int32Array.from(labels) };
}
