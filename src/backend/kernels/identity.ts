/**
 * Zero-copy `Identity` for the wasm backend. The stock kernel copies the whole tensor, and
 * TF.js clones (Identity) every tensor it saves for the backward pass, so a BERT training
 * step copied ≈ 300 MB per micro-batch just to keep activations alive. TF.js tensors are
 * immutable (even `Variable.assign` swaps the data instead of writing into it), so sharing
 * the data with one more reference is what the cpu backend does too; the memory is freed
 * when the last owner is disposed (the wasm backend counts references, as for Reshape).
 */
import * as tf from '@tensorflow/tfjs-core';
import { asWasmBackend } from '../wasmHeap.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Builds the fast kernel config around the stock Identity kernel (kept for strings). */
export function fastIdentityConfig(stock: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as unknown as { x: tf.TensorInfo };
    // Strings do not live in the wasm heap; the stock kernel handles them.
    if (x.dtype === 'string') return stock.kernelFunc(args) as tf.TensorInfo;
    asWasmBackend(args.backend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { ...stock, kernelFunc: kernelFunc as tf.KernelFunc };
}
