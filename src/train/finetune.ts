/**
 * Fine-tuning a BERT sequence classifier from files: what `microbatch train` runs. It wires
 * the pieces (data → tokenizer → model → fit → checkpoint) and writes the run's outputs;
 * the training step itself is `fit`'s.
 *
 * Output directory layout:
 *   <out>/config.json, model.safetensors, vocab.txt, …   the final HF checkpoint
 *   <out>/metrics.jsonl                                    one line per optimizer step
 *   <out>/summary.json                                     the ledger of every epoch (+ eval)
 *   <out>/checkpoint/                                      the last resumable checkpoint (HF files +
 *                                                          training_state.json), written atomically
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BertForSequenceClassification, type EncodedExample } from '../bert/model.js';
import { loadBertCheckpoint, saveBertCheckpoint, CONFIG_FILE, WEIGHTS_FILE } from '../bert/checkpoint.js';
import { parseBertConfig, type BertConfig } from '../bert/config.js';
import { parseSafetensors, serializeSafetensors, type F32Tensor } from '../core/safetensors.js';
import { BertTokenizer } from '../bert/tokenizer.js';
import { buildLabelMap, encodeRows, lengthStats, readLabelledFile, type EncodedRow, type LengthStats } from '../data/index.js';
import { CheckpointError, ConfigError } from '../core/errors.js';
import { createOptimizer, type ScheduleKind } from '../optim/index.js';
import { type EpochSummary, type RemainderPolicy } from '../plan/index.js';
import type { BackendChoice } from '../backend/select.js';
import { selectBackend } from '../backend/select.js';
import { chooseMicroBatch, formatBytes } from './autobatch.js';
import { evaluateClassifier, type EvaluationResult } from './evaluate.js';
import { fit, type StepEvent } from './fit.js';
import { createParallelEngine, type ParallelEngine } from './parallel.js';
import { LossScaler } from './scaler.js';
import type { OverflowPolicy, TrainingState } from './types.js';

/** The settings of a fine-tuning run (all of them are stored with resumable checkpoints). */
export interface FinetuneSettings {
  data: string;
  model: string;
  out: string;
  eval?: string;
  microBatch: number | 'auto';
  memoryBudget?: number;
  batch: number;
  epochs: number;
  lr: number;
  weightDecay: number;
  optimizer: 'adamw' | 'sgd';
  momentum?: number;
  schedule: ScheduleKind;
  warmupSteps: number;
  clipNorm: number;
  remainder: RemainderPolicy;
  maxLength: number;
  seed: number;
  shuffle: boolean;
  dropout?: number;
  textField: string;
  labelField: string;
  workers: number;
  backend: BackendChoice;
  /** Write a resumable checkpoint every N optimizer steps (0: only at epoch ends). */
  saveEvery: number;
  /** Dynamic loss scaling (GradScaler semantics); off by default on float32 backends. */
  lossScale: boolean;
  onOverflow: OverflowPolicy;
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
  samples: number;
  labels: string[];
  micro_batch: number;
  batch: number;
  backend: string;
  /** The backend's one-line description (SIMD, kernels, native matMul). */
  backend_detail: string;
  workers: number;
  epochs: EpochSummary[];
  eval?: { accuracy: number; macro_f1: number; samples: number; correct: number; file: string };
  train_seconds: number;
  stopped_early?: boolean;
}

export const STATE_FILE = 'training_state.json';
/** The optimizer's moments, next to STATE_FILE: binary, as JSON numbers they would be ~5× larger and slow to write. */
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const SUMMARY_FILE = 'summary.json';
const CHECKPOINT_DIR = 'checkpoint';

/** Written next to the weights of a resumable checkpoint (`training.optimizer.slots` live in OPTIMIZER_FILE). */
interface SavedState {
  format: 'microbatch-training-state';
  version: 2;
  settings: FinetuneSettings;
  labels: string[];
  microBatch: number;
  training: TrainingState;
}

/** The directory of the embedded default (bundled data and small BERT config). */
export function bundledPath(...parts: string[]): string {
  return path.join(fileURLToPath(new URL('../../../', import.meta.url)), ...parts);
}

