/**
 * The files of a WordPiece (BERT-family) tokenizer: reading `vocab.txt`, `tokenizer_config.json`,
 * `special_tokens_map.json` and a BERT `tokenizer.json` into WordPiece options, and writing them
 * back — `tokenizer.json` in HF `BertTokenizerFast`'s format (BertNormalizer, BertPreTokenizer,
 * WordPiece with `##`, TemplateProcessing `[CLS] $A [SEP]` / `[CLS] $A [SEP] $B [SEP]`, WordPiece
 * decoder), which is what transformers.js needs.
 */
import { checkpointError, booleanField, fileLabel, isRecord, jsonText, parseJsonObject, readModelMaxLength, readSpecialTokens, readVocabObject } from './files.js';
import type { NamedSpecialTokens } from './files.js';
import type { TokenizerFiles } from './types.js';
import { DEFAULT_SETTINGS } from './wordpieceSettings.js';
import type { WordPieceOptions, WordPieceSettings } from './wordpieceSettings.js';

/** HF `load_vocab`: one token per line, id = line index; only the line break is removed. */
export function parseVocabTxt(file: string, text: string): string[] {
  // Tolerate Windows line endings, which HF's fast tokenizer also strips.
  const lines = text.length === 0 ? [] : text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (text.endsWith('\n')) lines.pop();
  if (lines.length === 0) throw checkpointError(file, 'empty vocabulary');
  return lines;
}

/**
 * Why `json` (a parsed tokenizer.json) is not a tokenizer our WordPiece reproduces exactly, or
 * undefined when it is: BertNormalizer (or none), BertPreTokenizer, a WordPiece model, only
 * special added tokens that are already in the vocabulary and matched before normalisation, and
 * a template that is `cls $A sep` (or none).
 */
export function wordPieceIncompatibility(json: Record<string, unknown>): string | undefined {
  const { normalizer, pre_tokenizer: preTokenizer, model, post_processor: postProcessor } = json;
  if (normalizer !== null && normalizer !== undefined && !(isRecord(normalizer) && normalizer.type === 'BertNormalizer')) {
    return `its normalizer is ${describeType(normalizer)}, not BertNormalizer`;
  }
  if (!isRecord(preTokenizer) || preTokenizer.type !== 'BertPreTokenizer') return `its pre_tokenizer is ${describeType(preTokenizer)}, not BertPreTokenizer`;
  if (!isRecord(model) || model.type !== 'WordPiece') return `its model is ${describeType(model)}, not WordPiece`;
  if (!isRecord(model.vocab)) return 'its model has no vocab object';
  const vocab = model.vocab;
  if (json.added_tokens !== undefined && json.added_tokens !== null) {
    if (!Array.isArray(json.added_tokens)) return '"added_tokens" is not a list';
    for (const entry of json.added_tokens) {
      if (!isRecord(entry) || typeof entry.content !== 'string') return `malformed added token ${JSON.stringify(entry)}`;
      if (entry.special !== true) return `added token ${JSON.stringify(entry.content)} is not special`;
      if (vocab[entry.content] !== entry.id || !Object.hasOwn(vocab, entry.content)) return `added token ${JSON.stringify(entry.content)} is not in the vocabulary at id ${JSON.stringify(entry.id)}`;
      if (entry.normalized === true) return `added token ${JSON.stringify(entry.content)} is matched after normalisation`;
      if (entry.lstrip === true || entry.rstrip === true || entry.single_word === true) return `added token ${JSON.stringify(entry.content)} has lstrip/rstrip/single_word`;
    }
  }
  if (postProcessor !== null && postProcessor !== undefined && templateTokens(postProcessor, vocab) === undefined) {
    return `its post_processor ${describeType(postProcessor)} is not "cls $A sep"`;
  }
  return undefined;
}

function describeType(value: unknown): string {
  return JSON.stringify(isRecord(value) ? value.type : value) ?? 'missing';
}

