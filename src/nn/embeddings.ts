/**
 * Embedding lookups read rows straight from the host arena (an embedding table never needs a
 * heap copy), and their backward adds each row's gradient into the host gradient buffer —
 * repeated ids accumulate, as PyTorch's embedding backward does.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tensorValues } from '../backend/transfer.js';
import { DataError } from '../core/errors.js';
import type { BackwardContext, LayerContext } from './context.js';

/** Rows `ids` of the table at store index `table` ([rows, width]) as a tensor [ids.length, width]. */
export function embeddingForward(table: number, ids: Int32Array, context: LayerContext): tf.Tensor2D {
  const { shape, name } = context.store.entries[table]!;
  const [rows, width] = [shape[0]!, shape[1]!];
  const values = context.store.view(table);
  const out = new Float32Array(ids.length * width);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id < rows)) throw new DataError(`id ${id} at position ${i} is outside ${name} (${rows} rows)`);
    out.set(values.subarray(id * width, (id + 1) * width), i * width);
  }
  return tf.tensor2d(out, [ids.length, width]);
}

/** grad[table][ids[i]] += dy[i] for every i. */
export function embeddingBackward(table: number, ids: Int32Array, dy: tf.Tensor2D, context: BackwardContext): void {
  const width = context.store.entries[table]!.shape[1]!;
  const { buffer, assign } = context.grads.target(table);
  if (assign) buffer.fill(0);
  const rows = tensorValues(dy);
  for (let i = 0; i < ids.length; i++) {
    const target = ids[i]! * width;
    const source = i * width;
    for (let j = 0; j < width; j++) buffer[target + j]! += rows[source + j]!;
  }
}
