/**
 * What a `train` run does that depends on its task: read and encode the data files, choose the
 * labels, and evaluate. Each task is one `TaskRunner`; `finetune` (src/node/finetune.ts) is the
 * same for all of them. The eval and predict commands read their data with the same functions.
 */
import { chooseTrainingLabels, type LabelChoice } from '../app/checkpoint.js';
import { buildLabelMap, encodeRows, lengthStats, type EncodedRow, type LengthStats } from '../app/data/index.js';
import { collectTags, parseConllWords, parseTagged, taggedFormatOf, type TaggedFormat, type TaggedSentence } from '../app/data/tagged.js';
import { parseTextDocuments, textFormatOf, type TextFormat } from '../app/data/text.js';
import { evaluateClassifier } from '../app/evaluate.js';
import { evaluateMaskedLm, maskingSpec, pretrainingSamples, type MaskingSpec, type PretrainingSample } from '../app/pretraining.js';
import { classificationSummary } from '../app/prepare.js';
import { foldIndices, stratifiedFolds } from '../app/sweep/folds.js';
import { alignTaggedSentences, evaluateTokenClassifier, wordsWithoutTokens, type SentenceInput, type TaggedSample, type TokenEvaluation } from '../app/token-classification.js';
import { ConfigError, DataError } from '../core/errors.js';
import type { EncoderConfig, TaskName } from '../models/index.js';
import type { MaskedLanguageModel, SequenceClassifier, SequenceSample, TaskModel, TokenClassifier } from '../tasks/model.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { readLabelledFile, readTextFile } from './files.js';

/** The file-related settings a task reads its data with. */
export interface TaskDataSettings {
  data: string;
  eval?: string;
  textField: string;
  labelField: string;
  maxLength: number;
  /** Cross-validation: train on every fold but `fold`, evaluate on it (stratified by label, from `seed`). */
  split?: { folds: number; fold: number; seed: number };
  /** The run's seed (masked LM draws its masks from it). */
  seed: number;
  /** Token classification, JSONL: the fields of the words and their tags (default tokens, tags). */
  tokensField?: string;
  tagsField?: string;
  /** Token classification, CoNLL: 1-based column of the tag (default: the last; column 1 is the word). */
  tagColumn?: number;
  /** Token classification: label every sub-token of a word, not only the first. */
  labelAllTokens?: boolean;
  /** Masked LM: probability that a token is selected (default 0.15). */
  mlmProbability?: number;
  /** Masked LM: select whole words. */
  wholeWordMask?: boolean;
  /** Masked LM: pack the documents into blocks of maxLength (run_mlm's group_texts) instead of truncating each. */
  pack?: boolean;
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
  /** Masked LM: what the masks depend on besides (epoch, sample); the model and every replica mask with it. */
  masking?: MaskingSpec;
}

export interface TaskRunner<Sample> {
  task: TaskName;
  /** The metrics its evaluation reports (early stopping may watch those). */
  metrics: readonly string[];
  /** Reads and encodes the data; `fixedLabels` are a resumed run's. Everything is checked before training starts. */
  prepare(settings: TaskDataSettings, tokenizer: Tokenizer, config: EncoderConfig, fixedLabels?: readonly string[]): Promise<PreparedTask<Sample>>;
}

function describeLengths(stats: LengthStats, maxLength: number): string {
  return `${stats.minTokens}–${stats.maxTokens} tokens (mean ${stats.meanTokens.toFixed(1)}), ${stats.truncated} truncated to ${maxLength}`;
}

/** Sequence classification from JSONL/CSV/TSV rows with a text and a label field. */
export const sequenceClassification: TaskRunner<SequenceSample> = {
  task: 'sequence-classification',
  metrics: ['accuracy', 'macro_f1', 'loss'],
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
        const { summary, line } = classificationSummary(evaluateClassifier(model as unknown as SequenceClassifier, samples, labels, batchSize));
        return { metrics: { accuracy: summary.accuracy, macro_f1: summary.macro_f1, loss: summary.loss }, summary, line };
      },
    };
  },
};

/** The most tokens a sample of `config`'s model may have (RoBERTa's positions start after padding_idx). */
export function positionLimit(config: EncoderConfig): number {
  return config.positionStyle === 'padding-offset' ? config.maxPositions - config.padTokenId - 1 : config.maxPositions;
}

