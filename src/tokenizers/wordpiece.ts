/**
 * BERT WordPiece tokenizer, a re-implementation of Hugging Face's `BertTokenizer`
 * (transformers `tokenization_bert.py`: BasicTokenizer + WordpieceTokenizer, driven by
 * `PreTrainedTokenizer.tokenize`), which also reports, for every token, its word and the
 * characters of the input it came from (what HF's fast `BertTokenizerFast` reports as
 * `word_ids()` and `offset_mapping`).
 *
 * Why not `@huggingface/tokenizers` (installed, and used for every other tokenizer.json)? Its
 * BERT pieces differ from HF on inputs we must handle: its CJK split walks UTF-16 code units, so
 * ideographs outside the BMP (U+20000…, Extension B–F, which HF's `_is_chinese_char` covers) are
 * never split; its control-character test omits unassigned code points (HF drops every `C*`
 * category); it lower-cases whole strings, so a word-final Σ becomes ς (HF lower-cases character
 * by character → σ); and it can only be built from a `tokenizer.json`, while most BERT
 * checkpoints ship `vocab.txt`. HF's Rust tokenizer (`BertTokenizerFast`) agrees with the slow
 * Python one on all three. With `clean_text` off (only a tokenizer.json can turn it off) the
 * whitespace sets differ too: the library splits on JavaScript's `\s` (U+FEFF but not U+0085 or
 * U+001C–U+001F), HF's slow tokenizer and this one on Python's `str.isspace` (U+001C–U+001F and
 * U+0085, not U+FEFF), HF's Rust one on Unicode White_Space (U+0085 only). The algorithm is
 * short, so we own it and test it (test/tokenizers/wordpiece-json.test.ts pins each divergence).
 *
 * Offsets are those of HF's fast tokenizer: a piece covers the characters it was normalised
 * from (`Café` → `cafe` covers `Café`); a combining mark that accent stripping drops belongs to
 * no piece; `[UNK]` covers its whole word. They count UTF-16 code units, not code points.
 *
 * The Unicode tables (categories, case mapping, NFD) are the JavaScript engine's; they can
 * differ from Python's `unicodedata` for code points assigned in newer Unicode versions.
 */
import { ConfigError } from '../core/errors.js';
import type { DecodeOptions, Encoding, EncodeOptions, SpecialToken, SpecialTokens, Tokenizer } from './types.js';
import { wordPieceFiles } from './wordpieceFiles.js';
import { DEFAULT_SETTINGS } from './wordpieceSettings.js';
import type { WordPieceOptions, WordPieceSettings } from './wordpieceSettings.js';

export type { WordPieceOptions, WordPieceSettings } from './wordpieceSettings.js';

const CONTROL = /^\p{C}$/u;
const SPACE_SEPARATOR = /^\p{Zs}$/u;
const UNICODE_PUNCTUATION = /^\p{P}$/u;
const NONSPACING_MARK = /^\p{Mn}$/u;
const MARK = /^\p{M}$/u;
/** Exactly the characters Python's `str.split()` splits on (`str.isspace`). */
const PYTHON_WHITESPACE = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;

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
  return cp >= 0x80 && UNICODE_PUNCTUATION.test(char);
}

function isWhitespace(char: string): boolean {
  if (char === ' ' || char === '\t' || char === '\n' || char === '\r') return true;
  return char.charCodeAt(0) >= 0x80 && SPACE_SEPARATOR.test(char);
}

function isControl(char: string): boolean {
  if (char === '\t' || char === '\n' || char === '\r') return false;
  const unit = char.charCodeAt(0);
  if (unit < 0x80) return unit < 0x20 || unit === 0x7f;
  return CONTROL.test(char);
}

function isPythonWhitespace(char: string): boolean {
  const unit = char.charCodeAt(0);
  if (unit < 0x80) return unit === 0x20 || (unit >= 0x09 && unit <= 0x0d) || (unit >= 0x1c && unit <= 0x1f);
  return PYTHON_WHITESPACE.test(char);
}

