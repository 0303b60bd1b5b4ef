/**
 * Unfused vs fused layers and fp32 vs bf16 products on the REAL training step of a BERT
 * sequence classifier (micro-batch 8 × 110–128 tokens, dropout 0.1), wasm + the native addon:
 * per configuration, the median forward + backward (`accumulateGradients`) of one micro-batch
 * and, from a profiled pass, the time in TF.js kernels, the time outside them (layer code, the
 * host dW GEMMs and bias/γ/β reductions, embedding gather/scatter, the loss, dispatch) and the
 * kernel calls. Configurations are timed in interleaved rounds (A B C … A B C …) on one model so
 * that the machine's load drifts over all of them alike.
 *
 * Run: node dist/bench/compare-layers.js [mini|base] [rounds=5] [configs=unfused-fp32-1,fused-fp32-1,fused-bf16-1,fused-fp32-2,fused-bf16-2]
 *   a config is <fused|unfused>-<fp32|bf16>-<native threads>
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { hostKernels, setHostKernels, type HostKernels } from '../src/core/host.js';
import type { Precision } from '../src/nn/context.js';
import { selectBackend } from '../src/node/backend.js';
import { installNativeKernels, nativeStatus } from '../src/node/native.js';
import { GradientStore } from '../src/train/store.js';
import { median, timeKernels } from './profile-kernels.js';
import { BERT_MINI_STEP, benchClassifier, syntheticMicroBatches, type BertShape } from './profile-model-step.js';

export interface LayerConfig {
  fused: boolean;
  precision: Precision;
  threads: number;
}

export interface LayerConfigResult {
  config: LayerConfig;
  /** Median forward + backward of one micro-batch, ms. */
  forwardBackwardMs: number;
  /**
   * Median process CPU time (every thread) of one forward + backward, ms: robust to other
   * processes on the machine; with 1 native thread it is what the wall time is on an idle one.
   */
  cpuMs: number;
  /** From one profiled pass (mean over its runs), ms. */
  kernelsMs: number;
  outsideKernelsMs: number;
  /** Of the time outside kernels: host kernel calls made by the layers directly (dW GEMMs, bias column sums). */
  hostCallsMs: number;
  kernelCalls: number;
}

/**
 * Replaces the host kernels the layers call directly (outside TF.js kernels: the dW GEMMs and
 * bias gradient sums) by timed wrappers; the TF.js kernels keep the functions they were built
 * with. Returns the accumulated ms and a function restoring the originals.
 */
function timeHostCalls(): { ms: () => number; restore: () => void } {
  const original = hostKernels()!;
  let ms = 0;
  const timed = <F extends (...args: never[]) => unknown>(fn: F | undefined): F | undefined =>
    fn === undefined
      ? undefined
      : (((...args: Parameters<F>) => {
          const start = performance.now();
          try {
            return fn(...args);
          } finally {
            ms += performance.now() - start;
          }
        }) as F);
  const wrapped: HostKernels = {
    ...original,
    ...(original.sgemm ? { sgemm: timed(original.sgemm)! } : {}),
    ...(original.sgemmBf16 ? { sgemmBf16: timed(original.sgemmBf16)! } : {}),
    ...(original.fused ? { fused: { ...original.fused, biasDropoutBackward: timed(original.fused.biasDropoutBackward)! } } : {}),
  };
  setHostKernels(wrapped);
  return { ms: () => ms, restore: () => setHostKernels(original) };
}

export function parseConfig(text: string): LayerConfig {
  const [fused, precision, threads] = text.split('-');
  if ((fused !== 'fused' && fused !== 'unfused') || (precision !== 'fp32' && precision !== 'bf16') || !(Number(threads) >= 1)) {
    throw new Error(`config "${text}": expected <fused|unfused>-<fp32|bf16>-<threads>`);
  }
  return { fused: fused === 'fused', precision, threads: Number(threads) };
}

export function configName(config: LayerConfig): string {
  return `${config.fused ? 'fused' : 'unfused'} ${config.precision}, ${config.threads} native thread${config.threads === 1 ? '' : 's'}`;
}

