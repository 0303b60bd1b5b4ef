/**
 * BERT WordPiece tokenizer, a re-implementation of Hugging Face's `BertTokenizer`
 * (transformers `tokenization_bert.py`: BasicTokenizer + WordpieceTokenizer, driven by
 * `PreTrainedTokenizer.tokenize`).
 *
 * Why not `@huggingface/tokenizers` (installed)? Its BERT pieces differ from HF on inputs we
 * must handle: its CJK split walks UTF-16 code units, so ideographs outside the BMP
 * (U+20000…, Extension B–F, which HF's `_is_chinese_char` covers) are never split; its
 * control-character test omits unassigned code points (HF drops every `C*` category); it
 * lower-cases whole strings, so a word-final Σ becomes ς (HF lower-cases character by
 * character → σ); and it can only be built from a `tokenizer.json`, while most BERT
 * checkpoints ship `vocab.txt`. The algorithm is short, so we own it and test it.
 *
 * The Unicode tables (categories, case mapping, NFD) are the JavaScript engine's; they can
 * differ from Python's `unicodedata` for code points assigned in newer Unicode versions.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, ConfigError } from '../core/errors.js';

export interface BertTokenizerOptions {
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
}

/** The resolved settings of a tokenizer (every option filled in). */
export interface BertTokenizerSettings {
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
}

export interface Encoding {
  /** `[CLS] … [SEP]`. */
  tokens: string[];
  ids: number[];
  /** How many word pieces truncation removed (0 when the text fit). */
  truncatedTokens: number;
}

const DEFAULT_SETTINGS: BertTokenizerSettings = {
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
};

const CONTROL = /^\p{C}$/u;
const SPACE_SEPARATOR = /^\p{Zs}$/u;
const UNICODE_PUNCTUATION = /^\p{P}$/u;
const NONSPACING_MARKS = /\p{Mn}/gu;
/** Exactly the characters Python's `str.split()` splits on (`str.isspace`). */
const PYTHON_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/** HF `_is_chinese_char`: the CJK Unified Ideographs blocks (not Hangul, kana …). */
export function isChineseChar(codePoint: number): boolean {
  return (
    (codePoint >= 0x4e00 && codePoint <= 0x9fff) ||
    (codePoint >= 0x3400 && codePoint <= 0x4dbf) ||
    (codePoint >= 0x20000 && codePoint <= 0x2a6df) ||
    (codePoint >= 0x2a700 && codePoint <= 0x2b73f) ||
    (codePoint >= 0x2b740 && codePoint <= 0x2b81f) ||
    (codePoint >= 0x2b820 && codePoint <= 0x2ceaf) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0x2f800 && codePoint <= 0x2fa1f)
  );
}

/** HF `_is_punctuation`: all non-alphanumeric printable ASCII, plus Unicode P* categories. */
export function isPunctuation(char: string): boolean {
  const cp = char.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return UNICODE_PUNCTUATION.test(char);
}

function isWhitespace(char: string): boolean {
  return char === ' ' || char === '\t' || char === '\n' || char === '\r' || SPACE_SEPARATOR.test(char);
}

function isControl(char: string): boolean {
  if (char === '\t' || char === '\n' || char === '\r') return false;
  return CONTROL.test(char);
}

/** Python `text.strip().split()`. */
function whitespaceSplit(text: string): string[] {
  return text.split(PYTHON_WHITESPACE).filter((word) => word.length > 0);
}

/**
 * Lower-case one code point at a time, as HF does (`re.sub(..., lambda m: m.group().lower())`
 * over single characters): no context-dependent mappings such as word-final sigma.
 */
function lowerCaseByCodePoint(text: string): string {
  let out = '';
  for (const char of text) out += char.toLowerCase();
  return out;
}

