/**
 * A `tokenizer.json` tokenizer (RoBERTa's byte-level BPE, and any other pipeline
 * `@huggingface/tokenizers` runs) with word ids and offsets.
 *
 * The library (HF's own JavaScript implementation, also inside transformers.js) gives ids and
 * tokens only. To get words and offsets we run its pipeline ourselves, step by step, with its
 * own components — the added-token split, the normalizer, the pre-tokenizer and the model —
 * exactly as its `Tokenizer.encode` chains them, and keep track of where each piece came from:
 * the normalizer through `alignNormalizer`, each pre-token by finding it in the normalised text
 * (byte-level pre-tokens by their bytes), each token by its position in its pre-token. The ids
 * are therefore the library's by construction (the tests compare them with its `encode` on
 * random text); only the bookkeeping is ours.
 *
 * The template (`<s> … </s>`) comes from the file's post-processor when it adds special tokens,
 * else from the family. Offsets of byte-level tokens leave out the spaces the token starts or
 * ends with when the post-processor says `trim_offsets` (RoBERTa's does), as HF's Rust library
 * does.
 *
 * Where the offsets and word ids knowingly differ from HF's Rust library (`offset_mapping`,
 * `word_ids()` of a fast tokenizer):
 * * offsets count UTF-16 code units, Python's count code points (they differ after characters
 *   outside the BMP);
 * * characters a pre-tokenizer or normalizer inserts (the prefix space of ByteLevel
 *   `add_prefix_space`, Metaspace's leading `▁`, Prepend) cover nothing: a token made only of
 *   them has an empty span. Rust aligns them to the first character, so e.g. a lone `Ġ` before
 *   a word of `encodeWords` is `(0, 1)` there and `(0, 0)` here;
 * * an added token with `lstrip`/`rstrip` (RoBERTa's `<mask>`) covers its own text; Rust's span
 *   also covers the whitespace it strips;
 * * with `trim_offsets`, spaces are always trimmed; Rust keeps one leading space on a token
 *   that starts the text when `add_prefix_space` is on (it cannot tell it from the added one);
 * * the library fuses consecutive unknown tokens across pre-tokens (Rust only within one), and
 *   does not split Metaspace pre-tokens at `▁` (Rust does, with `split: true`): the ids are the
 *   library's, a fused token counts in its first word, and a new word starts at each `▁` as in
 *   Rust.
 */
import * as tokenizersLibrary from '@huggingface/tokenizers';
import { ConfigError } from '../core/errors.js';
import { AlignedText, alignMapped, alignNormalizer, alignRemoveSpace } from './alignment.js';
import type { LibraryNormalizer } from './alignment.js';
import { CHAR_TO_BYTE, utf8Length } from './byteLevel.js';
import { specialTokenConventions } from './families.js';
import { checkpointError, isRecord, jsonText } from './files.js';
import type { NamedSpecialTokens, SpecialTokenKey } from './files.js';
import type { DecodeOptions, Encoding, EncodeOptions, SpecialToken, SpecialTokens, Tokenizer } from './types.js';

/** One token of the template: a special token, or the place of the text's tokens. */
export type TemplatePart = { special: SpecialToken } | { sequence: true };

export interface JsonTokenizerSetup {
  /** The tokenizer.json to run, already adjusted for `tokenizer_config.json` (see `load.ts`). */
  tokenizerJson: Record<string, unknown>;
  /** `tokenizer_config.json` as the library reads it (`{}` when there is none). */
  tokenizerConfig: Record<string, unknown>;
  /** config.json's `model_type`: the fallback template and special-token names. */
  modelType: string;
  /** The file errors about the pipeline or its vocabulary name (`…/tokenizer.json`, `…/vocab.json`). */
  file: string;
  /** Special tokens named by `special_tokens_map.json` over `tokenizer_config.json`. */
  namedSpecialTokens: NamedSpecialTokens;
  /** The family's template trims byte-level offsets (RoBERTa) when the file has no post-processor that says. */
  familyTrimsOffsets: boolean;
  modelMaxLength: number | undefined;
  /** What `files()` returns (a `tokenizer_config.json` naming the special tokens is added when missing). */
  files: Record<string, string>;
  /** `tokenizer_class` of that added `tokenizer_config.json`. */
  tokenizerClass: string;
}

interface AddedToken {
  id: number;
  content: string;
  lstrip: boolean;
  rstrip: boolean;
  special: boolean;
  normalized: boolean;
}

/** What this module uses of the library's `Tokenizer` (public fields and methods). */
interface LibraryTokenizer {
  normalizer: LibraryNormalizer | null;
  pre_tokenizer: ((text: string, options: { section_index: number }) => string[]) | null;
  model: LibraryModel;
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[]; tokens: string[] };
  decode(ids: number[], options: { skip_special_tokens: boolean }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
}

