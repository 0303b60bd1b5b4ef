/**
 * `microbatch/node`: what needs Node — files and checkpoint directories, atomic writes, backend
 * selection (tfjs-node, wasm, cpu), the native addon, the worker pool, and the runs the CLI
 * drives. Importing it also registers TF.js's gradient functions (for models trained through
 * TF.js's autodiff).
 */
export { selectBackend, parseBackendChoice, backendCandidates, BACKEND_CHOICES, type BackendChoice, type BackendName, type SelectBackendOptions, type SelectedBackend } from './backend.js';
export { installNativeKernels, uninstallNativeKernels, nativeKernelsInstalled, nativeAvailable, nativeStatus, nativeThreads, type NativeStatus, type NativeKernelOptions } from './native.js';
export { writeFileAtomic, writeDurable, replaceDirectory, recoverDirectory, removeLeftovers, removeTempFiles } from './atomic.js';
export { readConfigJson, readWeights, readTokenizerFiles, saveCheckpoint, checkpointFiles, TOKENIZER_FILES, type SaveCheckpointOptions } from './checkpoint.js';
export { loadTrainedModel, type LoadedModel } from './models.js';
export { WorkerPool, type WorkerPoolOptions } from './pool.js';
export { createParallelEngine, splitShares, type ParallelEngine, type ParallelEngineOptions } from './parallel.js';
export { taskModelReplica, type ModelSpec, type ReplicaFactory } from './replica.js';
export { readLabelledFile, readTextFile } from './files.js';
export { finetune, readSavedState, resumeOutputDir, bundledPath, type FinetuneSettings, type FinetuneSummary, type FinetuneHooks, type FinetuneResult } from './finetune.js';
export { taskRunner, sequenceClassification, TASK_RUNNERS, type TaskRunner, type PreparedTask, type TaskEvaluation, type TaskDataSettings } from './tasks.js';
export { writeReport, readRunRecord, loadReportAssets, REPORT_FILE } from './report.js';
export { resolveModelSource, hubSettings, parseHubModelId, type ModelSource } from './hub.js';
export { memoryLimits, measurePeak, isOutOfMemory, WASM_HEAP_MAX, type MemoryLimits } from './memory.js';
export { exportModel, taskOfArchitectures, EXPORT_FORMATS, type ExportFormat, type ExportModelOptions, type ExportSummary } from './export.js';
export { OnnxModelSession, loadOnnxRuntime, softmaxPrediction, type OnnxSessionOptions } from './onnxRuntime.js';
