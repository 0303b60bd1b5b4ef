import { CheckpointError } from '../core/errors.js';

/** Activations of the feed-forward block that this implementation computes exactly as HF does. */
export type HiddenAct = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu';
const HIDDEN_ACTS: readonly HiddenAct[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'];

/**
 * Hugging Face `BertConfig` (the keys of `config.json`), with HF's defaults. Labels are kept as
 * an ordered list (`labels[id]`), read from `id2label` / `label2id`; `undefined` when the file has none.
 */
export interface BertConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: HiddenAct;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
  pad_token_id: number;
  /** `null` means "use hidden_dropout_prob", as in HF. */
  classifier_dropout: number | null;
  /** Ordered label names from id2label/label2id, or undefined when config.json has none. */
  labels?: string[];
  /** `num_labels` as written in the file (HF accepts it as a constructor argument), when present. */
  num_labels?: number;
  /** Keys we do not interpret (transformers_version, tokenizer_class …), written back unchanged. */
  extra: Record<string, unknown>;
}

/** HF BertConfig defaults (bert-base-uncased sizes). */
export const BERT_CONFIG_DEFAULTS: Readonly<Omit<BertConfig, 'labels' | 'num_labels' | 'extra'>> = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  classifier_dropout: null,
};

/** Keys whose value we interpret or rewrite on save; everything else goes to `extra`. */
const HANDLED_KEYS = new Set([
  ...Object.keys(BERT_CONFIG_DEFAULTS),
  'id2label',
  'label2id',
  'num_labels',
  'problem_type',
  'model_type',
  'architectures',
  'position_embedding_type',
  'is_decoder',
  'add_cross_attention',
]);

type JsonObject = Record<string, unknown>;

/** The value of `field`, or its HF default when absent (an explicit null is a value, and invalid for numbers). */
function valueOrDefault(json: JsonObject, field: keyof typeof BERT_CONFIG_DEFAULTS): unknown {
  return Object.hasOwn(json, field) ? json[field] : BERT_CONFIG_DEFAULTS[field];
}

function fail(source: string, field: string, message: string): never {
  throw new CheckpointError(`${source}: field "${field}" ${message}`);
}

function readInteger(json: JsonObject, source: string, field: keyof typeof BERT_CONFIG_DEFAULTS, min: number): number {
  const value = valueOrDefault(json, field);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail(source, field, `must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function readProbability(json: JsonObject, source: string, field: 'hidden_dropout_prob' | 'attention_probs_dropout_prob'): number {
  const value = valueOrDefault(json, field);
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    fail(source, field, `must be a probability in [0, 1), got ${JSON.stringify(value)}`);
  }
  return value;
}

function readPositive(json: JsonObject, source: string, field: 'initializer_range' | 'layer_norm_eps'): number {
  const value = valueOrDefault(json, field);
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(source, field, `must be a finite number > 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Reads id2label / label2id into an ordered list, checking ids 0..n-1 and that the two maps agree. */
function readLabels(json: JsonObject, source: string): string[] | undefined {
  const id2label = json.id2label;
  const label2id = json.label2id;
  let labels: string[] | undefined;
  if (id2label !== undefined && id2label !== null) {
    if (typeof id2label !== 'object' || Array.isArray(id2label)) fail(source, 'id2label', 'must be an object {"0": "label", …}');
    const entries = Object.entries(id2label as JsonObject);
    labels = new Array<string>(entries.length);
    for (const [key, name] of entries) {
      const id = Number(key);
      if (!/^(0|[1-9][0-9]*)$/.test(key) || id >= entries.length) {
        fail(source, 'id2label', `keys must be the ids 0..${entries.length - 1}, got "${key}"`);
      }
      if (typeof name !== 'string' || name.length === 0) fail(source, 'id2label', `label of id ${key} must be a non-empty string`);
      labels[id] = name;
    }
    if (new Set(labels).size !== labels.length) fail(source, 'id2label', 'has duplicate label names');
  }
  if (label2id !== undefined && label2id !== null) {
    if (typeof label2id !== 'object' || Array.isArray(label2id)) fail(source, 'label2id', 'must be an object {"label": 0, …}');
    const entries = Object.entries(label2id as JsonObject);
    const fromLabel2id = new Array<string>(entries.length);
    for (const [name, id] of entries) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= entries.length || fromLabel2id[id] !== undefined) {
        fail(source, 'label2id', `ids must be distinct integers 0..${entries.length - 1}, got ${JSON.stringify(id)} for "${name}"`);
      }
      fromLabel2id[id] = name;
    }
    if (labels === undefined) {
      labels = fromLabel2id;
    } else if (labels.length !== fromLabel2id.length || labels.some((name, id) => fromLabel2id[id] !== name)) {
      fail(source, 'label2id', 'disagrees with id2label');
    }
  }
  return labels;
}

