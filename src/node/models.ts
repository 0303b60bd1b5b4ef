/** A trained model directory ready for inference: model, tokenizer and label names. */
import { buildModel, readConfig, type BuildModelOptions } from '../app/checkpoint.js';
import { CheckpointError } from '../core/errors.js';
import type { ModelFamily, TaskName } from '../models/index.js';
import type { TaskModel } from '../tasks/model.js';
import { loadTokenizer, type Tokenizer } from '../tokenizers/index.js';
import { readConfigJson, readTokenizerFiles, readWeights } from './checkpoint.js';

export interface LoadedModel<M> {
  model: M;
  tokenizer: Tokenizer;
  labels: string[];
  modelType: string;
}

/** The masking of a masked-LM model loaded only to predict: asking it for masks is a bug. */
const NO_TRAINING_MASK = () => {
  throw new CheckpointError('this model was loaded for prediction only: it has no masking');
};

/**
 * Reads `dir` (config.json, model.safetensors, tokenizer files) as a `task` model; labels from
 * id2label. A masked-LM model evaluates with `mask` (its fixed evaluation masks); without one it
 * only predicts (fill-mask).
 */
export async function loadTrainedModel<M extends TaskModel<unknown>>(dir: string, task: TaskName, options: { mask?: BuildModelOptions['mask'] } = {}): Promise<LoadedModel<M>> {
  const { json, file } = await readConfigJson(dir);
  const { family, config } = readConfig(json, file);
  const tokenizer = loadTokenizer(await readTokenizerFiles(dir), family.modelType, dir);
  const weights = await readWeights(dir);
  if (weights === undefined) throw new CheckpointError('has no model.safetensors: a trained model directory is needed (e.g. the --out of train)', { file: dir });
  const labels = task === 'masked-lm' ? [] : (config.labels ?? []);
  if (task !== 'masked-lm' && labels.length === 0) throw new CheckpointError('has no id2label: not a trained classifier (train one first)', { file, field: 'id2label' });
  const { model, report } = buildModel(family, config, { task, labels, tensors: weights.tensors, source: weights.file, ...(task === 'masked-lm' ? { mask: options.mask ?? NO_TRAINING_MASK } : {}) });
  // A head that the checkpoint lacks would be random: predictions from it would mean nothing.
  const missing = report.initialized;
  if (missing.length > 0) {
    model.dispose();
    throw new CheckpointError(`has no ${task} head (missing ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}): ${describeArchitecture(json)}`, { file: weights.file });
  }
  return { model: model as M, tokenizer, labels, modelType: family.modelType };
}

function describeArchitecture(json: unknown): string {
  const architecture = architectureOf(json);
  return architecture === undefined ? 'train one first' : `its config.json names ${architecture}`;
}

function architectureOf(json: unknown): string | undefined {
  const architectures = (json as { architectures?: unknown } | null)?.architectures;
  return Array.isArray(architectures) && typeof architectures[0] === 'string' ? architectures[0] : undefined;
}

/** The task whose head config.json's `architectures` names (`BertForTokenClassification` → token-classification), if any. */
export function taskOfConfig(family: ModelFamily, json: unknown): TaskName | undefined {
  const architecture = architectureOf(json);
  if (architecture === undefined) return undefined;
  for (const [task, head] of Object.entries(family.heads)) if (head?.architecture === architecture) return task as TaskName;
  return undefined;
}

/** The task of a trained model directory, from its config.json: what eval and predict run. */
export async function modelTask(dir: string): Promise<TaskName> {
  const { json, file } = await readConfigJson(dir);
  const { family } = readConfig(json, file);
  // A directory without a known head architecture is read as a classifier, as before tasks existed.
  return taskOfConfig(family, json) ?? 'sequence-classification';
}
