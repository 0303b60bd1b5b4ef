/**
 * Hugging Face checkpoints as content, not files (reading and writing directories is
 * src/node/checkpoint.ts; the web page uses File objects): config.json → family → model of a
 * task, with the labels a run trains, and back to config.json + model.safetensors.
 */
import { CheckpointError, ConfigError } from '../core/errors.js';
import { safetensorsChunks, type F32Tensor, type SafetensorsTensor } from '../core/safetensors.js';
import { ConfigReader, arePlaceholderLabels, configJson, getFamily, type EncoderConfig, type ModelFamily, type TaskName } from '../models/index.js';
import { canonicalNames, selectWeights, type LoadReport } from '../models/weights.js';
import { headSpecs } from '../tasks/head.js';
import { MaskedLanguageModel, SequenceClassifier, TokenClassifier, modelSpecs, taskHead, type MaskedInput, type ModelOptions, type TaskModel } from '../tasks/model.js';
import type { ArenaOptions } from '../train/store.js';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';

/** config.json's family and normalised config; `dropout` overrides every dropout probability. */
export function readConfig(json: unknown, source: string, dropout?: number): { family: ModelFamily; config: EncoderConfig } {
  const reader = ConfigReader.parse(json, source);
  const modelType = reader.json.model_type;
  if (typeof modelType !== 'string') return reader.fail('model_type', 'is missing: every Hugging Face config.json names its family (add e.g. "model_type": "bert")');
  const family = getFamily(modelType, source);
  const config = family.parseConfig(reader);
  if (dropout === undefined) return { family, config };
  if (!(dropout >= 0 && dropout < 1)) throw new ConfigError(`must be a probability in [0, 1), got ${dropout}`, { field: 'dropout' });
  return { family, config: { ...config, hiddenDropout: dropout, attentionDropout: dropout, classifierDropout: dropout } };
}

/** The config's label names, unless it has none or only HF's placeholders (LABEL_0 …). */
export function namedLabels(config: EncoderConfig): string[] | undefined {
  return config.labels !== undefined && !arePlaceholderLabels(config.labels) ? [...config.labels] : undefined;
}

export interface LabelChoice {
  labels: string[];
  /** The checkpoint's classification head fits these labels (else it is trained anew). */
  keepHead: boolean;
  notice?: string;
}

/**
 * The classes a fine-tuning run trains. The checkpoint's own labels when they name every label
 * of the data (its head is kept); otherwise the data's labels with a fresh head — as
 * `from_pretrained(..., ignore_mismatched_sizes=True)` does — and a one-line notice.
 */
export function chooseTrainingLabels(config: EncoderConfig, dataLabels: readonly string[]): LabelChoice {
  const named = namedLabels(config);
  if (named !== undefined) {
    if (dataLabels.every((label) => named.includes(label))) return { labels: named, keepHead: true };
    return {
      labels: [...dataLabels],
      keepHead: false,
      notice: `the model's labels (${named.join(', ')}) are not the data's (${dataLabels.join(', ')}): training a new classification head`,
    };
  }
  // No names, or HF's placeholders: the head is usable only if its size matches.
  return { labels: [...dataLabels], keepHead: config.labels?.length === dataLabels.length };
}

export interface BuildModelOptions {
  task: TaskName;
  /** Classification labels in id order (ignored for masked LM). */
  labels: readonly string[];
  /** Tensors of model.safetensors; undefined builds a freshly initialised model (a config-only folder). */
  tensors?: ReadonlyMap<string, SafetensorsTensor>;
  /** Initialise the head freshly even when the checkpoint has one (labels changed). */
  freshHead?: boolean;
  /**
   * Re-initialise the top N encoder layers and the head's hidden layers (BERT's pooler, the
   * classification heads' dense) as `_init_weights` does: the few-sample remedy of Zhang et al.
   * (2021), "Revisiting Few-sample BERT Fine-tuning".
   */
  reinitLayers?: number;
  seed?: number;
  arena?: ArenaOptions;
  /** Masked LM: the masked input of a sample in an epoch. */
  mask?: (sample: never, epoch: number) => MaskedInput;
  /** File name for errors. */
  source: string;
}