const LibraryTokenizerClass = tokenizersLibrary.Tokenizer as unknown as new (json: object, config: object) => LibraryTokenizer;

/** What this module reads of the library's model (public fields of its TokenizerModel classes). */
interface LibraryModel {
  encode(words: string[]): string[];
  tokens_to_ids: Map<string, number>;
  unk_token_id?: number;
  unk_token?: string;
  fuse_unk: boolean;
  vocab: (string | undefined)[];
  config: Record<string, unknown>;
  end_of_word_suffix?: string;
  continuing_subword_suffix?: string | null;
  byte_fallback?: boolean;
}

/** A token of the text (before the template) with its word and its span in the input. */
interface Piece {
  token: string;
  word: number;
  start: number;
  end: number;
}

/** A pre-token aligned to the input: one unit per character of the pre-token (per byte for byte-level ones). */
interface AlignedWord {
  units: AlignedText;
  /** `spaces[k]`: unit `k` is a space (what `trim_offsets` leaves out). */
  spaces: boolean[];
}

/** Leftmost-longest matching of added tokens over UTF-16 units, as the library's `DictionarySplitter`. */
class AddedTokenSplitter {
  private readonly root = new Map<string, TrieNode>();

  constructor(contents: readonly string[]) {
    for (const content of contents) {
      let children = this.root;
      let node: TrieNode | undefined;
      for (let i = 0; i < content.length; i++) {
        node = children.get(content[i]!);
        if (node === undefined) {
          node = { children: new Map() };
          children.set(content[i]!, node);
        }
        children = node.children;
      }
      if (node !== undefined) node.end = content;
    }
  }

  /** `[start, end)` ranges covering `text`: the text between matches, and each match. */
  split(text: string): [number, number][] {
    const ranges: [number, number][] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      let children = this.root;
      let match: string | undefined;
      for (let j = i; j < text.length; j++) {
        const node = children.get(text[j]!);
        if (node === undefined) break;
        if (node.end !== undefined) match = node.end;
        children = node.children;
      }
      if (match !== undefined) {
        if (i > start) ranges.push([start, i]);
        ranges.push([i, i + match.length]);
        i += match.length;
        start = i;
      } else {
        i++;
      }
    }
    if (start < text.length) ranges.push([start, text.length]);
    return ranges;
  }
}

interface TrieNode {
  children: Map<string, TrieNode>;
  end?: string;
}

/** Configs of every component of `type` in a (possibly nested Sequence) pre-tokenizer config. */
function preTokenizersOfType(config: unknown, type: string): Record<string, unknown>[] {
  if (!isRecord(config)) return [];
  if (config.type === 'Sequence' && Array.isArray(config.pretokenizers)) return config.pretokenizers.flatMap((child) => preTokenizersOfType(child, type));
  return config.type === type ? [config] : [];
}

/** What a post-processor adds: the template (if it adds special tokens) and whether it trims byte-level offsets (undefined: it does not say). */
interface PostProcessing {
  template: TemplatePart[] | undefined;
  trimOffsets: boolean | undefined;
}

/**
 * Reads `post_processor`: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, or
 * a Sequence of them. Special-token ids must agree with the vocabulary (the library looks ids
 * up by token, HF's Rust library uses the file's ids; a file where they differ is refused).
 */
