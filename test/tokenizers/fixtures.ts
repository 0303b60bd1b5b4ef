/**
 * Hand-built tokenizer files for the tests: nothing is downloaded.
 */
import { BYTE_TO_CHAR, toByteLevel } from '../../src/tokenizers/byteLevel.js';

/** A small BERT vocabulary (ids = index). */
export const BERT_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
export const BERT_WORDS = [
  'un', '##aff', '##able', 'hello', 'world', 'the', 'cafe', 'café', 'Café', 'naive', 'a', '##a',
  '中', '文', '𠀀', '한국', 'σασ', 'σας', '[', ']', 'cls', ',', '!', '.', '$', '^', '`', '¿', '«', '»', '…',
  '5€', 'x', '##x', 'hel', '##lo', '[FOO]', 'Hello', '한국'.normalize('NFD'), 'new', 'york', 'is', 'big', "'", 's', 't', 'don',
];
export const BERT_VOCAB = [...BERT_SPECIALS, ...BERT_WORDS];

/**
 * Merges of a tiny byte-level BPE, in the byte-level alphabet (`Ġ` is a space), by rank.
 * Hand-picked so that the tests know the expected tokens (`Ġhello`, `Ġworld`, `cafÃ©` for café,
 * `ä¸Ń` for 中; `the` without a space stays `t` + `he`).
 */
const MERGES: [string, string][] = [
  ['Ġ', 't'], ['h', 'e'], ['Ġt', 'he'], ['l', 'l'], ['he', 'll'], ['hell', 'o'], ['Ġ', 'hello'],
  ['Ġ', 'w'], ['o', 'r'], ['Ġw', 'or'], ['Ġwor', 'l'], ['Ġworl', 'd'], ['Ã', '©'], ['c', 'a'], ['ca', 'f'], ['caf', 'Ã©'],
  ['Ġ', 'cafÃ©'], ['Ġ', 'Ġ'], ['N', 'e'], ['Ne', 'w'], ['Ġ', 'Y'], ['ĠY', 'or'], ['ĠYor', 'k'], ['i', 's'], ['Ġ', 'is'],
  ['Ġ', 'b'], ['Ġb', 'i'], ['Ġbi', 'g'], ['ä', '¸'], ['ä¸', 'Ń'],
].map(([a, b]) => [a!, b!]);

export const ROBERTA_SPECIALS = ['<s>', '<pad>', '</s>', '<unk>'];

/** `vocab.json` of the tiny BPE: RoBERTa's four specials, the 256 byte characters, the merges, `<mask>` last. */
export function tinyBpeVocab(): Record<string, number> {
  const vocab: Record<string, number> = {};
  const add = (token: string) => {
    if (!Object.hasOwn(vocab, token)) vocab[token] = Object.keys(vocab).length;
  };
  ROBERTA_SPECIALS.forEach(add);
  BYTE_TO_CHAR.forEach(add);
  for (const [a, b] of MERGES) add(a + b);
  add('<mask>');
  return vocab;
}

export function tinyBpeMergesTxt(): string {
  return `#version: 0.2\n${MERGES.map(([a, b]) => `${a} ${b}`).join('\n')}\n`;
}

/** A RoBERTa-style `tokenizer.json` (as HF's converter writes it) over the tiny BPE. */
export function tinyRobertaTokenizerJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const vocab = tinyBpeVocab();
  const added = (content: string, lstrip = false) => ({ id: vocab[content], content, single_word: false, lstrip, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added('<s>'), added('<pad>'), added('</s>'), added('<unk>'), added('<mask>', true)],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', vocab['</s>']], cls: ['<s>', vocab['<s>']], trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: MERGES.map(([a, b]) => `${a} ${b}`),
    },
    ...overrides,
  };
}

/** A BERT tokenizer.json with a non-default prefix, no CJK handling, cased, words over 4 characters unknown. */
export function bertTokenizerJson(overrides: { normalizer?: unknown; model?: Record<string, unknown>; added_tokens?: unknown[]; post_processor?: unknown } = {}): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'Hello', 'hello', 'Ab', '@@c', '中文'].forEach((token, id) => {
    vocab[token] = id;
  });
  return {
    version: '1.0',
    added_tokens: overrides.added_tokens ?? [{ id: 3, content: '[SEP]', special: true }],
    normalizer: overrides.normalizer ?? { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: false, strip_accents: null, lowercase: false },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: overrides.post_processor ?? null,
    decoder: null,
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '@@', max_input_chars_per_word: 4, vocab, ...overrides.model },
  };
}

export { toByteLevel };
