/**
 * Tiny Hugging Face BERT checkpoints for tests (this area's and the CLI's). Weights are a pure
 * function of the seed; the layout is exactly what `save_pretrained` writes (F32, [out, in]).
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { parseBertConfig, serializeBertConfig, type BertConfig } from '../../src/bert/config.js';
import { BertForSequenceClassification } from '../../src/bert/model.js';
import type { F32Tensor } from '../../src/core/safetensors.js';
import { bertParameterSpecs } from '../../src/bert/weights.js';

/** A small uncased WordPiece vocabulary (special tokens first, as in bert-base-uncased). */
export const TINY_VOCAB: readonly string[] = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]',
  '.', ',', '!', '?', "'",
  'the', 'a', 'is', 'was', 'it', 'this', 'and', 'not', 'i', 'you',
  'good', 'bad', 'great', 'terrible', 'movie', 'love', 'hate', 'fun', 'boring', 'film',
  'free', 'money', 'win', 'now', 'click', 'here', 'offer', 'hello', 'meeting', 'tomorrow',
  'play', 'work', 'un', '##s', '##ing', '##ed', '##ly', '##er', '##able', '##y',
];

/** config.json content of the tiny model (vocab 50, hidden 16, 2 layers, 2 heads, intermediate 32). */
export function tinyConfigJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    vocab_size: TINY_VOCAB.length,
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 32,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: 64,
    type_vocab_size: 2,
    initializer_range: 0.02,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    ...overrides,
  };
}

export function tinyConfig(overrides: Record<string, unknown> = {}): BertConfig {
  return parseBertConfig(tinyConfigJson(overrides), 'tiny config');
}

/** Seeded uniform values in [-scale, scale] (mulberry32), for weights far from HF's tiny init. */
export function uniformValues(count: number, seed: number, scale: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/**
 * Random weights (file layout, HF names) that exercise every part of the network: LayerNorm
 * weights around 1, biases and matrices large enough for GELU's and softmax's curvature to matter.
 */
export function randomWeights(config: BertConfig, numLabels: number, seed: number): Map<string, Float32Array> {
  const weights = new Map<string, Float32Array>();
  bertParameterSpecs(config, numLabels).forEach((spec, index) => {
    const count = spec.fileShape.reduce((product, dim) => product * dim, 1);
    const values = uniformValues(count, seed * 1000 + index, spec.init === 'zeros' ? 0.2 : 0.5);
    if (spec.init === 'ones') for (let i = 0; i < count; i++) values[i] = 1 + values[i]! * 0.4;
    weights.set(spec.name, values);
  });
  return weights;
}

export interface RawTensor {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/**
 * A safetensors file from an arbitrary header and tensors, with no validation, for fixtures with
 * non-F32 buffers and for hostile files. `header` entries override the computed ones.
 */
export function rawSafetensors(tensors: ReadonlyMap<string, RawTensor>, header: Record<string, unknown> = {}): Uint8Array {
  const fullHeader: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, tensor] of tensors) {
    fullHeader[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.bytes.byteLength] };
    offset += tensor.bytes.byteLength;
  }
  Object.assign(fullHeader, header);
  const json = new TextEncoder().encode(JSON.stringify(fullHeader));
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let position = 8 + json.byteLength;
  for (const tensor of tensors.values()) {
    out.set(tensor.bytes, position);
    position += tensor.bytes.byteLength;
  }
  return out;
}

export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

export interface TinyCheckpointOptions {
  /** Overrides of config.json keys. */
  config?: Record<string, unknown>;
  /** Written as id2label/label2id; `null` writes none (a base model). Default ['negative', 'positive']. */
  labels?: string[] | null;
  /** Include classifier.* tensors (default true; false for a base model). */
  withClassifier?: boolean;
  /** Write TF-era names `LayerNorm.gamma` / `LayerNorm.beta`. */
  legacyLayerNormNames?: boolean;
  /** Write a bare BertModel: no `bert.` prefix, no classifier. */
  bareBertModel?: boolean;
  /** Add the buffers real checkpoints carry: I64 `bert.embeddings.position_ids` and an MLM head bias `cls.predictions.bias`. */
  extraTensors?: boolean;
  /** Weight seed (default 1); HF-style init, or large random weights with `randomWeights: true`. */
  seed?: number;
  randomWeights?: boolean;
  /** tokenizer_config.json's do_lower_case (default true). */
  doLowerCase?: boolean;
}

export interface TinyCheckpoint {
  config: BertConfig;
  labels: string[] | null;
  vocab: readonly string[];
  /** The tensors written, by file name (before renaming for legacy/bare options: HF names). */
  weights: Map<string, F32Tensor>;
}

/**
 * Writes a tiny BERT checkpoint directory (config.json, model.safetensors, vocab.txt,
 * tokenizer_config.json, special_tokens_map.json) into `dir`, created if needed.
 */
export async function makeTinyCheckpoint(dir: string, options: TinyCheckpointOptions = {}): Promise<TinyCheckpoint> {
  const configJson = tinyConfigJson(options.config);
  const config = parseBertConfig(configJson, 'tiny config');
  const labels = options.labels === undefined ? ['negative', 'positive'] : options.labels;
  const numLabels = labels?.length ?? 2;
  const seed = options.seed ?? 1;
  const model = options.randomWeights
    ? BertForSequenceClassification.fromWeights(config, randomWeights(config, numLabels, seed), { numLabels, seed })
    : BertForSequenceClassification.create(config, { numLabels, seed });
  const weights = model.exportWeights();
  model.dispose();

  const withClassifier = (options.withClassifier ?? true) && !options.bareBertModel;
  const fileTensors = new Map<string, RawTensor>();
  for (const [name, tensor] of weights) {
    if (name.startsWith('classifier.') && !withClassifier) continue;
    let fileName = name;
    if (options.legacyLayerNormNames) fileName = fileName.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
    if (options.bareBertModel) fileName = fileName.replace(/^bert\./, '');
    fileTensors.set(fileName, { dtype: 'F32', shape: tensor.shape, bytes: f32Bytes(tensor.data) });
  }
  if (options.extraTensors) {
    const positions = new BigInt64Array(config.max_position_embeddings).map((_, i) => BigInt(i));
    const prefix = options.bareBertModel ? '' : 'bert.';
    fileTensors.set(`${prefix}embeddings.position_ids`, { dtype: 'I64', shape: [1, config.max_position_embeddings], bytes: new Uint8Array(positions.buffer) });
    fileTensors.set('cls.predictions.bias', { dtype: 'F32', shape: [config.vocab_size], bytes: f32Bytes(new Float32Array(config.vocab_size)) });
  }

  await fs.mkdir(dir, { recursive: true });
  const text = labels === null ? JSON.stringify(configJson, null, 2) : serializeBertConfig(config, labels);
  await fs.writeFile(path.join(dir, 'config.json'), text);
  await fs.writeFile(path.join(dir, 'model.safetensors'), rawSafetensors(fileTensors, { __metadata__: { format: 'pt' } }));
  await fs.writeFile(path.join(dir, 'vocab.txt'), TINY_VOCAB.join('\n') + '\n');
  await fs.writeFile(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({ do_lower_case: options.doLowerCase ?? true, model_max_length: config.max_position_embeddings, tokenizer_class: 'BertTokenizer' }, null, 2),
  );
  await fs.writeFile(
    path.join(dir, 'special_tokens_map.json'),
    JSON.stringify({ cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]' }, null, 2),
  );
  return { config, labels, vocab: TINY_VOCAB, weights };
}
