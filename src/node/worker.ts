/**
 * Entry point of a pool worker (see pool.ts): sets up TF.js, builds the replica from the
 * replica module, then answers `{ id, method, args }` messages with the method's result.
 * Float32Array results are transferred, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerInit } from './pool.js';
import { selectBackend } from './backend.js';

type Replica = Record<string, (...args: unknown[]) => unknown>;

const init = workerData as WorkerInit;

function transferables(value: unknown, found: ArrayBuffer[] = []): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer && !found.includes(value.buffer)) found.push(value.buffer);
  } else if (Array.isArray(value)) {
    for (const item of value) transferables(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) transferables(item, found);
  }
  return found;
}

async function setUp(): Promise<Replica> {
  await selectBackend(init.backend, { fastKernels: init.fastKernels, log: () => {} });
  const module = (await import(init.replicaModule)) as { createReplica?: (options: unknown) => Promise<Replica> | Replica };
  if (typeof module.createReplica !== 'function') throw new Error(`${init.replicaModule} does not export createReplica`);
  return module.createReplica(init.replicaOptions);
}

const replica = setUp();
// Set-up errors are answered to the first call (the pool's 'ready'), not left to crash the thread.
replica.catch(() => {});
const port = parentPort!;

port.on('message', async ({ id, method, args }: { id: number; method: string; args: unknown[] }) => {
  try {
    const ready = await replica;
    if (method === 'ready') {
      port.postMessage({ id, ok: true, value: true });
      return;
    }
    const fn = ready[method];
    if (typeof fn !== 'function') throw new Error(`the replica has no method "${method}"`);
    const value = await fn.apply(ready, args);
    port.postMessage({ id, ok: true, value }, transferables(value));
  } catch (error) {
    port.postMessage({ id, ok: false, message: error instanceof Error ? error.message : String(error) });
  }
});
