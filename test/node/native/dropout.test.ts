/**
 * The native dropout kernels draw exactly src/core/random.ts's fillDropoutMask (the web page
 * trains with the JavaScript mask and must get the same weights): y = (x + bias)·mask and
 * dx = dy·mask bit for bit against the JavaScript mask for many seeds, rates and sizes, with 1
 * and 2 threads, on the AVX-512 and the portable path, and with the row layouts a [CLS]-only
 * layer uses (firstOf). The bias gradient is the float64 column sum.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dropoutStreamState, fillDropoutMask, RandomStream } from '../../../src/core/random.js';
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

test('fillDropoutMask can start anywhere in its stream (draw start + i)', () => {
  for (const seed of seeds(5)) {
    const full = fillDropoutMask(new Float32Array(1000), 0.3, seed);
    for (const start of [0, 1, 17, 999]) assert.deepEqual(fillDropoutMask(new Float32Array(1000 - start), 0.3, seed, start), full.subarray(start));
  }
});

test('biasDropoutForward with x = 1 is fillDropoutMask bit for bit (seeds × rates × sizes, 1 and 2 threads)', { skip }, () => {
  const a = native();
  let checked = 0;
  for (const threads of [1, 2]) {
    withThreads(threads, () => {
      for (const [rows, cols] of SHAPES) {
        const ones = new Float32Array(rows * cols).fill(1);
        for (const rate of RATES) {
          for (const seed of seeds(rows * cols > 10_000 ? 2 : 12)) {
            const expected = fillDropoutMask(new Float32Array(rows * cols), rate, seed);
            const y = new Float32Array(rows * cols);
            a.biasDropoutForward(ones, null, rows, cols, rate, dropoutStreamState(seed), rows, rows, y);
            assert.equal(firstBitDifference(y, expected), -1, `rate ${rate}, seed ${seed}, ${rows}×${cols}, ${threads} threads`);
            checked += 1;
          }
        }
      }
    });
  }
  assert.ok(checked > 300);
});

test('biasDropoutForward/Backward equal (x + b)·mask and dy·mask of the JavaScript mask, and Σ dy·mask', { skip }, () => {
  const a = native();
  for (const [rows, cols] of SHAPES) {
    const x = normalArray(rows * cols, 1, 3);
    const bias = normalArray(cols, 2);
    const dy = normalArray(rows * cols, 3);
    specialValues(x);
    for (const rate of [0, 0.1, 0.5]) {
      const seed = 0x9e3779b9 + rows;
      const mask = rate === 0 ? new Float32Array(rows * cols).fill(1) : fillDropoutMask(new Float32Array(rows * cols), rate, seed);
      for (const threads of [1, 2]) {
        withThreads(threads, () => {
          for (const withBias of [true, false]) {
            const y = new Float32Array(rows * cols);
            a.biasDropoutForward(x, withBias ? bias : null, rows, cols, rate, seed, rows, rows, y);
            assert.equal(firstBitDifference(y, reference(x, withBias ? bias : null, cols, mask)), -1, `forward rate ${rate} ${rows}×${cols}`);
          }
          const dx = new Float32Array(rows * cols);
          const dbias = normalArray(cols, 4);
          const before = dbias.slice();
          a.biasDropoutBackward(dy, rows, cols, rate, seed, rows, rows, dx, dbias, true);
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
          a.biasDropoutBackward(dy, rows, cols, rate, seed, rows, rows, null, alone, false);
          const again = new Float32Array(cols);
          a.biasDropoutBackward(dy, rows, cols, rate, seed, rows, rows, dx, again, false);
          assert.deepEqual(alone, again);
        });
      }
    }
  }
});

test('a row layout takes the mask rows of a larger tensor (the [CLS]-only layer: groupRows 1, stride = rows per sample)', { skip }, () => {
  const a = native();
  // 5 samples × 7 positions × 24 features; the first position of each sample only.
  const [samples, positions, cols] = [5, 7, 24];
  const full = fillDropoutMask(new Float32Array(samples * positions * cols), 0.4, 1234);
  const ones = new Float32Array(samples * cols).fill(1);
  const y = new Float32Array(samples * cols);
  a.biasDropoutForward(ones, null, samples, cols, 0.4, 1234, 1, positions, y);
  for (let s = 0; s < samples; s++) assert.deepEqual(y.subarray(s * cols, (s + 1) * cols), full.subarray(s * positions * cols, s * positions * cols + cols));
  // Two rows per group out of three: rows 0, 1 of every group of 3.
  const grouped = new Float32Array(4 * cols);
  a.biasDropoutForward(new Float32Array(4 * cols).fill(1), null, 4, cols, 0.4, 1234, 2, 3, grouped);
  for (const [row, maskRow] of [[0, 0], [1, 1], [2, 3], [3, 4]] as const) assert.deepEqual(grouped.subarray(row * cols, (row + 1) * cols), full.subarray(maskRow * cols, (maskRow + 1) * cols));
});

test('biasDropoutForward: the portable (non-AVX-512) path draws the same mask', { skip }, () => {
  const random = fileURLToPath(new URL('../../../src/core/random.js', import.meta.url));
  const addonModule = fileURLToPath(new URL('../../../src/node/native/addon.js', import.meta.url));
  const script = `
    const { fillDropoutMask } = await import(${JSON.stringify(random)});
    const { loadNativeAddon } = await import(${JSON.stringify(addonModule)});
    const a = loadNativeAddon();
    let bad = 0;
    for (const rate of [0.1, 0.5, 0.9]) for (const seed of [0, 7, 4294967295, 123456789]) for (const [rows, cols] of [[3, 17], [64, 130]]) {
      const n = rows * cols;
      const y = new Float32Array(n);
      a.biasDropoutForward(new Float32Array(n).fill(1), null, rows, cols, rate, seed, rows, rows, y);
      const expected = fillDropoutMask(new Float32Array(n), rate, seed);
      for (let i = 0; i < n; i++) if (Object.is(y[i], expected[i]) === false) { bad++; break; }
    }
    console.log(JSON.stringify({ isa: a.kernelIsa(), bad }));`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, MICROBATCH_NATIVE_ISA: 'portable' }, encoding: 'utf8' });
  assert.deepEqual(JSON.parse(output.trim()), { isa: 'portable', bad: 0 });
});

test('biasDropoutForward rejects a rate outside [0, 1), a seed beyond 32 bits and groupRows 0', { skip }, () => {
  const a = native();
  const x = new Float32Array(4);
  const y = new Float32Array(4);
  assert.throws(() => a.biasDropoutForward(x, null, 2, 2, 1, 0, 2, 2, y), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => a.biasDropoutForward(x, null, 2, 2, -0.1, 0, 2, 2, y), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => a.biasDropoutForward(x, null, 2, 2, 0.1, 2 ** 32, 2, 2, y), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => a.biasDropoutForward(x, null, 2, 2, 0.1, 0, 0, 2, y), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => a.biasDropoutForward(x, null, 2, 3, 0.1, 0, 2, 2, y), { code: 'ERR_OUT_OF_RANGE' });
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
