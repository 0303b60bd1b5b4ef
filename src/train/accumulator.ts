/**
 * Persistent gradient buffers for exact accumulation (DESIGN §2, §4 step 1).
 *
 * Each micro-batch contributes ∇(Σ_{i ∈ micro} loss_i) · lossScale / |I(W)|, where |I(W)| is
 * the item count of the whole window, known before its first backward. Summed over the
 * window's micro-batches this is lossScale · ∇[Σ_{i ∈ I(W)} loss_i] / |I(W)| whatever the
 * split, which is what makes training independent of the micro-batch size.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradient functions (and its ESM register_all_gradients
// cannot be loaded by Node); the tfjs-layers Node bundle registers all of them, in the global
// registry every copy of tfjs-core shares. Without it every backward fails.
import '@tensorflow/tfjs-layers';
import { ConfigError } from '../core/errors.js';
import type { NamedVariable } from '../optim/types.js';
import type { TrainableModel } from './types.js';

export class GradientAccumulator {
  /** One zero-initialised buffer per parameter, in `params` order. */
  private readonly buffers: tf.Variable[];
  /** Per buffer: true while it holds exact zeros, so the next gradient is assigned, not added. */
  private readonly holdsZeros: boolean[];

  constructor(readonly params: readonly NamedVariable[]) {
    if (params.length === 0) throw new ConfigError('the model has no trainable parameters');
    // Not trainable, so a variableGrads call without an explicit list never differentiates them.
    this.buffers = params.map(({ variable }) => {
      const zeros = tf.zeros(variable.shape, 'float32');
      const buffer = tf.variable(zeros, false);
      // The variable shares the data; the initial tensor handle would otherwise stay alive.
      zeros.dispose();
      return buffer;
    });
    this.holdsZeros = this.buffers.map(() => true);
  }

  /**
   * Forward and backward of one micro-batch: differentiates
   * `lossSumFn() * lossScale / windowItemCount` with respect to the parameters, adds the result
   * into the buffers and frees every tensor it made. Returns the micro-batch's unscaled loss
   * sum. Parameters the loss does not reach get a zero contribution.
   */
  accumulate(lossSumFn: () => tf.Scalar, windowItemCount: number, lossScale = 1): number {
    checkNormaliser(windowItemCount, lossScale);
    // One float64 factor rounded once to float32; with a power-of-two scale the scaled and
    // unscaled runs then give bit-identical gradients.
    const factor = lossScale / windowItemCount;
    // Kept out of the tape's tidy so the unscaled value can be read after the backward.
    const kept: { lossSum?: tf.Scalar } = {};
    try {
      const { value, grads } = tf.variableGrads(() => {
        kept.lossSum = tf.keep(lossSumFn());
        return tf.mul(kept.lossSum, factor) as tf.Scalar;
      }, this.params.map(({ variable }) => variable));
      try {
        this.add(this.params.map(({ variable }) => grads[variable.name]));
        return kept.lossSum!.dataSync()[0]!;
      } finally {
        value.dispose();
        tf.dispose(Object.values(grads).filter((grad) => grad !== null));
      }
    } finally {
      kept.lossSum?.dispose();
    }
  }

  /**
   * Adds gradients computed elsewhere (e.g. a worker running `computeWindowGradients` on a
   * share of the window), in `params` order; they must already be normalised by the window's
   * item count and multiplied by the same loss scale.
   */
  addGradients(grads: readonly (tf.Tensor | Float32Array)[]): void {
    if (grads.length !== this.buffers.length) {
      throw new ConfigError(`expected ${this.buffers.length} gradients (one per parameter), got ${grads.length}`);
    }
    const tensors = grads.map((grad, index) => {
      const shape = this.buffers[index]!.shape;
      if (grad instanceof Float32Array) {
        if (grad.length !== this.buffers[index]!.size) {
          throw new ConfigError(`gradient ${index} (${this.params[index]!.name}) has ${grad.length} values, expected ${this.buffers[index]!.size}`);
        }
        return tf.tensor(grad, shape, 'float32');
      }
      if (!tf.util.arraysEqual(grad.shape, shape)) {
        throw new ConfigError(`gradient ${index} (${this.params[index]!.name}) has shape [${grad.shape}], expected [${shape}]`);
      }
      return grad;
    });
    try {
      this.add(tensors);
    } finally {
      // Only the tensors made here from arrays are ours to free.
      tensors.forEach((tensor, index) => {
        if (tensor !== grads[index]) tensor.dispose();
      });
    }
  }

  /** The buffers, in `params` order. Owned by the accumulator: do not dispose them. */
  gradients(): readonly tf.Tensor[] {
    return this.buffers;
  }

  /** Divides every buffer by `lossScale` (nothing to do for 1). */
  unscale(lossScale: number): void {
    checkNormaliser(1, lossScale);
    if (lossScale === 1) return;
    const inverse = 1 / lossScale;
    for (const buffer of this.buffers) tf.tidy(() => buffer.assign(tf.mul(buffer, inverse)));
  }

  /** True when no buffer holds Inf or NaN. One scalar is read back. */
  allFinite(): boolean {
    const finite = tf.tidy(() => tf.all(tf.stack(this.buffers.map((buffer) => tf.all(tf.isFinite(buffer))))));
    try {
      return finite.dataSync()[0] === 1;
    } finally {
      finite.dispose();
    }
  }

  /** Sets every buffer to zero (after an optimizer step, a skipped window, or before a retry). */
  zero(): void {
    for (const buffer of this.buffers) tf.tidy(() => buffer.assign(tf.zerosLike(buffer)));
    this.holdsZeros.fill(true);
  }

  dispose(): void {
    tf.dispose(this.buffers);
  }

  /**
   * Adds `grads` into the buffers; a missing gradient (parameter not reached, or not trainable)
   * adds nothing. A buffer still holding zeros takes the gradient itself (0 + g = g): the
   * variable shares the gradient's data (tensors are immutable), which saves a pass over every
   * parameter on the first micro-batch of each window.
   */
  private add(grads: readonly (tf.Tensor | null | undefined)[]): void {
    grads.forEach((grad, index) => {
      if (grad === undefined || grad === null) return;
      const buffer = this.buffers[index]!;
      if (this.holdsZeros[index]) buffer.assign(grad);
      else tf.tidy(() => buffer.assign(tf.add(buffer, grad)));
      this.holdsZeros[index] = false;
    });
  }
}

