/**
 * Model families: one per Hugging Face `model_type`, registered by key the way TF.js registers
 * kernels. A family says how to read its config.json, what its parameters are called on disk
 * (so checkpoints round-trip with `transformers` under strict names), and what its task heads
 * compute. The computation itself is shared (models/encoder.ts, tasks/): the four families
 * differ in names, embeddings and heads, not in their transformer layers.
 */
import { ConfigError } from '../core/errors.js';
import type { Activation } from '../nn/activations.js';
import type { ConfigReader, EncoderConfig } from './config.js';

export type TaskName = 'sequence-classification' | 'token-classification' | 'masked-lm';
export const TASK_NAMES: readonly TaskName[] = ['sequence-classification', 'token-classification', 'masked-lm'];

/** Name prefixes of one transformer layer's parts (`.weight` / `.bias` are appended). */
export interface LayerNames {
  query: string;
  key: string;
  value: string;
  attentionOutput: string;
  attentionNorm: string;
  intermediate: string;
  output: string;
  outputNorm: string;
}

export interface EncoderNames {
  /** Full names of the embedding tables. */
  word: string;
  position: string;
  tokenType?: string;
  /** Prefix of the embeddings' LayerNorm. */
  embeddingNorm: string;
  /** Prefix of the projection from embeddingSize to hiddenSize (ELECTRA). */
  project?: string;
  layer(index: number): LayerNames;
}

/** One step of a head, applied in order to the encoder's output (the first token's, or every token's). */
export type HeadStep =
  /** Dropout at the head's rate (`classifier`: classifier_dropout or the family's own key) or the encoder's (`hidden`). */
  | { kind: 'dropout'; rate: 'classifier' | 'hidden' }
  | { kind: 'dense'; prefix: string; out: 'hidden' | 'embedding' | 'labels' }
  | { kind: 'activation'; activation: Activation | 'config' }
  | { kind: 'layerNorm'; prefix: string; width: 'hidden' | 'embedding'; eps?: number }
  /** Logits over the vocabulary with the decoder weight tied to the word embeddings, and its own bias. */
  | { kind: 'tiedDecoder'; bias: string };

export interface HeadSpec {
  /** HF class name written to config.json's `architectures`. */
  architecture: string;
  /** Sequence heads read the first token ([CLS] / <s>); token heads read every position. */
  positions: 'first' | 'all';
  steps: HeadStep[];
  /** Checkpoint names HF may write for a tied parameter (accepted on load, not written). */
  tiedAliases?: string[];
}

export interface ModelFamily {
  readonly modelType: string;
  /** What `describe` lists: e.g. "BERT (also MiniLM and other BERT-architecture checkpoints)". */
  readonly title: string;
  parseConfig(reader: ConfigReader): EncoderConfig;
  /** Parameter names of the encoder for this config (ELECTRA's projection exists only when sizes differ). */
  names(config: EncoderConfig): EncoderNames;
  /** The base model's prefix in task checkpoints (`bert.`); bare base checkpoints lack it. */
  readonly basePrefix: string;
  /** Top-level modules of a bare base checkpoint (`embeddings.`, `encoder.` …) that get `basePrefix` added. */
  readonly baseModules: readonly string[];
  /** Base-model parameters outside the encoder (BERT's pooler): loaded when a head uses them, ignored otherwise. */
  readonly heads: Readonly<Record<TaskName, HeadSpec | undefined>>;
  /** Old spellings of names (TF-era `LayerNorm.gamma`), mapped to today's. */
  canonicalName?(name: string): string;
}

const registry = new Map<string, ModelFamily>();

export function registerFamily(family: ModelFamily): void {
  if (registry.has(family.modelType)) throw new ConfigError(`model family "${family.modelType}" is already registered`);
  registry.set(family.modelType, family);
}

export function getFamily(modelType: string, source?: string): ModelFamily {
  const family = registry.get(modelType);
  if (family === undefined) {
    throw new ConfigError(`unsupported model_type ${JSON.stringify(modelType)}: supported are ${[...registry.keys()].map((key) => `"${key}"`).join(', ')}`, {
      field: 'model_type',
      ...(source !== undefined ? { file: source } : {}),
    });
  }
  return family;
}

export function registeredFamilies(): ModelFamily[] {
  return [...registry.values()];
}

/** Today's spelling of an old checkpoint name: `LayerNorm.gamma/beta` → `LayerNorm.weight/bias`. */
export function modernLayerNormName(name: string): string {
  return name.replace(/\.LayerNorm\.gamma$/, '.LayerNorm.weight').replace(/\.LayerNorm\.beta$/, '.LayerNorm.bias');
}