function stripAccents(text: string): string {
  return text.normalize('NFD').replace(NONSPACING_MARKS, '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class BertTokenizer {
  readonly settings: BertTokenizerSettings;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  /** Undefined when the vocabulary has no mask token (it is not needed for classification). */
  readonly maskId: number | undefined;
  private readonly vocab: readonly string[];
  private readonly tokenToId: Map<string, number>;
  private readonly neverSplit: ReadonlySet<string>;
  /** Matches any special token, longest first, so `[CLS]x` yields `[CLS]` then `x`. */
  private readonly specialTokenPattern: RegExp | undefined;
  /** The checkpoint's `tokenizer.json`, written back verbatim by `saveTo`. */
  private readonly tokenizerJson: unknown;

  private constructor(vocab: readonly string[], options: BertTokenizerOptions, tokenizerJson?: unknown) {
    const settings: BertTokenizerSettings = { ...DEFAULT_SETTINGS };
    for (const [key, value] of Object.entries(options)) {
      if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
    }
    if (!Number.isInteger(settings.maxInputCharsPerWord) || settings.maxInputCharsPerWord < 1) {
      throw new ConfigError(`maxInputCharsPerWord must be a positive integer, got ${settings.maxInputCharsPerWord}`);
    }
    if (settings.modelMaxLength !== undefined && !(settings.modelMaxLength > 0)) {
      throw new ConfigError(`modelMaxLength must be positive, got ${settings.modelMaxLength}`);
    }
    this.settings = settings;
    this.vocab = vocab;
    // Like HF's `load_vocab`, a token listed twice maps to its last line.
    this.tokenToId = new Map(vocab.map((token, id) => [token, id]));
    const required = (name: string, token: string): number => {
      const id = this.tokenToId.get(token);
      if (id === undefined) throw new ConfigError(`the ${name} token "${token}" is not in the vocabulary`);
      return id;
    };
    this.unkId = required('unknown', settings.unkToken);
    this.clsId = required('classifier', settings.clsToken);
    this.sepId = required('separator', settings.sepToken);
    this.padId = required('padding', settings.padToken);
    this.maskId = this.tokenToId.get(settings.maskToken);
    this.neverSplit = new Set(settings.neverSplit);
    const specials = [
      ...new Set([settings.unkToken, settings.sepToken, settings.padToken, settings.clsToken, settings.maskToken, ...settings.additionalSpecialTokens]),
    ].filter((token) => token.length > 0);
    specials.sort((a, b) => b.length - a.length);
    this.specialTokenPattern = specials.length > 0 ? new RegExp(`(${specials.map(escapeRegExp).join('|')})`, 'u') : undefined;
    this.tokenizerJson = tokenizerJson;
  }

  /** A tokenizer over `tokens` (id = index), with HF `BertTokenizer` defaults for unset options. */
  static fromVocab(tokens: readonly string[], options: BertTokenizerOptions = {}): BertTokenizer {
    return new BertTokenizer([...tokens], options);
  }

  /**
   * Loads a tokenizer from a checkpoint directory: `vocab.txt` (or the WordPiece vocabulary of
   * `tokenizer.json`), settings from `tokenizer.json`'s normalizer/model, overridden by keys
   * that `tokenizer_config.json` sets explicitly, and special tokens from
   * `special_tokens_map.json` (which wins over `tokenizer_config.json`, as in HF).
   */
  static fromDirectory(dir: string): BertTokenizer {
    const vocabPath = join(dir, 'vocab.txt');
    const tokenizerJsonPath = join(dir, 'tokenizer.json');
    const configPath = join(dir, 'tokenizer_config.json');
    const specialTokensPath = join(dir, 'special_tokens_map.json');
    const hasVocab = existsSync(vocabPath);
    const hasTokenizerJson = existsSync(tokenizerJsonPath);
    if (!hasVocab && !hasTokenizerJson) {
      throw new CheckpointError(`${dir}: no tokenizer found (expected vocab.txt or tokenizer.json)`);
    }
    const options: BertTokenizerOptions = {};
    let vocab: string[] | undefined;
    let tokenizerJson: unknown;
    if (hasTokenizerJson) {
      tokenizerJson = readJson(tokenizerJsonPath);
      vocab = applyTokenizerJson(tokenizerJsonPath, tokenizerJson, options);
    }
    if (hasVocab) {
      const fromFile = readVocabFile(vocabPath);
      if (vocab !== undefined && !sameTokens(vocab, fromFile)) {
        throw new CheckpointError(`${dir}: vocab.txt and tokenizer.json have different vocabularies`);
      }
      vocab = fromFile;
    }
    // Special tokens declared as added tokens must already be in the vocabulary; they are kept whole.
    const addedSpecials: string[] = [];
    if (hasTokenizerJson && isRecord(tokenizerJson) && tokenizerJson.added_tokens !== undefined) {
      if (!Array.isArray(tokenizerJson.added_tokens)) throw new CheckpointError(`${tokenizerJsonPath}: "added_tokens" must be a list`);
      addedSpecials.push(...checkAddedTokens(tokenizerJsonPath, tokenizerJson.added_tokens, vocab!));
    }
    if (existsSync(configPath)) {
      const config = readJson(configPath);
      applyTokenizerConfig(configPath, config, options);
      const decoder = isRecord(config) ? config.added_tokens_decoder : undefined;
      if (decoder !== undefined) {
        if (!isRecord(decoder)) throw new CheckpointError(`${configPath}: "added_tokens_decoder" must be an object`);
        const entries = Object.entries(decoder).map(([id, entry]) => (isRecord(entry) ? { ...entry, id: Number(id) } : entry));
        addedSpecials.push(...checkAddedTokens(configPath, entries, vocab!));
      }
    }
    if (existsSync(specialTokensPath)) applySpecialTokens(specialTokensPath, readJson(specialTokensPath), options);
    const named = new Set(Object.values(SPECIAL_TOKEN_KEYS).map((option) => options[option] ?? DEFAULT_SETTINGS[option]));
    const extraSpecials = addedSpecials.filter((token) => !named.has(token));
    if (extraSpecials.length > 0) {
      options.additionalSpecialTokens = [...new Set([...(options.additionalSpecialTokens ?? []), ...extraSpecials])];
    }
    try {
      return new BertTokenizer(vocab!, options, tokenizerJson);
    } catch (error) {
      if (error instanceof ConfigError) throw new CheckpointError(`${dir}: ${error.message}`);
      throw error;
    }
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  /** Word pieces of `text`, without `[CLS]`/`[SEP]` (HF `tokenizer.tokenize`). */
  tokenize(text: string): string[] {
    const pieces: string[] = [];
    // Special tokens are cut out of the raw text first and never normalised (HF's added-token trie).
    const chunks = this.specialTokenPattern === undefined ? [text] : text.split(this.specialTokenPattern);
    chunks.forEach((chunk, index) => {
      // `split` with a capturing group puts the separators (special tokens) at odd indices.
      if (index % 2 === 1) pieces.push(chunk);
      else if (chunk.length > 0) pieces.push(...this.tokenizePlainText(chunk));
    });
    return pieces;
  }

  /**
   * `[CLS] pieces [SEP]` with ids. With `maxLength`, word pieces are cut from the end so that
   * the whole sequence (both specials included) has at most `maxLength` tokens.
   */
  encode(text: string, options: { maxLength?: number } = {}): Encoding {
    let pieces = this.tokenize(text);
    let truncatedTokens = 0;
    if (options.maxLength !== undefined) {
      const { maxLength } = options;
      if (!Number.isInteger(maxLength) || maxLength < 2) {
        throw new ConfigError(`maxLength must be an integer ≥ 2 (room for ${this.settings.clsToken} and ${this.settings.sepToken}), got ${maxLength}`);
      }
      const room = maxLength - 2;
      if (pieces.length > room) {
        truncatedTokens = pieces.length - room;
        pieces = pieces.slice(0, room);
      }
    }
    const tokens = [this.settings.clsToken, ...pieces, this.settings.sepToken];
    return { tokens, ids: this.convertTokensToIds(tokens), truncatedTokens };
  }

  /** Vocabulary ids; tokens not in the vocabulary map to the unknown token's id. */
  convertTokensToIds(tokens: readonly string[]): number[] {
    return tokens.map((token) => this.tokenToId.get(token) ?? this.unkId);
  }

  /**
   * Writes `vocab.txt`, `tokenizer_config.json` and `special_tokens_map.json` (plus the
   * original `tokenizer.json` when the tokenizer was loaded from one) so that both
   * `BertTokenizer.fromDirectory` and HF `AutoTokenizer.from_pretrained` read it back.
   */
  saveTo(dir: string): void {
    const s = this.settings;
    if (this.tokenizerJson === undefined && (!s.cleanText || s.continuingSubwordPrefix !== '##' || s.maxInputCharsPerWord !== 100)) {
      // tokenizer_config.json has no keys for these; saving would silently change the tokenizer.
      throw new ConfigError('cleanText, continuingSubwordPrefix and maxInputCharsPerWord other than the defaults can only be saved with a tokenizer.json');
    }
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'vocab.txt'), this.vocab.map((token) => `${token}\n`).join(''));
    const specialTokens: Record<string, unknown> = {
      unk_token: s.unkToken,
      sep_token: s.sepToken,
      pad_token: s.padToken,
      cls_token: s.clsToken,
      mask_token: s.maskToken,
    };
    if (s.additionalSpecialTokens.length > 0) specialTokens.additional_special_tokens = [...s.additionalSpecialTokens];
    const config: Record<string, unknown> = {
      tokenizer_class: 'BertTokenizer',
      do_lower_case: s.doLowerCase,
      do_basic_tokenize: s.doBasicTokenize,
      never_split: s.neverSplit.length > 0 ? [...s.neverSplit] : null,
      strip_accents: s.stripAccents,
      tokenize_chinese_chars: s.tokenizeChineseChars,
      ...specialTokens,
    };
    if (s.modelMaxLength !== undefined) config.model_max_length = s.modelMaxLength;
    writeFileSync(join(dir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
    writeFileSync(join(dir, 'special_tokens_map.json'), `${JSON.stringify(specialTokens, null, 2)}\n`);
    if (this.tokenizerJson !== undefined) writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(this.tokenizerJson));
  }

  /** Text without special tokens → word pieces (HF `BertTokenizer._tokenize`). */
  private tokenizePlainText(text: string): string[] {
    const s = this.settings;
    // HF lower-cases everything but special tokens before tokenizing, so a never-split word
    // written in upper case is only protected when lower-casing is off.
    const lowered = s.doLowerCase ? lowerCaseByCodePoint(text) : text;
    if (!s.doBasicTokenize) return whitespaceSplit(lowered).flatMap((word) => this.wordPiece(word));
    return this.basicTokenize(lowered).flatMap((word) => (this.neverSplit.has(word) ? [word] : this.wordPiece(word)));
  }

  /** HF `BasicTokenizer.tokenize`: clean, isolate CJK, split on whitespace, normalise, split punctuation. */
  private basicTokenize(text: string): string[] {
    const s = this.settings;
    let prepared = '';
    for (const char of text) {
      if (s.cleanText) {
        if (char === '\0' || char === '\ufffd' || isControl(char)) continue;
        if (isWhitespace(char)) {
          prepared += ' ';
          continue;
        }
      }
      prepared += s.tokenizeChineseChars && isChineseChar(char.codePointAt(0)!) ? ` ${char} ` : char;
    }
    const words: string[] = [];
    for (let word of whitespaceSplit(prepared)) {
      if (this.neverSplit.has(word)) {
        words.push(word);
        continue;
      }
      if (s.doLowerCase) {
        word = lowerCaseByCodePoint(word);
        if (s.stripAccents !== false) word = stripAccents(word);
      } else if (s.stripAccents === true) {
        word = stripAccents(word);
      }
      // A word emptied by accent stripping (a lone combining mark) yields no pieces here;
      // HF drops it by re-splitting the joined words on whitespace.
      words.push(...splitOnPunctuation(word));
    }
    return words;
  }

  /** Greedy longest-match-first WordPiece; a word with any unmatched remainder is one unknown token. */
  private wordPiece(word: string): string[] {
    const { continuingSubwordPrefix, maxInputCharsPerWord, unkToken } = this.settings;
    const chars = Array.from(word);
    if (chars.length > maxInputCharsPerWord) return [unkToken];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let match: string | undefined;
      while (start < end) {
        const candidate = (start > 0 ? continuingSubwordPrefix : '') + chars.slice(start, end).join('');
        if (this.tokenToId.has(candidate)) {
          match = candidate;
          break;
        }
        end -= 1;
      }
      if (match === undefined) return [unkToken];
      pieces.push(match);
      start = end;
    }
    return pieces;
  }
}

