/**
 * The settings of a WordPiece tokenizer, with HF `BertTokenizer`'s defaults. Apart from the
 * tokenizer so that the file reader and writer can share them without importing the tokenizer.
 */

export interface WordPieceOptions {
  /** Lower-case the text (HF `do_lower_case`, default true). */
  doLowerCase?: boolean;
  /** Strip accents (NFD, drop Mn). `null`/absent: follow `doLowerCase`, as original BERT. */
  stripAccents?: boolean | null;
  /** Put spaces around CJK ideographs so each is its own word (default true). */
  tokenizeChineseChars?: boolean;
  /** Run the basic tokenizer (cleaning, CJK, punctuation split) before WordPiece (default true). */
  doBasicTokenize?: boolean;
  /** Drop control characters and map whitespace to spaces (default true; only `tokenizer.json` can turn it off). */
  cleanText?: boolean;
  /** Words the basic tokenizer keeps whole (neither lower-cased nor split nor WordPiece'd). */
  neverSplit?: readonly string[];
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  maskToken?: string;
  /** Extra special tokens, kept whole wherever they occur in the text. */
  additionalSpecialTokens?: readonly string[];
  /** Prefix of non-initial word pieces (default `##`). */
  continuingSubwordPrefix?: string;
  /** Words with more code points than this become `[UNK]` (default 100). */
  maxInputCharsPerWord?: number;
  /** `model_max_length` from the checkpoint, kept for the caller; not applied implicitly. */
  modelMaxLength?: number;
  /** `decode` applies HF's `clean_up_tokenization` (` .` → `.` …); default true, as `BertTokenizer`. */
  cleanUpTokenizationSpaces?: boolean;
  /** `tokenizer_class` written to `tokenizer_config.json` (default `BertTokenizer`). */
  tokenizerClass?: string;
  /**
   * The checkpoint's `tokenizer_config.json`, whose other keys (`padding_side`,
   * `model_input_names` …) `files()` writes back; the settings above replace theirs.
   */
  tokenizerConfig?: Readonly<Record<string, unknown>>;
}

/** The resolved settings of a tokenizer (every option filled in). */
export interface WordPieceSettings {
  doLowerCase: boolean;
  stripAccents: boolean | null;
  tokenizeChineseChars: boolean;
  doBasicTokenize: boolean;
  cleanText: boolean;
  neverSplit: readonly string[];
  unkToken: string;
  clsToken: string;
  sepToken: string;
  padToken: string;
  maskToken: string;
  additionalSpecialTokens: readonly string[];
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
  modelMaxLength: number | undefined;
  cleanUpTokenizationSpaces: boolean;
  tokenizerClass: string;
  tokenizerConfig: Readonly<Record<string, unknown>>;
}

export const DEFAULT_SETTINGS: WordPieceSettings = {
  doLowerCase: true,
  stripAccents: null,
  tokenizeChineseChars: true,
  doBasicTokenize: true,
  cleanText: true,
  neverSplit: [],
  unkToken: '[UNK]',
  clsToken: '[CLS]',
  sepToken: '[SEP]',
  padToken: '[PAD]',
  maskToken: '[MASK]',
  additionalSpecialTokens: [],
  continuingSubwordPrefix: '##',
  maxInputCharsPerWord: 100,
  modelMaxLength: undefined,
  cleanUpTokenizationSpaces: true,
  tokenizerClass: 'BertTokenizer',
  tokenizerConfig: {},
};
