/**
 * Host stores (docs/design.md §6): the master parameters and the gradient buffers of a model,
 * each one Float32Array arena outside the TF.js heap — a `SharedArrayBuffer` when worker
 * threads share it. Layers read a parameter as a heap tensor (a mirror, refreshed lazily after
 * each optimizer step) or, with host kernels under wasm, straight from the arena.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tensorValues } from '../backend/transfer.js';
import { ConfigError } from '../core/errors.js';
import { hostKernels } from '../core/host.js';
import type { HostParameter } from '../optim/types.js';

export interface ParamSpec {
  /** Unique, HF-style (biases end in "bias", LayerNorm weights contain "LayerNorm"/"layer_norm"). */
  name: string;
  shape: readonly number[];
}

export interface ParamEntry extends ParamSpec {
  index: number;
  size: number;
  /** Offset, in floats, into the arena. */
  offset: number;
}

/** The parameters of a model in a fixed order, with their places in an arena. */
export class ParamLayout {
  readonly entries: readonly ParamEntry[];
  /** Floats in all. */
  readonly size: number;
  private readonly byName: ReadonlyMap<string, number>;

  constructor(specs: readonly ParamSpec[]) {
    if (specs.length === 0) throw new ConfigError('a model needs at least one parameter');
    let offset = 0;
    const byName = new Map<string, number>();
    this.entries = specs.map((spec, index) => {
      if (byName.has(spec.name)) throw new ConfigError(`parameter name ${spec.name} appears twice`);
      if (!spec.shape.every((dim) => Number.isSafeInteger(dim) && dim >= 1)) {
        throw new ConfigError(`parameter ${spec.name} has an invalid shape [${spec.shape}]`);
      }
      byName.set(spec.name, index);
      const size = spec.shape.reduce((product, dim) => product * dim, 1);
      const entry = { name: spec.name, shape: [...spec.shape], index, size, offset };
      offset += size;
      return entry;
    });
    this.size = offset;
    this.byName = byName;
  }

  indexOf(name: string): number {
    const index = this.byName.get(name);
    if (index === undefined) throw new ConfigError(`no parameter named ${name}`);
    return index;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The same names and shapes in the same order. */
  equals(other: ParamLayout): boolean {
    return (
      this.entries.length === other.entries.length &&
      this.entries.every((entry, index) => entry.name === other.entries[index]!.name && tf.util.arraysEqual([...entry.shape], [...other.entries[index]!.shape]))
    );
  }
}

export interface ArenaOptions {
  /** Back the arena with a SharedArrayBuffer (for worker threads); needs cross-origin isolation in browsers. */
  shared?: boolean;
  /** An existing buffer of `layout.size` floats to use (e.g. one received from another thread). */
  buffer?: ArrayBufferLike;
}

/** One float per parameter value, in layout order. */
export class HostArena {
  readonly data: Float32Array;
  private readonly views: Float32Array[];

  constructor(
    readonly layout: ParamLayout,
    options: ArenaOptions = {},
  ) {
    const bytes = layout.size * Float32Array.BYTES_PER_ELEMENT;
    let buffer = options.buffer;
    if (buffer === undefined) {
      if (options.shared && typeof SharedArrayBuffer === 'undefined') {
        throw new ConfigError('shared memory is not available here (browsers need cross-origin isolation for SharedArrayBuffer)');
      }
      buffer = options.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    }
    if (buffer.byteLength !== bytes) throw new ConfigError(`an arena for this layout needs ${bytes} bytes, got a buffer of ${buffer.byteLength}`);
    this.data = new Float32Array(buffer);
    this.views = layout.entries.map((entry) => this.data.subarray(entry.offset, entry.offset + entry.size));
  }

  get buffer(): ArrayBufferLike {
    return this.data.buffer;
  }

  view(index: number): Float32Array {
    return this.views[index]!;
  }
}

/**
 * Master weights on the host, with heap mirrors for the layers that compute with tensors.
 * A store made `fromVariables` mirrors the caller's own tf.Variables and writes every update
 * back into them at once (user code reads them); other mirrors are refreshed when next asked for.
 */
export class ParameterStore {
  readonly values: HostArena;
  private readonly mirrors: (tf.Tensor | undefined)[];
  private readonly mirrorVersions: number[];
  private version = 0;

  private constructor(
    readonly layout: ParamLayout,
    values: HostArena,
    private readonly bound: readonly tf.Variable[] | undefined,
  ) {
    this.values = values;
    this.mirrors = layout.entries.map((_, index) => bound?.[index]);
    this.mirrorVersions = layout.entries.map(() => 0);
  }

