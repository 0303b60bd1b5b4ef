/**
 * Dynamic int8 quantization of an exported graph, what onnxruntime's `quantize_dynamic` makes
 * for transformers.js' `model_quantized.onnx`, with standard operators only:
 *
 *     x_q, x_scale, x_zero = DynamicQuantizeLinear(x)          per tensor, at run time
 *     y = Cast(MatMulInteger(x_q, W_q, x_zero, W_zero)) · (x_scale · W_scale)
 *
 * Every MatMul (and the tied decoder's Gemm) whose right operand is a float weight is replaced;
 * the attention products of activations stay in float. Weights are quantized per output
 * channel, asymmetrically to uint8 over a range that includes 0 (as DynamicQuantizeLinear
 * does for activations). uint8 × uint8 rather than uint8 × int8: onnxruntime's u8s8 kernels on
 * x86 CPUs without VNNI multiply-add pairs into saturating int16 (its documentation's reason
 * for `reduce_range`), u8u8 does not, so the file computes the same on every CPU. Scales and
 * zero points are per column of the [K, N] weight, which MatMulInteger takes as an [N] zero
 * point; the per-column scale multiplies after the Cast.
 *
 * Note what this changes beyond rounding: an activation's scale comes from its whole tensor,
 * padding positions included, so a padded batch can round a sample's values slightly
 * differently from the sample alone.
 */
import { GraphBuilder, int } from './builder.js';
import { DataType, irVersionFor, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx.js';

/** Per-column asymmetric uint8 quantization of a [K, N] matrix: values, scales and zero points. */
export function quantizeColumns(matrix: Float32Array, rows: number, columns: number): { values: Uint8Array; scales: Float32Array; zeroPoints: Uint8Array } {
  const scales = new Float32Array(columns);
  const zeroPoints = new Uint8Array(columns);
  const low = new Float32Array(columns);
  const high = new Float32Array(columns);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const value = matrix[row * columns + column]!;
      if (value < low[column]!) low[column] = value;
      if (value > high[column]!) high[column] = value;
    }
  }
  for (let column = 0; column < columns; column++) {
    const scale = Math.fround((high[column]! - low[column]!) / 255);
    scales[column] = scale > 0 ? scale : 1;
    zeroPoints[column] = Math.min(255, Math.max(0, Math.round(-low[column]! / scales[column]!)));
  }
  const values = new Uint8Array(matrix.length);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const q = Math.round(matrix[row * columns + column]! / scales[column]!) + zeroPoints[column]!;
      values[row * columns + column] = Math.min(255, Math.max(0, q));
    }
  }
  return { values, scales, zeroPoints };
}

/** The weight operand of a node we quantize, as a [K, N] matrix (a Gemm's transB weight transposed). */
function weightOperand(node: OnnxNode, initializers: ReadonlyMap<string, OnnxTensor>): { matrix: Float32Array; rows: number; columns: number } | undefined {
  const tensor = initializers.get(node.inputs[1]!);
  if (tensor === undefined || tensor.dataType !== DataType.FLOAT || tensor.dims.length !== 2) return undefined;
  const [first, second] = tensor.dims as [number, number];
  const data = tensor.data as Float32Array;
  if (node.opType === 'MatMul') return { matrix: data, rows: first, columns: second };
  const transA = node.attributes.transA?.value ?? 0;
  const alpha = node.attributes.alpha?.value ?? 1;
  const beta = node.attributes.beta?.value ?? 1;
  if (node.opType !== 'Gemm' || transA !== 0 || alpha !== 1 || beta !== 1) return undefined;
  if ((node.attributes.transB?.value ?? 0) === 0) return { matrix: data, rows: first, columns: second };
  const matrix = new Float32Array(data.length);
  for (let row = 0; row < first; row++) for (let column = 0; column < second; column++) matrix[column * first + row] = data[row * second + column]!;
  return { matrix, rows: second, columns: first };
}

/** The model with every float-weight MatMul/Gemm computed in 8-bit integers (weights stored as uint8). */
export function quantizeDynamic(model: OnnxModel): OnnxModel {
  const { graph } = model;
  const initializers = new Map(graph.initializers.map((tensor) => [tensor.name, tensor]));
  const g = new GraphBuilder();
  // Names of the original graph stay reserved so that new names cannot collide with them.
  const reserved = [...graph.inputs.map((input) => input.name), ...graph.initializers.map((tensor) => tensor.name), ...graph.nodes.flatMap((node) => [node.name, ...node.outputs])];
  for (const name of reserved) g.uniqueName(name);
  const replacedWeights = new Set<string>();
  const quantizedInputs = new Map<string, string[]>();
  for (const node of graph.nodes) {
    const operand = node.opType === 'MatMul' || node.opType === 'Gemm' ? weightOperand(node, initializers) : undefined;
    if (operand === undefined) {
      g.nodes.push(node);
      continue;
    }
    const weightName = node.inputs[1]!;
    replacedWeights.add(weightName);
    const { values, scales, zeroPoints } = quantizeColumns(operand.matrix, operand.rows, operand.columns);
    const base = weightName.replace(/\.weight(\.T)?$/, '') || weightName;
    const quantized = g.initializer(`${base}.weight_quantized`, DataType.UINT8, [operand.rows, operand.columns], values);
    const zero = g.initializer(`${base}.weight_zero_point`, DataType.UINT8, [operand.columns], zeroPoints);
    const scale = g.initializer(`${base}.weight_scale`, DataType.FLOAT, [operand.columns], scales);
    // One DynamicQuantizeLinear per activation, shared by the projections that read it (q, k, v).
    const input = node.inputs[0]!;
    let dynamic = quantizedInputs.get(input);
    if (dynamic === undefined) {
      dynamic = g.nodeOutputs('DynamicQuantizeLinear', [input], {}, 3, `${node.name}/DynamicQuantizeLinear`);
      quantizedInputs.set(input, dynamic);
    }
    const [inputQuantized, inputScale, inputZero] = dynamic as [string, string, string];
    const integer = g.node('MatMulInteger', [inputQuantized, quantized, inputZero, zero], {}, `${node.name}/MatMulInteger`);
    const product = g.node('Cast', [integer], { to: int(DataType.FLOAT) });
    const scaleProduct = g.node('Mul', [inputScale, scale]);
    // The node's output keeps its name, so that the rest of the graph is unchanged.
    const bias = node.opType === 'Gemm' ? node.inputs[2] : undefined;
    if (bias !== undefined && bias !== '') {
      g.nodes.push({ opType: 'Add', inputs: [g.node('Mul', [product, scaleProduct]), bias], outputs: node.outputs, name: `${node.name}/bias`, attributes: {} });
    } else {
      g.nodes.push({ opType: 'Mul', inputs: [product, scaleProduct], outputs: node.outputs, name: `${node.name}/dequantize`, attributes: {} });
    }
  }
  const stillUsed = new Set(g.nodes.flatMap((node) => node.inputs));
  const kept = graph.initializers.filter((tensor) => !replacedWeights.has(tensor.name) || stillUsed.has(tensor.name));
  // Float initializers kept first (in their order), the quantized ones after.
  const initializerList = [...kept, ...g.initializers];
  return {
    ...model,
    irVersion: Math.max(model.irVersion, irVersionFor(model.opset)),
    docString: `${model.docString}; dynamically quantized: MatMul/Gemm weights uint8 per output channel (MatMulInteger), activations uint8 per tensor (DynamicQuantizeLinear)`,
    graph: { ...graph, nodes: g.nodes, initializers: initializerList },
    metadata: { ...model.metadata, quantization: 'dynamic uint8 (per-channel weights)' },
  };
}

