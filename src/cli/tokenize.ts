import { Command } from 'commander';
import { readConfig } from '../app/checkpoint.js';
import { readConfigJson, readTokenizerFiles } from '../node/checkpoint.js';
import { loadTokenizer } from '../tokenizers/index.js';
import { positiveInteger } from './options.js';

export function tokenizeCommand(): Command {
  return new Command('tokenize')
    .description('Tokenize TEXT with the tokenizer of a model directory; prints {"tokens": [...], "ids": [...]} with the family\'s special tokens ([CLS]/[SEP], <s>/</s>).')
    .requiredOption('--model <dir>', 'model directory (only config.json and the tokenizer files are read)')
    .requiredOption('--text <text>', 'text to tokenize')
    .option('--max-length <n>', 'truncate to this many tokens including the special tokens', positiveInteger)
    .action(async (flags: { model: string; text: string; maxLength?: number }) => {
      const { json, file } = await readConfigJson(flags.model);
      const { family } = readConfig(json, file);
      const tokenizer = loadTokenizer(await readTokenizerFiles(flags.model), family.modelType, flags.model);
      const { tokens, ids } = tokenizer.encode(flags.text, { maxLength: flags.maxLength ?? Number.MAX_SAFE_INTEGER });
      process.stdout.write(JSON.stringify({ tokens, ids }) + '\n');
    });
}
