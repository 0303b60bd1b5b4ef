/**
 * AdamW with `torch.optim.AdamW` semantics (single-tensor implementation, amsgrad off):
 *
 *     p ← p · (1 − lr·wd)                    decoupled decay, applied first, skipped for no-decay names
 *     m ← m + (g − m)(1 − β1)                torch's lerp_
 *     v ← β2·v + (1 − β2)·g²
 *     denom ← sqrt(v) / sqrt(1 − β2^t) + eps
 *     p ← p + (−lr / (1 − β1^t)) · m / denom
 *
 * Defaults: betas (0.9, 0.999), eps 1e-8, weightDecay 0 — note torch's own default weight
 * decay is 1e-2; ours is 0 to match the CLI, so decay only happens when asked for.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, ConfigError } from '../core/errors.js';
import { isNoDecayParameter } from './decay.js';
import { SlotStore, checkNonNegative, checkState, checkStepArguments } from './slots.js';
import type { NamedVariable, Optimizer, OptimizerState } from './types.js';

export interface AdamWOptions {
  /** Decoupled weight decay (≥ 0). Default 0. */
  weightDecay?: number;
  /** (β1, β2), each in [0, 1). Default (0.9, 0.999). */
  betas?: readonly [number, number];
  /** Added to the denominator (≥ 0). Default 1e-8. */
  eps?: number;
}

const ADAMW_SLOTS = ['m', 'v'] as const;

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
    if (!Array.isArray(this.betas) || this.betas.length !== 2) throw new ConfigError(`betas must be a pair of numbers, got ${String(this.betas)}`);
    for (const [index, beta] of this.betas.entries()) {
      if (typeof beta !== 'number' || !(beta >= 0 && beta < 1)) throw new ConfigError(`betas[${index}] must be in [0, 1), got ${String(beta)}`);
    }
  }

  step(params: readonly NamedVariable[], grads: readonly tf.Tensor[], lr: number): void {
    checkStepArguments(params, grads, lr);
    const [beta1, beta2] = this.betas;
    const step = this.stepCount + 1;
    const stepSize = lr / (1 - beta1 ** step);
    const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** step);
    const moments = params.map((param) => this.moments(param));
    for (const [index, param] of params.entries()) {
      const grad = grads[index]!;
      const { m, v } = moments[index]!;
      const decays = this.weightDecay > 0 && !isNoDecayParameter(param.name);
      tf.tidy(() => {
        const decayed = decays ? tf.mul(param.variable, 1 - lr * this.weightDecay) : param.variable;
        const nextM = tf.add(m, tf.mul(tf.sub(grad, m), 1 - beta1));
        const nextV = tf.add(tf.mul(v, beta2), tf.mul(tf.mul(grad, grad), 1 - beta2));
        const denom = tf.add(tf.div(tf.sqrt(nextV), biasCorrection2Sqrt), this.eps);
        const nextParam = tf.add(decayed, tf.div(tf.mul(nextM, -stepSize), denom));
        m.assign(nextM);
        v.assign(nextV);
        param.variable.assign(nextParam);
      });
    }
    this.stepCount = step;
  }

  getState(): OptimizerState {
    return { kind: 'adamw', step: this.stepCount, slots: this.slots.save() };
  }

  setState(state: OptimizerState): void {
    this.stepCount = checkState(state, 'adamw');
    this.slots.load(state.slots, ADAMW_SLOTS);
  }

  dispose(): void {
    this.slots.dispose();
    this.stepCount = 0;
  }

  /** The parameter's (m, v), zeros on its first step; every parameter must take part from step 1. */
  private moments(param: NamedVariable): { m: tf.Variable; v: tf.Variable } {
    const m = this.slots.find(param, 'm');
    const v = this.slots.find(param, 'v');
    if (m !== undefined && v !== undefined) return { m, v };
    if (m !== undefined || v !== undefined) throw new CheckpointError(`optimizer state of ${param.name} has only one of "m" and "v"`);
    // Bias correction uses one global step count, which is only right for moments started at step 1.
    if (this.stepCount > 0) {
      throw new ConfigError(`parameter ${param.name} has no AdamW state although ${this.stepCount} steps were taken: every parameter must be updated from the first step`);
    }
    return {
      m: this.slots.create(param.name, 'm', tf.zerosLike(param.variable)),
      v: this.slots.create(param.name, 'v', tf.zerosLike(param.variable)),
    };
  }
}
