import type { EpochPlan } from './types.js';

/**
 * One human-readable line per epoch plan, e.g.
 * `epoch 1: 110/110 samples in 4 windows [32, 32, 32, 14]; micro-batches 8+8+8+8 | … | 8+6`.
 */
export function describePlan(plan: EpochPlan): string {
  const used = plan.windowSizes.reduce((sum, size) => sum + size, 0);
  const microBatches = plan.windows.map((window) => window.microBatches.map((micro) => micro.length).join('+')).join(' | ');
  const dropped = plan.dropped.length > 0 ? `, ${plan.dropped.length} dropped [${plan.dropped.join(', ')}]` : '';
  return (
    `epoch ${plan.epoch + 1}: ${used}/${plan.size} samples in ${plan.steps} ${plan.steps === 1 ? 'window' : 'windows'} ` +
    `[${plan.windowSizes.join(', ')}]${dropped}; micro-batches ${microBatches || 'none'}`
  );
}
