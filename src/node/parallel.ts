/**
 * Multi-worker window engine (`--workers N`): the main thread and N − 1 pool workers each
 * compute the gradient of a contiguous share of a window's micro-batches. Every share is
 * normalised by the WINDOW's item count (docs/design.md §2), so who computed which micro-batch
 * does not change the result beyond float32 summation order.
 *
 * One copy of the parameters: the model's host store is a SharedArrayBuffer that every replica
 * computes from, and the optimizer updates it in place; after a step the workers are only told
 * to refresh their heap mirrors. Each worker's share lands in its own shared gradient buffers,
 * added into the window's gradient in worker order (deterministic), with no message carrying
 * the model or its gradients.
 */
import { ConfigError } from '../core/errors.js';
import { accumulateWindow } from '../train/accumulator.js';
import { GradientStore } from '../train/store.js';
import type { TrainableModel, WindowGradientEngine } from '../train/types.js';
import { WorkerPool } from './pool.js';
import type { ReplicaFactory, ReplicaOptions, ShareResult } from './replica.js';

export interface ParallelEngineOptions {
  /** Compute threads in all, the main thread included (≥ 2; 1 means: use the local engine). */
  workers: number;
  /** How a worker builds its replica over the shared parameters. */
  factory: ReplicaFactory;
  backend?: 'wasm' | 'cpu' | 'node';
  fastKernels?: boolean;
  /** The main thread's gradient buffers (default: new ones). */
  gradients?: GradientStore;
}

export interface ParallelEngine<Sample> extends WindowGradientEngine<Sample> {
  readonly pool: WorkerPool;
  /** The window's gradient buffers (pass them to `fit` as `gradients`). */
  readonly gradients: GradientStore;
  /** Host bytes of the workers' gradient buffers. */
  readonly shareBytes: number;
  /** Each replica's float64 sums of the parameters it computes with (a sync check). */
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
    throw new ConfigError(`a parallel engine needs at least 2 workers (the main thread counts as one), got ${options.workers}`, { field: 'workers' });
  }
  const parameters = model.parameters.values.buffer;
  if (!(parameters instanceof SharedArrayBuffer)) {
    throw new ConfigError('a parallel engine needs the model\'s parameters in shared memory (build it with arena { shared: true })', { field: 'workers' });
  }
  const layout = model.parameters.layout;
  const shares = Array.from({ length: options.workers - 1 }, () => new GradientStore(layout, { shared: true }));
  const pool = await WorkerPool.start({
    size: options.workers - 1,
    replicaModule: new URL('./replica.js', import.meta.url).href,
    replicaOptions: shares.map((share): ReplicaOptions => ({ factory: options.factory, parameters, gradients: share.arena.buffer as SharedArrayBuffer })),
    ...(options.backend !== undefined ? { backend: options.backend } : {}),
    ...(options.fastKernels !== undefined ? { fastKernels: options.fastKernels } : {}),
  });
  // Main-thread views of the workers' buffers: every value is read (the worker wrote all of them).
  const shareViews = shares.map((share) => new GradientStore(layout, { buffer: share.arena.buffer }));

  return {
    pool,
    gradients: options.gradients ?? new GradientStore(layout),
    shareBytes: shares.reduce((sum, share) => sum + share.arena.data.byteLength, 0),
    async afterStep() {
      await pool.broadcast('parametersUpdated', []);
    },
    async computeWindow(grads, work, onMicroBatch) {
      const { microBatches, itemCount, lossScale, dropoutSeeds, epoch } = work;
      const ranges = splitShares(
        microBatches.map((micro) => micro.length),
        pool.size + 1,
      );
      // Workers first, so they compute while the main thread does its own share.
      const remote = ranges.slice(1).map(([start, end], k) =>
        start === end
          ? Promise.resolve<ShareResult | undefined>(undefined)
          : pool.call<ShareResult>(k, 'computeShare', [microBatches.slice(start, end), itemCount, lossScale, dropoutSeeds.slice(start, end), epoch]),
      );
      // If the local share throws, still observe the remote promises so none rejects unhandled.
      remote.forEach((promise) => promise.catch(() => {}));
      const [localStart, localEnd] = ranges[0]!;
      let lossSum = accumulateWindow(
        grads,
        model,
        { ...work, microBatches: microBatches.slice(localStart, localEnd), dropoutSeeds: dropoutSeeds.slice(localStart, localEnd) },
        (microIndex, microLoss) => onMicroBatch?.(localStart + microIndex, microLoss),
      );
      let results: (ShareResult | undefined)[];
      try {
        results = await Promise.all(remote);
      } catch (error) {
        // A window with a missing share cannot be completed, and live worker threads would keep
        // the process running: shut the pool down before the run fails.
        await pool.close();
        throw error;
      }
      results.forEach((result, k) => {
        if (result === undefined) return;
        grads.addStore(shareViews[k]!);
        result.microLossSums.forEach((microLoss, j) => {
          lossSum += microLoss;
          onMicroBatch?.(ranges[k + 1]![0] + j, microLoss);
        });
      });
      return { lossSum };
    },
    replicaParamSums() {
      return pool.broadcast<number[]>('paramSums', []);
    },
    close() {
      return pool.close();
    },
  };
}
