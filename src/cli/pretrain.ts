import { Command } from 'commander';
import { ConfigError } from '../core/errors.js';
import { resumeOutputDir } from '../node/finetune.js';
import { MODEL_HELP, modelDirectory } from './model.js';
import { unitInterval } from './options.js';
import { addRunOptions, runFinetune, runSettings, type RunFlags } from './train.js';

type PretrainFlags = RunFlags & { mlmProbability: number; wholeWordMask?: boolean; pack?: boolean };

export function pretrainCommand(): Command {
  const command = new Command('pretrain')
    .description(
      'Masked-LM pretraining (BERT\'s recipe) with exact accumulation: each optimizer step is normalised by the masked tokens of all its micro-batches. ' +
        'Continues from a checkpoint (domain-adaptive pretraining) or starts from a config-only directory; writes a Hugging Face …ForMaskedLM checkpoint that train accepts as --model.',
    )
    .option('--data <file>', 'unlabelled text: plain text (one document per line, any other extension), or the text field of JSONL / CSV / TSV')
    .option('--model <dir|id>', `${MODEL_HELP}; a directory without weights starts from its config.json`)
    .option('--out <dir>', 'output directory: HF …ForMaskedLM checkpoint, metrics.jsonl, summary.json, report.html')
    .option('--eval <file>', 'held-out text: masked-LM loss and perplexity with fixed masks go into summary.json')
    .option('--mlm-probability <p>', 'share of the tokens selected for prediction (80% become the mask token, 10% a random token, 10% stay)', unitInterval, 0.15)
    .option('--whole-word-mask', 'select whole words: all sub-tokens of a chosen word are predicted')
    .option('--pack', 'concatenate the documents and cut them into blocks of --max-length (run_mlm\'s group_texts) instead of truncating each document')
    .option('--text-field <name>', 'JSONL / CSV / TSV: the field holding the text', 'text');
  addRunOptions(command, ['loss']).action(async (flags: PretrainFlags, cmd: Command) => {
    if (flags.resume === undefined && (flags.data === undefined || flags.model === undefined || flags.out === undefined)) {
      throw new ConfigError('pretrain needs --data FILE, --model DIR (a checkpoint or a config-only directory) and --out DIR');
    }
    const settings = runSettings(flags, {
      task: 'masked-lm',
      data: flags.data ?? '',
      model: flags.model ?? '',
      out: flags.out ?? resumeOutputDir(flags.resume!),
    }, cmd);
    if (flags.model !== undefined) settings.model = await modelDirectory(flags.model);
    await runFinetune(settings, flags.resume);
  });
  return command;
}