async function writeFileAtomic(file: string, data: string): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}`;
  await fs.writeFile(temporary, data);
  await fs.rename(temporary, file);
}

/** Slot `m` of parameter `bert.pooler.dense.weight` is stored as tensor `bert.pooler.dense.weight#m`. */
const SLOT_SEPARATOR = '#';

function optimizerSlotTensors(slots: TrainingState['optimizer']['slots']): Map<string, F32Tensor> {
  const tensors = new Map<string, F32Tensor>();
  for (const [param, byName] of Object.entries(slots)) {
    for (const [slot, values] of Object.entries(byName)) {
      tensors.set(`${param}${SLOT_SEPARATOR}${slot}`, { dtype: 'F32', shape: [values.length], data: Float32Array.from(values) });
    }
  }
  return tensors;
}

async function readOptimizerSlots(file: string): Promise<TrainingState['optimizer']['slots']> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    throw new CheckpointError(`${file}: cannot read the optimizer state (${(error as Error).message})`);
  }
  const slots: TrainingState['optimizer']['slots'] = {};
  for (const [name, tensor] of parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file).tensors) {
    const cut = name.lastIndexOf(SLOT_SEPARATOR);
    if (cut <= 0 || tensor.dtype !== 'F32') throw new CheckpointError(`${file}: unexpected tensor "${name}" (${tensor.dtype})`);
    (slots[name.slice(0, cut)] ??= {})[name.slice(cut + 1)] = Array.from(tensor.data as Float32Array);
  }
  return slots;
}

/**
 * Reads a resumable checkpoint's state: `dir` is a run's --out or its checkpoint/ subdirectory.
 * A checkpoint whose replacement was interrupted (see `recoverInterruptedSave`) is repaired first.
 */
export async function readSavedState(dir: string): Promise<{ checkpointDir: string; saved: SavedState }> {
  const nested = path.join(dir, CHECKPOINT_DIR);
  if (!existsSync(path.join(nested, STATE_FILE)) && !existsSync(path.join(dir, STATE_FILE))) {
    await recoverInterruptedSave(path.basename(path.resolve(dir)) === CHECKPOINT_DIR ? dir : nested);
  }
  for (const checkpointDir of [nested, dir]) {
    const file = path.join(checkpointDir, STATE_FILE);
    if (!existsSync(file)) continue;
    let saved: SavedState;
    try {
      saved = JSON.parse(await fs.readFile(file, 'utf8')) as SavedState;
    } catch (error) {
      throw new CheckpointError(`${file}: not valid JSON (${(error as Error).message})`);
    }
    if (saved?.format !== 'microbatch-training-state' || saved.version !== 2) {
      throw new CheckpointError(`${file}: not a microbatch training state (format/version)`);
    }
    saved.training.optimizer.slots = await readOptimizerSlots(path.join(checkpointDir, OPTIMIZER_FILE));
    return { checkpointDir, saved };
  }
  throw new CheckpointError(`${dir}: no resumable checkpoint (${STATE_FILE}) found here or in ${nested}`);
}

/** The output directory of the run that `--resume DIR` continues: DIR, or the parent of DIR when DIR is its checkpoint/. */
export function resumeOutputDir(dir: string): string {
  const isCheckpoint = existsSync(path.join(dir, STATE_FILE)) && !existsSync(path.join(dir, CHECKPOINT_DIR, STATE_FILE));
  return isCheckpoint ? path.dirname(path.resolve(dir)) : dir;
}

/**
 * saveBertCheckpoint replaces a checkpoint with two renames (the old one to `<dir>.old-<id>`,
 * then the complete new `<dir>.tmp-<id>` to `<dir>`). A run killed between the two leaves no
 * `<dir>` but both complete versions: finish the swap with the new one (else the old one).
 */
async function recoverInterruptedSave(target: string): Promise<void> {
  const parent = path.dirname(path.resolve(target));
  const base = path.basename(path.resolve(target));
  let names: string[];
  try {
    names = await fs.readdir(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(`${base}.old-`)) continue;
    const newer = path.join(parent, `${base}.tmp-${name.slice(base.length + '.old-'.length)}`);
    const source = existsSync(path.join(newer, STATE_FILE)) ? newer : path.join(parent, name);
    if (!existsSync(path.join(source, STATE_FILE))) continue;
    await fs.rename(source, target);
    return;
  }
}

