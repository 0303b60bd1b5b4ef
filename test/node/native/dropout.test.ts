/**
 * The native dropout kernels draw exactly src/core/random.ts's fillGroupedDropoutMask (the web
 * page trains with the JavaScript mask and must get the same weights): y = (x + bias)·mask and
 * dx = dy·mask bit for bit against the JavaScript mask for many seeds, rates and sizes, for any
 * grouping of rows into per-sample (or per-sample-and-head) streams and any row stride, with 1
 * and 2 threads, on the AVX-512 and the portable path. The bias gradient is the float64 column sum.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { dropoutStreamState, fillDropoutMask, fillGroupedDropoutMask, RandomStream } from '../../../src/core/random.js';
import { firstBitDifference, native, normalArray, skip, withThreads } from './helpers.js';

const f = Math.fround;
const RATES = [0.1, 0.5, 0.9, 1e-9, 0.25, 0.999999, 2 ** -32];
const SHAPES: [number, number][] = [[1, 1], [3, 17], [64, 130], [600, 300]];

function seeds(count: number): number[] {
  const stream = new RandomStream(99);
  return [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, ...Array.from({ length: count }, () => stream.nextUint32())];
}

/** The JavaScript reference of biasDropoutForward: (x + bias) then · mask, float32 ops. */
function reference(x: Float32Array, bias: Float32Array | null, cols: number, mask: Float32Array): Float32Array {
  return Float32Array.from(x, (value, i) => f(f(bias !== null ? value + bias[i % cols]! : value) * mask[i]!));
}

/** Layouts of a [rows, cols] tensor: groups of rows (each with a seed) and a row stride ≥ cols. */
function layouts(rows: number, cols: number): { groups: number; rowStride: number }[] {
  const divisors = [1, 2, 3, 5, 8].filter((groups) => rows % groups === 0);
  return [...divisors.map((groups) => ({ groups, rowStride: cols })), { groups: rows, rowStride: cols }, { groups: divisors[divisors.length - 1]!, rowStride: cols + 37 }];
}

test('fillDropoutMask can start anywhere in its stream (draw start + i); one group of rows is the plain stream', () => {
  for (const seed of seeds(5)) {
    const full = fillDropoutMask(new Float32Array(1000), 0.3, seed);
    for (const start of [0, 1, 17, 999]) assert.deepEqual(fillDropoutMask(new Float32Array(1000 - start), 0.3, seed, start), full.subarray(start));
    assert.deepEqual(fillGroupedDropoutMask(new Float32Array(1000), 40, 0.3, [seed]), full);
  }
});

/** Masks of a [rows, cols] tensor: one stream (every rate, many seeds), then groups of rows with several strides. */
function maskCases(rows: number, cols: number): { rate: number; groupSeeds: number[]; rowStride: number }[] {
  const single = RATES.flatMap((rate) => seeds(rows * cols > 10_000 ? 2 : 12).map((seed) => ({ rate, groupSeeds: [dropoutStreamState(seed)], rowStride: cols })));
  const grouped = layouts(rows, cols).flatMap(({ groups, rowStride }) => [0.1, 0.5].map((rate) => ({ rate, groupSeeds: seeds(groups).slice(0, groups), rowStride })));
  return [...single, ...grouped];
}

test('biasDropoutForward with x = 1 is fillGroupedDropoutMask bit for bit (seeds × rates × groups of rows × row strides × sizes, 1 and 2 threads)', { skip }, () => {
  const a = native();
  let checked = 0;
  for (const threads of [1, 2]) {
    withThreads(threads, () => {
      for (const [rows, cols] of SHAPES) {
        const ones = new Float32Array(rows * cols).fill(1);
        for (const { rate, groupSeeds, rowStride } of maskCases(rows, cols)) {
          const expected = fillGroupedDropoutMask(new Float32Array(rows * cols), cols, rate, groupSeeds, rowStride);
          const y = new Float32Array(rows * cols);
          a.biasDropoutForward(ones, null, rows, cols, rate, Uint32Array.from(groupSeeds), rows / groupSeeds.length, rowStride, y);
          assert.equal(firstBitDifference(y, expected), -1, `rate ${rate}, seeds ${groupSeeds.length > 3 ? groupSeeds.length : groupSeeds}, stride ${rowStride}, ${rows}×${cols}, ${threads} threads`);
          checked += 1;
        }
      }
    });
  }
  assert.ok(checked > 340);
});

