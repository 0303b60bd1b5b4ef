/**
 * Profiles the REAL training step of a BERT sequence classifier (BERT-mini by default: 4 layers,
 * hidden 256, intermediate 1024, 4 heads, micro-batch 8, window 32) on wasm: forward only,
 * forward + backward (`accumulateGradients`), the AdamW step on the host stores, and a whole
 * 32-sample window as `fit` runs it (micro-batches, finiteness check, clipping, step, zeroing).
 * Then a per-kernel table of one forward + backward and the time spent outside kernels (layer
 * code, host transfers, dropout masks, op dispatch).
 *
 * Run: node dist/bench/profile-model-step.js [runs=7] [mini|base] [fast|stock] [top=25] [dropout=0.1]
 *        [fused|unfused] [fp32|bf16] [nativeThreads=1]
 *
 * `unfused` installs the native matMul but not the fused layer kernels (the layers' TF.js-op
 * path); `bf16` sets the model's precision; nativeThreads sizes the addon's pool.
 */
import * as tf from '@tensorflow/tfjs-core';
import { pathToFileURL } from 'node:url';
import { loadavg } from 'node:os';
import { readConfig } from '../src/app/checkpoint.js';
import { layerContext, type Precision } from '../src/nn/context.js';
import { installNativeKernels } from '../src/node/native.js';
import { AdamW } from '../src/optim/adamw.js';
import { SequenceClassifier, type SequenceSample } from '../src/tasks/model.js';
import { clipByGlobalNorm } from '../src/train/clip.js';
import { GradientStore } from '../src/train/store.js';
import { selectBackend } from '../src/node/backend.js';
import { median, timeKernels, type KernelTime } from './profile-kernels.js';

/** The BERT shapes the benchmarks use: BERT-mini (issue 4) and bert-base (issue 11: 85 M parameters besides a 4000-piece vocabulary). */
export const BERT_SHAPES = {
  mini: { hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 1024 },
  base: { hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072 },
} as const;
export type BertShape = keyof typeof BERT_SHAPES;

export interface ModelStepOptions {
  runs: number;
  shape: BertShape;
  vocab: number;
  fastKernels: boolean;
  microBatch: number;
  window: number;
  /** Token counts are drawn from [minLength, maxLength] ([CLS] and [SEP] included). */
  minLength: number;
  maxLength: number;
  /** Every dropout probability (HF's default 0.1, as the CLI trains). */
  dropout: number;
  /** The fused layer kernels (with the native addon); false: the layers' TF.js ops. */
  fused: boolean;
  precision: Precision;
  /** Threads of the native addon's pool. */
  nativeThreads: number;
}

export const BERT_MINI_STEP: ModelStepOptions = {
  runs: 7,
  shape: 'mini',
  vocab: 4000,
  fastKernels: true,
  microBatch: 8,
  window: 32,
  minLength: 110,
  maxLength: 128,
  dropout: 0.1,
  fused: true,
  precision: 'fp32',
  nativeThreads: 1,
};

export interface ModelStepProfile {
  options: ModelStepOptions;
  backendDetail: string;
  /** Medians over `runs` runs after one warm-up, in ms. */
  forwardMs: number;
  forwardBackwardMs: number;
  optimizerStepMs: number;
  windowMs: number;
  samplesPerSecond: number;
  /** Per-kernel ms of one forward + backward (averaged over `runs`), slowest first. */
  forwardBackwardKernels: KernelTime[];
  forwardBackwardOutsideKernelsMs: number;
  loadAverage: number[];
}

/** Deterministic pseudo-random integers (the model's init does not depend on these). */
function integers(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % below;
  };
}

export function syntheticMicroBatches(options: Pick<ModelStepOptions, 'microBatch' | 'minLength' | 'maxLength' | 'vocab'>, count: number): SequenceSample[][] {
  const next = integers(42);
  return Array.from({ length: count }, () =>
    Array.from({ length: options.microBatch }, () => {
      const length = options.minLength + next(options.maxLength - options.minLength + 1);
      // [CLS] = 2, [SEP] = 3 as in data/default-model; words avoid the special ids below 5.
      const ids = [2, ...Array.from({ length: length - 2 }, () => 5 + next(options.vocab - 5)), 3];
      return { ids, label: next(2) };
    }),
  );
}

/** Median wall time of `run` over `runs` calls, after one warm-up call. */
function timeMedian(runs: number, run: () => void): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** A BERT sequence classifier of `shape` with HF's initialisation, as the CLI builds a model from a config. */
export function benchClassifier(shape: BertShape, vocab: number, dropout: number, shared = false): SequenceClassifier {
  const { family, config } = readConfig({ model_type: 'bert', vocab_size: vocab, max_position_embeddings: 512, ...BERT_SHAPES[shape] }, 'bench', dropout);
  return new SequenceClassifier({ family, config, labels: ['ham', 'spam'] }, { arena: { shared } });
}

