/**
 * The transformer encoder every supported family shares: embeddings (word + position
 * [+ token type], LayerNorm, dropout [, projection]) and post-LayerNorm layers with HF numerics —
 * additive attention mask with the float32 minimum, exact GELU (or the config's activation),
 * `layer_norm_eps` from the config.
 *
 * Forward and backward are written by hand from the nn layers (docs/design.md §6): each layer
 * keeps its input, q/k/v, the attention probabilities, the attention context, the LayerNorms'
 * normalised inputs, the feed-forward pre-activation and activation; dropout masks are drawn
 * again from their seeds. The backward frees each layer's tensors as soon as it is done with
 * them and adds every parameter gradient into the host gradient store.
 *
 * The elementwise chains are the nn layers' fused units — a dense layer's product, then bias +
 * GELU, bias + dropout, residual + LayerNorm, scale + mask + softmax in one call each (one
 * native kernel each way when the fused kernels are usable, TF.js ops otherwise).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError } from '../core/errors.js';
import { biasActivationBackward, biasActivationForward } from '../nn/activations.js';
import { attentionBackward, attentionForward, FLOAT32_MIN, type AttentionSaved } from '../nn/attention.js';
import { tidy, type BackwardContext, type LayerContext } from '../nn/context.js';
import { denseBackward, denseForward, type DenseParams } from '../nn/dense.js';
import { biasDropoutBackward, biasDropoutForward, dropoutBackward, dropoutForward, type DropoutSite } from '../nn/dropout.js';
import { embeddingBackward, embeddingSumForward } from '../nn/embeddings.js';
import { layerNormBackward, layerNormForward, layerNormOutput, type LayerNormParams, type LayerNormSaved } from '../nn/layerNorm.js';
import type { ParamLayout } from '../train/store.js';
import type { EncoderConfig } from './config.js';
import type { EncoderNames } from './family.js';

/** How a parameter is initialised when no checkpoint provides it (HF `_init_weights`). */
export type ParamInit = 'normal' | 'zeros' | 'ones' | 'embedding';

export interface ModelParamSpec {
  name: string;
  shape: number[];
  init: ParamInit;
}

/** A tokenised input: ids with the family's special tokens, and token types where the family has them. */
export interface EncoderInput {
  ids: readonly number[];
  typeIds?: readonly number[];
}

/** A micro-batch padded to its longest sample. */
export interface EncoderBatch {
  size: number;
  length: number;
  /** [size·length], padded with the pad token id. */
  ids: Int32Array;
  typeIds: Int32Array;
  positionIds: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  mask: Uint8Array;
}

export function linearSpecs(prefix: string, inFeatures: number, outFeatures: number): ModelParamSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [outFeatures, inFeatures], init: 'normal' },
    { name: `${prefix}.bias`, shape: [outFeatures], init: 'zeros' },
  ];
}

export function layerNormSpecs(prefix: string, width: number): ModelParamSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [width], init: 'ones' },
    { name: `${prefix}.bias`, shape: [width], init: 'zeros' },
  ];
}

/** The encoder's parameters in HF's state_dict order. */
export function encoderSpecs(config: EncoderConfig, names: EncoderNames): ModelParamSpec[] {
  const { hiddenSize: hidden, embeddingSize: embedding } = config;
  const specs: ModelParamSpec[] = [
    { name: names.word, shape: [config.vocabSize, embedding], init: 'embedding' },
    { name: names.position, shape: [config.maxPositions, embedding], init: 'normal' },
  ];
  if (names.tokenType !== undefined) specs.push({ name: names.tokenType, shape: [config.typeVocabSize, embedding], init: 'normal' });
  specs.push(...layerNormSpecs(names.embeddingNorm, embedding));
  if (names.project !== undefined) specs.push(...linearSpecs(names.project, embedding, hidden));
  for (let layer = 0; layer < config.numLayers; layer++) {
    const n = names.layer(layer);
    specs.push(
      ...linearSpecs(n.query, hidden, hidden),
      ...linearSpecs(n.key, hidden, hidden),
      ...linearSpecs(n.value, hidden, hidden),
      ...linearSpecs(n.attentionOutput, hidden, hidden),
      ...layerNormSpecs(n.attentionNorm, hidden),
      ...linearSpecs(n.intermediate, hidden, config.intermediateSize),
      ...linearSpecs(n.output, config.intermediateSize, hidden),
      ...layerNormSpecs(n.outputNorm, hidden),
    );
  }
  return specs;
}