  /** A store with the given values (`values(entry)` fills a parameter; the default leaves zeros). */
  static create(specs: readonly ParamSpec[] | ParamLayout, values?: (entry: ParamEntry, target: Float32Array) => void, options: ArenaOptions = {}): ParameterStore {
    const layout = specs instanceof ParamLayout ? specs : new ParamLayout(specs);
    const arena = new HostArena(layout, options);
    if (values !== undefined && options.buffer === undefined) for (const entry of layout.entries) values(entry, arena.view(entry.index));
    return new ParameterStore(layout, arena, undefined);
  }

  /**
   * A store over the caller's variables (float32): they stay the ones the model computes with.
   * With `arena.buffer` (another thread's shared parameters) the variables take the buffer's
   * values; otherwise the store starts from the variables' values.
   */
  static fromVariables(params: readonly { name: string; variable: tf.Variable }[], arena: ArenaOptions = {}): ParameterStore {
    const layout = new ParamLayout(params.map(({ name, variable }) => ({ name, shape: variable.shape })));
    const values = new HostArena(layout, arena);
    for (const { name, variable } of params) if (variable.dtype !== 'float32') throw new ConfigError(`parameter ${name} must be float32, got ${variable.dtype}`);
    if (arena.buffer === undefined) params.forEach(({ variable }, index) => values.view(index).set(variable.dataSync() as Float32Array));
    const store = new ParameterStore(
      layout,
      values,
      params.map(({ variable }) => variable),
    );
    if (arena.buffer !== undefined) store.markUpdated();
    return store;
  }

  get entries(): readonly ParamEntry[] {
    return this.layout.entries;
  }

  /** The host values of parameter `index` (the master copy; layers must not write them). */
  view(index: number): Float32Array {
    return this.values.view(index);
  }

  /**
   * The parameter as a heap tensor, refreshed if the host values changed since it was made.
   * Owned by the store: do not dispose it.
   */
  tensor(index: number): tf.Tensor {
    const current = this.mirrors[index];
    if (current !== undefined && this.mirrorVersions[index] === this.version) return current;
    const entry = this.layout.entries[index]!;
    const fresh = tf.tensor(this.values.view(index), [...entry.shape], 'float32');
    if (this.bound !== undefined) {
      this.bound[index]!.assign(fresh);
      fresh.dispose();
    } else {
      current?.dispose();
      // Kept: mirrors are made inside layers' tidy scopes but outlive them.
      this.mirrors[index] = tf.keep(fresh);
    }
    this.mirrorVersions[index] = this.version;
    return this.mirrors[index]!;
  }

  /**
   * The host values changed (an optimizer step, a resume, a sync from another thread):
   * mirrors are stale. Bound variables are updated at once.
   */
  markUpdated(): void {
    this.version += 1;
    if (this.bound !== undefined) this.layout.entries.forEach((entry) => this.tensor(entry.index));
  }

  /** The caller's variables of a store made `fromVariables` (their values current), else undefined. */
  boundVariables(): readonly tf.Variable[] | undefined {
    if (this.bound === undefined) return undefined;
    this.layout.entries.forEach((entry) => this.tensor(entry.index));
    return this.bound;
  }

  /** Frees the heap mirrors (they are made again when needed); bound variables are left alone. */
  releaseMirrors(): void {
    if (this.bound !== undefined) return;
    this.mirrors.forEach((mirror, index) => {
      mirror?.dispose();
      this.mirrors[index] = undefined;
    });
  }

  /** Bytes of the heap mirrors alive now. */
  mirrorBytes(): number {
    return this.mirrors.reduce((sum, mirror) => sum + (mirror !== undefined && this.bound === undefined ? mirror.size * 4 : 0), 0);
  }

  dispose(): void {
    this.releaseMirrors();
  }
}

/**
 * Gradient buffers (same layout as the parameters). `zero()` is lazy: a buffer holding logical
 * zeros takes its first contribution by assignment, which saves one pass over every parameter
 * per window, and is cleared only if something reads it before anything was added.
 */
export class GradientStore {
  readonly arena: HostArena;
  private readonly holdsZeros: Uint8Array;

  constructor(
    readonly layout: ParamLayout,
    options: ArenaOptions = {},
  ) {
    this.arena = new HostArena(layout, options);
    // A new arena is a new (Shared)ArrayBuffer: zeros already, and not filling it leaves its
    // pages untouched until a gradient is written (filling bert-base's 340 MiB took 1.1 s).
    this.holdsZeros = new Uint8Array(layout.entries.length).fill(options.buffer === undefined ? 1 : 0);
  }