export interface BuiltModel {
  model: TaskModel<unknown>;
  report: LoadReport;
}

/** The model of `task` over the family's encoder, with the checkpoint's weights where it has them. */
export function buildModel(family: ModelFamily, config: EncoderConfig, options: BuildModelOptions): BuiltModel {
  const { task } = options;
  const head = taskHead(family, task);
  const definition = { family, config, labels: task === 'masked-lm' ? [] : options.labels };
  const specs = modelSpecs({ ...definition, task });
  const headNames = new Set(headSpecs(head, config, definition.labels.length).map((spec) => spec.name));
  // New labels: the label-sized layer starts afresh, the rest of the head is kept (as HF does).
  const labelLayers = new Set(head.steps.flatMap((step) => (step.kind === 'dense' && step.out === 'labels' ? [`${step.prefix}.weight`, `${step.prefix}.bias`] : [])));
  let report: LoadReport = { loaded: 0, ignored: [], initialized: specs.map((spec) => spec.name) };
  let values: Map<string, Float32Array> | undefined;
  if (options.tensors !== undefined) {
    const fresh = new Set(options.freshHead ? labelLayers : []);
    const reinit = options.reinitLayers ?? 0;
    if (reinit > 0) {
      const names = family.names(config);
      const prefixes = Array.from({ length: reinit }, (_, k) => Object.values(names.layer(config.numLayers - 1 - k)));
      for (const spec of specs) if (prefixes.some((layer) => layer.some((prefix) => spec.name.startsWith(`${prefix}.`)))) fresh.add(spec.name);
      // The head's hidden layers too (BERT's pooler, the classification heads' dense), not its label layer.
      for (const name of headNames) if (!labelLayers.has(name)) fresh.add(name);
    }
    const canonical = canonicalNames(family, [...options.tensors.keys()]);
    const available = fresh.size === 0 ? options.tensors : new Map([...options.tensors].filter(([name]) => !fresh.has(canonical.get(name)!)));
    const selected = selectWeights(family, head, specs, new Set([...headNames, ...fresh]), available, options.source);
    values = selected.values;
    report = selected.report;
  }
  const modelOptions: ModelOptions = {
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(values !== undefined ? { values } : {}),
    ...(options.arena !== undefined ? { arena: options.arena } : {}),
  };
  switch (task) {
    case 'sequence-classification':
      return { model: new SequenceClassifier(definition, modelOptions) as TaskModel<unknown>, report };
    case 'token-classification':
      return { model: new TokenClassifier(definition, modelOptions) as TaskModel<unknown>, report };
    case 'masked-lm':
      if (options.mask === undefined) throw new ConfigError('a masked-LM model needs a masking function', { field: 'mask' });
      return { model: new MaskedLanguageModel({ family, config }, { ...modelOptions, mask: options.mask }) as TaskModel<unknown>, report };
  }
}

/** config.json text for a trained model: the original keys, the task's architecture, the labels. */
export function modelConfigJson(model: TaskModel<unknown>): string {
  const head = taskHead(model.family, model.task);
  const overrides: Record<string, unknown> = { architectures: [head.architecture], model_type: model.family.modelType };
  if (model.task === 'sequence-classification') overrides.problem_type = 'single_label_classification';
  return configJson(model.config, overrides, model.task === 'masked-lm' ? undefined : model.labels);
}

/**
 * model.safetensors as byte chunks (the tensors are views of the host store: write them before
 * the next optimizer step): every parameter under its HF name, F32, file layout.
 */
export function modelWeightsChunks(model: TaskModel<unknown>): Uint8Array[] {
  const tensors = new Map<string, F32Tensor>();
  for (const entry of model.parameters.entries) {
    tensors.set(entry.name, { dtype: 'F32', shape: [...entry.shape], data: model.parameters.view(entry.index) });
  }
  return safetensorsChunks(tensors, { format: 'pt' });
}

/** Checks that a parsed config.json can be written back as this task (used before training starts). */
export function checkTask(family: ModelFamily, task: TaskName): void {
  if (family.heads[task] === undefined) throw new CheckpointError(`the ${family.modelType} family has no ${task} head`, { field: 'model_type' });
}
