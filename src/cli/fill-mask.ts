import { Command } from 'commander';
import { fillMask } from '../app/pretraining.js';
import { selectBackend } from '../node/backend.js';
import { loadTrainedModel } from '../node/models.js';
import type { MaskedLanguageModel } from '../tasks/model.js';
import { MODEL_HELP, modelDirectory } from './model.js';
import { BACKEND_CHOICES, choiceOption, positiveInteger } from './options.js';

interface FillMaskFlags {
  model: string;
  text: string;
  topK: number;
  maxLength?: number;
  backend: 'auto' | 'wasm' | 'cpu' | 'node';
}

export function fillMaskCommand(): Command {
  return new Command('fill-mask')
    .description('Predict the tokens at the mask tokens of a text (the family\'s own: [MASK] for BERT, DistilBERT and ELECTRA, <mask> for RoBERTa); one JSON line per mask: {"mask", "position", "candidates": [{"token", "id", "score"}]}.')
    .requiredOption('--model <dir|id>', `a masked-LM model: the --out of pretrain, or ${MODEL_HELP}`)
    .requiredOption('--text <text>', 'text with one or more mask tokens')
    .option('--top-k <k>', 'candidates per mask, most probable first', positiveInteger, 5)
    .option('--max-length <n>', 'truncate the text to this many tokens including the special tokens (default: the model\'s positions)', positiveInteger)
    .addOption(choiceOption('--backend <name>', 'TF.js backend', BACKEND_CHOICES, 'auto'))
    .action(async (flags: FillMaskFlags) => {
      const dir = await modelDirectory(flags.model);
      const notices: string[] = [];
      await selectBackend(flags.backend, { log: (line) => notices.push(line) });
      const { model, tokenizer } = await loadTrainedModel<MaskedLanguageModel<never>>(dir, 'masked-lm');
      try {
        const positions = model.config.positionStyle === 'padding-offset' ? model.config.maxPositions - model.config.padTokenId - 1 : model.config.maxPositions;
        const results = fillMask(model, tokenizer, flags.text, { topK: Math.min(flags.topK, model.config.vocabSize), maxLength: Math.min(flags.maxLength ?? positions, positions) });
        for (const notice of notices) process.stderr.write(notice + '\n');
        process.stdout.write(results.map((result) => JSON.stringify(result)).join('\n') + '\n');
      } finally {
        model.dispose();
      }
    });
}