function readPostProcessor(file: string, config: unknown, tokenToId: (token: string) => number | undefined): PostProcessing {
  const result: PostProcessing = { template: undefined, trimOffsets: undefined };
  const special = (token: unknown, id: unknown, where: string): { special: SpecialToken } => {
    if (typeof token !== 'string' || typeof id !== 'number') throw checkpointError(file, `malformed special token ${JSON.stringify([token, id])}`, where);
    const vocabId = tokenToId(token);
    if (vocabId !== id) throw checkpointError(file, `special token ${JSON.stringify(token)} has id ${id}, but the vocabulary gives ${JSON.stringify(vocabId ?? null)}`, where);
    return { special: { token, id } };
  };
  const setTemplate = (template: TemplatePart[]) => {
    if (result.template !== undefined) throw checkpointError(file, 'more than one post-processor adds special tokens', 'post_processor');
    result.template = template;
  };
  const visit = (node: unknown): void => {
    if (node === null || node === undefined) return;
    if (!isRecord(node)) throw checkpointError(file, 'must be an object or null', 'post_processor');
    switch (node.type) {
      case 'Sequence':
        if (!Array.isArray(node.processors)) throw checkpointError(file, 'must be a list', 'post_processor.processors');
        node.processors.forEach(visit);
        return;
      case 'ByteLevel':
        result.trimOffsets = result.trimOffsets === true || node.trim_offsets !== false;
        return;
      case 'RobertaProcessing':
      case 'BertProcessing': {
        const { cls, sep } = node;
        if (!Array.isArray(cls) || !Array.isArray(sep)) throw checkpointError(file, 'needs "cls" and "sep" as [token, id]', 'post_processor');
        setTemplate([special(cls[0], cls[1], 'post_processor.cls'), { sequence: true }, special(sep[0], sep[1], 'post_processor.sep')]);
        if (node.type === 'RobertaProcessing') result.trimOffsets = result.trimOffsets === true || node.trim_offsets !== false;
        return;
      }
      case 'TemplateProcessing': {
        if (!Array.isArray(node.single)) throw checkpointError(file, 'must be a list', 'post_processor.single');
        const specials = isRecord(node.special_tokens) ? node.special_tokens : {};
        const template: TemplatePart[] = [];
        for (const item of node.single) {
          if (isRecord(item) && isRecord(item.Sequence)) {
            if (item.Sequence.id === 'A') template.push({ sequence: true });
            continue;
          }
          if (!isRecord(item) || !isRecord(item.SpecialToken) || typeof item.SpecialToken.id !== 'string') {
            throw checkpointError(file, `malformed template item ${JSON.stringify(item)}`, 'post_processor.single');
          }
          const name = item.SpecialToken.id;
          const entry = Object.hasOwn(specials, name) ? specials[name] : undefined;
          if (!isRecord(entry) || !Array.isArray(entry.tokens) || !Array.isArray(entry.ids) || entry.tokens.length !== entry.ids.length) {
            throw checkpointError(file, `special token ${JSON.stringify(name)} of the template is missing from "special_tokens"`, 'post_processor.special_tokens');
          }
          const ids = entry.ids as unknown[];
          entry.tokens.forEach((token, index) => template.push(special(token, ids[index], `post_processor.special_tokens.${name}`)));
        }
        if (!template.some((part) => 'sequence' in part)) throw checkpointError(file, 'the single-sequence template has no $A', 'post_processor.single');
        if (template.some((part) => 'special' in part)) setTemplate(template);
        return;
      }
      default:
        throw checkpointError(file, `unsupported post-processor ${JSON.stringify(node.type)}`, 'post_processor');
    }
  };
  visit(config);
  return result;
}

