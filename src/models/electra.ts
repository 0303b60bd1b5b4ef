/**
 * ELECTRA (`model_type: "electra"`): BERT's layers over embeddings of `embedding_size`,
 * projected to `hidden_size` by `embeddings_project` when the two differ. Classification heads
 * are the discriminator's; the masked-LM head is the generator's.
 */
import { parseBertLikeConfig, bertLikeNames } from './bertLike.js';
import type { ModelFamily } from './family.js';

const withoutProjection = bertLikeNames('electra');
const withProjection = bertLikeNames('electra', { project: true });


export const electra: ModelFamily = {
  modelType: 'electra',
  title: 'ELECTRA (discriminator; generator for masked LM)',
  parseConfig: (reader) =>
    parseBertLikeConfig(
      reader,
      'electra',
      {
        vocab_size: 30522,
        hidden_size: 256,
        embedding_size: 128,
        num_hidden_layers: 12,
        num_attention_heads: 4,
        intermediate_size: 1024,
        max_position_embeddings: 512,
        type_vocab_size: 2,
        layer_norm_eps: 1e-12,
        pad_token_id: 0,
      },
      'absolute',
    ),
  // `embeddings_project` exists only when embedding_size ≠ hidden_size.
  names: (config) => (config.embeddingSize === config.hiddenSize ? withoutProjection : withProjection),
  basePrefix: 'electra.',
  baseModules: ['embeddings.', 'embeddings_project.', 'encoder.'],
  heads: {
    // ElectraClassificationHead on [CLS]: dropout, dense, GELU ("although BERT uses tanh here"), dropout, out_proj.
    'sequence-classification': {
      architecture: 'ElectraForSequenceClassification',
      positions: 'first',
      steps: [
        { kind: 'dropout', rate: 'classifier' },
        { kind: 'dense', prefix: 'classifier.dense', out: 'hidden' },
        { kind: 'activation', activation: 'gelu' },
        { kind: 'dropout', rate: 'classifier' },
        { kind: 'dense', prefix: 'classifier.out_proj', out: 'labels' },
      ],
    },
    'token-classification': {
      architecture: 'ElectraForTokenClassification',
      positions: 'all',
      steps: [
        { kind: 'dropout', rate: 'classifier' },
        { kind: 'dense', prefix: 'classifier', out: 'labels' },
      ],
    },
    // ElectraGeneratorPredictions (dense to embedding_size, GELU, LayerNorm) + generator_lm_head tied to the word embeddings.
    'masked-lm': {
      architecture: 'ElectraForMaskedLM',
      positions: 'all',
      steps: [
        { kind: 'dense', prefix: 'generator_predictions.dense', out: 'embedding' },
        { kind: 'activation', activation: 'gelu' },
        { kind: 'layerNorm', prefix: 'generator_predictions.LayerNorm', width: 'embedding' },
        { kind: 'tiedDecoder', bias: 'generator_lm_head.bias' },
      ],
      tiedAliases: ['generator_lm_head.weight'],
    },
  },
};
