/**
 * `UnsortedSegmentSum` for the wasm backend, which has none: without it the gradient of
 * `tf.gather` (embedding lookups) cannot run on wasm at all. (The cpu backend's version
 * builds a mask per segment, O(segments × rows): minutes for a 30522-word vocabulary.)
 *
 * TensorFlow semantics: `segmentIds` has the shape of a prefix of `x`; row r of x (the
 * trailing dimensions) is added into output row segmentIds[r]; ids outside
 * [0, numSegments) contribute nothing; segments without rows are zero.
 */
import * as tf from '@tensorflow/tfjs-core';
import { asWasmBackend, heapArray } from '../wasmHeap.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

function unsortedSegmentSum(args: KernelArgs): tf.TensorInfo {
  const { x, segmentIds } = args.inputs as unknown as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const idRank = segmentIds.shape.length;
  if (!segmentIds.shape.every((size, axis) => size === x.shape[axis])) {
    throw new Error(`UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] is not a prefix of x shape [${x.shape}]`);
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`UnsortedSegmentSum: unsupported dtype ${x.dtype}`);
  const backend = asWasmBackend(args.backend);
  const rowShape = x.shape.slice(idRank);
  const rowSize = tf.util.sizeFromShape(rowShape);
  const rows = tf.util.sizeFromShape(segmentIds.shape);
  const out = backend.makeOutput([numSegments, ...rowShape], x.dtype);
  // Views only after the allocation above, which may have grown the heap.
  const output = heapArray(backend, out);
  const values = heapArray(backend, x);
  const ids = heapArray(backend, segmentIds);
  output.fill(0);
  for (let row = 0; row < rows; row++) {
    const segment = ids[row]!;
    if (segment < 0 || segment >= numSegments) continue;
    const target = segment * rowSize;
    const source = row * rowSize;
    for (let i = 0; i < rowSize; i++) output[target + i]! += values[source + i]!;
  }
  return out;
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
};
