/**
 * Matching a checkpoint's tensors to a model's parameters by Hugging Face name: bare base-model
 * checkpoints (`embeddings.…` without `bert.`) get the family's prefix, TF-era names their
 * modern spelling, decoder weights HF ties to the word embeddings are accepted and not kept
 * twice, buffers such as `position_ids` are ignored. Missing encoder tensors and wrong shapes
 * are errors naming the tensor; a missing head is initialised freshly (and reported), as
 * `from_pretrained` does.
 */
import { CheckpointError } from '../core/errors.js';
import type { SafetensorsTensor } from '../core/safetensors.js';
import type { ModelParamSpec } from './encoder.js';
import type { HeadSpec, ModelFamily } from './family.js';

export interface LoadReport {
  /** Model parameters taken from the checkpoint. */
  loaded: number;
  /** Checkpoint tensors the model does not use (other heads, buffers …), by file name. */
  ignored: string[];
  /** Model parameters the checkpoint lacks, freshly initialised (a head on a base model). */
  initialized: string[];
}

/**
 * The model name of a checkpoint tensor: modern spelling, and the family's prefix for a bare
 * base checkpoint (one with no tensor under that prefix).
 */
export function canonicalNames(family: ModelFamily, fileNames: readonly string[]): Map<string, string> {
  const modern = fileNames.map((name) => family.canonicalName?.(name) ?? name);
  const bare = !modern.some((name) => name.startsWith(family.basePrefix));
  return new Map(
    fileNames.map((fileName, index) => {
      const name = modern[index]!;
      return [fileName, bare && family.baseModules.some((module) => name.startsWith(module)) ? `${family.basePrefix}${name}` : name];
    }),
  );
}

/**
 * Picks each parameter's values (file layout) from `tensors`. `headSpecs` are the parameters
 * that may be missing (the task head); every other spec is required.
 */
export function selectWeights(
  family: ModelFamily,
  head: HeadSpec,
  specs: readonly ModelParamSpec[],
  optional: ReadonlySet<string>,
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  source: string,
): { values: Map<string, Float32Array>; report: LoadReport } {
  const wanted = new Map(specs.map((spec) => [spec.name, spec]));
  const tied = new Set(head.tiedAliases ?? []);
  const names = canonicalNames(family, [...tensors.keys()]);
  const found = new Map<string, { fileName: string; tensor: SafetensorsTensor }>();
  const ignored: string[] = [];
  for (const [fileName, tensor] of tensors) {
    const name = names.get(fileName)!;
    if (!wanted.has(name) || tied.has(name)) {
      ignored.push(fileName);
      continue;
    }
    const previous = found.get(name);
    if (previous !== undefined) throw new CheckpointError(`tensors "${previous.fileName}" and "${fileName}" both provide "${name}"`, { file: source, field: name });
    found.set(name, { fileName, tensor });
  }
  const values = new Map<string, Float32Array>();
  const initialized: string[] = [];
  for (const spec of specs) {
    const entry = found.get(spec.name);
    if (entry === undefined) {
      if (!optional.has(spec.name)) throw new CheckpointError(`missing tensor (expected shape ${JSON.stringify(spec.shape)})`, { file: source, field: spec.name });
      initialized.push(spec.name);
      continue;
    }
    const { fileName, tensor } = entry;
    if (tensor.shape.length !== spec.shape.length || tensor.shape.some((dim, axis) => dim !== spec.shape[axis])) {
      throw new CheckpointError(`has shape ${JSON.stringify(tensor.shape)}, expected ${JSON.stringify(spec.shape)}`, { file: source, field: fileName });
    }
    if (!(tensor.data instanceof Float32Array)) throw new CheckpointError(`has dtype ${tensor.dtype}, expected a floating dtype`, { file: source, field: fileName });
    values.set(spec.name, tensor.data);
  }
  return { values, report: { loaded: values.size, ignored: ignored.sort(), initialized } };
}