/** Whether every character is ASCII and not upper-case: lower-casing and accent stripping leave it as it is. */
function isPlainLowerAscii(chars: readonly AlignedChar[]): boolean {
  for (const { char } of chars) {
    const unit = char.charCodeAt(0);
    if (char.length !== 1 || unit >= 0x80 || (unit >= 0x41 && unit <= 0x5a)) return false;
  }
  return true;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * One code point of the text being tokenized and the span `[start, end)` of the input it came
 * from. Normalisation replaces a character by the characters it becomes, each keeping the span
 * of its source, which is how the offsets survive lower-casing, accent stripping and cleaning.
 */
interface AlignedChar {
  char: string;
  start: number;
  end: number;
}

/** A word piece with its id, its span in the input and the index of the word it belongs to. */
interface AlignedPiece {
  token: string;
  id: number;
  start: number;
  end: number;
  word: number;
}

function spanOf(chars: readonly AlignedChar[]): [number, number] {
  let start = Infinity;
  let end = -Infinity;
  for (const char of chars) {
    start = Math.min(start, char.start);
    end = Math.max(end, char.end);
  }
  return [start, end];
}

function textOf(chars: readonly AlignedChar[]): string {
  let text = '';
  for (const char of chars) text += char.char;
  return text;
}

/** Each code point of `text` (at `offset` in the input), lower-cased one code point at a time when asked. */
function alignedChars(text: string, offset: number, lowerCase: boolean): AlignedChar[] {
  const out: AlignedChar[] = [];
  let position = offset;
  for (const char of text) {
    const start = position;
    position += char.length;
    const unit = char.charCodeAt(0);
    if (unit < 0x80) out.push({ char: lowerCase && unit >= 0x41 && unit <= 0x5a ? String.fromCharCode(unit + 32) : char, start, end: position });
    else pushMapped(out, lowerCase ? char.toLowerCase() : char, start, position);
  }
  return out;
}

/** Appends each code point of `mapped` with the span of the character it came from. */
function pushMapped(out: AlignedChar[], mapped: string, start: number, end: number): void {
  for (const char of mapped) out.push({ char, start, end });
}

/**
 * Lower-case one code point at a time, as HF does (`re.sub(..., lambda m: m.group().lower())`
 * over single characters): no context-dependent mappings such as word-final sigma.
 */
function lowerCase(chars: readonly AlignedChar[]): AlignedChar[] {
  const out: AlignedChar[] = [];
  for (const char of chars) pushMapped(out, char.char.toLowerCase(), char.start, char.end);
  return out;
}

/**
 * HF `_run_strip_accents`: NFD, then drop Mn. The text is exactly NFD of the whole word; the
 * spans come from decomposing one character at a time, or one base character with its marks
 * when NFD reorders marks, or else the whole word.
 */
function stripAccents(chars: readonly AlignedChar[]): AlignedChar[] {
  const expected = textOf(chars).normalize('NFD').replace(/\p{Mn}/gu, '');
  const decompose = (groups: AlignedChar[][]): AlignedChar[] => {
    const out: AlignedChar[] = [];
    for (const group of groups) {
      const [start, end] = spanOf(group);
      for (const char of textOf(group).normalize('NFD')) if (!NONSPACING_MARK.test(char)) out.push({ char, start, end });
    }
    return out;
  };
  const perChar = decompose(chars.map((char) => [char]));
  if (textOf(perChar) === expected) return perChar;
  const clusters: AlignedChar[][] = [];
  for (const char of chars) {
    if (clusters.length > 0 && MARK.test(char.char)) clusters[clusters.length - 1]!.push(char);
    else clusters.push([char]);
  }
  const perCluster = decompose(clusters);
  if (textOf(perCluster) === expected) return perCluster;
  const [start, end] = spanOf(chars);
  return Array.from(expected, (char) => ({ char, start, end }));
}

/** Python `str.split()` over aligned characters. */
function splitOnWhitespace(chars: readonly AlignedChar[]): AlignedChar[][] {
  const words: AlignedChar[][] = [];
  let current: AlignedChar[] = [];
  for (const char of chars) {
    if (isPythonWhitespace(char.char)) {
      if (current.length > 0) words.push(current);
      current = [];
    } else {
      current.push(char);
    }
  }
  if (current.length > 0) words.push(current);
  return words;
}

/** HF `_run_split_on_punc`: every punctuation character becomes its own word. */
function splitOnPunctuation(word: readonly AlignedChar[]): AlignedChar[][] {
  const out: AlignedChar[][] = [];
  let current: AlignedChar[] = [];
  for (const char of word) {
    if (isPunctuation(char.char)) {
      if (current.length > 0) out.push(current);
      out.push([char]);
      current = [];
    } else {
      current.push(char);
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** HF `clean_up_tokenization`, applied by `decode` when `cleanUpTokenizationSpaces` is on. */
export function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

export class WordPieceTokenizer implements Tokenizer {
  readonly kind = 'wordpiece' as const;
  readonly settings: WordPieceSettings;
  readonly special: SpecialTokens;
  /** Id → token; undefined marks an id without a token (a gap in a tokenizer.json vocabulary). */
  private readonly vocab: readonly (string | undefined)[];
  private readonly ids: Map<string, number>;
  private readonly neverSplit: ReadonlySet<string>;
  /** Ids of every special token (HF `all_special_ids`), which `decode` can skip. */
  private readonly specialIds: ReadonlySet<number>;
  /** Matches any special token, longest first, so `[CLS]x` yields `[CLS]` then `x`. */
  private readonly specialTokenPattern: RegExp | undefined;

  private constructor(vocab: readonly (string | undefined)[], options: WordPieceOptions) {
    const settings: WordPieceSettings = { ...DEFAULT_SETTINGS };
    for (const [key, value] of Object.entries(options)) {
      if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
    }
    if (!Number.isInteger(settings.maxInputCharsPerWord) || settings.maxInputCharsPerWord < 1) {
      throw new ConfigError(`maxInputCharsPerWord must be a positive integer, got ${settings.maxInputCharsPerWord}`);
    }
    if (settings.modelMaxLength !== undefined && !(Number.isInteger(settings.modelMaxLength) && settings.modelMaxLength > 0)) {
      throw new ConfigError(`modelMaxLength must be a positive integer, got ${settings.modelMaxLength}`);
    }
    this.settings = settings;
    this.vocab = vocab;
    // Like HF's `load_vocab`, a token listed twice maps to its last line.
    this.ids = new Map();
    vocab.forEach((token, id) => {
      if (token !== undefined) this.ids.set(token, id);
    });
    const required = (name: string, token: string): SpecialToken => {
      const id = this.ids.get(token);
      if (id === undefined) throw new ConfigError(`the ${name} token "${token}" is not in the vocabulary`);
      return { token, id };
    };
    const maskId = this.ids.get(settings.maskToken);
    this.special = {
      cls: required('classifier', settings.clsToken),
      sep: required('separator', settings.sepToken),
      pad: required('padding', settings.padToken),
      mask: maskId === undefined ? undefined : { token: settings.maskToken, id: maskId },
      unk: required('unknown', settings.unkToken),
    };
    this.neverSplit = new Set(settings.neverSplit);
    const specials = [
      ...new Set([settings.unkToken, settings.sepToken, settings.padToken, settings.clsToken, settings.maskToken, ...settings.additionalSpecialTokens]),
    ].filter((token) => token.length > 0);
    this.specialIds = new Set(specials.map((token) => this.ids.get(token)).filter((id): id is number => id !== undefined));
    specials.sort((a, b) => b.length - a.length);
    this.specialTokenPattern = specials.length > 0 ? new RegExp(`(${specials.map(escapeRegExp).join('|')})`, 'u') : undefined;
  }

  /**
   * A tokenizer over `tokens` (id = index), with HF `BertTokenizer` defaults for unset options.
   * Throws ConfigError when a required special token (`[CLS]`, `[SEP]`, `[PAD]`, `[UNK]` or
   * their replacements) is not in the vocabulary.
   */
  static fromVocab(tokens: readonly (string | undefined)[], options: WordPieceOptions = {}): WordPieceTokenizer {
    return new WordPieceTokenizer([...tokens], options);
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  get modelMaxLength(): number | undefined {
    return this.settings.modelMaxLength;
  }

  /** Word pieces of `text`, without `[CLS]`/`[SEP]` (HF `tokenizer.tokenize`). */
  tokenize(text: string): string[] {
    return this.tokenizeAligned(text).map((piece) => piece.token);
  }

  /**
   * `[CLS] pieces [SEP]`; word pieces are cut from the end so that the whole sequence (both
   * specials included) has at most `maxLength` tokens.
   */
  encode(text: string, options: EncodeOptions): Encoding {
    return this.assemble(this.tokenizeAligned(text), options);
  }

  /**
   * `[CLS] pieces of words[0] … pieces of words[n-1] [SEP]`, each word tokenized on its own (HF
   * `is_split_into_words=True`); a word that yields no pieces (empty, or only control
   * characters) has no token.
   */
  encodeWords(words: readonly string[], options: EncodeOptions): Encoding {
    const pieces: AlignedPiece[] = [];
    words.forEach((word, index) => {
      for (const piece of this.tokenizeAligned(word)) {
        piece.word = index;
        pieces.push(piece);
      }
    });
    return this.assemble(pieces, options);
  }

  /** Vocabulary ids; tokens not in the vocabulary map to the unknown token's id. */
  convertTokensToIds(tokens: readonly string[]): number[] {
    return tokens.map((token) => this.ids.get(token) ?? this.special.unk.id);
  }

  idToToken(id: number): string | undefined {
    return Number.isInteger(id) && id >= 0 ? this.vocab[id] : undefined;
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  /**
   * HF `BertTokenizer.decode`: tokens joined by spaces with the `##` joins removed, then (when
   * `cleanUpTokenizationSpaces`) ` .` → `.` and the like. Unknown ids decode as `[UNK]`.
   */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const tokens: string[] = [];
    for (const id of ids) {
      if (options.skipSpecialTokens === true && this.specialIds.has(id)) continue;
      tokens.push(this.idToToken(id) ?? this.settings.unkToken);
    }
    const text = tokens.join(' ').replaceAll(` ${this.settings.continuingSubwordPrefix}`, '').trim();
    return this.settings.cleanUpTokenizationSpaces ? cleanUpTokenization(text) : text;
  }

  /**
   * `vocab.txt`, `tokenizer_config.json`, `special_tokens_map.json` and a `tokenizer.json` in
   * HF `BertTokenizerFast`'s format, so that this module, HF `AutoTokenizer` (slow or fast) and
   * transformers.js all load this tokenizer back.
   */
  files(): Record<string, string> {
    return wordPieceFiles(this.settings, this.vocab);
  }

  private assemble(pieces: readonly AlignedPiece[], options: EncodeOptions): Encoding {
    const { maxLength } = options;
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new ConfigError(`maxLength must be an integer ≥ 2 (room for ${this.settings.clsToken} and ${this.settings.sepToken}), got ${maxLength}`);
    }
    const room = maxLength - 2;
    const truncatedTokens = Math.max(0, pieces.length - room);
    const kept = truncatedTokens > 0 ? pieces.slice(0, room) : pieces;
    const { cls, sep } = this.special;
    const tokens = [cls.token];
    const ids = [cls.id];
    const specialTokensMask = [1];
    const wordIds: (number | null)[] = [null];
    const offsets: [number, number][] = [[0, 0]];
    for (const piece of kept) {
      tokens.push(piece.token);
      ids.push(piece.id);
      specialTokensMask.push(0);
      wordIds.push(piece.word);
      offsets.push([piece.start, piece.end]);
    }
    tokens.push(sep.token);
    ids.push(sep.id);
    specialTokensMask.push(1);
    wordIds.push(null);
    offsets.push([0, 0]);
    return { ids, tokens, specialTokensMask, wordIds, offsets, truncated: truncatedTokens > 0, truncatedTokens };
  }

  /** Word pieces of `text` with their words and spans (HF `tokenize`, with `word_ids` and offsets). */
  private tokenizeAligned(text: string): AlignedPiece[] {
    const pieces: AlignedPiece[] = [];
    let word = 0;
    let position = 0;
    // Special tokens are cut out of the raw text first and never normalised (HF's added-token
    // trie). `split` with a capturing group puts them at odd indices, and the chunks concatenate
    // back to `text`, so `position` tracks where each chunk starts.
    const chunks = this.specialTokenPattern === undefined ? [text] : text.split(this.specialTokenPattern);
    chunks.forEach((chunk, index) => {
      const start = position;
      position += chunk.length;
      if (index % 2 === 1) {
        pieces.push({ token: chunk, id: this.ids.get(chunk) ?? this.special.unk.id, start, end: position, word: word++ });
        return;
      }
      if (chunk.length === 0) return;
      for (const plainWord of this.plainTextWords(chunk, start)) {
        // HF emits never-split words as they are, in the vocabulary or not.
        const text = this.neverSplit.size > 0 && this.settings.doBasicTokenize ? textOf(plainWord) : undefined;
        if (text !== undefined && this.neverSplit.has(text)) {
          const [wordStart, wordEnd] = spanOf(plainWord);
          pieces.push({ token: text, id: this.ids.get(text) ?? this.special.unk.id, start: wordStart, end: wordEnd, word });
        } else {
          this.wordPiece(plainWord, word, pieces);
        }
        word++;
      }
    });
    return pieces;
  }

  /** Text without special tokens → the words WordPiece runs on (HF `BertTokenizer._tokenize`). */
  private plainTextWords(text: string, offset: number): AlignedChar[][] {
    // HF lower-cases everything but special tokens before tokenizing, so a never-split word
    // written in upper case is only protected when lower-casing is off.
    const chars = alignedChars(text, offset, this.settings.doLowerCase);
    if (!this.settings.doBasicTokenize) return splitOnWhitespace(chars);
    return this.basicTokenize(chars);
  }

  /** HF `BasicTokenizer.tokenize`: clean, isolate CJK, split on whitespace, normalise, split punctuation. */
  private basicTokenize(chars: readonly AlignedChar[]): AlignedChar[][] {
    const s = this.settings;
    const prepared: AlignedChar[] = [];
    const space = (near: AlignedChar): AlignedChar => ({ char: ' ', start: near.start, end: near.end });
    for (const char of chars) {
      if (s.cleanText) {
        if (char.char === '\0' || char.char === '\ufffd' || isControl(char.char)) continue;
        if (isWhitespace(char.char)) {
          prepared.push(space(char));
          continue;
        }
      }
      if (s.tokenizeChineseChars && isChineseChar(char.char.codePointAt(0)!)) prepared.push(space(char), char, space(char));
      else prepared.push(char);
    }
    const words: AlignedChar[][] = [];
    for (let word of splitOnWhitespace(prepared)) {
      if (this.neverSplit.size > 0 && this.neverSplit.has(textOf(word))) {
        words.push(word);
        continue;
      }
      if (isPlainLowerAscii(word)) {
        // Lower-casing and accent stripping would change nothing.
      } else if (s.doLowerCase) {
        word = lowerCase(word);
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

  /** Greedy longest-match-first WordPiece; a word with any unmatched remainder is one unknown token. Appends to `out`. */
  private wordPiece(word: readonly AlignedChar[], wordIndex: number, out: AlignedPiece[]): void {
    const { continuingSubwordPrefix, maxInputCharsPerWord } = this.settings;
    const unknown = () => {
      const [start, end] = spanOf(word);
      out.push({ token: this.special.unk.token, id: this.special.unk.id, start, end, word: wordIndex });
    };
    if (word.length > maxInputCharsPerWord) return unknown();
    // Code point k of the word is text.slice(bounds[k], bounds[k + 1]).
    const text = textOf(word);
    const bounds = new Array<number>(word.length + 1);
    bounds[0] = 0;
    for (let k = 0; k < word.length; k++) bounds[k + 1] = bounds[k]! + word[k]!.char.length;
    const firstPiece = out.length;
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let id: number | undefined;
      let match = '';
      while (start < end) {
        match = (start > 0 ? continuingSubwordPrefix : '') + text.slice(bounds[start], bounds[end]);
        id = this.ids.get(match);
        if (id !== undefined) break;
        end -= 1;
      }
      if (id === undefined) {
        out.length = firstPiece;
        return unknown();
      }
      let pieceStart = Infinity;
      let pieceEnd = -Infinity;
      for (let k = start; k < end; k++) {
        pieceStart = Math.min(pieceStart, word[k]!.start);
        pieceEnd = Math.max(pieceEnd, word[k]!.end);
      }
      out.push({ token: match, id, start: pieceStart, end: pieceEnd, word: wordIndex });
      start = end;
    }
  }
}
