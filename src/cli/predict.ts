import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Command } from 'commander';
import { predictClassifier } from '../app/evaluate.js';
import { selectBackend } from '../node/backend.js';
import { readLabelledFile } from '../node/files.js';
import { loadTrainedModel } from '../node/models.js';
import { MODEL_HELP, modelDirectory } from './model.js';
import type { SequenceClassifier } from '../tasks/model.js';
import { BACKEND_CHOICES, choiceOption, positiveInteger } from './options.js';

interface PredictFlags {
  model: string;
  data: string;
  output?: string;
  textField: string;
  maxLength: number;
  batchSize: number;
  backend: 'auto' | 'wasm' | 'cpu' | 'node';
}

export function predictCommand(): Command {
  return new Command('predict')
    .description('Predict labels for the texts of a file; writes one JSON line per row: {"line", "text", "label", "probabilities"}.')
    .requiredOption('--model <dir|id>', `trained model: the --out of train, or ${MODEL_HELP}`)
    .requiredOption('--data <file>', 'texts to classify: JSONL, CSV or TSV (a label field is not needed)')
    .option('--output <file>', 'write the JSONL here instead of standard output')
    .option('--text-field <name>', 'text column/field', 'text')
    .option('--max-length <n>', 'tokens per sample including the special tokens', positiveInteger, 128)
    .option('--batch-size <n>', 'samples per forward pass', positiveInteger, 32)
    .addOption(choiceOption('--backend <name>', 'TF.js backend', BACKEND_CHOICES, 'auto'))
    .action(async (flags: PredictFlags) => {
      // The data is checked before anything is printed, so bad input fails with one line.
      const modelDir = await modelDirectory(flags.model);
      const data = await readLabelledFile(flags.data, { textField: flags.textField, requireLabel: false });
      await selectBackend(flags.backend, { log: (line) => process.stderr.write(line + '\n') });
      const { model, tokenizer, labels } = await loadTrainedModel<SequenceClassifier>(modelDir, 'sequence-classification');
      try {
        const inputs = data.rows.map((row) => tokenizer.encode(row.text, { maxLength: flags.maxLength }));
        const predictions = predictClassifier(model, inputs, flags.batchSize);
        const lines = data.rows.map((row, i) =>
          JSON.stringify({
            line: row.line,
            text: row.text,
            label: labels[predictions[i]!.label],
            probabilities: Object.fromEntries(labels.map((label, k) => [label, predictions[i]!.probabilities[k]])),
          }),
        );
        const output = lines.join('\n') + '\n';
        if (flags.output === undefined) {
          process.stdout.write(output);
        } else {
          const stream = createWriteStream(flags.output);
          stream.end(output);
          await once(stream, 'finish');
        }
      } finally {
        model.dispose();
      }
    });
}
