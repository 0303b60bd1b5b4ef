export type { EpochPlan, PlanOptions, RemainderPolicy, Window } from './types.js';
export { REMAINDER_POLICIES } from './types.js';
export { epochPermutation } from './permutation.js';
export { planEpoch, stepsPerEpoch, validatePlanOptions, windowSizes } from './plan.js';
export { EpochLedger, LedgerError, formatLedgerLine } from './ledger.js';
export type { EpochLedgerJSON, EpochSummary, WindowRecordJSON } from './ledger.js';
