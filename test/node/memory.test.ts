/**
 * The arithmetic that keeps a run under the wasm heap's ceiling and the memory budget.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describeLimits, extrapolate, fitsLimits, inferenceBatch, isOutOfMemory, largestFitting, type MemoryLimits } from '../../src/node/memory.js';

const MiB = 2 ** 20;
const limits = (heap: number, budget: number, host = 0): MemoryLimits => ({ heapBytes: heap * MiB, budgetBytes: budget * MiB, hostBytes: host * MiB });

test('a peak fits when it is under the heap ceiling and, with the host stores, under the budget', () => {
  assert.equal(fitsLimits(100 * MiB, limits(100, 1000)), true);
  assert.equal(fitsLimits(101 * MiB, limits(100, 1000)), false);
  assert.equal(fitsLimits(60 * MiB, limits(100, 100, 50)), false, 'host stores count against the budget');
  assert.match(describeLimits(101 * MiB, limits(100, 1000)), /wasm heap/);
  assert.match(describeLimits(60 * MiB, limits(100, 100, 50)), /memory budget of 100\.0 MiB \(50\.0 MiB of it held by/);
});

test('the largest fitting micro-batch is the largest whose linear extrapolation fits, capped by the batch', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 64 }), (one, growth, heap, cap) => {
      const bounds = limits(heap, 10 * heap);
      const size = largestFitting(one * MiB, (one + growth) * MiB, bounds, cap);
      assert.ok(size >= 0 && size <= cap);
      if (size > 0) assert.ok(fitsLimits(extrapolate(one * MiB, (one + growth) * MiB, size), bounds));
      if (size < cap) assert.ok(!fitsLimits(extrapolate(one * MiB, (one + growth) * MiB, size + 1), bounds));
    }),
  );
});

test('an evaluation batch is as large as fits, up to the wanted size, never under the size known to fit', () => {
  const bytes = (size: number) => size * 10 * MiB;
  assert.equal(inferenceBatch(32, 8, bytes, limits(1000, 10_000)), 32);
  assert.equal(inferenceBatch(32, 8, bytes, limits(155, 10_000)), 15);
  assert.equal(inferenceBatch(32, 8, bytes, limits(50, 10_000)), 8, 'the training micro-batch was measured to fit');
  assert.equal(inferenceBatch(4, 8, bytes, limits(1000, 10_000)), 4);
});

test('the wasm heap running out is recognised in the forms it takes', () => {
  assert.ok(isOutOfMemory(new Error('Aborted(). Build with -sASSERTIONS for more info.')));
  assert.ok(isOutOfMemory(new RangeError('Array buffer allocation failed')));
  assert.ok(isOutOfMemory(new Error('memory access out of bounds')));
  assert.ok(!isOutOfMemory(new Error('ENOENT: no such file')));
});
