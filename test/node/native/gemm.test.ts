/**
 * sgemm's accumulate/alpha arguments and sgemmBf16 (native AVX512_BF16 and emulated paths)
 * against float64 references. fp32 results are held to a summation-order error bound:
 * |c − ref| ≤ 2·k·u·Σ|a||b| (+ the rounding of C itself), u = 2⁻²⁴; bf16 inputs are rounded
 * exactly like torch (checked bit for bit through roundToBf16 and k = 1 products).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { bf16Round, gemmReference, type GemmReferenceArgs } from '../../../src/node/native/reference.js';
import type { GemmFunction } from '../../../src/node/native/addon.js';
import { firstBitDifference, hardArray, native, normalArray, skip, withThreads } from './helpers.js';

const U = 2 ** -24;

interface Case extends GemmReferenceArgs {
  label: string;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const [m, k, n] of [[1, 1, 1], [13, 7, 35], [37, 300, 70], [130, 513, 33], [200, 64, 1030]] as const) {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        out.push({ label: `${m}×${k}×${n}${transposeA ? ' Aᵀ' : ''}${transposeB ? ' Bᵀ' : ''}`, batch: 1, m, k, n, strideA: 0, strideB: 0, transposeA, transposeB });
      }
    }
  }
  out.push({ label: 'batch 3, B broadcast', batch: 3, m: 20, k: 33, n: 17, strideA: 20 * 33, strideB: 0, transposeA: false, transposeB: true });
  out.push({ label: 'batch 4, A broadcast', batch: 4, m: 9, k: 40, n: 50, strideA: 0, strideB: 40 * 50, transposeA: true, transposeB: false });
  return out;
}

function operands(c: Case, seed: number): { a: Float32Array; b: Float32Array } {
  const aSize = c.strideA === 0 ? c.m * c.k : c.batch * c.strideA;
  const bSize = c.strideB === 0 ? c.k * c.n : c.batch * c.strideB;
  return { a: normalArray(aSize, seed), b: normalArray(bSize, seed + 1) };
}

function call(gemm: GemmFunction, a: Float32Array, b: Float32Array, c: Float32Array, x: Case, accumulate?: boolean, alpha?: number): void {
  const args = [a, b, c, x.batch, x.m, x.k, x.n, x.strideA, x.strideB, x.transposeA, x.transposeB] as const;
  if (alpha !== undefined) gemm(...args, accumulate, alpha);
  else if (accumulate !== undefined) gemm(...args, accumulate);
  else gemm(...args);
}

/** Asserts |actual − (base + alpha·ref)| within the fp32 bound for depth k. */
function assertWithinBound(actual: Float32Array, base: Float32Array | undefined, alpha: number, ref: { c: Float64Array; magnitude: Float64Array }, k: number, label: string): void {
  for (let i = 0; i < actual.length; i++) {
    const expected = (base?.[i] ?? 0) + alpha * ref.c[i]!;
    const bound = 2 * (k + 2) * U * (Math.abs(alpha) * ref.magnitude[i]! + Math.abs(base?.[i] ?? 0)) + 1e-30;
    assert.ok(Math.abs(actual[i]! - expected) <= bound, `${label}: element ${i} ${actual[i]} vs ${expected} (bound ${bound})`);
  }
}

