/**
 * What each model family's tokenizer looks like when its files do not say: the special-token
 * names (HF's defaults for `BertTokenizer` / `RobertaTokenizer`) and the tokenizer class written
 * to `tokenizer_config.json` so that `AutoTokenizer` (Python and transformers.js) picks the
 * family's class. The template is always `cls A sep` with the family's tokens: `[CLS] … [SEP]`
 * for BERT, `<s> … </s>` for RoBERTa.
 */
import type { SpecialTokenKey } from './files.js';

export type SpecialTokenNames = Record<SpecialTokenKey, string>;

export const BERT_SPECIAL_TOKENS: SpecialTokenNames = {
  cls_token: '[CLS]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  mask_token: '[MASK]',
  unk_token: '[UNK]',
};

export const ROBERTA_SPECIAL_TOKENS: SpecialTokenNames = {
  cls_token: '<s>',
  sep_token: '</s>',
  pad_token: '<pad>',
  mask_token: '<mask>',
  unk_token: '<unk>',
};

interface Family {
  specialTokens: SpecialTokenNames;
  /** HF's slow class name; both HF and transformers.js strip or accept a `Fast` suffix. */
  tokenizerClass: string;
  /** RoBERTa's tokenizer trims spaces out of byte-level offsets (`trim_offsets=True`). */
  trimOffsets: boolean;
}

const FAMILIES: Record<string, Family> = {
  bert: { specialTokens: BERT_SPECIAL_TOKENS, tokenizerClass: 'BertTokenizer', trimOffsets: false },
  distilbert: { specialTokens: BERT_SPECIAL_TOKENS, tokenizerClass: 'DistilBertTokenizer', trimOffsets: false },
  electra: { specialTokens: BERT_SPECIAL_TOKENS, tokenizerClass: 'ElectraTokenizer', trimOffsets: false },
  roberta: { specialTokens: ROBERTA_SPECIAL_TOKENS, tokenizerClass: 'RobertaTokenizer', trimOffsets: true },
};

/** The family of `modelType` (config.json's `model_type`), or undefined for families we do not know. */
export function familyOf(modelType: string): Family | undefined {
  return Object.hasOwn(FAMILIES, modelType) ? FAMILIES[modelType] : undefined;
}

/**
 * Candidate special-token conventions for `modelType`, most likely first: the family's own, or
 * for an unknown family BERT's then RoBERTa's (the caller keeps the first whose tokens exist).
 */
export function specialTokenConventions(modelType: string): SpecialTokenNames[] {
  const family = familyOf(modelType);
  return family !== undefined ? [family.specialTokens] : [BERT_SPECIAL_TOKENS, ROBERTA_SPECIAL_TOKENS];
}
