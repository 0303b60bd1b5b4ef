import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../src/core/errors.js';
import { fillDropoutMask, fillGroupedDropoutMask } from '../../src/core/random.js';
import { dropoutMask } from '../../src/nn/dropout.js';
import { useBackend } from '../helpers/backend.js';

for (const backend of ['cpu', 'wasm'] as const) {
  test(`[${backend}] dropoutMask drops a fraction rate, scales the rest by 1/(1 − rate), and is deterministic per seed`, async () => {
    await useBackend(backend);
    for (const rate of [0.1, 0.5]) {
      const mask = dropoutMask([40, 500], { rate, seeds: [7] });
      assert.deepEqual(mask.shape, [40, 500]);
      const values = Array.from(await mask.data());
      const dropped = values.filter((value) => value === 0).length / values.length;
      // 20 000 Bernoulli draws: 5 standard deviations is < 0.018.
      assert.ok(Math.abs(dropped - rate) < 0.018, `rate ${rate}: dropped ${dropped}`);
      assert.ok(values.every((value) => value === 0 || value === Math.fround(1 / (1 - rate))));
      const again = dropoutMask([40, 500], { rate, seeds: [7] });
      assert.deepEqual(Array.from(await again.data()), values);
      const other = dropoutMask([40, 500], { rate, seeds: [8] });
      assert.notDeepEqual(Array.from(await other.data()), values);
      mask.dispose();
      again.dispose();
      other.dispose();
    }
    const none = dropoutMask([3], { rate: 0, seeds: [1] });
    assert.deepEqual(Array.from(await none.data()), [1, 1, 1]);
    none.dispose();
    assert.throws(() => dropoutMask([2], { rate: 1, seeds: [0] }), ConfigError);
    assert.throws(() => dropoutMask([2], { rate: -0.1, seeds: [0] }), ConfigError);
  });

  test(`[${backend}] dropoutMask: each group of rows has its own stream, rows rowStride draws apart`, async () => {
    await useBackend(backend);
    // 4 samples × 5 positions × 30 columns, rows 64 draws apart (attention: max_position_embeddings).
    const seeds = [11, 12, 0xffffffff, 0];
    const mask = dropoutMask([4, 5, 30], { rate: 0.4, seeds, rowStride: 64 });
    const values = await mask.data();
    seeds.forEach((seed, group) => {
      for (let row = 0; row < 5; row++) {
        const start = (group * 5 + row) * 30;
        assert.deepEqual(values.subarray(start, start + 30), fillDropoutMask(new Float32Array(30), 0.4, seed, row * 64), `group ${group}, row ${row}`);
      }
    });
    // One row per group (a layer computing position 0 only) gets row 0 of every group's full mask.
    const first = await dropoutMask([4, 30], { rate: 0.4, seeds, rowStride: 64 }).data();
    seeds.forEach((_, group) => assert.deepEqual(first.subarray(group * 30, (group + 1) * 30), values.subarray(group * 150, group * 150 + 30)));
    mask.dispose();
    assert.throws(() => dropoutMask([5, 30], { rate: 0.4, seeds: [1, 2] }), /does not split into 2 equal groups/);
    assert.throws(() => dropoutMask([4, 30], { rate: 0.4, seeds: [1, 2], rowStride: 29 }), /row stride must be an integer ≥ its 30 columns/);
  });
}

test('property: a group\'s mask depends on its seed and its rows and columns only — not on the other groups, its place among them, nor on columns or rows after its own', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 5 }),
      fc.nat(),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 0, max: 8 }),
      (others, place, rows, cols, extraCols, extraStride) => {
        const seed = 0x5eed;
        const at = place % (others.length + 1);
        const seeds = [...others.slice(0, at), seed, ...others.slice(at)];
        // Padding: the same sample in a batch with more columns (keys), rows taken from a longer group.
        const stride = cols + extraCols + extraStride;
        const alone = fillGroupedDropoutMask(new Float32Array(rows * cols), cols, 0.3, [seed], stride);
        const wide = cols + extraCols;
        const together = fillGroupedDropoutMask(new Float32Array(seeds.length * (rows + 1) * wide), wide, 0.3, seeds, stride);
        for (let row = 0; row < rows; row++) {
          const start = (at * (rows + 1) + row) * wide;
          assert.deepEqual(together.subarray(start, start + cols), alone.subarray(row * cols, (row + 1) * cols));
        }
      },
    ),
    { numRuns: 300 },
  );
});
