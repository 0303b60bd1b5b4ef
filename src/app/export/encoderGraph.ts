/**
 * The ONNX graph of a family × task model, built generically from the family registry — the
 * parameter names (`family.names(config)`), the head's steps (`HeadSpec`) and the normalised
 * `EncoderConfig` — so that a newly registered family exports with no code here. The graph
 * mirrors src/models/encoder.ts and src/tasks/head.ts op for op, in inference mode (dropout is
 * the identity):
 *
 * * embeddings: Gather of the word table, + positions (a Slice of the table for absolute
 *   positions; RoBERTa's padding_idx + cumsum of the non-pad mask, gathered), + token types
 *   (Gather when the family has several; the single row added as a constant when it has one),
 *   LayerNorm, then ELECTRA's projection when embedding_size ≠ hidden_size;
 * * each post-LN layer: q scaled by 1/√d after its bias, scores + the additive mask
 *   ((1 − attention_mask) · float32 min, so masked keys get exactly zero probability), Softmax,
 *   context, output dense + residual + LayerNorm, feed-forward with the config's activation
 *   (exact GELU through Erf, tanh GELU, ReLU, tanh) + residual + LayerNorm;
 * * heads reading [CLS] compute the last layer's queries, feed-forward and norms for the first
 *   position only (its keys and values still see every token), as the TF.js model does;
 * * linear layers are MatMul with the [out, in] weight transposed once at export, + bias; the
 *   masked-LM decoder tied to the word embeddings is a Gemm with transB over the same table
 *   (one copy in the file, as in the checkpoint).
 *
 * LayerNorm is the LayerNormalization operator from opset 17, and decomposed into ReduceMean,
 * Sub, Mul, Sqrt, Div, Add below it (the same arithmetic as src/nn/layerNorm.ts).
 * Inputs: `input_ids`, `attention_mask` (int64, [batch_size, sequence_length]) and
 * `token_type_ids` when the family has more than one token type; output `logits`.
 */
import { CheckpointError, ConfigError } from '../../core/errors.js';
import type { EncoderConfig } from '../../models/config.js';
import type { Activation } from '../../nn/activations.js';
import type { ModelFamily, TaskName } from '../../models/family.js';
import { modelSpecs, taskHead } from '../../tasks/model.js';
import { float, GraphBuilder, int, ints } from './builder.js';
import { DataType, irVersionFor, type OnnxModel } from './onnx.js';

/** HF masks attention with float32's minimum (src/nn/attention.ts FLOAT32_MIN). */
const FLOAT32_MIN = -3.4028234663852886e38;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export const MIN_OPSET = 14;
export const MAX_OPSET = 21;
/** LayerNormalization exists from opset 17; onnxruntime 1.16+ and transformers.js run it. */
export const DEFAULT_OPSET = 17;

const BATCH = 'batch_size';
const SEQUENCE = 'sequence_length';

export interface ExportDefinition {
  family: ModelFamily;
  config: EncoderConfig;
  task: TaskName;
  /** Classification labels in id order (ignored for masked LM). */
  labels: readonly string[];
  /** Every parameter by Hugging Face name, in file layout (linear weights [out, in]). */
  weights: ReadonlyMap<string, Float32Array>;
}

export interface GraphOptions {
  /** Default ONNX opset (14–21, default 17). */
  opset?: number;
  /** Written as the model's producer_version. */
  producerVersion?: string;
}

/** Whether the graph takes `token_type_ids` (families with more than one token type). */
export function hasTokenTypeInput(family: ModelFamily, config: EncoderConfig): boolean {
  return family.names(config).tokenType !== undefined && config.typeVocabSize > 1;
}

/** Checks `opset` against what the exporter supports. */
export function checkOpset(opset: number): number {
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) throw new ConfigError(`must be an integer from ${MIN_OPSET} to ${MAX_OPSET}, got ${opset}`, { field: 'opset' });
  return opset;
}

/** The parameters of the definition's model, checked against what its specs need (names and sizes). */
function checkedWeights(definition: ExportDefinition): (name: string) => Float32Array {
  const labels = definition.task === 'masked-lm' ? [] : definition.labels;
  for (const spec of modelSpecs({ family: definition.family, config: definition.config, task: definition.task, labels })) {
    const values = definition.weights.get(spec.name);
    const size = spec.shape.reduce((product, dim) => product * dim, 1);
    if (values === undefined) throw new CheckpointError(`missing parameter (expected shape ${JSON.stringify(spec.shape)})`, { field: spec.name });
    if (values.length !== size) throw new CheckpointError(`has ${values.length} values, expected shape ${JSON.stringify(spec.shape)}`, { field: spec.name });
  }
  return (name) => definition.weights.get(name)!;
}

/** [rows, columns] → [columns, rows]. */
function transposed(values: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let row = 0; row < rows; row++) for (let column = 0; column < columns; column++) out[column * rows + row] = values[row * columns + column]!;
  return out;
}

