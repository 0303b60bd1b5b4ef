/** The default window engine: every micro-batch of the window runs in this thread. */
import { accumulateWindow } from './accumulator.js';
import type { TrainableModel, WindowGradientEngine } from './types.js';

export function localEngine<Sample>(model: TrainableModel<Sample>): WindowGradientEngine<Sample> {
  return {
    async computeWindow(grads, work, onMicroBatch) {
      return { lossSum: accumulateWindow(grads, model, work, onMicroBatch) };
    },
  };
}
