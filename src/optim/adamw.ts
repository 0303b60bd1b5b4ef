/**
 * AdamW with `torch.optim.AdamW` semantics (single-tensor implementation, amsgrad off), on host
 * arrays, every operation rounded to float32 in this order:
 *
 *     p ← p · (1 − lr·wd)                    decoupled decay, applied first, skipped for no-decay names
 *     m ← m + (g − m)(1 − β1)                torch's lerp_
 *     v ← β2·v + (1 − β2)·g²
 *     denom ← sqrt(v) / sqrt(1 − β2^t) + eps
 *     p ← p + (−lr / (1 − β1^t)) · m / denom
 *
 * Scalars are float32 too (as TF.js and torch use them on float32 tensors). A native kernel
 * registered as the host `adamw` (src/core/host.ts) must give bit-identical results.
 *
 * Defaults: betas (0.9, 0.999), eps 1e-8, weightDecay 0 — note torch's own default weight
 * decay is 1e-2; ours is 0 to match the CLI, so decay only happens when asked for.
 */
import { CheckpointError, ConfigError } from '../core/errors.js';
import { hostKernels, type AdamWKernelArgs } from '../core/host.js';
import { isNoDecayParameter } from './decay.js';
import { SlotStore, checkNonNegative, checkState, checkStepArguments } from './slots.js';
import type { HostParameter, Optimizer, OptimizerState } from './types.js';

export interface AdamWOptions {
  /** Decoupled weight decay (≥ 0). Default 0. */
  weightDecay?: number;
  /** (β1, β2), each in [0, 1). Default (0.9, 0.999). */
  betas?: readonly [number, number];
  /** Added to the denominator (≥ 0). Default 1e-8. */
  eps?: number;
}

const ADAMW_SLOTS = ['m', 'v'] as const;
const f32 = Math.fround;

/** One AdamW update of `param` in place: the reference every native kernel is held to. */
export function adamwUpdate(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, args: AdamWKernelArgs): void {
  const decay = f32(args.decayFactor);
  const oneMinusBeta1 = f32(1 - args.beta1);
  const beta2 = f32(args.beta2);
  const oneMinusBeta2 = f32(1 - args.beta2);
  const correction = f32(args.biasCorrection2Sqrt);
  const eps = f32(args.eps);
  const negativeStep = f32(-args.stepSize);
  for (let i = 0; i < param.length; i++) {
    const g = grad[i]!;
    const p = decay === 1 ? param[i]! : f32(param[i]! * decay);
    const nextM = f32(m[i]! + f32(f32(g - m[i]!) * oneMinusBeta1));
    const nextV = f32(f32(v[i]! * beta2) + f32(f32(g * g) * oneMinusBeta2));
    const denom = f32(f32(f32(Math.sqrt(nextV)) / correction) + eps);
    m[i] = nextM;
    v[i] = nextV;
    param[i] = f32(p + f32(f32(nextM * negativeStep) / denom));
  }
}

export class AdamW implements Optimizer {
  readonly kind = 'adamw';
  readonly weightDecay: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  private stepCount = 0;
  private readonly slots = new SlotStore();

  constructor(options: AdamWOptions = {}) {
    this.weightDecay = options.weightDecay ?? 0;
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    checkNonNegative('weightDecay', this.weightDecay);
    checkNonNegative('eps', this.eps);
    if (!Array.isArray(this.betas) || this.betas.length !== 2) throw new ConfigError(`must be a pair of numbers, got ${String(this.betas)}`, { field: 'betas' });
    for (const [index, beta] of this.betas.entries()) {
      if (typeof beta !== 'number' || !(beta >= 0 && beta < 1)) throw new ConfigError(`must be in [0, 1), got ${String(beta)}`, { field: `betas[${index}]` });
    }
  }

  step(params: readonly HostParameter[], lr: number): void {
    checkStepArguments(params, lr);
    const [beta1, beta2] = this.betas;
    const step = this.stepCount + 1;
    const moments = params.map((param) => this.moments(param));
    const kernel = hostKernels()?.adamw ?? adamwUpdate;
    for (const [index, param] of params.entries()) {
      const { m, v } = moments[index]!;
      const decays = this.weightDecay > 0 && !isNoDecayParameter(param.name);
      kernel(param.values, param.grad, m, v, {
        lr,
        beta1,
        beta2,
        eps: this.eps,
        decayFactor: decays ? 1 - lr * this.weightDecay : 1,
        stepSize: lr / (1 - beta1 ** step),
        biasCorrection2Sqrt: Math.sqrt(1 - beta2 ** step),
      });
    }
    this.stepCount = step;
  }

  getState(options: { copy?: boolean } = {}): OptimizerState {
    return { kind: 'adamw', step: this.stepCount, slots: this.slots.save(options.copy ?? true) };
  }

  setState(state: OptimizerState): void {
    this.stepCount = checkState(state, 'adamw');
    this.slots.load(state.slots, ADAMW_SLOTS);
  }

  stateBytes(): number {
    return this.slots.bytes();
  }

  dispose(): void {
    this.slots.dispose();
    this.stepCount = 0;
  }

  /** The parameter's (m, v), zeros on its first step; every parameter must take part from step 1. */
  private moments(param: HostParameter): { m: Float32Array; v: Float32Array } {
    const m = this.slots.find(param, 'm');
    const v = this.slots.find(param, 'v');
    if (m !== undefined && v !== undefined) return { m, v };
    if (m !== undefined || v !== undefined) throw new CheckpointError(`optimizer state of ${param.name} has only one of "m" and "v"`);
    // Bias correction uses one global step count, which is only right for moments started at step 1.
    if (this.stepCount > 0) {
      throw new ConfigError(`parameter ${param.name} has no AdamW state although ${this.stepCount} steps were taken: every parameter must be updated from the first step`);
    }
    return {
      m: this.slots.create(param.name, 'm', new Float32Array(param.values.length)),
      v: this.slots.create(param.name, 'v', new Float32Array(param.values.length)),
    };
  }
}
