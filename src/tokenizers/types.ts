/**
 * What every tokenizer family offers the tasks: ids with the family's template, and for each
 * token whether the template added it, which input word it came from and which characters of
 * the input it covers.
 */

/** One text (or one pre-tokenized sentence) after tokenization, template and truncation. */
export interface Encoding {
  ids: number[];
  tokens: string[];
  /**
   * 1 for the tokens the template added (`[CLS]`, `[SEP]`, `<s>`, `</s>`), 0 for tokens of the
   * input — including special tokens typed in the text, such as `[MASK]` for fill-mask, as HF's
   * `return_special_tokens_mask=True` does.
   */
  specialTokensMask: number[];
  /**
   * Which word each token came from; null for the template's tokens. For `encode` a word is a
   * pre-token of the family (BERT: split on whitespace and punctuation, each CJK ideograph alone;
   * byte-level BPE: the GPT-2 regex pieces; a special token in the text is a word of its own),
   * numbered from 0 in order, as HF fast tokenizers' `word_ids()`. For `encodeWords` it is the
   * index into the `words` given.
   */
  wordIds: (number | null)[];
  /**
   * `[start, end)` of the characters each token was produced from, as JavaScript string indices
   * (UTF-16 code units, so `text.slice(start, end)` is the span; HF's Python offsets count code
   * points, which differ only after characters outside the BMP). `[0, 0]` for the template's
   * tokens. For `encode` they index the text; for `encodeWords` they index `words[wordIds[i]]`
   * (HF's `is_split_into_words` convention).
   */
  offsets: [number, number][];
  /** Whether tokens of the input were cut to fit `maxLength`. */
  truncated: boolean;
  /** How many tokens of the input truncation removed (0 when it fit). */
  truncatedTokens: number;
}

export interface EncodeOptions {
  /** The most tokens the encoding may have, the template's special tokens included. */
  maxLength: number;
}

export interface DecodeOptions {
  /** Leave out special tokens (HF `skip_special_tokens`, default false). */
  skipSpecialTokens?: boolean;
}

export interface SpecialToken {
  token: string;
  id: number;
}

/** The special tokens a task needs, with their ids in this tokenizer's vocabulary. */
export interface SpecialTokens {
  cls: SpecialToken;
  sep: SpecialToken;
  pad: SpecialToken;
  /** Undefined when the vocabulary has no mask token (classification does not need one). */
  mask: SpecialToken | undefined;
  unk: SpecialToken;
}

export type TokenizerKind = 'wordpiece' | 'tokenizer.json';

export interface Tokenizer {
  /** `wordpiece`: our BERT WordPiece; `tokenizer.json`: a tokenizer.json run by `@huggingface/tokenizers`. */
  readonly kind: TokenizerKind;
  /** Number of ids: the largest id + 1, added tokens included (HF `len(tokenizer)`). */
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  /** `model_max_length` from `tokenizer_config.json`, when it names a real limit. Never applied implicitly. */
  readonly modelMaxLength: number | undefined;
  /** The family's template around the text's tokens, truncated (from the end) to `maxLength`, specials kept. */
  encode(text: string, options: EncodeOptions): Encoding;
  /** Pre-tokenized input (CoNLL-style NER): each word is tokenized on its own; `wordIds` index `words`. */
  encodeWords(words: readonly string[], options: EncodeOptions): Encoding;
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
  /** HF `tokenizer.decode(ids)`: the text the ids stand for (e.g. a fill-mask prediction). */
  decode(ids: readonly number[], options?: DecodeOptions): string;
  /**
   * The tokenizer files to save with a checkpoint, name → text, so that this tokenizer, HF
   * `AutoTokenizer.from_pretrained` and transformers.js all load the same tokenizer back.
   */
  files(): Record<string, string>;
}

/** Tokenizer files by name, as text (browser-safe: reading them from disk or the hub happens elsewhere). */
export interface TokenizerFiles {
  'vocab.txt'?: string;
  'tokenizer.json'?: string;
  'tokenizer_config.json'?: string;
  'special_tokens_map.json'?: string;
  'vocab.json'?: string;
  'merges.txt'?: string;
}

/** The file names `loadTokenizer` reads, for callers that collect them from a directory or the hub. */
export const TOKENIZER_FILE_NAMES = [
  'vocab.txt',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.json',
  'merges.txt',
] as const satisfies readonly (keyof TokenizerFiles)[];
