import { Command, Option } from 'commander';
import { ConfigError } from '../core/errors.js';
import { formatLedgerLine } from '../plan/index.js';
import { bundledPath, finetune, resumeOutputDir, type FinetuneSettings, type FinetuneSummary } from '../node/finetune.js';
import type { MetricName } from '../app/sweep/types.js';
import { BACKEND_CHOICES, byteSize, choiceOption, microBatchValue, nonNegativeInteger, nonNegativeNumber, positiveInteger, probability, unitInterval, workersValue } from './options.js';
import { MODEL_HELP, modelDirectory } from './model.js';
import { createProgress } from './progress.js';

/**
 * The embedded default: with neither --data nor --model, the shipped small BERT — pretrained with
 * `microbatch pretrain` on unlabelled SpamAssassin messages (data/pretrained-model/README.md) —
 * is fine-tuned on the bundled SpamAssassin subset and evaluated on its held-out split. `train
 * --data FILE` without --model starts from the same model. Its size (2 layers, hidden 128) wants
 * a larger learning rate and more epochs than a full-size BERT, so whenever the default model is
 * used these replace the flags' defaults unless given explicitly.
 */
export const EMBEDDED_DEFAULT = {
  data: bundledPath('data', 'spam', 'train.jsonl'),
  eval: bundledPath('data', 'spam', 'eval.jsonl'),
  model: bundledPath('data', 'pretrained-model'),
  out: 'runs/demo',
  overrides: { epochs: 12, lr: 3e-4, warmupSteps: 4, weightDecay: 0.01 } as Partial<FinetuneSettings>,
};

/** What commander parses: the run's settings, except where flags and settings differ in shape. */
export type RunFlags = Omit<FinetuneSettings, 'data' | 'model' | 'out' | 'lossScale' | 'earlyStopping' | 'task' | 'textField' | 'labelField' | 'evaluateEveryEpoch'> & {
  data?: string;
  model?: string;
  out?: string;
  task?: FinetuneSettings['task'];
  textField?: string;
  labelField?: string;
  lossScale: 'off' | 'dynamic';
  /** --eval-every-epoch (commander names it after the flag). */
  evalEveryEpoch?: boolean;
  resume?: string;
  metric?: MetricName;
  patience?: number;
};

/**
 * The flags every training command shares (train, pretrain): optimisation, windows, memory,
 * workers, checkpoints. `metrics` are the evaluation metrics early stopping may watch.
 */
