/** Shared pieces of the native host-kernel tests: the addon (or a skip reason), operands, error measures. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RandomStream } from '../../../src/core/random.js';
import { loadNativeAddon, nativeAddonStatus, type NativeAddon } from '../../../src/node/native/addon.js';

/** Whether `npm install` built the addon (this file runs from dist/test/node/native/). */
export const addonBuilt = existsSync(fileURLToPath(new URL('../../../../build/Release/microbatch_native.node', import.meta.url)));

export const addon: NativeAddon | undefined = loadNativeAddon();

/** `skip` option for node:test: a reason when the addon is not there. */
export const skip: string | false = addon === undefined ? `native addon unavailable: ${nativeAddonStatus().reason}` : false;

export function native(): NativeAddon {
  if (addon === undefined) throw new Error('native addon unavailable');
  return addon;
}

/** Normal(0, std) values; `shared` puts them in a SharedArrayBuffer (at a non-zero offset when `offset`). */
export function normalArray(size: number, seed: number, std = 1, options: { shared?: boolean; offset?: number } = {}): Float32Array {
  const offset = options.offset ?? 0;
  const buffer = options.shared ? new SharedArrayBuffer((size + offset) * 4) : new ArrayBuffer((size + offset) * 4);
  const out = new Float32Array(buffer, offset * 4, size);
  const stream = new RandomStream(seed);
  for (let i = 0; i < size; i++) out[i] = stream.normal() * std;
  return out;
}

/**
 * Values that stress float32 arithmetic: zeros of both signs, denormals, tiny and huge
 * magnitudes, values next to 1, mixed with normal(0, 1).
 */
export function hardArray(size: number, seed: number): Float32Array {
  const stream = new RandomStream(seed);
  const specials = [0, -0, 1e-45, -1e-45, 1.17e-38, -5e-39, 3e-39, 1e-30, -1e-20, 1e-8, 1, -1, 1.0000001, 3e4, -6e4, 1e18, -3e20, 1e30];
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const pick = stream.below(4);
    if (pick === 0) out[i] = specials[stream.below(specials.length)]!;
    else if (pick === 1) out[i] = stream.normal() * 10 ** (stream.below(60) - 30);
    else out[i] = stream.normal();
  }
  return out;
}

/** First index where two float32 arrays differ bit for bit (NaN payloads included), or -1. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** max |actual − expected| / (|expected| + floor). */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor: number): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!) / (Math.abs(expected[i]!) + floor);
    if (!(error <= worst)) worst = error;
  }
  return worst;
}

/** Runs `body` with the addon's pool at `threads`, restoring it after. */
export function withThreads<T>(threads: number, body: () => T): T {
  const a = native();
  const saved = a.getThreads();
  a.setThreads(threads);
  try {
    return body();
  } finally {
    a.setThreads(saved);
  }
}
