/**
 * A sequence-classification fine-tuning run prepared from file CONTENTS: a model folder whose
 * files the caller can read by name (a dropped folder in a browser, a directory in Node) and
 * labelled data as text. It does what `microbatch train` does before training, in the same
 * order and with the same errors (src/node/finetune.ts, src/node/tasks.ts, src/node/checkpoint.ts):
 * config.json → family → tokenizer → data and labels → weights → model. Training itself is
 * `trainModel` (run.ts); `checkpointContents` gives the HF checkpoint back as bytes.
 */
import { CheckpointError, ConfigError, DataError } from '../core/errors.js';
import { parseSafetensors, type SafetensorsTensor } from '../core/safetensors.js';
import type { EncoderConfig, ModelFamily } from '../models/index.js';
import type { SequenceClassifier } from '../tasks/model.js';
import { loadTokenizer, TOKENIZER_FILE_NAMES, type Tokenizer, type TokenizerFiles } from '../tokenizers/index.js';
import { buildModel, chooseTrainingLabels, CONFIG_FILE, modelConfigJson, modelWeightsChunks, readConfig, WEIGHTS_FILE, type LabelChoice } from './checkpoint.js';
import { buildLabelMap, encodeRows, lengthStats, parseLabelledText, type EncodedRow } from './data/index.js';
import { evaluateClassifier } from './evaluate.js';

/** A model folder: the names of its files and a way to read one (only the files a run needs are read). */
export interface ModelFolder {
  /** The folder's name in messages: files are named `${source}/${name}`. */
  source: string;
  /** Plain file names present in the folder. */
  names: readonly string[];
  read(name: string): Promise<Uint8Array>;
}

/** A labelled data file: its name in messages and its text. */
export interface DataContent {
  file: string;
  content: string;
}

export interface PrepareSettings {
  textField: string;
  labelField: string;
  /** Tokens per sample including the special tokens. */
  maxLength: number;
  /** Seed of the initialisation of new weights (a config-only folder, a new head). */
  seed: number;
  /** Overrides every dropout probability of the config. */
  dropout?: number;
}

/** What a model folder holds, read and checked (no TF.js needed). */
export interface ModelFolderContents {
  family: ModelFamily;
  config: EncoderConfig;
  configFile: string;
  tokenizer: Tokenizer;
  /** The folder's tokenizer files as text: a checkpoint carries them unchanged. */
  tokenizerFiles: Record<string, string>;
  /** The weights, or undefined for a folder with only a config (a new model is initialised). */
  weights?: { tensors: Map<string, SafetensorsTensor>; file: string };
}

export interface PreparedClassificationRun extends Omit<ModelFolderContents, 'weights'> {
  model: SequenceClassifier;
  labels: string[];
  labelChoice: LabelChoice;
  train: EncodedRow[];
  eval?: EncodedRow[];
  /** What the CLI logs before training, in its words (`data: …`, `model: …`). */
  notices: string[];
}

/** Weight formats microbatch cannot read (as the CLI says). */
const OTHER_WEIGHTS = ['pytorch_model.bin', 'tf_model.h5', 'flax_model.msgpack'];
const SHARD_INDEX = 'model.safetensors.index.json';

const utf8 = new TextDecoder('utf-8');

async function readText(folder: ModelFolder, name: string): Promise<string> {
  return utf8.decode(await folder.read(name));
}

function parseJsonFile(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`not valid JSON (${(error as Error).message})`, { file });
  }
}

/** config.json, the tokenizer and the weights of a model folder, with the CLI's errors. */
export async function readModelFolder(folder: ModelFolder, dropout?: number): Promise<ModelFolderContents> {
  const contents = await readModelFiles(folder, dropout);
  const weights = await readFolderWeights(folder);
  return { ...contents, ...(weights !== undefined ? { weights } : {}) };
}

