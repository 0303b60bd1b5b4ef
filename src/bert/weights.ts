/**
 * The parameters of a Hugging Face `BertForSequenceClassification` and the mapping between a
 * checkpoint's tensors and the model's variables.
 */
import { CheckpointError } from '../core/errors.js';
import type { BertConfig } from './config.js';
import type { SafetensorsTensor } from '../core/safetensors.js';

/** How a parameter is initialised when the checkpoint does not provide it (HF `_init_weights`). */
export type ParamInit = 'normal' | 'zeros' | 'ones' | 'embedding';

export interface ParamSpec {
  /** HF name, e.g. `bert.encoder.layer.0.attention.self.query.weight`. */
  name: string;
  /** Shape in the checkpoint file; linear weights are [out, in] as in PyTorch. */
  fileShape: number[];
  /** True for linear weights, which the model keeps as [in, out] so its forward matMuls are not transposed. */
  transposed: boolean;
  init: ParamInit;
}

/** Shape of the model variable for `spec` ([in, out] for linear weights). */
export function internalShape(spec: ParamSpec): number[] {
  return spec.transposed ? [spec.fileShape[1]!, spec.fileShape[0]!] : spec.fileShape;
}

/**
 * Every parameter of BertForSequenceClassification in HF's `state_dict` order (which is also the
 * order of `model.params`): embeddings, encoder layers, pooler, classifier.
 */
export function bertParameterSpecs(config: BertConfig, numLabels: number): ParamSpec[] {
  const hidden = config.hidden_size;
  const specs: ParamSpec[] = [];
  const linear = (prefix: string, inFeatures: number, outFeatures: number): void => {
    specs.push({ name: `${prefix}.weight`, fileShape: [outFeatures, inFeatures], transposed: true, init: 'normal' });
    specs.push({ name: `${prefix}.bias`, fileShape: [outFeatures], transposed: false, init: 'zeros' });
  };
  const layerNorm = (prefix: string): void => {
    specs.push({ name: `${prefix}.weight`, fileShape: [hidden], transposed: false, init: 'ones' });
    specs.push({ name: `${prefix}.bias`, fileShape: [hidden], transposed: false, init: 'zeros' });
  };
  specs.push({ name: 'bert.embeddings.word_embeddings.weight', fileShape: [config.vocab_size, hidden], transposed: false, init: 'embedding' });
  specs.push({ name: 'bert.embeddings.position_embeddings.weight', fileShape: [config.max_position_embeddings, hidden], transposed: false, init: 'normal' });
  specs.push({ name: 'bert.embeddings.token_type_embeddings.weight', fileShape: [config.type_vocab_size, hidden], transposed: false, init: 'normal' });
  layerNorm('bert.embeddings.LayerNorm');
  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    const prefix = `bert.encoder.layer.${layer}`;
    linear(`${prefix}.attention.self.query`, hidden, hidden);
    linear(`${prefix}.attention.self.key`, hidden, hidden);
    linear(`${prefix}.attention.self.value`, hidden, hidden);
    linear(`${prefix}.attention.output.dense`, hidden, hidden);
    layerNorm(`${prefix}.attention.output.LayerNorm`);
    linear(`${prefix}.intermediate.dense`, hidden, config.intermediate_size);
    linear(`${prefix}.output.dense`, config.intermediate_size, hidden);
    layerNorm(`${prefix}.output.LayerNorm`);
  }
  linear('bert.pooler.dense', hidden, hidden);
  linear('classifier', hidden, numLabels);
  return specs;
}

/** Parameters a checkpoint may lack: HF initialises them freshly (and warns) rather than failing. */
function isOptionalParam(name: string): boolean {
  return name.startsWith('classifier.') || name.startsWith('bert.pooler.');
}

/**
 * The canonical HF name of a checkpoint tensor: adds the `bert.` prefix of a bare `BertModel`
 * checkpoint and renames TF-era `LayerNorm.gamma/beta` to `weight/bias`.
 */
export function canonicalTensorName(fileName: string): string {
  let name = fileName.replace(/\.LayerNorm\.gamma$/, '.LayerNorm.weight').replace(/\.LayerNorm\.beta$/, '.LayerNorm.bias');
  if (/^(embeddings|encoder|pooler)\./.test(name)) name = `bert.${name}`;
  return name;
}

export interface LoadReport {
  /** Number of model parameters taken from the checkpoint. */
  loaded: number;
  /** Checkpoint tensors that the model does not use (position_ids buffers, MLM/NSP heads `cls.*` …), by file name. */
  ignored: string[];
  /** Model parameters the checkpoint lacks and that were freshly initialised (classifier, pooler). */
  initialized: string[];
}

/**
 * Picks each parameter's values (in file layout) out of a checkpoint's tensors. Missing
 * embedding/encoder tensors, wrong shapes and non-float dtypes are errors naming the tensor;
 * a missing pooler or classifier is left out of `values` and listed in `report.initialized`.
 */
export function selectCheckpointTensors(
  specs: readonly ParamSpec[],
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  source: string,
): { values: Map<string, Float32Array>; report: LoadReport } {
  const wanted = new Map(specs.map((spec) => [spec.name, spec]));
  const found = new Map<string, { fileName: string; tensor: SafetensorsTensor }>();
  const ignored: string[] = [];
  for (const [fileName, tensor] of tensors) {
    const name = canonicalTensorName(fileName);
    if (!wanted.has(name)) {
      ignored.push(fileName);
      continue;
    }
    const previous = found.get(name);
    if (previous !== undefined) {
      throw new CheckpointError(`${source}: tensors "${previous.fileName}" and "${fileName}" both provide "${name}"`);
    }
    found.set(name, { fileName, tensor });
  }
  const values = new Map<string, Float32Array>();
  const initialized: string[] = [];
  for (const spec of specs) {
    const entry = found.get(spec.name);
    if (entry === undefined) {
      if (!isOptionalParam(spec.name)) {
        throw new CheckpointError(`${source}: missing tensor "${spec.name}" (expected shape ${JSON.stringify(spec.fileShape)})`);
      }
      initialized.push(spec.name);
      continue;
    }
    const { fileName, tensor } = entry;
    if (tensor.shape.length !== spec.fileShape.length || tensor.shape.some((dim, axis) => dim !== spec.fileShape[axis])) {
      throw new CheckpointError(
        `${source}: tensor "${fileName}" has shape ${JSON.stringify(tensor.shape)}, expected ${JSON.stringify(spec.fileShape)}`,
      );
    }
    if (!(tensor.data instanceof Float32Array)) {
      throw new CheckpointError(`${source}: tensor "${fileName}" has dtype ${tensor.dtype}, expected a floating dtype`);
    }
    values.set(spec.name, tensor.data);
  }
  return { values, report: { loaded: values.size, ignored: ignored.sort(), initialized } };
}

/** Row-major transpose of a [rows, cols] matrix (between the file's [out, in] and the model's [in, out]). */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let row = 0; row < rows; row++) {
    const rowOffset = row * cols;
    for (let col = 0; col < cols; col++) out[col * rows + row] = data[rowOffset + col]!;
  }
  return out;
}
