/** A trained model directory ready for inference: model, tokenizer and label names. */
import { buildModel, readConfig } from '../app/checkpoint.js';
import { CheckpointError } from '../core/errors.js';
import type { TaskName } from '../models/index.js';
import type { TaskModel } from '../tasks/model.js';
import { loadTokenizer, type Tokenizer } from '../tokenizers/index.js';
import { readConfigJson, readTokenizerFiles, readWeights } from './checkpoint.js';

export interface LoadedModel<M> {
  model: M;
  tokenizer: Tokenizer;
  labels: string[];
  modelType: string;
}

/** Reads `dir` (config.json, model.safetensors, tokenizer files) as a `task` model; labels from id2label. */
export async function loadTrainedModel<M extends TaskModel<unknown>>(dir: string, task: TaskName): Promise<LoadedModel<M>> {
  const { json, file } = await readConfigJson(dir);
  const { family, config } = readConfig(json, file);
  const tokenizer = loadTokenizer(await readTokenizerFiles(dir), family.modelType, dir);
  const weights = await readWeights(dir);
  if (weights === undefined) throw new CheckpointError('has no model.safetensors: a trained model directory is needed (e.g. the --out of train)', { file: dir });
  const labels = task === 'masked-lm' ? [] : (config.labels ?? []);
  if (task !== 'masked-lm' && labels.length === 0) throw new CheckpointError('has no id2label: not a trained classifier (train one first)', { file, field: 'id2label' });
  const { model } = buildModel(family, config, { task, labels, tensors: weights.tensors, source: weights.file });
  return { model: model as M, tokenizer, labels, modelType: family.modelType };
}