/** Removes what interrupted checkpoint writes leave next to `<out>/checkpoint` (partial `.tmp-` and superseded `.old-` copies). */
async function removeStaleCheckpointCopies(out: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(out);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(`${CHECKPOINT_DIR}.tmp-`) || name.startsWith(`${CHECKPOINT_DIR}.old-`)) {
      await fs.rm(path.join(out, name), { recursive: true, force: true });
    }
  }
}

interface PreparedModel {
  model: BertForSequenceClassification;
  config: BertConfig;
  labels: string[];
  notices: string[];
}

/** `dir`'s config.json, validated; reading it needs no TF.js backend. */
export async function readModelConfig(dir: string): Promise<BertConfig> {
  const configFile = path.join(dir, CONFIG_FILE);
  let configJson: unknown;
  try {
    configJson = JSON.parse(await fs.readFile(configFile, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CheckpointError(code === 'ENOENT' ? `${configFile}: config not found (is ${dir} a BERT checkpoint directory?)` : `${configFile}: ${(error as Error).message}`);
  }
  return parseBertConfig(configJson, configFile);
}

/** The config's label names, unless it has none or only HF's placeholders (LABEL_0 …), which carry no information. */
function namedLabels(config: BertConfig): string[] | undefined {
  return config.labels !== undefined && !config.labels.every((name, id) => name === `LABEL_${id}`) ? config.labels : undefined;
}

/**
 * Loads `dir`'s weights, or — for a directory with a config.json but no model.safetensors,
 * like the embedded default — initialises a new BERT from `config` (dir's config.json, see
 * `readModelConfig`) with `seed`, as a classifier over `labels`.
 */
export async function prepareModel(dir: string, config: BertConfig, labels: string[], seed: number, dropout?: number): Promise<PreparedModel> {
  const options = { numLabels: labels.length, seed, ...(dropout !== undefined ? { dropout } : {}) };
  if (!existsSync(path.join(dir, WEIGHTS_FILE))) {
    return {
      model: BertForSequenceClassification.create(config, options),
      config,
      labels,
      notices: [`model: ${dir} has no ${WEIGHTS_FILE}: initialised a new BERT from ${CONFIG_FILE} (seed ${seed})`],
    };
  }
  const loaded = await loadBertCheckpoint(dir, { labels, seed, ...(dropout !== undefined ? { dropout } : {}) });
  const notices = [`model: loaded ${loaded.report.loaded} tensors from ${path.join(dir, WEIGHTS_FILE)}`];
  if (loaded.report.initialized.length > 0) notices.push(`model: initialised fresh ${loaded.report.initialized.join(', ')}`);
  if (loaded.report.ignored.length > 0) notices.push(`model: ignored ${loaded.report.ignored.length} checkpoint tensors (${loaded.report.ignored.slice(0, 4).join(', ')}${loaded.report.ignored.length > 4 ? ', …' : ''})`);
  return { model: loaded.model, config: loaded.config, labels: loaded.labels, notices };
}

export interface EncodedDataset {
  examples: EncodedRow[];
  labels: string[];
  stats: LengthStats;
  rowsRead: number;
}

export function encodeLabelledFile(file: string, tokenizer: BertTokenizer, settings: Pick<FinetuneSettings, 'textField' | 'labelField' | 'maxLength'>, fixedLabels?: readonly string[]): EncodedDataset {
  const data = readLabelledFile(file, { textField: settings.textField, labelField: settings.labelField });
  const { labels, label2id } = buildLabelMap(data, fixedLabels);
  const examples = encodeRows(data, tokenizer, { maxLength: settings.maxLength, label2id });
  return { examples, labels, stats: lengthStats(examples), rowsRead: data.report.rowsRead };
}

function describeLengths(stats: LengthStats, maxLength: number): string {
  return `${stats.minTokens}–${stats.maxTokens} tokens (mean ${stats.meanTokens.toFixed(1)}), ${stats.truncated} truncated to ${maxLength}`;
}

/** Runs a whole fine-tuning job (or continues one, when `resumeFrom` is given). */
export async function finetune(settingsIn: FinetuneSettings, hooks: FinetuneHooks, resumeFrom?: string): Promise<FinetuneSummary> {
  let settings = settingsIn;
  let resume: { checkpointDir: string; saved: SavedState } | undefined;
  if (resumeFrom !== undefined) {
    resume = await readSavedState(resumeFrom);
    // A resumed run continues the saved run: same data, model, hyper-parameters. Only where
    // it writes and how it runs (backend, workers) may change.
    settings = { ...resume.saved.settings, out: settingsIn.out, backend: settingsIn.backend, workers: settingsIn.workers, stopAfterSteps: settingsIn.stopAfterSteps };
  }
  validateSettings(settings);

  // Every input is read and checked before the backend starts and before anything is logged
  // or written, so bad input fails with one line and leaves no output directory behind.
  const modelDir = resume?.checkpointDir ?? settings.model;
  const tokenizer = BertTokenizer.fromDirectory(modelDir);
  const config = await readModelConfig(modelDir);
  const data = encodeLabelledFile(settings.data, tokenizer, settings, resume?.saved.labels ?? namedLabels(config));
  const evalData = settings.eval !== undefined ? encodeLabelledFile(settings.eval, tokenizer, settings, data.labels) : undefined;
  if (settings.remainder === 'drop' && data.examples.length < settings.batch) {
    throw new ConfigError(`--remainder drop with ${data.examples.length} samples and --batch ${settings.batch} would drop every sample`);
  }

  // MICROBATCH_FAST_KERNELS=0 runs stock TF.js kernels: the benchmarks' baseline.
  // The native matMul's own threads fill the cores a single worker leaves idle.
  const backend = await selectBackend(settings.backend, {
    log: hooks.log,
    fastKernels: process.env.MICROBATCH_FAST_KERNELS !== '0',
    nativeThreads: settings.workers > 1 ? 1 : os.availableParallelism(),
  });
  const prepared = await prepareModel(modelDir, config, data.labels, settings.seed, settings.dropout);
  const { model, labels } = prepared;
  hooks.log(`data: ${settings.data}: ${data.rowsRead} rows, labels ${labels.map((label, id) => `${id}=${label}`).join(' ')}, ${describeLengths(data.stats, settings.maxLength)}`);
  for (const notice of prepared.notices) hooks.log(notice);

  let engine: ParallelEngine<EncodedExample> | undefined;
  const optimizer = createOptimizer({
    kind: settings.optimizer,
    weightDecay: settings.weightDecay,
    ...(settings.optimizer === 'sgd' && settings.momentum !== undefined ? { momentum: settings.momentum } : {}),
  });
  try {
    const microBatch = resume?.saved.microBatch ?? (await resolveMicroBatch(settings, model, data.examples, hooks));
    if (settings.workers > 1) {
      engine = await createParallelEngine<EncodedExample>(model, {
        workers: settings.workers,
        factoryModule: new URL('../bert/factory.js', import.meta.url).href,
        factoryExport: 'createBertModel',
        factoryOptions: { config: prepared.config, numLabels: labels.length, ...(settings.dropout !== undefined ? { dropout: settings.dropout } : {}) },
        backend: backend.name,
        fastKernels: backend.fastKernels,
      });
    }
    hooks.log(
      `train: ${data.examples.length} samples, micro-batch ${microBatch}, batch ${settings.batch}, ${settings.epochs} epochs, ` +
        `remainder ${settings.remainder}, ${settings.optimizer} lr ${settings.lr} (${settings.schedule}, warmup ${settings.warmupSteps}), ` +
        `clip ${settings.clipNorm || 'off'}, workers ${settings.workers}`,
    );

    await fs.mkdir(settings.out, { recursive: true });
    await removeStaleCheckpointCopies(settings.out);
    // summary.json marks a finished run; one left by an earlier run in this directory must not outlive this one's start.
    await fs.rm(path.join(settings.out, SUMMARY_FILE), { force: true });
    const metricsFile = path.join(settings.out, 'metrics.jsonl');
    const resumeState = resume?.saved.training;
    await prepareMetricsFile(metricsFile, resumeState?.globalStep ?? 0);

    const scaler = new LossScaler({ enabled: settings.lossScale, onOverflow: settings.onOverflow });
    const started = performance.now();
    let stepsThisProcess = 0;
    let samplesThisProcess = 0;
    let stoppedEarly = false;
    // The ledger of every finished epoch, also when the run stops before fit returns.
    const finishedEpochs: EpochSummary[] = [...(resumeState?.completed ?? [])];
    // Absolute input paths, so that `--resume` works from any working directory.
    const savedSettings: FinetuneSettings = {
      ...settings,
      data: path.resolve(settings.data),
      model: path.resolve(settings.model),
      ...(settings.eval !== undefined ? { eval: path.resolve(settings.eval) } : {}),
      stopAfterSteps: undefined,
    };
    const saveState = async (training: TrainingState) => {
      const { slots, ...optimizer } = training.optimizer;
      const saved: SavedState = {
        format: 'microbatch-training-state',
        version: 2,
        settings: savedSettings,
        labels,
        microBatch,
        training: { ...training, optimizer: { ...optimizer, slots: {} } },
      };
      await saveBertCheckpoint(path.join(settings.out, CHECKPOINT_DIR), model, {
        labels,
        tokenizerFilesFrom: modelDir,
        extraFiles: { [STATE_FILE]: JSON.stringify(saved), [OPTIMIZER_FILE]: serializeSafetensors(optimizerSlotTensors(slots)) },
      });
    };

    let result;
    try {
      result = await fit<EncodedExample>({
        model,
        data: data.examples,
        epochs: settings.epochs,
        microBatch,
        batch: settings.batch,
        remainder: settings.remainder,
        seed: settings.seed,
        shuffle: settings.shuffle,
        optimizer,
        lr: settings.lr,
        schedule: settings.schedule,
        warmupSteps: settings.warmupSteps,
        clipNorm: settings.clipNorm,
        scaler,
        ...(engine !== undefined ? { engine } : {}),
        ...(resumeState !== undefined ? { resume: resumeState } : {}),
        callbacks: {
          onStep: async (event) => {
            stepsThisProcess += 1;
            samplesThisProcess += event.windowSize;
            const elapsed = (performance.now() - started) / 1000;
            await fs.appendFile(
              metricsFile,
              JSON.stringify({
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
                elapsed_s: Number(elapsed.toFixed(3)),
              }) + '\n',
            );
            hooks.onStep?.(event, { epochs: settings.epochs, elapsedSeconds: elapsed, stepsThisProcess, samplesThisProcess });
          },
          onEpochEnd: (summary) => void finishedEpochs.push(summary),
          onWindowBoundary: async (boundary) => {
            // The end of the run needs no resumable checkpoint: the final one follows at once.
            const atEpochEnd = boundary.nextWindow === 0 && boundary.epoch < settings.epochs;
            const due = settings.saveEvery > 0 && boundary.globalStep % settings.saveEvery === 0;
            const stopping = settings.stopAfterSteps !== undefined && stepsThisProcess >= settings.stopAfterSteps;
            if (atEpochEnd || due || stopping) await saveState(boundary.state());
            if (stopping && boundary.epoch < settings.epochs) throw new StopRequested();
          },
        },
      });
    } catch (error) {
      if (!(error instanceof StopRequested)) throw error;
      stoppedEarly = true;
    }
    const trainSeconds = (performance.now() - started) / 1000;
    const summary: FinetuneSummary = {
      samples: data.examples.length,
      labels,
      micro_batch: microBatch,
      batch: settings.batch,
      backend: backend.name,
      backend_detail: backend.detail,
      workers: settings.workers,
      epochs: result?.epochs ?? finishedEpochs,
      train_seconds: Number(trainSeconds.toFixed(3)),
    };
    if (stoppedEarly) {
      summary.stopped_early = true;
      hooks.log(`stopped after ${stepsThisProcess} steps as asked; continue with: microbatch train --resume ${settings.out}`);
      return summary;
    }
    if (evalData !== undefined) {
      const evaluation: EvaluationResult = evaluateClassifier(model, evalData.examples, labels, Math.max(microBatch, 32));
      summary.eval = {
        accuracy: evaluation.report.accuracy,
        macro_f1: evaluation.report.macro_f1,
        samples: evaluation.report.samples,
        correct: evaluation.correct,
        file: settings.eval!,
      };
    }
    await writeFinalCheckpoint(settings.out, model, labels, modelDir);
    await writeFileAtomic(path.join(settings.out, SUMMARY_FILE), JSON.stringify(summary, null, 2) + '\n');
    // A finished run has nothing to resume; its checkpoint/ (weights + optimizer moments) would only triple the disk use.
    await fs.rm(path.join(settings.out, CHECKPOINT_DIR), { recursive: true, force: true });
    return summary;
  } finally {
    await engine?.close();
    optimizer.dispose();
    model.dispose();
  }
}

class StopRequested extends Error {}

/** Keeps the metrics of the steps a resumed run does not redo; starts a new file otherwise. */
async function prepareMetricsFile(file: string, keepSteps: number): Promise<void> {
  if (keepSteps === 0) {
    await fs.writeFile(file, '');
    return;
  }
  const lines = existsSync(file) ? (await fs.readFile(file, 'utf8')).split('\n').filter((line) => line !== '') : [];
  await writeFileAtomic(file, lines.slice(0, keepSteps).map((line) => line + '\n').join(''));
}

/** The final HF checkpoint goes into <out> itself, next to metrics.jsonl: each file replaced atomically. */
async function writeFinalCheckpoint(out: string, model: BertForSequenceClassification, labels: string[], tokenizerDir: string): Promise<void> {
  const staging = path.join(out, `.final-${process.pid}`);
  await saveBertCheckpoint(staging, model, { labels, tokenizerFilesFrom: tokenizerDir });
  // Weights first, config last: a directory with a new config.json has the new weights.
  const names = (await fs.readdir(staging)).sort((a, b) => Number(a === CONFIG_FILE) - Number(b === CONFIG_FILE));
  for (const name of names) await fs.rename(path.join(staging, name), path.join(out, name));
  await fs.rm(staging, { recursive: true, force: true });
}

async function resolveMicroBatch(settings: FinetuneSettings, model: BertForSequenceClassification, examples: readonly EncodedExample[], hooks: FinetuneHooks): Promise<number> {
  if (settings.microBatch !== 'auto') return settings.microBatch;
  const budget = settings.memoryBudget ?? Math.floor(os.totalmem() / 4);
  const longest = examples.reduce((best, example) => (example.ids.length > best.ids.length ? example : best), examples[0]!);
  const paramBytes = model.params.reduce((sum, { variable }) => sum + variable.size * 4, 0);
  const choice = await chooseMicroBatch<EncodedExample>({
    model,
    probeSamples: (count) => Array.from({ length: count }, () => longest),
    maxMicroBatch: settings.batch,
    budgetBytes: budget,
    optimizerStateBytes: (settings.optimizer === 'adamw' ? 2 : settings.momentum ? 1 : 0) * paramBytes,
  });
  hooks.log(
    `micro-batch auto: ${choice.microBatch} (peak ${formatBytes(choice.peakBytes)} of ${formatBytes(budget)} at ${longest.ids.length} tokens; ` +
      `probes ${choice.probes.map((probe) => `${probe.microBatch}→${formatBytes(probe.peakBytes)}`).join(', ')})`,
  );
  return choice.microBatch;
}

function validateSettings(settings: FinetuneSettings): void {
  const check = (ok: boolean, message: string) => {
    if (!ok) throw new ConfigError(message);
  };
  check(Number.isFinite(settings.lr) && settings.lr >= 0, `--lr must be a finite number ≥ 0, got ${settings.lr}`);
  check(Number.isFinite(settings.weightDecay) && settings.weightDecay >= 0, `--weight-decay must be ≥ 0, got ${settings.weightDecay}`);
  check(
    settings.microBatch === 'auto' || (Number.isSafeInteger(settings.microBatch) && settings.microBatch >= 1 && settings.microBatch <= settings.batch),
    `--micro-batch (${settings.microBatch}) must be a positive integer not exceeding --batch (${settings.batch})`,
  );
  check(settings.maxLength >= 3, `--max-length must be at least 3 ([CLS] token [SEP]), got ${settings.maxLength}`);
  check(Number.isSafeInteger(settings.workers) && settings.workers >= 1, `--workers must be a positive integer, got ${settings.workers}`);
  check(settings.microBatch !== 'auto' || settings.memoryBudget === undefined || settings.memoryBudget > 0, '--memory-budget must be positive');
  check(settings.microBatch === 'auto' || settings.memoryBudget === undefined, '--memory-budget only applies with --micro-batch auto');
  check(settings.optimizer === 'sgd' || settings.momentum === undefined, '--momentum only applies with --optimizer sgd');
}
