/**
 * How library errors read on the command line: a setting the library names in its own terms
 * (`microBatch must be …`) is named by its flag (`--micro-batch must be …`).
 */
import type { Command } from 'commander';
import { ConfigError, MemoryError, MicrobatchError } from '../core/errors.js';

/** `microBatch` → `--micro-batch`, when the program has that flag. */
export function flagOf(field: string, program: Command): string | undefined {
  const flag = `--${field.replace(/[A-Z]/g, (upper) => `-${upper.toLowerCase()}`)}`;
  const known = program.commands.some((command) => command.options.some((option) => option.long === flag));
  return known ? flag : undefined;
}

/** The one line printed for a library error. */
export function describeError(error: MicrobatchError, program: Command): string {
  if ((error instanceof ConfigError || error instanceof MemoryError) && error.field !== undefined && error.file === undefined && error.line === undefined) {
    const flag = flagOf(error.field, program);
    if (flag !== undefined) return `${flag} ${error.detail}`;
  }
  return error.message;
}
