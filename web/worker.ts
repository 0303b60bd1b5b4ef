/**
 * The training worker: TF.js on its wasm backend (SIMD; the threaded build when the page is
 * cross-origin isolated) with microbatch's fast kernels, and the same library path as
 * `microbatch train` — prepareClassificationRun, then trainModel with exact accumulation,
 * then the evaluation. Nothing here blocks the page: it runs in a Web Worker and reports every
 * optimizer step.
 *
 * Stop and resume keep the run in memory: a stop takes effect at the next window boundary
 * (never inside a window), where fit hands out the exact training state — optimizer moments,
 * schedule step, loss scale and the ledger of the unfinished epoch — and resume continues
 * from it, so the epoch's ledger still accounts for every sample.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { zipSync } from 'fflate';
import { checkpointContents, evaluateClassification, prepareClassificationRun, type ModelFolder, type PreparedClassificationRun } from '../src/app/prepare.js';
import { metricsLine, trainModel, validateTrainingSettings, warmupStepsFor, type RunProgressState } from '../src/app/run.js';
import type { MetricsLine, RunSummary } from '../src/app/report/types.js';
import { fastKernelsInstalled, installFastKernels } from '../src/backend/fastKernels.js';
import { registerMissingKernels } from '../src/backend/missingKernels.js';
import { ConfigError } from '../src/core/errors.js';
import { errorInfo } from './errors.js';
import { formatLedgerLine, stepsPerEpoch, windowSizes, type EpochSummary } from '../src/plan/index.js';
import type { TrainingState } from '../src/train/types.js';
import type { BackendInfo, DataChoice, FromWorker, ModelChoice, PageSettings, ToWorker } from './protocol.js';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  location: { href: string };
  crossOriginIsolated: boolean;
}
const scope = self as unknown as WorkerScope;
const post = (message: FromWorker, transfer?: Transferable[]) => scope.postMessage(message, transfer);

/** A run in this worker: its prepared model and data, and where training stands. */
interface Run {
  prepared: PreparedClassificationRun;
  settings: PageSettings;
  source: string;
  trainFile: string;
  evalFile?: string;
  /** Every step's metrics line so far (the report's metrics.jsonl). */
  metrics: MetricsLine[];
  epochs: EpochSummary[];
  /** Training seconds over every part of the run (a stop and resume adds up its parts). */
  trainSeconds: number;
  /** Set by a stop: where resume continues. */
  saved?: { training: TrainingState; progress: RunProgressState };
  state: 'training' | 'stopped' | 'done';
}

let backend: Promise<BackendInfo> | undefined;
let run: Run | undefined;
let stopRequested = false;

class StopRequested extends Error {}