test('property: the kernel\'s mask is fillGroupedDropoutMask\'s for any layout (columns not a multiple of 16, strides past 2^32 draws)', { skip }, () => {
  const a = native();
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 70 }),
      fc.oneof(fc.integer({ min: 0, max: 600 }), fc.constant(2 ** 31 + 3)),
      fc.double({ min: 0.01, max: 0.99, noNaN: true }),
      (groupSeeds, groupRows, cols, extraStride, rate) => {
        const rows = groupSeeds.length * groupRows;
        const rowStride = cols + extraStride;
        const expected = fillGroupedDropoutMask(new Float32Array(rows * cols), cols, rate, groupSeeds, rowStride);
        const y = new Float32Array(rows * cols);
        a.biasDropoutForward(new Float32Array(rows * cols).fill(1), null, rows, cols, rate, Uint32Array.from(groupSeeds), groupRows, rowStride, y);
        assert.equal(firstBitDifference(y, expected), -1);
      },
    ),
    { numRuns: 200 },
  );
});

test('biasDropoutForward/Backward equal (x + b)·mask and dy·mask of the JavaScript mask, and Σ dy·mask', { skip }, () => {
  const a = native();
  for (const [rows, cols] of SHAPES) {
    const x = normalArray(rows * cols, 1, 3);
    const bias = normalArray(cols, 2);
    const dy = normalArray(rows * cols, 3);
    specialValues(x);
    const { groups, rowStride } = layouts(rows, cols).at(-1)!;
    const groupSeeds = Array.from({ length: groups }, (_, group) => (0x9e3779b9 + rows + group) >>> 0);
    const seedStates = Uint32Array.from(groupSeeds);
    for (const rate of [0, 0.1, 0.5]) {
      const mask = rate === 0 ? new Float32Array(rows * cols).fill(1) : fillGroupedDropoutMask(new Float32Array(rows * cols), cols, rate, groupSeeds, rowStride);
      const layout = [rate, rate === 0 ? null : seedStates, rows / groups, rowStride] as const;
      for (const threads of [1, 2]) {
        withThreads(threads, () => {
          for (const withBias of [true, false]) {
            const y = new Float32Array(rows * cols);
            a.biasDropoutForward(x, withBias ? bias : null, rows, cols, ...layout, y);
            assert.equal(firstBitDifference(y, reference(x, withBias ? bias : null, cols, mask)), -1, `forward rate ${rate} ${rows}×${cols}`);
          }
          const dx = new Float32Array(rows * cols);
          const dbias = normalArray(cols, 4);
          const before = dbias.slice();
          a.biasDropoutBackward(dy, rows, cols, ...layout, dx, dbias, true);
          assert.equal(firstBitDifference(dx, reference(dy, null, cols, mask)), -1, `backward rate ${rate} ${rows}×${cols}`);
          for (let j = 0; j < cols; j++) {
            let sum = 0;
            let scale = Math.abs(before[j]!);
            for (let r = 0; r < rows; r++) {
              sum += dx[r * cols + j]!;
              scale += Math.abs(dx[r * cols + j]!);
            }
            // A float64 sum rounded once, then one float32 addition.
            assert.ok(Math.abs(dbias[j]! - (before[j]! + sum)) <= 2 ** -23 * scale + 1e-30, `dbias[${j}] rate ${rate}`);
          }
          // dx null: the bias gradient alone (what a dense layer's bias needs), assigned.
          const alone = new Float32Array(cols);
          a.biasDropoutBackward(dy, rows, cols, ...layout, null, alone, false);
          const again = new Float32Array(cols);
          a.biasDropoutBackward(dy, rows, cols, ...layout, dx, again, false);
          assert.deepEqual(alone, again);
        });
      }
    }
  }
});

test('a sample\'s mask is the same with one row per group (the [CLS]-only layer) and with fewer columns (less padding)', { skip }, () => {
  const a = native();
  // 5 samples × 7 positions × 24 columns, rows 64 draws apart (attention: keys ≤ max_position_embeddings).
  const [samples, positions, cols, rowStride] = [5, 7, 24, 64];
  const groupSeeds = Uint32Array.from({ length: samples }, (_, sample) => 1234 + sample);
  const full = new Float32Array(samples * positions * cols);
  a.biasDropoutForward(new Float32Array(full.length).fill(1), null, samples * positions, cols, 0.4, groupSeeds, positions, rowStride, full);
  const first = new Float32Array(samples * cols);
  a.biasDropoutForward(new Float32Array(first.length).fill(1), null, samples, cols, 0.4, groupSeeds, 1, rowStride, first);
  for (let s = 0; s < samples; s++) assert.deepEqual(first.subarray(s * cols, (s + 1) * cols), full.subarray(s * positions * cols, s * positions * cols + cols));
  // Fewer keys (columns) per row: each row's mask is the prefix of the wider one.
  const narrow = new Float32Array(samples * positions * 10);
  a.biasDropoutForward(new Float32Array(narrow.length).fill(1), null, samples * positions, 10, 0.4, groupSeeds, positions, rowStride, narrow);
  for (let row = 0; row < samples * positions; row++) assert.deepEqual(narrow.subarray(row * 10, (row + 1) * 10), full.subarray(row * cols, row * cols + 10));
});