export async function profileModelStep(options: ModelStepOptions = BERT_MINI_STEP): Promise<ModelStepProfile> {
  const selected = await selectBackend('wasm', { fastKernels: options.fastKernels, nativeThreads: options.nativeThreads, log: () => {} });
  if (selected.native) installNativeKernels({ threads: options.nativeThreads, fused: options.fused });
  const model = benchClassifier(options.shape, options.vocab, options.dropout);
  model.precision = options.precision;
  const grads = new GradientStore(model.parameters.layout);
  const optimizer = new AdamW({ weightDecay: 0.01 });
  const microPerWindow = Math.ceil(options.window / options.microBatch);
  const microBatches = syntheticMicroBatches(options, microPerWindow);
  const first = microBatches[0]!;
  let dropoutSeed = 0;
  const pass = (samples: readonly SequenceSample[]) => ({ factor: 1 / options.window, training: true, dropoutSeeds: samples.map(() => dropoutSeed++), epoch: 0, samples });
  const forward = (): void => {
    tf.tidy(() => {
      model.encoder.encode(model.encoder.batch(first), layerContext(model.parameters, true, first.map(() => dropoutSeed++), { precision: options.precision }), { firstTokenOnly: true });
    });
  };
  const forwardBackward = (): void => {
    const { samples, ...options } = pass(first);
    model.accumulateGradients(samples, grads, options);
  };
  const optimizerStep = (): void => {
    optimizer.step(grads.pairWith(model.parameters), 1e-5);
    model.parameters.markUpdated();
  };
  // What fit's trainWindow does at loss scale 1 with clipping on.
  const window = (): void => {
    for (const samples of microBatches) {
      const { samples: micro, ...rest } = pass(samples);
      model.accumulateGradients(micro, grads, rest);
    }
    if (!grads.allFinite()) throw new Error('non-finite gradients in the benchmark');
    clipByGlobalNorm(grads, 1);
    optimizerStep();
    grads.zero();
  };
  try {
    forwardBackward();
    // The first step creates AdamW's moments, which stay on the host; heap mirrors stay too.
    optimizerStep();
    forwardBackward();
    const tensorsBefore = tf.memory().numTensors;
    const forwardMs = timeMedian(options.runs, forward);
    const forwardBackwardMs = timeMedian(options.runs, forwardBackward);
    const optimizerStepMs = timeMedian(options.runs, optimizerStep);
    forwardBackward();
    const windowMs = timeMedian(Math.max(3, Math.ceil(options.runs / 2)), window);
    forwardBackward();
    const timedForwardBackward = async (): Promise<number> => {
      const start = performance.now();
      for (let i = 0; i < options.runs; i++) forwardBackward();
      return (performance.now() - start) / options.runs;
    };
    const fb = await timeKernels('wasm', timedForwardBackward);
    const perRun = (kernels: KernelTime[]): KernelTime[] => kernels.map((k) => ({ kernel: k.kernel, ms: k.ms / options.runs, calls: k.calls / options.runs }));
    const kernelSum = (kernels: KernelTime[]): number => kernels.reduce((sum, k) => sum + k.ms, 0);
    const forwardBackwardKernels = perRun(fb.kernels);
    const leaked = tf.memory().numTensors - tensorsBefore;
    if (leaked !== 0) throw new Error(`the training step leaked ${leaked} tensors`);
    return {
      options,
      backendDetail: selected.detail,
      forwardMs,
      forwardBackwardMs,
      optimizerStepMs,
      windowMs,
      samplesPerSecond: (1000 * options.window) / windowMs,
      forwardBackwardKernels,
      forwardBackwardOutsideKernelsMs: fb.result - kernelSum(forwardBackwardKernels),
      loadAverage: loadavg(),
    };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

function kernelTable(title: string, kernels: KernelTime[], outsideMs: number, top: number): string[] {
  const total = kernels.reduce((sum, k) => sum + k.ms, 0);
  return [
    `${title}: kernels ${total.toFixed(1)} ms, outside kernels ${outsideMs.toFixed(1)} ms, ${kernels.reduce((sum, k) => sum + k.calls, 0)} kernel calls`,
    '',
    '| kernel | ms | calls | share |',
    '| --- | ---: | ---: | ---: |',
    ...kernels.slice(0, top).map((k) => `| ${k.kernel} | ${k.ms.toFixed(2)} | ${k.calls} | ${((100 * k.ms) / total).toFixed(1)}% |`),
    '',
  ];
}

export function formatModelStepProfile(profile: ModelStepProfile, top = 25): string {
  const { options } = profile;
  return [
    `${profile.backendDetail}; ${options.fused ? 'fused' : 'unfused'} layers, ${options.precision}; BERT-${options.shape}, vocab ${options.vocab}, micro-batch ${options.microBatch}, window ${options.window}, lengths ${options.minLength}–${options.maxLength}, dropout ${options.dropout}; load average ${profile.loadAverage.map((x) => x.toFixed(2)).join(' ')}`,
    '',
    '| measure | median ms |',
    '| --- | ---: |',
    `| forward (micro-batch) | ${profile.forwardMs.toFixed(1)} |`,
    `| forward + backward (accumulate) | ${profile.forwardBackwardMs.toFixed(1)} |`,
    `| AdamW step (host) | ${profile.optimizerStepMs.toFixed(1)} |`,
    `| window of ${options.window} (fit's step) | ${profile.windowMs.toFixed(1)} |`,
    '',
    `samples/s: ${profile.samplesPerSecond.toFixed(1)}`,
    '',
    ...kernelTable('forward + backward', profile.forwardBackwardKernels, profile.forwardBackwardOutsideKernelsMs, top),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runs = Number(process.argv[2] ?? BERT_MINI_STEP.runs);
  const shape = (process.argv[3] ?? 'mini') as BertShape;
  const fastKernels = (process.argv[4] ?? 'fast') !== 'stock';
  const top = Number(process.argv[5] ?? 25);
  const dropout = Number(process.argv[6] ?? BERT_MINI_STEP.dropout);
  const fused = (process.argv[7] ?? 'fused') !== 'unfused';
  const precision = (process.argv[8] ?? 'fp32') as Precision;
  const nativeThreads = Number(process.argv[9] ?? 1);
  const profile = await profileModelStep({ ...BERT_MINI_STEP, runs, shape, fastKernels, dropout, fused, precision, nativeThreads });
  console.log(formatModelStepProfile(profile, top));
}
