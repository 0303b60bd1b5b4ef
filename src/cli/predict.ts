import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Command } from 'commander';
import { ConfigError } from '../core/errors.js';
import { predictClassifier } from '../app/evaluate.js';
import { selectBackend } from '../node/backend.js';
import { readLabelledFile } from '../node/files.js';
import { loadTrainedModel } from '../node/models.js';
import { OnnxModelSession } from '../node/onnxRuntime.js';
import type { Prediction } from '../app/evaluate.js';
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
  engine: 'tfjs' | 'onnx';
  quantized?: boolean;
}

interface Predictor {
  labels: readonly string[];
  predict(texts: readonly string[]): Promise<Prediction[]>;
  dispose(): Promise<void>;
}

/** TF.js on a trained checkpoint, or onnxruntime on an export (`microbatch export`). */
async function loadPredictor(flags: PredictFlags, modelDir: string): Promise<Predictor> {
  if (flags.engine === 'onnx') {
    const session = await OnnxModelSession.load(modelDir, { quantized: flags.quantized ?? false });
    return {
      labels: session.labels,
      predict: (texts) => session.predict(texts.map((text) => session.tokenizer.encode(text, { maxLength: flags.maxLength })), flags.batchSize),
      dispose: () => session.dispose(),
    };
  }
  await selectBackend(flags.backend, { log: (line) => process.stderr.write(line + '\n') });
  const { model, tokenizer, labels } = await loadTrainedModel<SequenceClassifier>(modelDir, 'sequence-classification');
  return {
    labels,
    predict: async (texts) => predictClassifier(model, texts.map((text) => tokenizer.encode(text, { maxLength: flags.maxLength })), flags.batchSize),
    dispose: async () => model.dispose(),
  };
}

export function predictCommand(): Command {
  return new Command('predict')
    .description('Predict labels for the texts of a file; writes one JSON line per row: {"line", "text", "label", "probabilities"}.')
    .requiredOption('--model <dir|id>', `trained model: the --out of train, or ${MODEL_HELP}; with --engine onnx an export folder (the --out of export)`)
    .requiredOption('--data <file>', 'texts to classify: JSONL, CSV or TSV (a label field is not needed)')
    .option('--output <file>', 'write the JSONL here instead of standard output')
    .option('--text-field <name>', 'text column/field', 'text')
    .option('--max-length <n>', 'tokens per sample including the special tokens', positiveInteger, 128)
    .option('--batch-size <n>', 'samples per forward pass', positiveInteger, 32)
    .addOption(choiceOption('--backend <name>', 'TF.js backend', BACKEND_CHOICES, 'auto'))
    .addOption(choiceOption('--engine <name>', 'inference engine: tfjs (the checkpoint) or onnx (onnxruntime-node on an export)', ['tfjs', 'onnx'], 'tfjs'))
    .option('--quantized', 'with --engine onnx: run onnx/model_quantized.onnx (exported with --quantize int8)')
    .action(async (flags: PredictFlags) => {
      // The data is checked before anything is printed, so bad input fails with one line.
      if (flags.quantized && flags.engine !== 'onnx') throw new ConfigError('needs --engine onnx', { field: 'quantized' });
      const modelDir = flags.engine === 'onnx' ? flags.model : await modelDirectory(flags.model);
      const data = await readLabelledFile(flags.data, { textField: flags.textField, requireLabel: false });
      const predictor = await loadPredictor(flags, modelDir);
      try {
        const predictions = await predictor.predict(data.rows.map((row) => row.text));
        const labels = predictor.labels;
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
        await predictor.dispose();
      }
    });
}
