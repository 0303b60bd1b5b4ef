/**
 * Automatic micro-batch sizing (`--micro-batch auto`).
 *
 * Exact accumulation makes the micro-batch size a pure memory/speed knob: the trained weights
 * do not depend on it. So we may pick the largest micro-batch whose measured memory fits. What
 * "fits" means is the caller's (src/node/memory.ts: the wasm heap's ceiling and the memory
 * budget); this module only searches.
 */
import { ConfigError } from '../core/errors.js';

export interface MicroBatchProbe {
  microBatch: number;
  /** Peak bytes of one training micro-batch at this size (what `fits` judges). */
  peakBytes: number;
}

export interface AutoMicroBatchOptions {
  /** Upper bound: the batch (a micro-batch never exceeds its window). */
  maxMicroBatch: number;
  /** Peak bytes of one forward + backward of `count` worst-case samples. */
  measure(count: number): Promise<number> | number;
  /** Whether a measured peak is acceptable. */
  fits(peakBytes: number): boolean;
  /** One line saying why even a micro-batch of 1 does not fit (for the error). */
  describeLimit(peakBytes: number): string;
}

export interface AutoMicroBatchResult {
  microBatch: number;
  /** Measured peak of the chosen size. */
  peakBytes: number;
  probes: MicroBatchProbe[];
}

/**
 * The largest micro-batch in [1, maxMicroBatch] whose measured peak fits. Memory grows about
 * linearly with the micro-batch, so two probes (1 and 2) predict the answer; the prediction is
 * then measured, and the search narrows between the largest size known to fit and the smallest
 * known not to until they are adjacent. So the answer is always verified: its peak fits, and the
 * next size up was measured not to (or is above maxMicroBatch).
 */
export async function chooseMicroBatch(options: AutoMicroBatchOptions): Promise<AutoMicroBatchResult> {
  const { maxMicroBatch } = options;
  if (!Number.isSafeInteger(maxMicroBatch) || maxMicroBatch < 1) throw new ConfigError(`must be a positive integer, got ${maxMicroBatch}`, { field: 'maxMicroBatch' });
  const probes: MicroBatchProbe[] = [];
  const peaks = new Map<number, number>();
  const probe = async (microBatch: number) => {
    const peakBytes = await options.measure(microBatch);
    probes.push({ microBatch, peakBytes });
    peaks.set(microBatch, peakBytes);
    return peakBytes;
  };
  const one = await probe(1);
  if (!options.fits(one)) throw new ConfigError(`auto: ${options.describeLimit(one)}`, { field: 'microBatch' });
  // fits: the largest size measured to fit; over: the smallest size known not to be allowed.
  let fits = 1;
  let over = maxMicroBatch + 1;
  if (maxMicroBatch >= 2) {
    if (options.fits(await probe(2))) fits = 2;
    else over = 2;
  }
  for (let step = 0; over - fits > 1; step++) {
    // Interpolate linearly between the measured bracket (or extrapolate from sizes 1 and 2) to
    // the largest size that fits; if memory is not linear enough for that in two tries, bisect.
    const overPeak = peaks.get(over);
    const perSample = overPeak !== undefined ? (overPeak - peaks.get(fits)!) / (over - fits) : peaks.has(2) ? peaks.get(2)! - one : 0;
    let predicted = Math.floor((fits + over) / 2);
    if (step < 2 && perSample > 0) {
      predicted = fits;
      while (predicted + 1 < over && options.fits(peaks.get(fits)! + (predicted + 1 - fits) * perSample)) predicted += 1;
    }
    const candidate = Math.min(over - 1, Math.max(fits + 1, predicted));
    if (options.fits(await probe(candidate))) fits = candidate;
    else over = candidate;
  }
  return { microBatch: fits, peakBytes: peaks.get(fits)!, probes };
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}
