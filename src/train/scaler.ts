/**
 * Dynamic loss scaling with `torch.cuda.amp.GradScaler` semantics (docs/design.md §4).
 *
 * The scaler only does bookkeeping: the accumulator multiplies each micro-batch loss by
 * `scale`, divides the accumulated gradient by it again, and reports whether the result is
 * finite; `update` then backs off or grows the scale, once per window (per attempt, when a
 * window is retried).
 *
 * On TF.js's cpu and wasm backends every tensor is float32, so scaling does not protect
 * half-precision gradients from underflow as it does on a GPU. It is still useful and fully
 * exercised: a power-of-two scale changes no float32 result (it only shifts exponents), while
 * the non-finite check catches overflowing gradients, skipping or retrying the window instead
 * of writing Inf/NaN into the weights. The scaler is disabled by default.
 */
import { ConfigError } from '../core/errors.js';
import type { LossScalerState, OverflowPolicy } from './types.js';

export interface LossScalerOptions {
  /** Default false: scale stays 1 and never changes. */
  enabled?: boolean;
  /** Default 2^16, as GradScaler. */
  initScale?: number;
  /** Default 2. */
  growthFactor?: number;
  /** Default 0.5. */
  backoffFactor?: number;
  /** Consecutive finite windows before the scale grows. Default 2000. */
  growthInterval?: number;
  /** Default 'skip', as GradScaler. */
  onOverflow?: OverflowPolicy;
  /** Recomputations of one window under 'retry' before it is skipped. Default 8. */
  maxRetries?: number;
}

export class LossScaler {
  private state: LossScalerState;

  constructor(options: LossScalerOptions = {}) {
    const state: LossScalerState = {
      enabled: options.enabled ?? false,
      scale: options.initScale ?? 2 ** 16,
      growthFactor: options.growthFactor ?? 2,
      backoffFactor: options.backoffFactor ?? 0.5,
      growthInterval: options.growthInterval ?? 2000,
      growthTracker: 0,
      onOverflow: options.onOverflow ?? 'skip',
      maxRetries: options.maxRetries ?? 8,
    };
    validateState(state);
    this.state = state;
  }

  get enabled(): boolean {
    return this.state.enabled;
  }

  /** The factor the loss is multiplied by: 1 when disabled. */
  get scale(): number {
    return this.state.enabled ? this.state.scale : 1;
  }

  get onOverflow(): OverflowPolicy {
    return this.state.onOverflow;
  }

  get maxRetries(): number {
    return this.state.maxRetries;
  }

  /**
   * GradScaler.update: after a non-finite gradient multiply the scale by `backoffFactor` and
   * restart the count; after `growthInterval` consecutive finite windows multiply it by
   * `growthFactor`. A disabled scaler never changes.
   */
  update(foundInf: boolean): void {
    const state = this.state;
    if (!state.enabled) return;
    if (foundInf) {
      state.scale *= state.backoffFactor;
      state.growthTracker = 0;
      return;
    }
    state.growthTracker += 1;
    if (state.growthTracker === state.growthInterval) {
      state.scale *= state.growthFactor;
      state.growthTracker = 0;
    }
  }

  /** A JSON-serialisable copy of the whole state (options included). */
  getState(): LossScalerState {
    return { ...this.state };
  }

  /** Restores a state from `getState` (validated: a ConfigError names the bad field). */
  setState(state: LossScalerState): void {
    const copy = { ...state };
    validateState(copy);
    this.state = copy;
  }
}

function validateState(state: LossScalerState): void {
  if (typeof state.enabled !== 'boolean') throw new ConfigError(`scaler enabled must be a boolean, got ${String(state.enabled)}`);
  if (!isPositiveFinite(state.scale)) throw new ConfigError(`scaler scale must be a positive finite number, got ${String(state.scale)}`);
  if (!isPositiveFinite(state.growthFactor) || state.growthFactor <= 1) {
    throw new ConfigError(`scaler growthFactor must be a finite number > 1, got ${String(state.growthFactor)}`);
  }
  if (!isPositiveFinite(state.backoffFactor) || state.backoffFactor >= 1) {
    throw new ConfigError(`scaler backoffFactor must be in (0, 1), got ${String(state.backoffFactor)}`);
  }
  if (!Number.isSafeInteger(state.growthInterval) || state.growthInterval < 1) {
    throw new ConfigError(`scaler growthInterval must be a positive integer, got ${String(state.growthInterval)}`);
  }
  if (!Number.isSafeInteger(state.growthTracker) || state.growthTracker < 0 || state.growthTracker >= state.growthInterval) {
    throw new ConfigError(`scaler growthTracker must be an integer in [0, growthInterval), got ${String(state.growthTracker)}`);
  }
  if (state.onOverflow !== 'skip' && state.onOverflow !== 'retry') {
    throw new ConfigError(`scaler onOverflow must be "skip" or "retry", got ${JSON.stringify(state.onOverflow)}`);
  }
  if (!Number.isSafeInteger(state.maxRetries) || state.maxRetries < 0) {
    throw new ConfigError(`scaler maxRetries must be an integer ≥ 0, got ${String(state.maxRetries)}`);
  }
}

function isPositiveFinite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}
