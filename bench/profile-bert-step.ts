/**
 * A synthetic BERT-mini training step (forward + backward) from raw TF.js ops, the shape
 * issue 4 benchmarks: 4 layers, hidden 256, intermediate 1024, 4 heads, sequence 110,
 * micro-batch 8, HF vocabulary size. It exists to find where TF.js spends its time, so
 * it mirrors the op mix of the real model (gather embeddings, 2-D dense matMuls,
 * batched attention matMuls, softmax, layer norm by moments, erf GELU, cross-entropy)
 * without depending on src/bert.
 *
 * Run alone: node dist/bench/profile-bert-step.js [wasm|cpu] [stock|fast] [steps]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core's Node bundle registers no gradients; the tfjs-layers bundle registers them all
// (into TF.js's global gradient registry).
import '@tensorflow/tfjs-layers';
import { pathToFileURL } from 'node:url';
import { installFastKernels, registerMissingKernels, uninstallFastKernels } from '../src/backend/index.js';
import { timeKernels, type KernelTime } from './profile-kernels.js';

export interface BertMiniShape {
  vocab: number;
  layers: number;
  hidden: number;
  intermediate: number;
  heads: number;
  sequence: number;
  batch: number;
  labels: number;
}

export const BERT_MINI: BertMiniShape = {
  vocab: 30522,
  layers: 4,
  hidden: 256,
  intermediate: 1024,
  heads: 4,
  sequence: 110,
  batch: 8,
  labels: 2,
};

interface Dense {
  kernel: tf.Variable;
  bias: tf.Variable;
}
interface LayerNorm {
  gamma: tf.Variable;
  beta: tf.Variable;
}
interface EncoderLayer {
  query: Dense;
  key: Dense;
  value: Dense;
  attentionOut: Dense;
  attentionNorm: LayerNorm;
  intermediate: Dense;
  output: Dense;
  outputNorm: LayerNorm;
}

export interface BertMiniStep {
  shape: BertMiniShape;
  variables: tf.Variable[];
  /** One forward + backward; returns the loss value. Frees everything it allocates. */
  step(): Promise<number>;
  dispose(): void;
}

export function buildBertMiniStep(shape: BertMiniShape = BERT_MINI, seed = 0): BertMiniStep {
  const variables: tf.Variable[] = [];
  let nextSeed = seed;
  const weight = (dims: number[]): tf.Variable => {
    const variable = tf.variable(tf.tidy(() => tf.truncatedNormal(dims, 0, 0.02, 'float32', nextSeed++)));
    variables.push(variable);
    return variable;
  };
  const constant = (dims: number[], value: number): tf.Variable => {
    const variable = tf.variable(tf.fill(dims, value));
    variables.push(variable);
    return variable;
  };
  const dense = (inputs: number, outputs: number): Dense => ({ kernel: weight([inputs, outputs]), bias: constant([outputs], 0) });
  const layerNorm = (): LayerNorm => ({ gamma: constant([shape.hidden], 1), beta: constant([shape.hidden], 0) });

  const wordEmbeddings = weight([shape.vocab, shape.hidden]);
  const positionEmbeddings = weight([512, shape.hidden]);
  const tokenTypeEmbeddings = weight([2, shape.hidden]);
  const embeddingNorm = layerNorm();
  const layers: EncoderLayer[] = Array.from({ length: shape.layers }, () => ({
    query: dense(shape.hidden, shape.hidden),
    key: dense(shape.hidden, shape.hidden),
    value: dense(shape.hidden, shape.hidden),
    attentionOut: dense(shape.hidden, shape.hidden),
    attentionNorm: layerNorm(),
    intermediate: dense(shape.hidden, shape.intermediate),
    output: dense(shape.intermediate, shape.hidden),
    outputNorm: layerNorm(),
  }));
  const pooler = dense(shape.hidden, shape.hidden);
  const classifier = dense(shape.hidden, shape.labels);

  // Fixed synthetic batch: random ids, the last 10 positions of odd rows padded.
  const rows = shape.batch * shape.sequence;
  const ids = tf.randomUniform([rows], 0, shape.vocab, 'int32', seed);
  const positions = tf.tile(tf.range(0, shape.sequence, 1, 'int32'), [shape.batch]);
  const maskValues = new Float32Array(shape.batch * shape.sequence);
  for (let b = 0; b < shape.batch; b++) {
    for (let t = 0; t < shape.sequence; t++) maskValues[b * shape.sequence + t] = b % 2 === 1 && t >= shape.sequence - 10 ? -10000 : 0;
  }
  const attentionMask = tf.tensor4d(maskValues, [shape.batch, 1, 1, shape.sequence]);
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: shape.batch }, (_, i) => i % shape.labels), 'int32'), shape.labels);
  const inputs = [ids, positions, attentionMask, labels];

  const headSize = shape.hidden / shape.heads;
  const applyDense = (x: tf.Tensor2D, d: Dense): tf.Tensor2D => tf.add(tf.matMul(x, d.kernel as tf.Tensor2D), d.bias);
  const applyNorm = (x: tf.Tensor2D, n: LayerNorm): tf.Tensor2D => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-12))), n.gamma), n.beta);
  };
  const gelu = (x: tf.Tensor2D): tf.Tensor2D => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  const splitHeads = (x: tf.Tensor2D): tf.Tensor4D =>
    tf.transpose(tf.reshape(x, [shape.batch, shape.sequence, shape.heads, headSize]), [0, 2, 1, 3]);

  const loss = (): tf.Scalar => {
    const tokenType = tf.slice(tokenTypeEmbeddings, [0, 0], [1, shape.hidden]);
    let h = applyNorm(tf.add(tf.add(tf.gather(wordEmbeddings, ids), tf.gather(positionEmbeddings, positions)), tokenType), embeddingNorm);
    for (const layer of layers) {
      const q = splitHeads(applyDense(h, layer.query));
      const k = splitHeads(applyDense(h, layer.key));
      const v = splitHeads(applyDense(h, layer.value));
      const scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(headSize)), attentionMask);
      const context = tf.matMul(tf.softmax(scores), v);
      const merged = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [rows, shape.hidden]) as tf.Tensor2D;
      h = applyNorm(tf.add(applyDense(merged, layer.attentionOut), h), layer.attentionNorm);
      const inner = gelu(applyDense(h, layer.intermediate));
      h = applyNorm(tf.add(applyDense(inner, layer.output), h), layer.outputNorm);
    }
    const cls = tf.reshape(tf.slice(tf.reshape(h, [shape.batch, shape.sequence, shape.hidden]), [0, 0, 0], [shape.batch, 1, shape.hidden]), [shape.batch, shape.hidden]) as tf.Tensor2D;
    const logits = applyDense(tf.tanh(applyDense(cls, pooler)), classifier);
    return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), -1))) as tf.Scalar;
  };

  return {
    shape,
    variables,
    async step() {
      const { value, grads } = tf.variableGrads(loss);
      // Force every gradient to be computed before the step counts as done.
      await Promise.all(Object.values(grads).map((g) => g.data()));
      const lossValue = (await value.data())[0]!;
      tf.dispose([value, ...Object.values(grads)]);
      return lossValue;
    },
    dispose() {
      tf.dispose([...variables, ...inputs]);
    },
  };
}