test('biasDropoutForward: the portable (non-AVX-512) path draws the same mask', { skip }, () => {
  const random = fileURLToPath(new URL('../../../src/core/random.js', import.meta.url));
  const addonModule = fileURLToPath(new URL('../../../src/node/native/addon.js', import.meta.url));
  const script = `
    const { fillGroupedDropoutMask } = await import(${JSON.stringify(random)});
    const { loadNativeAddon } = await import(${JSON.stringify(addonModule)});
    const a = loadNativeAddon();
    let bad = 0;
    for (const rate of [0.1, 0.5, 0.9]) for (const seed of [0, 7, 4294967295, 123456789]) for (const [rows, cols, groups, rowStride] of [[3, 17, 1, 17], [64, 130, 8, 130], [64, 130, 16, 512]]) {
      const n = rows * cols;
      const seeds = Array.from({ length: groups }, (_, group) => (seed + group) >>> 0);
      const y = new Float32Array(n);
      a.biasDropoutForward(new Float32Array(n).fill(1), null, rows, cols, rate, Uint32Array.from(seeds), rows / groups, rowStride, y);
      const expected = fillGroupedDropoutMask(new Float32Array(n), cols, rate, seeds, rowStride);
      for (let i = 0; i < n; i++) if (Object.is(y[i], expected[i]) === false) { bad++; break; }
    }
    console.log(JSON.stringify({ isa: a.kernelIsa(), bad }));`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, MICROBATCH_NATIVE_ISA: 'portable' }, encoding: 'utf8' });
  assert.deepEqual(JSON.parse(output.trim()), { isa: 'portable', bad: 0 });
});

test('biasDropoutForward rejects a rate outside [0, 1), missing or too few seeds, groupRows 0 and a row stride below cols', { skip }, () => {
  const a = native();
  const x = new Float32Array(4);
  const y = new Float32Array(4);
  const one = Uint32Array.of(0);
  assert.throws(() => a.biasDropoutForward(x, null, 2, 2, 1, one, 2, 2, y), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => a.biasDropoutForward(x, null, 2, 2, -0.1, one, 2, 2, y), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => a.biasDropoutForward(x, null, 2, 2, 0.1, null, 2, 2, y), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => a.biasDropoutForward(x, null, 2, 2, 0.1, new Float32Array(1) as never, 2, 2, y), { code: 'ERR_INVALID_ARG_TYPE', message: /seeds must be a Uint32Array/ });
  assert.throws(() => a.biasDropoutForward(x, null, 2, 2, 0.1, one, 1, 2, y), { code: 'ERR_OUT_OF_RANGE', message: /seeds has 1 elements, needs 2/ });
  assert.throws(() => a.biasDropoutForward(x, null, 2, 2, 0.1, one, 0, 2, y), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => a.biasDropoutForward(x, null, 2, 2, 0.1, one, 2, 1, y), { code: 'ERR_OUT_OF_RANGE', message: /rowStride must be ≥ cols/ });
  assert.throws(() => a.biasDropoutForward(x, null, 2, 3, 0.1, one, 2, 3, y), { code: 'ERR_OUT_OF_RANGE' });
  // Rate 0 reads no seeds: a bias add.
  a.biasDropoutForward(Float32Array.of(1, 2, 3, 4), Float32Array.of(10, 20), 2, 2, 0, null, 2, 2, y);
  assert.deepEqual(y, Float32Array.of(11, 22, 13, 24));
});

test('layerNormAffine is layerNormForward\'s output from its saved x̂, bit for bit', { skip }, () => {
  const a = native();
  for (const [rows, cols] of [[3, 17], [600, 300]] as const) {
    const x = normalArray(rows * cols, 5, 2);
    const gamma = normalArray(cols, 6);
    const beta = normalArray(cols, 7);
    const out = new Float32Array(rows * cols);
    const xhat = new Float32Array(rows * cols);
    a.layerNormForward(x, null, gamma, beta, rows, cols, 1e-12, out, xhat, new Float32Array(rows));
    for (const threads of [1, 2]) {
      withThreads(threads, () => {
        const again = new Float32Array(rows * cols);
        a.layerNormAffine(xhat, gamma, beta, rows, cols, again);
        assert.equal(firstBitDifference(again, out), -1);
      });
    }
  }
});

/** Zeros of both signs, infinities and NaN among the values (x·0 keeps their IEEE results). */
function specialValues(x: Float32Array): void {
  [0, -0, Infinity, -Infinity, NaN, 1e-45, -3e38].forEach((value, index) => {
    if (index * 11 < x.length) x[index * 11] = value;
  });
}
