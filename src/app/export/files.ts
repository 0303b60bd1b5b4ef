/**
 * The files of an export in transformers.js' layout, as content (writing them is
 * src/node/export.ts; a web page could zip them):
 *
 *     config.json               the model's config with `architectures`, `model_type`, id2label/label2id
 *     tokenizer.json            what transformers.js tokenizes with (HF BertTokenizerFast format for WordPiece)
 *     tokenizer_config.json     special tokens as plain strings, model_max_length, do_lower_case …
 *     (vocab.txt, special_tokens_map.json … as the tokenizer writes them, so that HF Python loads the folder too)
 *     onnx/model.onnx           float32
 *     onnx/model_quantized.onnx dynamic int8, with `quantize: 'int8'` (transformers.js dtype "q8")
 *
 * transformers.js picks the model class from config.json's `model_type` and the pipeline's task,
 * the file from its `dtype` (fp32 → onnx/model.onnx, q8 → onnx/model_quantized.onnx). Its
 * default dtype is q8 on the browser's wasm device, so an export without a quantized file says
 * `"transformers.js_config": {"dtype": "fp32"}` in config.json.
 */
import { CheckpointError } from '../../core/errors.js';
import { configJson } from '../../models/config.js';
import { taskHead } from '../../tasks/model.js';
import { isRecord, jsonText, parseJsonObject, SPECIAL_TOKEN_KEYS } from '../../tokenizers/files.js';
import type { Tokenizer } from '../../tokenizers/types.js';
import { encoderModel, type ExportDefinition, type GraphOptions } from './encoderGraph.js';
import { checkOnnxModel, encodeOnnxModel, type OnnxModel } from './onnx.js';
import { quantizeDynamic } from './quantize.js';

export const ONNX_MODEL_FILE = 'onnx/model.onnx';
export const ONNX_QUANTIZED_FILE = 'onnx/model_quantized.onnx';

export type Quantization = 'int8';

export interface OnnxExportOptions extends GraphOptions {
  /** Also write onnx/model_quantized.onnx. */
  quantize?: Quantization;
}

export interface OnnxExport {
  /** Relative path → content. */
  files: Map<string, string | Uint8Array>;
  model: OnnxModel;
  quantized?: OnnxModel;
}

/** The longest input the model's position table allows (RoBERTa's positions start after padding_idx). */
export function positionLimit(definition: Pick<ExportDefinition, 'config'>): number {
  const { config } = definition;
  return config.positionStyle === 'padding-offset' ? config.maxPositions - config.padTokenId - 1 : config.maxPositions;
}

/**
 * tokenizer_config.json for transformers.js: the tokenizer's own, with the special tokens as
 * plain strings (transformers.js rejects AddedToken objects without its `__type` marker) and a
 * `model_max_length` no longer than the positions the model has, since transformers.js
 * truncates every input to it.
 */
export function exportTokenizerConfig(tokenizer: Tokenizer, text: string | undefined, maxLength: number): string {
  const config = text === undefined ? {} : parseJsonObject('tokenizer_config.json', text);
  for (const key of [...SPECIAL_TOKEN_KEYS, 'bos_token', 'eos_token']) {
    const value = config[key];
    if (isRecord(value) && typeof value.content === 'string') config[key] = value.content;
  }
  const { cls, sep, pad, unk, mask } = tokenizer.special;
  Object.assign(config, { cls_token: cls.token, sep_token: sep.token, pad_token: pad.token, unk_token: unk.token });
  if (mask !== undefined) config.mask_token = mask.token;
  config.model_max_length = Math.min(tokenizer.modelMaxLength ?? maxLength, maxLength);
  return jsonText(config);
}

/** Builds, checks and encodes the ONNX model(s) of `definition` with the tokenizer's files. */
export function onnxExport(definition: ExportDefinition, tokenizer: Tokenizer, options: OnnxExportOptions = {}): OnnxExport {
  const head = taskHead(definition.family, definition.task);
  const model = encoderModel(definition, options);
  checkOnnxModel(model);
  const quantized = options.quantize === 'int8' ? quantizeDynamic(model) : undefined;
  if (quantized !== undefined) checkOnnxModel(quantized);

  const overrides: Record<string, unknown> = { architectures: [head.architecture], model_type: definition.family.modelType };
  if (definition.task === 'sequence-classification') overrides.problem_type = 'single_label_classification';
  if (quantized === undefined) overrides['transformers.js_config'] = { dtype: 'fp32' };
  const files = new Map<string, string | Uint8Array>();
  files.set('config.json', configJson(definition.config, overrides, definition.task === 'masked-lm' ? undefined : definition.labels));
  const tokenizerFiles = tokenizer.files();
  if (tokenizerFiles['tokenizer.json'] === undefined) throw new CheckpointError('the tokenizer has no tokenizer.json to export (transformers.js needs one)', { field: 'tokenizer.json' });
  for (const [name, text] of Object.entries(tokenizerFiles)) files.set(name, text);
  files.set('tokenizer_config.json', exportTokenizerConfig(tokenizer, tokenizerFiles['tokenizer_config.json'], positionLimit(definition)));
  files.set(ONNX_MODEL_FILE, encodeOnnxModel(model));
  if (quantized !== undefined) files.set(ONNX_QUANTIZED_FILE, encodeOnnxModel(quantized));
  return { files, model, ...(quantized !== undefined ? { quantized } : {}) };
}
