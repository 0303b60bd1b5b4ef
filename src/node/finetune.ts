/**
 * A fine-tuning run from files: what `microbatch train` runs. It wires the pieces (data →
 * tokenizer → model → fit → checkpoint) and writes the run's outputs; the training step itself
 * is `fit`'s.
 *
 * Output directory layout:
 *   <out>/config.json, model.safetensors, tokenizer files   the final HF checkpoint
 *   <out>/metrics.jsonl                                      one line per optimizer step
 *   <out>/summary.json                                       the ledger of every epoch (+ eval)
 *   <out>/checkpoint/                                        the last resumable checkpoint (HF files +
 *                                                            training_state.json + optimizer.safetensors)
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModel, readConfig, type BuildModelOptions, type BuiltModel } from '../app/checkpoint.js';
import { maskFunction } from '../app/pretraining.js';
import { metricsLine, trainModel, validateTrainingSettings, warmupStepsFor, type EarlyStoppingSettings, type EpochEvaluation, type RunProgressState, type TrainModelResult, type TrainingSettings } from '../app/run.js';
import { CheckpointError, ConfigError, MemoryError } from '../core/errors.js';
import { parseSafetensors, safetensorsChunks, type F32Tensor } from '../core/safetensors.js';
import type { TaskName } from '../models/index.js';
import type { EncoderConfig } from '../models/config.js';
import type { OptimizerState } from '../optim/index.js';
import type { EpochSummary } from '../plan/index.js';
import type { TaskModel } from '../tasks/model.js';
import type { Precision } from '../nn/context.js';
import { loadTokenizer, type Tokenizer } from '../tokenizers/index.js';
import { chooseMicroBatch, formatBytes } from '../train/autobatch.js';
import type { StepEvent } from '../train/fit.js';
import { GradientStore } from '../train/store.js';
import type { TrainingState } from '../train/types.js';
import { removeLeftovers, removeTempFiles, recoverDirectory, writeFileAtomic, type FileContent } from './atomic.js';
import { selectBackend, type BackendChoice } from './backend.js';
import { checkpointFiles, readConfigJson, readFileOrFail, readTokenizerFiles, readWeights, saveCheckpoint } from './checkpoint.js';
import { describeLimits, extrapolate, fitsLimits, inferenceBatch, isOutOfMemory, largestFitting, measurePeak, memoryLimits, outOfMemoryError, type MemoryLimits } from './memory.js';
import { nativeAvailable } from './native.js';
import { createParallelEngine, type ParallelEngine } from './parallel.js';
import type { ModelSpec } from './replica.js';
import { writeReport } from './report.js';
import { taskRunner, type TaskDataSettings } from './tasks.js';

/** The settings of a fine-tuning run (all of them are stored with resumable checkpoints). */
export interface FinetuneSettings extends Omit<TrainingSettings, 'microBatch'>, TaskDataSettings {
  task: TaskName;
  model: string;
  out: string;
  microBatch: number | 'auto';
  memoryBudget?: number;
  dropout?: number;
  /**
   * Precision of every matrix product (nn/context.ts `Precision`): 'fp32' (default) or 'bf16' —
   * torch.autocast('cpu', dtype=torch.bfloat16); weights, gradients and optimizer state stay fp32.
   */
  precision?: Precision;
  /** Re-initialise the top N encoder layers before training (few-sample stability, Zhang et al. 2021). */
  reinitLayers: number;
  /** Compute threads sharing one copy of the parameters, or 'auto' (`defaultWorkerCount`). */
  workers: number | 'auto';
  /** Threads of the native kernels (default: the cores a single worker leaves idle, else 1 per worker). */
  threads?: number;
  backend: BackendChoice;
  /** Write a resumable checkpoint every N optimizer steps (0: only at epoch ends). */
  saveEvery: number;
  /** Evaluate after every epoch (always with early stopping), not only at the end. */
  evaluateEveryEpoch: boolean;
  earlyStopping?: EarlyStoppingSettings;
  /** Stop (as if killed) after this many optimizer steps: for tests and demos of --resume. */
  stopAfterSteps?: number;
}

export interface FinetuneHooks {
  /** Progress lines and notices (backend, data report, ledger). */
  log(line: string): void;
  onStep?(event: StepEvent, progress: RunProgress): void;
}

