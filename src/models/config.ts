/**
 * Reading Hugging Face `config.json` files: typed field readers that fail with the file and the
 * key, label maps (id2label / label2id), and the family-independent `EncoderConfig` every
 * family's parser produces. The original JSON is kept, so a saved config keeps every key we do
 * not interpret (transformers_version, tokenizer_class, …).
 */
import { CheckpointError } from '../core/errors.js';
import { parseActivation, type Activation } from '../nn/activations.js';

export type JsonObject = Record<string, unknown>;

/** How position ids are made: 0..T−1, or RoBERTa's padding_idx + 1 + (index among non-pad tokens). */
export type PositionStyle = 'absolute' | 'padding-offset';

/** The encoder as every family's code sees it, whatever the keys of its config.json. */
export interface EncoderConfig {
  /** config.json's `model_type` (the registry key). */
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  /** Width of the embeddings; ≠ hiddenSize only for ELECTRA (then projected). */
  embeddingSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  activation: Activation;
  hiddenDropout: number;
  attentionDropout: number;
  /** Dropout of the classification heads (HF: classifier_dropout ?? hidden_dropout_prob, or the family's own key). */
  classifierDropout: number;
  maxPositions: number;
  /** 0 when the family has no token types (DistilBERT). */
  typeVocabSize: number;
  layerNormEps: number;
  padTokenId: number;
  positionStyle: PositionStyle;
  initializerRange: number;
  /** Ordered label names from id2label/label2id, if the file names labels. */
  labels?: string[];
  /** The file's JSON as read. */
  raw: JsonObject;
}

/** Field readers for one config file: errors name the file and the key. */
export class ConfigReader {
  constructor(
    readonly json: JsonObject,
    readonly source: string,
  ) {}

  static parse(json: unknown, source: string): ConfigReader {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CheckpointError('must contain a JSON object', { file: source });
    return new ConfigReader(json as JsonObject, source);
  }

  fail(field: string, detail: string): never {
    throw new CheckpointError(detail, { file: this.source, field });
  }

  has(field: string): boolean {
    return Object.hasOwn(this.json, field) && this.json[field] !== null;
  }

  integer(field: string, fallback: number, min: number): number {
    const value = Object.hasOwn(this.json, field) ? this.json[field] : fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) this.fail(field, `must be an integer >= ${min}, got ${JSON.stringify(value)}`);
    return value;
  }

  probability(field: string, fallback: number): number {
    const value = Object.hasOwn(this.json, field) && this.json[field] !== null ? this.json[field] : fallback;
    if (typeof value !== 'number' || !(value >= 0 && value < 1)) this.fail(field, `must be a probability in [0, 1), got ${JSON.stringify(value)}`);
    return value;
  }

  positive(field: string, fallback: number): number {
    const value = Object.hasOwn(this.json, field) ? this.json[field] : fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) this.fail(field, `must be a finite number > 0, got ${JSON.stringify(value)}`);
    return value;
  }

  activation(field: string, fallback: Activation): Activation {
    const value = Object.hasOwn(this.json, field) ? this.json[field] : fallback;
    return parseActivation(value, field, this.source);
  }

  /** A key that must be absent or have one of `allowed` values (features we do not implement). */
  only(field: string, allowed: readonly unknown[], why: string): void {
    if (Object.hasOwn(this.json, field) && this.json[field] !== null && !allowed.includes(this.json[field])) {
      this.fail(field, `${why}, got ${JSON.stringify(this.json[field])}`);
    }
  }

  /** model_type must be `expected` when present. */
  modelType(expected: string): void {
    if (this.json.model_type !== undefined && this.json.model_type !== expected) this.fail('model_type', `must be "${expected}", got ${JSON.stringify(this.json.model_type)}`);
  }

  /** id2label / label2id as an ordered list, checking ids 0..n−1, that the maps agree, and num_labels. */
  labels(): string[] | undefined {
    const { id2label, label2id } = this.json;
    let labels: string[] | undefined;
    if (id2label !== undefined && id2label !== null) {
      if (typeof id2label !== 'object' || Array.isArray(id2label)) this.fail('id2label', 'must be an object {"0": "label", …}');
      const entries = Object.entries(id2label as JsonObject);
      labels = new Array<string>(entries.length);
      for (const [key, name] of entries) {
        const id = Number(key);
        if (!/^(0|[1-9][0-9]*)$/.test(key) || id >= entries.length) this.fail('id2label', `keys must be the ids 0..${entries.length - 1}, got "${key}"`);
        if (typeof name !== 'string' || name.length === 0) this.fail('id2label', `label of id ${key} must be a non-empty string`);
        labels[id] = name;
      }
      if (new Set(labels).size !== labels.length) this.fail('id2label', 'has duplicate label names');
    }
    if (label2id !== undefined && label2id !== null) {
      if (typeof label2id !== 'object' || Array.isArray(label2id)) this.fail('label2id', 'must be an object {"label": 0, …}');
      const entries = Object.entries(label2id as JsonObject);
      const fromLabel2id = new Array<string>(entries.length);
      for (const [name, id] of entries) {
        if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= entries.length || fromLabel2id[id] !== undefined) {
          this.fail('label2id', `ids must be distinct integers 0..${entries.length - 1}, got ${JSON.stringify(id)} for "${name}"`);
        }
        fromLabel2id[id] = name;
      }
      if (labels === undefined) labels = fromLabel2id;
      else if (labels.length !== fromLabel2id.length || labels.some((name, id) => fromLabel2id[id] !== name)) this.fail('label2id', 'disagrees with id2label');
    }
    if (this.has('num_labels')) {
      const count = this.integer('num_labels', 2, 1);
      if (labels !== undefined && labels.length !== count) this.fail('num_labels', `(${count}) disagrees with id2label (${labels.length} labels)`);
    }
    return labels;
  }

  /** Rejects configurations that would compute something other than a plain bidirectional encoder. */
  encoderOnly(): void {
    this.only('position_embedding_type', ['absolute'], 'only "absolute" position embeddings are supported');
    for (const flag of ['is_decoder', 'add_cross_attention']) this.only(flag, [false], 'must be false (only encoders are supported)');
    this.only('problem_type', ['single_label_classification'], 'only "single_label_classification" is supported');
  }
}

/** HF writes LABEL_0 … when a config has no real label names; those carry no information. */
export function arePlaceholderLabels(labels: readonly string[]): boolean {
  return labels.every((name, id) => name === `LABEL_${id}`);
}

export function checkHeads(reader: ConfigReader, hidden: number, heads: number, hiddenField: string): void {
  if (hidden % heads !== 0) reader.fail(hiddenField, `(${hidden}) must be a multiple of the number of attention heads (${heads})`);
}

/** config.json text: the original keys, then `overrides` (labels as HF writes them: string ids). */
export function configJson(config: EncoderConfig, overrides: JsonObject, labels?: readonly string[]): string {
  const json: JsonObject = { ...config.raw, ...overrides };
  delete json.num_labels;
  if (labels !== undefined) {
    json.id2label = Object.fromEntries(labels.map((name, id) => [String(id), name]));
    json.label2id = Object.fromEntries(labels.map((name, id) => [name, id]));
  }
  return JSON.stringify(json, null, 2) + '\n';
}
