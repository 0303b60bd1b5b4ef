import type * as tf from '@tensorflow/tfjs-core';

/** A trainable parameter with its Hugging Face style name (used for no-decay rules and checkpoints). */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

export type ScheduleKind = 'constant' | 'linear' | 'cosine';

/** JSON-serialisable optimizer state (moments as plain number arrays keyed by parameter name). */
export interface OptimizerState {
  kind: 'adamw' | 'sgd';
  /** Number of optimizer steps taken. */
  step: number;
  /** Per parameter name, per slot name ('m', 'v', 'momentum'), the flat float32 values. */
  slots: Record<string, Record<string, number[]>>;
}

/**
 * PyTorch-semantics optimizer. `step` applies one update to every parameter from the given
 * (already unscaled, clipped) gradients, in the same order as `params`, at learning rate `lr`.
 * It must not keep references to `grads` and must dispose every temporary it creates.
 */
export interface Optimizer {
  readonly kind: 'adamw' | 'sgd';
  step(params: readonly NamedVariable[], grads: readonly tf.Tensor[], lr: number): void;
  getState(): OptimizerState;
  setState(state: OptimizerState): void;
  dispose(): void;
}
