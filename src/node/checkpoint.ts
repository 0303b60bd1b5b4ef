/**
 * Hugging Face checkpoint directories on disk: `config.json` + `model.safetensors` (+ tokenizer
 * files). Reading validates everything before anything is allocated (src/core/safetensors.ts);
 * writing replaces the directory atomically (src/node/atomic.ts).
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE, WEIGHTS_FILE, modelConfigJson, modelWeightsChunks } from '../app/checkpoint.js';
import { CheckpointError } from '../core/errors.js';
import { parseSafetensors, type SafetensorsTensor } from '../core/safetensors.js';
import type { TaskModel } from '../tasks/model.js';
import { replaceDirectory, writeDurable, type FileContent } from './atomic.js';

/** Tokenizer files a checkpoint may carry; copied with the model when present. */
export const TOKENIZER_FILES = ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt'] as const;

/** Weight formats microbatch cannot read, with the fix. */
const OTHER_WEIGHTS = ['pytorch_model.bin', 'tf_model.h5', 'flax_model.msgpack'];
/** The index of sharded safetensors (`save_pretrained` of large models). */
const SHARD_INDEX = 'model.safetensors.index.json';

export async function readFileOrFail(file: string, what: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CheckpointError(`${what} not found`, { file });
    if (code === 'EISDIR') throw new CheckpointError(`is a directory, expected ${what}`, { file });
    throw new CheckpointError(`cannot read ${what} (${(error as Error).message})`, { file });
  }
}

/** `dir`'s config.json as JSON (no TF.js needed). */
export async function readConfigJson(dir: string): Promise<{ json: unknown; file: string }> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch {
    throw new CheckpointError('model directory not found', { file: dir });
  }
  if (!stat.isDirectory()) throw new CheckpointError('not a directory (expected a Hugging Face model directory)', { file: dir });
  const file = path.join(dir, CONFIG_FILE);
  const text = (await readFileOrFail(file, `${CONFIG_FILE} (is ${dir} a Hugging Face model directory?)`)).toString('utf8');
  try {
    return { json: JSON.parse(text), file };
  } catch (error) {
    throw new CheckpointError(`not valid JSON (${(error as Error).message})`, { file });
  }
}

/**
 * `dir`'s weights, or undefined for a directory with a config.json and no weights (a model to
 * initialise, like the embedded default). Other weight formats get an error naming the fix.
 */
export async function readWeights(dir: string): Promise<{ tensors: Map<string, SafetensorsTensor>; file: string } | undefined> {
  const file = path.join(dir, WEIGHTS_FILE);
  if (!existsSync(file)) {
    if (existsSync(path.join(dir, SHARD_INDEX))) return readShards(dir);
    const other = OTHER_WEIGHTS.find((name) => existsSync(path.join(dir, name)));
    if (other === undefined) return undefined;
    throw new CheckpointError(`only safetensors weights are supported, this directory has ${other}: convert it with transformers' model.save_pretrained(dir, safe_serialization=True)`, {
      file: path.join(dir, other),
    });
  }
  return { tensors: await readSafetensorsFile(file), file };
}

async function readSafetensorsFile(file: string): Promise<Map<string, SafetensorsTensor>> {
  const bytes = await readFileOrFail(file, 'weights');
  return parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file).tensors;
}

/** Sharded safetensors: the index's `weight_map` names each tensor's shard; every shard is read and checked. */
async function readShards(dir: string): Promise<{ tensors: Map<string, SafetensorsTensor>; file: string }> {
  const indexFile = path.join(dir, SHARD_INDEX);
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse((await readFileOrFail(indexFile, 'shard index')).toString('utf8')) as { weight_map?: unknown }).weight_map;
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    throw new CheckpointError(`not valid JSON (${(error as Error).message})`, { file: indexFile });
  }
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) throw new CheckpointError('must map tensor names to shard files', { file: indexFile, field: 'weight_map' });
  const shards = new Set(Object.values(weightMap as Record<string, unknown>));
  const tensors = new Map<string, SafetensorsTensor>();
  for (const shard of shards) {
    if (typeof shard !== 'string' || shard === '' || shard.includes('/') || shard.includes('\\') || shard === '..') {
      throw new CheckpointError(`names a shard that is not a plain file name: ${JSON.stringify(shard)}`, { file: indexFile, field: 'weight_map' });
    }
    for (const [name, tensor] of await readSafetensorsFile(path.join(dir, shard))) {
      if ((weightMap as Record<string, unknown>)[name] !== shard) throw new CheckpointError(`holds tensor "${name}" that the index places elsewhere`, { file: path.join(dir, shard) });
      tensors.set(name, tensor);
    }
  }
  for (const name of Object.keys(weightMap as object)) if (!tensors.has(name)) throw new CheckpointError(`names tensor "${name}", which its shard lacks`, { file: indexFile, field: 'weight_map' });
  return { tensors, file: indexFile };
}

/** The tokenizer files present in `dir`, as text. */
export async function readTokenizerFiles(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of TOKENIZER_FILES) {
    const file = path.join(dir, name);
    if (existsSync(file)) files[name] = (await readFileOrFail(file, name)).toString('utf8');
  }
  return files;
}

export interface SaveCheckpointOptions {
  /** Tokenizer files to write with the model (name → content). */
  tokenizerFiles?: Record<string, string>;
  /** More files (training state, optimizer moments), by plain file name. */
  extraFiles?: Record<string, FileContent>;
}

/** The files of a checkpoint of `model`, by name. */
export function checkpointFiles(model: TaskModel<unknown>, options: SaveCheckpointOptions = {}): Map<string, FileContent> {
  const files = new Map<string, FileContent>([
    [CONFIG_FILE, modelConfigJson(model)],
    [WEIGHTS_FILE, modelWeightsChunks(model)],
  ]);
  for (const [name, content] of Object.entries(options.tokenizerFiles ?? {})) files.set(name, content);
  for (const [name, content] of Object.entries(options.extraFiles ?? {})) {
    if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) throw new CheckpointError(`extra checkpoint file name must be a plain file name, got ${JSON.stringify(name)}`);
    if (files.has(name)) throw new CheckpointError(`extra checkpoint file must not replace ${name}`);
    files.set(name, content);
  }
  return files;
}

/** Writes `model` as an HF checkpoint directory `dir`, atomically (dir is never a partial checkpoint). */
export async function saveCheckpoint(dir: string, model: TaskModel<unknown>, options: SaveCheckpointOptions = {}): Promise<void> {
  const files = checkpointFiles(model, options);
  try {
    await replaceDirectory(dir, async (temporary) => {
      for (const [name, content] of files) await writeDurable(path.join(temporary, name), content);
    });
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    throw new CheckpointError(`cannot write the checkpoint (${(error as Error).message})`, { file: dir });
  }
}
