export {
  TaskModel,
  SequenceClassifier,
  TokenClassifier,
  MaskedLanguageModel,
  modelSpecs,
  taskHead,
  initialValues,
  type ModelDefinition,
  type ModelOptions,
  type SequenceSample,
  type TokenSample,
  type MaskedInput,
  type MaskedLanguageModelOptions,
} from './model.js';
export { Head, headSpecs, type HeadSaved } from './head.js';
