/**
 * The high-level training loop: epochs × windows × micro-batches with exact accumulation
 * (docs/design.md §2–§4). `trainWindow` is the whole optimizer step and reads top to bottom; planning,
 * validation, resume and callbacks live around it.
 *
 * LR schedule and skipped windows: the schedule counts planned windows, applied or skipped
 * (total T = epochs × stepsPerEpoch), like a PyTorch AMP loop that calls scheduler.step()
 * after every iteration even when GradScaler skipped optimizer.step(). The schedule thus ends
 * where it was planned to; the optimizer's own step count (AdamW bias correction) counts
 * applied steps only.
 */
import { CheckpointError, ConfigError, DataError } from '../core/errors.js';
import { lrMultiplier, validateSchedule, type Optimizer, type ScheduleKind } from '../optim/index.js';
import {
  EpochLedger,
  planEpoch,
  stepsPerEpoch,
  validatePlanOptions,
  type EpochSummary,
  type RemainderPolicy,
  type Window,
} from '../plan/index.js';
import { deriveSeed } from '../core/random.js';
import { clipByGlobalNorm } from './clip.js';
import { localEngine } from './engine.js';
import { LossScaler } from './scaler.js';
import { GradientStore } from './store.js';
import type { RunSettings, TrainableModel, TrainingState, WindowGradientEngine } from './types.js';

/** Told after each micro-batch's backward (again for every attempt of a retried window). */
export interface MicroBatchEvent {
  /** 0-based, as in EpochPlan. */
  epoch: number;
  /** 0-based window index and the epoch's window count. */
  window: number;
  windows: number;
  /** 0-based micro-batch index and the window's micro-batch count. */
  microBatch: number;
  microBatches: number;
  /** Samples in this micro-batch. */
  size: number;
  /** Unscaled sum of the micro-batch's per-item losses. */
  lossSum: number;
  /** 0 for the first computation of the window, k for its k-th retry. */
  attempt: number;
}

/** Told after each window, applied or skipped. */
export interface StepEvent {
  epoch: number;
  window: number;
  windows: number;
  windowSize: number;
  /** Loss items of the window (samples, or non-ignored tokens). */
  itemCount: number;
  /** Samples of this epoch's applied windows so far. */
  samplesSeen: number;
  /** Windows done in the run so far, this one included (the schedule's step count). */
  globalStep: number;
  totalSteps: number;
  /** Mean loss over the window's items. */
  loss: number;
  /** Global L2 norm of the unscaled gradient before clipping; NaN for a skipped window. */
  gradNorm: number;
  /** Learning rate used for this window. */
  lr: number;
  /** Loss scale the (last) computation of the window used. */
  lossScale: number;
  /** True when the gradient was not finite and no update was made. */
  skipped: boolean;
  /** Recomputations at a lower scale (policy 'retry'). */
  retries: number;
}

export interface WindowBoundary {
  /** 0-based epoch to continue in (= epochs after the last window of the run). */
  epoch: number;
  /** 0-based index of the next window of that epoch. */
  nextWindow: number;
  /** Windows done so far. */
  globalStep: number;
  /** The state to resume from; `copy: false` gives views of the optimizer's live moments (write them out at once). */
  state(options?: { copy?: boolean }): TrainingState;
}

export interface FitCallbacks {
  onMicroBatch?(event: MicroBatchEvent): void | Promise<void>;
  onStep?(event: StepEvent): void | Promise<void>;
  /** The finished epoch's verified ledger summary. */
  onEpochEnd?(summary: EpochSummary): void | Promise<void>;
  /**
   * After every window: where the run stands, and `state()` — the state to save with the
   * weights for an exact resume. It is built on demand because it copies the optimizer's
   * moments out of the backend, which costs as much as a small step.
   */
  onWindowBoundary?(boundary: WindowBoundary): void | Promise<void>;
}

