import { Command } from 'commander';
import { buildLabelMap, encodeRows } from '../app/data/index.js';
import { evaluateClassifier } from '../app/evaluate.js';
import { formatConfusion } from '../app/metrics/classification.js';
import { formatClassificationReport } from '../app/metrics/seqeval.js';
import { evaluateMaskedLm, maskFunction, maskingSpec, type PretrainingSample } from '../app/pretraining.js';
import { alignTaggedSentences, evaluateTokenClassifier } from '../app/token-classification.js';
import type { TaskName } from '../models/index.js';
import { selectBackend } from '../node/backend.js';
import { readLabelledFile } from '../node/files.js';
import { loadTrainedModel, modelTask } from '../node/models.js';
import { checkLongest, maskedLmEvaluationResult, readPretrainingFile, readTaggedFile, tokenEvaluationResult } from '../node/tasks.js';
import type { MaskedInput, MaskedLanguageModel, SequenceClassifier, TokenClassifier } from '../tasks/model.js';
import { MODEL_HELP, modelDirectory } from './model.js';
import { BACKEND_CHOICES, choiceOption, nonNegativeInteger, positiveInteger, unitInterval } from './options.js';

interface EvalFlags {
  model: string;
  data: string;
  task?: TaskName;
  textField: string;
  labelField: string;
  tokensField?: string;
  tagsField?: string;
  tagColumn?: number;
  mode: 'default' | 'strict';
  seed: number;
  mlmProbability: number;
  wholeWordMask?: boolean;
  pack?: boolean;
  maxLength: number;
  batchSize: number;
  backend: 'auto' | 'wasm' | 'cpu' | 'node';
  json?: boolean;
}

export function evalCommand(): Command {
  return new Command('eval')
    .description(
      'Evaluate a trained model on a file; the task comes from its config.json (architectures). Sequence classification: accuracy, macro-F1 and the confusion matrix. ' +
        'Token classification: entity precision/recall/F1 as seqeval (per type, micro, macro) and token accuracy. Masked LM: loss and perplexity with fixed masks.',
    )
    .requiredOption('--model <dir|id>', `trained model: the --out of train or pretrain, or ${MODEL_HELP}`)
    .requiredOption('--data <file>', 'labelled data: JSONL, CSV or TSV; token classification: CoNLL or JSONL {"tokens", "tags"}; masked LM: text as for pretrain')
    .addOption(choiceOption('--task <name>', 'override the task read from config.json', ['sequence-classification', 'token-classification', 'masked-lm']))
    .option('--text-field <name>', 'text column/field', 'text')
    .option('--label-field <name>', 'label column/field', 'label')
    .option('--tokens-field <name>', 'token classification, JSONL: the field holding the words (default tokens)')
    .option('--tags-field <name>', 'token classification, JSONL: the field holding the tags (default tags)')
    .option('--tag-column <n>', 'token classification, CoNLL: the tag column, 1-based (default: the last)', positiveInteger)
    .addOption(choiceOption('--mode <mode>', 'token classification: seqeval default mode (conlleval-compatible) or strict (the scheme, IOB2 or IOBES, detected from the tags)', ['default', 'strict'], 'default'))
    .option('--seed <n>', 'masked LM: seed of the fixed evaluation masks', nonNegativeInteger, 0)
    .option('--mlm-probability <p>', 'masked LM: share of the tokens masked', unitInterval, 0.15)
    .option('--whole-word-mask', 'masked LM: mask whole words')
    .option('--pack', 'masked LM: pack the documents into blocks of --max-length')
    .option('--max-length <n>', 'tokens per sample including the special tokens', positiveInteger, 128)
    .option('--batch-size <n>', 'samples per forward pass', positiveInteger, 32)
    .addOption(choiceOption('--backend <name>', 'TF.js backend', BACKEND_CHOICES, 'auto'))
    .option('--json', 'print the full report as one JSON line')
    .action(async (flags: EvalFlags) => {
      const modelDir = await modelDirectory(flags.model);
      const task = flags.task ?? (await modelTask(modelDir));
      if (task === 'token-classification') await evaluateTokens(modelDir, flags);
      else if (task === 'masked-lm') await evaluateMaskedLmFile(modelDir, flags);
      else await evaluateSequences(modelDir, flags);
    });
}

/** Backend notices are held back until the inputs are known to be good, so bad input fails with one line. */
async function startBackend(flags: EvalFlags): Promise<string[]> {
  const notices: string[] = [];
  await selectBackend(flags.backend, { log: (line) => notices.push(line) });
  return notices;
}

