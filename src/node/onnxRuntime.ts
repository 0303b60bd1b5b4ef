/**
 * Running an export with onnxruntime-node (`predict --engine onnx`): the export's config.json
 * and tokenizer files, `onnx/model.onnx` (or the quantized file) in an InferenceSession, and
 * batches padded as the TF.js model pads them. onnxruntime-node is optional: it is loaded on
 * first use and its absence is one clear error.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { readConfig } from '../app/checkpoint.js';
import type { Prediction } from '../app/evaluate.js';
import { ONNX_MODEL_FILE, ONNX_QUANTIZED_FILE } from '../app/export/index.js';
import { CheckpointError, ConfigError, DataError } from '../core/errors.js';
import type { EncoderConfig, ModelFamily, TaskName } from '../models/index.js';
import type { EncoderInput } from '../models/encoder.js';
import { loadTokenizer, type Tokenizer } from '../tokenizers/index.js';
import { readConfigJson, readTokenizerFiles } from './checkpoint.js';
import { taskOfArchitectures } from './export.js';

type OrtModule = typeof Ort;

let ortModule: Promise<OrtModule> | undefined;

/** onnxruntime-node, imported once; a missing package is a ConfigError with the fix. */
export function loadOnnxRuntime(): Promise<OrtModule> {
  ortModule ??= import('onnxruntime-node').catch((error: unknown) => {
    ortModule = undefined;
    throw new ConfigError(`--engine onnx needs the onnxruntime-node package (npm install onnxruntime-node): ${(error as Error).message.split('\n')[0]}`, { field: 'engine' });
  });
  return ortModule;
}

export interface OnnxSessionOptions {
  /** Run onnx/model_quantized.onnx instead of onnx/model.onnx. */
  quantized?: boolean;
  /** onnxruntime's intra-op threads (default: its own choice, one per core). */
  threads?: number;
}

/** An export loaded for inference: its family, config, labels, tokenizer and session. */
export class OnnxModelSession {
  private constructor(
    readonly session: Ort.InferenceSession,
    private readonly ort: OrtModule,
    readonly family: ModelFamily,
    readonly config: EncoderConfig,
    readonly task: TaskName,
    readonly labels: string[],
    readonly tokenizer: Tokenizer,
    readonly file: string,
  ) {}

  static async load(dir: string, options: OnnxSessionOptions = {}): Promise<OnnxModelSession> {
    const { json, file } = await readConfigJson(dir);
    const { family, config } = readConfig(json, file);
    const task = taskOfArchitectures(family, config, file);
    const modelFile = path.join(dir, options.quantized ? ONNX_QUANTIZED_FILE : ONNX_MODEL_FILE);
    if (!existsSync(modelFile)) {
      throw new CheckpointError(`not found: ${dir} is not an ONNX export${options.quantized ? ' with a quantized model (export with --quantize int8)' : ' (make one with microbatch export)'}`, { file: modelFile });
    }
    const tokenizer = loadTokenizer(await readTokenizerFiles(dir), family.modelType, dir);
    const ort = await loadOnnxRuntime();
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelFile, {
        executionProviders: ['cpu'],
        ...(options.threads !== undefined ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
      });
    } catch (error) {
      throw new CheckpointError(`onnxruntime cannot load it: ${(error as Error).message.split('\n')[0]}`, { file: modelFile });
    }
    const labels = task === 'masked-lm' ? [] : (config.labels ?? []);
    return new OnnxModelSession(session, ort, family, config, task, labels, tokenizer, modelFile);
  }

  /** The session's feeds for `inputs` padded to their longest (pad id, mask 0), as the TF.js encoder pads. */
  feeds(inputs: readonly EncoderInput[]): Record<string, Ort.Tensor> {
    if (inputs.length === 0) throw new DataError('cannot run the model on an empty batch');
    const length = Math.max(...inputs.map((input) => input.ids.length));
    const size = inputs.length;
    const ids = new BigInt64Array(size * length).fill(BigInt(this.config.padTokenId));
    const mask = new BigInt64Array(size * length);
    const types = new BigInt64Array(size * length);
    inputs.forEach((input, row) => {
      input.ids.forEach((id, column) => {
        if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize) throw new DataError(`sample ${row}: token id ${id} at position ${column} is outside the vocabulary [0, ${this.config.vocabSize})`);
        ids[row * length + column] = BigInt(id);
        mask[row * length + column] = 1n;
        types[row * length + column] = BigInt(input.typeIds?.[column] ?? 0);
      });
    });
    const dims = [size, length];
    const feeds: Record<string, Ort.Tensor> = { input_ids: new this.ort.Tensor('int64', ids, dims), attention_mask: new this.ort.Tensor('int64', mask, dims) };
    if (this.session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new this.ort.Tensor('int64', types, dims);
    return feeds;
  }

  /** Logits as `TaskModel.logits` returns them: per input one row ([CLS] heads) or one row per token. */
  async logits(inputs: readonly EncoderInput[]): Promise<Float32Array[][]> {
    const results = await this.session.run(this.feeds(inputs));
    const logits = results.logits!;
    try {
      const values = logits.data as Float32Array;
      const width = logits.dims[logits.dims.length - 1]!;
      const row = (index: number) => values.slice(index * width, (index + 1) * width);
      if (logits.dims.length === 2) return inputs.map((_, sample) => [row(sample)]);
      const length = logits.dims[1]!;
      return inputs.map((input, sample) => input.ids.map((_, position) => row(sample * length + position)));
    } finally {
      for (const tensor of Object.values(results)) tensor.dispose();
    }
  }

  /** Class probabilities (softmax in float64, as `predictClassifier`) of a sequence classifier, `batchSize` inputs per run. */
  async predict(inputs: readonly EncoderInput[], batchSize: number): Promise<Prediction[]> {
    if (this.task !== 'sequence-classification') throw new ConfigError(`the export is a ${this.task} model; predict needs a sequence classifier`, { field: 'model' });
    const predictions: Prediction[] = [];
    for (let start = 0; start < inputs.length; start += batchSize) {
      for (const [row] of await this.logits(inputs.slice(start, start + batchSize))) predictions.push(softmaxPrediction(row!));
    }
    return predictions;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** The most probable class and the probabilities of one row of logits (float64 softmax, max subtracted). */
export function softmaxPrediction(logits: Float32Array): Prediction {
  let max = -Infinity;
  for (const value of logits) max = Math.max(max, value);
  const probabilities = Array.from(logits, (value) => Math.exp(value - max));
  const sum = probabilities.reduce((total, value) => total + value, 0);
  let label = 0;
  for (let k = 0; k < probabilities.length; k++) {
    probabilities[k]! /= sum;
    if (probabilities[k]! > probabilities[label]!) label = k;
  }
  return { label, probabilities };
}
