export * from './data/index.js';
export { classificationReport, formatConfusion, type ClassificationReport } from './metrics/classification.js';
export { evaluateClassifier, predictClassifier, type EvaluationResult, type Prediction } from './evaluate.js';
export { buildModel, chooseTrainingLabels, readConfig, namedLabels, modelConfigJson, modelWeightsChunks, CONFIG_FILE, WEIGHTS_FILE, type BuildModelOptions, type BuiltModel, type LabelChoice } from './checkpoint.js';
export * from './export/index.js';
