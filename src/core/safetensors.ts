/**
 * safetensors reader and writer (https://github.com/huggingface/safetensors).
 *
 * Written here rather than taken from npm because the format is tiny (an 8-byte length, a JSON
 * header, raw little-endian data) and the input is untrusted: every check of the reference Rust
 * implementation (`Metadata::validate`) runs on the header before any tensor memory is allocated,
 * and the errors name the file and the tensor.
 */
import { CheckpointError } from './errors.js';

/** Same limit as the Rust library (`MAX_HEADER_SIZE`). */
export const MAX_HEADER_BYTES = 100_000_000;

const DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
} as const;

export type SafetensorsDtype = keyof typeof DTYPE_BYTES;
/** Floating dtypes decoded to float32; the others are kept as raw bytes. */
export type FloatDtype = 'F16' | 'BF16' | 'F32' | 'F64';
const FLOAT_DTYPES: ReadonlySet<string> = new Set<FloatDtype>(['F16', 'BF16', 'F32', 'F64']);

export type SafetensorsTensor =
  | { dtype: FloatDtype; shape: number[]; data: Float32Array }
  /** Integer / bool / fp8 tensors: the raw little-endian bytes, copied out of the file. */
  | { dtype: Exclude<SafetensorsDtype, FloatDtype>; shape: number[]; data: Uint8Array };

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function parseHeaderEntry(name: string, value: unknown, source: string): HeaderEntry {
  const bad = (message: string): never => {
    throw new CheckpointError(`${source}: tensor "${name}": ${message}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('header entry must be an object');
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) {
    bad(`unsupported dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(DTYPE_BYTES).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every((dim) => typeof dim === 'number' && Number.isSafeInteger(dim) && dim >= 0)) {
    bad(`shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((offset) => typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0)
  ) {
    bad(`data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) bad(`data_offsets [${begin}, ${end}] end before begin`);
  let numel = 1;
  for (const dim of shape as number[]) {
    numel *= dim;
    if (!Number.isSafeInteger(numel)) bad(`shape ${JSON.stringify(shape)} has too many elements`);
  }
  const expectedBytes = numel * DTYPE_BYTES[dtype as SafetensorsDtype];
  if (end - begin !== expectedBytes) {
    bad(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expectedBytes}`);
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end };
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function decodeFloats(bytes: Uint8Array, dtype: FloatDtype, numel: number): Float32Array {
  const out = new Float32Array(numel);
  if (dtype === 'F32' && hostIsLittleEndian) {
    // Copy the bytes (the source offset may not be 4-byte aligned, so no view).
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < numel; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case 'F64':
      for (let i = 0; i < numel; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < numel; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      break;
    case 'BF16': {
      // bfloat16 is the top half of a float32; Uint32Array and Float32Array share the host's
      // byte order, so writing the widened bits reinterprets them correctly on any host.
      const widened = new Uint32Array(out.buffer);
      for (let i = 0; i < numel; i++) widened[i] = view.getUint16(2 * i, true) << 16;
      break;
    }
  }
  return out;
}

/**
 * Parses a safetensors file (`source` names it in errors). The whole header is validated first
 * — length, UTF-8 JSON object, `__metadata__` string map, dtypes, shapes, byte sizes, offsets in
 * bounds, not overlapping and covering the data buffer exactly — so a hostile header cannot make
 * us allocate. Floating tensors (F16, BF16, F32, F64) are decoded to float32.
 */
export function parseSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  if (bytes.byteLength < 8) throw new CheckpointError(`${source}: truncated safetensors file (${bytes.byteLength} bytes, need at least 8)`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new CheckpointError(`${source}: safetensors header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const headerBytes = Number(headerLength);
  if (headerBytes > bytes.byteLength - 8) {
    throw new CheckpointError(`${source}: safetensors header length ${headerBytes} runs past the end of the file (${bytes.byteLength} bytes)`);
  }
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerBytes));
    header = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`${source}: safetensors header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new CheckpointError(`${source}: safetensors header must be a JSON object`);
  }
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new CheckpointError(`${source}: __metadata__ must be an object of strings`);
      }
      for (const [key, text] of Object.entries(value as Record<string, unknown>)) {
        if (typeof text !== 'string') throw new CheckpointError(`${source}: __metadata__ "${key}" must be a string`);
        metadata[key] = text;
      }
    } else {
      entries.push(parseHeaderEntry(name, value, source));
    }
  }
  // As the reference implementation: sorted by offsets, each tensor must start where the
  // previous one ended, and the last must end exactly at the end of the data buffer.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataStart = 8 + headerBytes;
  const dataLength = bytes.byteLength - dataStart;
  let expectedBegin = 0;
  for (const entry of entries) {
    if (entry.begin !== expectedBegin) {
      const problem = entry.begin < expectedBegin ? 'overlaps the previous tensor' : `leaves a gap (previous tensor ends at ${expectedBegin})`;
      throw new CheckpointError(`${source}: tensor "${entry.name}": data_offsets [${entry.begin}, ${entry.end}] ${problem}`);
    }
    if (entry.end > dataLength) {
      throw new CheckpointError(`${source}: tensor "${entry.name}": data_offsets [${entry.begin}, ${entry.end}] out of bounds (data buffer is ${dataLength} bytes)`);
    }
    expectedBegin = entry.end;
  }
  if (expectedBegin !== dataLength) {
    throw new CheckpointError(`${source}: tensors cover ${expectedBegin} bytes but the data buffer has ${dataLength} (trailing bytes)`);
  }

  const tensors = new Map<string, SafetensorsTensor>();
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const raw = bytes.subarray(dataStart + entry.begin, dataStart + entry.end);
    const numel = entry.shape.reduce((product, dim) => product * dim, 1);
    if (FLOAT_DTYPES.has(entry.dtype)) {
      tensors.set(entry.name, { dtype: entry.dtype as FloatDtype, shape: entry.shape, data: decodeFloats(raw, entry.dtype as FloatDtype, numel) });
    } else {
      tensors.set(entry.name, { dtype: entry.dtype as Exclude<SafetensorsDtype, FloatDtype>, shape: entry.shape, data: raw.slice() });
    }
  }
  return { tensors, metadata };
}

export interface F32Tensor {
  dtype: 'F32';
  shape: number[];
  data: Float32Array;
}

/**
 * A safetensors file of float32 tensors, sorted by name, with `{"format":"pt"}` metadata (what HF
 * writes for PyTorch weights) plus `metadata`, as consecutive byte chunks: the header (padded
 * with spaces to a multiple of 8 bytes, as the Rust library does, so the data is aligned), then
 * one chunk per tensor — on little-endian hosts a view of the tensor's own memory, so writing a
 * large model needs no second copy of it.
 */
export function safetensorsChunks(tensors: ReadonlyMap<string, F32Tensor>, metadata: Record<string, string> = {}): Uint8Array[] {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', ...metadata } };
  let offset = 0;
  for (const name of names) {
    const tensor = tensors.get(name)!;
    const numel = tensor.shape.reduce((product, dim) => product * dim, 1);
    if (tensor.data.length !== numel) {
      throw new CheckpointError(`tensor "${name}": shape ${JSON.stringify(tensor.shape)} needs ${numel} values, got ${tensor.data.length}`);
    }
    header[name] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + 4 * numel] };
    offset += 4 * numel;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const paddedLength = Math.ceil(json.byteLength / 8) * 8;
  const head = new Uint8Array(8 + paddedLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(paddedLength), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.byteLength);
  return [
    head,
    ...names.map((name) => {
      const data = tensors.get(name)!.data;
      if (hostIsLittleEndian) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const bytes = new Uint8Array(data.byteLength);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i]!, true);
      return bytes;
    }),
  ];
}

/** The safetensors file of `safetensorsChunks` in one buffer. */
export function serializeSafetensors(tensors: ReadonlyMap<string, F32Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const chunks = safetensorsChunks(tensors, metadata);
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let position = 0;
  for (const chunk of chunks) {
    out.set(chunk, position);
    position += chunk.byteLength;
  }
  return out;
}
