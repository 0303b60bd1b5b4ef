import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Command } from 'commander';
import { predictClassifier } from '../app/evaluate.js';
import { predictEntities } from '../app/token-classification.js';
import { ConfigError } from '../core/errors.js';
import type { TaskName } from '../models/index.js';
import { selectBackend } from '../node/backend.js';
import { readLabelledFile } from '../node/files.js';
import { loadTrainedModel, modelTask } from '../node/models.js';
import { readSentenceInputs } from '../node/tasks.js';
import { MODEL_HELP, modelDirectory } from './model.js';
import type { SequenceClassifier, TokenClassifier } from '../tasks/model.js';
import { BACKEND_CHOICES, choiceOption, positiveInteger } from './options.js';

interface PredictFlags {
  model: string;
  data: string;
  task?: TaskName;
  output?: string;
  textField: string;
  tokensField?: string;
  maxLength: number;
  batchSize: number;
  backend: 'auto' | 'wasm' | 'cpu' | 'node';
}

export function predictCommand(): Command {
  return new Command('predict')
    .description(
      'Predict with a trained model (its task from config.json); one JSON line per row. Sequence classification: {"line", "text", "label", "probabilities"}. ' +
        'Token classification: {"line", "text", "words", "tags", "entities": [{"type", "start", "end", "text", "words", "score"}]} with character spans in "text".',
    )
    .requiredOption('--model <dir|id>', `trained model: the --out of train, or ${MODEL_HELP}`)
    .requiredOption('--data <file>', 'texts to classify: JSONL, CSV or TSV (a label field is not needed); token classification: CoNLL (the word column) or JSONL rows with "tokens" (words) or "text"')
    .addOption(choiceOption('--task <name>', 'override the task read from config.json', ['sequence-classification', 'token-classification']))
    .option('--output <file>', 'write the JSONL here instead of standard output')
    .option('--text-field <name>', 'text column/field', 'text')
    .option('--tokens-field <name>', 'token classification, JSONL: the field holding the words (default tokens)')
    .option('--max-length <n>', 'tokens per sample including the special tokens', positiveInteger, 128)
    .option('--batch-size <n>', 'samples per forward pass', positiveInteger, 32)
    .addOption(choiceOption('--backend <name>', 'TF.js backend', BACKEND_CHOICES, 'auto'))
    .action(async (flags: PredictFlags) => {
      const modelDir = await modelDirectory(flags.model);
      const task = flags.task ?? (await modelTask(modelDir));
      if (task === 'masked-lm') throw new ConfigError(`${modelDir} is a masked-LM model: use fill-mask --model ${modelDir} --text "…"`, { field: 'model' });
      const lines = task === 'token-classification' ? await predictTokens(modelDir, flags) : await predictSequences(modelDir, flags);
      const output = lines.join('\n') + '\n';
      if (flags.output === undefined) {
        process.stdout.write(output);
      } else {
        const stream = createWriteStream(flags.output);
        stream.end(output);
        await once(stream, 'finish');
      }
    });
}

async function predictSequences(modelDir: string, flags: PredictFlags): Promise<string[]> {
  // The data is checked before anything is printed, so bad input fails with one line.
  const data = await readLabelledFile(flags.data, { textField: flags.textField, requireLabel: false });
  await selectBackend(flags.backend, { log: (line) => process.stderr.write(line + '\n') });
  const { model, tokenizer, labels } = await loadTrainedModel<SequenceClassifier>(modelDir, 'sequence-classification');
  try {
    const inputs = data.rows.map((row) => tokenizer.encode(row.text, { maxLength: flags.maxLength }));
    const predictions = predictClassifier(model, inputs, flags.batchSize);
    return data.rows.map((row, i) =>
      JSON.stringify({
        line: row.line,
        text: row.text,
        label: labels[predictions[i]!.label],
        probabilities: Object.fromEntries(labels.map((label, k) => [label, predictions[i]!.probabilities[k]])),
      }),
    );
  } finally {
    model.dispose();
  }
}

async function predictTokens(modelDir: string, flags: PredictFlags): Promise<string[]> {
  const inputs = await readSentenceInputs(flags.data, { textField: flags.textField, ...(flags.tokensField !== undefined ? { tokensField: flags.tokensField } : {}) });
  await selectBackend(flags.backend, { log: (line) => process.stderr.write(line + '\n') });
  const { model, tokenizer, labels } = await loadTrainedModel<TokenClassifier>(modelDir, 'token-classification');
  try {
    return predictEntities(model, tokenizer, inputs, labels, { maxLength: flags.maxLength, batchSize: flags.batchSize }).map(({ wordsWithoutTokens, ...prediction }) =>
      JSON.stringify({ ...prediction, ...(wordsWithoutTokens > 0 ? { words_beyond_max_length: wordsWithoutTokens } : {}) }),
    );
  } finally {
    model.dispose();
  }
}
