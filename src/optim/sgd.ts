/**
 * SGD with `torch.optim.SGD` semantics (single-tensor implementation):
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
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors.js';
import { isNoDecayParameter } from './decay.js';
import { SlotStore, checkNonNegative, checkState, checkStepArguments } from './slots.js';
import type { NamedVariable, Optimizer, OptimizerState } from './types.js';

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
    if (typeof this.nesterov !== 'boolean') throw new ConfigError(`nesterov must be a boolean, got ${String(this.nesterov)}`);
    if (this.nesterov && (this.momentum === 0 || this.dampening !== 0)) {
      throw new ConfigError('nesterov momentum requires momentum > 0 and dampening 0');
    }
  }

  step(params: readonly NamedVariable[], grads: readonly tf.Tensor[], lr: number): void {
    checkStepArguments(params, grads, lr);
    const buffers = params.map((param) => (this.momentum !== 0 ? this.slots.find(param, 'momentum') : undefined));
    for (const [index, param] of params.entries()) {
      const grad = grads[index]!;
      const decays = this.weightDecay > 0 && !isNoDecayParameter(param.name);
      tf.tidy(() => {
        let direction = decays ? tf.add(grad, tf.mul(param.variable, this.weightDecay)) : grad;
        if (this.momentum !== 0) {
          let buffer = buffers[index];
          if (buffer === undefined) {
            buffer = this.slots.create(param.name, 'momentum', tf.clone(direction));
          } else {
            buffer.assign(tf.add(tf.mul(buffer, this.momentum), tf.mul(direction, 1 - this.dampening)));
          }
          direction = this.nesterov ? tf.add(direction, tf.mul(buffer, this.momentum)) : buffer;
        }
        param.variable.assign(tf.add(param.variable, tf.mul(direction, -lr)));
      });
    }
    this.stepCount += 1;
  }

  getState(): OptimizerState {
    return { kind: 'sgd', step: this.stepCount, slots: this.slots.save() };
  }

  setState(state: OptimizerState): void {
    this.stepCount = checkState(state, 'sgd');
    this.slots.load(state.slots, SGD_SLOTS);
  }

  dispose(): void {
    this.slots.dispose();
    this.stepCount = 0;
  }
}
