/**
 * The browser-safe half of the export: protobuf encoding (field numbers checked on the bytes),
 * the structural checker, per-channel quantization, the folder's JSON files, and a bundle of
 * src/app/export for the browser.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import fc from 'fast-check';
import { readConfig } from '../../../src/app/checkpoint.js';
import {
  checkOnnxModel,
  checkOpset,
  DataType,
  decodeOnnxModel,
  encodeOnnxModel,
  encoderModel,
  exportTokenizerConfig,
  GraphBuilder,
  onnxExport,
  quantizeColumns,
  quantizeDynamic,
  type OnnxModel,
} from '../../../src/app/export/index.js';
import { modelSpecs } from '../../../src/tasks/model.js';
import { loadTokenizer } from '../../../src/tokenizers/index.js';

/** y = x · W + b over a [batch, 2] input: a graph small enough to read byte by byte. */
function tinyModel(): OnnxModel {
  const g = new GraphBuilder();
  const x = g.input('x', DataType.FLOAT, ['batch', 2]);
  const weight = g.weight('w', [2, 3], Float32Array.from([1, 2, 3, 4, 5, 6]));
  const y = g.node('Add', [g.node('MatMul', [x, weight]), g.scalar(0.5)]);
  g.output(g.renameLastOutput(y, 'y'), DataType.FLOAT, ['batch', 3]);
  return { irVersion: 8, opset: 17, producerName: 'test', producerVersion: '1', docString: 'tiny', graph: g.graph('tiny'), metadata: { purpose: 'test' } };
}

test('encode → decode keeps every field; the bytes start with ir_version (field 1, varint) and carry opset_import (field 8)', () => {
  const model = tinyModel();
  const bytes = encodeOnnxModel(model);
  assert.equal(bytes[0], (1 << 3) | 0, 'ModelProto.ir_version is field 1, wire type varint');
  assert.equal(bytes[1], 8);
  const decoded = decodeOnnxModel(bytes);
  assert.equal(decoded.irVersion, 8);
  assert.equal(decoded.opset, 17);
  assert.deepEqual(decoded.metadata, { purpose: 'test' });
  assert.deepEqual(decoded.graph.inputs, model.graph.inputs);
  assert.deepEqual(decoded.graph.outputs, model.graph.outputs);
  assert.deepEqual(
    decoded.graph.nodes.map((node) => [node.opType, node.inputs, node.outputs]),
    model.graph.nodes.map((node) => [node.opType, node.inputs, node.outputs]),
  );
  assert.deepEqual(
    decoded.graph.initializers.map((tensor) => [tensor.name, tensor.dataType, tensor.dims, Array.from(tensor.data as Float32Array)]),
    [
      ['w', DataType.FLOAT, [2, 3], [1, 2, 3, 4, 5, 6]],
      ['const_0', DataType.FLOAT, [], [0.5]],
    ],
  );
  // The opset entry is field 8 of the model (tag 0x42, length 2) holding version 17 as field 2
  // (tag 0x10); the empty default domain is left out, which readers take as "".
  const opset = Uint8Array.from([0x42, 2, (2 << 3) | 0, 17]);
  assert.ok(Buffer.from(bytes).includes(Buffer.from(opset)), 'opset_import bytes');
});

test('attributes of every type we write survive the round trip', () => {
  const g = new GraphBuilder();
  const x = g.input('x', DataType.FLOAT, [2, 3]);
  g.node('Transpose', [x], { perm: { type: 'ints', value: [1, 0] } });
  g.node('LayerNormalization', [x], { axis: { type: 'int', value: -1 }, epsilon: { type: 'float', value: 1e-5 } });
  const model: OnnxModel = { ...tinyModel(), graph: g.graph('attributes') };
  const nodes = decodeOnnxModel(encodeOnnxModel(model)).graph.nodes;
  assert.deepEqual(nodes[0]!.attributes, { perm: { type: 'ints', value: [1, 0] } });
  assert.equal(nodes[1]!.attributes.axis!.value, -1);
  assert.equal(nodes[1]!.attributes.epsilon!.value, Math.fround(1e-5));
});