for (const c of cases()) {
  test(`sgemm accumulate and alpha: ${c.label}`, { skip }, () => {
    const a = native();
    const { a: A, b: B } = operands(c, 5);
    const ref = gemmReference(A, B, c);
    for (const threads of [1, 2]) {
      withThreads(threads, () => {
        // 11 arguments: unchanged behaviour (C overwritten, whatever it held).
        const plain = new Float32Array(c.batch * c.m * c.n).fill(NaN);
        call(a.sgemm, A, B, plain, c);
        assertWithinBound(plain, undefined, 1, ref, c.k, `plain ${threads}T`);
        // accumulate = false with explicit alpha 1 is the same call.
        const explicit = new Float32Array(plain.length).fill(7);
        call(a.sgemm, A, B, explicit, c, false, 1);
        assert.equal(firstBitDifference(explicit, plain), -1);
        // C += A·B equals the 11-argument product added to C (one float add per element: the
        // product is formed in the same order, then added) — within one rounding of C.
        const base = normalArray(plain.length, 99);
        const accumulated = base.slice();
        call(a.sgemm, A, B, accumulated, c, true);
        assertWithinBound(accumulated, base, 1, ref, c.k, `accumulate ${threads}T`);
        if (c.k <= 256) {
          // One K block: the tile is added to C once, exactly plain + base rounded.
          for (let i = 0; i < plain.length; i++) assert.equal(accumulated[i], Math.fround(base[i]! + plain[i]!), `accumulate = plain + base at ${i}`);
        }
        // alpha, with and without accumulate.
        const scaled = new Float32Array(plain.length);
        call(a.sgemm, A, B, scaled, c, false, -0.37);
        assertWithinBound(scaled, undefined, Math.fround(-0.37), ref, c.k, `alpha ${threads}T`);
        const both = base.slice();
        call(a.sgemm, A, B, both, c, true, 2.5);
        assertWithinBound(both, base, 2.5, ref, c.k, `accumulate + alpha ${threads}T`);
      });
    }
  });
}

test('sgemm accumulate with k = 0 leaves C unchanged; without, zeroes it', { skip }, () => {
  const a = native();
  const c = new Float32Array([1, 2, 3, 4, 5, 6]);
  a.sgemm(new Float32Array(0), new Float32Array(0), c, 1, 2, 0, 3, 0, 0, false, false, true);
  assert.deepEqual([...c], [1, 2, 3, 4, 5, 6]);
  a.sgemm(new Float32Array(0), new Float32Array(0), c, 1, 2, 0, 3, 0, 0, false, false);
  assert.deepEqual([...c], [0, 0, 0, 0, 0, 0]);
});

test('sgemm works on SharedArrayBuffer-backed subarrays (weight gradient added into a shared host buffer)', { skip }, () => {
  const a = native();
  const x = normalArray(300 * 64, 1, 1, { shared: true, offset: 5 });
  const dy = normalArray(300 * 48, 2, 1, { shared: true, offset: 1 });
  const grad = normalArray(64 * 48, 3, 1, { shared: true, offset: 7 });
  const before = grad.slice();
  // dW += xᵀ·dy: [64, 300]·[300, 48]
  const c: Case = { label: 'dW', batch: 1, m: 64, k: 300, n: 48, strideA: 0, strideB: 0, transposeA: true, transposeB: false };
  call(a.sgemm, x, dy, grad, c, true);
  assertWithinBound(grad, before, 1, gemmReference(x, dy, c), 300, 'shared');
});

test('sgemm rejects overlapping C and short arrays, and bad argument counts', { skip }, () => {
  const a = native();
  const buffer = new Float32Array(100);
  assert.throws(() => a.sgemm(buffer.subarray(0, 16), new Float32Array(16), buffer.subarray(10, 26), 1, 4, 4, 4, 0, 0, false, false), /c overlaps a/);
  assert.throws(() => a.sgemm(new Float32Array(15), new Float32Array(16), new Float32Array(16), 1, 4, 4, 4, 0, 0, false, false), RangeError);
  const untyped = a.sgemm as unknown as (...args: unknown[]) => void;
  assert.throws(() => untyped(new Float32Array(16), new Float32Array(16), new Float32Array(16), 1, 4, 4, 4, 0, 0, false), /expects 11 to 13 arguments/);
  assert.throws(() => untyped(new Float32Array(16), new Float32Array(16), new Float32Array(16), 1, 4, 4, 4, 0, 0, false, false, 1), /accumulate must be a boolean/);
});

test('roundToBf16 is torch rounding bit for bit (ties to even, NaN, overflow, denormals)', { skip }, () => {
  const a = native();
  const x = new Float32Array([
    ...hardArray(5000, 4),
    1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -(1 + 2 ** -8), 3.3895313892515355e38, 3.4028234663852886e38, -3.4e38,
    Infinity, -Infinity, NaN, -NaN, 1e-40, -1e-40, 2 ** -133,
  ]);
  const out = new Float32Array(x.length);
  a.roundToBf16(x, out);
  const expected = Float32Array.from(x, bf16Round);
  assert.equal(firstBitDifference(out, expected), -1);
  // Known values: 1 + 2^-8 is a tie → 1 (even); 1 + 3·2^-8 → 1 + 2^-6·… rounds up to even.
  assert.equal(out[5000], 1);
  assert.equal(out[5001], 1 + 2 ** -6);
  assert.equal(out[5002], 1 + 2 ** -7);
  assert.equal(out[5005], Infinity);
  assert.equal(new Uint32Array(out.buffer)[5009], 0x7fc00000);
});

