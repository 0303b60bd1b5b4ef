/**
 * A pool of worker threads, each holding its own TF.js backend and a model replica built by a
 * "replica module" (a module URL exporting `createReplica(options)`), plus a tiny RPC on top
 * of `postMessage`. It knows nothing of training: the train layer decides what a replica
 * computes. A worker that crashes or exits fails every pending and later call with a
 * WorkerError, so a run can never continue with a silently missing share of a window.
 */
import { Worker } from 'node:worker_threads';
import { WorkerError } from '../core/errors.js';

export interface WorkerPoolOptions {
  /** Number of worker threads (≥ 1). */
  size: number;
  /** URL (file://…) of an ES module exporting `createReplica(options): Promise<Record<string, Function>>`. */
  replicaModule: string;
  /** Structured-cloneable options passed to `createReplica`, one per worker. */
  replicaOptions: readonly unknown[];
  /** Backend the workers use (default 'wasm'). */
  backend?: 'wasm' | 'cpu' | 'node';
  /** Install microbatch's fast kernels in the workers (default true). */
  fastKernels?: boolean;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };

export interface WorkerInit {
  replicaModule: string;
  replicaOptions: unknown;
  backend: 'wasm' | 'cpu' | 'node';
  fastKernels: boolean;
}

class PoolWorker {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure: WorkerError | undefined;
  private closing = false;
  readonly worker: Worker;

  constructor(
    readonly index: number,
    init: WorkerInit,
  ) {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
    this.worker.on('message', (reply: WorkerReply) => {
      const pending = this.pending.get(reply.id);
      if (pending === undefined) return;
      this.pending.delete(reply.id);
      if (reply.ok) pending.resolve(reply.value);
      else pending.reject(new WorkerError(`worker ${this.index}: ${reply.message}`));
    });
    this.worker.on('error', (error) => this.fail(`worker ${this.index} crashed: ${error.message}`));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.fail(`worker ${this.index} exited unexpectedly (code ${code})`);
    });
  }

  call<T>(method: string, args: unknown[], transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, method, args }, transfer);
    });
  }

  private fail(message: string): void {
    this.failure ??= new WorkerError(message);
    for (const pending of this.pending.values()) pending.reject(this.failure);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.fail(`worker ${this.index} was closed`);
    await this.worker.terminate();
  }
}

export class WorkerPool {
  private constructor(private readonly workers: PoolWorker[]) {}

  /** Starts `size` workers and waits until each has built its replica. */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    if (!Number.isSafeInteger(options.size) || options.size < 1) throw new WorkerError(`pool size must be a positive integer, got ${options.size}`);
    if (options.replicaOptions.length !== options.size) throw new WorkerError(`expected replica options for each of the ${options.size} workers, got ${options.replicaOptions.length}`);
    const init = (index: number): WorkerInit => ({
      replicaModule: options.replicaModule,
      replicaOptions: options.replicaOptions[index],
      backend: options.backend ?? 'wasm',
      fastKernels: options.fastKernels ?? true,
    });
    const pool = new WorkerPool(Array.from({ length: options.size }, (_, index) => new PoolWorker(index + 1, init(index))));
    try {
      await Promise.all(pool.workers.map((worker) => worker.call('ready', [])));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Calls `method` of worker `index`'s replica. Transferred buffers become unusable here. */
  call<T>(index: number, method: string, args: unknown[], transfer: ArrayBuffer[] = []): Promise<T> {
    const worker = this.workers[index];
    if (worker === undefined) return Promise.reject(new WorkerError(`no worker ${index} in a pool of ${this.workers.length}`));
    return worker.call<T>(method, args, transfer);
  }

  /** Calls `method` on every replica with the same arguments (copied to each). */
  broadcast<T>(method: string, args: unknown[]): Promise<T[]> {
    return Promise.all(this.workers.map((worker) => worker.call<T>(method, args)));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
  }
}
