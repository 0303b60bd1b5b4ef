/**
 * `Cast` for the wasm backend without the copy when the dtype does not change. TF.js's
 * gradient functions cast float32 gradients to float32 (e.g. the gradients of Add, Sub and
 * Multiply), and the stock kernel copies every element even then. A same-dtype cast shares
 * the data, as the zero-copy Identity does; real conversions go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { asWasmBackend } from '../wasmHeap.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Builds the fast kernel config around the stock Cast kernel. */
export function fastCastConfig(stock: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as unknown as { x: tf.TensorInfo };
    const { dtype } = args.attrs as unknown as tf.CastAttrs;
    if (dtype !== x.dtype || x.dtype === 'string') return stock.kernelFunc(args) as tf.TensorInfo;
    asWasmBackend(args.backend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { ...stock, kernelFunc: kernelFunc as tf.KernelFunc };
}
