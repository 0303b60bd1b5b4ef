/**
 * Hugging Face checkpoint directories: `config.json` + `model.safetensors` (+ tokenizer files,
 * which this module only copies; the tokenizer module reads them).
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { CheckpointError, ConfigError } from '../core/errors.js';
import { parseBertConfig, serializeBertConfig, type BertConfig } from './config.js';
import { BertForSequenceClassification } from './model.js';
import { parseSafetensors, serializeSafetensors } from '../core/safetensors.js';
import { bertParameterSpecs, selectCheckpointTensors, type LoadReport } from './weights.js';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
/** Tokenizer files copied from `tokenizerFilesFrom` when present there. */
export const TOKENIZER_FILES = ['vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'tokenizer.json'] as const;

export interface LoadCheckpointOptions {
  /** Label names to use when config.json has none (or only HF's placeholder names LABEL_0 …), e.g. the sorted data labels. */
  labels?: readonly string[];
  /** Number of labels when neither config.json nor `labels` names them (they become LABEL_0 …). */
  numLabels?: number;
  /** Overrides every dropout probability of the config. */
  dropout?: number;
  /** Seed of the fresh initialisation of a missing classifier / pooler. */
  seed?: number;
}

export interface LoadedCheckpoint {
  model: BertForSequenceClassification;
  config: BertConfig;
  labels: string[];
  report: LoadReport;
}

async function readFileOrFail(file: string, what: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CheckpointError(`${file}: ${what} not found`);
    throw new CheckpointError(`${file}: cannot read ${what} (${(error as Error).message})`);
  }
}

/** HF writes LABEL_0 … when a config has no real label names; those carry no information. */
function arePlaceholderLabels(labels: readonly string[]): boolean {
  return labels.every((name, id) => name === `LABEL_${id}`);
}

function placeholderLabels(count: number): string[] {
  return Array.from({ length: count }, (_, id) => `LABEL_${id}`);
}

/**
 * Which labels the classifier predicts: config.json's id2label/label2id when they are real
 * names, else the caller's `labels`, else config.json's placeholders, else `numLabels` /
 * `num_labels` placeholders (HF's default is 2).
 */
function resolveLabels(config: BertConfig, options: LoadCheckpointOptions): string[] {
  if (options.labels !== undefined) {
    if (options.labels.length === 0) throw new ConfigError('labels must not be empty');
    if (new Set(options.labels).size !== options.labels.length) throw new ConfigError('labels must be distinct');
  }
  if (config.labels !== undefined && !arePlaceholderLabels(config.labels)) return [...config.labels];
  if (options.labels !== undefined) return [...options.labels];
  if (config.labels !== undefined) return [...config.labels];
  const count = options.numLabels ?? config.num_labels ?? 2;
  if (!Number.isSafeInteger(count) || count < 1) throw new ConfigError(`numLabels must be an integer >= 1, got ${count}`);
  return placeholderLabels(count);
}

/**
 * Loads a BertForSequenceClassification (or bare BertModel, whose head is then initialised
 * freshly) from an HF checkpoint directory. `report` lists ignored tensors and fresh parameters.
 */
export async function loadBertCheckpoint(dir: string, options: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch {
    throw new CheckpointError(`${dir}: checkpoint directory not found`);
  }
  if (!stat.isDirectory()) throw new CheckpointError(`${dir}: not a directory (expected an HF checkpoint directory)`);
  const configFile = path.join(dir, CONFIG_FILE);
  const configText = (await readFileOrFail(configFile, 'config')).toString('utf8');
  let configJson: unknown;
  try {
    configJson = JSON.parse(configText);
  } catch (error) {
    throw new CheckpointError(`${configFile}: not valid JSON (${(error as Error).message})`);
  }
  const config = parseBertConfig(configJson, configFile);
  const labels = resolveLabels(config, options);

  const weightsFile = path.join(dir, WEIGHTS_FILE);
  const weightBytes = await readFileOrFail(weightsFile, 'weights (only model.safetensors is supported; convert pytorch_model.bin with HF save_pretrained(safe_serialization=True))');
  const { tensors } = parseSafetensors(new Uint8Array(weightBytes.buffer, weightBytes.byteOffset, weightBytes.byteLength), weightsFile);
  const { values, report } = selectCheckpointTensors(bertParameterSpecs(config, labels.length), tensors, weightsFile);
  const model = BertForSequenceClassification.fromWeights(config, values, {
    numLabels: labels.length,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.dropout !== undefined ? { dropout: options.dropout } : {}),
  });
  return { model, config, labels, report };
}