export interface FitOptions<Sample> {
  model: TrainableModel<Sample>;
  data: readonly Sample[];
  epochs: number;
  microBatch: number;
  /** Samples per optimizer step (the effective batch). */
  batch: number;
  /** Default 'step'. */
  remainder?: RemainderPolicy;
  /** Default 0. Seeds the permutations and the dropout masks. */
  seed?: number;
  /** Default true. */
  shuffle?: boolean;
  /** Updated in place; fit neither creates nor disposes it. */
  optimizer: Optimizer;
  /** The gradient buffers (default: new ones); a multi-worker engine passes shared ones. */
  gradients?: GradientStore;
  /** Base learning rate. */
  lr: number;
  /** Default 'constant'. */
  schedule?: ScheduleKind;
  /** Default 0. */
  warmupSteps?: number;
  /** Max global L2 norm; 0 (the default) or Infinity turns clipping off. */
  clipNorm?: number;
  /** Default: a disabled scaler (scale 1, non-finite windows skipped and reported). */
  scaler?: LossScaler;
  callbacks?: FitCallbacks;
  /** A state from onWindowBoundary; the model's weights must be those saved with it. */
  resume?: TrainingState;
  /** Default: the local engine. */
  engine?: WindowGradientEngine<Sample>;
}

export interface FitResult {
  /** One verified ledger summary per epoch (all of them, also those before a resume). */
  epochs: EpochSummary[];
  /** The final state (epoch = epochs); its optimizer moments are the optimizer's own arrays. */
  state: TrainingState;
}

/** What one optimizer step did, for the ledger and the callbacks. */
interface WindowOutcome {
  lossSum: number;
  gradNorm: number;
  lossScale: number;
  skipped: boolean;
  retries: number;
}

/** Tags the dropout streams, apart from the permutation's (seed, epoch) and masked LM's (seed, epoch, sample, tag). */
const DROPOUT_STREAM = -0x64726f70;

/**
 * The dropout seed of the sample at index `sampleIndex` of the data in `epoch`: its masks at
 * every site (LayerContext.dropoutSeeds) derive from it alone, so they are the same whatever
 * micro-batch, window position, padded length, worker or resume point the sample meets.
 */
export function sampleDropoutSeed(seed: number, epoch: number, sampleIndex: number): number {
  return deriveSeed(seed, DROPOUT_STREAM, epoch, sampleIndex);
}

