/**
 * Typed errors. Every error microbatch throws on bad input is one of these, with a
 * message that names what is wrong (and, for data, the file, line and field).
 */
export class MicrobatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bad option or hyper-parameter (non-integer size, batch < microBatch, unknown policy, NaN lr …). */
export class ConfigError extends MicrobatchError {}

/** A bad dataset row or file. `file`, `line` (1-based) and `field` are set where known. */
export class DataError extends MicrobatchError {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly field?: string,
  ) {
    super(
      [file !== undefined ? file : undefined, line !== undefined ? `line ${line}` : undefined, field !== undefined ? `field "${field}"` : undefined]
        .filter((part) => part !== undefined)
        .join(', ') + (file !== undefined || line !== undefined || field !== undefined ? ': ' : '') + message,
    );
  }
}

/** A malformed, hostile or incompatible checkpoint (safetensors, config.json, vocab …). */
export class CheckpointError extends MicrobatchError {}

/** A worker of the pool crashed or answered with an error. */
export class WorkerError extends MicrobatchError {}
