/** Shared pieces of the matMul kernel tests (fast wasm kernel, native kernel): cases, operands, product + gradients. */
import * as tf from '@tensorflow/tfjs-core';

export interface MatMulCase {
  aBatch: number[];
  bBatch: number[];
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
  seed: number;
}

export function operandShape(batch: number[], rows: number, cols: number, transposed: boolean): number[] {
  return [...batch, ...(transposed ? [cols, rows] : [rows, cols])];
}

export function normalTensor(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

/**
 * Forward product and both gradients of sum(matMul(a, b) ⊙ w), read back as arrays. TF.js's
 * BatchMatMul gradient rejects some batch broadcasts (e.g. [1] with [3]); then `grads` is
 * the error message, which a replacement kernel must reproduce too.
 */
export async function productAndGrads(c: MatMulCase, makeTensor: (shape: number[], seed: number) => tf.Tensor = normalTensor) {
  const a = makeTensor(operandShape(c.aBatch, c.m, c.k, c.transposeA), c.seed);
  const b = makeTensor(operandShape(c.bBatch, c.k, c.n, c.transposeB), c.seed + 1);
  const product = tf.matMul(a, b, c.transposeA, c.transposeB);
  const weights = makeTensor(product.shape, c.seed + 2);
  const result = { shape: product.shape, product: await product.data() };
  let grads: { a: ArrayLike<number>; b: ArrayLike<number> } | string;
  try {
    const [gradA, gradB] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, c.transposeA, c.transposeB), weights)))([a, b]);
    grads = { a: await gradA!.data(), b: await gradB!.data() };
    tf.dispose([gradA!, gradB!]);
  } catch (error) {
    grads = (error as Error).message;
  }
  tf.dispose([a, b, product, weights]);
  return { ...result, grads };
}