test('the checker rejects what onnx.checker would: undefined or late inputs, duplicate names, wrong sizes, unknown ops, opset mismatches', () => {
  checkOnnxModel(tinyModel());
  const broken = (change: (model: OnnxModel) => void): OnnxModel => {
    const model = structuredClone(tinyModel());
    change(model);
    return model;
  };
  const cases: [string, OnnxModel][] = [
    ['before it is defined', broken((model) => model.graph.nodes.reverse())],
    ['defined twice', broken((model) => model.graph.initializers.push({ ...model.graph.initializers[0]! }))],
    ['bytes of data', broken((model) => (model.graph.initializers[0]!.dims = [3, 3]))],
    ['not one this exporter emits', broken((model) => (model.graph.nodes[0]!.opType = 'Conv'))],
    ['needs IR version', broken((model) => (model.irVersion = 7))],
    ['is never computed', broken((model) => (model.graph.outputs[0]!.name = 'z'))],
    ['takes 2–2 inputs', broken((model) => model.graph.nodes[0]!.inputs.pop())],
    ['needs opset 17', broken((model) => (model.graph.nodes[0]!.opType = 'LayerNormalization') && (model.opset = 16))],
  ];
  for (const [message, model] of cases) assert.throws(() => checkOnnxModel(model), new RegExp(message), message);
  assert.throws(() => checkOpset(13), /--?opset|opset must be an integer from 14 to 21/);
});

test('per-channel uint8 quantization: each column within half a step of its values, zero exactly representable', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.float({ min: -4, max: 4, noNaN: true }), { minLength: 30, maxLength: 30 }), (rows, columns, pool) => {
      const matrix = Float32Array.from({ length: rows * columns }, (_, i) => pool[i % pool.length]!);
      const { values, scales, zeroPoints } = quantizeColumns(matrix, rows, columns);
      for (let column = 0; column < columns; column++) {
        for (let row = 0; row < rows; row++) {
          const value = matrix[row * columns + column]!;
          const restored = (values[row * columns + column]! - zeroPoints[column]!) * scales[column]!;
          assert.ok(Math.abs(restored - value) <= scales[column]! * 0.5 + 1e-6, `${value} → ${restored}`);
        }
        assert.equal((0 - zeroPoints[column]!) * scales[column]! + zeroPoints[column]! * scales[column]!, 0);
      }
    }),
  );
});

/** A tiny BERT sequence classifier defined in memory (no files): every parameter a small ramp. */
function memoryDefinition() {
  const json = { model_type: 'bert', vocab_size: 12, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 6, max_position_embeddings: 16, type_vocab_size: 2, id2label: { 0: 'no', 1: 'yes' } };
  const { family, config } = readConfig(json, 'config.json');
  const labels = ['no', 'yes'];
  const weights = new Map(modelSpecs({ family, config, task: 'sequence-classification', labels }).map((spec) => [spec.name, Float32Array.from({ length: spec.shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i + spec.name.length) / 4)]));
  return { family, config, task: 'sequence-classification' as const, labels, weights };
}

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', 'the', 'a', ',', '.', '!'];