export function addRunOptions(command: Command, metrics: readonly MetricName[]): Command {
  return command
    .option('--eval-every-epoch', 'evaluate after every epoch, not only at the end')
    .addOption(choiceOption('--metric <name>', 'early stopping: the evaluation metric to watch (needs --eval); the best epoch\'s weights are kept', metrics))
    .option('--patience <n>', 'early stopping: stop after n epochs without improvement (default: never stop, keep the best epoch)', positiveInteger)
    .option('--micro-batch <n|auto>', 'samples per forward/backward pass, or "auto" to fit --memory-budget; the default is lowered to --batch when that is smaller', microBatchValue, 8)
    .option('--memory-budget <size>', 'memory the run may use, wasm heap and host stores together, e.g. 6GB (default: 75% of RAM); --micro-batch auto picks the largest that fits, a given micro-batch is checked against it', byteSize)
    .option('--batch <n>', 'samples per optimizer step (the effective batch)', positiveInteger, 32)
    .option('--epochs <n>', 'passes over the data', positiveInteger, 3)
    .option('--lr <rate>', 'peak learning rate', nonNegativeNumber, 5e-5)
    .option('--weight-decay <w>', 'decoupled weight decay (not applied to biases and LayerNorm)', nonNegativeNumber, 0)
    .addOption(choiceOption('--optimizer <name>', 'optimizer (PyTorch semantics)', ['adamw', 'sgd'], 'adamw'))
    .option('--momentum <m>', 'SGD momentum', nonNegativeNumber)
    .addOption(choiceOption('--schedule <name>', 'learning-rate schedule over all optimizer steps', ['constant', 'linear', 'cosine'], 'linear'))
    .option('--warmup-steps <n>', 'linear warm-up steps', nonNegativeInteger, 0)
    .option('--warmup-ratio <r>', 'warm-up as a share of all optimizer steps (replaces --warmup-steps)', unitInterval)
    .option('--reinit-layers <n>', 're-initialise the top n encoder layers and the head\'s hidden layer before training (few-sample stability)', nonNegativeInteger, 0)
    .option('--clip-norm <x>', 'clip the global gradient L2 norm once per step (0 turns it off)', nonNegativeNumber, 1.0)
    .addOption(choiceOption('--remainder <policy>', 'last partial window: step (train it), balance (even windows) or drop (reported)', ['step', 'balance', 'drop'], 'step'))
    .option('--max-length <n>', 'tokens per sample including the special tokens', positiveInteger, 128)
    .option('--seed <n>', 'seed of the shuffles, dropout masks, new weights (and masked-LM masks)', nonNegativeInteger, 0)
    .option('--no-shuffle', 'keep the file order in every epoch')
    .option('--dropout <p>', 'override every dropout probability of the config', probability)
    .addOption(choiceOption('--precision <name>', 'matrix products: fp32, or bf16 autocast as torch.autocast(\'cpu\', dtype=torch.bfloat16) (bf16 operands, fp32 accumulation; weights, gradients and optimizer state stay fp32)', ['fp32', 'bf16'], 'fp32'))
    .option('--workers <n|auto>', 'compute threads: the main thread and n−1 workers sharing one copy of the parameters; auto: one per core, or one whose native kernels use every core for models of 8 M parameters and more (faster there, see BENCHMARKS.md)', workersValue, 'auto')
    .addOption(choiceOption('--backend <name>', 'TF.js backend: auto picks node (if installed), else wasm, else cpu', BACKEND_CHOICES, 'auto'))
    .option('--save-every <n>', 'write a resumable checkpoint to <out>/checkpoint every n optimizer steps (epoch ends always)', nonNegativeInteger, 0)
    .option('--resume <dir>', 'continue an interrupted run from <dir> (its --out or its checkpoint/) with its saved settings')
    .addOption(choiceOption('--loss-scale <mode>', 'dynamic loss scaling as torch GradScaler (scale, unscale, skip/retry on overflow)', ['off', 'dynamic'], 'off'))
    .addOption(choiceOption('--on-overflow <policy>', 'with --loss-scale dynamic: skip the window, or retry it at the lower scale', ['skip', 'retry'], 'retry'))
    .addOption(new Option('--stop-after-steps <n>', 'stop after n optimizer steps as if interrupted (a resumable checkpoint is written)').argParser(positiveInteger));
}

/** Runs `finetune` with a progress bar on stderr; prints the ledger of every epoch and the evaluation. */
export async function runFinetune(settings: FinetuneSettings, resume: string | undefined): Promise<void> {
  const progress = createProgress();
  try {
    const { summary, evalLine } = await finetune(
      settings,
      {
        log: (line) => progress.line(line),
        onStep: (event, run) =>
          progress.step({
            epoch: event.epoch + 1,
            epochs: run.epochs,
            window: event.window + 1,
            windows: event.windows,
            globalStep: event.globalStep,
            totalSteps: event.totalSteps,
            stepsThisProcess: run.stepsThisProcess,
            samplesThisProcess: run.samplesThisProcess,
            elapsedSeconds: run.elapsedSeconds,
            loss: event.skipped ? null : event.loss,
            lr: event.lr,
            skipped: event.skipped,
          }),
      },
      resume,
    );
    progress.stop();
    process.stdout.write(finalReport(summary, evalLine, settings.out));
  } finally {
    progress.stop();
  }
}

