/**
 * Automatic micro-batch sizing (`--micro-batch auto --memory-budget 512MB`).
 *
 * Exact accumulation makes the micro-batch size a pure memory/speed knob: the trained
 * weights do not depend on it. So we may pick the largest micro-batch whose measured peak
 * training memory fits a budget. "Memory" is TF.js tensor memory (the engine's byte count,
 * identical on every backend): parameters + accumulation buffers + the forward/backward
 * activations of one micro-batch at the longest sequence, plus the optimizer's slots.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors.js';
import { GradientAccumulator } from './accumulator.js';
import type { TrainableModel } from './types.js';

export interface MicroBatchProbe {
  microBatch: number;
  /** Peak tensor bytes during one forward+backward at this size, optimizer slots included. */
  peakBytes: number;
}

export interface AutoMicroBatchOptions<Sample> {
  model: TrainableModel<Sample>;
  /** `count` worst-case samples (e.g. the longest example of the data, repeated). */
  probeSamples: (count: number) => Sample[];
  /** Upper bound: the batch (a micro-batch never exceeds its window). */
  maxMicroBatch: number;
  budgetBytes: number;
  /** Bytes the optimizer will hold besides the parameters (AdamW: 2 × parameter bytes). */
  optimizerStateBytes: number;
}

export interface AutoMicroBatchResult {
  microBatch: number;
  budgetBytes: number;
  /** Measured peak of the chosen size. */
  peakBytes: number;
  probes: MicroBatchProbe[];
}

/** Peak tensor bytes of one training micro-batch of `count` probe samples. */
export async function measureMicroBatchPeak<Sample>(options: AutoMicroBatchOptions<Sample>, count: number): Promise<number> {
  const samples = options.probeSamples(count);
  const accumulator = new GradientAccumulator(options.model.params);
  try {
    const profile = await tf.profile(() => {
      accumulator.accumulate(() => options.model.lossSum(samples, true, 0), samples.length);
    });
    // The profile's peak is the engine's total at the busiest kernel, so it already counts the
    // parameters and the accumulator's buffers that exist during the run.
    return profile.peakBytes + options.optimizerStateBytes;
  } finally {
    accumulator.dispose();
  }
}

/**
 * The largest micro-batch in [1, maxMicroBatch] whose measured peak fits the budget. Memory
 * grows about linearly with the micro-batch, so two probes (1 and 2) predict the answer; the
 * prediction is then measured, and the search narrows between the largest size known to fit and
 * the smallest known not to until they are adjacent. So the answer is always verified: its
 * peak fits, and the next size up was measured over budget (or is above maxMicroBatch).
 */
export async function chooseMicroBatch<Sample>(options: AutoMicroBatchOptions<Sample>): Promise<AutoMicroBatchResult> {
  const { maxMicroBatch, budgetBytes } = options;
  if (!Number.isSafeInteger(maxMicroBatch) || maxMicroBatch < 1) throw new ConfigError(`maxMicroBatch must be a positive integer, got ${maxMicroBatch}`);
  if (!Number.isFinite(budgetBytes) || budgetBytes <= 0) throw new ConfigError(`memory budget must be a positive number of bytes, got ${budgetBytes}`);
  const probes: MicroBatchProbe[] = [];
  const peaks = new Map<number, number>();
  const probe = async (microBatch: number) => {
    const peakBytes = await measureMicroBatchPeak(options, microBatch);
    probes.push({ microBatch, peakBytes });
    peaks.set(microBatch, peakBytes);
    return peakBytes;
  };
  const one = await probe(1);
  if (one > budgetBytes) {
    throw new ConfigError(
      `even a micro-batch of 1 needs ${formatBytes(one)} at the longest sequence, over the memory budget of ${formatBytes(budgetBytes)}`,
    );
  }
  // fits: the largest size measured within budget; over: the smallest size known not to be allowed.
  let fits = 1;
  let over = maxMicroBatch + 1;
  if (maxMicroBatch >= 2) {
    if ((await probe(2)) <= budgetBytes) fits = 2;
    else over = 2;
  }
  for (let step = 0; over - fits > 1; step++) {
    // Interpolate linearly between the measured bracket (or extrapolate from sizes 1 and 2); if
    // memory is not linear enough for that to converge in two tries, bisect.
    const overPeak = peaks.get(over);
    const perSample = overPeak !== undefined ? (overPeak - peaks.get(fits)!) / (over - fits) : peaks.has(2) ? peaks.get(2)! - one : 0;
    const predicted = step < 2 && perSample > 0 ? fits + Math.floor((budgetBytes - peaks.get(fits)!) / perSample) : Math.floor((fits + over) / 2);
    const candidate = Math.min(over - 1, Math.max(fits + 1, predicted));
    if ((await probe(candidate)) <= budgetBytes) fits = candidate;
    else over = candidate;
  }
  return { microBatch: fits, budgetBytes, peakBytes: peaks.get(fits)!, probes };
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}