/**
 * `[cls, sep]` of a post-processor that adds `cls $A sep` (BertProcessing, RobertaProcessing or
 * TemplateProcessing with ids that agree with the vocabulary), or undefined.
 */
function templateTokens(postProcessor: unknown, vocab: Record<string, unknown>): [string, string] | undefined {
  if (!isRecord(postProcessor)) return undefined;
  const known = (token: unknown, id: unknown): token is string => typeof token === 'string' && Object.hasOwn(vocab, token) && vocab[token] === id;
  if (postProcessor.type === 'BertProcessing' || postProcessor.type === 'RobertaProcessing') {
    const { cls, sep } = postProcessor;
    if (!Array.isArray(cls) || !Array.isArray(sep) || !known(cls[0], cls[1]) || !known(sep[0], sep[1])) return undefined;
    return [cls[0], sep[0]];
  }
  if (postProcessor.type !== 'TemplateProcessing' || !Array.isArray(postProcessor.single) || postProcessor.single.length !== 3) return undefined;
  const [first, sequence, last] = postProcessor.single as unknown[];
  if (!isRecord(sequence) || !isRecord(sequence.Sequence) || sequence.Sequence.id !== 'A') return undefined;
  const special = (item: unknown): string | undefined => {
    if (!isRecord(item) || !isRecord(item.SpecialToken) || !isRecord(postProcessor.special_tokens)) return undefined;
    const entry = postProcessor.special_tokens[String(item.SpecialToken.id)];
    if (!isRecord(entry) || !Array.isArray(entry.tokens) || !Array.isArray(entry.ids) || entry.tokens.length !== 1 || entry.ids.length !== 1) return undefined;
    return known(entry.tokens[0], entry.ids[0]) ? entry.tokens[0] : undefined;
  };
  const cls = special(first);
  const sep = special(last);
  return cls !== undefined && sep !== undefined ? [cls, sep] : undefined;
}

/**
 * Settings and vocabulary of a WordPiece tokenizer from its files: `vocab.txt` (or the
 * WordPiece vocabulary of `tokenizer.json`), settings from `tokenizer.json`'s normalizer, model
 * and template, overridden by keys that `tokenizer_config.json` sets explicitly, and special
 * tokens from `special_tokens_map.json` (which wins over `tokenizer_config.json`, as in HF).
 */
export function readWordPieceFiles(
  files: TokenizerFiles,
  source: string,
  tokenizerClass: string,
): { vocab: (string | undefined)[]; options: WordPieceOptions } {
  const options: WordPieceOptions = { tokenizerClass };
  let vocab: (string | undefined)[] | undefined;
  const addedSpecials: string[] = [];
  const jsonText = files['tokenizer.json'];
  if (jsonText !== undefined) {
    const file = fileLabel(source, 'tokenizer.json');
    const json = parseJsonObject(file, jsonText);
    const incompatibility = wordPieceIncompatibility(json);
    if (incompatibility !== undefined) {
      throw checkpointError(file, `is not a BERT WordPiece tokenizer (${incompatibility}) while vocab.txt is; keep only one of them`);
    }
    vocab = applyTokenizerJson(file, json, options);
    if (Array.isArray(json.added_tokens)) addedSpecials.push(...json.added_tokens.map((entry) => (entry as { content: string }).content));
  }
  const vocabText = files['vocab.txt'];
  if (vocabText !== undefined) {
    const file = fileLabel(source, 'vocab.txt');
    const fromFile = parseVocabTxt(file, vocabText);
    if (vocab !== undefined && !sameVocabulary(vocab, fromFile)) {
      throw checkpointError(file, 'vocab.txt and tokenizer.json have different vocabularies');
    }
    vocab = fromFile;
  }
  if (vocab === undefined) throw checkpointError(source, 'no WordPiece vocabulary (vocab.txt or tokenizer.json)');
  const configText = files['tokenizer_config.json'];
  if (configText !== undefined) {
    const file = fileLabel(source, 'tokenizer_config.json');
    const config = parseJsonObject(file, configText);
    applyTokenizerConfig(file, config, options);
    addedSpecials.push(...addedTokensDecoder(file, config, vocab));
  }
  const specialMapText = files['special_tokens_map.json'];
  if (specialMapText !== undefined) {
    const file = fileLabel(source, 'special_tokens_map.json');
    applySpecialTokens(readSpecialTokens(file, parseJsonObject(file, specialMapText)), options);
  }
  // Special tokens declared as added tokens are kept whole in the text, like the named ones.
  const d = DEFAULT_SETTINGS;
  const named = new Set([
    options.unkToken ?? d.unkToken,
    options.sepToken ?? d.sepToken,
    options.padToken ?? d.padToken,
    options.clsToken ?? d.clsToken,
    options.maskToken ?? d.maskToken,
  ]);
  const extraSpecials = addedSpecials.filter((token) => !named.has(token));
  if (extraSpecials.length > 0) {
    options.additionalSpecialTokens = [...new Set([...(options.additionalSpecialTokens ?? []), ...extraSpecials])];
  }
  return { vocab, options };
}