interface LayerParams {
  query: DenseParams;
  key: DenseParams;
  value: DenseParams;
  attentionOutput: DenseParams;
  attentionNorm: LayerNormParams;
  intermediate: DenseParams;
  output: DenseParams;
  outputNorm: LayerNormParams;
}

interface LayerSaved {
  attention: AttentionSaved;
  /** The attention context [b·q, hidden] (input of the attention output dense). */
  context: tf.Tensor2D;
  attentionNorm: LayerNormSaved;
  /** Feed-forward pre-activation and activation [b·q, intermediate]. */
  preActivation: tf.Tensor2D;
  activated: tf.Tensor2D;
  outputNorm: LayerNormSaved;
  /** Query positions per sample: the sequence length, or 1 for a [CLS]-only layer. */
  queryPositions: number;
}

interface EmbeddingsSaved {
  norm: LayerNormSaved;
  /** Input of the ELECTRA projection (the dropped-out normalised embeddings). */
  projectInput?: tf.Tensor2D;
}

export interface EncoderSaved {
  batch: EncoderBatch;
  maskBias: tf.Tensor4D;
  embeddings: EmbeddingsSaved;
  /** Input of each layer [b·t, hidden]. */
  layerInputs: tf.Tensor2D[];
  layers: LayerSaved[];
}

export interface EncoderForwardOptions {
  /**
   * Compute the last layer for the first position only: heads that read only [CLS] get the same
   * result for less work (other positions matter to it only as keys and values).
   */
  firstTokenOnly?: boolean;
}

const embeddingSite = 0;
const layerSite = (layer: number, part: 0 | 1 | 2) => 1 + 3 * layer + part;

/** The encoder of one model: parameter indices resolved against the store's layout. */
export class Encoder {
  private readonly word: number;
  private readonly position: number;
  private readonly tokenType: number | undefined;
  private readonly embeddingNorm: LayerNormParams;
  private readonly project: DenseParams | undefined;
  private readonly layers: LayerParams[];

  constructor(
    readonly config: EncoderConfig,
    names: EncoderNames,
    layout: ParamLayout,
  ) {
    const dense = (prefix: string): DenseParams => ({ weight: layout.indexOf(`${prefix}.weight`), bias: layout.indexOf(`${prefix}.bias`) });
    const norm = (prefix: string): LayerNormParams => ({ weight: layout.indexOf(`${prefix}.weight`), bias: layout.indexOf(`${prefix}.bias`), eps: config.layerNormEps });
    this.word = layout.indexOf(names.word);
    this.position = layout.indexOf(names.position);
    this.tokenType = names.tokenType !== undefined ? layout.indexOf(names.tokenType) : undefined;
    this.embeddingNorm = norm(names.embeddingNorm);
    this.project = names.project !== undefined ? dense(names.project) : undefined;
    this.layers = Array.from({ length: config.numLayers }, (_, index) => {
      const n = names.layer(index);
      return {
        query: dense(n.query),
        key: dense(n.key),
        value: dense(n.value),
        attentionOutput: dense(n.attentionOutput),
        attentionNorm: norm(n.attentionNorm),
        intermediate: dense(n.intermediate),
        output: dense(n.output),
        outputNorm: norm(n.outputNorm),
      };
    });
  }

  /** Store index of the word embeddings (masked-LM decoders are tied to them). */
  get wordEmbeddings(): number {
    return this.word;
  }

