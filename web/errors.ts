/**
 * Library errors as the page shows them. The class is found with instanceof, not by its name:
 * the bundle is minified (and esbuild's keepNames cannot be used: TF.js builds its wasm
 * threads' script from a function's source text, which must not reference bundle helpers).
 */
import { CheckpointError, ConfigError, DataError, MemoryError, MicrobatchError } from '../src/core/errors.js';
import type { ErrorInfo } from './protocol.js';

const KINDS: [new (...args: never[]) => MicrobatchError, string][] = [
  [ConfigError, 'ConfigError'],
  [DataError, 'DataError'],
  [CheckpointError, 'CheckpointError'],
  [MemoryError, 'MemoryError'],
];

export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof MicrobatchError) {
    const name = KINDS.find(([kind]) => error instanceof kind)?.[1] ?? 'MicrobatchError';
    return { message: error.message, name, ...(error.file !== undefined ? { file: error.file } : {}), ...(error.line !== undefined ? { line: error.line } : {}), ...(error.field !== undefined ? { field: error.field } : {}) };
  }
  const message = error instanceof Error ? error.message : typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
  return { message, name: 'Error' };
}
