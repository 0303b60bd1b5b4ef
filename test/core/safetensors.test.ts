import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CheckpointError } from '../../src/core/errors.js';
import { MAX_HEADER_BYTES, parseSafetensors, serializeSafetensors, type F32Tensor } from '../../src/core/safetensors.js';
import { f32Bytes, rawSafetensors, type RawTensor } from '../fixtures/tiny-bert.js';

function tensorMap(entries: [string, RawTensor][]): Map<string, RawTensor> {
  return new Map(entries);
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => parseSafetensors(bytes, 'bad.safetensors'), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected CheckpointError, got ${error}`);
    assert.match(error.message, /^bad\.safetensors: /);
    assert.match(error.message, pattern);
    return true;
  });
}

/** A file whose u64 header-length prefix is `length`, followed by `rest`. */
function withHeaderLength(length: bigint, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + rest.byteLength);
  new DataView(out.buffer).setBigUint64(0, length, true);
  out.set(rest, 8);
  return out;
}

test('serializeSafetensors → parseSafetensors round-trips names, shapes, values and metadata', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9._]{0,12}$/), { minLength: 1, maxLength: 5 }),
      fc.array(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 }), { minLength: 5, maxLength: 5 }),
      (names, shapes) => {
        const tensors = new Map<string, F32Tensor>();
        names.forEach((name, index) => {
          const shape = shapes[index]!;
          const numel = shape.reduce((product, dim) => product * dim, 1);
          tensors.set(name, { dtype: 'F32', shape, data: Float32Array.from({ length: numel }, (_, i) => Math.fround(i * 0.37 - index)) });
        });
        const bytes = serializeSafetensors(tensors, { note: 'x' });
        const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        assert.equal(headerLength % 8, 0, 'header padded to 8 bytes');
        const parsed = parseSafetensors(bytes, 'round-trip');
        assert.deepEqual(parsed.metadata, { format: 'pt', note: 'x' });
        assert.deepEqual([...parsed.tensors.keys()], [...names].sort());
        for (const [name, tensor] of tensors) {
          const back = parsed.tensors.get(name)!;
          assert.equal(back.dtype, 'F32');
          assert.deepEqual(back.shape, tensor.shape);
          assert.deepEqual(Array.from(back.data), Array.from(tensor.data));
        }
      },
    ),
    { numRuns: 50 },
  );
});

test('serializeSafetensors pads the header with spaces and sorts tensors by name', () => {
  const bytes = serializeSafetensors(new Map([
    ['b', { dtype: 'F32', shape: [1], data: new Float32Array([2]) }],
    ['a', { dtype: 'F32', shape: [1], data: new Float32Array([1]) }],
  ]));
  const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + length));
  assert.match(header, / *$/);
  const json = JSON.parse(header) as Record<string, { data_offsets: number[] }>;
  assert.deepEqual(json.a!.data_offsets, [0, 4]);
  assert.deepEqual(json.b!.data_offsets, [4, 8]);
  assert.throws(
    () => serializeSafetensors(new Map([['x', { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) }]])),
    /tensor "x": shape \[2,2\] needs 4 values, got 3/,
  );
});

test('F16, BF16 and F64 tensors decode to float32; integer buffers stay raw bytes', () => {
  // F16: 1.0 = 0x3c00, -2.0 = 0xc000, 65504 = 0x7bff, smallest subnormal 2^-24 = 0x0001, +inf = 0x7c00.
  const half = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00]);
  // BF16: top halves of float32 1.5 (0x3fc00000) and -0.15625 (0xbe200000).
  const bf16 = new Uint16Array([0x3fc0, 0xbe20]);
  const f64 = new Float64Array([0.1, -3]);
  const i64 = new BigInt64Array([0n, 1n, 2n]);
  const bytes = rawSafetensors(tensorMap([
    ['half', { dtype: 'F16', shape: [5], bytes: new Uint8Array(half.buffer) }],
    ['brain', { dtype: 'BF16', shape: [2], bytes: new Uint8Array(bf16.buffer) }],
    ['double', { dtype: 'F64', shape: [2], bytes: new Uint8Array(f64.buffer) }],
    ['ids', { dtype: 'I64', shape: [1, 3], bytes: new Uint8Array(i64.buffer) }],
  ]));
  const { tensors } = parseSafetensors(bytes, 'mixed');
  assert.deepEqual(Array.from(tensors.get('half')!.data), [1, -2, 65504, 2 ** -24, Infinity]);
  assert.deepEqual(Array.from(tensors.get('brain')!.data), [1.5, -0.15625]);
  assert.deepEqual(Array.from(tensors.get('double')!.data), [Math.fround(0.1), -3]);
  const ids = tensors.get('ids')!;
  assert.equal(ids.dtype, 'I64');
  assert.ok(ids.data instanceof Uint8Array);
  assert.deepEqual(Array.from(new BigInt64Array(ids.data.slice().buffer)), [0n, 1n, 2n]);
});

test('an empty file and files shorter than the 8-byte length are rejected', () => {
  rejects(new Uint8Array(0), /truncated safetensors file \(0 bytes/);
  rejects(new Uint8Array(7), /truncated/);
});

test('a header length past the end of the file is rejected (truncated file)', () => {
  const good = serializeSafetensors(new Map([['w', { dtype: 'F32', shape: [4], data: new Float32Array(4) }]]));
  const headerLength = Number(new DataView(good.buffer).getBigUint64(0, true));
  rejects(good.subarray(0, 8 + headerLength - 1), /header length \d+ runs past the end of the file/);
  // Cut inside the data: the header is intact, so the tensor is out of bounds.
  rejects(good.subarray(0, good.byteLength - 2), /tensor "w": data_offsets \[0, 16\] out of bounds \(data buffer is 14 bytes\)/);
});

test('a hostile header claiming a huge length is rejected without allocating it', () => {
  // 2^64 - 1 and 100 MB + 1: both over the limit; the file itself is 16 bytes.
  rejects(withHeaderLength(0xffffffffffffffffn, new Uint8Array(8)), /exceeds the 100000000-byte limit/);
  rejects(withHeaderLength(BigInt(MAX_HEADER_BYTES + 1), new Uint8Array(8)), /exceeds/);
  const before = process.memoryUsage().arrayBuffers;
  rejects(withHeaderLength(BigInt(MAX_HEADER_BYTES), new Uint8Array(8)), /runs past the end of the file \(16 bytes\)/);
  // Nothing close to the claimed 100 MB was allocated.
  assert.ok(process.memoryUsage().arrayBuffers - before < 10_000_000);
});

test('a header whose tensor claims huge offsets is rejected before any tensor is allocated', () => {
  const bytes = rawSafetensors(new Map(), { huge: { dtype: 'F32', shape: [2 ** 20, 2 ** 20], data_offsets: [0, 2 ** 42] } });
  rejects(bytes, /tensor "huge": data_offsets \[0, 4398046511104\] out of bounds \(data buffer is 0 bytes\)/);
});

test('non-UTF-8, non-JSON and non-object headers are rejected', () => {
  rejects(withHeaderLength(2n, new Uint8Array([0xff, 0xfe])), /not valid UTF-8 JSON/);
  rejects(withHeaderLength(5n, new TextEncoder().encode('{"a":')), /not valid UTF-8 JSON/);
  rejects(withHeaderLength(2n, new TextEncoder().encode('[]')), /header must be a JSON object/);
  rejects(rawSafetensors(new Map(), { __metadata__: { format: 3 } }), /__metadata__ "format" must be a string/);
  rejects(rawSafetensors(new Map(), { __metadata__: [] }), /__metadata__ must be an object/);
  rejects(rawSafetensors(new Map(), { w: 'F32' }), /tensor "w": header entry must be an object/);
});

test('unknown dtypes and malformed shapes or offsets are rejected', () => {
  const four = new Uint8Array(4);
  rejects(rawSafetensors(tensorMap([['w', { dtype: 'F128', shape: [1], bytes: four }]])), /tensor "w": unsupported dtype "F128"/);
  rejects(rawSafetensors(tensorMap([['w', { dtype: 'F32', shape: [-1], bytes: four }]])), /shape must be a list of non-negative integers/);
  rejects(rawSafetensors(tensorMap([['w', { dtype: 'F32', shape: [0.5], bytes: four }]])), /shape must be a list of non-negative integers/);
  rejects(rawSafetensors(tensorMap([['w', { dtype: 'F32', shape: [1], bytes: four }]]), { w: { dtype: 'F32', shape: [1], data_offsets: [0] } }), /data_offsets must be \[begin, end\]/);
  rejects(rawSafetensors(tensorMap([['w', { dtype: 'F32', shape: [1], bytes: four }]]), { w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }), /end before begin/);
});

test('a byte length that does not match dtype × shape is rejected', () => {
  rejects(
    rawSafetensors(tensorMap([['w', { dtype: 'F32', shape: [3], bytes: new Uint8Array(8) }]])),
    /tensor "w": data_offsets \[0, 8\] hold 8 bytes but F32 \[3\] needs 12/,
  );
  rejects(rawSafetensors(tensorMap([['w', { dtype: 'F16', shape: [2, 2], bytes: new Uint8Array(16) }]])), /needs 8/);
});

test('overlapping tensors, gaps and trailing bytes are rejected', () => {
  const a = f32Bytes([1, 2]);
  const overlapping = rawSafetensors(tensorMap([['a', { dtype: 'F32', shape: [2], bytes: a }]]), {
    b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
  });
  rejects(overlapping, /data_offsets \[4, 8\] overlaps the previous tensor/);
  const gap = rawSafetensors(tensorMap([['a', { dtype: 'F32', shape: [2], bytes: a }]]), { a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } });
  rejects(gap, /tensor "a": data_offsets \[4, 8\] leaves a gap \(previous tensor ends at 0\)/);
  const trailing = rawSafetensors(tensorMap([['a', { dtype: 'F32', shape: [2], bytes: a }]]), { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } });
  rejects(trailing, /tensors cover 4 bytes but the data buffer has 8 \(trailing bytes\)/);
});

test('parseSafetensors accepts a header-only file and zero-size tensors', () => {
  assert.equal(parseSafetensors(rawSafetensors(new Map()), 'empty').tensors.size, 0);
  const { tensors } = parseSafetensors(rawSafetensors(tensorMap([['z', { dtype: 'F32', shape: [0, 3], bytes: new Uint8Array(0) }]])), 'zero');
  assert.deepEqual(tensors.get('z')!.shape, [0, 3]);
  assert.equal(tensors.get('z')!.data.length, 0);
});

test('parseSafetensors reads a file embedded at an unaligned offset of a larger buffer', () => {
  const bytes = serializeSafetensors(new Map([['w', { dtype: 'F32', shape: [3], data: new Float32Array([1.5, -2, 3.25]) }]]));
  const container = new Uint8Array(bytes.byteLength + 3);
  container.set(bytes, 3);
  const { tensors } = parseSafetensors(container.subarray(3), 'unaligned');
  assert.deepEqual(Array.from(tensors.get('w')!.data), [1.5, -2, 3.25]);
});
