/**
 * `MicrobatchBiasDropout` / `MicrobatchBiasDropoutGrad` (wasm): y = (x + bias)·mask and
 * dx = dy·mask in one pass each by the host `biasDropoutForward`/`biasDropoutBackward`, the
 * mask drawn inside the kernel from one seed per group of rows — exactly src/core/random.ts's
 * fillGroupedDropoutMask, never materialised — and the bias gradient added straight into its
 * host buffer. With rate 0
 * it is a bias add (a dense layer's bias without a second kernel).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FusedKernels } from '../../core/host.js';
import { asWasmBackend, heapArray, rowsAndCols } from '../wasmHeap.js';

export const BIAS_DROPOUT = 'MicrobatchBiasDropout';
export const BIAS_DROPOUT_GRAD = 'MicrobatchBiasDropoutGrad';

/**
 * Which mask: fillGroupedDropoutMask's — row r of the tensor is row r mod groupRows of group
 * ⌊r / groupRows⌋, its column c draw (r mod groupRows)·rowStride + c of the stream of that group.
 */
export interface DropoutMaskAttrs {
  rate: number;
  /** Each group's stream state (src/core/random.ts `dropoutStreamState`); null with rate 0. */
  seeds: Uint32Array | null;
  groupRows: number;
  rowStride: number;
}

export interface BiasDropoutAttrs extends DropoutMaskAttrs {
  /** [cols] host values, or null. */
  bias: Float32Array | null;
}

export interface BiasDropoutGradAttrs extends DropoutMaskAttrs {
  /** The bias's host gradient buffer [cols], or null. */
  dbias: Float32Array | null;
  accumulateDbias: boolean;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

export function biasDropoutConfigs(fused: FusedKernels): tf.KernelConfig[] {
  const forward = (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as unknown as { x: tf.TensorInfo };
    const { bias, rate, seeds, groupRows, rowStride } = args.attrs as unknown as BiasDropoutAttrs;
    const [rows, cols] = rowsAndCols(x);
    const backend = asWasmBackend(args.backend);
    const y = backend.makeOutput(x.shape, 'float32');
    const view = (info: tf.TensorInfo) => heapArray(backend, info) as Float32Array;
    fused.biasDropoutForward(view(x), bias, rows, cols, rate, seeds, groupRows, rowStride, view(y));
    return y;
  };
  const backward = (args: KernelArgs): tf.TensorInfo => {
    const { dy } = args.inputs as unknown as { dy: tf.TensorInfo };
    const { rate, seeds, groupRows, rowStride, dbias, accumulateDbias } = args.attrs as unknown as BiasDropoutGradAttrs;
    const [rows, cols] = rowsAndCols(dy);
    const backend = asWasmBackend(args.backend);
    const dx = backend.makeOutput(dy.shape, 'float32');
    const view = (info: tf.TensorInfo) => heapArray(backend, info) as Float32Array;
    fused.biasDropoutBackward(view(dy), rows, cols, rate, seeds, groupRows, rowStride, view(dx), dbias, accumulateDbias);
    return dx;
  };
  return [
    { kernelName: BIAS_DROPOUT, backendName: 'wasm', kernelFunc: forward as tf.KernelFunc },
    { kernelName: BIAS_DROPOUT_GRAD, backendName: 'wasm', kernelFunc: backward as tf.KernelFunc },
  ];
}

export function biasDropout(x: tf.Tensor, attrs: BiasDropoutAttrs): tf.Tensor {
  return tf.engine().runKernel(BIAS_DROPOUT, { x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

export function biasDropoutGrad(dy: tf.Tensor, attrs: BiasDropoutGradAttrs): tf.Tensor {
  return tf.engine().runKernel(BIAS_DROPOUT_GRAD, { dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
