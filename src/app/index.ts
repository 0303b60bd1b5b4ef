export * from './data/index.js';
export { classificationReport, formatConfusion, type ClassificationReport } from './metrics/classification.js';
export { evaluateClassifier, predictClassifier, type EvaluationResult, type Prediction } from './evaluate.js';
export { buildModel, chooseTrainingLabels, readConfig, namedLabels, modelConfigJson, modelWeightsChunks, CONFIG_FILE, WEIGHTS_FILE, type BuildModelOptions, type BuiltModel, type LabelChoice } from './checkpoint.js';
export { trainModel, validateTrainingSettings, warmupStepsFor, runOptimizer, metricsLine, type TrainingSettings, type TrainModelOptions, type TrainModelResult, type EpochEvaluation, type EarlyStoppingSettings, type RunProgressState } from './run.js';
export * from './report/index.js';
export * from './sweep/index.js';
export * from './export/index.js';
export { prepareClassificationRun, readModelFolder, evaluateClassification, checkpointContents, type ModelFolder, type DataContent, type PrepareSettings, type ModelFolderContents, type PreparedClassificationRun, type ClassificationEvaluation } from './prepare.js';
