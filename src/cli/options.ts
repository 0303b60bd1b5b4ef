import { InvalidArgumentError, Option } from 'commander';

/** Option value parsers shared by the commands: each rejects bad input with one clear line. */

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  }
  return parsed;
}

export function nonNegativeInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(parsed)) {
    throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  }
  return parsed;
}

export function finiteNumber(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) {
    throw new InvalidArgumentError(`expected a finite number, got "${value}"`);
  }
  return parsed;
}

export function nonNegativeNumber(value: string): number {
  const parsed = finiteNumber(value);
  if (parsed < 0) throw new InvalidArgumentError(`expected a number ≥ 0, got "${value}"`);
  return parsed;
}

export function probability(value: string): number {
  const parsed = finiteNumber(value);
  if (parsed < 0 || parsed >= 1) throw new InvalidArgumentError(`expected a probability in [0, 1), got "${value}"`);
  return parsed;
}

export function unitInterval(value: string): number {
  const parsed = finiteNumber(value);
  if (parsed < 0 || parsed > 1) throw new InvalidArgumentError(`expected a number in [0, 1], got "${value}"`);
  return parsed;
}

/** `--micro-batch`: a positive integer, or "auto" (sized from `--memory-budget`). */
export function workersValue(value: string): number | 'auto' {
  return value === 'auto' ? 'auto' : positiveInteger(value);
}

export function microBatchValue(value: string): number | 'auto' {
  return value === 'auto' ? 'auto' : positiveInteger(value);
}

/** Sizes such as 512MB, 1.5GB, 300MiB or a plain byte count. */
export function byteSize(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$/i.exec(value);
  if (!match) throw new InvalidArgumentError(`expected a size such as 512MB or 2GB, got "${value}"`);
  const units: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };
  const bytes = Number(match[1]) * units[(match[2] ?? 'b').toLowerCase()]!;
  if (bytes < 1) throw new InvalidArgumentError(`expected a positive size, got "${value}"`);
  return Math.floor(bytes);
}

export function choiceOption(flags: string, description: string, choices: readonly string[], defaultValue?: string): Option {
  const option = new Option(flags, description).choices(choices);
  return defaultValue === undefined ? option : option.default(defaultValue);
}

export const BACKEND_CHOICES = ['auto', 'wasm', 'cpu', 'node'] as const;
