export type { LossScalerState, OverflowPolicy, PassOptions, RunSettings, TrainableModel, TrainingState, WindowGradientEngine, WindowWork } from './types.js';
export { ParamLayout, HostArena, ParameterStore, GradientStore, type ArenaOptions, type ParamEntry, type ParamSpec } from './store.js';
export { GradientAccumulator, accumulateWindow, accumulateAutodiff, normaliser, type NamedVariable } from './accumulator.js';
export { autodiffModel, fromLayersModel, type AutodiffModelOptions, type LayersModelLike, type LayersSample, type LossPerItem } from './autodiff.js';
export { LossScaler, type LossScalerOptions } from './scaler.js';
export { clipByGlobalNorm } from './clip.js';
export { localEngine } from './engine.js';
export { fit, sampleDropoutSeed, type WindowBoundary, type FitCallbacks, type FitOptions, type FitResult, type MicroBatchEvent, type StepEvent } from './fit.js';
export { chooseMicroBatch, formatBytes, type AutoMicroBatchOptions, type AutoMicroBatchResult, type MicroBatchProbe } from './autobatch.js';