/** UTF-8 bytes of one code point; a lone surrogate becomes U+FFFD, as `TextEncoder` makes it. */
function utf8Bytes(codePoint: number): number[] {
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) codePoint = 0xfffd;
  if (codePoint < 0x80) return [codePoint];
  if (codePoint < 0x800) return [0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f)];
  if (codePoint < 0x10000) return [0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
  return [0xf0 | (codePoint >> 18), 0x80 | ((codePoint >> 12) & 0x3f), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
}

const BYTE_FALLBACK = /^<0x([0-9A-F]{2})>$/;

export class JsonTokenizer implements Tokenizer {
  readonly kind = 'tokenizer.json' as const;
  readonly special: SpecialTokens;
  readonly modelMaxLength: number | undefined;
  private readonly library: LibraryTokenizer;
  private readonly model: LibraryModel;
  private readonly setup: JsonTokenizerSetup;
  private readonly template: TemplatePart[];
  private readonly trimOffsets: boolean;
  private readonly added = new Map<string, AddedToken>();
  private readonly unnormalizedSplitter: AddedTokenSplitter;
  private readonly normalizedSplitter: AddedTokenSplitter;
  private readonly byteLevel: boolean;
  /** Whether every ByteLevel pre-tokenizer adds a prefix space; `encodeWords` needs one (HF requires `add_prefix_space=True` for words). */
  private readonly byteLevelAddsPrefixSpace: boolean;
  private readonly metaspace: { replacement: string; split: boolean } | undefined;
  /** The library tokenizer whose pre-tokenizer `encodeWords` uses (ByteLevel with `add_prefix_space`), made on first use. */
  private wordsLibrary: LibraryTokenizer | undefined;

  /** Builds the tokenizer; a file the library cannot run, or without the special tokens a task needs, is a CheckpointError. */
  constructor(setup: JsonTokenizerSetup) {
    this.setup = setup;
    const { file, tokenizerJson } = setup;
    this.library = buildLibraryTokenizer(file, tokenizerJson, setup.tokenizerConfig);
    this.model = this.library.model;
    const tokenToId = (token: string) => this.library.token_to_id(token);

    // As the library: normalized added tokens are matched in the normalised text, under their
    // normalised spelling too (a later entry wins a clash, as in its map); the others in the raw text.
    const unnormalized: string[] = [];
    const normalized: string[] = [];
    for (const entry of tokenizerJson.added_tokens as Record<string, unknown>[]) {
      const token: AddedToken = {
        id: entry.id as number,
        content: entry.content as string,
        lstrip: entry.lstrip === true,
        rstrip: entry.rstrip === true,
        special: entry.special === true,
        normalized: typeof entry.normalized === 'boolean' ? entry.normalized : entry.special !== true,
      };
      this.added.set(token.content, token);
      if (token.normalized && this.library.normalizer !== null) {
        const spelling = this.library.normalizer.normalize(token.content);
        normalized.push(spelling);
        this.added.set(spelling, token);
      } else {
        unnormalized.push(token.content);
      }
    }
    this.unnormalizedSplitter = new AddedTokenSplitter(unnormalized);
    this.normalizedSplitter = new AddedTokenSplitter(normalized);

    const byteLevels = preTokenizersOfType(tokenizerJson.pre_tokenizer, 'ByteLevel');
    this.byteLevel = byteLevels.length > 0;
    this.byteLevelAddsPrefixSpace = byteLevels.every((config) => config.add_prefix_space === true);
    const metaspace = preTokenizersOfType(tokenizerJson.pre_tokenizer, 'Metaspace')[0];
    this.metaspace =
      metaspace === undefined
        ? undefined
        : { replacement: typeof metaspace.replacement === 'string' ? metaspace.replacement : '\u2581', split: metaspace.split !== false };

    const postProcessing = readPostProcessor(file, tokenizerJson.post_processor, tokenToId);
    const templateSpecials = postProcessing.template?.filter((part): part is { special: SpecialToken } => 'special' in part);
    this.special = resolveSpecialTokens(
      file,
      setup.namedSpecialTokens,
      templateSpecials !== undefined && templateSpecials.length > 0 ? { cls: templateSpecials[0]!.special.token, sep: templateSpecials[templateSpecials.length - 1]!.special.token } : {},
      setup.modelType,
      tokenToId,
    );
    this.template = postProcessing.template ?? [{ special: this.special.cls }, { sequence: true }, { special: this.special.sep }];
    // HF's Rust library trims only where a ByteLevel or RobertaProcessing post-processor says so;
    // without any post-processor the family's template stands in, with the family's setting.
    this.trimOffsets = postProcessing.trimOffsets ?? (postProcessing.template === undefined && tokenizerJson.post_processor === null ? setup.familyTrimsOffsets : false);
    this.modelMaxLength = setup.modelMaxLength;
  }

  get vocabSize(): number {
    return this.model.vocab.length;
  }

  encode(text: string, options: EncodeOptions): Encoding {
    return this.assemble(this.tokenizeText(text, this.library), options);
  }

  /**
   * Each word tokenized on its own (HF `is_split_into_words=True`). Byte-level pre-tokenizers
   * get a prefix space on every word, as HF requires (`add_prefix_space=True`) for words, so a
   * word is tokenized as it would be in the middle of a sentence (`Ġword`).
   */
  encodeWords(words: readonly string[], options: EncodeOptions): Encoding {
    const library = this.byteLevel && !this.byteLevelAddsPrefixSpace ? this.libraryForWords() : this.library;
    const pieces: Piece[] = [];
    words.forEach((word, index) => {
      for (const piece of this.tokenizeText(word, library)) pieces.push({ ...piece, word: index });
    });
    return this.assemble(pieces, options);
  }

  idToToken(id: number): string | undefined {
    return Number.isInteger(id) && id >= 0 ? this.library.id_to_token(id) : undefined;
  }

  tokenToId(token: string): number | undefined {
    return this.library.token_to_id(token);
  }

  /** The library's `decode` (its decoder, e.g. byte-level, and its `clean_up_tokenization_spaces`). */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    if (ids.length === 0) return '';
    return this.library.decode([...ids], { skip_special_tokens: options.skipSpecialTokens === true });
  }

  /**
   * The checkpoint's files (the tokenizer.json as run, i.e. with the `tokenizer_config.json`
   * keys HF re-applies written in), plus a `tokenizer_config.json` when there was none, which
   * transformers.js needs to load a tokenizer.
   */
  files(): Record<string, string> {
    const files = { ...this.setup.files };
    if (files['tokenizer_config.json'] === undefined) {
      const { cls, sep, pad, mask, unk } = this.special;
      const config: Record<string, unknown> = { tokenizer_class: this.setup.tokenizerClass, cls_token: cls.token, sep_token: sep.token, pad_token: pad.token, unk_token: unk.token };
      if (mask !== undefined) config.mask_token = mask.token;
      if (this.modelMaxLength !== undefined) config.model_max_length = this.modelMaxLength;
      files['tokenizer_config.json'] = jsonText(config);
    }
    return files;
  }

  private libraryForWords(): LibraryTokenizer {
    if (this.wordsLibrary === undefined) {
      const json = structuredClone(this.setup.tokenizerJson);
      for (const config of preTokenizersOfType(json.pre_tokenizer, 'ByteLevel')) config.add_prefix_space = true;
      this.wordsLibrary = buildLibraryTokenizer(this.setup.file, json, this.setup.tokenizerConfig);
    }
    return this.wordsLibrary;
  }

  private idOf(token: string): number {
    const id = this.added.get(token)?.id ?? this.model.tokens_to_ids.get(token) ?? this.model.unk_token_id;
    if (id === undefined) throw checkpointError(this.setup.file, `token ${JSON.stringify(token)} is not in the vocabulary and there is no unknown token`);
    return id;
  }

  private assemble(pieces: readonly Piece[], options: EncodeOptions): Encoding {
    const { maxLength } = options;
    const specialCount = this.template.filter((part) => 'special' in part).length;
    if (!Number.isInteger(maxLength) || maxLength < specialCount) {
      throw new ConfigError(`maxLength must be an integer ≥ ${specialCount} (room for the template's special tokens), got ${maxLength}`);
    }
    const room = maxLength - specialCount;
    const truncatedTokens = Math.max(0, pieces.length - room);
    const kept = truncatedTokens > 0 ? pieces.slice(0, room) : pieces;
    const encoding: Encoding = { ids: [], tokens: [], specialTokensMask: [], wordIds: [], offsets: [], truncated: truncatedTokens > 0, truncatedTokens };
    for (const part of this.template) {
      if ('special' in part) {
        encoding.ids.push(part.special.id);
        encoding.tokens.push(part.special.token);
        encoding.specialTokensMask.push(1);
        encoding.wordIds.push(null);
        encoding.offsets.push([0, 0]);
        continue;
      }
      for (const piece of kept) {
        encoding.ids.push(this.idOf(piece.token));
        encoding.tokens.push(piece.token);
        encoding.specialTokensMask.push(0);
        encoding.wordIds.push(piece.word);
        encoding.offsets.push([piece.start, piece.end]);
      }
    }
    return encoding;
  }

  /**
   * The library's `encode_text`, step by step, keeping words and spans: split off added tokens
   * (honouring lstrip/rstrip), normalise each remaining section, split off normalised added
   * tokens, pre-tokenize, run the model on each pre-token.
   */
  private tokenizeText(text: string, library: LibraryTokenizer): Piece[] {
    const pieces: Piece[] = [];
    let word = 0;
    const config = this.setup.tokenizerConfig;
    const sections = this.stripAround(text, this.unnormalizedSplitter.split(text));
    sections.forEach(([start, end], sectionIndex) => {
      if (start >= end) return;
      const sectionText = text.slice(start, end);
      if (this.added.has(sectionText)) {
        pieces.push({ token: sectionText, word: word++, start, end });
        return;
      }
      let aligned = AlignedText.of(text, start, end);
      if (config.remove_space === true) aligned = alignRemoveSpace(aligned);
      if (config.do_lowercase_and_remove_accent === true) aligned = alignMapped((part) => part.toLowerCase().replace(/\p{M}/gu, ''), aligned);
      if (library.normalizer !== null) aligned = alignNormalizer(library.normalizer, aligned);
      if (aligned.text.length === 0) return;
      for (const [subStart, subEnd] of this.stripAround(aligned.text, this.normalizedSplitter.split(aligned.text))) {
        if (subStart >= subEnd) continue;
        const subText = aligned.text.slice(subStart, subEnd);
        if (this.added.has(subText)) {
          const span = aligned.spanOf(subStart, subEnd) ?? [aligned.positionAt(subStart), aligned.positionAt(subStart)];
          pieces.push({ token: subText, word: word++, start: span[0], end: span[1] });
          continue;
        }
        const sub = aligned.slice(subStart, subEnd);
        const preTokens = library.pre_tokenizer !== null ? library.pre_tokenizer(subText, { section_index: sectionIndex }) : [subText];
        const subPieces: Piece[] = [];
        let cursor = 0;
        for (const preToken of preTokens) {
          const located = this.locate(preToken, sub, cursor);
          cursor = located.next;
          word = this.modelPieces(preToken, located.word, word, subPieces);
        }
        pieces.push(...(this.model.fuse_unk ? this.fuseUnknown(subPieces) : subPieces));
      }
    });
    return pieces;
  }

  /** The library's lstrip/rstrip: an added token with lstrip (rstrip) trims the whitespace before (after) it. */
  private stripAround(text: string, ranges: [number, number][]): [number, number][] {
    ranges.forEach((range, index) => {
      const token = this.added.get(text.slice(range[0], range[1]));
      if (token === undefined) return;
      if (token.lstrip && index > 0) {
        const previous = ranges[index - 1]!;
        previous[1] = previous[0] + text.slice(previous[0], previous[1]).trimEnd().length;
      }
      if (token.rstrip && index < ranges.length - 1) {
        const next = ranges[index + 1]!;
        next[0] = next[1] - text.slice(next[0], next[1]).trimStart().length;
      }
    });
    return ranges;
  }

  /**
   * Finds `preToken` in `sub` at or after `cursor` and aligns its units: byte-level pre-tokens
   * by their bytes, Metaspace ones with `▁` standing for a space, others as they are. A leading
   * space or `▁` the pre-tokenizer added is synthetic. When it cannot be found (a pre-tokenizer
   * that rewrites text, such as Replace), every unit gets the span of the rest of `sub`.
   */
  private locate(preToken: string, sub: AlignedText, cursor: number): { word: AlignedWord; next: number } {
    const found = this.byteLevel ? locateBytes(preToken, sub, cursor) : locateText(preToken, sub, cursor, this.metaspace?.replacement);
    if (found !== undefined) return found;
    const span = sub.spanOf(cursor, sub.text.length);
    const starts = new Array<number>(preToken.length).fill(span?.[0] ?? -1);
    const ends = new Array<number>(preToken.length).fill(span?.[1] ?? -1);
    return { word: { units: new AlignedText(preToken, starts, ends, sub.positionAt(cursor)), spaces: new Array<boolean>(preToken.length).fill(false) }, next: cursor };
  }

  /** Runs the model on one pre-token and appends its tokens; returns the next word index. */
  private modelPieces(preToken: string, aligned: AlignedWord, word: number, out: Piece[]): number {
    const tokens = this.model.encode([preToken]);
    const ranges = this.tokenRanges(preToken, tokens);
    tokens.forEach((token, index) => {
      if (index > 0 && this.metaspace?.split === true && token.startsWith(this.metaspace.replacement)) word++;
      const [start, end] = this.spanOfUnits(aligned, ranges[index]!);
      out.push({ token, word, start, end });
    });
    return word + 1;
  }

  /** The span of units `[a, b)` of a pre-token, without its leading/trailing spaces when offsets are trimmed. */
  private spanOfUnits(aligned: AlignedWord, [a, b]: [number, number]): [number, number] {
    let low = a;
    let high = b;
    if (this.byteLevel && this.trimOffsets) {
      while (low < high && aligned.spaces[low]) low++;
      while (high > low && aligned.spaces[high - 1]) high--;
    }
    const span = aligned.units.spanOf(low, high);
    if (span !== undefined) return span;
    // Nothing left (a token of spaces, or of inserted characters only): an empty span where it was.
    const trimmed = aligned.units.spanOf(a, b);
    const position = trimmed !== undefined ? trimmed[1] : aligned.units.positionAt(b);
    return [position, position];
  }

  /**
   * `[a, b)` of each token in its pre-token's units: the token's text without the model's
   * decorations (WordPiece's `##`, BPE's suffixes), read left to right; an unknown token covers
   * up to where the next token's text is found; byte-fallback tokens (`<0xE4>`) cover the
   * character their byte belongs to. What cannot be placed shares the rest of the pre-token.
   */
  private tokenRanges(preToken: string, tokens: readonly string[]): [number, number][] {
    const model = this.model;
    const prefix = model.config.type === 'WordPiece' && typeof model.config.continuing_subword_prefix === 'string' ? model.config.continuing_subword_prefix : '';
    const suffix = model.config.type === 'BPE' && typeof model.continuing_subword_suffix === 'string' ? model.continuing_subword_suffix : '';
    const endOfWord = model.config.type === 'BPE' && typeof model.end_of_word_suffix === 'string' ? model.end_of_word_suffix : '';
    const last = tokens.length - 1;
    const surface = (index: number): string => {
      let text = tokens[index]!;
      if (prefix.length > 0 && index > 0 && text.startsWith(prefix)) text = text.slice(prefix.length);
      if (suffix.length > 0 && index < last && text.endsWith(suffix)) text = text.slice(0, -suffix.length);
      if (endOfWord.length > 0 && index === last && text.endsWith(endOfWord)) text = text.slice(0, -endOfWord.length);
      return text;
    };
    const ranges: [number, number][] = [];
    let cursor = 0;
    let index = 0;
    while (index < tokens.length) {
      const token = tokens[index]!;
      if (model.byte_fallback === true && BYTE_FALLBACK.test(token)) {
        const consumed = this.byteFallbackRanges(preToken, tokens, index, cursor, ranges);
        if (consumed !== undefined) {
          index = consumed.index;
          cursor = consumed.cursor;
          continue;
        }
      } else {
        const text = surface(index);
        if (preToken.startsWith(text, cursor)) {
          ranges.push([cursor, cursor + text.length]);
          cursor += text.length;
          index++;
          continue;
        }
        if (token === model.unk_token && cursor < preToken.length) {
          // An unknown token stands for text up to where the next token's text is (at least one character).
          const oneCharacter = cursor + (preToken.codePointAt(cursor)! > 0xffff ? 2 : 1);
          const next = index === last ? undefined : tokens[index + 1]!;
          const end = next === undefined ? preToken.length : next === model.unk_token ? oneCharacter : preToken.indexOf(surface(index + 1), oneCharacter);
          if (end > cursor) {
            ranges.push([cursor, end]);
            cursor = end;
            index++;
            continue;
          }
        }
      }
      for (; index < tokens.length; index++) ranges.push([cursor, preToken.length]);
    }
    return ranges;
  }

  /** A run of byte-fallback tokens: each covers the character (code point) its byte belongs to. */
  private byteFallbackRanges(
    preToken: string,
    tokens: readonly string[],
    index: number,
    cursor: number,
    ranges: [number, number][],
  ): { index: number; cursor: number } | undefined {
    const added: [number, number][] = [];
    while (index < tokens.length && BYTE_FALLBACK.test(tokens[index]!) && cursor < preToken.length) {
      const codePoint = preToken.codePointAt(cursor)!;
      const bytes = utf8Bytes(codePoint);
      const size = codePoint > 0xffff ? 2 : 1;
      for (let k = 0; k < bytes.length; k++) {
        const match = BYTE_FALLBACK.exec(tokens[index + k] ?? '');
        if (match === null || parseInt(match[1]!, 16) !== bytes[k]) return undefined;
        added.push([cursor, cursor + size]);
      }
      index += bytes.length;
      cursor += size;
    }
    if (added.length === 0) return undefined;
    ranges.push(...added);
    return { index, cursor };
  }

  /**
   * The library's `fuse_unk` over a section's tokens: consecutive unknown tokens become one
   * (concatenated when the first is not the unknown token itself), covering all their spans and
   * counted in the first one's word.
   */
  private fuseUnknown(pieces: readonly Piece[]): Piece[] {
    const ids = this.model.tokens_to_ids;
    const unkId = this.model.unk_token_id;
    const idOf = (token: string) => ids.get(token) ?? unkId;
    const fused: Piece[] = [];
    let i = 0;
    while (i < pieces.length) {
      const current = { ...pieces[i]! };
      fused.push(current);
      if (idOf(current.token) !== unkId) {
        i++;
        continue;
      }
      while (++i < pieces.length && idOf(pieces[i]!.token) === unkId) {
        if (ids.get(current.token) !== unkId) current.token += pieces[i]!.token;
        current.start = Math.min(current.start, pieces[i]!.start);
        current.end = Math.max(current.end, pieces[i]!.end);
      }
    }
    return fused;
  }
}