export interface SaveCheckpointOptions {
  /** Label names by class index (written as id2label / label2id). */
  labels: readonly string[];
  /** Directory whose tokenizer files (vocab.txt, tokenizer_config.json, …) are copied when present. */
  tokenizerFilesFrom?: string;
  /** More files to write into the checkpoint (e.g. training state), by plain file name. */
  extraFiles?: Record<string, string | Uint8Array>;
}

/** Writes `data` and flushes it to disk, so that the rename that publishes it follows complete content. */
async function writeDurably(file: string, data: string | Uint8Array): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function checkFileName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\') || name.includes('\0')) {
    throw new ConfigError(`extra checkpoint file name must be a plain file name, got ${JSON.stringify(name)}`);
  }
  if (name === CONFIG_FILE || name === WEIGHTS_FILE) throw new ConfigError(`extra checkpoint file must not replace ${name}`);
}

/**
 * Saves `model` as an HF checkpoint directory `dir` (config.json, model.safetensors in F32 with
 * HF names and [out, in] layouts, tokenizer files, extra files), atomically:
 *
 * 1. everything is written and fsynced into a fresh sibling `<dir>.tmp-<random>`;
 * 2. an existing `dir` is renamed to `<dir>.old-<random>`, the new directory renamed to `dir`;
 * 3. the old directory is removed.
 *
 * Crash semantics: before step 2 `dir` is untouched (a stray `.tmp-` sibling may remain); between
 * the two renames of step 2 `dir` is briefly absent while both complete versions exist as
 * siblings; after it `dir` is the complete new checkpoint. `dir` is never a partial checkpoint.
 */
export async function saveBertCheckpoint(dir: string, model: BertForSequenceClassification, options: SaveCheckpointOptions): Promise<void> {
  const { labels } = options;
  if (labels.length !== model.numLabels) {
    throw new ConfigError(`saveBertCheckpoint: ${labels.length} labels given for a model with ${model.numLabels} classes`);
  }
  if (new Set(labels).size !== labels.length) throw new ConfigError('saveBertCheckpoint: labels must be distinct');
  const extraFiles = Object.entries(options.extraFiles ?? {});
  for (const [name] of extraFiles) checkFileName(name);

  const target = path.resolve(dir);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temporary = `${target}.tmp-${suffix}`;
  await fs.mkdir(temporary);
  try {
    await writeDurably(path.join(temporary, CONFIG_FILE), serializeBertConfig(model.config, labels));
    await writeDurably(path.join(temporary, WEIGHTS_FILE), serializeSafetensors(model.exportWeights()));
    if (options.tokenizerFilesFrom !== undefined) {
      for (const name of TOKENIZER_FILES) {
        const source = path.join(options.tokenizerFilesFrom, name);
        try {
          await fs.copyFile(source, path.join(temporary, name), fsConstants.COPYFILE_EXCL);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
    }
    for (const [name, data] of extraFiles) await writeDurably(path.join(temporary, name), data);
  } catch (error) {
    await fs.rm(temporary, { recursive: true, force: true });
    throw error instanceof CheckpointError || error instanceof ConfigError
      ? error
      : new CheckpointError(`${target}: cannot write checkpoint (${(error as Error).message})`);
  }

  const previous = `${target}.old-${suffix}`;
  let hadPrevious = true;
  try {
    await fs.rename(target, previous);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      await fs.rm(temporary, { recursive: true, force: true });
      throw new CheckpointError(`${target}: cannot replace the existing checkpoint (${(error as Error).message})`);
    }
    hadPrevious = false;
  }
  await fs.rename(temporary, target);
  if (hadPrevious) await fs.rm(previous, { recursive: true, force: true });
}