/** Same token → id mapping (a token listed twice in vocab.txt maps to its last line in both). */
function sameVocabulary(a: readonly (string | undefined)[], b: readonly (string | undefined)[]): boolean {
  const mapOf = (tokens: readonly (string | undefined)[]) => {
    const map = new Map<string, number>();
    tokens.forEach((token, id) => {
      if (token !== undefined) map.set(token, id);
    });
    return map;
  };
  const mapA = mapOf(a);
  const mapB = mapOf(b);
  return mapA.size === mapB.size && [...mapA].every(([token, id]) => mapB.get(token) === id);
}

function applySpecialTokens(named: NamedSpecialTokens, options: WordPieceOptions): void {
  if (named.cls_token !== undefined) options.clsToken = named.cls_token;
  if (named.sep_token !== undefined) options.sepToken = named.sep_token;
  if (named.pad_token !== undefined) options.padToken = named.pad_token;
  if (named.mask_token !== undefined) options.maskToken = named.mask_token;
  if (named.unk_token !== undefined) options.unkToken = named.unk_token;
  if (named.additional !== undefined) options.additionalSpecialTokens = named.additional;
}

function applyTokenizerConfig(file: string, json: Record<string, unknown>, options: WordPieceOptions): void {
  options.tokenizerConfig = json;
  if (json.do_lower_case !== undefined) options.doLowerCase = booleanField(file, 'do_lower_case', json.do_lower_case);
  if (json.strip_accents !== undefined) {
    options.stripAccents = json.strip_accents === null ? null : booleanField(file, 'strip_accents', json.strip_accents);
  }
  if (json.tokenize_chinese_chars !== undefined) {
    options.tokenizeChineseChars = booleanField(file, 'tokenize_chinese_chars', json.tokenize_chinese_chars);
  }
  if (json.do_basic_tokenize !== undefined) options.doBasicTokenize = booleanField(file, 'do_basic_tokenize', json.do_basic_tokenize);
  if (json.never_split !== undefined && json.never_split !== null) {
    if (!Array.isArray(json.never_split) || !json.never_split.every((token) => typeof token === 'string')) {
      throw checkpointError(file, 'must be a list of strings', 'never_split');
    }
    options.neverSplit = json.never_split as string[];
  }
  if (json.clean_up_tokenization_spaces !== undefined && json.clean_up_tokenization_spaces !== null) {
    options.cleanUpTokenizationSpaces = booleanField(file, 'clean_up_tokenization_spaces', json.clean_up_tokenization_spaces);
  }
  const modelMaxLength = readModelMaxLength(file, json);
  if (modelMaxLength !== undefined) options.modelMaxLength = modelMaxLength;
  if (typeof json.tokenizer_class === 'string') options.tokenizerClass = json.tokenizer_class;
  applySpecialTokens(readSpecialTokens(file, json), options);
}

