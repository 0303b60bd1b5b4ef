/** Export of trained models: ONNX graphs built from the family registry, dynamic int8 quantization, transformers.js' folder layout. */
export { DataType, checkOnnxModel, decodeOnnxModel, encodeOnnxModel, irVersionFor, type AttributeValue, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo, type TensorData } from './onnx.js';
export { GraphBuilder } from './builder.js';
export { encoderModel, hasTokenTypeInput, checkOpset, DEFAULT_OPSET, MIN_OPSET, MAX_OPSET, type ExportDefinition, type GraphOptions } from './encoderGraph.js';
export { quantizeDynamic, quantizeColumns } from './quantize.js';
export { onnxExport, exportTokenizerConfig, positionLimit, ONNX_MODEL_FILE, ONNX_QUANTIZED_FILE, type OnnxExport, type OnnxExportOptions, type Quantization } from './files.js';