/** Where a run stands after a step, for progress displays. */
export interface RunProgress {
  /** Epochs of the run (a resumed run's saved setting). */
  epochs: number;
  /** Seconds since training started in this process. */
  elapsedSeconds: number;
  /** Steps and samples computed in this process (applied or skipped windows), for the rate and the ETA. */
  stepsThisProcess: number;
  samplesThisProcess: number;
}

export interface FinetuneSummary {
  task: string;
  model_type: string;
  samples: number;
  labels: string[];
  micro_batch: number;
  batch: number;
  backend: string;
  /** The backend's one-line description (SIMD, kernels, native matMul). */
  backend_detail: string;
  workers: number;
  epochs: EpochSummary[];
  /** The evaluation of the final weights (with early stopping: the best epoch's). */
  eval?: Record<string, unknown> & { file: string };
  /** Evaluations after epochs (every epoch with early stopping or --eval-every-epoch). */
  evaluations?: EpochEvaluation[];
  early_stopping?: { metric: string; patience: number | null; best_epoch: number | undefined; stopped_at_epoch: number | undefined };
  train_seconds: number;
  /** The run was stopped on request (--stop-after-steps): resumable with --resume. */
  stopped_early?: boolean;
  settings: Omit<FinetuneSettings, 'stopAfterSteps'>;
}

export const STATE_FILE = 'training_state.json';
/** The optimizer's moments, next to STATE_FILE, in binary. */
export const OPTIMIZER_FILE = 'optimizer.safetensors';
/** The best epoch's parameters so far (early stopping), next to STATE_FILE. */
export const BEST_FILE = 'best.safetensors';
export const SUMMARY_FILE = 'summary.json';
export const METRICS_FILE = 'metrics.jsonl';
const CHECKPOINT_DIR = 'checkpoint';
/**
 * Version 3: host optimizer state, dropout and initialisation from the one seeded random module,
 * tasks. Version 4: dropout masks per sample (seed, epoch, sample index), no longer per
 * micro-batch — a version-3 run would not continue with the masks it started with.
 */
export const STATE_VERSION = 4;

/** Written next to the weights of a resumable checkpoint (the optimizer's moments and best weights live in binary files). */
interface SavedState {
  format: 'microbatch-training-state';
  version: typeof STATE_VERSION;
  settings: FinetuneSettings;
  labels: string[];
  microBatch: number;
  training: Omit<TrainingState, 'optimizer'> & { optimizer: Omit<OptimizerState, 'slots'> };
  progress: Omit<RunProgressState, 'bestWeights'>;
}

/** The directory of the embedded default (bundled data and model). */
export function bundledPath(...parts: string[]): string {
  return path.join(fileURLToPath(new URL('../../../', import.meta.url)), ...parts);
}

/** Slot `m` of parameter `bert.pooler.dense.weight` is stored as tensor `bert.pooler.dense.weight#m`. */
const SLOT_SEPARATOR = '#';
const BEST_TENSOR = 'parameters';

function optimizerSlotTensors(slots: OptimizerState['slots']): Map<string, F32Tensor> {
  const tensors = new Map<string, F32Tensor>();
  for (const [param, byName] of Object.entries(slots)) {
    for (const [slot, values] of Object.entries(byName)) tensors.set(`${param}${SLOT_SEPARATOR}${slot}`, { dtype: 'F32', shape: [values.length], data: values });
  }
  return tensors;
}

async function readTensors(file: string, what: string): Promise<Map<string, { dtype: string; data: Float32Array | Uint8Array }>> {
  const bytes = await readFileOrFail(file, what);
  return parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file).tensors;
}

async function readOptimizerSlots(file: string): Promise<OptimizerState['slots']> {
  const slots: OptimizerState['slots'] = {};
  for (const [name, tensor] of await readTensors(file, 'optimizer state')) {
    const cut = name.lastIndexOf(SLOT_SEPARATOR);
    if (cut <= 0 || tensor.dtype !== 'F32') throw new CheckpointError(`unexpected tensor (${tensor.dtype})`, { file, field: name });
    (slots[name.slice(0, cut)] ??= {})[name.slice(cut + 1)] = tensor.data as Float32Array;
  }
  return slots;
}

