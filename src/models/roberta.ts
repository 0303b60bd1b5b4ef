/**
 * RoBERTa (`model_type: "roberta"`): BERT's layers with positions that start at
 * padding_idx + 1 and count only non-pad tokens, one token type, and its own heads.
 */
import { parseBertLikeConfig, bertLikeNames } from './bertLike.js';
import type { ModelFamily } from './family.js';

export const roberta: ModelFamily = {
  modelType: 'roberta',
  title: 'RoBERTa (byte-level BPE tokenizer.json)',
  parseConfig: (reader) =>
    parseBertLikeConfig(
      reader,
      'roberta',
      {
        vocab_size: 50265,
        hidden_size: 768,
        num_hidden_layers: 12,
        num_attention_heads: 12,
        intermediate_size: 3072,
        max_position_embeddings: 514,
        type_vocab_size: 1,
        layer_norm_eps: 1e-5,
        pad_token_id: 1,
      },
      'padding-offset',
    ),
  names: () => bertLikeNames('roberta'),
  basePrefix: 'roberta.',
  baseModules: ['embeddings.', 'encoder.', 'pooler.'],
  heads: {
    // RobertaClassificationHead on <s>: dropout, dense, tanh, dropout, out_proj.
    'sequence-classification': {
      architecture: 'RobertaForSequenceClassification',
      positions: 'first',
      steps: [
        { kind: 'dropout', rate: 'classifier' },
        { kind: 'dense', prefix: 'classifier.dense', out: 'hidden' },
        { kind: 'activation', activation: 'tanh' },
        { kind: 'dropout', rate: 'classifier' },
        { kind: 'dense', prefix: 'classifier.out_proj', out: 'labels' },
      ],
    },
    'token-classification': {
      architecture: 'RobertaForTokenClassification',
      positions: 'all',
      steps: [
        { kind: 'dropout', rate: 'classifier' },
        { kind: 'dense', prefix: 'classifier', out: 'labels' },
      ],
    },
    // RobertaLMHead: dense, gelu (always the exact one), layer_norm, decoder tied to the word embeddings.
    'masked-lm': {
      architecture: 'RobertaForMaskedLM',
      positions: 'all',
      steps: [
        { kind: 'dense', prefix: 'lm_head.dense', out: 'hidden' },
        { kind: 'activation', activation: 'gelu' },
        { kind: 'layerNorm', prefix: 'lm_head.layer_norm', width: 'hidden' },
        { kind: 'tiedDecoder', bias: 'lm_head.bias' },
      ],
      tiedAliases: ['lm_head.decoder.weight', 'lm_head.decoder.bias'],
    },
  },
};