export function checkLongest(samples: readonly { ids: readonly number[] }[], config: EncoderConfig, what: string): void {
  const limit = positionLimit(config);
  const longest = samples.reduce((most, sample) => Math.max(most, sample.ids.length), 0);
  if (longest > limit) throw new ConfigError(`gives ${what} of ${longest} tokens, more than the model's ${limit} positions: use --max-length ${limit} or less`, { field: 'maxLength' });
}

function longestSample<Sample extends { ids: readonly number[] }>(samples: readonly Sample[]): Sample {
  return samples.reduce((best, sample) => (sample.ids.length > best.ids.length ? sample : best), samples[0]!);
}

// ---------------------------------------------------------------------------------------------
// Token classification.

export interface TaggedReadOptions {
  tokensField?: string;
  tagsField?: string;
  tagColumn?: number;
  /** The model's labels: every tag must be one of them (and integer JSONL tags index them). */
  tagSet?: readonly string[];
}

/** The format of a tagged data file: JSONL by its extension, else CoNLL columns (CoNLL-2003 ships as .txt). */
export function taggedFileFormat(file: string): TaggedFormat {
  return taggedFormatOf(file) ?? 'conll';
}

/** Reads a CoNLL or JSONL file of tagged sentences; errors name the file, line and field. */
export async function readTaggedFile(file: string, options: TaggedReadOptions = {}): Promise<TaggedSentence[]> {
  const tagColumn = options.tagColumn;
  if (tagColumn !== undefined && (!Number.isSafeInteger(tagColumn) || tagColumn < 2)) {
    throw new ConfigError(`must be a column number ≥ 2 (column 1 holds the word), got ${tagColumn}`, { field: 'tagColumn' });
  }
  return parseTagged(await readTextFile(file), taggedFileFormat(file), {
    file,
    ...(options.tagSet !== undefined ? { tagSet: options.tagSet } : {}),
    ...(tagColumn !== undefined ? { tagColumn: tagColumn - 1 } : {}),
    ...(options.tokensField !== undefined ? { tokensField: options.tokensField } : {}),
    ...(options.tagsField !== undefined ? { tagsField: options.tagsField } : {}),
  });
}

/**
 * The sentences to tag in a prediction file: CoNLL (the word column; tags, if any, ignored) or
 * JSONL rows holding either the words (`tokensField`) or raw text (`textField`, whose entities get
 * character spans in that text).
 */
export async function readSentenceInputs(file: string, options: { tokensField?: string; textField: string }): Promise<SentenceInput[]> {
  const content = await readTextFile(file);
  if (taggedFileFormat(file) === 'conll') return parseConllWords(content, { file });
  const tokensField = options.tokensField ?? 'tokens';
  const inputs: SentenceInput[] = [];
  content.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (error) {
      throw new DataError(`malformed JSON (${(error as Error).message})`, { file, line });
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new DataError('row must be a JSON object', { file, line });
    const record = row as Record<string, unknown>;
    if (Object.hasOwn(record, tokensField)) {
      const words = record[tokensField];
      if (!Array.isArray(words) || words.length === 0 || !words.every((word) => typeof word === 'string' && word.trim() !== '')) {
        throw new DataError('must be a non-empty array of non-blank strings', { file, line, field: tokensField });
      }
      inputs.push({ line, words: words as string[] });
    } else if (typeof record[options.textField] === 'string') {
      inputs.push({ line, text: record[options.textField] as string });
    } else {
      throw new DataError(`needs the words ("${tokensField}": [...]) or a text ("${options.textField}": "...")`, { file, line, field: Object.hasOwn(record, options.textField) ? options.textField : tokensField });
    }
  });
  if (inputs.length === 0) throw new DataError('no sentences (only blank lines)', { file });
  return inputs;
}

