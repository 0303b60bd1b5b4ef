import { Command } from 'commander';
import { BertTokenizer } from '../bert/tokenizer.js';
import { positiveInteger } from './options.js';

export function tokenizeCommand(): Command {
  return new Command('tokenize')
    .description('Tokenize TEXT with the tokenizer of a model directory; prints {"tokens": [...], "ids": [...]} with [CLS]/[SEP].')
    .requiredOption('--model <dir>', 'model directory (only vocab.txt and the tokenizer files are read)')
    .requiredOption('--text <text>', 'text to tokenize')
    .option('--max-length <n>', 'truncate to this many tokens including [CLS] and [SEP]', positiveInteger)
    .action(async (flags: { model: string; text: string; maxLength?: number }) => {
      const tokenizer = await BertTokenizer.fromDirectory(flags.model);
      const { tokens, ids } = tokenizer.encode(flags.text, { maxLength: flags.maxLength });
      process.stdout.write(JSON.stringify({ tokens, ids }) + '\n');
    });
}
