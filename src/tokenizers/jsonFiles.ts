/**
 * The files of a tokenizer.json tokenizer: checking a `tokenizer.json` before the library sees
 * it (its own checks are few, and a hostile file must fail with the file and the field named),
 * applying the `tokenizer_config.json` keys HF's fast tokenizer classes re-apply, and building
 * the `tokenizer.json` of a byte-level BPE from an older checkpoint's `vocab.json` + `merges.txt`.
 */
import { CheckpointError } from '../core/errors.js';
import { booleanField, checkpointError, checkTokenId, isRecord, MAX_TOKEN_ID, readVocabObject } from './files.js';
import type { SpecialTokenNames } from './families.js';

/** The pipeline's components and the list a `Sequence` of each holds. */
const COMPONENTS = { normalizer: 'normalizers', pre_tokenizer: 'pretokenizers', post_processor: 'processors', decoder: 'decoders' } as const;

/**
 * A copy of `json` the library can be given: every component present (missing ones are null,
 * as HF's Rust library reads them), `added_tokens` a list, and the model's vocabulary, merges
 * and settings well-formed. Anything else is a CheckpointError naming `file` and the field.
 */
export function checkTokenizerJson(file: string, json: Record<string, unknown>): Record<string, unknown> {
  const checked: Record<string, unknown> = { ...json };
  for (const [key, children] of Object.entries(COMPONENTS)) {
    const value = json[key];
    if (value === undefined) checked[key] = null;
    else if (value !== null) checkComponent(file, key, value, children);
  }
  checked.added_tokens = checkAddedTokens(file, json.added_tokens);
  checkModel(file, json.model);
  return checked;
}

/** A component is an object with a string `type`; a Sequence holds a list of components. */
function checkComponent(file: string, field: string, value: unknown, children: string): void {
  if (!isRecord(value)) throw checkpointError(file, 'must be an object or null', field);
  if (typeof value.type !== 'string') throw checkpointError(file, 'needs a "type" string', field);
  if (value.type !== 'Sequence') return;
  const list = value[children];
  if (!Array.isArray(list)) throw checkpointError(file, 'must be a list', `${field}.${children}`);
  list.forEach((child, index) => checkComponent(file, `${field}.${children}[${index}]`, child, children));
}

function checkAddedTokens(file: string, value: unknown): Record<string, unknown>[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw checkpointError(file, 'must be a list', 'added_tokens');
  return value.map((entry, index) => {
    const field = `added_tokens[${index}]`;
    if (!isRecord(entry) || typeof entry.content !== 'string' || entry.content.length === 0) {
      throw checkpointError(file, `must be an object with a non-empty "content" string, got ${JSON.stringify(entry)}`, field);
    }
    checkTokenId(file, field, entry.content, entry.id);
    for (const flag of ['special', 'lstrip', 'rstrip', 'normalized', 'single_word']) {
      if (entry[flag] !== undefined) booleanField(file, `${field}.${flag}`, entry[flag]);
    }
    return entry;
  });
}

function optionalString(file: string, model: Record<string, unknown>, key: string): void {
  const value = model[key];
  if (value !== undefined && value !== null && typeof value !== 'string') throw checkpointError(file, 'must be a string or null', `model.${key}`);
}

function checkModel(file: string, model: unknown): void {
  if (!isRecord(model)) throw checkpointError(file, 'must be an object', 'model');
  switch (model.type) {
    case 'BPE': {
      const vocab = readVocabObject(file, 'model.vocab', model.vocab);
      checkMerges(file, 'model.merges', model.merges, vocab);
      for (const key of ['unk_token', 'continuing_subword_prefix', 'end_of_word_suffix', 'continuing_subword_suffix']) optionalString(file, model, key);
      for (const key of ['fuse_unk', 'byte_fallback', 'ignore_merges']) if (model[key] !== undefined) booleanField(file, `model.${key}`, model[key]);
      return;
    }
    case 'WordPiece': {
      readVocabObject(file, 'model.vocab', model.vocab);
      if (typeof model.unk_token !== 'string') throw checkpointError(file, 'must be a string', 'model.unk_token');
      if (typeof model.continuing_subword_prefix !== 'string') throw checkpointError(file, 'must be a string', 'model.continuing_subword_prefix');
      const maxChars = model.max_input_chars_per_word;
      if (maxChars !== undefined && !(typeof maxChars === 'number' && Number.isInteger(maxChars) && maxChars > 0)) {
        throw checkpointError(file, 'must be a positive integer', 'model.max_input_chars_per_word');
      }
      return;
    }
    case 'Unigram': {
      if (!Array.isArray(model.vocab) || model.vocab.length === 0 || model.vocab.length > MAX_TOKEN_ID) {
        throw checkpointError(file, 'must be a non-empty list of [piece, score]', 'model.vocab');
      }
      model.vocab.forEach((entry, index) => {
        if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number' || !Number.isFinite(entry[1])) {
          throw checkpointError(file, `must be [piece, score], got ${JSON.stringify(entry)}`, `model.vocab[${index}]`);
        }
      });
      const unkId = model.unk_id;
      if (unkId !== undefined && unkId !== null && !(typeof unkId === 'number' && Number.isInteger(unkId) && unkId >= 0 && unkId < model.vocab.length)) {
        throw checkpointError(file, `must be an index into model.vocab, got ${JSON.stringify(unkId)}`, 'model.unk_id');
      }
      return;
    }
    default:
      throw checkpointError(file, `unsupported model type ${JSON.stringify(model.type)} (expected BPE, WordPiece or Unigram)`, 'model.type');
  }
}

/**
 * BPE merges, as strings `"a b"` or pairs `["a", "b"]`: both parts and their merge must be in
 * the vocabulary (HF's Rust library refuses a file where they are not).
 */
