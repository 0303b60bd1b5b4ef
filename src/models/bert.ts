/** BERT (`model_type: "bert"`), also MiniLM and every checkpoint with BERT's architecture. */
import { parseBertLikeConfig, bertLikeNames } from './bertLike.js';
import { modernLayerNormName, type ModelFamily } from './family.js';

export const bert: ModelFamily = {
  modelType: 'bert',
  title: 'BERT (also MiniLM and other BERT-architecture checkpoints)',
  parseConfig: (reader) =>
    parseBertLikeConfig(
      reader,
      'bert',
      {
        vocab_size: 30522,
        hidden_size: 768,
        num_hidden_layers: 12,
        num_attention_heads: 12,
        intermediate_size: 3072,
        max_position_embeddings: 512,
        type_vocab_size: 2,
        layer_norm_eps: 1e-12,
        pad_token_id: 0,
      },
      'absolute',
    ),
  names: () => bertLikeNames('bert'),
  basePrefix: 'bert.',
  baseModules: ['embeddings.', 'encoder.', 'pooler.'],
  heads: {
    // pooler = tanh(dense(h[CLS])); logits = classifier(dropout(pooled))
    'sequence-classification': {
      architecture: 'BertForSequenceClassification',
      positions: 'first',
      steps: [
        { kind: 'dense', prefix: 'bert.pooler.dense', out: 'hidden' },
        { kind: 'activation', activation: 'tanh' },
        { kind: 'dropout', rate: 'classifier' },
        { kind: 'dense', prefix: 'classifier', out: 'labels' },
      ],
    },
    'token-classification': {
      architecture: 'BertForTokenClassification',
      positions: 'all',
      steps: [
        { kind: 'dropout', rate: 'classifier' },
        { kind: 'dense', prefix: 'classifier', out: 'labels' },
      ],
    },
    'masked-lm': {
      architecture: 'BertForMaskedLM',
      positions: 'all',
      steps: [
        { kind: 'dense', prefix: 'cls.predictions.transform.dense', out: 'hidden' },
        { kind: 'activation', activation: 'config' },
        { kind: 'layerNorm', prefix: 'cls.predictions.transform.LayerNorm', width: 'hidden' },
        { kind: 'tiedDecoder', bias: 'cls.predictions.bias' },
      ],
      tiedAliases: ['cls.predictions.decoder.weight', 'cls.predictions.decoder.bias'],
    },
  },
  canonicalName: modernLayerNormName,
};
