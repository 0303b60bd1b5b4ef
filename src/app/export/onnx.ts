/**
 * ONNX models in memory and on the wire.
 *
 * The wire format is written and read by protobufjs (a maintained protobuf library) from a
 * reflection schema declared here: the messages of `onnx.proto` that an inference graph uses —
 * ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto,
 * TensorShapeProto, OperatorSetIdProto, StringStringEntryProto — with the field numbers and
 * proto2 packing of the ONNX IR specification. Why not a package with the whole schema: the
 * `onnx-proto` package on npm is protobufjs 6 generated code (two majors behind the protobufjs
 * this project uses) for messages we never write (training info, sparse tensors, functions);
 * the field numbers are the format's stable contract, and every file we write is checked by
 * onnxruntime in the tests.
 *
 * `checkOnnxModel` does in JavaScript what `onnx.checker` checks structurally: unique names,
 * every node input defined before use (topological order), graph outputs produced, tensor data
 * sizes, the IR version an opset needs, and each operator's arity and opset availability.
 */
import protobuf from 'protobufjs/light.js';
import { ConfigError } from '../../core/errors.js';

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9 } as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

export type TensorData = Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;

export interface OnnxTensor {
  name: string;
  dataType: DataType;
  dims: number[];
  /** Row-major values; written as little-endian `raw_data`. */
  data: TensorData;
}

export type AttributeValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'ints'; value: number[] }
  | { type: 'string'; value: string };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes: Record<string, AttributeValue>;
}

/** A graph input or output: element type and shape, a dimension being a size or a symbolic name. */
export interface OnnxValueInfo {
  name: string;
  elemType: DataType;
  shape: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  /** Version of the default ("ai.onnx") operator set. */
  opset: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  graph: OnnxGraph;
  /** `metadata_props`. */
  metadata: Record<string, string>;
}

const repeated = (type: string, id: number, packed?: boolean) => ({ rule: 'repeated', type, id, ...(packed === undefined ? {} : { options: { packed } }) });
const optional = (type: string, id: number) => ({ type, id });

/** The ONNX messages we use, as protobufjs reflection JSON (field numbers from onnx.proto, IR version 10). */
const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            ir_version: optional('int64', 1),
            producer_name: optional('string', 2),
            producer_version: optional('string', 3),
            domain: optional('string', 4),
            model_version: optional('int64', 5),
            doc_string: optional('string', 6),
            graph: optional('GraphProto', 7),
            opset_import: repeated('OperatorSetIdProto', 8),
            metadata_props: repeated('StringStringEntryProto', 14),
          },
        },
        OperatorSetIdProto: { fields: { domain: optional('string', 1), version: optional('int64', 2) } },
        StringStringEntryProto: { fields: { key: optional('string', 1), value: optional('string', 2) } },
        GraphProto: {
          fields: {
            node: repeated('NodeProto', 1),
            name: optional('string', 2),
            initializer: repeated('TensorProto', 5),
            doc_string: optional('string', 10),
            input: repeated('ValueInfoProto', 11),
            output: repeated('ValueInfoProto', 12),
            value_info: repeated('ValueInfoProto', 13),
          },
        },
        NodeProto: {
          fields: {
            input: repeated('string', 1),
            output: repeated('string', 2),
            name: optional('string', 3),
            op_type: optional('string', 4),
            attribute: repeated('AttributeProto', 5),
            doc_string: optional('string', 6),
            domain: optional('string', 7),
          },
        },
        AttributeProto: {
          fields: {
            name: optional('string', 1),
            f: optional('float', 2),
            i: optional('int64', 3),
            s: optional('bytes', 4),
            t: optional('TensorProto', 5),
            floats: repeated('float', 7, false),
            ints: repeated('int64', 8, false),
            strings: repeated('bytes', 9),
            doc_string: optional('string', 13),
            type: optional('int32', 20),
          },
        },
        TensorProto: {
          fields: {
            dims: repeated('int64', 1, false),
            data_type: optional('int32', 2),
            float_data: repeated('float', 4, true),
            int32_data: repeated('int32', 5, true),
            int64_data: repeated('int64', 7, true),
            name: optional('string', 8),
            raw_data: optional('bytes', 9),
            doc_string: optional('string', 12),
          },
        },
        ValueInfoProto: { fields: { name: optional('string', 1), type: optional('TypeProto', 2), doc_string: optional('string', 3) } },
        TypeProto: { fields: { tensor_type: optional('TypeProtoTensor', 1), denotation: optional('string', 6) } },
        TypeProtoTensor: { fields: { elem_type: optional('int32', 1), shape: optional('TensorShapeProto', 2) } },
        TensorShapeProto: { fields: { dim: repeated('TensorShapeDimension', 1) } },
        TensorShapeDimension: {
          oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
          fields: { dim_value: optional('int64', 1), dim_param: optional('string', 2), denotation: optional('string', 3) },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(SCHEMA);
const ModelProto = root.lookupType('onnx.ModelProto');

/** AttributeProto.AttributeType values. */
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, ints: 7 } as const;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const BYTES_PER_ELEMENT: Record<DataType, number> = { [DataType.FLOAT]: 4, [DataType.UINT8]: 1, [DataType.INT8]: 1, [DataType.INT32]: 4, [DataType.INT64]: 8, [DataType.BOOL]: 1 };

function rawBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function valueInfoMessage(info: OnnxValueInfo): Record<string, unknown> {
  return {
    name: info.name,
    type: {
      tensor_type: {
        elem_type: info.elemType,
        shape: { dim: info.shape.map((dim) => (typeof dim === 'number' ? { dim_value: dim } : { dim_param: dim })) },
      },
    },
  };
}

function attributeMessage(name: string, attribute: AttributeValue): Record<string, unknown> {
  const message: Record<string, unknown> = { name, type: ATTRIBUTE_TYPE[attribute.type] };
  switch (attribute.type) {
    case 'float':
      message.f = attribute.value;
      break;
    case 'int':
      message.i = attribute.value;
      break;
    case 'ints':
      message.ints = attribute.value;
      break;
    case 'string':
      message.s = new TextEncoder().encode(attribute.value);
      break;
  }
  return message;
}

/** The model as ONNX protobuf bytes (tensor data as little-endian raw_data, as onnxruntime and the onnx package write it). */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  if (!LITTLE_ENDIAN) throw new ConfigError('ONNX export needs a little-endian platform (raw_data is little-endian)');
  const { graph } = model;
  const message = {
    ir_version: model.irVersion,
    producer_name: model.producerName,
    producer_version: model.producerVersion,
    doc_string: model.docString,
    opset_import: [{ domain: '', version: model.opset }],
    metadata_props: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name,
      node: graph.nodes.map((node) => ({
        input: node.inputs,
        output: node.outputs,
        name: node.name,
        op_type: node.opType,
        domain: '',
        attribute: Object.entries(node.attributes).map(([name, value]) => attributeMessage(name, value)),
      })),
      initializer: graph.initializers.map((tensor) => ({ name: tensor.name, dims: tensor.dims, data_type: tensor.dataType, raw_data: rawBytes(tensor.data) })),
      input: graph.inputs.map(valueInfoMessage),
      output: graph.outputs.map(valueInfoMessage),
    },
  };
  return ModelProto.encode(ModelProto.fromObject(message)).finish();
}

function tensorFromRaw(dataType: DataType, raw: Uint8Array): TensorData {
  // Copy into an aligned buffer of its own: the field is a view into the whole file (or Node's Buffer pool).
  const bytes = new Uint8Array(raw);
  switch (dataType) {
    case DataType.FLOAT:
      return new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
    case DataType.UINT8:
    case DataType.BOOL:
      return bytes;
    case DataType.INT8:
      return new Int8Array(bytes.buffer);
    case DataType.INT32:
      return new Int32Array(bytes.buffer, 0, bytes.byteLength / 4);
    case DataType.INT64:
      return new BigInt64Array(bytes.buffer, 0, bytes.byteLength / 8);
  }
}

interface DecodedValueInfo {
  name: string;
  type?: { tensor_type?: { elem_type: number; shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } };
}