/**
 * The special tokens of `tokenizer_config.json`'s `added_tokens_decoder`. Tokens outside the
 * WordPiece vocabulary, or non-special ones (HF matches those after normalisation), would make a
 * different tokenizer from the one implemented here, so they are refused rather than ignored.
 */
function addedTokensDecoder(file: string, config: Record<string, unknown>, vocab: readonly (string | undefined)[]): string[] {
  const decoder = config.added_tokens_decoder;
  if (decoder === undefined || decoder === null) return [];
  if (!isRecord(decoder)) throw checkpointError(file, 'must be an object', 'added_tokens_decoder');
  return Object.entries(decoder).map(([id, entry]) => {
    if (!isRecord(entry) || typeof entry.content !== 'string' || !/^\d+$/.test(id)) {
      throw checkpointError(file, `malformed added token entry ${JSON.stringify({ [id]: entry })}`, 'added_tokens_decoder');
    }
    if (vocab[Number(id)] !== entry.content || entry.special !== true) {
      throw checkpointError(file, `unsupported added token ${JSON.stringify(entry.content)} (only special tokens already in the vocabulary are supported)`, 'added_tokens_decoder');
    }
    return entry.content;
  });
}

/**
 * Reads the BertNormalizer / WordPiece / template settings of a compatible `tokenizer.json` into
 * `options` and returns its vocabulary (id → token; ids without a token stay undefined).
 */
function applyTokenizerJson(file: string, json: Record<string, unknown>, options: WordPieceOptions): (string | undefined)[] {
  const normalizer = json.normalizer;
  if (isRecord(normalizer)) {
    if (normalizer.clean_text !== undefined) options.cleanText = booleanField(file, 'normalizer.clean_text', normalizer.clean_text);
    if (normalizer.handle_chinese_chars !== undefined) {
      options.tokenizeChineseChars = booleanField(file, 'normalizer.handle_chinese_chars', normalizer.handle_chinese_chars);
    }
    if (normalizer.lowercase !== undefined) options.doLowerCase = booleanField(file, 'normalizer.lowercase', normalizer.lowercase);
    if (normalizer.strip_accents !== undefined) {
      options.stripAccents = normalizer.strip_accents === null ? null : booleanField(file, 'normalizer.strip_accents', normalizer.strip_accents);
    }
  } else {
    Object.assign(options, { cleanText: false, tokenizeChineseChars: false, doLowerCase: false, stripAccents: false });
  }
  const model = json.model as Record<string, unknown>;
  if (model.unk_token !== undefined) {
    if (typeof model.unk_token !== 'string') throw checkpointError(file, 'must be a string', 'model.unk_token');
    options.unkToken = model.unk_token;
  }
  if (model.continuing_subword_prefix !== undefined && model.continuing_subword_prefix !== null) {
    if (typeof model.continuing_subword_prefix !== 'string') throw checkpointError(file, 'must be a string', 'model.continuing_subword_prefix');
    options.continuingSubwordPrefix = model.continuing_subword_prefix;
  }
  if (model.max_input_chars_per_word !== undefined) {
    const value = model.max_input_chars_per_word;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw checkpointError(file, 'must be a positive integer', 'model.max_input_chars_per_word');
    options.maxInputCharsPerWord = value;
  }
  const vocabMap = readVocabObject(file, 'model.vocab', model.vocab);
  let size = 0;
  for (const id of vocabMap.values()) size = Math.max(size, id + 1);
  const vocab = new Array<string | undefined>(size).fill(undefined);
  for (const [token, id] of vocabMap) vocab[id] = token;
  if (json.post_processor !== null && json.post_processor !== undefined) {
    const [cls, sep] = templateTokens(json.post_processor, model.vocab as Record<string, unknown>)!;
    options.clsToken = cls;
    options.sepToken = sep;
  }
  return vocab;
}