function printNotices(notices: readonly string[]): void {
  for (const notice of notices) process.stderr.write(notice + '\n');
}

async function evaluateSequences(modelDir: string, flags: EvalFlags): Promise<void> {
  // Inputs are checked before anything is printed, so bad input fails with one line.
  const data = await readLabelledFile(flags.data, { textField: flags.textField, labelField: flags.labelField });
  const notices = await startBackend(flags);
  const { model, tokenizer, labels } = await loadTrainedModel<SequenceClassifier>(modelDir, 'sequence-classification');
  try {
    const { label2id } = buildLabelMap(data, labels);
    const examples = encodeRows(data, tokenizer, { maxLength: flags.maxLength, label2id });
    printNotices(notices);
    const { report, correct } = evaluateClassifier(model, examples, labels, flags.batchSize);
    if (flags.json) {
      process.stdout.write(JSON.stringify({ data: flags.data, task: 'sequence-classification', ...report }) + '\n');
      return;
    }
    process.stdout.write(
      `${flags.data}: ${report.samples} samples\naccuracy ${report.accuracy.toFixed(4)} (${correct}/${report.samples})\nmacro-F1 ${report.macro_f1.toFixed(4)}\n` +
        report.per_label.map((entry) => `  ${entry.label}: precision ${entry.precision.toFixed(4)} recall ${entry.recall.toFixed(4)} F1 ${entry.f1.toFixed(4)} (${entry.support})`).join('\n') +
        `\nconfusion matrix:\n${formatConfusion(report)}\n`,
    );
  } finally {
    model.dispose();
  }
}

async function evaluateTokens(modelDir: string, flags: EvalFlags): Promise<void> {
  const notices = await startBackend(flags);
  const { model, tokenizer, labels } = await loadTrainedModel<TokenClassifier>(modelDir, 'token-classification');
  try {
    const sentences = await readTaggedFile(flags.data, { tagSet: labels, ...definedOnly({ tokensField: flags.tokensField, tagsField: flags.tagsField, tagColumn: flags.tagColumn }) });
    const samples = alignTaggedSentences(sentences, tokenizer, labels, { maxLength: flags.maxLength, labelAllTokens: false, file: flags.data });
    printNotices(notices);
    const evaluation = evaluateTokenClassifier(model, samples, labels, flags.batchSize, { mode: flags.mode });
    const result = tokenEvaluationResult(evaluation, labels);
    if (flags.json) {
      process.stdout.write(JSON.stringify({ data: flags.data, task: 'token-classification', ...result.summary }) + '\n');
      return;
    }
    process.stdout.write(
      `${flags.data}: ${evaluation.sentences} sentences, ${evaluation.words} words (seqeval ${evaluation.report.mode} mode${evaluation.report.scheme !== undefined ? `, ${evaluation.report.scheme}` : ''})\n` +
        `${result.line}\n\n${formatClassificationReport(evaluation.report, 4)}`,
    );
  } finally {
    model.dispose();
  }
}

async function evaluateMaskedLmFile(modelDir: string, flags: EvalFlags): Promise<void> {
  const notices = await startBackend(flags);
  // The masks need the tokenizer and config that loading reads: bound once the model is loaded.
  let mask: (sample: PretrainingSample, epoch: number) => MaskedInput = () => {
    throw new Error('masks used before the model was loaded');
  };
  const { model, tokenizer } = await loadTrainedModel<MaskedLanguageModel<PretrainingSample>>(modelDir, 'masked-lm', { mask: ((sample: PretrainingSample, epoch: number) => mask(sample, epoch)) as never });
  try {
    mask = maskFunction(maskingSpec(tokenizer, model.config, { seed: flags.seed, probability: flags.mlmProbability, wholeWordMask: flags.wholeWordMask ?? false }));
    const { samples } = await readPretrainingFile(flags.data, tokenizer, { textField: flags.textField, maxLength: flags.maxLength, pack: flags.pack ?? false });
    checkLongest(samples, model.config, 'a sample');
    printNotices(notices);
    const result = maskedLmEvaluationResult(evaluateMaskedLm(model, samples, flags.batchSize));
    if (flags.json) {
      process.stdout.write(JSON.stringify({ data: flags.data, task: 'masked-lm', seed: flags.seed, mlm_probability: flags.mlmProbability, whole_word_mask: flags.wholeWordMask ?? false, ...result.summary }) + '\n');
      return;
    }
    process.stdout.write(`${flags.data}: ${result.line}\n`);
  } finally {
    model.dispose();
  }
}

function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
