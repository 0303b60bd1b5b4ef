/**
 * SGD with `torch.optim.SGD` semantics (single-tensor implementation), on host arrays, every
 * operation rounded to float32:
 *
 *     d ← g + wd·p                            coupled weight decay, skipped for no-decay names
 *     b ← d on a parameter's first step, else momentum·b + (1 − dampening)·d
 *     d ← d + momentum·b (nesterov) or b      only when momentum ≠ 0
 *     p ← p − lr·d
 *
 * Defaults as torch: momentum 0, dampening 0, nesterov false, weightDecay 0. Biases and
 * LayerNorm parameters get no weight decay, the same name rule as AdamW (torch itself decays
 * every parameter unless param groups say otherwise; this mirrors the HF Trainer's groups).
 */
import { ConfigError } from '../core/errors.js';
import { hostKernels, type SgdKernelArgs } from '../core/host.js';
import { isNoDecayParameter } from './decay.js';
import { SlotStore, checkNonNegative, checkState, checkStepArguments } from './slots.js';
import type { HostParameter, Optimizer, OptimizerState } from './types.js';

export interface SGDOptions {
  /** Momentum factor (≥ 0). Default 0: plain SGD, no state. */
  momentum?: number;
  /** Dampening of the momentum update (≥ 0). Default 0. */
  dampening?: number;
  /** Nesterov momentum; needs momentum > 0 and dampening 0, as in torch. Default false. */
  nesterov?: boolean;
  /** Coupled (L2) weight decay (≥ 0). Default 0. */
  weightDecay?: number;
}

const SGD_SLOTS = ['momentum'] as const;
const f32 = Math.fround;

/** One SGD update of `values` in place: the reference every native kernel is held to. */
export function sgdUpdate(values: Float32Array, grad: Float32Array, buffer: Float32Array | undefined, args: SgdKernelArgs): void {
  const decay = f32(args.weightDecay);
  const momentum = f32(args.momentum);
  const keep = f32(1 - args.dampening);
  const negativeLr = f32(-args.lr);
  for (let i = 0; i < values.length; i++) {
    let direction = decay !== 0 ? f32(grad[i]! + f32(values[i]! * decay)) : grad[i]!;
    if (buffer !== undefined) {
      buffer[i] = args.firstStep ? direction : f32(f32(buffer[i]! * momentum) + f32(direction * keep));
      direction = args.nesterov ? f32(direction + f32(buffer[i]! * momentum)) : buffer[i]!;
    }
    values[i] = f32(values[i]! + f32(direction * negativeLr));
  }
}

export class SGD implements Optimizer {
  readonly kind = 'sgd';
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  private stepCount = 0;
  private readonly slots = new SlotStore();

  constructor(options: SGDOptions = {}) {
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = options.weightDecay ?? 0;
    checkNonNegative('momentum', this.momentum);
    checkNonNegative('dampening', this.dampening);
    checkNonNegative('weightDecay', this.weightDecay);
    if (typeof this.nesterov !== 'boolean') throw new ConfigError(`must be a boolean, got ${String(this.nesterov)}`, { field: 'nesterov' });
    if (this.nesterov && (this.momentum === 0 || this.dampening !== 0)) {
      throw new ConfigError('momentum requires momentum > 0 and dampening 0', { field: 'nesterov' });
    }
  }

  step(params: readonly HostParameter[], lr: number): void {
    checkStepArguments(params, lr);
    const kernel = hostKernels()?.sgd ?? sgdUpdate;
    for (const param of params) {
      const { values, grad } = param;
      const decays = this.weightDecay > 0 && !isNoDecayParameter(param.name);
      const existing = this.momentum !== 0 ? this.slots.find(param, 'momentum') : undefined;
      const buffer = this.momentum !== 0 && existing === undefined ? this.slots.create(param.name, 'momentum', new Float32Array(values.length)) : existing;
      kernel(values, grad, buffer, {
        weightDecay: decays ? this.weightDecay : 0,
        momentum: this.momentum,
        dampening: this.dampening,
        nesterov: this.nesterov,
        firstStep: existing === undefined,
        lr,
      });
    }
    this.stepCount += 1;
  }

  getState(options: { copy?: boolean } = {}): OptimizerState {
    return { kind: 'sgd', step: this.stepCount, slots: this.slots.save(options.copy ?? true) };
  }

  setState(state: OptimizerState): void {
    this.stepCount = checkState(state, 'sgd');
    this.slots.load(state.slots, SGD_SLOTS);
  }

  stateBytes(): number {
    return this.slots.bytes();
  }

  dispose(): void {
    this.slots.dispose();
    this.stepCount = 0;
  }
}
