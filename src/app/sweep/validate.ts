/**
 * A few checks for JSON that crossed a trust boundary (a sweep.jsonl line, a queue job, a trial
 * runner's answer): each names the dotted path of the field that is wrong (`trial.split.fold`),
 * so the error says exactly where, in the way zod does, without a dependency.
 */
import { DataError, type ErrorLocation } from '../../core/errors.js';

export type JsonObject = Record<string, unknown>;

/** Where the value being checked came from: a file and line, or a job (`file: 'job …'`). */
export type Source = Omit<ErrorLocation, 'field'>;

export function fail(source: Source, field: string, detail: string): never {
  throw new DataError(detail, { ...source, field });
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '…' : value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function objectAt(value: unknown, source: Source, field: string): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(source, field, `must be an object, got ${describe(value)}`);
  return value as JsonObject;
}

export function stringAt(object: JsonObject, key: string, source: Source, prefix = ''): string {
  const value = object[key];
  if (typeof value !== 'string' || value.length === 0) fail(source, prefix + key, `must be a non-empty string, got ${describe(value)}`);
  return value;
}

export function integerAt(object: JsonObject, key: string, source: Source, prefix = '', minimum = 0): number {
  const value = object[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
    fail(source, prefix + key, `must be an integer ≥ ${minimum}, got ${describe(value)}`);
  }
  return value;
}

export function booleanAt(object: JsonObject, key: string, source: Source, prefix = ''): boolean {
  const value = object[key];
  if (typeof value !== 'boolean') fail(source, prefix + key, `must be true or false, got ${describe(value)}`);
  return value;
}

export function arrayAt(object: JsonObject, key: string, source: Source, prefix = ''): unknown[] {
  const value = object[key];
  if (!Array.isArray(value)) fail(source, prefix + key, `must be an array, got ${describe(value)}`);
  return value;
}

export function oneOf<T extends string>(object: JsonObject, key: string, allowed: readonly T[], source: Source, prefix = ''): T {
  const value = object[key];
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(source, prefix + key, `must be one of ${allowed.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}