  /** grad[index] += alpha · values. */
  add(index: number, values: Float32Array, alpha = 1): void {
    const target = this.arena.view(index);
    if (values.length !== target.length) {
      throw new ConfigError(`gradient of ${this.layout.entries[index]!.name} has ${values.length} values, expected ${target.length}`);
    }
    const assign = this.takeZero(index);
    const a = Math.fround(alpha);
    if (assign) {
      if (a === 1) target.set(values);
      else for (let i = 0; i < target.length; i++) target[i] = values[i]! * a;
      return;
    }
    const axpy = hostKernels()?.axpy;
    if (axpy !== undefined) axpy(target, a, values);
    else if (a === 1) for (let i = 0; i < target.length; i++) target[i]! += values[i]!;
    else for (let i = 0; i < target.length; i++) target[i] = Math.fround(target[i]! + Math.fround(values[i]! * a));
  }

  /** grad[index] += alpha · tensor (read in place on wasm). */
  addTensor(index: number, tensor: tf.Tensor, alpha = 1): void {
    this.add(index, tensorValues(tensor), alpha);
  }

  /**
   * For a writer that computes into the buffer directly (e.g. a host sgemm): the buffer, and
   * whether it must assign (true) or accumulate (false). The buffer counts as written afterwards.
   */
  target(index: number): { buffer: Float32Array; assign: boolean } {
    return { buffer: this.arena.view(index), assign: this.takeZero(index) };
  }

  /** The buffer of parameter `index`, for reading. */
  view(index: number): Float32Array {
    this.materialize(index);
    return this.arena.view(index);
  }

  /** Every buffer, in layout order, for reading. */
  views(): Float32Array[] {
    return this.layout.entries.map((entry) => this.view(entry.index));
  }

  /** Sets every buffer to zero (lazily). */
  zero(): void {
    this.holdsZeros.fill(1);
  }

  /** Whether nothing was added since the last `zero()`. */
  isZero(index: number): boolean {
    return this.holdsZeros[index] === 1;
  }

  /** Multiplies every buffer by `factor`. */
  scale(factor: number): void {
    if (factor === 1) return;
    const f = Math.fround(factor);
    const scale = hostKernels()?.scale;
    this.layout.entries.forEach((entry) => {
      if (this.holdsZeros[entry.index]) return;
      const buffer = this.arena.view(entry.index);
      if (scale !== undefined) scale(buffer, f);
      else for (let i = 0; i < buffer.length; i++) buffer[i]! *= f;
    });
  }

  /** True when no buffer holds Inf or NaN. */
  allFinite(): boolean {
    const allFinite = hostKernels()?.allFinite;
    return this.layout.entries.every((entry) => {
      if (this.holdsZeros[entry.index]) return true;
      const buffer = this.arena.view(entry.index);
      if (allFinite !== undefined) return allFinite(buffer);
      // x − x is 0 for finite x and NaN for ±Inf and NaN.
      let check = 0;
      for (let i = 0; i < buffer.length; i++) check += buffer[i]! - buffer[i]!;
      return check === 0;
    });
  }

  /** Σ of squares of every value, in float64 (so a large model does not overflow float32). */
  sumSquares(): number {
    const sumSquares = hostKernels()?.sumSquares;
    let sum = 0;
    this.layout.entries.forEach((entry) => {
      if (this.holdsZeros[entry.index]) return;
      const buffer = this.arena.view(entry.index);
      if (sumSquares !== undefined) {
        sum += sumSquares(buffer);
        return;
      }
      let partial = 0;
      for (let i = 0; i < buffer.length; i++) partial += buffer[i]! * buffer[i]!;
      sum += partial;
    });
    return sum;
  }

  /** this += other (same layout), e.g. a worker's share of the window. */
  addStore(other: GradientStore): void {
    if (!this.layout.equals(other.layout)) throw new ConfigError('cannot add gradients of a different parameter layout');
    for (const entry of this.layout.entries) {
      if (other.isZero(entry.index)) continue;
      this.add(entry.index, other.arena.view(entry.index));
    }
  }

  /** The gradients paired with their parameters, for an optimizer step. */
  pairWith(params: ParameterStore): HostParameter[] {
    if (!this.layout.equals(params.layout)) throw new ConfigError('gradients and parameters have different layouts');
    return this.layout.entries.map((entry) => ({ name: entry.name, values: params.view(entry.index), grad: this.view(entry.index) }));
  }

  private takeZero(index: number): boolean {
    const zero = this.holdsZeros[index] === 1;
    this.holdsZeros[index] = 0;
    return zero;
  }

  private materialize(index: number): void {
    if (this.holdsZeros[index] !== 1) return;
    this.arena.view(index).fill(0);
    this.holdsZeros[index] = 0;
  }
}
