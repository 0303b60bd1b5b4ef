/**
 * What a run report is made from: a `train` run's `summary.json`, the lines of its
 * `metrics.jsonl` and its settings. The shapes follow what the run writes (snake_case, as in
 * the files); fields the writer may not produce yet — or that older runs lack — are optional,
 * so a report can be made of any run, finished or not.
 */

/** One epoch of the ledger (`EpochSummary` of src/plan/ledger.ts). */
export interface EpochRecord {
  /** 1-based. */
  epoch: number;
  /** Samples in applied windows. */
  samples_seen: number;
  /** Planned window sizes, in order. */
  windows: number[];
  /** Optimizer steps applied. */
  steps: number;
  /** Windows whose update was skipped (non-finite gradients under the `skip` policy). */
  skipped_steps: number;
  /** Samples left out by `--remainder drop`. */
  dropped_samples: number;
  /** Samples of skipped windows (older runs lack it: it is then the windows' total minus samples_seen). */
  skipped_samples?: number;
  /** Item-weighted mean loss over the applied windows; null if none (or not finite). */
  loss: number | null;
}

/** Precision, recall and F1 of one label or entity type; `support` = true occurrences. */
export interface Scores {
  precision: number;
  recall: number;
  f1: number;
  support?: number;
}

/** Entity-level metrics of token classification (seqeval semantics). */
export interface EntityMetrics {
  /** By entity type; an object keyed by type, or a list of `{ type, … }`. */
  per_type: Record<string, Scores> | (Scores & { type: string })[];
  micro: Scores;
  macro: Scores;
}

/** summary.json's `eval`. */
export interface EvalRecord {
  accuracy: number;
  macro_f1: number;
  samples: number;
  correct: number;
  file?: string;
  /** Label names in id order (the confusion matrix's order); default: the summary's labels. */
  labels?: string[];
  /** By label; an object keyed by label, or a list of `{ label, … }` (as `classificationReport` returns it). */
  per_label?: Record<string, Scores> | (Scores & { label: string })[];
  /** confusion_matrix[t][p] = samples of true label t predicted as p. */
  confusion_matrix?: number[][];
  entities?: EntityMetrics;
}

/** summary.json's `eval` of a masked-LM run (pretraining): fixed evaluation masks, token-exact mean. */
export interface MaskedLmEvalRecord {
  /** Mean cross-entropy over all masked tokens (null: no token was masked). */
  loss: number | null;
  perplexity: number | null;
  masked_tokens: number;
  samples: number;
  file?: string;
}

/** summary.json (`FinetuneSummary` of src/train/finetune.ts, plus what the integrator adds). */
export interface RunSummary {
  /** Training samples (N). */
  samples: number;
  epochs: EpochRecord[];
  labels?: string[];
  micro_batch?: number;
  batch?: number;
  backend?: string;
  backend_detail?: string;
  workers?: number;
  eval?: EvalRecord;
  /** A masked-LM run's `eval` (summary.json keeps it under `eval`; it has no accuracy). */
  masked_lm_eval?: MaskedLmEvalRecord;
  train_seconds?: number;
  stopped_early?: boolean;
  /** e.g. "sequence-classification", "token-classification". */
  task?: string;
  /** config.json's model_type, e.g. "bert". */
  model_type?: string;
  /** The run's settings (its flags, in FinetuneSettings' camelCase names). */
  settings?: Record<string, unknown>;
}

/** One line of metrics.jsonl: one optimizer step (window), applied or skipped. */
export interface MetricsLine {
  /** 1-based, counted over the whole run. */
  step: number;
  /** 1-based. */
  epoch: number;
  /** 1-based window of the epoch, and the epoch's window count. */
  window?: number;
  windows?: number;
  window_size?: number;
  /** Loss items of the window (samples, or labelled tokens). */
  items?: number;
  /** Samples of the epoch's applied windows so far. */
  samples_seen?: number;
  /** Mean loss over the window's items; null for a skipped window or a non-finite loss. */
  loss: number | null;
  lr?: number;
  /** Global gradient norm before clipping; null for a skipped window. */
  grad_norm?: number | null;
  loss_scale?: number;
  skipped?: boolean;
  retries?: number;
  /** Seconds since training started in the process that ran the step. */
  elapsed_s?: number;
}

/** Everything a report shows. A run stopped before its end has no summary.json: then `summary` is absent. */
export interface RunRecord {
  summary?: RunSummary;
  metrics: MetricsLine[];
  /** The run's settings; default: `summary.settings`. */
  settings?: Record<string, unknown>;
  /** When the run's files were last written (ISO 8601), shown as the run's date. */
  finishedAt?: string;
  /** Problems met while reading the run that did not stop the report (e.g. a truncated last metrics line). */
  warnings?: string[];
}

/** The uPlot files the report inlines (it makes no request of any kind). */
export interface ReportAssets {
  /** uPlot's IIFE build (defines the global `uPlot`). */
  uplotJs: string;
  uplotCss: string;
}
