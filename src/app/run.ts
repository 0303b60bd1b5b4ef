/**
 * One fine-tuning run over samples already in memory: settings, optimizer, loss scaler,
 * schedule, evaluation after epochs, early stopping with the best epoch's weights, and the
 * metrics line of every step. Browser-safe: the CLI (src/node/finetune.ts) adds files,
 * checkpoints and worker threads around it, the web page a Web Worker.
 */
import { ConfigError } from '../core/errors.js';
import { createOptimizer, type Optimizer, type ScheduleKind } from '../optim/index.js';
import { stepsPerEpoch, type EpochSummary, type RemainderPolicy } from '../plan/index.js';
import { EarlyStopping, type EarlyStoppingState } from './sweep/early-stopping.js';
import type { MetricName } from './sweep/types.js';
import { fit, type StepEvent, type WindowBoundary } from '../train/fit.js';
import { LossScaler } from '../train/scaler.js';
import type { GradientStore } from '../train/store.js';
import type { OverflowPolicy, TrainableModel, TrainingState, WindowGradientEngine } from '../train/types.js';

/** The hyper-parameters of a run (what a resumable checkpoint stores besides the data and model). */
export interface TrainingSettings {
  microBatch: number;
  batch: number;
  epochs: number;
  lr: number;
  weightDecay: number;
  optimizer: 'adamw' | 'sgd';
  momentum?: number;
  schedule: ScheduleKind;
  warmupSteps: number;
  /** Warm-up as a share of all optimizer steps (HF `warmup_ratio`); wins over warmupSteps when set. */
  warmupRatio?: number;
  clipNorm: number;
  remainder: RemainderPolicy;
  seed: number;
  shuffle: boolean;
  lossScale: boolean;
  onOverflow: OverflowPolicy;
}

/** Checks the settings; errors name the setting (`microBatch`, `lr` …). */
export function validateTrainingSettings(settings: TrainingSettings): void {
  const check = (ok: boolean, field: string, detail: string) => {
    if (!ok) throw new ConfigError(detail, { field });
  };
  check(Number.isFinite(settings.lr) && settings.lr >= 0, 'lr', `must be a finite number ≥ 0, got ${settings.lr}`);
  check(Number.isFinite(settings.weightDecay) && settings.weightDecay >= 0, 'weightDecay', `must be ≥ 0, got ${settings.weightDecay}`);
  check(
    Number.isSafeInteger(settings.microBatch) && settings.microBatch >= 1 && settings.microBatch <= settings.batch,
    'microBatch',
    `(${settings.microBatch}) must be a positive integer not exceeding the batch (${settings.batch})`,
  );
  check(Number.isSafeInteger(settings.epochs) && settings.epochs >= 1, 'epochs', `must be a positive integer, got ${settings.epochs}`);
  check(settings.optimizer === 'sgd' || settings.momentum === undefined, 'momentum', 'only applies to the sgd optimizer');
  check(settings.warmupRatio === undefined || (settings.warmupRatio >= 0 && settings.warmupRatio <= 1), 'warmupRatio', `must be in [0, 1], got ${settings.warmupRatio}`);
}

/** Warm-up steps: `warmupRatio` of all optimizer steps (rounded up, as HF's get_warmup_steps), else `warmupSteps`. */
export function warmupStepsFor(settings: Pick<TrainingSettings, 'warmupSteps' | 'warmupRatio' | 'batch' | 'epochs' | 'remainder'>, size: number): number {
  if (settings.warmupRatio === undefined) return settings.warmupSteps;
  return Math.ceil(settings.warmupRatio * settings.epochs * stepsPerEpoch(size, settings.batch, settings.remainder));
}

export function runOptimizer(settings: Pick<TrainingSettings, 'optimizer' | 'weightDecay' | 'momentum'>): Optimizer {
  return createOptimizer({
    kind: settings.optimizer,
    weightDecay: settings.weightDecay,
    ...(settings.optimizer === 'sgd' && settings.momentum !== undefined ? { momentum: settings.momentum } : {}),
  });
}

/** One line of metrics.jsonl. */
export function metricsLine(event: StepEvent, elapsedSeconds: number): Record<string, unknown> {
  return {
    step: event.globalStep,
    epoch: event.epoch + 1,
    window: event.window + 1,
    windows: event.windows,
    window_size: event.windowSize,
    items: event.itemCount,
    samples_seen: event.samplesSeen,
    loss: event.skipped ? null : event.loss,
    lr: event.lr,
    grad_norm: event.skipped ? null : event.gradNorm,
    loss_scale: event.lossScale,
    skipped: event.skipped,
    retries: event.retries,
    elapsed_s: Number(elapsedSeconds.toFixed(3)),
  };
}

/** An evaluation after an epoch: the metrics early stopping may use, and whatever else the task reports. */
export interface EpochEvaluation {
  /** 1-based. */
  epoch: number;
  metrics: Partial<Record<MetricName, number>> & Record<string, number>;
}

export interface EarlyStoppingSettings {
  metric: MetricName;
  /** Epochs without improvement after which the run stops; null tracks the best epoch without stopping. */
  patience: number | null;
}

/** What a run carries across a resume beyond fit's state: evaluations, early stopping, the best weights. */
export interface RunProgressState {
  evaluations: EpochEvaluation[];
  earlyStopping?: EarlyStoppingState;
  /** The host parameters of the best epoch so far (early stopping keeps them). */
  bestWeights?: Float32Array;
}

