/** A parameter as an optimizer sees it: its host values (updated in place) and its gradient. */
export interface HostParameter {
  /** HF-style name (used for the no-decay rule and for the optimizer state's keys). */
  readonly name: string;
  readonly values: Float32Array;
  /** Already unscaled and clipped; same length as `values`. */
  readonly grad: Float32Array;
}

export type ScheduleKind = 'constant' | 'linear' | 'cosine';

/** Optimizer state: moments per parameter name and slot name ('m', 'v', 'momentum'), as float32 arrays. */
export interface OptimizerState {
  kind: 'adamw' | 'sgd';
  /** Number of optimizer steps taken. */
  step: number;
  slots: Record<string, Record<string, Float32Array>>;
}

/**
 * PyTorch-semantics optimizer over host arrays. `step` applies one update to every parameter
 * in place at learning rate `lr`.
 */
export interface Optimizer {
  readonly kind: 'adamw' | 'sgd';
  step(params: readonly HostParameter[], lr: number): void;
  /**
   * The state: a copy (safe to keep while training goes on), or with `copy: false` views of the
   * live moments for a caller that writes them out before the next step (a large model's moments
   * are twice its size).
   */
  getState(options?: { copy?: boolean }): OptimizerState;
  setState(state: OptimizerState): void;
  /** Bytes of optimizer state held now. */
  stateBytes(): number;
  dispose(): void;
}
