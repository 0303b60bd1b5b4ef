/**
 * Host helpers: axpy and scale bit-identical to Math.fround references; sumSquares
 * bit-identical to the fixed-order float64 reference for any thread count; allFinite; copy;
 * all of them on SharedArrayBuffer-backed subarrays as well as plain ones.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { axpyReference, scaleReference, sumSquaresReference, SUM_SQUARES_CHUNK } from '../../../src/node/native/reference.js';
import { firstBitDifference, hardArray, native, normalArray, skip, withThreads } from './helpers.js';

const SIZES = [0, 1, 15, 17, 1000, SUM_SQUARES_CHUNK + 5, 300_001];

for (const size of SIZES) {
  test(`axpy and scale are bit-identical to the references (${size} elements)`, { skip }, () => {
    const a = native();
    for (const threads of [1, 2]) {
      withThreads(threads, () => {
        for (const alpha of [0.1, -3, 1e-30, 1]) {
          const y = hardArray(size, 1);
          const x = hardArray(size, 2);
          const expected = y.slice();
          axpyReference(expected, alpha, x);
          a.axpy(y, alpha, x);
          assert.equal(firstBitDifference(y, expected), -1, `axpy alpha ${alpha}`);
          scaleReference(expected, alpha);
          a.scale(y, alpha);
          assert.equal(firstBitDifference(y, expected), -1, `scale ${alpha}`);
        }
      });
    }
  });

  test(`sumSquares has the reference's exact bits for 1 and 2 threads, every ISA order (${size} elements)`, { skip }, () => {
    const a = native();
    const x = normalArray(size, 3, 1e3);
    const expected = sumSquaresReference(x);
    for (const threads of [1, 2]) {
      assert.equal(withThreads(threads, () => a.sumSquares(x)), expected, `${threads} threads`);
    }
    let naive = 0;
    for (const value of x) naive += value * value;
    assert.ok(Math.abs(expected - naive) <= 1e-12 * naive);
  });
}

test('sumSquares of huge and denormal float32 values is exact in float64 (no overflow)', { skip }, () => {
  const a = native();
  const x = new Float32Array([3e38, -3e38, 1e-45, 1e-40]);
  assert.equal(a.sumSquares(x), sumSquaresReference(x));
  assert.ok(Number.isFinite(a.sumSquares(x)));
  assert.ok(a.sumSquares(x) > 1.7e77);
});

test('allFinite finds a single NaN or ±Infinity anywhere, with 1 and 2 threads', { skip }, () => {
  const a = native();
  for (const size of [1, 16, 17, 100_000, 400_003]) {
    const x = normalArray(size, 4, 1e30);
    for (const threads of [1, 2]) {
      withThreads(threads, () => {
        assert.equal(a.allFinite(x), true);
        for (const bad of [NaN, Infinity, -Infinity]) {
          for (const at of [0, size - 1, Math.floor(size / 2)]) {
            const saved = x[at]!;
            x[at] = bad;
            assert.equal(a.allFinite(x), false, `${bad} at ${at} of ${size}`);
            x[at] = saved;
          }
        }
      });
    }
  }
  assert.equal(a.allFinite(new Float32Array(0)), true);
  assert.equal(a.allFinite(new Float32Array([3.4028234663852886e38, -1e-45])), true);
});

test('copy copies (also between overlapping views of one buffer)', { skip }, () => {
  const a = native();
  const src = normalArray(600_000, 5);
  const dst = new Float32Array(600_000);
  withThreads(2, () => a.copy(dst, src));
  assert.equal(firstBitDifference(dst, src), -1);
  const shared = normalArray(1000, 6, 1, { shared: true });
  const expected = shared.slice(0, 900);
  a.copy(shared.subarray(100), shared.subarray(0, 900));
  assert.equal(firstBitDifference(shared.subarray(100), expected), -1);
  assert.throws(() => a.copy(new Float32Array(3), new Float32Array(4)), RangeError);
});

test('helpers accept SharedArrayBuffer-backed subarrays at odd offsets', { skip }, () => {
  const a = native();
  const size = 200_001;
  const y = normalArray(size, 7, 1, { shared: true, offset: 3 });
  const x = normalArray(size, 8, 1, { shared: true, offset: 1 });
  assert.ok(y.buffer instanceof SharedArrayBuffer && y.byteOffset === 12);
  const expected = y.slice();
  axpyReference(expected, 0.25, x);
  withThreads(2, () => a.axpy(y, 0.25, x));
  assert.equal(firstBitDifference(y, expected), -1);
  assert.equal(a.sumSquares(y), sumSquaresReference(y));
  assert.equal(a.allFinite(y), true);
});

test('helpers reject non-Float32Array arguments and overlapping axpy operands', { skip }, () => {
  const a = native();
  assert.throws(() => a.axpy(new Float32Array(4), 1, new Float64Array(4) as never), /x must be a Float32Array/);
  assert.throws(() => a.sumSquares([1, 2] as never), TypeError);
  const buffer = new Float32Array(10);
  assert.throws(() => a.axpy(buffer.subarray(0, 6), 1, buffer.subarray(4, 10)), /y overlaps x/);
});

test('a worker thread with its own addon instance updates a SharedArrayBuffer the main thread sees', { skip }, async () => {
  const a = native();
  const size = 100_003;
  const y = normalArray(size, 9, 1, { shared: true, offset: 2 });
  const x = normalArray(size, 10, 1, { shared: true });
  const expected = y.slice();
  axpyReference(expected, -0.5, x);
  const addonPath = fileURLToPath(new URL('../../../../build/Release/microbatch_native.node', import.meta.url));
  // The worker loads the addon itself (context-aware: its own instance and pool of 2 threads).
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const addon = require(workerData.addonPath);
    addon.setThreads(2);
    addon.axpy(workerData.y, -0.5, workerData.x);
    parentPort.postMessage({ threads: addon.getThreads(), sum: addon.sumSquares(workerData.y) });
  `;
  const result = await new Promise<{ threads: number; sum: number }>((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { addonPath, y, x } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  assert.equal(result.threads, 2);
  assert.equal(a.getThreads(), 1, 'the main thread instance keeps its own pool');
  assert.equal(firstBitDifference(y, expected), -1);
  assert.equal(result.sum, a.sumSquares(y));
});
