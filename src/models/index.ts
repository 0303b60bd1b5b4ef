/**
 * The model families, registered by `model_type`. A new family is one file and one line here.
 */
import { bert } from './bert.js';
import { distilbert } from './distilbert.js';
import { electra } from './electra.js';
import { registerFamily } from './family.js';
import { roberta } from './roberta.js';

for (const family of [bert, distilbert, roberta, electra]) registerFamily(family);

export { bert, distilbert, roberta, electra };
export * from './family.js';
export * from './config.js';
export { Encoder, encoderSpecs, linearSpecs, layerNormSpecs, disposeSaved, type EncoderBatch, type EncoderInput, type EncoderSaved, type ModelParamSpec, type ParamInit } from './encoder.js';
export { canonicalNames, selectWeights, type LoadReport } from './weights.js';