export function trainCommand(): Command {
  const command = new Command('train')
    .description(
      'Fine-tune a Hugging Face encoder (BERT, DistilBERT, RoBERTa, ELECTRA) with exact gradient accumulation: sequence classification, or token classification (NER) ' +
        'normalised by the labelled tokens of each optimizer step. With neither --data nor --model it runs the embedded default: the shipped pretrained small BERT ' +
        '(data/pretrained-model) on the bundled SpamAssassin subset (data/spam), evaluated on its held-out split.',
    )
    .option('--data <file>', 'training data: JSONL, CSV or TSV with a text and a label field; token classification: CoNLL columns or JSONL {"tokens": [...], "tags": [...]}')
    .option('--model <dir|id>', `${MODEL_HELP}; a directory without weights initialises a new model from its config.json (default: the shipped pretrained small BERT, with its own defaults: --epochs 12 --lr 3e-4 --warmup-steps 4 --weight-decay 0.01)`)
    .addOption(choiceOption('--task <name>', 'what to train', ['sequence-classification', 'token-classification'], 'sequence-classification'))
    .option('--out <dir>', 'output directory: HF checkpoint, metrics.jsonl, summary.json, report.html, checkpoint/ (default for the embedded run: runs/demo)')
    .option('--eval <file>', 'evaluation data (same format); its metrics go into summary.json');
  addRunOptions(command, ['accuracy', 'macro_f1', 'loss'])
    .option('--text-field <name>', 'text column/field', 'text')
    .option('--label-field <name>', 'label column/field', 'label')
    .option('--tokens-field <name>', 'token classification, JSONL: the field holding the words (default tokens)')
    .option('--tags-field <name>', 'token classification, JSONL: the field holding one tag per word (default tags)')
    .option('--tag-column <n>', 'token classification, CoNLL: the column of the tag, 1-based (default: the last; column 1 is the word)', positiveInteger)
    .option('--label-all-tokens', 'token classification: label every sub-token of a word (B- becomes I- after the first), not only the first')
    .action(async (flags: RunFlags, cmd: Command) => {
      const settings = resolveSettings(flags, cmd);
      if (flags.model !== undefined) settings.model = await modelDirectory(flags.model);
      await runFinetune(settings, flags.resume);
    });
  return command;
}

/** What a run prints on stdout at its end: the sample ledger of every finished epoch, then (if it finished) the evaluation and where the outputs are. */
function finalReport(summary: FinetuneSummary, evalLine: string | undefined, out: string): string {
  const lines = summary.epochs.map((epoch) => formatLedgerLine(epoch, summary.samples));
  if (evalLine !== undefined) lines.push(`eval: ${evalLine}`);
  if (!summary.stopped_early) lines.push(`wrote ${out}: HF checkpoint, metrics.jsonl, summary.json, report.html (${summary.train_seconds.toFixed(1)} s of training)`);
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

function resolveSettings(flags: RunFlags, cmd: Command): FinetuneSettings {
  const embedded = flags.data === undefined && flags.model === undefined && flags.resume === undefined;
  if (flags.resume === undefined && flags.data === undefined && flags.model !== undefined) {
    throw new ConfigError('train needs --data FILE (or neither --data nor --model, for the embedded default)');
  }
  const defaultModel = flags.model === undefined && flags.resume === undefined;
  const out = flags.out ?? (embedded ? EMBEDDED_DEFAULT.out : flags.resume !== undefined ? resumeOutputDir(flags.resume) : undefined);
  if (out === undefined) throw new ConfigError('train needs --out DIR (where the checkpoint, metrics.jsonl and summary.json go)');
  const settings = runSettings(flags, {
    task: flags.task ?? 'sequence-classification',
    data: flags.data ?? EMBEDDED_DEFAULT.data,
    model: flags.model ?? EMBEDDED_DEFAULT.model,
    out,
    ...(flags.eval === undefined && embedded ? { eval: EMBEDDED_DEFAULT.eval } : {}),
  }, cmd);
  if (defaultModel) {
    for (const [key, value] of Object.entries(EMBEDDED_DEFAULT.overrides)) {
      if (cmd.getOptionValueSource(key) === 'default') (settings as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return settings;
}

/** FinetuneSettings from a training command's flags and the paths it resolved. */
export function runSettings(flags: RunFlags, resolved: Pick<FinetuneSettings, 'task' | 'data' | 'model' | 'out'> & { eval?: string }, cmd?: Command): FinetuneSettings {
  const { resume: _resume, lossScale, metric, patience, evalEveryEpoch, ...rest } = flags;
  if (metric === undefined && patience !== undefined) throw new ConfigError('needs --metric (the evaluation metric to watch)', { field: 'patience' });
  // The default micro-batch never exceeds a smaller --batch (one given explicitly still must not).
  const microBatch = cmd?.getOptionValueSource('microBatch') === 'default' && typeof flags.microBatch === 'number' ? Math.min(flags.microBatch, flags.batch) : flags.microBatch;
  return {
    ...rest,
    microBatch,
    textField: flags.textField ?? 'text',
    labelField: flags.labelField ?? 'label',
    evaluateEveryEpoch: evalEveryEpoch ?? false,
    ...(metric !== undefined ? { earlyStopping: { metric, patience: patience ?? null } } : {}),
    ...resolved,
    lossScale: lossScale === 'dynamic',
  };
}