for (const path of ['native', 'emulated'] as const) {
  for (const c of cases()) {
    test(`sgemmBf16 (${path}) against the bf16-input float64 reference: ${c.label}`, { skip }, () => {
      const a = native();
      a.setBf16Emulation(path === 'emulated');
      try {
        assert.equal(a.bf16Isa(), path === 'emulated' ? 'emulated' : a.kernelIsa() === 'avx512' && a.bf16Isa() === 'avx512bf16' ? 'avx512bf16' : 'emulated');
        const { a: A, b: B } = operands(c, 17);
        const ref = gemmReference(A, B, { ...c, bf16: true });
        for (const threads of [1, 2]) {
          withThreads(threads, () => {
            const out = new Float32Array(c.batch * c.m * c.n);
            call(a.sgemmBf16, A, B, out, c);
            assertWithinBound(out, undefined, 1, ref, c.k, `${threads}T`);
            const base = normalArray(out.length, 3);
            const acc = base.slice();
            call(a.sgemmBf16, A, B, acc, c, true, 0.5);
            assertWithinBound(acc, base, 0.5, ref, c.k, `accumulate ${threads}T`);
          });
        }
      } finally {
        a.setBf16Emulation(false);
      }
    });
  }
}

test('sgemmBf16 with k = 1 is exactly the product of the bf16-rounded inputs (both paths)', { skip }, () => {
  const a = native();
  // Normal-range values: VDPBF16PS flushes bf16 denormals, the emulated path does not.
  const A = Float32Array.from(normalArray(40, 8), (v) => v * 1e3);
  const B = Float32Array.from(normalArray(50, 9), (v) => v * 1e-3);
  B[0] = 1;
  for (const emulated of [false, true]) {
    a.setBf16Emulation(emulated);
    const out = new Float32Array(40 * 50);
    a.sgemmBf16(A, B, out, 1, 40, 1, 50, 0, 0, false, false);
    for (let i = 0; i < 40; i++) {
      for (let j = 0; j < 50; j++) assert.equal(out[i * 50 + j], Math.fround(bf16Round(A[i]!) * bf16Round(B[j]!)), `emulated=${emulated} (${i}, ${j})`);
    }
  }
  a.setBf16Emulation(false);
});

test('sgemmBf16 native and emulated paths agree to fp32 accumulation order on a BERT-sized product', { skip }, () => {
  const a = native();
  const c: Case = { label: 'dense', batch: 1, m: 256, k: 768, n: 300, strideA: 0, strideB: 0, transposeA: false, transposeB: false };
  const { a: A, b: B } = operands(c, 31);
  const ref = gemmReference(A, B, { ...c, bf16: true });
  const results = [false, true].map((emulated) => {
    a.setBf16Emulation(emulated);
    const out = new Float32Array(c.m * c.n);
    call(a.sgemmBf16, A, B, out, c);
    return out;
  });
  a.setBf16Emulation(false);
  for (const out of results) assertWithinBound(out, undefined, 1, ref, c.k, 'path');
  // And bf16 really is coarser than fp32: the fp32 product differs from the bf16 one by far more.
  const fp32 = new Float32Array(c.m * c.n);
  call(a.sgemm, A, B, fp32, c);
  let bf16Error = 0;
  let fp32Error = 0;
  const exact = gemmReference(A, B, c);
  for (let i = 0; i < fp32.length; i++) {
    bf16Error = Math.max(bf16Error, Math.abs(results[0]![i]! - exact.c[i]!) / exact.magnitude[i]!);
    fp32Error = Math.max(fp32Error, Math.abs(fp32[i]! - exact.c[i]!) / exact.magnitude[i]!);
  }
  assert.ok(bf16Error > 100 * fp32Error, `bf16 ${bf16Error} vs fp32 ${fp32Error}`);
  assert.ok(bf16Error < 2 ** -7, `bf16 relative error ${bf16Error} within bf16's unit roundoff`);
});
