export type {
  LossScalerState,
  OverflowPolicy,
  RunSettings,
  TrainableModel,
  TrainingState,
  WindowGradientEngine,
} from './types.js';
export { GradientAccumulator, accumulateWindow, computeWindowGradients } from './accumulator.js';
export { LossScaler, type LossScalerOptions } from './scaler.js';
export { clipByGlobalNorm, globalNorm, type ClipResult } from './clip.js';
export { localEngine } from './engine.js';
export { fit, type WindowBoundary, type FitCallbacks, type FitOptions, type FitResult, type MicroBatchEvent, type StepEvent } from './fit.js';
export { fromLayersModel, type LayersModelLike, type LayersSample, type LossPerItem } from './layers.js';
export { chooseMicroBatch, measureMicroBatchPeak, formatBytes, type AutoMicroBatchOptions, type AutoMicroBatchResult, type MicroBatchProbe } from './autobatch.js';
export { createParallelEngine, splitShares, type ParallelEngine, type ParallelEngineOptions } from './parallel.js';
export { classificationReport, formatConfusion, type ClassificationReport } from './metrics.js';
export { evaluateClassifier, predictClassifier, loadClassifier, type EvaluationResult, type Prediction } from './evaluate.js';
export { finetune, type FinetuneSettings, type FinetuneSummary, type FinetuneHooks } from './finetune.js';
