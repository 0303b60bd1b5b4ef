/**
 * The messages between the page (main.ts) and the training worker (worker.ts). Everything that
 * crosses is structured-cloneable: settings, file contents, File objects, typed arrays.
 */
import type { ClassificationEvaluation } from '../src/app/prepare.js';
import type { MetricsLine, RunSummary } from '../src/app/report/types.js';
import type { TrainingSettings } from '../src/app/run.js';
import type { EpochSummary } from '../src/plan/ledger.js';

/** The model folder to train: the bundled default (fetched from the server) or the user's files. */
export type ModelChoice =
  | { kind: 'bundled'; source: string; base: string; names: string[] }
  | { kind: 'files'; source: string; files: File[] };

export interface DataChoice {
  file: string;
  content: string;
}

/** What the page's form sets: the CLI's train flags that the page offers. */
export interface PageSettings extends TrainingSettings {
  textField: string;
  labelField: string;
  maxLength: number;
}

export type ToWorker =
  | { type: 'start'; model: ModelChoice; train: DataChoice; eval?: DataChoice; settings: PageSettings }
  | { type: 'stop' }
  | { type: 'resume' }
  | { type: 'checkpoint' }
  | { type: 'predict'; text: string };

export interface BackendInfo {
  /** One line as the CLI prints it: `backend wasm (SIMD on, 2 threads, fast kernels)`. */
  detail: string;
  name: string;
  simd: boolean;
  threads: number;
  crossOriginIsolated: boolean;
}

/** Where a run stands once it has started. */
export interface RunPlan {
  samples: number;
  labels: string[];
  epochs: number;
  /** Planned window sizes of every epoch (the same each epoch: the policy depends on N and batch only). */
  windows: number[];
  totalSteps: number;
  evalSamples: number;
  /** The CLI's `train:` line. */
  trainLine: string;
}

export interface ErrorInfo {
  /** The message as the CLI prints it after `microbatch: error: `. */
  message: string;
  name: string;
  file?: string;
  line?: number;
  field?: string;
}

export type FromWorker =
  | { type: 'backend'; backend: BackendInfo }
  | { type: 'log'; line: string }
  | { type: 'started'; plan: RunPlan }
  | { type: 'step'; metrics: MetricsLine }
  | { type: 'epoch'; summary: EpochSummary; line: string }
  | { type: 'stopped'; globalStep: number; epoch: number; nextWindow: number }
  | { type: 'evaluating'; samples: number }
  | { type: 'done'; summary: RunSummary; evaluation?: ClassificationEvaluation; evalLine?: string; trainSeconds: number }
  | { type: 'checkpoint'; name: string; zip: Uint8Array }
  | { type: 'prediction'; text: string; label: string; probabilities: number[]; labels: string[] }
  | { type: 'error'; error: ErrorInfo };