export interface StepProfile {
  backend: string;
  kernels: 'stock' | 'fast';
  msPerStep: number;
  /** Total ms per step by kernel, slowest first. */
  perKernel: KernelTime[];
}

/**
 * Times `steps` steps after one warm-up step: the median wall time per step, then one
 * more pass with per-kernel timing (divided by its step count).
 */
export async function profileBertStep(backend: 'wasm' | 'cpu', kernels: 'stock' | 'fast', steps: number, shape = BERT_MINI): Promise<StepProfile> {
  await tf.setBackend(backend);
  await tf.ready();
  // Even "stock" wasm needs the kernels it lacks (the embedding gradient), or it cannot train.
  if (backend === 'wasm') registerMissingKernels();
  if (backend === 'wasm' && kernels === 'fast') installFastKernels();
  else uninstallFastKernels();
  const model = buildBertMiniStep(shape);
  try {
    await model.step();
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const start = performance.now();
      await model.step();
      times.push(performance.now() - start);
    }
    times.sort((x, y) => x - y);
    const { kernels: perKernel } = await timeKernels(backend, async () => {
      for (let i = 0; i < steps; i++) await model.step();
    });
    return {
      backend,
      kernels,
      msPerStep: times[Math.floor(times.length / 2)]!,
      perKernel: perKernel.map((k) => ({ kernel: k.kernel, ms: k.ms / steps, calls: k.calls / steps })),
    };
  } finally {
    model.dispose();
    uninstallFastKernels();
  }
}

export function formatProfile(profile: StepProfile, top = 10): string {
  const total = profile.perKernel.reduce((sum, k) => sum + k.ms, 0);
  const lines = [
    `${profile.backend} ${profile.kernels}: ${profile.msPerStep.toFixed(0)} ms/step (kernels ${total.toFixed(0)} ms)`,
    '',
    '| kernel | ms/step | calls/step | share |',
    '| --- | ---: | ---: | ---: |',
    ...profile.perKernel.slice(0, top).map((k) => `| ${k.kernel} | ${k.ms.toFixed(1)} | ${k.calls} | ${((100 * k.ms) / total).toFixed(1)}% |`),
  ];
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const backend = (process.argv[2] ?? 'wasm') as 'wasm' | 'cpu';
  const kernels = (process.argv[3] ?? 'fast') as 'stock' | 'fast';
  const steps = Number(process.argv[4] ?? 3);
  const profile = await profileBertStep(backend, kernels, steps);
  console.log(formatProfile(profile, 25));
}