function buildLibraryTokenizer(file: string, json: Record<string, unknown>, config: Record<string, unknown>): LibraryTokenizer {
  try {
    return new LibraryTokenizerClass(json, config);
  } catch (error) {
    throw checkpointError(file, `@huggingface/tokenizers cannot run it: ${(error as Error).message}`);
  }
}

/** A pre-token that is a piece of `sub` itself (or, for Metaspace, with `▁` for spaces). */
function locateText(preToken: string, sub: AlignedText, cursor: number, replacement: string | undefined): { word: AlignedWord; next: number } | undefined {
  const text = sub.text;
  const matchesAt = (candidate: string, position: number): boolean => {
    if (position + candidate.length > text.length) return false;
    for (let k = 0; k < candidate.length; k++) {
      const unit = candidate[k];
      const actual = text[position + k];
      if (unit !== actual && !(replacement !== undefined && unit === replacement && actual === ' ')) return false;
    }
    return true;
  };
  const candidates: { text: string; synthetic: number }[] = [{ text: preToken, synthetic: 0 }];
  if (replacement !== undefined && preToken.startsWith(replacement)) candidates.push({ text: preToken.slice(replacement.length), synthetic: replacement.length });
  for (let position = cursor; position <= text.length; position++) {
    for (const candidate of candidates) {
      if (!matchesAt(candidate.text, position)) continue;
      const starts: number[] = [];
      const ends: number[] = [];
      for (let k = 0; k < preToken.length; k++) {
        const unit = position + k - candidate.synthetic;
        starts.push(k < candidate.synthetic ? -1 : sub.starts[unit]!);
        ends.push(k < candidate.synthetic ? -1 : sub.ends[unit]!);
      }
      const next = position + candidate.text.length;
      return { word: { units: new AlignedText(preToken, starts, ends, sub.positionAt(position)), spaces: new Array<boolean>(preToken.length).fill(false) }, next };
    }
  }
  return undefined;
}