/** HF `_run_split_on_punc`: every punctuation character becomes its own word. */
function splitOnPunctuation(word: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const char of word) {
    if (isPunctuation(char)) {
      if (current.length > 0) out.push(current);
      out.push(char);
      current = '';
    } else {
      current += char;
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CheckpointError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

/** HF `load_vocab`: one token per line, id = line index; only the line break is removed. */
function readVocabFile(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  // Tolerate Windows line endings, which HF's fast tokenizer also strips.
  const lines = text.length === 0 ? [] : text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (text.endsWith('\n')) lines.pop();
  if (lines.length === 0) throw new CheckpointError(`${path}: empty vocabulary`);
  return lines;
}

function sameTokens(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((token, id) => token === b[id]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A special token is written either as a string or as an AddedToken object `{content: …}`. */
function tokenContent(path: string, key: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.content === 'string') return value.content;
  throw new CheckpointError(`${path}: "${key}" must be a string or an object with a "content" string`);
}

function booleanField(path: string, key: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new CheckpointError(`${path}: "${key}" must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

const SPECIAL_TOKEN_KEYS = {
  unk_token: 'unkToken',
  sep_token: 'sepToken',
  pad_token: 'padToken',
  cls_token: 'clsToken',
  mask_token: 'maskToken',
} as const;

function applySpecialTokens(path: string, json: unknown, options: BertTokenizerOptions): void {
  if (!isRecord(json)) throw new CheckpointError(`${path}: expected a JSON object`);
  for (const [key, option] of Object.entries(SPECIAL_TOKEN_KEYS)) {
    if (json[key] !== undefined && json[key] !== null) options[option] = tokenContent(path, key, json[key]);
  }
  const additional = json.additional_special_tokens;
  if (additional !== undefined && additional !== null) {
    if (!Array.isArray(additional)) throw new CheckpointError(`${path}: "additional_special_tokens" must be a list`);
    options.additionalSpecialTokens = additional.map((value) => tokenContent(path, 'additional_special_tokens', value));
  }
}

function applyTokenizerConfig(path: string, json: unknown, options: BertTokenizerOptions): void {
  if (!isRecord(json)) throw new CheckpointError(`${path}: expected a JSON object`);
  if (json.do_lower_case !== undefined) options.doLowerCase = booleanField(path, 'do_lower_case', json.do_lower_case);
  if (json.strip_accents !== undefined) {
    options.stripAccents = json.strip_accents === null ? null : booleanField(path, 'strip_accents', json.strip_accents);
  }
  if (json.tokenize_chinese_chars !== undefined) {
    options.tokenizeChineseChars = booleanField(path, 'tokenize_chinese_chars', json.tokenize_chinese_chars);
  }
  if (json.do_basic_tokenize !== undefined) options.doBasicTokenize = booleanField(path, 'do_basic_tokenize', json.do_basic_tokenize);
  if (json.never_split !== undefined && json.never_split !== null) {
    if (!Array.isArray(json.never_split) || !json.never_split.every((token) => typeof token === 'string')) {
      throw new CheckpointError(`${path}: "never_split" must be a list of strings`);
    }
    options.neverSplit = json.never_split as string[];
  }
  if (json.model_max_length !== undefined && json.model_max_length !== null) {
    if (typeof json.model_max_length !== 'number' || !(json.model_max_length > 0)) {
      throw new CheckpointError(`${path}: "model_max_length" must be a positive number`);
    }
    options.modelMaxLength = json.model_max_length;
  }
  applySpecialTokens(path, json, options);
}

/**
 * Reads the BertNormalizer / BertPreTokenizer / WordPiece settings of a `tokenizer.json` into
 * `options` and returns its vocabulary. Anything this tokenizer would not reproduce is refused.
 */
function applyTokenizerJson(path: string, json: unknown, options: BertTokenizerOptions): string[] {
  if (!isRecord(json)) throw new CheckpointError(`${path}: expected a JSON object`);
  const normalizer = json.normalizer;
  if (normalizer === null || normalizer === undefined) {
    Object.assign(options, { cleanText: false, tokenizeChineseChars: false, doLowerCase: false, stripAccents: false });
  } else if (isRecord(normalizer) && normalizer.type === 'BertNormalizer') {
    if (normalizer.clean_text !== undefined) options.cleanText = booleanField(path, 'normalizer.clean_text', normalizer.clean_text);
    if (normalizer.handle_chinese_chars !== undefined) {
      options.tokenizeChineseChars = booleanField(path, 'normalizer.handle_chinese_chars', normalizer.handle_chinese_chars);
    }
    if (normalizer.lowercase !== undefined) options.doLowerCase = booleanField(path, 'normalizer.lowercase', normalizer.lowercase);
    if (normalizer.strip_accents !== undefined) {
      options.stripAccents = normalizer.strip_accents === null ? null : booleanField(path, 'normalizer.strip_accents', normalizer.strip_accents);
    }
  } else {
    throw new CheckpointError(`${path}: unsupported normalizer ${JSON.stringify(isRecord(normalizer) ? normalizer.type : normalizer)} (expected BertNormalizer)`);
  }
  const preTokenizer = json.pre_tokenizer;
  if (!isRecord(preTokenizer) || preTokenizer.type !== 'BertPreTokenizer') {
    throw new CheckpointError(`${path}: unsupported pre_tokenizer (expected BertPreTokenizer)`);
  }
  const model = json.model;
  if (!isRecord(model) || model.type !== 'WordPiece' || !isRecord(model.vocab)) {
    throw new CheckpointError(`${path}: unsupported model (expected WordPiece with a vocab)`);
  }
  if (typeof model.unk_token === 'string') options.unkToken = model.unk_token;
  if (typeof model.continuing_subword_prefix === 'string') options.continuingSubwordPrefix = model.continuing_subword_prefix;
  if (typeof model.max_input_chars_per_word === 'number') options.maxInputCharsPerWord = model.max_input_chars_per_word;
  const entries = Object.entries(model.vocab);
  const vocab = new Array<string | undefined>(entries.length);
  for (const [token, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= entries.length || vocab[id] !== undefined) {
      throw new CheckpointError(`${path}: model.vocab ids must be 0..${entries.length - 1}, each used once (token ${JSON.stringify(token)} has ${JSON.stringify(id)})`);
    }
    vocab[id] = token;
  }
  return vocab as string[];
}

/**
 * Validates added-token entries (`tokenizer.json` `added_tokens`, `tokenizer_config.json`
 * `added_tokens_decoder`) and returns the special ones. Tokens outside the WordPiece
 * vocabulary, or non-special ones (HF matches those after normalisation), would make a
 * different tokenizer from the one implemented here, so they are refused rather than ignored.
 */
function checkAddedTokens(path: string, entries: readonly unknown[], vocab: readonly string[]): string[] {
  return entries.map((entry) => {
    if (!isRecord(entry) || typeof entry.content !== 'string' || typeof entry.id !== 'number') {
      throw new CheckpointError(`${path}: malformed added token entry ${JSON.stringify(entry)}`);
    }
    if (vocab[entry.id] !== entry.content || entry.special !== true) {
      throw new CheckpointError(`${path}: unsupported added token ${JSON.stringify(entry.content)} (only special tokens already in the vocabulary are supported)`);
    }
    return entry.content;
  });
}