test('the folder: config.json names the architecture and labels; tokenizer_config.json has plain special tokens and a model_max_length within the positions', () => {
  const definition = memoryDefinition();
  const tokenizer = loadTokenizer({ 'vocab.txt': VOCAB.join('\n'), 'tokenizer_config.json': JSON.stringify({ do_lower_case: true, model_max_length: 512 }) }, 'bert', 'memory');
  const exported = onnxExport(definition, tokenizer, { quantize: 'int8' });
  assert.deepEqual([...exported.files.keys()].sort(), ['config.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
  const config = JSON.parse(exported.files.get('config.json') as string) as Record<string, unknown>;
  assert.deepEqual(config.architectures, ['BertForSequenceClassification']);
  assert.equal(config.model_type, 'bert');
  assert.deepEqual(config.id2label, { 0: 'no', 1: 'yes' });
  assert.deepEqual(config.label2id, { no: 0, yes: 1 });
  assert.equal(config['transformers.js_config'], undefined);
  const tokenizerConfig = JSON.parse(exported.files.get('tokenizer_config.json') as string) as Record<string, unknown>;
  assert.equal(tokenizerConfig.model_max_length, 16);
  assert.equal(tokenizerConfig.do_lower_case, true);
  assert.equal(tokenizerConfig.mask_token, '[MASK]');
  assert.equal(tokenizerConfig.pad_token, '[PAD]');
  // Special tokens written as AddedToken objects become strings; a shorter model_max_length stays.
  const shorter = loadTokenizer({ 'vocab.txt': VOCAB.join('\n'), 'tokenizer_config.json': JSON.stringify({ model_max_length: 8 }) }, 'bert', 'memory');
  const rewritten = JSON.parse(exportTokenizerConfig(shorter, JSON.stringify({ model_max_length: 8, bos_token: { content: '[CLS]', lstrip: false } }), 16)) as Record<string, unknown>;
  assert.equal(rewritten.bos_token, '[CLS]');
  assert.equal(rewritten.model_max_length, 8);
  const decoded = decodeOnnxModel(exported.files.get('onnx/model.onnx') as Uint8Array);
  assert.deepEqual(decoded.graph.inputs.map((input) => [input.name, input.elemType, input.shape]), [
    ['input_ids', DataType.INT64, ['batch_size', 'sequence_length']],
    ['attention_mask', DataType.INT64, ['batch_size', 'sequence_length']],
    ['token_type_ids', DataType.INT64, ['batch_size', 'sequence_length']],
  ]);
  assert.deepEqual(decoded.graph.outputs, [{ name: 'logits', elemType: DataType.FLOAT, shape: ['batch_size', 2] }]);
  assert.equal(decoded.opset, 17);
  assert.ok(decoded.graph.nodes.some((node) => node.opType === 'LayerNormalization'));
  assert.ok(decoded.graph.nodes.some((node) => node.opType === 'Erf'), 'exact GELU');
});

test('opsets 14–16 decompose LayerNorm; a missing or mis-sized parameter is an error naming it', () => {
  const definition = memoryDefinition();
  const model = encoderModel(definition, { opset: 14 });
  checkOnnxModel(model);
  assert.ok(!model.graph.nodes.some((node) => node.opType === 'LayerNormalization'));
  assert.ok(model.graph.nodes.some((node) => node.opType === 'ReduceMean'));
  checkOnnxModel(quantizeDynamic(model));
  const missing = new Map(definition.weights);
  missing.delete('classifier.bias');
  assert.throws(() => encoderModel({ ...definition, weights: missing }), /field "classifier.bias": missing parameter/);
  const wrong = new Map(definition.weights);
  wrong.set('bert.pooler.dense.weight', new Float32Array(3));
  assert.throws(() => encoderModel({ ...definition, weights: wrong }), /field "bert.pooler.dense.weight": has 3 values/);
});

test('src/app/export bundles for the browser: no Node built-ins, protobufjs included', async () => {
  const entry = fileURLToPath(new URL('../../../../src/app/export/index.ts', import.meta.url));
  const result = await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent', metafile: true });
  assert.ok(Object.keys(result.metafile.inputs).some((input) => input.includes('node_modules/protobufjs/')), 'protobufjs is bundled');
  assert.ok(!Object.keys(result.metafile.inputs).some((input) => input.startsWith('node:')));
  // (The bundle is not run here: it holds tfjs-core, whose browser build picks Node's platform when it sees `process`.)
  assert.ok(result.outputFiles[0]!.text.includes('ModelProto'));
});
