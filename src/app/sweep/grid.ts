/**
 * The grid of a sweep: the cartesian product of the listed settings, in a stable order (the
 * first setting varies slowest, each list in the order given), each config with an id that
 * depends only on its settings — so the same config has the same id, and its trials the same
 * directories and queue jobs, whatever else the sweep lists.
 */
import { ConfigError } from '../../core/errors.js';
import type { SettingValue, Settings, SweepConfig } from './types.js';

/** Swept settings in the order they vary (first = slowest), each with its values in order. */
export type Grid = ReadonlyArray<readonly [name: string, values: readonly SettingValue[]]>;

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new ConfigError(`cannot hash the non-finite number ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = (1n << 64n) - 1n;

/** 64-bit FNV-1a of the UTF-8 bytes of `text`, as 16 hex digits. Stable across platforms and versions. */
export function stableHash(text: string): string {
  let hash = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * FNV_PRIME) & MASK_64;
  }
  return hash.toString(16).padStart(16, '0');
}

/** `c` + 10 hex digits (40 bits) of the canonical JSON of the settings. */
export function configId(settings: Settings): string {
  return 'c' + stableHash(canonicalJson(settings)).slice(0, 10);
}

const SETTING_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Every combination of the grid's values, first setting slowest. An empty grid is one config
 * with no swept setting (a sweep over seeds and folds only).
 */
export function expandGrid(grid: Grid): SweepConfig[] {
  const names = new Set<string>();
  for (const [name, values] of grid) {
    if (!SETTING_NAME.test(name)) throw new ConfigError(`is not a setting name (letters, digits, _)`, { field: name });
    if (names.has(name)) throw new ConfigError(`is listed twice in the grid`, { field: name });
    names.add(name);
    if (values.length === 0) throw new ConfigError(`has no values to sweep`, { field: name });
    const seen = new Set<string>();
    for (const value of values) {
      if (!['number', 'string', 'boolean'].includes(typeof value) || (typeof value === 'number' && !Number.isFinite(value))) {
        throw new ConfigError(`has the value ${String(value)}, not a finite number, string or boolean`, { field: name });
      }
      const key = canonicalJson(value);
      if (seen.has(key)) throw new ConfigError(`lists ${key} twice`, { field: name });
      seen.add(key);
    }
  }
  let combinations: Settings[] = [{}];
  for (const [name, values] of grid) {
    combinations = combinations.flatMap((settings) => values.map((value) => ({ ...settings, [name]: value })));
  }
  const configs = combinations.map((settings, index) => ({ id: configId(settings), index, settings }));
  const ids = new Map<string, number>();
  for (const config of configs) {
    const other = ids.get(config.id);
    // 40 bits make this astronomically unlikely for any grid a person lists; checked, not assumed.
    if (other !== undefined) throw new ConfigError(`configs ${other} and ${config.index} hash to the same id ${config.id}`);
    ids.set(config.id, config.index);
  }
  return configs;
}
