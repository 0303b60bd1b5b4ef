/**
 * docs/design.md §1–§2 with the 110-sample example: logistic regression trained by `fit` (float32,
 * micro-batch 8, batch 32, SGD) against a float64 reference computed here with plain numbers,
 * g(W) = Σ_{i∈W} ∇loss_i / |W|, for each remainder policy. The naive recipes (divide every
 * micro-batch mean by k, or by the window's number of micro-batches) are computed too, to show
 * they give other weights — so the comparison can tell them apart.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { createOptimizer } from '../../src/optim/index.js';
import { planEpoch, type RemainderPolicy } from '../../src/plan/index.js';
import { fit, type MicroBatchEvent } from '../../src/train/index.js';
import { maxRelativeDifference, useBackend } from '../helpers/backend.js';
import { classificationData, flatParams, logisticRegression, normals, type Regression } from './models.js';

const SIZE = 110;
const MICRO = 8;
const BATCH = 32;
const INPUTS = 3;
const SEED = 7;
const LR = 0.5;
const EPOCHS = 2;

/** How each micro-batch's summed gradient is weighted, given the window it belongs to. */
type Weighting = (microBatch: readonly number[], window: readonly number[][]) => number;

const exact: Weighting = (_micro, window) => 1 / window.flat().length;
// `loss.mean() / k` with k = batch / microBatch: the last window (14 samples) is scaled as if 32.
const divideByK: Weighting = (micro) => 1 / (micro.length * (BATCH / MICRO));
// `loss.mean() / len(window)`: micro-batches 8 + 6 weigh 1/16 and 1/12 instead of 1/14.
const divideByMicroBatches: Weighting = (micro, window) => 1 / (micro.length * window.length);

/** Float64 SGD on logistic regression over the planned windows, weighting per `weighting`. */
function reference(data: readonly Regression[], remainder: RemainderPolicy, weighting: Weighting): number[] {
  // [w_0 … w_{d-1}, b], starting where logisticRegression(INPUTS, 5) starts (float32-rounded).
  const params = [...Array.from(new Float32Array(normals(INPUTS, 5, 0.5))), 0];
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const plan = planEpoch({ size: SIZE, microBatch: MICRO, batch: BATCH, remainder, seed: SEED, epoch });
    for (const window of plan.windows) {
      const gradient = new Array<number>(INPUTS + 1).fill(0);
      for (const micro of window.microBatches) {
        const weight = weighting(micro, window.microBatches);
        for (const index of micro) {
          const { x, y } = data[index]!;
          const z = x.reduce((sum, value, k) => sum + value * params[k]!, params[INPUTS]!);
          const residual = 1 / (1 + Math.exp(-z)) - y; // d(softplus(z) − y z)/dz
          for (let k = 0; k < INPUTS; k++) gradient[k]! += weight * residual * x[k]!;
          gradient[INPUTS]! += weight * residual;
        }
      }
      for (let k = 0; k <= INPUTS; k++) params[k]! -= LR * gradient[k]!;
    }
  }
  return params;
}

test.before(() => useBackend('cpu'));

for (const remainder of ['step', 'balance', 'drop'] as const) {
  test(`fit matches the float64 reference for N = 110, micro 8, batch 32, remainder ${remainder}`, async () => {
    const data = classificationData(SIZE, INPUTS, 3);
    const model = logisticRegression(INPUTS, 5);
    const optimizer = createOptimizer({ kind: 'sgd' });
    const microBatches: MicroBatchEvent[] = [];
    try {
      const result = await fit({
        model,
        data,
        epochs: EPOCHS,
        microBatch: MICRO,
        batch: BATCH,
        remainder,
        seed: SEED,
        optimizer,
        lr: LR,
        callbacks: { onMicroBatch: (event) => void microBatches.push(event) },
      });
      const trained = Array.from(flatParams(model.params));
      const expected = reference(data, remainder, exact);
      assert.ok(maxRelativeDifference(trained, expected) <= 1e-5, `${trained} vs ${expected}`);

      const expectedWindows = { step: [32, 32, 32, 14], balance: [28, 28, 27, 27], drop: [32, 32, 32] }[remainder];
      assert.deepEqual(
        result.epochs.map((epoch) => epoch.windows),
        [expectedWindows, expectedWindows],
      );
      assert.deepEqual(
        result.epochs.map((epoch) => epoch.samples_seen),
        remainder === 'drop' ? [96, 96] : [110, 110],
      );
      const lastWindow = microBatches.filter((event) => event.epoch === 0 && event.window === expectedWindows.length - 1).map((event) => event.size);
      assert.deepEqual(lastWindow, { step: [8, 6], balance: [8, 8, 8, 3], drop: [8, 8, 8, 8] }[remainder]);

      if (remainder === 'step') {
        // The naive recipes under-weight the 14-sample window; the test sees the difference.
        for (const naive of [divideByK, divideByMicroBatches]) {
          assert.ok(maxRelativeDifference(trained, reference(data, remainder, naive)) > 1e-3);
        }
      }
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  });
}