export async function compareLayers(shape: BertShape, rounds: number, configs: readonly LayerConfig[]): Promise<{ results: LayerConfigResult[]; detail: string; loadBefore: number[]; loadAfter: number[] }> {
  const loadBefore = loadavg();
  const selected = await selectBackend('wasm', { log: () => {} });
  if (!selected.native) throw new Error(`the native addon is needed: ${nativeStatus().reason}`);
  const model = benchClassifier(shape, BERT_MINI_STEP.vocab, BERT_MINI_STEP.dropout);
  const grads = new GradientStore(model.parameters.layout);
  const [samples] = syntheticMicroBatches(BERT_MINI_STEP, 1);
  let seed = 0;
  const use = (config: LayerConfig): void => {
    installNativeKernels({ threads: config.threads, fused: config.fused });
    model.precision = config.precision;
  };
  const step = (): void => {
    model.accumulateGradients(samples!, grads, { factor: 1 / 32, training: true, dropoutSeeds: samples!.map(() => seed++), epoch: 0 });
  };
  try {
    const times = configs.map(() => [] as number[]);
    const cpuTimes = configs.map(() => [] as number[]);
    // Warm-up: every configuration once (allocations, heap growth, code paths).
    for (const config of configs) {
      use(config);
      step();
    }
    const before = tf.memory().numTensors;
    for (let round = 0; round < rounds; round++) {
      configs.forEach((config, index) => {
        use(config);
        const cpuStart = process.cpuUsage();
        const start = performance.now();
        step();
        times[index]!.push(performance.now() - start);
        const cpu = process.cpuUsage(cpuStart);
        cpuTimes[index]!.push((cpu.user + cpu.system) / 1000);
      });
    }
    const results: LayerConfigResult[] = [];
    for (const [index, config] of configs.entries()) {
      use(config);
      const runs = 2;
      const host = timeHostCalls();
      const profiled = await timeKernels('wasm', () => {
        const start = performance.now();
        for (let i = 0; i < runs; i++) step();
        return (performance.now() - start) / runs;
      }).finally(host.restore);
      const kernelsMs = profiled.kernels.reduce((sum, k) => sum + k.ms, 0) / runs;
      results.push({
        config,
        forwardBackwardMs: median(times[index]!),
        cpuMs: median(cpuTimes[index]!),
        kernelsMs,
        outsideKernelsMs: profiled.result - kernelsMs,
        hostCallsMs: host.ms() / runs,
        kernelCalls: profiled.kernels.reduce((sum, k) => sum + k.calls, 0) / runs,
      });
    }
    if (tf.memory().numTensors !== before) throw new Error(`the training step leaked ${tf.memory().numTensors - before} tensors`);
    return { results, detail: selected.detail, loadBefore, loadAfter: loadavg() };
  } finally {
    model.dispose();
  }
}

export function formatComparison(shape: BertShape, rounds: number, comparison: Awaited<ReturnType<typeof compareLayers>>): string {
  const load = (values: number[]) => values.map((x) => x.toFixed(2)).join(' ');
  const baseline = comparison.results[0]!.forwardBackwardMs;
  return [
    `BERT-${shape}, micro-batch 8 × 110–128 tokens, dropout 0.1; ${comparison.detail}; medians of ${rounds} interleaved rounds; load average ${load(comparison.loadBefore)} before, ${load(comparison.loadAfter)} after`,
    '',
    '| configuration | forward + backward ms | vs first | CPU ms (all threads) | in kernels ms | outside kernels ms | of which host dW/bias calls ms | kernel calls |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...comparison.results.map(
      (r) =>
        `| ${configName(r.config)} | ${r.forwardBackwardMs.toFixed(1)} | ${(baseline / r.forwardBackwardMs).toFixed(2)}× | ${r.cpuMs.toFixed(1)} | ${r.kernelsMs.toFixed(1)} | ${r.outsideKernelsMs.toFixed(1)} | ${r.hostCallsMs.toFixed(1)} | ${r.kernelCalls} |`,
    ),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const shape = (process.argv[2] ?? 'mini') as BertShape;
  const rounds = Number(process.argv[3] ?? 5);
  const configs = (process.argv[4] ?? 'unfused-fp32-1,fused-fp32-1,fused-bf16-1,fused-fp32-2,fused-bf16-2').split(',').map(parseConfig);
  console.log(formatComparison(shape, rounds, await compareLayers(shape, rounds, configs)));
}
