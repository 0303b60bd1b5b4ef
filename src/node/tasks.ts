/**
 * What a `train` run does that depends on its task: read and encode the data files, choose the
 * labels, and evaluate. Each task is one `TaskRunner`; `finetune` (src/node/finetune.ts) is the
 * same for all of them.
 */
import { chooseTrainingLabels, type LabelChoice } from '../app/checkpoint.js';
import { buildLabelMap, encodeRows, lengthStats, type EncodedRow, type LengthStats } from '../app/data/index.js';
import { evaluateClassifier } from '../app/evaluate.js';
import { foldIndices, stratifiedFolds } from '../app/sweep/folds.js';
import { ConfigError } from '../core/errors.js';
import type { EncoderConfig, TaskName } from '../models/index.js';
import type { SequenceClassifier, SequenceSample, TaskModel } from '../tasks/model.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { readLabelledFile } from './files.js';

/** The file-related settings a task reads its data with. */
export interface TaskDataSettings {
  data: string;
  eval?: string;
  textField: string;
  labelField: string;
  maxLength: number;
  /** Cross-validation: train on every fold but `fold`, evaluate on it (stratified by label, from `seed`). */
  split?: { folds: number; fold: number; seed: number };
}

/** What evaluating a model gives: the metrics (early stopping picks one), summary.json's `eval`, the line on stdout. */
export interface TaskEvaluation {
  metrics: Record<string, number>;
  summary: Record<string, unknown>;
  line: string;
}

export interface PreparedTask<Sample> {
  task: TaskName;
  labels: string[];
  labelChoice: LabelChoice;
  train: Sample[];
  eval?: Sample[];
  /** Where the evaluation data comes from (a file, or a fold of the training file). */
  evalSource?: string;
  /** One line for the log: rows, labels, lengths. */
  describe: string;
  evaluate(model: TaskModel<Sample>, samples: readonly Sample[], batchSize: number): TaskEvaluation;
  /** The longest sample (for memory probes). */
  longest: Sample;
}

export interface TaskRunner<Sample> {
  task: TaskName;
  /** Reads and encodes the data; `fixedLabels` are a resumed run's. Everything is checked before training starts. */
  prepare(settings: TaskDataSettings, tokenizer: Tokenizer, config: EncoderConfig, fixedLabels?: readonly string[]): Promise<PreparedTask<Sample>>;
}

function describeLengths(stats: LengthStats, maxLength: number): string {
  return `${stats.minTokens}–${stats.maxTokens} tokens (mean ${stats.meanTokens.toFixed(1)}), ${stats.truncated} truncated to ${maxLength}`;
}

/** Sequence classification from JSONL/CSV/TSV rows with a text and a label field. */
export const sequenceClassification: TaskRunner<SequenceSample> = {
  task: 'sequence-classification',
  async prepare(settings, tokenizer, config, fixedLabels) {
    const fields = { textField: settings.textField, labelField: settings.labelField };
    const data = await readLabelledFile(settings.data, fields);
    const dataLabels = buildLabelMap(data).labels;
    const labelChoice = fixedLabels !== undefined ? { labels: [...fixedLabels], keepHead: true } : chooseTrainingLabels(config, dataLabels);
    const { labels, label2id } = buildLabelMap(data, labelChoice.labels);
    const rows = encodeRows(data, tokenizer, { maxLength: settings.maxLength, label2id });
    let train: EncodedRow[] = rows;
    let evalRows: EncodedRow[] | undefined;
    let evalSource = settings.eval;
    if (settings.split !== undefined) {
      const { folds, fold, seed } = settings.split;
      if (settings.eval !== undefined) throw new ConfigError('a fold of the training data and an --eval file exclude each other', { field: 'eval' });
      const assignment = stratifiedFolds(rows.map((row) => labels[row.label]!), folds, seed);
      const { train: trainIndices, validation } = foldIndices(assignment, fold);
      train = trainIndices.map((index) => rows[index]!);
      evalRows = validation.map((index) => rows[index]!);
      evalSource = `${settings.data} (fold ${fold + 1} of ${folds})`;
    } else if (settings.eval !== undefined) {
      evalRows = encodeRows(await readLabelledFile(settings.eval, fields), tokenizer, { maxLength: settings.maxLength, label2id });
    }
    return {
      task: 'sequence-classification',
      labels,
      labelChoice,
      train,
      ...(evalRows !== undefined ? { eval: evalRows } : {}),
      ...(evalSource !== undefined ? { evalSource } : {}),
      describe: `${settings.data}: ${data.report.rowsRead} rows, labels ${labels.map((label, id) => `${id}=${label}`).join(' ')}, ${describeLengths(lengthStats(rows), settings.maxLength)}`,
      longest: train.reduce((best, row) => (row.ids.length > best.ids.length ? row : best), train[0]!),
      evaluate(model, samples, batchSize) {
        const evaluation = evaluateClassifier(model as unknown as SequenceClassifier, samples, labels, batchSize);
        const { report } = evaluation;
        return {
          metrics: { accuracy: report.accuracy, macro_f1: report.macro_f1, loss: evaluation.loss },
          summary: {
            accuracy: report.accuracy,
            macro_f1: report.macro_f1,
            loss: evaluation.loss,
            samples: report.samples,
            correct: evaluation.correct,
            labels: report.labels,
            per_label: Object.fromEntries(report.per_label.map(({ label, ...scores }) => [label, scores])),
            confusion_matrix: report.confusion,
          },
          line: `accuracy ${report.accuracy.toFixed(4)} (${evaluation.correct}/${report.samples}), macro-F1 ${report.macro_f1.toFixed(4)}`,
        };
      },
    };
  },
};

/** The task runners by task name; token classification and masked LM plug in here. */
export const TASK_RUNNERS: Partial<Record<TaskName, TaskRunner<never>>> = {
  'sequence-classification': sequenceClassification as TaskRunner<never>,
};

export function taskRunner(task: TaskName): TaskRunner<never> {
  const runner = TASK_RUNNERS[task];
  if (runner === undefined) throw new ConfigError(`"${task}" is not a task train runs (yet)`, { field: 'task' });
  return runner;
}