export async function fit<Sample>(options: FitOptions<Sample>): Promise<FitResult> {
  const run = validateFitOptions(options);
  const { model, data, optimizer, callbacks = {} } = options;
  const schedule = options.schedule ?? 'constant';
  const warmupSteps = options.warmupSteps ?? 0;
  const clipNorm = options.clipNorm ?? 0;
  const scaler = options.scaler ?? new LossScaler();
  const engine = options.engine ?? localEngine(model);
  const windowsPerEpoch = stepsPerEpoch(run.size, run.batch, run.remainder);
  const totalSteps = run.epochs * windowsPerEpoch;
  validateSchedule({ kind: schedule, warmupSteps, totalSteps });

  let startEpoch = 0;
  let nextWindow = 0;
  let globalStep = 0;
  const completed: EpochSummary[] = [];
  if (options.resume !== undefined) {
    const resume = checkResume(options.resume, run, windowsPerEpoch);
    startEpoch = resume.epoch;
    nextWindow = resume.nextWindow;
    globalStep = resume.globalStep;
    completed.push(...resume.completed);
    optimizer.setState(resume.optimizer);
    scaler.setState(resume.scaler);
  }

  const state = (epoch: number, next: number, ledger: EpochLedger | null, copy = true): TrainingState => ({
    epoch,
    nextWindow: next,
    globalStep,
    optimizer: optimizer.getState({ copy }),
    scaler: scaler.getState(),
    ledger: ledger === null ? null : ledger.toJSON(),
    completed: [...completed],
    run: { ...run },
  });

  const grads = options.gradients ?? new GradientStore(model.parameters.layout);
  grads.zero();
  {
    for (let epoch = startEpoch; epoch < run.epochs; epoch++) {
      const plan = planEpoch({ ...run, microBatch: options.microBatch, epoch });
      const resumesHere = epoch === startEpoch && options.resume?.ledger != null;
      const ledger = resumesHere ? EpochLedger.fromJSON(options.resume!.ledger, plan) : new EpochLedger(plan);
      const firstWindow = epoch === startEpoch ? nextWindow : 0;
      for (const window of plan.windows.slice(firstWindow)) {
        const microBatches = window.microBatches.map((indices) => indices.map((index) => data[index]!));
        // The window's item count, known before its first backward: the normaliser of every micro-batch.
        const itemCount = countWindowItems(model, microBatches, epoch, window);
        const dropoutSeeds = window.microBatches.map((indices) => indices.map((index) => sampleDropoutSeed(run.seed, epoch, index)));
        const lr = options.lr * lrMultiplier(schedule, globalStep, warmupSteps, totalSteps);

        const outcome = await trainWindow(microBatches, itemCount, dropoutSeeds, epoch, lr, async (microIndex, lossSum, attempt) => {
          await callbacks.onMicroBatch?.({
            epoch,
            window: window.index,
            windows: plan.steps,
            microBatch: microIndex,
            microBatches: microBatches.length,
            size: microBatches[microIndex]!.length,
            lossSum,
            attempt,
          });
        });

        if (outcome.skipped) ledger.recordSkipped(window.index);
        else ledger.recordStep(window.index, outcome.lossSum, itemCount);
        globalStep += 1;
        await callbacks.onStep?.({
          epoch,
          window: window.index,
          windows: plan.steps,
          windowSize: window.samples.length,
          itemCount,
          samplesSeen: ledger.summary().samples_seen,
          globalStep,
          totalSteps,
          loss: outcome.lossSum / itemCount,
          gradNorm: outcome.gradNorm,
          lr,
          lossScale: outcome.lossScale,
          skipped: outcome.skipped,
          retries: outcome.retries,
        });
        const isLast = window.index === plan.steps - 1;
        if (!isLast) await callbacks.onWindowBoundary?.({ epoch, nextWindow: window.index + 1, globalStep, state: (options) => state(epoch, window.index + 1, ledger, options?.copy ?? true) });
      }
      ledger.verify();
      const summary = ledger.summary();
      completed.push(summary);
      await callbacks.onEpochEnd?.(summary);
      await callbacks.onWindowBoundary?.({ epoch: epoch + 1, nextWindow: 0, globalStep, state: (options) => state(epoch + 1, 0, null, options?.copy ?? true) });
    }
  }
  // Views of the optimizer's moments, not a copy: training is over, nothing changes them now.
  return { epochs: [...completed], state: state(run.epochs, 0, null, false) };

  /**
   * One optimizer step (docs/design.md §4): accumulate the window's micro-batches at the current loss
   * scale, unscale, check for Inf/NaN (back off and retry the same window with the same dropout
   * seeds, or skip it), clip once, update, zero the buffers.
   */
  async function trainWindow(
    microBatches: Sample[][],
    itemCount: number,
    dropoutSeeds: number[][],
    epoch: number,
    lr: number,
    onMicroBatch: (microIndex: number, lossSum: number, attempt: number) => Promise<void>,
  ): Promise<WindowOutcome> {
    let retries = 0;
    for (;;) {
      const lossScale = scaler.scale;
      const pending: Promise<void>[] = [];
      const work = { microBatches, itemCount, lossScale, dropoutSeeds, epoch };
      const { lossSum } = await engine.computeWindow(grads, work, (microIndex, microLossSum) => {
        pending.push(onMicroBatch(microIndex, microLossSum, retries));
      });
      await Promise.all(pending);
      grads.scale(1 / lossScale);
      const finite = grads.allFinite();
      scaler.update(!finite);
      if (!finite) {
        grads.zero();
        // A disabled scaler cannot lower the scale, so recomputing would give the same result.
        if (scaler.enabled && scaler.onOverflow === 'retry' && retries < scaler.maxRetries) {
          retries += 1;
          continue;
        }
        return { lossSum, gradNorm: Number.NaN, lossScale, skipped: true, retries };
      }
      const { norm } = clipByGlobalNorm(grads, clipNorm);
      optimizer.step(grads.pairWith(model.parameters), lr);
      model.parameters.markUpdated();
      grads.zero();
      await engine.afterStep?.();
      return { lossSum, gradNorm: norm, lossScale, skipped: false, retries };
    }
  }
}

function countWindowItems<Sample>(model: TrainableModel<Sample>, microBatches: readonly Sample[][], epoch: number, window: Window): number {
  let itemCount = 0;
  for (const samples of microBatches) {
    const count = model.countItems(samples, epoch);
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new ConfigError(`model.countItems must return an integer ≥ 0, got ${String(count)}`);
    }
    itemCount += count;
  }
  if (itemCount === 0) {
    // Σ loss / |I(W)| is undefined; training on it would divide by zero.
    throw new DataError(`epoch ${epoch + 1}, window ${window.index}: samples [${window.samples.join(', ')}] have no loss items (all ignored)`);
  }
  return itemCount;
}

