/**
 * Typed, structured errors. Every error microbatch throws on bad input is one of these. Each
 * carries what it knows of where the problem is — `file`, `line` (1-based), `field` — apart
 * from the `detail` that says what is wrong, so that a caller can present it in its own terms:
 * the library says `microBatch must be …`, the command line says `--micro-batch must be …`
 * (see `src/cli/errors.ts`), a web page can highlight the field.
 */

export interface ErrorLocation {
  /** The file (or source name, e.g. a dropped file's name) the problem is in. */
  file?: string;
  /** 1-based line of `file`. */
  line?: number;
  /**
   * The field: a data column (`label`), a config key (`hidden_size`), a setting
   * (`microBatch`) or a tensor name, depending on the error type.
   */
  field?: string;
}

export class MicrobatchError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;

  constructor(
    /** What is wrong, without the location. */
    readonly detail: string,
    location: ErrorLocation = {},
  ) {
    super(formatMessage(detail, location, new.target));
    this.name = new.target.name;
    if (location.file !== undefined) this.file = location.file;
    if (location.line !== undefined) this.line = location.line;
    if (location.field !== undefined) this.field = location.field;
  }
}

/**
 * A bad option or hyper-parameter (non-integer size, batch < microBatch, unknown policy, NaN lr …).
 * `field` is the setting's name in the library's terms (`microBatch`, `lr`).
 */
export class ConfigError extends MicrobatchError {}

/** A bad dataset row or file: `file`, `line` and `field` (the column) where known. */
export class DataError extends MicrobatchError {}

/** A malformed, hostile or incompatible checkpoint (safetensors, config.json, vocab …); `field` is a config key or tensor name. */
export class CheckpointError extends MicrobatchError {}

/** A worker of the pool crashed or answered with an error. */
export class WorkerError extends MicrobatchError {}

/** Memory ran out (or would): the message names what fits. */
export class MemoryError extends MicrobatchError {}

/**
 * `file, line 7, field "label": detail` for data and checkpoints; `field detail` for a setting
 * without a file (`microBatch must be …`).
 */
function formatMessage(detail: string, location: ErrorLocation, type: Function): string {
  const { file, line, field } = location;
  if (file === undefined && line === undefined && field !== undefined && type === ConfigError) return `${field} ${detail}`;
  const parts = [file, line !== undefined ? `line ${line}` : undefined, field !== undefined ? `field "${field}"` : undefined].filter(
    (part): part is string => part !== undefined,
  );
  return parts.length > 0 ? `${parts.join(', ')}: ${detail}` : detail;
}
