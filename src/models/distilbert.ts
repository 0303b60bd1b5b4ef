/**
 * DistilBERT (`model_type: "distilbert"`): no token types and no pooler; its own config keys
 * (dim, hidden_dim, n_layers, n_heads, activation, dropout …) and module names
 * (q_lin/k_lin/v_lin/out_lin, sa_layer_norm, ffn.lin1/lin2, output_layer_norm). Every
 * LayerNorm uses eps 1e-12 (hard-coded in HF's modeling_distilbert).
 */
import { checkHeads, type ConfigReader, type EncoderConfig } from './config.js';
import type { LayerNames, ModelFamily } from './family.js';

const LAYER_NORM_EPS = 1e-12;

function parseConfig(reader: ConfigReader): EncoderConfig {
  reader.modelType('distilbert');
  reader.encoderOnly();
  reader.only('sinusoidal_pos_embds', [false], 'sinusoidal position embeddings are not supported');
  const hiddenSize = reader.integer('dim', 768, 1);
  const numHeads = reader.integer('n_heads', 12, 1);
  checkHeads(reader, hiddenSize, numHeads, 'dim');
  const labels = reader.labels();
  return {
    modelType: 'distilbert',
    vocabSize: reader.integer('vocab_size', 30522, 1),
    hiddenSize,
    embeddingSize: hiddenSize,
    numLayers: reader.integer('n_layers', 6, 1),
    numHeads,
    intermediateSize: reader.integer('hidden_dim', 3072, 1),
    activation: reader.activation('activation', 'gelu'),
    hiddenDropout: reader.probability('dropout', 0.1),
    attentionDropout: reader.probability('attention_dropout', 0.1),
    // DistilBertForSequenceClassification's dropout; its token classifier uses `dropout`.
    classifierDropout: reader.probability('seq_classif_dropout', 0.2),
    maxPositions: reader.integer('max_position_embeddings', 512, 1),
    typeVocabSize: 0,
    layerNormEps: LAYER_NORM_EPS,
    padTokenId: reader.integer('pad_token_id', 0, 0),
    positionStyle: 'absolute',
    initializerRange: reader.positive('initializer_range', 0.02),
    ...(labels !== undefined ? { labels } : {}),
    raw: reader.json,
  };
}

export const distilbert: ModelFamily = {
  modelType: 'distilbert',
  title: 'DistilBERT',
  parseConfig,
  names: () => ({
    word: 'distilbert.embeddings.word_embeddings.weight',
    position: 'distilbert.embeddings.position_embeddings.weight',
    embeddingNorm: 'distilbert.embeddings.LayerNorm',
    layer(index: number): LayerNames {
      const layer = `distilbert.transformer.layer.${index}`;
      return {
        query: `${layer}.attention.q_lin`,
        key: `${layer}.attention.k_lin`,
        value: `${layer}.attention.v_lin`,
        attentionOutput: `${layer}.attention.out_lin`,
        attentionNorm: `${layer}.sa_layer_norm`,
        intermediate: `${layer}.ffn.lin1`,
        output: `${layer}.ffn.lin2`,
        outputNorm: `${layer}.output_layer_norm`,
      };
    },
  }),
  basePrefix: 'distilbert.',
  baseModules: ['embeddings.', 'transformer.'],
  heads: {
    // hidden[:, 0] → pre_classifier → ReLU → dropout(seq_classif_dropout) → classifier
    'sequence-classification': {
      architecture: 'DistilBertForSequenceClassification',
      positions: 'first',
      steps: [
        { kind: 'dense', prefix: 'pre_classifier', out: 'hidden' },
        { kind: 'activation', activation: 'relu' },
        { kind: 'dropout', rate: 'classifier' },
        { kind: 'dense', prefix: 'classifier', out: 'labels' },
      ],
    },
    'token-classification': {
      architecture: 'DistilBertForTokenClassification',
      positions: 'all',
      steps: [
        { kind: 'dropout', rate: 'hidden' },
        { kind: 'dense', prefix: 'classifier', out: 'labels' },
      ],
    },
    // vocab_transform → activation → vocab_layer_norm → vocab_projector (tied to the word embeddings)
    'masked-lm': {
      architecture: 'DistilBertForMaskedLM',
      positions: 'all',
      steps: [
        { kind: 'dense', prefix: 'vocab_transform', out: 'hidden' },
        { kind: 'activation', activation: 'config' },
        { kind: 'layerNorm', prefix: 'vocab_layer_norm', width: 'hidden', eps: LAYER_NORM_EPS },
        { kind: 'tiedDecoder', bias: 'vocab_projector.bias' },
      ],
      tiedAliases: ['vocab_projector.weight'],
    },
  },
};