/** config.json and the tokenizer (the weights are read after the data, as the CLI does). */
async function readModelFiles(folder: ModelFolder, dropout?: number): Promise<Omit<ModelFolderContents, 'weights'>> {
  const present = new Set(folder.names);
  const configFile = `${folder.source}/${CONFIG_FILE}`;
  if (!present.has(CONFIG_FILE)) throw new CheckpointError(`${CONFIG_FILE} (is ${folder.source} a Hugging Face model directory?) not found`, { file: configFile });
  const configJson = parseJsonFile(await readText(folder, CONFIG_FILE), configFile);
  const { family, config } = readConfig(configJson, configFile, dropout);
  const tokenizerFiles: Record<string, string> = {};
  for (const name of TOKENIZER_FILE_NAMES) if (present.has(name)) tokenizerFiles[name] = await readText(folder, name);
  const tokenizer = loadTokenizer(tokenizerFiles as TokenizerFiles, family.modelType, folder.source);
  return { family, config, configFile, tokenizer, tokenizerFiles };
}

async function readSafetensors(folder: ModelFolder, name: string): Promise<Map<string, SafetensorsTensor>> {
  return parseSafetensors(await folder.read(name), `${folder.source}/${name}`).tensors;
}

async function readFolderWeights(folder: ModelFolder): Promise<ModelFolderContents['weights']> {
  const present = new Set(folder.names);
  if (present.has(WEIGHTS_FILE)) return { tensors: await readSafetensors(folder, WEIGHTS_FILE), file: `${folder.source}/${WEIGHTS_FILE}` };
  if (present.has(SHARD_INDEX)) return readShards(folder, present);
  const other = OTHER_WEIGHTS.find((name) => present.has(name));
  if (other === undefined) return undefined;
  throw new CheckpointError(`only safetensors weights are supported, this directory has ${other}: convert it with transformers' model.save_pretrained(dir, safe_serialization=True)`, {
    file: `${folder.source}/${other}`,
  });
}

/** Sharded safetensors: the index's `weight_map` names each tensor's shard (checks as src/node/checkpoint.ts). */
async function readShards(folder: ModelFolder, present: Set<string>): Promise<NonNullable<ModelFolderContents['weights']>> {
  const indexFile = `${folder.source}/${SHARD_INDEX}`;
  const weightMap = (parseJsonFile(await readText(folder, SHARD_INDEX), indexFile) as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) throw new CheckpointError('must map tensor names to shard files', { file: indexFile, field: 'weight_map' });
  const map = weightMap as Record<string, unknown>;
  const tensors = new Map<string, SafetensorsTensor>();
  for (const shard of new Set(Object.values(map))) {
    if (typeof shard !== 'string' || shard === '' || shard.includes('/') || shard.includes('\\') || shard === '..') {
      throw new CheckpointError(`names a shard that is not a plain file name: ${JSON.stringify(shard)}`, { file: indexFile, field: 'weight_map' });
    }
    if (!present.has(shard)) throw new CheckpointError('weights not found', { file: `${folder.source}/${shard}` });
    for (const [name, tensor] of await readSafetensors(folder, shard)) {
      if (map[name] !== shard) throw new CheckpointError(`holds tensor "${name}" that the index places elsewhere`, { file: `${folder.source}/${shard}` });
      tensors.set(name, tensor);
    }
  }
  for (const name of Object.keys(map)) if (!tensors.has(name)) throw new CheckpointError(`names tensor "${name}", which its shard lacks`, { file: indexFile, field: 'weight_map' });
  return { tensors, file: indexFile };
}

function describeLengths(rows: readonly EncodedRow[], maxLength: number): string {
  const stats = lengthStats(rows);
  return `${stats.minTokens}–${stats.maxTokens} tokens (mean ${stats.meanTokens.toFixed(1)}), ${stats.truncated} truncated to ${maxLength}`;
}

/**
 * Everything before training: the model folder, the data (train, and eval when given), the
 * labels (the checkpoint's when they cover the data's, else a new head) and the model. Every
 * input is checked before the model is built, so a bad file fails before any allocation.
 */