export interface TrainModelOptions<Sample> {
  model: TrainableModel<Sample>;
  samples: readonly Sample[];
  settings: TrainingSettings;
  engine?: WindowGradientEngine<Sample>;
  gradients?: GradientStore;
  resume?: { training: TrainingState; progress: RunProgressState };
  /** Evaluates the model as it is (called after each epoch when early stopping is on or `evaluateEveryEpoch`). */
  evaluate?: (epoch: number) => Promise<EpochEvaluation['metrics']> | EpochEvaluation['metrics'];
  evaluateEveryEpoch?: boolean;
  earlyStopping?: EarlyStoppingSettings;
  onStep?(event: StepEvent): void | Promise<void>;
  onEpochEnd?(summary: EpochSummary, evaluation: EpochEvaluation | undefined): void | Promise<void>;
  /**
   * After every window: save a resumable state here (`progress()` is the run's own part), or throw
   * to stop (the caller's exception propagates).
   */
  onWindowBoundary?(boundary: WindowBoundary, progress: () => RunProgressState): void | Promise<void>;
}

export interface TrainModelResult {
  /** The verified ledger of every finished epoch (those before a resume too). */
  epochs: EpochSummary[];
  evaluations: EpochEvaluation[];
  /** 1-based epoch whose weights the model holds at the end (the best, with early stopping; else the last). */
  bestEpoch: number | undefined;
  /** The run stopped before its last epoch because the metric stopped improving. */
  stoppedEarly: boolean;
}

/** Thrown out of fit by the epoch callback to end the run early; caught here. */
class EarlyStop extends Error {}

/**
 * Trains `model` on `samples` with exact accumulation (src/train/fit.ts). With early stopping the
 * model ends with its best epoch's weights; the optimizer is created here and freed at the end.
 */
export async function trainModel<Sample>(options: TrainModelOptions<Sample>): Promise<TrainModelResult> {
  const { model, samples, settings } = options;
  validateTrainingSettings(settings);
  if (options.earlyStopping !== undefined && options.evaluate === undefined) throw new ConfigError('needs evaluation data', { field: 'earlyStopping' });
  const optimizer = runOptimizer(settings);
  const scaler = new LossScaler({ enabled: settings.lossScale, onOverflow: settings.onOverflow });
  const progress: RunProgressState = options.resume !== undefined ? { ...options.resume.progress, evaluations: [...options.resume.progress.evaluations] } : { evaluations: [] };
  const stopping = options.earlyStopping === undefined ? undefined : EarlyStopping.forMetric(options.earlyStopping.metric, options.earlyStopping.patience);
  const stoppingState = progress.earlyStopping;
  const policy = stopping === undefined ? undefined : stoppingState === undefined ? stopping : new EarlyStopping({ mode: stopping.mode, patience: stopping.patience }, stoppingState);
  const parameters = model.parameters.values.data;
  let stoppedEarly = false;
  const epochs: EpochSummary[] = [...(options.resume?.training.completed ?? [])];
  try {
    await fit<Sample>({
      model,
      data: samples,
      epochs: settings.epochs,
      microBatch: settings.microBatch,
      batch: settings.batch,
      remainder: settings.remainder,
      seed: settings.seed,
      shuffle: settings.shuffle,
      optimizer,
      lr: settings.lr,
      schedule: settings.schedule,
      warmupSteps: warmupStepsFor(settings, samples.length),
      clipNorm: settings.clipNorm,
      scaler,
      ...(options.gradients !== undefined ? { gradients: options.gradients } : {}),
      ...(options.engine !== undefined ? { engine: options.engine } : {}),
      ...(options.resume !== undefined ? { resume: options.resume.training } : {}),
      callbacks: {
        onStep: options.onStep,
        onEpochEnd: async (summary) => {
          epochs.push(summary);
          let evaluation: EpochEvaluation | undefined;
          const due = policy !== undefined || options.evaluateEveryEpoch === true || summary.epoch === settings.epochs;
          if (options.evaluate !== undefined && due) {
            evaluation = { epoch: summary.epoch, metrics: await options.evaluate(summary.epoch) };
            progress.evaluations.push(evaluation);
          }
          let stop = false;
          if (policy !== undefined && evaluation !== undefined) {
            const value = evaluation.metrics[options.earlyStopping!.metric];
            const observation = policy.observe(summary.epoch, value ?? Number.NaN);
            // The best epoch's weights, kept on the host (a copy of the parameters).
            if (observation.improved) progress.bestWeights = Float32Array.from(parameters);
            progress.earlyStopping = policy.state();
            stop = observation.stop && summary.epoch < settings.epochs;
          }
          await options.onEpochEnd?.(summary, evaluation);
          if (stop) throw new EarlyStop();
        },
        onWindowBoundary: options.onWindowBoundary === undefined ? undefined : (boundary) => options.onWindowBoundary!(boundary, () => progress),
      },
    });
  } catch (error) {
    if (!(error instanceof EarlyStop)) throw error;
    stoppedEarly = true;
  } finally {
    optimizer.dispose();
  }
  let bestEpoch = progress.evaluations.at(-1)?.epoch;
  if (policy !== undefined) {
    const best = policy.state().bestEpoch;
    if (best !== null && progress.bestWeights !== undefined) {
      parameters.set(progress.bestWeights);
      model.parameters.markUpdated();
      bestEpoch = best;
    }
  }
  return {
    epochs,
    evaluations: progress.evaluations,
    bestEpoch,
    stoppedEarly,
  };
}