  /** Pads `inputs` to their longest; checks ids, lengths and token types; computes position ids. */
  batch(inputs: readonly EncoderInput[]): EncoderBatch {
    const { config } = this;
    if (inputs.length === 0) throw new DataError('cannot run the encoder on an empty micro-batch');
    const size = inputs.length;
    const length = Math.max(...inputs.map((input) => input.ids.length));
    const positionLimit = config.positionStyle === 'padding-offset' ? config.maxPositions - config.padTokenId - 1 : config.maxPositions;
    if (length > positionLimit) throw new ConfigError(`a sample has ${length} tokens, more than the model's ${positionLimit} positions (max_position_embeddings)`);
    const ids = new Int32Array(size * length).fill(config.padTokenId);
    const typeIds = new Int32Array(size * length);
    const positionIds = new Int32Array(size * length);
    const mask = new Uint8Array(size * length);
    inputs.forEach((input, row) => {
      if (input.ids.length === 0) throw new DataError(`sample ${row} has no tokens`);
      if (input.typeIds !== undefined && input.typeIds.length !== input.ids.length) throw new DataError(`sample ${row} has ${input.ids.length} ids but ${input.typeIds.length} token types`);
      let nonPad = 0;
      for (let column = 0; column < length; column++) {
        const at = row * length + column;
        if (column < input.ids.length) {
          const id = input.ids[column]!;
          if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize) {
            throw new DataError(`sample ${row}: token id ${id} at position ${column} is outside the vocabulary [0, ${config.vocabSize})`);
          }
          ids[at] = id;
          mask[at] = 1;
          const type = input.typeIds?.[column] ?? 0;
          if (!Number.isInteger(type) || type < 0 || type >= Math.max(1, config.typeVocabSize)) {
            throw new DataError(`sample ${row}: token type ${type} at position ${column} is outside [0, ${Math.max(1, config.typeVocabSize)})`);
          }
          typeIds[at] = type;
        }
        if (config.positionStyle === 'absolute') positionIds[at] = column;
        else {
          // RoBERTa: padding_idx + 1 + the index among non-pad tokens; pad tokens get padding_idx.
          const real = column < input.ids.length && input.ids[column] !== config.padTokenId;
          if (real) nonPad += 1;
          positionIds[at] = real ? config.padTokenId + nonPad : config.padTokenId;
        }
      }
    });
    return { size, length, ids, typeIds, positionIds, mask };
  }

  /** Hidden states [b·t, hidden] (or [b, hidden] with `firstTokenOnly`) and what the backward needs. */
  forward(batch: EncoderBatch, context: LayerContext, options: EncoderForwardOptions = {}): { hidden: tf.Tensor2D; saved: EncoderSaved } {
    const bias = new Float32Array(batch.size * batch.length);
    for (let i = 0; i < bias.length; i++) bias[i] = batch.mask[i] ? 0 : FLOAT32_MIN;
    const maskBias = tf.tensor4d(bias, [batch.size, 1, 1, batch.length]);
    const embedded = this.embeddingsForward(batch, context);
    const layerInputs: tf.Tensor2D[] = [];
    const layers: LayerSaved[] = [];
    let states = embedded.y;
    this.layers.forEach((params, index) => {
      const last = index === this.layers.length - 1;
      const queryPositions = last && options.firstTokenOnly ? 1 : batch.length;
      const { y, saved } = this.layerForward(states, params, index, batch, maskBias, queryPositions, context);
      layerInputs.push(states);
      layers.push(saved);
      states = y;
    });
    return { hidden: states, saved: { batch, maskBias, embeddings: embedded.saved, layerInputs, layers } };
  }

  /** Hidden states without keeping anything for a backward (evaluation, prediction). */
  encode(batch: EncoderBatch, context: LayerContext, options: EncoderForwardOptions = {}): tf.Tensor2D {
    const { hidden, saved } = this.forward(batch, context, options);
    disposeSaved(saved);
    return hidden;
  }

  /** Backward from the gradient of the hidden states; frees `saved` and `dHidden`'s producers' tensors. */
  backward(dHidden: tf.Tensor2D, saved: EncoderSaved, context: BackwardContext): void {
    let gradient = dHidden;
    let owned = false;
    for (let index = this.layers.length - 1; index >= 0; index--) {
      const input = saved.layerInputs[index]!;
      const next = this.layerBackward(gradient, input, saved.layers[index]!, this.layers[index]!, index, saved.batch, context);
      if (owned) gradient.dispose();
      // The last layer's input is the output of the one before (kept until here).
      input.dispose();
      gradient = next;
      owned = true;
    }
    this.embeddingsBackward(gradient, saved, context);
    if (owned) gradient.dispose();
    saved.maskBias.dispose();
  }

  private embeddingDropout(context: LayerContext): DropoutSite {
    return { rate: this.config.hiddenDropout, training: context.training, seeds: context.dropoutSeeds(embeddingSite) };
  }

  /**
   * The dropout sites of layer `index`, one stream per sample (per sample and head for the
   * attention probabilities). Rows are positions: a layer computing the first position only has
   * one row per group and gets position 0's masks of the full layer, so its result is exactly
   * the full layer's there. A probability's draw is query·max_position_embeddings + key, which
   * the padded length does not change.
   */
  private layerDropout(index: number, context: LayerContext): { attention: DropoutSite; attended: DropoutSite; output: DropoutSite } {
    const { config } = this;
    const site = (rate: number, part: 0 | 1 | 2): DropoutSite => ({ rate, training: context.training, seeds: context.dropoutSeeds(layerSite(index, part)) });
    return {
      attention: { rate: config.attentionDropout, training: context.training, seeds: context.dropoutSeeds(layerSite(index, 0), config.numHeads), rowStride: config.maxPositions },
      attended: site(config.hiddenDropout, 1),
      output: site(config.hiddenDropout, 2),
    };
  }

  private embeddingsForward(batch: EncoderBatch, context: LayerContext): { y: tf.Tensor2D; saved: EmbeddingsSaved } {
    return tidy(() => {
      const lookups = [
        { table: this.word, ids: batch.ids },
        { table: this.position, ids: batch.positionIds },
        ...(this.tokenType !== undefined ? [{ table: this.tokenType, ids: batch.typeIds }] : []),
      ];
      const normed = layerNormForward(embeddingSumForward(lookups, context), this.embeddingNorm, context);
      const dropped = dropoutForward(normed.y, this.embeddingDropout(context), context);
      if (this.project === undefined) return { y: dropped, saved: { norm: normed.saved } };
      return { y: denseForward(dropped, this.project, context), saved: { norm: normed.saved, projectInput: dropped } };
    });
  }

  private embeddingsBackward(dy: tf.Tensor2D, saved: EncoderSaved, context: BackwardContext): void {
    const { batch, embeddings } = saved;
    tf.tidy(() => {
      let dDropped = dy;
      if (this.project !== undefined) {
        dDropped = denseBackward(dy, embeddings.projectInput!, this.project, context)!;
        embeddings.projectInput!.dispose();
      }
      const dNormed = dropoutBackward(dDropped, this.embeddingDropout(context), context);
      const dSum = layerNormBackward(dNormed, embeddings.norm, this.embeddingNorm, context);
      embeddingBackward(this.word, batch.ids, dSum, context);
      embeddingBackward(this.position, batch.positionIds, dSum, context);
      if (this.tokenType !== undefined) embeddingBackward(this.tokenType, batch.typeIds, dSum, context);
    });
  }

  private layerForward(
    x: tf.Tensor2D,
    params: LayerParams,
    index: number,
    batch: EncoderBatch,
    maskBias: tf.Tensor4D,
    queryPositions: number,
    context: LayerContext,
  ): { y: tf.Tensor2D; saved: LayerSaved } {
    const { config } = this;
    const heads = config.numHeads;
    const headSize = config.hiddenSize / heads;
    return tidy(() => {
      const queryStates = queryPositions === batch.length ? x : firstPositions(x, batch);
      const queries = toHeads(denseForward(queryStates, params.query, context), batch.size, queryPositions, heads);
      const keys = toHeads(denseForward(x, params.key, context), batch.size, batch.length, heads);
      const values = toHeads(denseForward(x, params.value, context), batch.size, batch.length, heads);
      const sites = this.layerDropout(index, context);
      const attention = attentionForward(queries, keys, values, maskBias, 1 / Math.sqrt(headSize), sites.attention, context);
      const attentionContext = fromHeads(attention.context);
      const attended = biasDropoutForward(denseForward(attentionContext, weightOf(params.attentionOutput), context), params.attentionOutput.bias, sites.attended, context);
      const attentionNorm = layerNormForward(attended, params.attentionNorm, context, queryStates);
      const intermediate = biasActivationForward(denseForward(attentionNorm.y, weightOf(params.intermediate), context), params.intermediate.bias!, config.activation, context);
      const output = biasDropoutForward(denseForward(intermediate.y, weightOf(params.output), context), params.output.bias, sites.output, context);
      const outputNorm = layerNormForward(output, params.outputNorm, context, attentionNorm.y);
      return {
        y: outputNorm.y,
        saved: {
          attention: attention.saved,
          context: attentionContext,
          attentionNorm: attentionNorm.saved,
          preActivation: intermediate.z,
          activated: intermediate.y,
          outputNorm: outputNorm.saved,
          queryPositions,
        },
      };
    });
  }

  private layerBackward(dy: tf.Tensor2D, x: tf.Tensor2D, saved: LayerSaved, params: LayerParams, index: number, batch: EncoderBatch, context: BackwardContext): tf.Tensor2D {
    const { config } = this;
    const heads = config.numHeads;
    const headSize = config.hiddenSize / heads;
    const { queryPositions } = saved;
    const dx = tf.tidy(() => {
      const sites = this.layerDropout(index, context);
      const scale = 1 / Math.sqrt(headSize);
      const dOutputSum = layerNormBackward(dy, saved.outputNorm, params.outputNorm, context);
      const dOutput = biasDropoutBackward(dOutputSum, params.output.bias, sites.output, context);
      const dActivated = denseBackward(dOutput, saved.activated, weightOf(params.output), context)!;
      const dPreActivation = biasActivationBackward(dActivated, saved.preActivation, params.intermediate.bias!, config.activation, context);
      // The attention block's output is recomputed from its LayerNorm's saved values, not kept.
      const attentionOut = layerNormOutput(saved.attentionNorm, params.attentionNorm, context);
      const dAttentionOut = tf.add(dOutputSum, denseBackward(dPreActivation, attentionOut, weightOf(params.intermediate), context)!) as tf.Tensor2D;
      const dAttentionSum = layerNormBackward(dAttentionOut, saved.attentionNorm, params.attentionNorm, context);
      const dAttended = biasDropoutBackward(dAttentionSum, params.attentionOutput.bias, sites.attended, context);
      const dContext = denseBackward(dAttended, saved.context, weightOf(params.attentionOutput), context)!;
      const { dQueries, dKeys, dValues } = attentionBackward(toHeads(dContext, batch.size, queryPositions, heads), saved.attention, scale, sites.attention, context);
      const queryStates = queryPositions === batch.length ? x : firstPositions(x, batch);
      // The residual path of the attention block, plus the query projection's input gradient.
      const dQueryStates = tf.add(dAttentionSum, denseBackward(fromHeads(dQueries), queryStates, params.query, context)!) as tf.Tensor2D;
      const dKeysValues = tf.add(denseBackward(fromHeads(dKeys), x, params.key, context)!, denseBackward(fromHeads(dValues), x, params.value, context)!);
      return tf.add(dKeysValues, queryPositions === batch.length ? dQueryStates : spreadFirstPositions(dQueryStates, batch)) as tf.Tensor2D;
    });
    tf.dispose([saved.context, saved.preActivation, saved.activated]);
    return dx;
  }
}

