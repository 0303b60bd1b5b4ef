import { Command } from 'commander';
import { buildLabelMap, encodeRows } from '../app/data/index.js';
import { evaluateClassifier } from '../app/evaluate.js';
import { formatConfusion } from '../app/metrics/classification.js';
import { selectBackend } from '../node/backend.js';
import { readLabelledFile } from '../node/files.js';
import { loadTrainedModel } from '../node/models.js';
import { MODEL_HELP, modelDirectory } from './model.js';
import type { SequenceClassifier } from '../tasks/model.js';
import { BACKEND_CHOICES, choiceOption, positiveInteger } from './options.js';

interface EvalFlags {
  model: string;
  data: string;
  textField: string;
  labelField: string;
  maxLength: number;
  batchSize: number;
  backend: 'auto' | 'wasm' | 'cpu' | 'node';
  json?: boolean;
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('Evaluate a trained classifier on a labelled file: accuracy, macro-F1 and the confusion matrix.')
    .requiredOption('--model <dir|id>', `trained model: the --out of train, or ${MODEL_HELP}`)
    .requiredOption('--data <file>', 'labelled data: JSONL, CSV or TSV')
    .option('--text-field <name>', 'text column/field', 'text')
    .option('--label-field <name>', 'label column/field', 'label')
    .option('--max-length <n>', 'tokens per sample including the special tokens', positiveInteger, 128)
    .option('--batch-size <n>', 'samples per forward pass', positiveInteger, 32)
    .addOption(choiceOption('--backend <name>', 'TF.js backend', BACKEND_CHOICES, 'auto'))
    .option('--json', 'print the full report as one JSON line')
    .action(async (flags: EvalFlags) => {
      // Inputs are checked before anything is printed, so bad input fails with one line.
      const modelDir = await modelDirectory(flags.model);
      const data = await readLabelledFile(flags.data, { textField: flags.textField, labelField: flags.labelField });
      const notices: string[] = [];
      await selectBackend(flags.backend, { log: (line) => notices.push(line) });
      const { model, tokenizer, labels } = await loadTrainedModel<SequenceClassifier>(modelDir, 'sequence-classification');
      try {
        const { label2id } = buildLabelMap(data, labels);
        const examples = encodeRows(data, tokenizer, { maxLength: flags.maxLength, label2id });
        for (const notice of notices) process.stderr.write(notice + '\n');
        const { report, correct } = evaluateClassifier(model, examples, labels, flags.batchSize);
        if (flags.json) {
          process.stdout.write(JSON.stringify({ data: flags.data, ...report }) + '\n');
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
    });
}