function checkMerges(file: string, field: string, merges: unknown, vocab: ReadonlyMap<string, number>): void {
  if (!Array.isArray(merges)) throw checkpointError(file, 'must be a list', field);
  merges.forEach((merge, index) => {
    const pair = typeof merge === 'string' ? merge.split(' ') : merge;
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((part) => typeof part === 'string' && part.length > 0)) {
      throw checkpointError(file, `merge ${index + 1} must be two tokens, got ${JSON.stringify(merge)}`, field);
    }
    for (const token of [pair[0], pair[1], `${pair[0]}${pair[1]}`] as string[]) {
      if (!vocab.has(token)) throw checkpointError(file, `merge ${index + 1} (${JSON.stringify(merge)}): ${JSON.stringify(token)} is not in the vocabulary`, field);
    }
  });
}

/**
 * The `tokenizer_config.json` keys HF's fast classes write back into the pipeline
 * (`BertTokenizerFast`: `do_lower_case`, `strip_accents`, `tokenize_chinese_chars` into a
 * BertNormalizer; `RobertaTokenizerFast`: `add_prefix_space` into a ByteLevel pre-tokenizer and
 * `add_prefix_space`, `trim_offsets` into the post-processor), applied when the config sets
 * them. Returns the adjusted copy, or `json` itself when nothing changed.
 */
export function applyTokenizerConfig(json: Record<string, unknown>, config: Record<string, unknown>, configFile: string): Record<string, unknown> {
  let changed = false;
  const copy = structuredClone(json);
  const set = (target: Record<string, unknown>, key: string, value: unknown) => {
    if (target[key] !== value) {
      target[key] = value;
      changed = true;
    }
  };
  const flag = (key: string): boolean | undefined => (config[key] === undefined ? undefined : booleanField(configFile, key, config[key]));
  const normalizer = copy.normalizer;
  if (isRecord(normalizer) && normalizer.type === 'BertNormalizer') {
    const lowercase = flag('do_lower_case');
    if (lowercase !== undefined) set(normalizer, 'lowercase', lowercase);
    if (config.strip_accents !== undefined) set(normalizer, 'strip_accents', config.strip_accents === null ? null : flag('strip_accents'));
    const chinese = flag('tokenize_chinese_chars');
    if (chinese !== undefined) set(normalizer, 'handle_chinese_chars', chinese);
  }
  const addPrefixSpace = flag('add_prefix_space');
  const trimOffsets = flag('trim_offsets');
  const preTokenizer = copy.pre_tokenizer;
  if (isRecord(preTokenizer) && preTokenizer.type === 'ByteLevel' && addPrefixSpace !== undefined) set(preTokenizer, 'add_prefix_space', addPrefixSpace);
  const postProcessor = copy.post_processor;
  if (isRecord(postProcessor) && (postProcessor.type === 'RobertaProcessing' || postProcessor.type === 'ByteLevel')) {
    if (addPrefixSpace !== undefined) set(postProcessor, 'add_prefix_space', addPrefixSpace);
    if (trimOffsets !== undefined) set(postProcessor, 'trim_offsets', trimOffsets);
  }
  return changed ? copy : json;
}

/**
 * The `tokenizer.json` HF's `RobertaConverter` makes of `vocab.json` + `merges.txt`: byte-level
 * BPE (no unknown token: every byte is in the vocabulary), ByteLevel pre-tokenizer and decoder,
 * `RobertaProcessing` with `cls`/`sep`, and the special tokens as added tokens — the mask token
 * with `lstrip`, as `RobertaTokenizer` declares it, so `"a <mask>"` does not keep the space.
 */
export function byteLevelBpeJson(
  files: { vocabFile: string; vocab: ReadonlyMap<string, number>; mergesFile: string; mergesText: string },
  names: SpecialTokenNames,
  options: { addPrefixSpace: boolean; trimOffsets: boolean },
): Record<string, unknown> {
  const { vocab } = files;
  const merges = parseMergesFile(files.mergesFile, files.mergesText);
  for (const [a, b, line] of merges) {
    for (const token of [a, b, a + b]) {
      if (!vocab.has(token)) throw new CheckpointError(`${JSON.stringify(token)} (of the merge "${a} ${b}") is not in vocab.json`, { file: files.mergesFile, line });
    }
  }
  const tokens = [...new Set([names.cls_token, names.sep_token, names.pad_token, names.unk_token, names.mask_token])];
  const addedTokens = tokens
    .filter((token) => vocab.has(token))
    .map((token) => ({ id: vocab.get(token)!, content: token, single_word: false, lstrip: token === names.mask_token, rstrip: false, normalized: false, special: true }))
    .sort((a, b) => a.id - b.id);
  const idOf = (token: string) => {
    const id = vocab.get(token);
    if (id === undefined) throw checkpointError(files.vocabFile, `the token ${JSON.stringify(token)} is not in the vocabulary`);
    return id;
  };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: options.addPrefixSpace, trim_offsets: options.trimOffsets, use_regex: true },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [names.sep_token, idOf(names.sep_token)],
      cls: [names.cls_token, idOf(names.cls_token)],
      trim_offsets: options.trimOffsets,
      add_prefix_space: options.addPrefixSpace,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** merges.txt: an optional `#version` line, then one merge `a b` per line (blank lines skipped); each with its line number. */
function parseMergesFile(file: string, text: string): [string, string, number][] {
  const merges: [string, string, number][] = [];
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.length === 0 || (index === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0]!.length === 0 || parts[1]!.length === 0) {
      throw new CheckpointError(`expected two tokens separated by one space, got ${JSON.stringify(line)}`, { file, line: index + 1 });
    }
    merges.push([parts[0]!, parts[1]!, index + 1]);
  });
  return merges;
}
