import { ConfigError } from '../core/errors.js';
import { AdamW } from './adamw.js';
import { SGD } from './sgd.js';
import type { Optimizer } from './types.js';

export type { HostParameter, Optimizer, OptimizerState, ScheduleKind } from './types.js';
export { AdamW, type AdamWOptions } from './adamw.js';
export { SGD, type SGDOptions } from './sgd.js';
export { isNoDecayParameter } from './decay.js';
export { SCHEDULE_KINDS, lrMultiplier, validateSchedule, type ScheduleOptions } from './schedule.js';

export type OptimizerKind = Optimizer['kind'];
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['adamw', 'sgd'];

export interface OptimizerOptions {
  kind: OptimizerKind;
  /** AdamW: decoupled; SGD: coupled (L2). Default 0. Never applied to biases and LayerNorm. */
  weightDecay?: number;
  /** AdamW only. Default (0.9, 0.999). */
  betas?: readonly [number, number];
  /** AdamW only. Default 1e-8. */
  eps?: number;
  /** SGD only. Default 0. */
  momentum?: number;
  /** SGD only. Default 0. */
  dampening?: number;
  /** SGD only. Default false. */
  nesterov?: boolean;
}

const ADAMW_ONLY = ['betas', 'eps'] as const;
const SGD_ONLY = ['momentum', 'dampening', 'nesterov'] as const;

/** The optimizer `options.kind` names; a ConfigError for bad values or options of the other kind. */
export function createOptimizer(options: OptimizerOptions): Optimizer {
  if (!OPTIMIZER_KINDS.includes(options.kind)) {
    throw new ConfigError(`optimizer must be one of ${OPTIMIZER_KINDS.join(', ')}, got ${JSON.stringify(options.kind)}`);
  }
  // An option the chosen optimizer ignores is almost always a mistake (e.g. --momentum with adamw).
  const foreign = options.kind === 'adamw' ? SGD_ONLY : ADAMW_ONLY;
  for (const field of foreign) {
    if (options[field] !== undefined) throw new ConfigError(`option ${field} does not apply to the ${options.kind} optimizer`);
  }
  if (options.kind === 'adamw') {
    return new AdamW({ weightDecay: options.weightDecay, betas: options.betas, eps: options.eps });
  }
  return new SGD({ weightDecay: options.weightDecay, momentum: options.momentum, dampening: options.dampening, nesterov: options.nesterov });
}