export interface SavedRun {
  checkpointDir: string;
  saved: SavedState;
  slots: OptimizerState['slots'];
  bestWeights?: Float32Array;
}

/**
 * Reads a resumable checkpoint's state: `dir` is a run's --out or its checkpoint/ subdirectory.
 * A checkpoint whose replacement was interrupted is repaired first.
 */
export async function readSavedState(dir: string): Promise<SavedRun> {
  const nested = path.join(dir, CHECKPOINT_DIR);
  const isComplete = async (candidate: string) => existsSync(path.join(candidate, STATE_FILE));
  await recoverDirectory(path.basename(path.resolve(dir)) === CHECKPOINT_DIR ? dir : nested, isComplete);
  for (const checkpointDir of [nested, dir]) {
    const file = path.join(checkpointDir, STATE_FILE);
    if (!existsSync(file)) continue;
    let saved: SavedState;
    try {
      saved = JSON.parse(await fs.readFile(file, 'utf8')) as SavedState;
    } catch (error) {
      throw new CheckpointError(`not valid JSON (${(error as Error).message})`, { file });
    }
    if (saved?.format !== 'microbatch-training-state') throw new CheckpointError('not a microbatch training state', { file, field: 'format' });
    if (saved.version !== STATE_VERSION) {
      throw new CheckpointError(`was written by another version of microbatch (state version ${String(saved.version)}, this one reads ${STATE_VERSION}): start the run again`, { file, field: 'version' });
    }
    const bestFile = path.join(checkpointDir, BEST_FILE);
    const best = existsSync(bestFile) ? (await readTensors(bestFile, 'best weights')).get(BEST_TENSOR) : undefined;
    return {
      checkpointDir,
      saved,
      slots: await readOptimizerSlots(path.join(checkpointDir, OPTIMIZER_FILE)),
      ...(best !== undefined ? { bestWeights: best.data as Float32Array } : {}),
    };
  }
  throw new CheckpointError(`no resumable checkpoint (${STATE_FILE}) found here or in ${nested}`, { file: dir });
}

/** The output directory of the run that `--resume DIR` continues: DIR, or the parent of DIR when DIR is its checkpoint/. */
export function resumeOutputDir(dir: string): string {
  const isCheckpoint = existsSync(path.join(dir, STATE_FILE)) && !existsSync(path.join(dir, CHECKPOINT_DIR, STATE_FILE));
  return isCheckpoint ? path.dirname(path.resolve(dir)) : dir;
}

/** Everything a run needs from the model directory, read before any backend starts. */
interface ModelFiles {
  configJson: unknown;
  configFile: string;
  tokenizer: Tokenizer;
  tokenizerFiles: Record<string, string>;
}

async function readModelFiles(dir: string): Promise<ModelFiles> {
  const { json, file } = await readConfigJson(dir);
  const { family } = readConfig(json, file);
  const tokenizerFiles = await readTokenizerFiles(dir);
  const tokenizer = loadTokenizer(tokenizerFiles, family.modelType, dir);
  return { configJson: json, configFile: file, tokenizer, tokenizerFiles };
}

export interface FinetuneResult {
  /** What summary.json holds. */
  summary: FinetuneSummary;
  /** The evaluation in one line, for the terminal (`accuracy 0.91 (401/440), macro-F1 0.90`). */
  evalLine?: string;
}

/**
 * Approximate parameter count of an encoder from its config: embeddings and the layers'
 * matrices (biases, norms and heads are a rounding error next to them).
 */
export function approximateParameters(config: Pick<EncoderConfig, 'vocabSize' | 'embeddingSize' | 'hiddenSize' | 'intermediateSize' | 'numLayers' | 'maxPositions'>): number {
  const { vocabSize, embeddingSize, hiddenSize, intermediateSize, numLayers, maxPositions } = config;
  return (vocabSize + maxPositions) * embeddingSize + numLayers * (4 * hiddenSize * hiddenSize + 2 * hiddenSize * intermediateSize);
}

/** Models from this size up train fastest on one worker whose native kernels use every core. */
export const ONE_WORKER_FROM_PARAMETERS = 8_000_000;