/**
 * Validates a parsed `config.json` (`source` names the file in error messages) and fills HF's
 * defaults. Rejects configurations this implementation would compute differently from HF
 * (relative positions, decoders, unknown activations) instead of silently diverging.
 */
export function parseBertConfig(json: unknown, source: string): BertConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError(`${source}: must contain a JSON object`);
  }
  const obj = json as JsonObject;
  if (obj.model_type !== undefined && obj.model_type !== 'bert') {
    fail(source, 'model_type', `must be "bert", got ${JSON.stringify(obj.model_type)}`);
  }
  if (obj.position_embedding_type !== undefined && obj.position_embedding_type !== 'absolute') {
    fail(source, 'position_embedding_type', `only "absolute" is supported, got ${JSON.stringify(obj.position_embedding_type)}`);
  }
  for (const flag of ['is_decoder', 'add_cross_attention'] as const) {
    if (obj[flag] !== undefined && obj[flag] !== false) fail(source, flag, 'must be false (only encoder classifiers are supported)');
  }
  if (obj.problem_type !== undefined && obj.problem_type !== null && obj.problem_type !== 'single_label_classification') {
    fail(source, 'problem_type', `only "single_label_classification" is supported, got ${JSON.stringify(obj.problem_type)}`);
  }
  const hiddenAct = valueOrDefault(obj, 'hidden_act');
  if (!HIDDEN_ACTS.includes(hiddenAct as HiddenAct)) {
    fail(source, 'hidden_act', `must be one of ${HIDDEN_ACTS.join(', ')}, got ${JSON.stringify(hiddenAct)}`);
  }
  const classifierDropout = obj.classifier_dropout ?? null;
  if (classifierDropout !== null && (typeof classifierDropout !== 'number' || !(classifierDropout >= 0 && classifierDropout < 1))) {
    fail(source, 'classifier_dropout', `must be null or a probability in [0, 1), got ${JSON.stringify(classifierDropout)}`);
  }
  const config: BertConfig = {
    vocab_size: readInteger(obj, source, 'vocab_size', 1),
    hidden_size: readInteger(obj, source, 'hidden_size', 1),
    num_hidden_layers: readInteger(obj, source, 'num_hidden_layers', 0),
    num_attention_heads: readInteger(obj, source, 'num_attention_heads', 1),
    intermediate_size: readInteger(obj, source, 'intermediate_size', 1),
    hidden_act: hiddenAct as HiddenAct,
    hidden_dropout_prob: readProbability(obj, source, 'hidden_dropout_prob'),
    attention_probs_dropout_prob: readProbability(obj, source, 'attention_probs_dropout_prob'),
    max_position_embeddings: readInteger(obj, source, 'max_position_embeddings', 1),
    type_vocab_size: readInteger(obj, source, 'type_vocab_size', 1),
    initializer_range: readPositive(obj, source, 'initializer_range'),
    layer_norm_eps: readPositive(obj, source, 'layer_norm_eps'),
    pad_token_id: readInteger(obj, source, 'pad_token_id', 0),
    classifier_dropout: classifierDropout as number | null,
    extra: Object.fromEntries(Object.entries(obj).filter(([key]) => !HANDLED_KEYS.has(key))),
  };
  if (config.hidden_size % config.num_attention_heads !== 0) {
    fail(source, 'hidden_size', `(${config.hidden_size}) must be a multiple of num_attention_heads (${config.num_attention_heads})`);
  }
  const labels = readLabels(obj, source);
  if (labels !== undefined) config.labels = labels;
  if (obj.num_labels !== undefined) {
    const numLabels = obj.num_labels;
    if (typeof numLabels !== 'number' || !Number.isSafeInteger(numLabels) || numLabels < 1) {
      fail(source, 'num_labels', `must be an integer >= 1, got ${JSON.stringify(numLabels)}`);
    }
    if (labels !== undefined && labels.length !== numLabels) {
      fail(source, 'num_labels', `(${numLabels}) disagrees with id2label (${labels.length} labels)`);
    }
    config.num_labels = numLabels;
  }
  return config;
}

/**
 * `config.json` text for a `BertForSequenceClassification` with these labels, loadable by HF
 * transformers (string keys in id2label, problem_type fixed so that one label is not read as regression).
 */
export function serializeBertConfig(config: BertConfig, labels: readonly string[]): string {
  const { labels: _ignoredLabels, num_labels: _ignoredCount, extra, ...sizes } = config;
  const json: Record<string, unknown> = {
    ...extra,
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    ...sizes,
    position_embedding_type: 'absolute',
    problem_type: 'single_label_classification',
    id2label: Object.fromEntries(labels.map((name, id) => [String(id), name])),
    label2id: Object.fromEntries(labels.map((name, id) => [name, id])),
  };
  return JSON.stringify(json, null, 2) + '\n';
}
