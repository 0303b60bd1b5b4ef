/**
 * Reading tokenizer files from their text: JSON with errors that name the file, special-token
 * entries in either of HF's spellings, and the settings every family shares.
 */
import { CheckpointError } from '../core/errors.js';

/** `source/name`, the file name errors report (`source` is a directory or a hub id). */
export function fileLabel(source: string, name: string): string {
  if (source.length === 0) return name;
  return /[/\\]$/.test(source) ? `${source}${name}` : `${source}/${name}`;
}

export function checkpointError(file: string, detail: string, field?: string): CheckpointError {
  return new CheckpointError(detail, field === undefined ? { file } : { file, field });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses `text` as JSON; a leading byte-order mark is tolerated. */
export function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text.startsWith('\ufeff') ? text.slice(1) : text);
  } catch (error) {
    throw checkpointError(file, `not valid JSON (${(error as Error).message})`);
  }
}

export function parseJsonObject(file: string, text: string): Record<string, unknown> {
  const json = parseJson(file, text);
  if (!isRecord(json)) throw checkpointError(file, 'expected a JSON object');
  return json;
}

/** A special token is written either as a string or as an AddedToken object `{content: …}`. */
export function tokenContent(file: string, key: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.content === 'string') return value.content;
  throw checkpointError(file, 'must be a string or an object with a "content" string', key);
}

export function booleanField(file: string, key: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw checkpointError(file, `must be true or false, got ${JSON.stringify(value)}`, key);
  return value;
}

/** The special-token names of HF's `SpecialTokensMixin` that the tasks use. */
export const SPECIAL_TOKEN_KEYS = ['cls_token', 'sep_token', 'pad_token', 'mask_token', 'unk_token'] as const;
export type SpecialTokenKey = (typeof SPECIAL_TOKEN_KEYS)[number];
export type NamedSpecialTokens = Partial<Record<SpecialTokenKey, string>> & { additional?: string[] };

/**
 * The special tokens named in `special_tokens_map.json` or `tokenizer_config.json` (null and
 * absent keys name nothing).
 */
export function readSpecialTokens(file: string, json: Record<string, unknown>): NamedSpecialTokens {
  const named: NamedSpecialTokens = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    if (json[key] !== undefined && json[key] !== null) named[key] = tokenContent(file, key, json[key]);
  }
  const additional = json.additional_special_tokens;
  if (additional !== undefined && additional !== null) {
    if (!Array.isArray(additional)) throw checkpointError(file, 'must be a list', 'additional_special_tokens');
    named.additional = additional.map((value) => tokenContent(file, 'additional_special_tokens', value));
  }
  return named;
}

/** HF writes `int(1e30)` when a tokenizer has no length limit; such values mean "none". */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/** `model_max_length` of `tokenizer_config.json`: a positive integer, or undefined when absent or "unlimited". */
export function readModelMaxLength(file: string, json: Record<string, unknown>): number | undefined {
  const value = json.model_max_length;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !(value > 0) || (!Number.isInteger(value) && value < NO_LIMIT)) {
    throw checkpointError(file, `must be a positive integer, got ${JSON.stringify(value)}`, 'model_max_length');
  }
  return value >= NO_LIMIT ? undefined : value;
}

/** Ids are array indices here and in `@huggingface/tokenizers`: refuse ids that would make absurd arrays. */
export const MAX_TOKEN_ID = 1 << 24;

export function checkTokenId(file: string, field: string, token: string, id: unknown): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= MAX_TOKEN_ID) {
    throw checkpointError(file, `token ${JSON.stringify(token)} has id ${JSON.stringify(id)} (expected an integer in 0..${MAX_TOKEN_ID - 1})`, field);
  }
  return id;
}

/** `{token: id}` of a vocabulary object: ids are integers in range, each used once. */
export function readVocabObject(file: string, field: string, value: unknown): Map<string, number> {
  if (!isRecord(value)) throw checkpointError(file, 'must be an object of token → id', field);
  const vocab = new Map<string, number>();
  const owner = new Map<number, string>();
  for (const [token, rawId] of Object.entries(value)) {
    const id = checkTokenId(file, field, token, rawId);
    const previous = owner.get(id);
    if (previous !== undefined) throw checkpointError(file, `tokens ${JSON.stringify(previous)} and ${JSON.stringify(token)} share id ${id}`, field);
    owner.set(id, token);
    vocab.set(token, id);
  }
  if (vocab.size === 0) throw checkpointError(file, 'empty vocabulary', field);
  return vocab;
}

/** JSON text as HF writes it (2-space indent, final newline). */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