/**
 * `--workers auto`. Measured on 2 cores (BENCHMARKS.md, "Workers"): with the native kernels,
 * one worker whose GEMMs and fused kernels run on every core trains bert-base (89 M
 * parameters) in 18.0 s against 23.5 s for a worker per core, with 1 GB less memory, and
 * BERT-mini (4 M) equally fast either way; the demo's 1 M-parameter model gains from a worker
 * per core (4.5 s against 5.9 s): its products are too small to split over threads. Without
 * the native kernels every TF.js wasm kernel is single-threaded, so only workers use the cores.
 */
export function defaultWorkerCount(config: Parameters<typeof approximateParameters>[0], nativeKernels: boolean, cores: number): number {
  if (!nativeKernels) return cores;
  return approximateParameters(config) >= ONE_WORKER_FROM_PARAMETERS ? 1 : cores;
}

/** Runs a whole fine-tuning job (or continues one, when `resumeFrom` is given). */
export async function finetune(settingsIn: FinetuneSettings, hooks: FinetuneHooks, resumeFrom?: string): Promise<FinetuneResult> {
  let settings = settingsIn;
  let resume: SavedRun | undefined;
  if (resumeFrom !== undefined) {
    resume = await readSavedState(resumeFrom);
    // A resumed run continues the saved run: same data, model, hyper-parameters. Only where
    // it writes and how it runs (backend, workers) may change.
    settings = {
      ...resume.saved.settings,
      out: settingsIn.out,
      backend: settingsIn.backend,
      workers: settingsIn.workers,
      ...(settingsIn.threads !== undefined ? { threads: settingsIn.threads } : {}),
      stopAfterSteps: settingsIn.stopAfterSteps,
    };
  }
  validateSettings(settings);

  // Every input is read and checked before the backend starts and before anything is logged
  // or written, so bad input fails with one line and leaves no output directory behind.
  const modelDir = resume?.checkpointDir ?? settings.model;
  const files = await readModelFiles(modelDir);
  // A masked-LM checkpoint has no classes: labels a base config carries are not written back.
  if (settings.task === 'masked-lm') files.configJson = withoutLabels(files.configJson);
  const { family, config } = readConfig(files.configJson, files.configFile, settings.dropout);
  const nativeKernels = () => settings.backend !== 'cpu' && settings.backend !== 'node' && nativeAvailable() && process.env.MICROBATCH_FAST_KERNELS !== '0';
  const workers = settings.workers === 'auto' ? defaultWorkerCount(config, nativeKernels(), os.availableParallelism()) : settings.workers;
  // The resolved count is what the run records (summary.json, a checkpoint's settings).
  settings = { ...settings, workers };
  const runner = taskRunner(settings.task);
  if (settings.earlyStopping !== undefined && !runner.metrics.includes(settings.earlyStopping.metric)) {
    throw new ConfigError(`"${settings.earlyStopping.metric}" is not a metric of ${settings.task} (it reports ${runner.metrics.join(', ')})`, { field: 'metric' });
  }
  const prepared = await runner.prepare(settings, files.tokenizer, config, resume?.saved.labels);
  const labels = prepared.labels;
  const weights = await readWeights(modelDir);
  if (settings.remainder === 'drop' && prepared.train.length < settings.batch) {
    throw new ConfigError(`with ${prepared.train.length} samples and --batch ${settings.batch} would drop every sample`, { field: 'remainder' });
  }
  if (settings.earlyStopping !== undefined && prepared.eval === undefined) {
    throw new ConfigError('needs evaluation data (--eval FILE, or a fold of the training data)', { field: 'metric' });
  }
  if (settings.reinitLayers > config.numLayers) throw new ConfigError(`(${settings.reinitLayers}) exceeds the model's ${config.numLayers} layers`, { field: 'reinitLayers' });

  // MICROBATCH_FAST_KERNELS=0 runs stock TF.js kernels: the benchmarks' baseline.
  // The native kernels' own threads fill the cores a single worker leaves idle.
  const backend = await selectBackend(settings.backend, {
    log: hooks.log,
    fastKernels: process.env.MICROBATCH_FAST_KERNELS !== '0',
    nativeThreads: settings.threads ?? (workers > 1 ? 1 : os.availableParallelism()),
  });
  const built: BuiltModel = buildModel(family, config, {
    task: settings.task,
    labels,
    ...(weights !== undefined ? { tensors: weights.tensors } : {}),
    freshHead: !prepared.labelChoice.keepHead,
    reinitLayers: resume !== undefined ? 0 : settings.reinitLayers,
    seed: settings.seed,
    arena: { shared: workers > 1 },
    ...(prepared.masking !== undefined ? { mask: maskFunction(prepared.masking) as BuildModelOptions['mask'] } : {}),
    source: weights?.file ?? files.configFile,
  });
  const model = built.model as TaskModel<never>;
  model.precision = settings.precision ?? 'fp32';
  hooks.log(`data: ${prepared.describe}`);
  if (prepared.labelChoice.notice !== undefined) hooks.log(`model: ${prepared.labelChoice.notice}`);
  if (weights === undefined) hooks.log(`model: ${modelDir} has no model.safetensors: initialised a new ${family.modelType} from config.json (seed ${settings.seed})`);
  else {
    hooks.log(`model: loaded ${built.report.loaded} tensors from ${weights.file}`);
    if (built.report.initialized.length > 0) hooks.log(`model: initialised fresh ${built.report.initialized.join(', ')}`);
    const ignored = built.report.ignored;
    if (ignored.length > 0) hooks.log(`model: ignored ${ignored.length} checkpoint tensors (${ignored.slice(0, 4).join(', ')}${ignored.length > 4 ? ', …' : ''})`);
  }
  if (settings.reinitLayers > 0 && resume === undefined) hooks.log(`model: re-initialised the top ${settings.reinitLayers} encoder layer${settings.reinitLayers === 1 ? '' : 's'}`);

  let engine: ParallelEngine<never> | undefined;
  const modelSpec: ModelSpec = {
    configJson: files.configJson,
    configFile: files.configFile,
    task: settings.task,
    labels,
    ...(settings.dropout !== undefined ? { dropout: settings.dropout } : {}),
    ...(settings.precision !== undefined ? { precision: settings.precision } : {}),
    ...(prepared.masking !== undefined ? { masking: prepared.masking } : {}),
  };
  // The window's gradient buffers: probing the micro-batch size uses them too.
  const gradients = new GradientStore(model.parameters.layout);
  try {
    const hostBytes = model.parameters.values.data.byteLength * (2 + workers - 1 + (settings.optimizer === 'adamw' ? 2 : settings.momentum ? 1 : 0));
    const limits = memoryLimits(hostBytes, settings.memoryBudget);
    const memory = await planMicroBatch(settings, resume?.saved.microBatch, model, prepared.longest, limits, gradients, hooks);
    const microBatch = memory.microBatch;
    if (workers > 1) {
      engine = await createParallelEngine<never>(model, {
        workers,
        factory: { module: new URL('./replica.js', import.meta.url).href, exportName: 'taskModelReplica', options: modelSpec },
        backend: backend.name,
        fastKernels: backend.fastKernels,
        gradients,
      });
    }
    hooks.log(
      `train: ${prepared.train.length} samples, micro-batch ${microBatch}, batch ${settings.batch}, ${settings.epochs} epochs, ` +
        `remainder ${settings.remainder}, ${settings.optimizer} lr ${settings.lr} (${settings.schedule}, warmup ${warmupStepsFor(settings, prepared.train.length)}), ` +
        `clip ${settings.clipNorm || 'off'}, workers ${workers}` +
        (model.precision === 'bf16' ? ', precision bf16 (autocast)' : '') +
        (settings.earlyStopping !== undefined ? `, early stopping on ${settings.earlyStopping.metric} (patience ${settings.earlyStopping.patience ?? 'none'})` : ''),
    );

    await fs.mkdir(settings.out, { recursive: true });
    await removeLeftovers(path.join(settings.out, CHECKPOINT_DIR));
    await removeTempFiles(settings.out);
    // summary.json marks a finished run; one left by an earlier run in this directory must not outlive this one's start.
    await fs.rm(path.join(settings.out, SUMMARY_FILE), { force: true });
    const metricsFile = path.join(settings.out, METRICS_FILE);
    const resumeTraining: TrainingState | undefined = resume !== undefined ? { ...resume.saved.training, optimizer: { ...resume.saved.training.optimizer, slots: resume.slots } } : undefined;
    await prepareMetricsFile(metricsFile, resumeTraining?.globalStep ?? 0);

    const started = performance.now();
    let stepsThisProcess = 0;
    let samplesThisProcess = 0;
    let stoppedOnRequest = false;
    // The ledger of every finished epoch, also when the run stops before training returns.
    const finishedEpochs: EpochSummary[] = [...(resumeTraining?.completed ?? [])];
    // Absolute input paths, so that `--resume` works from any working directory.
    const savedSettings: FinetuneSettings = {
      ...settings,
      data: path.resolve(settings.data),
      model: path.resolve(settings.model),
      ...(settings.eval !== undefined ? { eval: path.resolve(settings.eval) } : {}),
      stopAfterSteps: undefined,
    };
    const saveState = async (training: TrainingState, progress: RunProgressState) => {
      const { slots, ...optimizerState } = training.optimizer;
      const { bestWeights, ...progressJson } = progress;
      const saved: SavedState = {
        format: 'microbatch-training-state',
        version: STATE_VERSION,
        settings: savedSettings,
        labels,
        microBatch,
        training: { ...training, optimizer: optimizerState },
        progress: progressJson,
      };
      const extraFiles: Record<string, FileContent> = { [STATE_FILE]: JSON.stringify(saved), [OPTIMIZER_FILE]: safetensorsChunks(optimizerSlotTensors(slots)) };
      if (bestWeights !== undefined) extraFiles[BEST_FILE] = safetensorsChunks(new Map([[BEST_TENSOR, { dtype: 'F32', shape: [bestWeights.length], data: bestWeights }]]));
      await saveCheckpoint(path.join(settings.out, CHECKPOINT_DIR), model as TaskModel<unknown>, { tokenizerFiles: files.tokenizerFiles, extraFiles });
    };

    const evaluationBatch = inferenceBatch(Math.max(microBatch, 32), microBatch, (size) => model.activationBytesEstimate(size, settings.maxLength), limits);
    let result: TrainModelResult | undefined;
    try {
      result = await trainModel<never>({
        model,
        samples: prepared.train,
        settings: { ...settings, microBatch },
        gradients,
        ...(engine !== undefined ? { engine } : {}),
        ...(resume !== undefined && resumeTraining !== undefined
          ? { resume: { training: resumeTraining, progress: { ...resume.saved.progress, ...(resume.bestWeights !== undefined ? { bestWeights: resume.bestWeights } : {}) } } }
          : {}),
        ...(prepared.eval !== undefined ? { evaluate: () => prepared.evaluate(model, prepared.eval!, evaluationBatch).metrics } : {}),
        evaluateEveryEpoch: settings.evaluateEveryEpoch,
        ...(settings.earlyStopping !== undefined ? { earlyStopping: settings.earlyStopping } : {}),
        onStep: async (event) => {
          stepsThisProcess += 1;
          samplesThisProcess += event.windowSize;
          const elapsed = (performance.now() - started) / 1000;
          await fs.appendFile(metricsFile, JSON.stringify(metricsLine(event, elapsed)) + '\n');
          hooks.onStep?.(event, { epochs: settings.epochs, elapsedSeconds: elapsed, stepsThisProcess, samplesThisProcess });
        },
        onEpochEnd: (summary, evaluation) => {
          finishedEpochs.push(summary);
          if (evaluation !== undefined && settings.evaluateEveryEpoch) {
            hooks.log(`eval after epoch ${evaluation.epoch}: ${Object.entries(evaluation.metrics).map(([name, value]) => `${name} ${value.toFixed(4)}`).join(', ')}`);
          }
        },
        onWindowBoundary: async (boundary, progress) => {
          // The end of the run needs no resumable checkpoint: the final one follows at once.
          const atEpochEnd = boundary.nextWindow === 0 && boundary.epoch < settings.epochs;
          const due = settings.saveEvery > 0 && boundary.globalStep % settings.saveEvery === 0;
          const stopping = settings.stopAfterSteps !== undefined && stepsThisProcess >= settings.stopAfterSteps;
          if (atEpochEnd || due || stopping) await saveState(boundary.state({ copy: false }), progress());
          if (stopping && boundary.epoch < settings.epochs) throw new StopRequested();
        },
      });
    } catch (error) {
      if (error instanceof StopRequested) stoppedOnRequest = true;
      else if (isOutOfMemory(error)) throw outOfMemoryError(microBatch, memory.fitting);
      else throw error;
    }
    const trainSeconds = (performance.now() - started) / 1000;
    const summary: FinetuneSummary = {
      task: settings.task,
      model_type: family.modelType,
      samples: prepared.train.length,
      labels,
      micro_batch: microBatch,
      batch: settings.batch,
      backend: backend.name,
      backend_detail: backend.detail,
      workers,
      epochs: result?.epochs ?? finishedEpochs,
      train_seconds: Number(trainSeconds.toFixed(3)),
      settings: savedSettings,
    };
    delete (summary.settings as Partial<FinetuneSettings>).stopAfterSteps;
    if (stoppedOnRequest || result === undefined) {
      summary.stopped_early = true;
      hooks.log(`stopped after ${stepsThisProcess} steps as asked; continue with: microbatch train --resume ${settings.out}`);
      return { summary };
    }
    if (result.evaluations.length > 0) summary.evaluations = result.evaluations;
    if (settings.earlyStopping !== undefined) {
      summary.early_stopping = {
        metric: settings.earlyStopping.metric,
        patience: settings.earlyStopping.patience,
        best_epoch: result.bestEpoch,
        stopped_at_epoch: result.stoppedEarly ? result.epochs.at(-1)?.epoch : undefined,
      };
      hooks.log(`early stopping: best ${settings.earlyStopping.metric} at epoch ${result.bestEpoch}${result.stoppedEarly ? `, stopped after epoch ${result.epochs.at(-1)?.epoch}` : ''}; the model holds the best epoch's weights`);
    }
    let evalLine: string | undefined;
    if (prepared.eval !== undefined) {
      const evaluation = prepared.evaluate(model, prepared.eval, evaluationBatch);
      summary.eval = { ...evaluation.summary, file: prepared.evalSource! };
      evalLine = `${prepared.evalSource}: ${evaluation.line}`;
    }
    await writeFinalCheckpoint(settings.out, model as TaskModel<unknown>, files.tokenizerFiles);
    await writeFileAtomic(path.join(settings.out, SUMMARY_FILE), JSON.stringify(summary, null, 2) + '\n');
    // A finished run has nothing to resume; its checkpoint/ (weights + optimizer moments) would only triple the disk use.
    await fs.rm(path.join(settings.out, CHECKPOINT_DIR), { recursive: true, force: true });
    await writeReport(settings.out);
    return { summary, ...(evalLine !== undefined ? { evalLine } : {}) };
  } finally {
    await engine?.close();
    model.dispose();
  }
}

