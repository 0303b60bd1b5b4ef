/**
 * Per-parameter optimizer slots (moments, momentum buffers) as host Float32Arrays keyed by
 * parameter name and slot name, created on the first step that needs them.
 */
import { CheckpointError, ConfigError } from '../core/errors.js';
import type { HostParameter, OptimizerState } from './types.js';

export class SlotStore {
  private slots = new Map<string, Map<string, Float32Array>>();

  /** The slot's values; undefined if the slot never existed. Checked against the parameter's size. */
  find(param: HostParameter, slot: string): Float32Array | undefined {
    const values = this.slots.get(param.name)?.get(slot);
    if (values !== undefined && values.length !== param.values.length) {
      throw new CheckpointError(`optimizer state "${slot}" of ${param.name} has ${values.length} values, the parameter has ${param.values.length}`);
    }
    return values;
  }

  /** A new slot holding `initial` (taken over, not copied). */
  create(name: string, slot: string, initial: Float32Array): Float32Array {
    let byName = this.slots.get(name);
    if (byName === undefined) this.slots.set(name, (byName = new Map()));
    byName.set(slot, initial);
    return initial;
  }

  /** Every slot: copies, or the live arrays. */
  save(copy: boolean): Record<string, Record<string, Float32Array>> {
    const out: Record<string, Record<string, Float32Array>> = {};
    for (const [name, slots] of this.slots) for (const [slot, values] of slots) (out[name] ??= {})[slot] = copy ? Float32Array.from(values) : values;
    return out;
  }

  /** Replaces every slot by copies of `slots` (validated: names → slot names → Float32Arrays). */
  load(slots: unknown, allowedSlots: readonly string[]): void {
    if (typeof slots !== 'object' || slots === null || Array.isArray(slots)) throw new CheckpointError('optimizer state: slots must be an object');
    const loaded = new Map<string, Map<string, Float32Array>>();
    for (const [name, byName] of Object.entries(slots)) {
      if (typeof byName !== 'object' || byName === null || Array.isArray(byName)) {
        throw new CheckpointError(`optimizer state of ${name} must be an object of slots`);
      }
      const entries = new Map<string, Float32Array>();
      for (const [slot, values] of Object.entries(byName as Record<string, unknown>)) {
        if (!allowedSlots.includes(slot)) throw new CheckpointError(`optimizer state of ${name} has unknown slot "${slot}" (expected ${allowedSlots.join(', ')})`);
        if (!(values instanceof Float32Array)) throw new CheckpointError(`optimizer state "${slot}" of ${name} must be a Float32Array`);
        entries.set(slot, Float32Array.from(values));
      }
      loaded.set(name, entries);
    }
    this.slots = loaded;
  }

  bytes(): number {
    let bytes = 0;
    for (const slots of this.slots.values()) for (const values of slots.values()) bytes += values.byteLength;
    return bytes;
  }

  dispose(): void {
    this.slots.clear();
  }
}

/** Checks what every optimizer needs of `step`'s arguments: matching sizes, unique names, a finite lr ≥ 0. */
export function checkStepArguments(params: readonly HostParameter[], lr: number): void {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) throw new ConfigError(`must be a finite number ≥ 0, got ${String(lr)}`, { field: 'lr' });
  const names = new Set<string>();
  for (const param of params) {
    if (names.has(param.name)) throw new ConfigError(`parameter name ${param.name} appears twice`);
    names.add(param.name);
    if (param.grad.length !== param.values.length) {
      throw new ConfigError(`gradient of ${param.name} has ${param.grad.length} values, the parameter has ${param.values.length}`);
    }
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
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ConfigError(`must be a finite number ≥ 0, got ${String(value)}`, { field });
}
