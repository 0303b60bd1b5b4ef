/**
 * Multi-worker window engine (`--workers N`): the main thread and N − 1 pool workers each
 * compute the gradient of a contiguous share of a window's micro-batches; the main thread
 * adds the workers' arrays into its accumulator before the optimizer step. Every share is
 * normalised by the WINDOW's item count (DESIGN §2), so who computed which micro-batch does
 * not change the result beyond float32 summation order. Replicas get the main thread's
 * parameters when the engine starts and after every optimizer step, so every window is
 * computed on exactly the main thread's parameters.
 */
import { WorkerPool } from '../backend/pool.js';
import { ConfigError } from '../core/errors.js';
import { accumulateWindow } from './accumulator.js';
import type { ReplicaOptions, ShareResult } from './replica.js';
export { parameterSums } from './replica.js';
import type { TrainableModel, WindowGradientEngine } from './types.js';

export interface ParallelEngineOptions {
  /** Compute threads in all, the main thread included (≥ 2; 1 means: use the local engine). */
  workers: number;
  /** How a worker builds its replica of the model (see ReplicaOptions). */
  factoryModule: string;
  factoryExport: string;
  factoryOptions: unknown;
  backend?: 'wasm' | 'cpu' | 'node';
  fastKernels?: boolean;
}

export interface ParallelEngine<Sample> extends WindowGradientEngine<Sample> {
  readonly pool: WorkerPool;
  /** Each replica's float64 parameter sums (for sync checks). */
  replicaParamSums(): Promise<number[][]>;
  close(): Promise<void>;
}

/**
 * Cuts `sizes` (samples per micro-batch) into `groups` contiguous shares of nearly equal
 * sample counts; returns each share's [start, end) micro-batch range. Shares may be empty.
 */
export function splitShares(sizes: readonly number[], groups: number): [number, number][] {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const ranges: [number, number][] = [];
  let start = 0;
  let covered = 0;
  for (let group = 0; group < groups; group++) {
    const target = (total * (group + 1)) / groups;
    let end = start;
    // Take micro-batches while doing so moves the share's end closer to its target.
    while (end < sizes.length && (group === groups - 1 || Math.abs(covered + sizes[end]! - target) <= Math.abs(covered - target))) {
      covered += sizes[end]!;
      end++;
    }
    ranges.push([start, end]);
    start = end;
  }
  return ranges;
}

export async function createParallelEngine<Sample>(model: TrainableModel<Sample>, options: ParallelEngineOptions): Promise<ParallelEngine<Sample>> {
  if (!Number.isSafeInteger(options.workers) || options.workers < 2) {
    throw new ConfigError(`a parallel engine needs at least 2 workers (the main thread counts as one), got ${options.workers}`);
  }
  const replicaOptions: ReplicaOptions = {
    factoryModule: options.factoryModule,
    factoryExport: options.factoryExport,
    factoryOptions: options.factoryOptions,
  };
  const pool = await WorkerPool.start({
    size: options.workers - 1,
    replicaModule: new URL('./replica.js', import.meta.url).href,
    replicaOptions,
    backend: options.backend,
    fastKernels: options.fastKernels,
  });

  async function syncParams(): Promise<void> {
    const values = await Promise.all(model.params.map(async ({ variable }) => (await variable.data()) as Float32Array));
    await pool.broadcast('setParams', [values]);
  }
  try {
    await syncParams();
  } catch (error) {
    await pool.close();
    throw error;
  }

  return {
    pool,
    afterStep: syncParams,
    async computeWindow(accumulator, microBatches, windowItemCount, lossScale, dropoutSeeds, onMicroBatch) {
      const shares = splitShares(
        microBatches.map((micro) => micro.length),
        pool.size + 1,
      );
      // Workers first, so they compute while the main thread does its own share.
      const remote = shares.slice(1).map(([start, end], k) =>
        start === end
          ? Promise.resolve<ShareResult>({ microLossSums: [], gradients: [] })
          : pool.call<ShareResult>(k, 'computeShare', [microBatches.slice(start, end), windowItemCount, lossScale, dropoutSeeds.slice(start, end)]),
      );
      // If the local share throws, still observe the remote promises so none rejects unhandled.
      remote.forEach((promise) => promise.catch(() => {}));
      const [localStart, localEnd] = shares[0]!;
      let lossSum = accumulateWindow(
        accumulator,
        model,
        microBatches.slice(localStart, localEnd),
        windowItemCount,
        lossScale,
        dropoutSeeds.slice(localStart, localEnd),
        (microIndex, microLoss) => onMicroBatch?.(localStart + microIndex, microLoss),
      );
      let results: ShareResult[];
      try {
        results = await Promise.all(remote);
      } catch (error) {
        // A window with a missing share cannot be completed, and live worker threads would keep
        // the process running: shut the pool down before the run fails.
        await pool.close();
        throw error;
      }
      results.forEach((result, k) => {
        if (result.gradients.length === 0) return;
        accumulator.addGradients(result.gradients);
        result.microLossSums.forEach((microLoss, j) => {
          lossSum += microLoss;
          onMicroBatch?.(shares[k + 1]![0] + j, microLoss);
        });
      });
      return { lossSum };
    },
    async replicaParamSums() {
      return pool.broadcast<number[]>('paramSums', []);
    },
    close() {
      return pool.close();
    },
  };
}