/**
 * Runs the micro-batches of one window through `model` and adds their normalised, scaled
 * gradients into `accumulator` (DESIGN §4 step 1). Micro-batch j uses `dropoutSeeds[j]`, so a
 * retried or resumed window sees the same dropout masks. `onMicroBatch` is told each
 * micro-batch's unscaled loss sum. Returns the loss sum over all micro-batches.
 */
export function accumulateWindow<Sample>(
  accumulator: GradientAccumulator,
  model: TrainableModel<Sample>,
  microBatches: readonly (readonly Sample[])[],
  windowItemCount: number,
  lossScale: number,
  dropoutSeeds: readonly number[],
  onMicroBatch?: (microIndex: number, lossSum: number) => void,
): number {
  if (dropoutSeeds.length !== microBatches.length) {
    throw new ConfigError(`expected ${microBatches.length} dropout seeds (one per micro-batch), got ${dropoutSeeds.length}`);
  }
  let windowLossSum = 0;
  microBatches.forEach((samples, microIndex) => {
    const lossSum = accumulator.accumulate(() => model.lossSum(samples, true, dropoutSeeds[microIndex]!), windowItemCount, lossScale);
    windowLossSum += lossSum;
    onMicroBatch?.(microIndex, lossSum);
  });
  return windowLossSum;
}

/**
 * The gradient contribution of some micro-batches of a window, as plain arrays in `params`
 * order: what a worker computes for its share before the main thread calls `addGradients`.
 * It runs exactly `accumulateWindow`, so local and distributed windows share one code path.
 * A caller that computes many shares may pass its own `accumulator` (zeroed here, kept
 * afterwards) to avoid allocating the buffers every time.
 */
export async function computeWindowGradients<Sample>(
  model: TrainableModel<Sample>,
  microBatches: readonly (readonly Sample[])[],
  windowItemCount: number,
  lossScale: number,
  dropoutSeeds: readonly number[],
  accumulator?: GradientAccumulator,
): Promise<{ lossSum: number; microLossSums: number[]; gradients: Float32Array[] }> {
  const buffers = accumulator ?? new GradientAccumulator(model.params);
  try {
    buffers.zero();
    const microLossSums: number[] = [];
    const lossSum = accumulateWindow(buffers, model, microBatches, windowItemCount, lossScale, dropoutSeeds, (_, microLossSum) => microLossSums.push(microLossSum));
    const gradients = await Promise.all(buffers.gradients().map(async (buffer) => (await buffer.data()) as Float32Array));
    return { lossSum, microLossSums, gradients };
  } finally {
    if (accumulator === undefined) buffers.dispose();
  }
}

function checkNormaliser(windowItemCount: number, lossScale: number): void {
  if (!Number.isSafeInteger(windowItemCount) || windowItemCount < 1) {
    throw new ConfigError(`windowItemCount must be a positive integer, got ${String(windowItemCount)}`);
  }
  if (!Number.isFinite(lossScale) || lossScale <= 0) {
    throw new ConfigError(`lossScale must be a positive finite number, got ${String(lossScale)}`);
  }
}