/** A dense layer's product alone (its bias goes into the fused step after it). */
function weightOf(params: DenseParams): DenseParams {
  return { weight: params.weight };
}

/** Frees everything a forward kept (when no backward follows). */
export function disposeSaved(saved: EncoderSaved): void {
  saved.maskBias.dispose();
  tf.dispose([saved.embeddings.norm.normalized, saved.embeddings.norm.inverseStd]);
  saved.embeddings.projectInput?.dispose();
  tf.dispose(saved.layerInputs);
  for (const layer of saved.layers) {
    const { attention } = layer;
    tf.dispose([attention.queries, attention.keys, attention.values, attention.probabilities, layer.context, layer.preActivation, layer.activated]);
    tf.dispose([layer.attentionNorm.normalized, layer.attentionNorm.inverseStd, layer.outputNorm.normalized, layer.outputNorm.inverseStd]);
  }
}

/** [b·t, h] → [b, heads, t, h/heads]. */
function toHeads(x: tf.Tensor2D, size: number, positions: number, heads: number): tf.Tensor4D {
  const width = x.shape[1] / heads;
  return tf.transpose(tf.reshape(x, [size, positions, heads, width]), [0, 2, 1, 3]);
}

/** [b, heads, t, d] → [b·t, heads·d]. */
function fromHeads(x: tf.Tensor4D): tf.Tensor2D {
  const [size, heads, positions, width] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [size * positions, heads * width]);
}

/**
 * Position 0 of each sample: [b·t, h] → [b, h]. A row gather: the wasm backend's Slice of a
 * strided block took ~8 ms here (bert-base, micro-batch 8), its Gather ~0.03 ms.
 */
export function firstPositions(x: tf.Tensor2D, batch: EncoderBatch): tf.Tensor2D {
  return tf.tidy(() => tf.gather(x, tf.tensor1d(Int32Array.from({ length: batch.size }, (_, sample) => sample * batch.length), 'int32')) as tf.Tensor2D);
}

/** The gradient of `firstPositions`: [b, h] placed at position 0 of [b·t, h], zeros elsewhere. */
export function spreadFirstPositions(dFirst: tf.Tensor2D, batch: EncoderBatch): tf.Tensor2D {
  const width = dFirst.shape[1];
  return tf.reshape(tf.pad(tf.reshape(dFirst, [batch.size, 1, width]), [[0, 0], [0, batch.length - 1], [0, 0]]), [batch.size * batch.length, width]);
}
