/**
 * `MicrobatchSoftmax` / `MicrobatchSoftmaxGrad` (wasm): attention probabilities
 * softmax(scale·scores + mask) over the last axis in one pass by the host `softmaxForward`,
 * and the scores' gradient y·(dy − Σ dy·y)·scale by `softmaxBackward` — in place of a Mul, an
 * Add, the stock Softmax, and Mul, Sum, Sub, Mul on the way back.
 *
 * The mask is an additive [maskRows, cols] tensor; row r of the scores adds mask row
 * ⌊r / maskRepeat⌋ mod maskRows (BERT's [batch, 1, 1, keys] mask on [batch, heads, queries,
 * keys] scores: maskRows = batch, maskRepeat = heads·queries).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FusedKernels } from '../../core/host.js';
import { asWasmBackend, heapArray, rowsAndCols } from '../wasmHeap.js';

export const SOFTMAX = 'MicrobatchSoftmax';
export const SOFTMAX_GRAD = 'MicrobatchSoftmaxGrad';

export interface SoftmaxAttrs {
  scale: number;
  maskRows: number;
  maskRepeat: number;
}

export interface SoftmaxGradAttrs {
  scale: number;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

export function softmaxConfigs(fused: FusedKernels): tf.KernelConfig[] {
  const forward = (args: KernelArgs): tf.TensorInfo => {
    const { x, mask } = args.inputs as unknown as { x: tf.TensorInfo; mask?: tf.TensorInfo };
    const { scale, maskRows, maskRepeat } = args.attrs as unknown as SoftmaxAttrs;
    const [rows, cols] = rowsAndCols(x);
    const backend = asWasmBackend(args.backend);
    const y = backend.makeOutput(x.shape, 'float32');
    const view = (info: tf.TensorInfo) => heapArray(backend, info) as Float32Array;
    fused.softmaxForward(view(x), rows, cols, scale, mask !== undefined ? view(mask) : null, maskRows, maskRepeat, view(y));
    return y;
  };
  const backward = (args: KernelArgs): tf.TensorInfo => {
    const { dy, y } = args.inputs as unknown as { dy: tf.TensorInfo; y: tf.TensorInfo };
    const { scale } = args.attrs as unknown as SoftmaxGradAttrs;
    const [rows, cols] = rowsAndCols(y);
    const backend = asWasmBackend(args.backend);
    const dx = backend.makeOutput(y.shape, 'float32');
    const view = (info: tf.TensorInfo) => heapArray(backend, info) as Float32Array;
    fused.softmaxBackward(view(dy), view(y), rows, cols, scale, view(dx));
    return dx;
  };
  return [
    { kernelName: SOFTMAX, backendName: 'wasm', kernelFunc: forward as tf.KernelFunc },
    { kernelName: SOFTMAX_GRAD, backendName: 'wasm', kernelFunc: backward as tf.KernelFunc },
  ];
}

export function softmax(x: tf.Tensor, mask: tf.Tensor | undefined, attrs: SoftmaxAttrs): tf.Tensor {
  const inputs: tf.NamedTensorMap = mask !== undefined ? { x, mask } : { x };
  return tf.engine().runKernel(SOFTMAX, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

export function softmaxGrad(dy: tf.Tensor, y: tf.Tensor, attrs: SoftmaxGradAttrs): tf.Tensor {
  return tf.engine().runKernel(SOFTMAX_GRAD, { dy, y }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
