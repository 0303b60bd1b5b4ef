/**
 * List flags of a sweep: `--seeds 0-4`, `--seeds 0,2,5`, `--lr 2e-5,5e-5`, `--remainder step,balance`.
 * Each parser returns the values in the order given (a range ascending) and throws a ConfigError
 * naming the setting (`field`) on anything it cannot read, on duplicates (they would run the same
 * trial twice) and on empty items (`1,,2` is a typo, not a list of two).
 */
import { ConfigError } from '../../core/errors.js';
import type { SettingValue } from './types.js';

/** Longest list a range may expand to: `0-99999999` is a typo, not a sweep. */
export const MAX_LIST_LENGTH = 10_000;

const INTEGER = /^[+-]?\d+$/;
const RANGE = /^(\d+)\s*-\s*(\d+)$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function items(text: string, field: string): string[] {
  const parts = text.split(',').map((part) => part.trim());
  parts.forEach((part, position) => {
    if (part === '') throw new ConfigError(`has an empty item at position ${position + 1} in "${text}"`, { field });
  });
  return parts;
}

function unique<T>(values: T[], field: string, text: string): T[] {
  const seen = new Set<T>();
  for (const value of values) {
    if (seen.has(value)) throw new ConfigError(`lists ${String(value)} twice in "${text}"`, { field });
    seen.add(value);
  }
  if (values.length > MAX_LIST_LENGTH) throw new ConfigError(`expands to ${values.length} values, more than ${MAX_LIST_LENGTH}`, { field });
  return values;
}

export interface IntegerListOptions {
  /** Smallest allowed value (default 0). */
  min?: number;
  max?: number;
}

/** `3`, `0-4`, `0,2,5`, `0-2,7`: non-negative ranges `a-b` with a ≤ b, or single integers. */
export function parseIntegerList(text: string, field: string, options: IntegerListOptions = {}): number[] {
  const min = options.min ?? 0;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const values: number[] = [];
  for (const part of items(text, field)) {
    const range = RANGE.exec(part);
    if (range) {
      const first = Number(range[1]);
      const last = Number(range[2]);
      if (last < first) throw new ConfigError(`has the descending range "${part}"; write ${last}-${first}`, { field });
      if (last - first + 1 > MAX_LIST_LENGTH) throw new ConfigError(`range "${part}" has more than ${MAX_LIST_LENGTH} values`, { field });
      for (let value = first; value <= last; value++) values.push(value);
    } else if (INTEGER.test(part)) {
      values.push(Number(part));
    } else {
      throw new ConfigError(`must be integers or ranges like 0-4 separated by commas, got "${part}"`, { field });
    }
  }
  for (const value of values) {
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new ConfigError(`must be integers in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞)' : max + ']'}, got ${value}`, { field });
    }
  }
  return unique(values, field, text);
}

export interface NumberListOptions {
  /** Values must be > this (e.g. 0 for a learning rate). */
  above?: number;
  /** Values must be ≥ this. */
  min?: number;
  max?: number;
  /** Values must be < this (e.g. 1 for a dropout probability). */
  below?: number;
  /** Only integers (epochs, batch sizes). */
  integer?: boolean;
}

/** `2e-5,5e-5`, `0.1`, `16,32`: finite decimal numbers (no hex, no `Infinity`, no empty items). */
export function parseNumberList(text: string, field: string, options: NumberListOptions = {}): number[] {
  const values = items(text, field).map((part) => {
    if (!DECIMAL.test(part)) throw new ConfigError(`must be numbers separated by commas, got "${part}"`, { field });
    const value = Number(part);
    if (!Number.isFinite(value)) throw new ConfigError(`must be finite, got "${part}"`, { field });
    if (options.integer === true && !Number.isSafeInteger(value)) throw new ConfigError(`must be integers, got "${part}"`, { field });
    if (options.above !== undefined && !(value > options.above)) throw new ConfigError(`must be > ${options.above}, got ${part}`, { field });
    if (options.min !== undefined && value < options.min) throw new ConfigError(`must be ≥ ${options.min}, got ${part}`, { field });
    if (options.max !== undefined && value > options.max) throw new ConfigError(`must be ≤ ${options.max}, got ${part}`, { field });
    if (options.below !== undefined && !(value < options.below)) throw new ConfigError(`must be < ${options.below}, got ${part}`, { field });
    // -0 and 0 are one setting.
    return value === 0 ? 0 : value;
  });
  return unique(values, field, text);
}

/** `step,balance`: each item one of `allowed` (exact, case-sensitive, as the single-value flag takes it). */
export function parseChoiceList<T extends string>(text: string, field: string, allowed: readonly T[]): T[] {
  const values = items(text, field).map((part) => {
    if (!(allowed as readonly string[]).includes(part)) throw new ConfigError(`must be among ${allowed.join(', ')}, got "${part}"`, { field });
    return part as T;
  });
  return unique(values, field, text);
}

/** `true,false` (also `yes/no`, `1/0`, `on/off`). */
export function parseBooleanList(text: string, field: string): boolean[] {
  const values = items(text, field).map((part) => {
    const lower = part.toLowerCase();
    if (['true', 'yes', '1', 'on'].includes(lower)) return true;
    if (['false', 'no', '0', 'off'].includes(lower)) return false;
    throw new ConfigError(`must be true or false, got "${part}"`, { field });
  });
  return unique(values, field, text);
}

/** How a setting's list is read. */
export type SettingKind =
  | { kind: 'integer'; min?: number; max?: number }
  | { kind: 'number'; above?: number; below?: number; min?: number; max?: number }
  | { kind: 'choice'; allowed: readonly string[] }
  | { kind: 'boolean' };

/** Parses `text` as a list of one setting's values according to `kind`. */
export function parseSettingList(text: string, field: string, kind: SettingKind): SettingValue[] {
  switch (kind.kind) {
    case 'integer':
      return parseNumberList(text, field, { ...kind, integer: true });
    case 'number':
      return parseNumberList(text, field, kind);
    case 'choice':
      return parseChoiceList(text, field, kind.allowed);
    case 'boolean':
      return parseBooleanList(text, field);
  }
}