class StopRequested extends Error {}

/** config.json without id2label / label2id / num_labels (HF writes none for a model without classes). */
function withoutLabels(json: unknown): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return json;
  const { id2label: _id2label, label2id: _label2id, num_labels: _numLabels, ...rest } = json as Record<string, unknown>;
  return rest;
}

/** Keeps the metrics of the steps a resumed run does not redo; starts a new file otherwise. */
async function prepareMetricsFile(file: string, keepSteps: number): Promise<void> {
  if (keepSteps === 0) {
    await fs.writeFile(file, '');
    return;
  }
  const lines = existsSync(file) ? (await fs.readFile(file, 'utf8')).split('\n').filter((line) => line !== '') : [];
  await writeFileAtomic(file, lines.slice(0, keepSteps).map((line) => line + '\n').join(''));
}

/** The final HF checkpoint goes into <out> itself, next to metrics.jsonl: each file replaced atomically, config.json last. */
async function writeFinalCheckpoint(out: string, model: TaskModel<unknown>, tokenizerFiles: Record<string, string>): Promise<void> {
  const files = [...checkpointFiles(model, { tokenizerFiles })].sort(([a], [b]) => Number(a === 'config.json') - Number(b === 'config.json'));
  // Weights first, config last: a directory with a new config.json has the new weights.
  for (const [name, content] of files) await writeFileAtomic(path.join(out, name), content);
}

