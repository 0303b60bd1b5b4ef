/**
 * Per-parameter optimizer slots (moments, momentum buffers) kept as non-trainable tf.Variables,
 * keyed by parameter name and created lazily on the first step that needs them. State restored
 * by `load` stays as plain numbers until that parameter's next step gives it a shape, so a
 * save/restore round trip is exact even for slots not yet materialised.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, ConfigError } from '../core/errors.js';
import type { NamedVariable, OptimizerState } from './types.js';

export class SlotStore {
  private readonly variables = new Map<string, Map<string, tf.Variable>>();
  private pending = new Map<string, Map<string, number[]>>();

  /** The slot's variable, materialising restored values; undefined if the slot never existed. */
  find(param: NamedVariable, slot: string): tf.Variable | undefined {
    const existing = this.variables.get(param.name)?.get(slot);
    if (existing !== undefined) {
      if (!shapesEqual(existing.shape, param.variable.shape)) {
        throw new ConfigError(`parameter ${param.name} has shape [${param.variable.shape}] but its optimizer state has [${existing.shape}]`);
      }
      return existing;
    }
    const restored = this.pending.get(param.name)?.get(slot);
    if (restored === undefined) return undefined;
    if (restored.length !== param.variable.size) {
      throw new CheckpointError(`optimizer state "${slot}" of ${param.name} has ${restored.length} values, the parameter has ${param.variable.size}`);
    }
    this.pending.get(param.name)!.delete(slot);
    return this.create(param.name, slot, tf.tensor(restored, param.variable.shape, 'float32'));
  }

  /** A new slot variable holding `initial` (which the store takes over and disposes). */
  create(name: string, slot: string, initial: tf.Tensor): tf.Variable {
    // Unnamed: TF.js variable names are global, and two optimizers may hold the same parameter names.
    const variable = tf.variable(initial, false);
    initial.dispose();
    let byName = this.variables.get(name);
    if (byName === undefined) this.variables.set(name, (byName = new Map()));
    byName.set(slot, variable);
    return variable;
  }

  /** All slot values as float32 numbers (exact: every float32 is a double). */
  save(): Record<string, Record<string, number[]>> {
    const out: Record<string, Record<string, number[]>> = {};
    for (const [name, slots] of this.pending) {
      for (const [slot, values] of slots) (out[name] ??= {})[slot] = [...values];
    }
    for (const [name, slots] of this.variables) {
      for (const [slot, variable] of slots) (out[name] ??= {})[slot] = toNumbers(variable.dataSync() as Float32Array);
    }
    return out;
  }

  /** Replaces every slot by `slots` (validated: names → slot names → arrays of numbers). */
  load(slots: unknown, allowedSlots: readonly string[]): void {
    if (typeof slots !== 'object' || slots === null || Array.isArray(slots)) throw new CheckpointError('optimizer state: slots must be an object');
    const pending = new Map<string, Map<string, number[]>>();
    for (const [name, byName] of Object.entries(slots)) {
      if (typeof byName !== 'object' || byName === null || Array.isArray(byName)) {
        throw new CheckpointError(`optimizer state of ${name} must be an object of slots`);
      }
      const entries = new Map<string, number[]>();
      for (const [slot, values] of Object.entries(byName as Record<string, unknown>)) {
        if (!allowedSlots.includes(slot)) throw new CheckpointError(`optimizer state of ${name} has unknown slot "${slot}" (expected ${allowedSlots.join(', ')})`);
        if (!Array.isArray(values) || values.some((value) => typeof value !== 'number')) {
          throw new CheckpointError(`optimizer state "${slot}" of ${name} must be an array of numbers`);
        }
        // Rounded to float32 now, so getState before the next step returns what the slot will hold.
        entries.set(slot, Array.from(Float32Array.from(values as number[])));
      }
      pending.set(name, entries);
    }
    this.dispose();
    this.pending = pending;
  }

  dispose(): void {
    for (const slots of this.variables.values()) for (const variable of slots.values()) variable.dispose();
    this.variables.clear();
    this.pending.clear();
  }
}

/**
 * The values as a plain array. A loop into a preallocated array is ≈ 3× faster than
 * Array.from on the millions of values of a BERT's moments (saved at every epoch end).
 */
function toNumbers(values: Float32Array): number[] {
  const numbers = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) numbers[i] = values[i]!;
  return numbers;
}

/**
 * Checks what every optimizer needs of `step`'s arguments: one float32 gradient per parameter
 * with its shape, unique parameter names (slots are keyed by name) and a finite lr ≥ 0.
 */
export function checkStepArguments(params: readonly NamedVariable[], grads: readonly tf.Tensor[], lr: number): void {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) throw new ConfigError(`learning rate must be a finite number ≥ 0, got ${String(lr)}`);
  if (params.length !== grads.length) throw new ConfigError(`got ${grads.length} gradients for ${params.length} parameters`);
  const names = new Set<string>();
  for (const [index, param] of params.entries()) {
    if (names.has(param.name)) throw new ConfigError(`parameter name ${param.name} appears twice`);
    names.add(param.name);
    const grad = grads[index]!;
    if (!shapesEqual(grad.shape, param.variable.shape)) {
      throw new ConfigError(`gradient of ${param.name} has shape [${grad.shape}], the parameter has [${param.variable.shape}]`);
    }
    if (grad.dtype !== 'float32' || param.variable.dtype !== 'float32') throw new ConfigError(`parameter ${param.name} and its gradient must be float32`);
  }
}

/** Validates the common fields of a saved state and returns its step count. */
export function checkState(state: OptimizerState, kind: OptimizerState['kind']): number {
  if (typeof state !== 'object' || state === null) throw new CheckpointError('optimizer state must be an object');
  if (state.kind !== kind) throw new CheckpointError(`optimizer state is for ${String(state.kind)}, this optimizer is ${kind}`);
  if (!Number.isSafeInteger(state.step) || state.step < 0) throw new CheckpointError(`optimizer state step must be an integer ≥ 0, got ${String(state.step)}`);
  return state.step;
}

export function checkNonNegative(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ConfigError(`${field} must be a finite number ≥ 0, got ${String(value)}`);
}

function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, index) => dim === b[index]);
}