export async function prepareClassificationRun(folder: ModelFolder, train: DataContent, evalData: DataContent | undefined, settings: PrepareSettings): Promise<PreparedClassificationRun> {
  if (!(Number.isSafeInteger(settings.maxLength) && settings.maxLength >= 3)) {
    throw new ConfigError(`must be at least 3 (a token between the special tokens), got ${settings.maxLength}`, { field: 'maxLength' });
  }
  const contents = await readModelFiles(folder, settings.dropout);
  const fields = { textField: settings.textField, labelField: settings.labelField };
  const data = parseLabelledText(train.content, train.file, fields);
  const labelChoice = chooseTrainingLabels(contents.config, buildLabelMap(data).labels);
  const { labels, label2id } = buildLabelMap(data, labelChoice.labels);
  const rows = encodeRows(data, contents.tokenizer, { maxLength: settings.maxLength, label2id });
  const evalRows = evalData === undefined ? undefined : encodeRows(parseLabelledText(evalData.content, evalData.file, fields), contents.tokenizer, { maxLength: settings.maxLength, label2id });
  const weights = await readFolderWeights(folder);
  const built = buildModel(contents.family, contents.config, {
    task: 'sequence-classification',
    labels,
    ...(weights !== undefined ? { tensors: weights.tensors } : {}),
    freshHead: !labelChoice.keepHead,
    seed: settings.seed,
    source: weights?.file ?? contents.configFile,
  });
  const notices = [`data: ${train.file}: ${data.report.rowsRead} rows, labels ${labels.map((label, id) => `${id}=${label}`).join(' ')}, ${describeLengths(rows, settings.maxLength)}`];
  if (labelChoice.notice !== undefined) notices.push(`model: ${labelChoice.notice}`);
  if (weights === undefined) notices.push(`model: ${folder.source} has no model.safetensors: initialised a new ${contents.family.modelType} from config.json (seed ${settings.seed})`);
  else {
    notices.push(`model: loaded ${built.report.loaded} tensors from ${weights.file}`);
    if (built.report.initialized.length > 0) notices.push(`model: initialised fresh ${built.report.initialized.join(', ')}`);
  }
  return {
    ...contents,
    model: built.model as unknown as SequenceClassifier,
    labels,
    labelChoice,
    train: rows,
    ...(evalRows !== undefined ? { eval: evalRows } : {}),
    notices,
  };
}

/** An evaluation as summary.json's `eval` holds it, and the CLI's one-line form. */
export interface ClassificationEvaluation {
  summary: {
    accuracy: number;
    macro_f1: number;
    loss: number;
    samples: number;
    correct: number;
    labels: string[];
    per_label: Record<string, { precision: number; recall: number; f1: number; support: number }>;
    confusion_matrix: number[][];
  };
  line: string;
}

/** Accuracy, macro-F1, per-label scores and the confusion matrix of `model` on `samples` (as `microbatch train` reports them). */
export function evaluateClassification(model: Pick<SequenceClassifier, 'probabilities'>, samples: readonly EncodedRow[], labels: readonly string[], batchSize: number): ClassificationEvaluation {
  if (samples.length === 0) throw new DataError('no samples to evaluate');
  return classificationSummary(evaluateClassifier(model, samples, labels, batchSize));
}

/** summary.json's `eval` and the terminal line of a classifier's evaluation. */
export function classificationSummary(evaluation: ReturnType<typeof evaluateClassifier>): ClassificationEvaluation {
  const { report } = evaluation;
  return {
    summary: {
      accuracy: report.accuracy,
      macro_f1: report.macro_f1,
      loss: evaluation.loss,
      samples: report.samples,
      correct: evaluation.correct,
      labels: report.labels,
      per_label: Object.fromEntries(report.per_label.map(({ label, ...scores }) => [label, scores])),
      confusion_matrix: report.confusion,
    },
    line: `accuracy ${report.accuracy.toFixed(4)} (${evaluation.correct}/${report.samples}), macro-F1 ${report.macro_f1.toFixed(4)}`,
  };
}

/**
 * The trained model as an HF checkpoint, file name → bytes: config.json, model.safetensors and
 * the folder's tokenizer files (what `microbatch train` writes into its --out).
 */
export function checkpointContents(model: Parameters<typeof modelConfigJson>[0], tokenizerFiles: Readonly<Record<string, string>>): Map<string, Uint8Array> {
  const encoder = new TextEncoder();
  const chunks = modelWeightsChunks(model);
  const weights = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    weights.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const files = new Map<string, Uint8Array>([
    [CONFIG_FILE, encoder.encode(modelConfigJson(model))],
    [WEIGHTS_FILE, weights],
  ]);
  for (const [name, content] of Object.entries(tokenizerFiles)) files.set(name, encoder.encode(content));
  return files;
}
