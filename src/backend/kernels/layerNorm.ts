/**
 * `MicrobatchLayerNorm` / `MicrobatchLayerNormGrad` / `MicrobatchLayerNormAffine` (wasm): a
 * residual add and LayerNorm over the last axis in one pass by the host `layerNormForward`
 * (keeping x̂ and 1/σ, as the unfused layer does), its backward with γ's and β's gradients
 * added straight into their host gradient buffers, and the output γ·x̂ + β again from x̂ (the
 * backward recomputes a block's output instead of keeping it). γ and β are read on the host.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FusedKernels } from '../../core/host.js';
import { asWasmBackend, heapArray, rowsAndCols } from '../wasmHeap.js';

export const LAYER_NORM = 'MicrobatchLayerNorm';
export const LAYER_NORM_GRAD = 'MicrobatchLayerNormGrad';
export const LAYER_NORM_AFFINE = 'MicrobatchLayerNormAffine';

export interface LayerNormAttrs {
  gamma: Float32Array;
  beta: Float32Array;
  eps: number;
}

export interface LayerNormGradAttrs {
  gamma: Float32Array;
  /** Host gradient buffers of γ and β [cols] (null: not wanted). */
  dgamma: Float32Array | null;
  dbeta: Float32Array | null;
  /** Add into dgamma and dbeta (false: assign). */
  accumulateParams: boolean;
}

export interface LayerNormAffineAttrs {
  gamma: Float32Array;
  beta: Float32Array;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

export function layerNormConfigs(fused: FusedKernels): tf.KernelConfig[] {
  const forward = (args: KernelArgs): tf.TensorInfo[] => {
    const { x, residual } = args.inputs as unknown as { x: tf.TensorInfo; residual?: tf.TensorInfo };
    const { gamma, beta, eps } = args.attrs as unknown as LayerNormAttrs;
    const [rows, cols] = rowsAndCols(x);
    const backend = asWasmBackend(args.backend);
    const out = backend.makeOutput(x.shape, 'float32');
    const xhat = backend.makeOutput(x.shape, 'float32');
    const invStd = backend.makeOutput([...x.shape.slice(0, -1), 1], 'float32');
    const view = (info: tf.TensorInfo) => heapArray(backend, info) as Float32Array;
    fused.layerNormForward(view(x), residual !== undefined ? view(residual) : null, gamma, beta, rows, cols, eps, view(out), view(xhat), view(invStd));
    return [out, xhat, invStd];
  };
  const backward = (args: KernelArgs): tf.TensorInfo => {
    const { dy, xhat, invStd } = args.inputs as unknown as { dy: tf.TensorInfo; xhat: tf.TensorInfo; invStd: tf.TensorInfo };
    const { gamma, dgamma, dbeta, accumulateParams } = args.attrs as unknown as LayerNormGradAttrs;
    const [rows, cols] = rowsAndCols(xhat);
    const backend = asWasmBackend(args.backend);
    const dx = backend.makeOutput(xhat.shape, 'float32');
    const view = (info: tf.TensorInfo) => heapArray(backend, info) as Float32Array;
    fused.layerNormBackward(view(dy), view(xhat), view(invStd), gamma, rows, cols, view(dx), dgamma, dbeta, false, accumulateParams);
    return dx;
  };
  const affine = (args: KernelArgs): tf.TensorInfo => {
    const { xhat } = args.inputs as unknown as { xhat: tf.TensorInfo };
    const { gamma, beta } = args.attrs as unknown as LayerNormAffineAttrs;
    const [rows, cols] = rowsAndCols(xhat);
    const backend = asWasmBackend(args.backend);
    const out = backend.makeOutput(xhat.shape, 'float32');
    const view = (info: tf.TensorInfo) => heapArray(backend, info) as Float32Array;
    fused.layerNormAffine(view(xhat), gamma, beta, rows, cols, view(out));
    return out;
  };
  return [
    { kernelName: LAYER_NORM, backendName: 'wasm', kernelFunc: forward as unknown as tf.KernelFunc },
    { kernelName: LAYER_NORM_GRAD, backendName: 'wasm', kernelFunc: backward as tf.KernelFunc },
    { kernelName: LAYER_NORM_AFFINE, backendName: 'wasm', kernelFunc: affine as tf.KernelFunc },
  ];
}

/** [out, x̂, 1/σ [..., 1]] of LayerNorm(x + residual). */
export function layerNorm(x: tf.Tensor, residual: tf.Tensor | undefined, attrs: LayerNormAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const inputs: tf.NamedTensorMap = residual !== undefined ? { x, residual } : { x };
  return tf.engine().runKernel(LAYER_NORM, inputs, attrs as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}

export function layerNormGrad(dy: tf.Tensor, xhat: tf.Tensor, invStd: tf.Tensor, attrs: LayerNormGradAttrs): tf.Tensor {
  return tf.engine().runKernel(LAYER_NORM_GRAD, { dy, xhat, invStd }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

export function layerNormAffine(xhat: tf.Tensor, attrs: LayerNormAffineAttrs): tf.Tensor {
  return tf.engine().runKernel(LAYER_NORM_AFFINE, { xhat }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
