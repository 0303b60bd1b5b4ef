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
import { ConfigError } from '../errors.js';
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
 * The largest micro-batch in [1, maxMicroBatch] whose measured peak fits the budget.
 * Memory grows linearly with the micro-batch, so two probes (1 and 2) predict the answer;
 * the prediction is then measured and stepped down until it fits.
 */
export async function chooseMicroBatch<Sample>(options: AutoMicroBatchOptions<Sample>): Promise<AutoMicroBatchResult> {
  const { maxMicroBatch, budgetBytes } = options;
  if (!Number.isSafeInteger(maxMicroBatch) || maxMicroBatch < 1) throw new ConfigError(`maxMicroBatch must be a positive integer, got ${maxMicroBatch}`);
  if (!Number.isFinite(budgetBytes) || budgetBytes <= 0) throw new ConfigError(`memory budget must be a positive number of bytes, got ${budgetBytes}`);
  const probes: MicroBatchProbe[] = [];
  const probe = async (microBatch: number) => {
    const peakBytes = await measureMicroBatchPeak(options, microBatch);
    probes.push({ microBatch, peakBytes });
    return peakBytes;
  };
  const one = await probe(1);
  if (one > budgetBytes) {
    throw new ConfigError(
      `even a micro-batch of 1 needs ${formatBytes(one)} at the longest sequence, over the memory budget of ${formatBytes(budgetBytes)}`,
    );
  }
  if (maxMicroBatch === 1) return { microBatch: 1, budgetBytes, peakBytes: one, probes };
  const two = await probe(2);
  if (two > budgetBytes) return { microBatch: 1, budgetBytes, peakBytes: one, probes };
  const perSample = Math.max(1, two - one);
  let candidate = Math.min(maxMicroBatch, Math.max(2, Math.floor(2 + (budgetBytes - two) / perSample)));
  while (candidate > 2) {
    const peak = await probe(candidate);
    if (peak <= budgetBytes) return { microBatch: candidate, budgetBytes, peakBytes: peak, probes };
    // Step down by the overshoot's worth of samples (at least one).
    candidate = Math.max(2, candidate - Math.max(1, Math.ceil((peak - budgetBytes) / perSample)));
  }
  return { microBatch: 2, budgetBytes, peakBytes: two, probes };
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}