function valueInfoFromMessage(info: DecodedValueInfo): OnnxValueInfo {
  const tensor = info.type?.tensor_type;
  return {
    name: info.name,
    elemType: (tensor?.elem_type ?? 0) as DataType,
    shape: (tensor?.shape?.dim ?? []).map((dim) => dim.dim_param ?? Number(dim.dim_value ?? 0)),
  };
}

/** Reads ONNX protobuf bytes written by `encodeOnnxModel` (raw_data tensors, the attribute types above). */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModel {
  const decoded = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: false, arrays: true }) as {
    ir_version?: number;
    producer_name?: string;
    producer_version?: string;
    doc_string?: string;
    opset_import: { domain?: string; version: number }[];
    metadata_props: { key: string; value: string }[];
    graph: {
      name?: string;
      node: { input: string[]; output: string[]; name?: string; op_type: string; attribute: { name: string; type: number; f?: number; i?: number; ints: number[]; s?: Uint8Array }[] }[];
      initializer: { name: string; dims: number[]; data_type: number; raw_data?: Uint8Array }[];
      input: DecodedValueInfo[];
      output: DecodedValueInfo[];
    };
  };
  const opset = decoded.opset_import.find((entry) => (entry.domain ?? '') === '');
  const attributeValue = (attribute: (typeof decoded.graph.node)[number]['attribute'][number]): AttributeValue => {
    switch (attribute.type) {
      case ATTRIBUTE_TYPE.float:
        return { type: 'float', value: attribute.f ?? 0 };
      case ATTRIBUTE_TYPE.int:
        return { type: 'int', value: attribute.i ?? 0 };
      case ATTRIBUTE_TYPE.ints:
        return { type: 'ints', value: attribute.ints };
      case ATTRIBUTE_TYPE.string:
        return { type: 'string', value: new TextDecoder().decode(attribute.s ?? new Uint8Array()) };
      default:
        throw new ConfigError(`attribute "${attribute.name}" has type ${attribute.type}, which this reader does not handle`);
    }
  };
  return {
    irVersion: decoded.ir_version ?? 0,
    opset: opset?.version ?? 0,
    producerName: decoded.producer_name ?? '',
    producerVersion: decoded.producer_version ?? '',
    docString: decoded.doc_string ?? '',
    metadata: Object.fromEntries(decoded.metadata_props.map(({ key, value }) => [key, value])),
    graph: {
      name: decoded.graph.name ?? '',
      nodes: decoded.graph.node.map((node) => ({
        opType: node.op_type,
        inputs: node.input,
        outputs: node.output,
        name: node.name ?? '',
        attributes: Object.fromEntries(node.attribute.map((attribute) => [attribute.name, attributeValue(attribute)])),
      })),
      initializers: decoded.graph.initializer.map((tensor) => ({
        name: tensor.name,
        dims: tensor.dims,
        dataType: tensor.data_type as DataType,
        data: tensorFromRaw(tensor.data_type as DataType, tensor.raw_data ?? new Uint8Array()),
      })),
      inputs: decoded.graph.input.map(valueInfoFromMessage),
      outputs: decoded.graph.output.map(valueInfoFromMessage),
    },
  };
}

/** Operators we emit: [first opset of the version we rely on, min inputs, max inputs, outputs]. */
const OPERATORS: Record<string, readonly [since: number, minInputs: number, maxInputs: number, outputs: number]> = {
  Add: [7, 2, 2, 1],
  Sub: [7, 2, 2, 1],
  Mul: [7, 2, 2, 1],
  Div: [7, 2, 2, 1],
  Pow: [7, 2, 2, 1],
  Sqrt: [6, 1, 1, 1],
  Erf: [9, 1, 1, 1],
  Tanh: [6, 1, 1, 1],
  Relu: [6, 1, 1, 1],
  Not: [1, 1, 1, 1],
  Equal: [11, 2, 2, 1],
  Cast: [6, 1, 1, 1],
  CumSum: [11, 2, 2, 1],
  Gather: [11, 2, 2, 1],
  Slice: [10, 3, 5, 1],
  Shape: [1, 1, 1, 1],
  Concat: [11, 1, Infinity, 1],
  Reshape: [5, 2, 2, 1],
  Transpose: [1, 1, 1, 1],
  MatMul: [9, 2, 2, 1],
  Gemm: [11, 2, 3, 1],
  // From 13 Softmax normalises along one axis (before, it flattened the trailing axes).
  Softmax: [13, 1, 1, 1],
  ReduceMean: [1, 1, 1, 1],
  LayerNormalization: [17, 1, 3, 1],
  DynamicQuantizeLinear: [11, 1, 1, 3],
  MatMulInteger: [10, 2, 4, 1],
};