/** `tokenizer.json` in HF `BertTokenizerFast`'s format for these settings and vocabulary. */
export function wordPieceTokenizerJson(settings: WordPieceSettings, vocab: readonly (string | undefined)[]): Record<string, unknown> {
  const ids = new Map<string, number>();
  vocab.forEach((token, id) => {
    if (token !== undefined) ids.set(token, id);
  });
  const specials = [settings.unkToken, settings.sepToken, settings.padToken, settings.clsToken, settings.maskToken, ...settings.additionalSpecialTokens];
  const addedTokens = [...new Set(specials)]
    .filter((token) => ids.has(token))
    .map((token) => ({ id: ids.get(token)!, content: token, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }))
    .sort((a, b) => a.id - b.id);
  const cls = { id: settings.clsToken, ids: [ids.get(settings.clsToken)!], tokens: [settings.clsToken] };
  const sep = { id: settings.sepToken, ids: [ids.get(settings.sepToken)!], tokens: [settings.sepToken] };
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const sequence = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: settings.cleanText,
      handle_chinese_chars: settings.tokenizeChineseChars,
      strip_accents: settings.stripAccents,
      lowercase: settings.doLowerCase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(settings.clsToken, 0), sequence('A', 0), special(settings.sepToken, 0)],
      pair: [special(settings.clsToken, 0), sequence('A', 0), special(settings.sepToken, 0), sequence('B', 1), special(settings.sepToken, 1)],
      special_tokens: { [settings.clsToken]: cls, [settings.sepToken]: sep },
    },
    decoder: { type: 'WordPiece', prefix: settings.continuingSubwordPrefix, cleanup: settings.cleanUpTokenizationSpaces },
    model: {
      type: 'WordPiece',
      unk_token: settings.unkToken,
      continuing_subword_prefix: settings.continuingSubwordPrefix,
      max_input_chars_per_word: settings.maxInputCharsPerWord,
      vocab: Object.fromEntries(ids),
    },
  };
}

/** The files `WordPieceTokenizer.files()` returns. */
export function wordPieceFiles(settings: WordPieceSettings, vocab: readonly (string | undefined)[]): Record<string, string> {
  const specialTokens: Record<string, unknown> = {
    unk_token: settings.unkToken,
    sep_token: settings.sepToken,
    pad_token: settings.padToken,
    cls_token: settings.clsToken,
    mask_token: settings.maskToken,
  };
  if (settings.additionalSpecialTokens.length > 0) specialTokens.additional_special_tokens = [...settings.additionalSpecialTokens];
  // The checkpoint's other keys survive; ours replace theirs. Special tokens are written as plain
  // strings, which every reader accepts (transformers.js refuses AddedToken objects without `__type`).
  const config: Record<string, unknown> = {
    ...settings.tokenizerConfig,
    tokenizer_class: settings.tokenizerClass,
    do_lower_case: settings.doLowerCase,
    do_basic_tokenize: settings.doBasicTokenize,
    never_split: settings.neverSplit.length > 0 ? [...settings.neverSplit] : null,
    strip_accents: settings.stripAccents,
    tokenize_chinese_chars: settings.tokenizeChineseChars,
    clean_up_tokenization_spaces: settings.cleanUpTokenizationSpaces,
    ...specialTokens,
  };
  if (settings.modelMaxLength !== undefined) config.model_max_length = settings.modelMaxLength;
  else delete config.model_max_length;
  delete config.tokenizer_file;
  return {
    'vocab.txt': vocab.map((token) => `${token ?? ''}\n`).join(''),
    'tokenizer_config.json': jsonText(config),
    'special_tokens_map.json': jsonText(specialTokens),
    'tokenizer.json': JSON.stringify(wordPieceTokenizerJson(settings, vocab)),
  };
}