interface MicroBatchPlan {
  microBatch: number;
  /** The largest micro-batch the measurements say fits (for an out-of-memory message). */
  fitting?: number;
}

/**
 * The micro-batch: `auto` picks the largest that fits the limits; an explicit one is checked
 * first (two cheap probes, extrapolated) so a run that cannot fit stops before training with
 * the size that does, instead of crashing the wasm heap mid-epoch.
 */
async function planMicroBatch<Sample extends { ids: readonly number[] }>(
  settings: FinetuneSettings,
  saved: number | undefined,
  model: TaskModel<Sample>,
  longest: Sample,
  limits: MemoryLimits,
  gradients: GradientStore,
  hooks: FinetuneHooks,
): Promise<MicroBatchPlan> {
  const probeSamples = (count: number) => Array.from({ length: count }, () => longest);
  const measure = async (count: number) => {
    try {
      return await measurePeak(model, probeSamples(count), gradients);
    } finally {
      model.parameters.releaseMirrors();
    }
  };
  const requested = saved ?? settings.microBatch;
  if (requested === 'auto') {
    const choice = await chooseMicroBatch({
      maxMicroBatch: settings.batch,
      measure,
      fits: (peak) => fitsLimits(peak, limits),
      describeLimit: (peak) => `even a micro-batch of 1 needs ${formatBytes(peak)} at the longest sequence (${longest.ids.length} tokens), over ${describeLimits(peak, limits)}`,
    });
    hooks.log(
      `micro-batch auto: ${choice.microBatch} (peak ${formatBytes(choice.peakBytes)} of heap tensors at ${longest.ids.length} tokens, host ${formatBytes(limits.hostBytes)}; ` +
        `probes ${choice.probes.map((probe) => `${probe.microBatch}→${formatBytes(probe.peakBytes)}`).join(', ')})`,
    );
    return { microBatch: choice.microBatch, fitting: choice.microBatch };
  }
  // Far within the limits by a conservative estimate: no need to spend two probes on it.
  const estimate = model.activationBytesEstimate(requested, longest.ids.length);
  if (2 * estimate <= limits.heapBytes && 2 * (estimate + limits.hostBytes) <= limits.budgetBytes) {
    let fitting = requested;
    while (fitting < settings.batch && fitsLimits(model.activationBytesEstimate(fitting + 1, longest.ids.length), limits)) fitting += 1;
    return { microBatch: requested, fitting };
  }
  const one = await measure(1);
  const two = requested >= 2 ? await measure(2) : one;
  const fitting = largestFitting(one, two, limits, settings.batch);
  const predicted = extrapolate(one, two, requested);
  if (!fitsLimits(predicted, limits)) {
    throw new MemoryError(
      `${requested} would need about ${formatBytes(predicted)} of heap tensors at the longest sequence (${longest.ids.length} tokens), over ${describeLimits(predicted, limits)}: ` +
        (fitting >= 1 ? `--micro-batch ${fitting} fits (the result does not depend on it), or use --micro-batch auto` : 'use a shorter --max-length or a smaller model'),
      { field: 'microBatch' },
    );
  }
  return { microBatch: requested, fitting };
}

function validateSettings(settings: FinetuneSettings): void {
  const check = (ok: boolean, field: string, detail: string) => {
    if (!ok) throw new ConfigError(detail, { field });
  };
  validateTrainingSettings({ ...settings, microBatch: settings.microBatch === 'auto' ? 1 : settings.microBatch });
  check(settings.microBatch === 'auto' || settings.microBatch <= settings.batch, 'microBatch', `(${settings.microBatch}) must be a positive integer not exceeding the batch (${settings.batch})`);
  check(settings.maxLength >= 3, 'maxLength', `must be at least 3 (a token between the special tokens), got ${settings.maxLength}`);
  check(settings.workers === 'auto' || (Number.isSafeInteger(settings.workers) && settings.workers >= 1), 'workers', `must be a positive integer or "auto", got ${settings.workers}`);
  check(settings.memoryBudget === undefined || settings.memoryBudget > 0, 'memoryBudget', 'must be positive');
  check(Number.isSafeInteger(settings.reinitLayers) && settings.reinitLayers >= 0, 'reinitLayers', `must be an integer ≥ 0, got ${settings.reinitLayers}`);
}