function validateFitOptions<Sample>(options: FitOptions<Sample>): RunSettings {
  if (options.model === undefined || typeof options.model.accumulateGradients !== 'function' || options.model.parameters === undefined) {
    throw new ConfigError('model must be a TrainableModel (parameters, countItems, accumulateGradients)');
  }
  if (!Array.isArray(options.data)) throw new ConfigError('data must be an array of samples');
  if (options.data.length === 0) throw new ConfigError('data is empty: there is nothing to train on');
  if (!Number.isSafeInteger(options.epochs) || options.epochs < 1) {
    throw new ConfigError(`epochs must be a positive integer, got ${String(options.epochs)}`);
  }
  const run: RunSettings = {
    size: options.data.length,
    batch: options.batch,
    remainder: options.remainder ?? 'step',
    seed: options.seed ?? 0,
    shuffle: options.shuffle ?? true,
    epochs: options.epochs,
  };
  validatePlanOptions({ ...run, microBatch: options.microBatch, epoch: 0 });
  if (run.remainder === 'drop' && run.size < run.batch) {
    throw new ConfigError(`remainder "drop" with ${run.size} samples and batch ${run.batch} would drop every sample`);
  }
  if (typeof options.lr !== 'number' || !Number.isFinite(options.lr) || options.lr < 0) {
    throw new ConfigError(`lr must be a finite number ≥ 0, got ${String(options.lr)}`);
  }
  const clipNorm = options.clipNorm ?? 0;
  if (typeof clipNorm !== 'number' || Number.isNaN(clipNorm) || clipNorm < 0) {
    throw new ConfigError(`clipNorm must be a number ≥ 0 (0 or Infinity turns clipping off), got ${String(clipNorm)}`);
  }
  if (options.optimizer === undefined || typeof options.optimizer.step !== 'function') {
    throw new ConfigError('optimizer must be an Optimizer (see createOptimizer)');
  }
  if (options.scaler !== undefined && !(options.scaler instanceof LossScaler)) throw new ConfigError('scaler must be a LossScaler');
  return run;
}

/** Refuses a state from another run, or one that does not add up, with a CheckpointError. */
function checkResume(resume: TrainingState, run: RunSettings, windowsPerEpoch: number): TrainingState {
  if (typeof resume !== 'object' || resume === null) throw new CheckpointError('resume state must be an object');
  for (const field of Object.keys(run) as (keyof RunSettings)[]) {
    if (resume.run?.[field] !== run[field]) {
      throw new CheckpointError(`resume state was saved with ${field} = ${JSON.stringify(resume.run?.[field])}, this run has ${JSON.stringify(run[field])}`);
    }
  }
  const { epoch, nextWindow, globalStep } = resume;
  if (!Number.isSafeInteger(epoch) || epoch < 0 || epoch > run.epochs) {
    throw new CheckpointError(`resume state epoch must be an integer in [0, ${run.epochs}], got ${String(epoch)}`);
  }
  if (!Number.isSafeInteger(nextWindow) || nextWindow < 0 || nextWindow >= windowsPerEpoch || (epoch === run.epochs && nextWindow !== 0)) {
    throw new CheckpointError(`resume state nextWindow must be an integer in [0, ${windowsPerEpoch - 1}], got ${String(nextWindow)}`);
  }
  if (globalStep !== epoch * windowsPerEpoch + nextWindow) {
    throw new CheckpointError(`resume state globalStep ${String(globalStep)} does not match epoch ${epoch}, window ${nextWindow}`);
  }
  if ((nextWindow === 0) !== (resume.ledger === null)) {
    throw new CheckpointError('resume state must have a ledger exactly when it stops inside an epoch');
  }
  if (resume.ledger !== null && resume.ledger.windows?.some((entry, index) => (entry !== null) !== index < nextWindow)) {
    throw new CheckpointError(`resume state ledger must record exactly windows 0..${nextWindow - 1}`);
  }
  if (!Array.isArray(resume.completed) || resume.completed.length !== epoch) {
    throw new CheckpointError(`resume state must hold ${epoch} completed epoch summaries`);
  }
  return resume;
}
