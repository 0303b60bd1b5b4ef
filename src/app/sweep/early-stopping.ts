/**
 * Early stopping on a validation metric, as Keras' EarlyStopping(restore_best_weights=True)
 * does it: an epoch improves when its value beats the best so far by more than `minDelta` (in
 * the metric's direction); after `patience` epochs in a row without improvement the run stops
 * (patience 2: best at epoch 3, no better at 4 and 5 → stop after 5),
 * and the weights kept are the best epoch's. A non-finite value (a diverged run) never improves.
 * Ties keep the earlier epoch. The state is plain JSON so a checkpoint can carry it and a resumed
 * run decides exactly as an uninterrupted one.
 */
import { ConfigError } from '../../core/errors.js';
import type { EpochMetrics, MetricMode, MetricName } from './types.js';
import { metricMode } from './types.js';

export interface EarlyStoppingOptions {
  mode: MetricMode;
  /** Epochs in a row without improvement after which to stop (≥ 1); null = never stop (still track the best). */
  patience: number | null;
  /** Smallest change that counts as an improvement (default 0: any strict improvement). */
  minDelta?: number;
}

export interface EarlyStoppingState {
  bestEpoch: number | null;
  bestValue: number | null;
  epochsSinceBest: number;
  lastEpoch: number | null;
  stopped: boolean;
}

export interface Observation {
  /** This epoch is the new best: keep its weights. */
  improved: boolean;
  /** Stop after this epoch. */
  stop: boolean;
}

export class EarlyStopping {
  readonly mode: MetricMode;
  readonly patience: number | null;
  readonly minDelta: number;
  private current: EarlyStoppingState = { bestEpoch: null, bestValue: null, epochsSinceBest: 0, lastEpoch: null, stopped: false };

  constructor(options: EarlyStoppingOptions, state?: EarlyStoppingState) {
    if (options.mode !== 'max' && options.mode !== 'min') throw new ConfigError(`must be max or min, got ${String(options.mode)}`, { field: 'mode' });
    if (options.patience !== null && (!Number.isSafeInteger(options.patience) || options.patience < 1)) {
      throw new ConfigError(`must be an integer ≥ 1, got ${options.patience}`, { field: 'patience' });
    }
    const minDelta = options.minDelta ?? 0;
    if (!(minDelta >= 0) || !Number.isFinite(minDelta)) throw new ConfigError(`must be a finite number ≥ 0, got ${minDelta}`, { field: 'minDelta' });
    this.mode = options.mode;
    this.patience = options.patience;
    this.minDelta = minDelta;
    if (state !== undefined) this.current = { ...state };
  }

  /** The policy a sweep uses for `metric`. */
  static forMetric(metric: MetricName, patience: number | null): EarlyStopping {
    return new EarlyStopping({ mode: metricMode(metric), patience });
  }

  /** Records `value` for `epoch` (strictly increasing epochs) and says whether it improved and whether to stop. */
  observe(epoch: number, value: number): Observation {
    const state = this.current;
    if (state.stopped) throw new ConfigError(`observed after the policy said stop at epoch ${state.lastEpoch}`, { field: 'epoch' });
    if (!Number.isSafeInteger(epoch) || (state.lastEpoch !== null && epoch <= state.lastEpoch)) {
      throw new ConfigError(`must be an integer greater than the last one (${state.lastEpoch}), got ${epoch}`, { field: 'epoch' });
    }
    state.lastEpoch = epoch;
    const improved = Number.isFinite(value) && (state.bestValue === null || this.beats(value, state.bestValue));
    if (improved) {
      state.bestEpoch = epoch;
      state.bestValue = value;
      state.epochsSinceBest = 0;
    } else {
      state.epochsSinceBest += 1;
    }
    state.stopped = this.patience !== null && !improved && state.epochsSinceBest >= this.patience;
    return { improved, stop: state.stopped };
  }

  private beats(value: number, best: number): boolean {
    return this.mode === 'max' ? value > best + this.minDelta : value < best - this.minDelta;
  }

  get bestEpoch(): number | null {
    return this.current.bestEpoch;
  }

  get bestValue(): number | null {
    return this.current.bestValue;
  }

  get stopped(): boolean {
    return this.current.stopped;
  }

  /** A copy of the state, for a checkpoint. */
  state(): EarlyStoppingState {
    return { ...this.current };
  }
}

/** What the policy decides for a whole run's epochs: the best epoch and the epoch it stops after (null = never). */
export interface Replay {
  bestEpoch: number | null;
  stopEpoch: number | null;
}

/** Replays the policy of `metric` and `patience` over `epochs` (stopping at the first stop). */
export function replayEarlyStopping(epochs: readonly EpochMetrics[], metric: MetricName, patience: number | null): Replay {
  const policy = EarlyStopping.forMetric(metric, patience);
  for (const { epoch, metrics } of epochs) {
    const value = metrics[metric];
    if (policy.observe(epoch, value === undefined ? NaN : value).stop) return { bestEpoch: policy.bestEpoch, stopEpoch: epoch };
  }
  return { bestEpoch: policy.bestEpoch, stopEpoch: null };
}