/**
 * A byte-level pre-token (each character one byte) found in `sub` by comparing bytes: each unit
 * gets the span of the character its byte belongs to. A leading space byte that `sub` does not
 * have at that place is the prefix space the pre-tokenizer added.
 */
function locateBytes(preToken: string, sub: AlignedText, cursor: number): { word: AlignedWord; next: number } | undefined {
  const bytes: number[] = [];
  for (const char of preToken) {
    const byte = CHAR_TO_BYTE.get(char);
    if (byte === undefined) return undefined;
    bytes.push(byte);
  }
  const text = sub.text;
  /** Units of `text` from `position` whose bytes are `bytes[from…]`, or undefined. */
  const matchAt = (position: number, from: number): number | undefined => {
    let k = from;
    let i = position;
    while (k < bytes.length) {
      if (i >= text.length) return undefined;
      const codePoint = text.codePointAt(i)!;
      for (const byte of utf8Bytes(codePoint)) if (bytes[k++] !== byte) return undefined;
      i += codePoint > 0xffff ? 2 : 1;
    }
    return i;
  };
  for (let position = cursor; position <= text.length; position++) {
    for (const synthetic of bytes[0] === 0x20 ? [0, 1] : [0]) {
      const end = matchAt(position, synthetic);
      if (end === undefined) continue;
      const starts: number[] = [];
      const ends: number[] = [];
      const spaces: boolean[] = [];
      if (synthetic === 1) {
        starts.push(-1);
        ends.push(-1);
        spaces.push(true);
      }
      for (let i = position; i < end; ) {
        const codePoint = text.codePointAt(i)!;
        const size = codePoint > 0xffff ? 2 : 1;
        const span = sub.spanOf(i, i + size);
        for (let k = 0; k < utf8Length(codePoint >= 0xd800 && codePoint <= 0xdfff ? 0xfffd : codePoint); k++) {
          starts.push(span?.[0] ?? -1);
          ends.push(span?.[1] ?? -1);
          spaces.push(codePoint === 0x20);
        }
        i += size;
      }
      return { word: { units: new AlignedText(preToken, starts, ends, sub.positionAt(position)), spaces }, next: end };
    }
  }
  return undefined;
}