/** ReduceMean takes its axes as an input from opset 18 on; we emit it (decomposed LayerNorm) only below 17. */
const REMOVED_IN: Record<string, number> = { ReduceMean: 18 };

/** The IR version an opset needs (IR 8: opsets ≤ 17, IR 9: 18–20, IR 10: 21). */
export function irVersionFor(opset: number): number {
  return opset <= 17 ? 8 : opset <= 20 ? 9 : 10;
}

/** Structural checks of `onnx.checker` that apply to our graphs; throws a ConfigError naming the node or tensor. */
export function checkOnnxModel(model: OnnxModel): void {
  const fail = (detail: string): never => {
    throw new ConfigError(`invalid ONNX graph: ${detail}`);
  };
  const { graph, opset } = model;
  if (model.irVersion < irVersionFor(opset)) fail(`opset ${opset} needs IR version ${irVersionFor(opset)}, the model says ${model.irVersion}`);
  const defined = new Set<string>();
  const define = (name: string, what: string) => {
    if (name === '') fail(`${what} has an empty name`);
    if (defined.has(name)) fail(`"${name}" (${what}) is defined twice`);
    defined.add(name);
  };
  for (const input of graph.inputs) define(input.name, 'graph input');
  for (const tensor of graph.initializers) {
    define(tensor.name, 'initializer');
    const count = tensor.dims.reduce((product, dim) => product * dim, 1);
    if (tensor.dims.some((dim) => !Number.isSafeInteger(dim) || dim < 0)) fail(`initializer "${tensor.name}" has dims ${JSON.stringify(tensor.dims)}`);
    if (tensor.data.byteLength !== count * BYTES_PER_ELEMENT[tensor.dataType]) {
      fail(`initializer "${tensor.name}" has ${tensor.data.byteLength} bytes of data for dims ${JSON.stringify(tensor.dims)}`);
    }
  }
  const nodeNames = new Set<string>();
  for (const node of graph.nodes) {
    const spec = OPERATORS[node.opType];
    if (spec === undefined) fail(`node "${node.name}": operator ${node.opType} is not one this exporter emits`);
    const [since, minInputs, maxInputs, outputs] = spec;
    if (opset < since || opset >= (REMOVED_IN[node.opType] ?? Infinity)) fail(`node "${node.name}": ${node.opType} as emitted needs opset ${since}…${(REMOVED_IN[node.opType] ?? Infinity) - 1}, the model imports ${opset}`);
    if (node.inputs.length < minInputs || node.inputs.length > maxInputs) fail(`node "${node.name}": ${node.opType} takes ${minInputs}–${maxInputs} inputs, got ${node.inputs.length}`);
    if (node.outputs.length < 1 || node.outputs.length > outputs) fail(`node "${node.name}": ${node.opType} has at most ${outputs} outputs, got ${node.outputs.length}`);
    if (nodeNames.has(node.name)) fail(`node name "${node.name}" is used twice`);
    nodeNames.add(node.name);
    for (const input of node.inputs) if (input !== '' && !defined.has(input)) fail(`node "${node.name}" reads "${input}" before it is defined (nodes must be in topological order)`);
    for (const output of node.outputs) define(output, `output of node "${node.name}"`);
  }
  if (graph.outputs.length === 0) fail('the graph has no outputs');
  for (const output of graph.outputs) if (!defined.has(output.name)) fail(`graph output "${output.name}" is never computed`);
}