/** summary.json's `eval`, the metrics and the one-line summary of a token-classification evaluation. */
export function tokenEvaluationResult(evaluation: TokenEvaluation, labels: readonly string[]): TaskEvaluation {
  const { report } = evaluation;
  const scores = ({ precision, recall, f1, support }: { precision: number; recall: number; f1: number; support: number }) => ({ precision, recall, f1, support });
  const micro = scores(report.microAvg);
  return {
    metrics: { f1: micro.f1, precision: micro.precision, recall: micro.recall, macro_f1: report.macroAvg.f1, accuracy: report.accuracy, loss: evaluation.loss },
    summary: {
      f1: micro.f1,
      precision: micro.precision,
      recall: micro.recall,
      accuracy: report.accuracy,
      macro_f1: report.macroAvg.f1,
      loss: evaluation.loss,
      samples: evaluation.words,
      correct: evaluation.correct,
      sentences: evaluation.sentences,
      words_without_tokens: evaluation.wordsWithoutTokens,
      labels: [...labels],
      mode: report.mode,
      ...(report.scheme !== undefined ? { scheme: report.scheme } : {}),
      entities: {
        per_type: Object.fromEntries(report.types.map(({ type, ...rest }) => [type, scores(rest)])),
        micro,
        macro: scores(report.macroAvg),
        weighted: scores(report.weightedAvg),
      },
    },
    line:
      `entity F1 ${micro.f1.toFixed(4)} (precision ${micro.precision.toFixed(4)}, recall ${micro.recall.toFixed(4)}, ${micro.support} entities), ` +
      `macro-F1 ${report.macroAvg.f1.toFixed(4)}, token accuracy ${report.accuracy.toFixed(4)} (${evaluation.correct}/${evaluation.words} words)` +
      (evaluation.wordsWithoutTokens > 0 ? `; ${evaluation.wordsWithoutTokens} words beyond --max-length not scored` : ''),
  };
}

/** Token classification (NER …) from CoNLL or JSONL `{"tokens", "tags"}` files. */
export const tokenClassification: TaskRunner<TaggedSample> = {
  task: 'token-classification',
  metrics: ['f1', 'precision', 'recall', 'macro_f1', 'accuracy', 'loss'],
  async prepare(settings, tokenizer, config, fixedLabels) {
    if (settings.split !== undefined) throw new ConfigError('cross-validation folds are for sequence classification; give token classification an --eval file', { field: 'split' });
    const readOptions = { ...pick(settings, 'tokensField', 'tagsField', 'tagColumn'), ...(fixedLabels !== undefined ? { tagSet: fixedLabels } : {}) };
    const sentences = await readTaggedFile(settings.data, readOptions);
    const labelChoice = fixedLabels !== undefined ? { labels: [...fixedLabels], keepHead: true } : chooseTrainingLabels(config, collectTags(sentences));
    const labels = labelChoice.labels;
    const align = { maxLength: settings.maxLength, labelAllTokens: settings.labelAllTokens ?? false };
    const train = alignTaggedSentences(sentences, tokenizer, labels, { ...align, file: settings.data });
    checkLongest(train, config, 'a sentence');
    let evalSamples: TaggedSample[] | undefined;
    if (settings.eval !== undefined) {
      const evalSentences = await readTaggedFile(settings.eval, { ...readOptions, tagSet: labels });
      evalSamples = alignTaggedSentences(evalSentences, tokenizer, labels, { ...align, file: settings.eval });
      checkLongest(evalSamples, config, 'a sentence');
    }
    const tokens = train.reduce((sum, sample) => sum + sample.ids.length, 0);
    const labelled = train.reduce((sum, sample) => sum + sample.labels.filter((label) => label !== -100).length, 0);
    const cut = wordsWithoutTokens(train);
    return {
      task: 'token-classification',
      labels,
      labelChoice,
      train,
      ...(evalSamples !== undefined ? { eval: evalSamples, evalSource: settings.eval! } : {}),
      describe:
        `${settings.data}: ${train.length} sentences, ${sentences.reduce((sum, sentence) => sum + sentence.words.length, 0)} words, ${tokens} tokens of which ${labelled} labelled ` +
        `(${align.labelAllTokens ? 'every sub-token' : 'first sub-token of each word'}), tags ${labels.map((label, id) => `${id}=${label}`).join(' ')}` +
        (cut > 0 ? `, ${cut} words beyond --max-length ${settings.maxLength} untrained` : ''),
      longest: longestSample(train),
      evaluate(model, samples, batchSize) {
        return tokenEvaluationResult(evaluateTokenClassifier(model as unknown as TokenClassifier, samples, labels, batchSize), labels);
      },
    };
  },
};

function pick<T extends object, K extends keyof T>(object: T, ...keys: K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (object[key] !== undefined) picked[key] = object[key];
  return picked;
}

// ---------------------------------------------------------------------------------------------
// Masked LM.

export interface PretrainingReadOptions {
  textField: string;
  maxLength: number;
  pack: boolean;
}