/**
 * The special tokens: named by the files (`special_tokens_map.json` over
 * `tokenizer_config.json`), else the template's first and last, else the family's names (for an
 * unknown family, BERT's or RoBERTa's, whichever the vocabulary has). `[CLS]`, `[SEP]`, `[PAD]`
 * and `[UNK]` (or their equivalents) must be in the vocabulary.
 */
function resolveSpecialTokens(
  file: string,
  named: NamedSpecialTokens,
  fromTemplate: { cls?: string; sep?: string },
  modelType: string,
  tokenToId: (token: string) => number | undefined,
): SpecialTokens {
  const conventions = specialTokenConventions(modelType);
  const convention = conventions.find((names) => tokenToId(names.cls_token) !== undefined && tokenToId(names.sep_token) !== undefined) ?? conventions[0]!;
  const nameOf = (key: SpecialTokenKey): string =>
    named[key] ?? (key === 'cls_token' ? fromTemplate.cls : key === 'sep_token' ? fromTemplate.sep : undefined) ?? convention[key];
  const required = (key: SpecialTokenKey): SpecialToken => {
    const token = nameOf(key);
    const id = tokenToId(token);
    if (id === undefined) throw checkpointError(file, `the ${key.replace('_token', '')} token ${JSON.stringify(token)} is not in the vocabulary`, key);
    return { token, id };
  };
  const maskToken = nameOf('mask_token');
  const maskId = tokenToId(maskToken);
  return {
    cls: required('cls_token'),
    sep: required('sep_token'),
    pad: required('pad_token'),
    mask: maskId === undefined ? undefined : { token: maskToken, id: maskId },
    unk: required('unk_token'),
  };
}
