/**
 * fillNormal is Marsaglia's polar method on the seed's RandomStream: its inlined generator
 * draws exactly the stream's uniforms, so initial weights stay a pure function of the seed.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fillNormal, RandomStream } from '../../src/core/random.js';

/** The method written out on RandomStream, value by value. */
function polarReference(count: number, std: number, seed: number): Float32Array {
  const stream = new RandomStream(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * stream.uniform() - 1;
      v = 2 * stream.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const factor = Math.sqrt((-2 * Math.log(s)) / s) * std;
    out[i] = u * factor;
    if (i + 1 < count) out[i + 1] = v * factor;
  }
  return out;
}

test('fillNormal draws what RandomStream draws, for any seed and length (odd ones too)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 999 }), fc.constantFrom(0.02, 1), (seed, count, std) => {
      assert.deepEqual(fillNormal(new Float32Array(count), std, seed), polarReference(count, std, seed));
    }),
    { numRuns: 200 },
  );
  // A seed that is not a 32-bit integer is hashed as RandomStream hashes it.
  assert.deepEqual(fillNormal(new Float32Array(11), 0.02, -5.5), polarReference(11, 0.02, -5.5));
});

test('fillNormal has the moments of N(0, std²)', () => {
  const values = fillNormal(new Float32Array(200_000), 0.02, 7);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
  assert.ok(Math.abs(mean) < 3 * (0.02 / Math.sqrt(values.length)), `mean ${mean}`);
  assert.ok(Math.abs(Math.sqrt(variance) / 0.02 - 1) < 0.01, `std ${Math.sqrt(variance)}`);
});
