import { Command } from 'commander';
import { readConfig } from '../app/checkpoint.js';
import { readConfigJson, readTokenizerFiles } from '../node/checkpoint.js';
import { loadTokenizer } from '../tokenizers/index.js';
import { MODEL_HELP, modelDirectory } from './model.js';
import { positiveInteger } from './options.js';

export function tokenizeCommand(): Command {
  return new Command('tokenize')
    .description('Tokenize TEXT with the tokenizer of a model directory; prints {"tokens": [...], "ids": [...]} with the family\'s special tokens ([CLS]/[SEP], <s>/</s>).')
    .requiredOption('--model <dir|id>', `${MODEL_HELP} (only config.json and the tokenizer files are read)`)
    .requiredOption('--text <text>', 'text to tokenize')
    .option('--max-length <n>', 'truncate to this many tokens including the special tokens', positiveInteger)
    .action(async (flags: { model: string; text: string; maxLength?: number }) => {
      const dir = await modelDirectory(flags.model);
      const { json, file } = await readConfigJson(dir);
      const { family } = readConfig(json, file);
      const tokenizer = loadTokenizer(await readTokenizerFiles(dir), family.modelType, dir);
      const { tokens, ids } = tokenizer.encode(flags.text, { maxLength: flags.maxLength ?? Number.MAX_SAFE_INTEGER });
      process.stdout.write(JSON.stringify({ tokens, ids }) + '\n');
    });
}