async function startBackend(): Promise<BackendInfo> {
  // Quiet TF.js's console banners; the page shows the backend it uses.
  tf.env().set('PROD', true);
  setWasmPaths(new URL('/wasm/', scope.location.href).href);
  // Only the threaded build (a cross-origin isolated page) has threads. TF.js caps them at half
  // the logical cores (its C++ init), so a 2-core machine computes on 1; `?threads=N` on the
  // page's URL asks for fewer (or more, up to that cap), e.g. to measure.
  const requested = Number(new URL(scope.location.href).searchParams.get('threads') ?? Number.NaN);
  if (Number.isInteger(requested) && requested >= 1) setThreadsCount(requested);
  if (await tf.setBackend('wasm')) {
    await tf.ready();
    registerMissingKernels();
    installFastKernels();
    const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
    const threads = getThreadsCount();
    const kernels = fastKernelsInstalled() ? 'fast kernels' : 'stock kernels';
    return {
      name: 'wasm',
      detail: `backend wasm (SIMD ${simd ? 'on' : 'off'}, ${threads} thread${threads === 1 ? '' : 's'}, ${kernels})`,
      simd,
      threads,
      crossOriginIsolated: scope.crossOriginIsolated,
    };
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { name: 'cpu', detail: 'backend cpu (pure JavaScript, 1 thread): wasm could not start', simd: false, threads: 1, crossOriginIsolated: scope.crossOriginIsolated };
}

/** The model folder as the library reads it: fetched from the server, or the user's File objects. */
function modelFolder(choice: ModelChoice): ModelFolder {
  if (choice.kind === 'bundled') {
    return {
      source: choice.source,
      names: choice.names,
      async read(name) {
        const response = await fetch(new URL(name, new URL(choice.base, scope.location.href)));
        if (!response.ok) throw new ConfigError(`cannot fetch the bundled model's ${name} (HTTP ${response.status})`);
        return new Uint8Array(await response.arrayBuffer());
      },
    };
  }
  const byName = new Map(choice.files.map((file) => [file.name, file]));
  return {
    source: choice.source,
    names: [...byName.keys()],
    async read(name) {
      return new Uint8Array(await byName.get(name)!.arrayBuffer());
    },
  };
}

/** Lets queued messages (a stop) in: training is one long chain of promises otherwise. */
const yieldToMessages = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function start(model: ModelChoice, trainData: DataChoice, evalData: DataChoice | undefined, settings: PageSettings): Promise<void> {
  run?.prepared.model.dispose();
  run = undefined;
  const info = await backend!;
  // The checks and their order are the CLI's: settings, model files, data, weights, remainder.
  validateTrainingSettings(settings);
  const prepared = await prepareClassificationRun(modelFolder(model), trainData, evalData, settings);
  if (settings.remainder === 'drop' && prepared.train.length < settings.batch) {
    prepared.model.dispose();
    throw new ConfigError(`with ${prepared.train.length} samples and --batch ${settings.batch} would drop every sample`, { field: 'remainder' });
  }
  run = { prepared, settings, source: model.source, trainFile: trainData.file, ...(evalData !== undefined ? { evalFile: evalData.file } : {}), metrics: [], epochs: [], trainSeconds: 0, state: 'training' };
  post({ type: 'log', line: info.detail });
  for (const line of prepared.notices) post({ type: 'log', line });
  const trainLine =
    `train: ${prepared.train.length} samples, micro-batch ${settings.microBatch}, batch ${settings.batch}, ${settings.epochs} epochs, ` +
    `remainder ${settings.remainder}, ${settings.optimizer} lr ${settings.lr} (${settings.schedule}, warmup ${warmupStepsFor(settings, prepared.train.length)}), ` +
    `clip ${settings.clipNorm || 'off'}, workers 1`;
  post({ type: 'log', line: trainLine });
  post({
    type: 'started',
    plan: {
      samples: prepared.train.length,
      labels: prepared.labels,
      epochs: settings.epochs,
      windows: windowSizes(prepared.train.length, settings.batch, settings.remainder),
      totalSteps: settings.epochs * stepsPerEpoch(prepared.train.length, settings.batch, settings.remainder),
      evalSamples: prepared.eval?.length ?? 0,
      trainLine,
    },
  });
  await train(run);
}

/** Trains `active` from the start or from its saved state, until the end or a stop. */
async function train(active: Run): Promise<void> {
  const { prepared, settings } = active;
  stopRequested = false;
  active.state = 'training';
  const resume = active.saved;
  active.saved = undefined;
  const started = performance.now();
  const elapsed = () => active.trainSeconds + (performance.now() - started) / 1000;
  let result;
  try {
    result = await trainModel({
      model: prepared.model,
      samples: prepared.train,
      settings,
      ...(resume !== undefined ? { resume } : {}),
      onStep: (event) => {
        const line = metricsLine(event, elapsed()) as unknown as MetricsLine;
        active.metrics.push(line);
        post({ type: 'step', metrics: line });
      },
      onEpochEnd: (summary) => {
        active.epochs.push(summary);
        post({ type: 'epoch', summary, line: formatLedgerLine(summary, prepared.train.length) });
      },
      onWindowBoundary: async (boundary, progress) => {
        await yieldToMessages();
        if (!stopRequested || boundary.epoch >= settings.epochs) return;
        const state = progress();
        active.saved = { training: boundary.state({ copy: true }), progress: { ...state, evaluations: [...state.evaluations] } };
        throw new StopRequested();
      },
    });
  } catch (error) {
    active.trainSeconds = elapsed();
    if (!(error instanceof StopRequested)) throw error;
    active.state = 'stopped';
    const saved = active.saved!.training;
    post({ type: 'log', line: `stopped after step ${saved.globalStep}: resume continues at epoch ${saved.epoch + 1}, window ${saved.nextWindow + 1}` });
    post({ type: 'stopped', globalStep: saved.globalStep, epoch: saved.epoch, nextWindow: saved.nextWindow });
    return;
  }
  active.trainSeconds = elapsed();
  active.epochs = result.epochs;
  let evaluation;
  let evalLine: string | undefined;
  if (prepared.eval !== undefined) {
    post({ type: 'evaluating', samples: prepared.eval.length });
    evaluation = evaluateClassification(prepared.model, prepared.eval, prepared.labels, Math.max(settings.microBatch, 32));
    evalLine = `${active.evalFile}: ${evaluation.line}`;
  }
  active.state = 'done';
  post({ type: 'done', summary: runSummary(active, evaluation?.summary), ...(evaluation !== undefined ? { evaluation } : {}), ...(evalLine !== undefined ? { evalLine } : {}), trainSeconds: active.trainSeconds });
}

/** summary.json as `microbatch train` writes it, for the page's report. */
function runSummary(active: Run, evaluation: NonNullable<ReturnType<typeof evaluateClassification>>['summary'] | undefined): RunSummary {
  const { settings, prepared } = active;
  return {
    task: 'sequence-classification',
    model_type: prepared.family.modelType,
    samples: prepared.train.length,
    labels: prepared.labels,
    micro_batch: settings.microBatch,
    batch: settings.batch,
    backend: 'wasm',
    workers: 1,
    epochs: active.epochs,
    ...(evaluation !== undefined ? { eval: { ...evaluation, file: active.evalFile! } } : {}),
    train_seconds: Number(active.trainSeconds.toFixed(3)),
    settings: { ...settings, task: 'sequence-classification', data: active.trainFile, model: active.source, ...(active.evalFile !== undefined ? { eval: active.evalFile } : {}), workers: 1 },
  };
}

function checkpointZip(active: Run): { name: string; zip: Uint8Array } {
  const name = `${active.source}-finetuned`;
  const entries: Record<string, Uint8Array> = {};
  for (const [file, bytes] of checkpointContents(active.prepared.model, active.prepared.tokenizerFiles)) entries[`${name}/${file}`] = bytes;
  // safetensors hardly compresses: a light level keeps the zip quick to make.
  return { name: `${name}.zip`, zip: zipSync(entries, { level: 1 }) };
}

function predict(active: Run, text: string): void {
  const { ids } = active.prepared.tokenizer.encode(text, { maxLength: active.settings.maxLength });
  const [probabilities] = active.prepared.model.probabilities([{ ids }]);
  const values = Array.from(probabilities!);
  const best = values.indexOf(Math.max(...values));
  post({ type: 'prediction', text, label: active.prepared.labels[best]!, probabilities: values, labels: active.prepared.labels });
}

scope.onmessage = (event) => {
  const message = event.data;
  const fail = (error: unknown) => post({ type: 'error', error: errorInfo(error) });
  switch (message.type) {
    case 'start':
      start(message.model, message.train, message.eval, message.settings).catch(fail);
      break;
    case 'stop':
      stopRequested = true;
      break;
    case 'resume':
      if (run?.state === 'stopped') train(run).catch(fail);
      break;
    case 'checkpoint':
      if (run !== undefined && run.state !== 'training') {
        try {
          const { name, zip } = checkpointZip(run);
          post({ type: 'checkpoint', name, zip }, [zip.buffer]);
        } catch (error) {
          fail(error);
        }
      }
      break;
    case 'predict':
      if (run !== undefined && run.state !== 'training') {
        try {
          predict(run, message.text);
        } catch (error) {
          fail(error);
        }
      }
      break;
  }
};

backend = startBackend();
backend.then((info) => post({ type: 'backend', backend: info }), (error) => post({ type: 'error', error: errorInfo(error) }));
