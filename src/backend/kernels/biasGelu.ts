/**
 * `MicrobatchBiasGelu` / `MicrobatchBiasGeluGrad` (wasm): the feed-forward activation in one
 * pass each way by the host `biasGeluForward`/`biasGeluBackward` — z = x + bias, y = GELU(z)
 * (exact erf form) keeping z; dx = dy·GELU'(z) with the bias gradient added straight into its
 * host gradient buffer. Replaces Add, Erf, Mul ×3, Exp … and a Sum over rows.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FusedKernels } from '../../core/host.js';
import { asWasmBackend, heapArray, rowsAndCols } from '../wasmHeap.js';

export const BIAS_GELU = 'MicrobatchBiasGelu';
export const BIAS_GELU_GRAD = 'MicrobatchBiasGeluGrad';

export interface BiasGeluAttrs {
  /** [cols] host values, or null (no bias). */
  bias: Float32Array | null;
}

export interface BiasGeluGradAttrs {
  /** The bias's host gradient buffer [cols], or null (no bias). */
  dbias: Float32Array | null;
  /** Add into dbias (false: assign). */
  accumulateDbias: boolean;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

export function biasGeluConfigs(fused: FusedKernels): tf.KernelConfig[] {
  const forward = (args: KernelArgs): tf.TensorInfo[] => {
    const { x } = args.inputs as unknown as { x: tf.TensorInfo };
    const { bias } = args.attrs as unknown as BiasGeluAttrs;
    const [rows, cols] = rowsAndCols(x);
    const backend = asWasmBackend(args.backend);
    const y = backend.makeOutput(x.shape, 'float32');
    const z = backend.makeOutput(x.shape, 'float32');
    const view = (info: tf.TensorInfo) => heapArray(backend, info) as Float32Array;
    fused.biasGeluForward(view(x), bias, rows, cols, view(y), view(z));
    return [y, z];
  };
  const backward = (args: KernelArgs): tf.TensorInfo => {
    const { dy, z } = args.inputs as unknown as { dy: tf.TensorInfo; z: tf.TensorInfo };
    const { dbias, accumulateDbias } = args.attrs as unknown as BiasGeluGradAttrs;
    const [rows, cols] = rowsAndCols(z);
    const backend = asWasmBackend(args.backend);
    const dx = backend.makeOutput(z.shape, 'float32');
    const view = (info: tf.TensorInfo) => heapArray(backend, info) as Float32Array;
    fused.biasGeluBackward(view(dy), view(z), rows, cols, view(dx), dbias, accumulateDbias);
    return dx;
  };
  return [
    { kernelName: BIAS_GELU, backendName: 'wasm', kernelFunc: forward as unknown as tf.KernelFunc },
    { kernelName: BIAS_GELU_GRAD, backendName: 'wasm', kernelFunc: backward as tf.KernelFunc },
  ];
}

/** [y, z] for x [..., cols]. */
export function biasGelu(x: tf.Tensor, attrs: BiasGeluAttrs): [tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(BIAS_GELU, { x }, attrs as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor, tf.Tensor];
}

export function biasGeluGrad(dy: tf.Tensor, z: tf.Tensor, attrs: BiasGeluGradAttrs): tf.Tensor {
  return tf.engine().runKernel(BIAS_GELU_GRAD, { dy, z }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
