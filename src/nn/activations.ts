/**
 * The activations HF encoders use (`ACT2FN`), forward and backward. The backward takes the
 * activation's input, which the caller saved. `biasActivationForward/Backward` add a dense
 * layer's bias first — one fused kernel each way for the exact GELU when the fused kernels are
 * usable, TF.js ops otherwise.
 */
import * as tf from '@tensorflow/tfjs-core';
import { biasGelu, biasGeluGrad } from '../backend/kernels/biasGelu.js';
import { ConfigError } from '../core/errors.js';
import type { BackwardContext, LayerContext } from './context.js';

export type Activation = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu' | 'tanh';
export const ACTIVATIONS: readonly Activation[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu', 'tanh'];

export function parseActivation(value: unknown, field: string, file?: string): Activation {
  if (typeof value === 'string' && (ACTIVATIONS as readonly string[]).includes(value)) return value as Activation;
  // HF spells the exact GELU "gelu" and also accepts "gelu_python" (the same function).
  if (value === 'gelu_python') return 'gelu';
  throw new ConfigError(`must be one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(value)}`, { field, ...(file !== undefined ? { file } : {}) });
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INVERSE_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Exact GELU x·Φ(x), Φ(x) = (1 + erf(x/√2))/2; the tanh approximations for gelu_new/gelu_pytorch_tanh. */
export function activationForward(x: tf.Tensor, kind: Activation): tf.Tensor {
  return tf.tidy(() => {
    switch (kind) {
      case 'gelu':
        // ×0.5 is exact, so this is bit for bit 0.5·x·(1 + erf(x/√2)).
        return tf.mul(x, tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5));
      case 'gelu_new':
      case 'gelu_pytorch_tanh': {
        const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), SQRT_2_OVER_PI);
        return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
      }
      case 'relu':
        return tf.relu(x);
      case 'tanh':
        return tf.tanh(x);
    }
  });
}

/** dx = dy · act'(x). */
export function activationBackward(dy: tf.Tensor, x: tf.Tensor, kind: Activation): tf.Tensor {
  return tf.tidy(() => {
    switch (kind) {
      case 'gelu': {
        // Φ(x) + x·φ(x)
        const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5);
        const density = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), INVERSE_SQRT_2PI);
        return tf.mul(dy, tf.add(cdf, tf.mul(x, density)));
      }
      case 'gelu_new':
      case 'gelu_pytorch_tanh': {
        // y = 0.5x(1 + tanh(u)), u = c(x + 0.044715x³): y' = 0.5(1 + t) + 0.5x(1 − t²)·c(1 + 3·0.044715x²)
        const x2 = tf.square(x);
        const t = tf.tanh(tf.mul(tf.add(x, tf.mul(tf.mul(x2, x), 0.044715)), SQRT_2_OVER_PI));
        const du = tf.mul(tf.add(tf.mul(x2, 3 * 0.044715), 1), SQRT_2_OVER_PI);
        const derivative = tf.add(tf.mul(tf.add(t, 1), 0.5), tf.mul(tf.mul(tf.mul(x, 0.5), tf.sub(1, tf.square(t))), du));
        return tf.mul(dy, derivative);
      }
      case 'relu':
        return tf.mul(dy, tf.step(x));
      case 'tanh':
        return tf.mul(dy, tf.sub(1, tf.square(tf.tanh(x))));
    }
  });
}

/**
 * act(x + b) for x [n, cols] and the bias at store index `bias` [cols]; returns the activation
 * y and its input z = x + b (what the backward needs).
 */
export function biasActivationForward(x: tf.Tensor2D, bias: number, kind: Activation, context: LayerContext): { y: tf.Tensor2D; z: tf.Tensor2D } {
  if (context.fused && kind === 'gelu') {
    const [y, z] = biasGelu(x, { bias: context.store.view(bias) });
    return { y: y as tf.Tensor2D, z: z as tf.Tensor2D };
  }
  return tf.tidy(() => {
    const z = tf.add(x, context.store.tensor(bias)) as tf.Tensor2D;
    return { y: activationForward(z, kind) as tf.Tensor2D, z };
  });
}

/** dz = dy · act'(z); adds the bias gradient Σ_rows dz into the gradient store. */
export function biasActivationBackward(dy: tf.Tensor2D, z: tf.Tensor2D, bias: number, kind: Activation, context: BackwardContext): tf.Tensor2D {
  if (context.fused && kind === 'gelu') {
    const { buffer, assign } = context.grads.target(bias);
    return biasGeluGrad(dy, z, { dbias: buffer, accumulateDbias: !assign }) as tf.Tensor2D;
  }
  return tf.tidy(() => {
    const dz = activationBackward(dy, z, kind) as tf.Tensor2D;
    context.grads.addTensor(bias, tf.sum(dz, 0));
    return dz;
  });
}