/** The text format of a pretraining file: by its extension, plain text (one document per line) otherwise. */
export function textFileFormat(file: string): TextFormat {
  return textFormatOf(file) ?? 'text';
}

/** Reads a pretraining text file (plain text, JSONL, CSV or TSV) into samples. */
export async function readPretrainingFile(file: string, tokenizer: Tokenizer, options: PretrainingReadOptions): Promise<{ samples: PretrainingSample[]; describe: string }> {
  const format = textFileFormat(file);
  const { documents, blankSkipped } = parseTextDocuments(await readTextFile(file), { format, file, textField: options.textField });
  if (documents.length === 0) throw new ConfigError(`has no documents (${blankSkipped} blank lines)`, { file });
  const inputs = pretrainingSamples(documents, tokenizer, { maxLength: options.maxLength, pack: options.pack, file });
  const source = format === 'text' ? 'plain text, one document per line' : `${format}, field "${options.textField}"`;
  return { samples: inputs.samples, describe: `${file} (${source}): ${inputs.describe}${blankSkipped > 0 ? `, ${blankSkipped} blank skipped` : ''}` };
}

/** summary.json's `eval`, the metrics and the one-line summary of a masked-LM evaluation. */
export function maskedLmEvaluationResult(evaluation: ReturnType<typeof evaluateMaskedLm>): TaskEvaluation {
  return {
    metrics: { loss: evaluation.loss, perplexity: evaluation.perplexity },
    summary: { loss: evaluation.loss, perplexity: evaluation.perplexity, masked_tokens: evaluation.maskedTokens, samples: evaluation.samples },
    line: `masked-LM loss ${evaluation.loss.toFixed(4)}, perplexity ${evaluation.perplexity.toFixed(2)} (${evaluation.maskedTokens} masked tokens in ${evaluation.samples} samples, fixed masks)`,
  };
}

/** Masked-LM pretraining (BERT's recipe) on plain text, JSONL or CSV/TSV documents. */
export const maskedLanguageModelling: TaskRunner<PretrainingSample> = {
  task: 'masked-lm',
  metrics: ['loss', 'perplexity'],
  async prepare(settings, tokenizer, config) {
    if (settings.split !== undefined) throw new ConfigError('cross-validation folds are for sequence classification; give pretraining an --eval file', { field: 'split' });
    const masking = maskingSpec(tokenizer, config, { seed: settings.seed, probability: settings.mlmProbability ?? 0.15, wholeWordMask: settings.wholeWordMask ?? false });
    const readOptions = { textField: settings.textField, maxLength: settings.maxLength, pack: settings.pack ?? false };
    const train = await readPretrainingFile(settings.data, tokenizer, readOptions);
    checkLongest(train.samples, config, 'a sample');
    const evalInputs = settings.eval !== undefined ? await readPretrainingFile(settings.eval, tokenizer, readOptions) : undefined;
    if (evalInputs !== undefined) checkLongest(evalInputs.samples, config, 'a sample');
    return {
      task: 'masked-lm',
      labels: [],
      labelChoice: { labels: [], keepHead: true },
      train: train.samples,
      ...(evalInputs !== undefined ? { eval: evalInputs.samples, evalSource: settings.eval! } : {}),
      describe:
        `${train.describe}; masking ${masking.probability} of the tokens (80% ${tokenizer.special.mask!.token}, 10% random, 10% kept)` +
        `${masking.wholeWordMask ? ', whole words' : ''}, seed ${masking.seed}`,
      longest: longestSample(train.samples),
      masking,
      evaluate(model, samples, batchSize) {
        return maskedLmEvaluationResult(evaluateMaskedLm(model as unknown as MaskedLanguageModel<PretrainingSample>, samples, batchSize));
      },
    };
  },
};

/** The task runners by task name. */
export const TASK_RUNNERS: Partial<Record<TaskName, TaskRunner<never>>> = {
  'sequence-classification': sequenceClassification as TaskRunner<never>,
  'token-classification': tokenClassification as TaskRunner<never>,
  'masked-lm': maskedLanguageModelling as TaskRunner<never>,
};

export function taskRunner(task: TaskName): TaskRunner<never> {
  const runner = TASK_RUNNERS[task];
  if (runner === undefined) throw new ConfigError(`"${task}" is not a task train runs (yet)`, { field: 'task' });
  return runner;
}
