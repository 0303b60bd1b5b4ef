/**
 * Building an ONNX graph node by node: every call appends a node in topological order and
 * returns the name of its output, so graph code reads like the TF.js code it mirrors
 * (`add(matMul(x, w), b)`). Constants become initializers (one per distinct value).
 */
import { DataType, type AttributeValue, type OnnxGraph, type OnnxNode, type OnnxTensor, type OnnxValueInfo, type TensorData } from './onnx.js';

export type Attributes = Record<string, AttributeValue>;

export const int = (value: number): AttributeValue => ({ type: 'int', value });
export const ints = (value: number[]): AttributeValue => ({ type: 'ints', value });
export const float = (value: number): AttributeValue => ({ type: 'float', value });

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly inputs: OnnxValueInfo[] = [];
  readonly outputs: OnnxValueInfo[] = [];
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();
  private counter = 0;

  /** A name not used yet, from `base`. */
  uniqueName(base: string): string {
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  input(name: string, elemType: DataType, shape: (number | string)[]): string {
    const unique = this.uniqueName(name);
    this.inputs.push({ name: unique, elemType, shape });
    return unique;
  }

  output(name: string, elemType: DataType, shape: (number | string)[]): void {
    this.outputs.push({ name, elemType, shape });
  }

  initializer(name: string, dataType: DataType, dims: number[], data: TensorData): string {
    const unique = this.uniqueName(name);
    this.initializers.push({ name: unique, dataType, dims, data });
    return unique;
  }

  /** A float32 parameter (a view is kept, not copied). */
  weight(name: string, dims: number[], data: Float32Array): string {
    return this.initializer(name, DataType.FLOAT, dims, data);
  }

  /** A shared constant initializer: the same values give the same tensor. */
  constant(dataType: DataType, dims: number[], values: readonly number[] | readonly bigint[]): string {
    const key = `${dataType}:${dims.join('x')}:${values.join(',')}`;
    const known = this.constants.get(key);
    if (known !== undefined) return known;
    let data: TensorData;
    switch (dataType) {
      case DataType.FLOAT:
        data = Float32Array.from(values as number[]);
        break;
      case DataType.INT64:
        data = BigInt64Array.from((values as readonly (number | bigint)[]).map((value) => BigInt(value)));
        break;
      case DataType.INT32:
        data = Int32Array.from(values as number[]);
        break;
      case DataType.UINT8:
      case DataType.BOOL:
        data = Uint8Array.from(values as number[]);
        break;
      case DataType.INT8:
        data = Int8Array.from(values as number[]);
        break;
    }
    const name = this.initializer(`const_${this.constants.size}`, dataType, dims, data);
    this.constants.set(key, name);
    return name;
  }

  /** A float32 scalar (rank 0). */
  scalar(value: number): string {
    return this.constant(DataType.FLOAT, [], [value]);
  }

  /** A 1-D int64 tensor (shapes, axes, indices). */
  int64s(values: readonly number[]): string {
    return this.constant(DataType.INT64, [values.length], values);
  }

  /** Appends a node; returns its output names (`outputs` of them, named after `name`). */
  nodeOutputs(opType: string, inputs: string[], attributes: Attributes = {}, outputs = 1, name?: string): string[] {
    const nodeName = this.uniqueName(name ?? `${opType}_${this.nodes.length}`);
    const outputNames = Array.from({ length: outputs }, (_, index) => this.uniqueName(outputs === 1 ? `${nodeName}_output` : `${nodeName}_output_${index}`));
    this.nodes.push({ opType, inputs, outputs: outputNames, name: nodeName, attributes });
    return outputNames;
  }

  /** Appends a one-output node and returns the output's name. */
  node(opType: string, inputs: string[], attributes: Attributes = {}, name?: string): string {
    return this.nodeOutputs(opType, inputs, attributes, 1, name)[0]!;
  }

  /** Gives the output `from` of the last node the name `to` (a graph output's fixed name, such as `logits`). */
  renameLastOutput(from: string, to: string): string {
    const last = this.nodes[this.nodes.length - 1];
    const index = last?.outputs.indexOf(from) ?? -1;
    if (last === undefined || index < 0) throw new Error(`${from} is not an output of the last node`);
    if (this.names.has(to)) throw new Error(`name ${to} is taken`);
    this.names.add(to);
    last.outputs[index] = to;
    return to;
  }

  graph(name: string): OnnxGraph {
    return { name, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs };
  }
}
