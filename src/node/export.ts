/**
 * `microbatch export`: a trained model directory (the --out of `train`, or any HF checkpoint
 * of a supported family with a task head) written as an ONNX folder in transformers.js' layout
 * (src/app/export/files.ts). The output directory is replaced atomically; it must be new, empty
 * or an earlier export, so that a wrong --out never deletes unrelated files.
 */
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { readConfig } from '../app/checkpoint.js';
import { checkOpset, onnxExport, ONNX_MODEL_FILE, type OnnxExportOptions } from '../app/export/index.js';
import { CheckpointError, ConfigError } from '../core/errors.js';
import { TASK_NAMES, type EncoderConfig, type ModelFamily, type TaskName } from '../models/index.js';
import { selectWeights } from '../models/weights.js';
import { modelSpecs, taskHead } from '../tasks/model.js';
import { loadTokenizer } from '../tokenizers/index.js';
import { replaceDirectory, writeDurable } from './atomic.js';
import { readConfigJson, readTokenizerFiles, readWeights } from './checkpoint.js';
import { bundledPath } from './finetune.js';

export const EXPORT_FORMATS = ['onnx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportModelOptions extends OnnxExportOptions {
  format: ExportFormat;
}

export interface ExportSummary {
  outDir: string;
  modelType: string;
  task: TaskName;
  architecture: string;
  opset: number;
  inputs: string[];
  /** Relative path → bytes written. */
  files: Record<string, number>;
}

/** The task whose head architecture config.json's `architectures` names. */
export function taskOfArchitectures(family: ModelFamily, config: EncoderConfig, file: string): TaskName {
  const architectures = config.raw.architectures;
  const named = Array.isArray(architectures) ? architectures.filter((name): name is string => typeof name === 'string') : [];
  const task = TASK_NAMES.find((candidate) => family.heads[candidate] !== undefined && named.includes(family.heads[candidate]!.architecture));
  if (task !== undefined) return task;
  const known = TASK_NAMES.flatMap((candidate) => (family.heads[candidate] !== undefined ? [family.heads[candidate]!.architecture] : []));
  throw new CheckpointError(
    `${named.length === 0 ? 'is missing' : `names ${named.join(', ')}`}: export needs a model with a task head (${known.join(', ')}) — a trained model directory such as the --out of train`,
    { file, field: 'architectures' },
  );
}

function producerVersion(): string {
  try {
    return String((JSON.parse(readFileSync(bundledPath('package.json'), 'utf8')) as { version?: unknown }).version ?? '');
  } catch {
    return '';
  }
}

/** Refuses an --out that holds something other than an earlier export, or that contains the model. */
async function checkOutDir(outDir: string, modelDir: string): Promise<void> {
  const out = path.resolve(outDir);
  const model = path.resolve(modelDir);
  const relative = path.relative(out, model);
  if (relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))) {
    throw new ConfigError(`${outDir} would replace the model directory ${modelDir}: choose another --out`, { field: 'out' });
  }
  let entries: string[];
  try {
    entries = await fs.readdir(out);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new CheckpointError('exists and is not a directory', { file: outDir });
    throw new CheckpointError(`cannot read (${(error as Error).message})`, { file: outDir });
  }
  if (entries.length > 0 && !existsSync(path.join(out, ONNX_MODEL_FILE))) {
    throw new CheckpointError(`exists and is not an earlier export (no ${ONNX_MODEL_FILE}): choose a new or empty --out`, { file: outDir });
  }
}

/** Exports `modelDir` into `outDir`; everything is read and built before anything is written. */
export async function exportModel(modelDir: string, outDir: string, options: ExportModelOptions): Promise<ExportSummary> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(options.format)) {
    throw new ConfigError(`must be ${EXPORT_FORMATS.join(' or ')}, got ${JSON.stringify(options.format)}`, { field: 'format' });
  }
  if (options.quantize !== undefined && options.quantize !== 'int8') throw new ConfigError(`must be int8, got ${JSON.stringify(options.quantize)}`, { field: 'quantize' });
  if (options.opset !== undefined) checkOpset(options.opset);
  const { json, file } = await readConfigJson(modelDir);
  const { family, config } = readConfig(json, file);
  const task = taskOfArchitectures(family, config, file);
  const labels = task === 'masked-lm' ? [] : (config.labels ?? []);
  if (task !== 'masked-lm' && labels.length === 0) throw new CheckpointError('has no id2label: not a trained classifier', { file, field: 'id2label' });
  const weightsFile = await readWeights(modelDir);
  if (weightsFile === undefined) throw new CheckpointError('has no model.safetensors: export needs a trained model directory (e.g. the --out of train)', { file: modelDir });
  const specs = modelSpecs({ family, config, task, labels });
  const { values } = selectWeights(family, taskHead(family, task), specs, new Set(), weightsFile.tensors, weightsFile.file);
  const tokenizer = loadTokenizer(await readTokenizerFiles(modelDir), family.modelType, modelDir);
  await checkOutDir(outDir, modelDir);
  const exported = onnxExport({ family, config, task, labels, weights: values }, tokenizer, { ...options, producerVersion: producerVersion() });
  try {
    await replaceDirectory(outDir, async (temporary) => {
      for (const [name, content] of exported.files) {
        const target = path.join(temporary, name);
        await fs.mkdir(path.dirname(target), { recursive: true });
        await writeDurable(target, content);
      }
    });
  } catch (error) {
    throw new CheckpointError(`cannot write the export (${(error as Error).message})`, { file: outDir });
  }
  return {
    outDir,
    modelType: family.modelType,
    task,
    architecture: taskHead(family, task).architecture,
    opset: exported.model.opset,
    inputs: exported.model.graph.inputs.map((input) => input.name),
    files: Object.fromEntries([...exported.files].map(([name, content]) => [name, typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength])),
  };
}
