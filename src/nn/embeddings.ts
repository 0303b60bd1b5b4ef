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
  return embeddingSumForward([{ table, ids }], context);
}

/**
 * Σ over `lookups` of rows `ids` of each table (all [rows, width], ids of equal length) as one
 * tensor [ids.length, width]: word + position + token type in one pass and one upload, added in
 * the order given with float32 rounding after each addition — bit for bit tf.add(tf.add(a, b), c).
 */
export function embeddingSumForward(lookups: readonly { table: number; ids: Int32Array }[], context: LayerContext): tf.Tensor2D {
  const first = lookups[0];
  if (first === undefined) throw new Error('embeddingSumForward needs a lookup');
  const width = context.store.entries[first.table]!.shape[1]!;
  const count = first.ids.length;
  const out = new Float32Array(count * width);
  lookups.forEach(({ table, ids }, index) => {
    const { shape, name } = context.store.entries[table]!;
    if (shape[1] !== width || ids.length !== count) throw new Error(`embedding ${name} does not match the first lookup's shape`);
    const rows = shape[0]!;
    const values = context.store.view(table);
    for (let i = 0; i < count; i++) {
      const id = ids[i]!;
      if (!(id >= 0 && id < rows)) throw new DataError(`id ${id} at position ${i} is outside ${name} (${rows} rows)`);
      const source = id * width;
      const target = i * width;
      if (index === 0) out.set(values.subarray(source, source + width), target);
      // Float32Array stores round each sum to float32: the same as a float32 addition.
      else for (let j = 0; j < width; j++) out[target + j]! += values[source + j]!;
    }
  });
  return tf.tensor2d(out, [count, width]);
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
