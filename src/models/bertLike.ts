/**
 * What BERT, RoBERTa and ELECTRA share: the keys of their config.json (BertConfig's, with each
 * family's defaults) and the module names of their transformer layers under a prefix.
 */
import { checkHeads, type ConfigReader, type EncoderConfig, type PositionStyle } from './config.js';
import type { EncoderNames, LayerNames } from './family.js';

export interface BertLikeDefaults {
  vocab_size: number;
  hidden_size: number;
  embedding_size?: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
  pad_token_id: number;
}

export function parseBertLikeConfig(reader: ConfigReader, modelType: string, defaults: BertLikeDefaults, positionStyle: PositionStyle): EncoderConfig {
  reader.modelType(modelType);
  reader.encoderOnly();
  const hiddenSize = reader.integer('hidden_size', defaults.hidden_size, 1);
  const numHeads = reader.integer('num_attention_heads', defaults.num_attention_heads, 1);
  checkHeads(reader, hiddenSize, numHeads, 'hidden_size');
  const hiddenDropout = reader.probability('hidden_dropout_prob', 0.1);
  const labels = reader.labels();
  return {
    modelType,
    vocabSize: reader.integer('vocab_size', defaults.vocab_size, 1),
    hiddenSize,
    embeddingSize: defaults.embedding_size !== undefined ? reader.integer('embedding_size', defaults.embedding_size, 1) : hiddenSize,
    numLayers: reader.integer('num_hidden_layers', defaults.num_hidden_layers, 1),
    numHeads,
    intermediateSize: reader.integer('intermediate_size', defaults.intermediate_size, 1),
    activation: reader.activation('hidden_act', 'gelu'),
    hiddenDropout,
    attentionDropout: reader.probability('attention_probs_dropout_prob', 0.1),
    classifierDropout: reader.probability('classifier_dropout', hiddenDropout),
    maxPositions: reader.integer('max_position_embeddings', defaults.max_position_embeddings, 1),
    typeVocabSize: reader.integer('type_vocab_size', defaults.type_vocab_size, 1),
    layerNormEps: reader.positive('layer_norm_eps', defaults.layer_norm_eps),
    padTokenId: reader.integer('pad_token_id', defaults.pad_token_id, 0),
    positionStyle,
    initializerRange: reader.positive('initializer_range', 0.02),
    ...(labels !== undefined ? { labels } : {}),
    raw: reader.json,
  };
}

/** `<prefix>.embeddings.*` and `<prefix>.encoder.layer.N.*` as BertModel names them. */
export function bertLikeNames(prefix: string, options: { project?: boolean } = {}): EncoderNames {
  return {
    word: `${prefix}.embeddings.word_embeddings.weight`,
    position: `${prefix}.embeddings.position_embeddings.weight`,
    tokenType: `${prefix}.embeddings.token_type_embeddings.weight`,
    embeddingNorm: `${prefix}.embeddings.LayerNorm`,
    ...(options.project ? { project: `${prefix}.embeddings_project` } : {}),
    layer(index: number): LayerNames {
      const layer = `${prefix}.encoder.layer.${index}`;
      return {
        query: `${layer}.attention.self.query`,
        key: `${layer}.attention.self.key`,
        value: `${layer}.attention.self.value`,
        attentionOutput: `${layer}.attention.output.dense`,
        attentionNorm: `${layer}.attention.output.LayerNorm`,
        intermediate: `${layer}.intermediate.dense`,
        output: `${layer}.output.dense`,
        outputNorm: `${layer}.output.LayerNorm`,
      };
    },
  };
}
