/** The default window engine: every micro-batch of the window runs in this thread. */
import { accumulateWindow } from './accumulator.js';
import type { TrainableModel, WindowGradientEngine } from './types.js';

export function localEngine<Sample>(model: TrainableModel<Sample>): WindowGradientEngine<Sample> {
  return {
    async computeWindow(accumulator, microBatches, windowItemCount, lossScale, dropoutSeeds, onMicroBatch) {
      return { lossSum: accumulateWindow(accumulator, model, microBatches, windowItemCount, lossScale, dropoutSeeds, onMicroBatch) };
    },
  };
}
