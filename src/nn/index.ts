export { layerContext, backwardContext, tidy, parsePrecision, PRECISIONS, type LayerContext, type BackwardContext, type LayerContextOptions, type Precision } from './context.js';
export { denseForward, denseBackward, type DenseParams } from './dense.js';
export { matMul, roundToBf16Tensor } from './matmul.js';
export { layerNormForward, layerNormBackward, layerNormOutput, type LayerNormParams, type LayerNormSaved } from './layerNorm.js';
export { activationForward, activationBackward, biasActivationForward, biasActivationBackward, parseActivation, ACTIVATIONS, type Activation } from './activations.js';
export { attentionForward, attentionBackward, FLOAT32_MIN, type AttentionSaved } from './attention.js';
export { embeddingForward, embeddingSumForward, embeddingBackward } from './embeddings.js';
export { dropoutForward, dropoutBackward, biasDropoutForward, biasDropoutBackward, dropoutMask, type DropoutSite } from './dropout.js';
export { crossEntropySum, softmaxRows, IGNORE_INDEX, type CrossEntropyResult } from './loss.js';
