/**
 * Stratified k-fold cross-validation. Samples are grouped by label (labels in sorted order),
 * each group shuffled by a stream keyed by (seed, label's rank), and the groups, one after the
 * other, are dealt to folds 0, 1, …, k−1, 0, 1, … without restarting the count. Hence:
 *
 * * every sample is in exactly one validation fold;
 * * each label's count differs by at most one between folds (a run of n consecutive deals gives
 *   every fold ⌊n/k⌋ or ⌈n/k⌉), so each fold's label proportions are as equal as possible;
 * * fold sizes differ by at most one (the deal never restarts);
 * * the split depends only on the labels, `folds` and `seed` (renaming labels in an order-preserving way changes nothing).
 */
import { ConfigError } from '../../core/errors.js';
import { deriveSeed, RandomStream, shuffleInPlace } from '../../core/random.js';

/** Keys this module's streams apart from every other use of a seed (ASCII "fold"). */
const FOLD_SITE = 0x666f6c64;

export type Label = string | number;

function compareLabels(a: Label, b: Label): number {
  if (typeof a !== typeof b) return typeof a === 'number' ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The fold (0 … folds−1) each sample validates in. */
export function stratifiedFolds(labels: readonly Label[], folds: number, seed: number): number[] {
  if (!Number.isSafeInteger(folds) || folds < 2) throw new ConfigError(`must be an integer ≥ 2, got ${folds}`, { field: 'folds' });
  if (folds > labels.length) throw new ConfigError(`(${folds}) must not exceed the number of samples (${labels.length}): a fold would be empty`, { field: 'folds' });
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError(`must be a non-negative integer, got ${seed}`, { field: 'splitSeed' });
  const groups = new Map<Label, number[]>();
  labels.forEach((label, index) => {
    const group = groups.get(label);
    if (group) group.push(index);
    else groups.set(label, [index]);
  });
  const assignment = new Array<number>(labels.length);
  let dealt = 0;
  [...groups.keys()].sort(compareLabels).forEach((label, rank) => {
    const members = shuffleInPlace(groups.get(label)!, new RandomStream(deriveSeed(FOLD_SITE, seed, rank)));
    for (const index of members) assignment[index] = dealt++ % folds;
  });
  return assignment;
}

export interface FoldIndices {
  /** Sample indices to train on, ascending. */
  train: number[];
  /** Sample indices to validate on, ascending. */
  validation: number[];
}

/** Train and validation indices of fold `fold` of a `stratifiedFolds` assignment. */
export function foldIndices(assignment: readonly number[], fold: number): FoldIndices {
  const train: number[] = [];
  const validation: number[] = [];
  assignment.forEach((owner, index) => (owner === fold ? validation : train).push(index));
  if (validation.length === 0) throw new ConfigError(`${fold} has no samples`, { field: 'fold' });
  return { train, validation };
}
