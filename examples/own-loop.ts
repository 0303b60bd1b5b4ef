/**
 * Exact accumulation in your own training loop, with microbatch's low-level pieces: the
 * README shows this file. Logistic regression on 110 samples, micro-batch 8, batch 32.
 *
 *   npm run build && node dist/examples/own-loop.js
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// TF.js's gradient functions, for the autodiff of lossSum (microbatch/node registers them too).
import '@tensorflow/tfjs-layers';
import {
  EpochLedger,
  GradientAccumulator,
  clipByGlobalNorm,
  createOptimizer,
  formatLedgerLine,
  lrMultiplier,
  planEpoch,
  stepsPerEpoch,
} from 'microbatch';

export function ownLoop(features: number[][], labels: number[], epochs: number): string[] {
  const size = labels.length;
  // tidy frees the zeros the variables were copied from (variables themselves survive tidy).
  const [w, b] = tf.tidy(() => [tf.variable(tf.zeros([features[0]!.length, 1])), tf.variable(tf.zeros([1]))]);
  const params = [
    { name: 'weight', variable: w },
    { name: 'bias', variable: b },
  ];
  // The model returns the SUM of its per-item losses; the accumulator divides by the window's count.
  const lossSum = (rows: number[]) =>
    tf.tidy(() => {
      const x = tf.tensor2d(rows.map((i) => features[i]!));
      const y = tf.tensor2d(rows.map((i) => [labels[i]!]));
      return tf.losses.sigmoidCrossEntropy(y, tf.add(tf.matMul(x, w), b), undefined, undefined, tf.Reduction.SUM) as tf.Scalar;
    });

  const accumulator = new GradientAccumulator(params);
  const optimizer = createOptimizer({ kind: 'adamw', weightDecay: 0.01 });
  const totalSteps = epochs * stepsPerEpoch(size, 32, 'step');
  const ledgerLines: string[] = [];
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const plan = planEpoch({ size, microBatch: 8, batch: 32, remainder: 'step', seed: 0, epoch });
    const ledger = new EpochLedger(plan);
    for (const window of plan.windows) {
      const itemCount = window.samples.length; // |I(W)|, known before the window's first backward
      let windowLossSum = 0;
      for (const micro of window.microBatches) windowLossSum += accumulator.accumulate(() => lossSum(micro), itemCount);
      clipByGlobalNorm(accumulator.gradients, 1.0); // once per window, in place
      optimizer.step(accumulator.hostParameters(), 0.05 * lrMultiplier('linear', step++, 0, totalSteps));
      accumulator.finishStep(); // the new values into w and b, the gradients to zero
      ledger.recordStep(window.index, windowLossSum, itemCount);
    }
    ledger.verify(); // throws unless every sample was used exactly once
    ledgerLines.push(formatLedgerLine(ledger.summary(), size)); // "epoch 1: 110/110 samples in 4 steps [32, 32, 32, 14]"
  }
  optimizer.dispose();
  tf.dispose([w, b]);
  return ledgerLines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await tf.setBackend('cpu');
  const features = Array.from({ length: 110 }, (_, i) => [Math.sin(i), Math.cos(3 * i), (i % 7) / 7]);
  const labels = features.map(([a, c]) => (a! + c! > 0 ? 1 : 0));
  for (const line of ownLoop(features, labels, 3)) console.log(line);
}