/** The ONNX model computing the definition's logits. */
export function encoderModel(definition: ExportDefinition, options: GraphOptions = {}): OnnxModel {
  const opset = checkOpset(options.opset ?? DEFAULT_OPSET);
  const { family, config, task } = definition;
  const head = taskHead(family, task);
  if (task !== 'masked-lm' && definition.labels.length < 1) throw new ConfigError('a classifier needs at least one label', { field: 'labels' });
  const weight = checkedWeights(definition);
  const names = family.names(config);
  const g = new GraphBuilder();
  const { hiddenSize: hidden, embeddingSize: embedding, numHeads: heads } = config;
  const headSize = hidden / heads;

  const dense = (x: string, prefix: string, inFeatures: number, outFeatures: number): string => {
    const matrix = g.weight(`${prefix}.weight.T`, [inFeatures, outFeatures], transposed(weight(`${prefix}.weight`), outFeatures, inFeatures));
    return g.node('Add', [g.node('MatMul', [x, matrix], {}, `${prefix}/MatMul`), g.weight(`${prefix}.bias`, [outFeatures], weight(`${prefix}.bias`))], {}, `${prefix}/Add`);
  };
  const layerNorm = (x: string, prefix: string, width: number, eps: number): string => {
    const gamma = g.weight(`${prefix}.weight`, [width], weight(`${prefix}.weight`));
    const beta = g.weight(`${prefix}.bias`, [width], weight(`${prefix}.bias`));
    if (opset >= 17) return g.node('LayerNormalization', [x, gamma, beta], { axis: int(-1), epsilon: float(eps) }, prefix);
    const mean = g.node('ReduceMean', [x], { axes: ints([-1]), keepdims: int(1) });
    const centered = g.node('Sub', [x, mean]);
    const variance = g.node('ReduceMean', [g.node('Mul', [centered, centered])], { axes: ints([-1]), keepdims: int(1) });
    const inverseStd = g.node('Div', [g.scalar(1), g.node('Sqrt', [g.node('Add', [variance, g.scalar(eps)])])]);
    return g.node('Add', [g.node('Mul', [g.node('Mul', [centered, inverseStd]), gamma]), beta], {}, prefix);
  };
  const activation = (x: string, kind: Activation): string => {
    switch (kind) {
      case 'gelu':
        // x · ((erf(x/√2) + 1) · 0.5), the order of src/nn/activations.ts
        return g.node('Mul', [x, g.node('Mul', [g.node('Add', [g.node('Erf', [g.node('Mul', [x, g.scalar(Math.SQRT1_2)])]), g.scalar(1)]), g.scalar(0.5)])]);
      case 'gelu_new':
      case 'gelu_pytorch_tanh': {
        const inner = g.node('Mul', [g.node('Add', [x, g.node('Mul', [g.node('Pow', [x, g.scalar(3)]), g.scalar(0.044715)])]), g.scalar(SQRT_2_OVER_PI)]);
        return g.node('Mul', [g.node('Mul', [x, g.scalar(0.5)]), g.node('Add', [g.node('Tanh', [inner]), g.scalar(1)])]);
      }
      case 'relu':
        return g.node('Relu', [x]);
      case 'tanh':
        return g.node('Tanh', [x]);
    }
  };

  // Inputs.
  const ids = g.input('input_ids', DataType.INT64, [BATCH, SEQUENCE]);
  const mask = g.input('attention_mask', DataType.INT64, [BATCH, SEQUENCE]);
  const typeIds = hasTokenTypeInput(family, config) ? g.input('token_type_ids', DataType.INT64, [BATCH, SEQUENCE]) : undefined;
  const idsShape = g.node('Shape', [ids]);

  // Embeddings: word + position (+ token type), LayerNorm (+ projection).
  const wordTable = g.weight(names.word, [config.vocabSize, embedding], weight(names.word));
  const positionTable = g.weight(names.position, [config.maxPositions, embedding], weight(names.position));
  let positions: string;
  if (config.positionStyle === 'absolute') {
    // Rows 0 … T−1 of the table, [T, E], broadcast over the batch.
    const length = g.node('Slice', [idsShape, g.int64s([1]), g.int64s([2]), g.int64s([0])]);
    positions = g.node('Slice', [positionTable, g.int64s([0]), length, g.int64s([0])], {}, 'position_rows');
  } else {
    // RoBERTa: padding_idx + the index among non-pad tokens; pad tokens get padding_idx.
    const pad = g.constant(DataType.INT64, [], [config.padTokenId]);
    const real = g.node('Cast', [g.node('Not', [g.node('Equal', [ids, pad])])], { to: int(DataType.INT64) });
    const counted = g.node('Mul', [g.node('CumSum', [real, g.constant(DataType.INT64, [], [1])]), real]);
    positions = g.node('Gather', [positionTable, g.node('Add', [counted, pad], {}, 'position_ids')], { axis: int(0) });
  }
  let embedded = g.node('Add', [g.node('Gather', [wordTable, ids], { axis: int(0) }, 'word_embeddings'), positions]);
  if (names.tokenType !== undefined) {
    const typeTable = weight(names.tokenType);
    embedded =
      typeIds !== undefined
        ? g.node('Add', [embedded, g.node('Gather', [g.weight(names.tokenType, [config.typeVocabSize, embedding], typeTable), typeIds], { axis: int(0) })])
        : g.node('Add', [embedded, g.weight(`${names.tokenType}[0]`, [embedding], typeTable.subarray(0, embedding))]);
  }
  let states = layerNorm(embedded, names.embeddingNorm, embedding, config.layerNormEps);
  if (names.project !== undefined) states = dense(states, names.project, embedding, hidden);

  // The additive attention mask [B, 1, 1, T].
  const maskBias = g.node(
    'Reshape',
    [g.node('Mul', [g.node('Sub', [g.scalar(1), g.node('Cast', [mask], { to: int(DataType.FLOAT) })]), g.scalar(FLOAT32_MIN)]), g.int64s([0, 1, 1, -1])],
    {},
    'attention_mask_bias',
  );
  const toHeads = (x: string, perm: number[]) => g.node('Transpose', [g.node('Reshape', [x, g.int64s([0, 0, heads, headSize])])], { perm: ints(perm) });

  const first = head.positions === 'first';
  for (let index = 0; index < config.numLayers; index++) {
    const n = names.layer(index);
    const queryStates = first && index === config.numLayers - 1 ? g.node('Slice', [states, g.int64s([0]), g.int64s([1]), g.int64s([1])], {}, 'first_position') : states;
    const queries = toHeads(g.node('Mul', [dense(queryStates, n.query, hidden, hidden), g.scalar(1 / Math.sqrt(headSize))]), [0, 2, 1, 3]);
    const keysTransposed = toHeads(dense(states, n.key, hidden, hidden), [0, 2, 3, 1]);
    const values = toHeads(dense(states, n.value, hidden, hidden), [0, 2, 1, 3]);
    const probabilities = g.node('Softmax', [g.node('Add', [g.node('MatMul', [queries, keysTransposed]), maskBias])], { axis: int(-1) });
    const context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probabilities, values])], { perm: ints([0, 2, 1, 3]) }), g.int64s([0, 0, hidden])]);
    const attended = dense(context, n.attentionOutput, hidden, hidden);
    const attentionOut = layerNorm(g.node('Add', [attended, queryStates]), n.attentionNorm, hidden, config.layerNormEps);
    const activated = activation(dense(attentionOut, n.intermediate, hidden, config.intermediateSize), config.activation);
    states = layerNorm(g.node('Add', [dense(activated, n.output, config.intermediateSize, hidden), attentionOut]), n.outputNorm, hidden, config.layerNormEps);
  }

  // The head, on [B, H] ([CLS]) or [B, T, H].
  let x = first ? g.node('Reshape', [states, g.int64s([0, -1])], {}, 'first_token') : states;
  let width = hidden;
  for (const step of head.steps) {
    switch (step.kind) {
      case 'dropout':
        break;
      case 'dense': {
        const out = step.out === 'hidden' ? hidden : step.out === 'embedding' ? embedding : definition.labels.length;
        x = dense(x, step.prefix, width, out);
        width = out;
        break;
      }
      case 'activation':
        x = activation(x, step.activation === 'config' ? config.activation : step.activation);
        break;
      case 'layerNorm':
        x = layerNorm(x, step.prefix, width, step.eps ?? config.layerNormEps);
        break;
      case 'tiedDecoder': {
        // logits = x·Eᵀ + b with E the word-embedding table itself (Gemm needs rank 2).
        const bias = g.weight(step.bias, [config.vocabSize], weight(step.bias));
        const rows = first ? x : g.node('Reshape', [x, g.int64s([-1, width])]);
        const product = g.node('Gemm', [rows, wordTable, bias], { transB: int(1) }, 'tied_decoder');
        x = first ? product : g.node('Reshape', [product, g.node('Concat', [idsShape, g.int64s([config.vocabSize])], { axis: int(0) })]);
        width = config.vocabSize;
        break;
      }
    }
  }
  const logits = g.renameLastOutput(x, 'logits');
  g.output(logits, DataType.FLOAT, first ? [BATCH, width] : [BATCH, SEQUENCE, width]);
  return {
    irVersion: irVersionFor(opset),
    opset,
    producerName: 'microbatch',
    producerVersion: options.producerVersion ?? '',
    docString: `${head.architecture} (${family.modelType}, ${task}): logits from input_ids and attention_mask${typeIds !== undefined ? ' and token_type_ids' : ''}; MatMul weights are stored transposed ([in, out], names ending in .weight.T)`,
    graph: g.graph(head.architecture),
    metadata: { model_type: family.modelType, task, architecture: head.architecture },
  };
}
