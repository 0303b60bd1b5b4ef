import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// The tests' platform set-up, as microbatch/node's: TF.js's gradient functions for autodiff models.
import '@tensorflow/tfjs-layers';
import { registerMissingKernels } from '../../src/backend/missingKernels.js';

/** Switches TF.js to `name` ('cpu' or 'wasm') and waits until it is ready. */
export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`backend ${name} failed to initialise`);
  }
  await tf.ready();
  if (name === 'wasm') registerMissingKernels();
}

/** Largest |a-b| / max(|a|, |b|, floor) over two arrays (floor keeps near-zero entries from dominating). */
export function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const scale = Math.max(Math.abs(a[i]!), Math.abs(b[i]!), floor);
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale);
  }
  return worst;
}
