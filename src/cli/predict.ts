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
import { OnnxModelSession } from '../node/onnxRuntime.js';
import type { Prediction } from '../app/evaluate.js';
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
    .description(
      'Predict with a trained model (its task from config.json); one JSON line per row. Sequence classification: {"line", "text", "label", "probabilities"}. ' +
        'Token classification: {"line", "text", "words", "tags", "entities": [{"type", "start", "end", "text", "words", "score"}]} with character spans in "text".',
    )
    .requiredOption('--model <dir|id>', `trained model: the --out of train, or ${MODEL_HELP}; with --engine onnx an export folder (the --out of export)`)
    .requiredOption('--data <file>', 'texts to classify: JSONL, CSV or TSV (a label field is not needed); token classification: CoNLL (the word column) or JSONL rows with "tokens" (words) or "text"')
    .addOption(choiceOption('--task <name>', 'override the task read from config.json', ['sequence-classification', 'token-classification']))
    .option('--output <file>', 'write the JSONL here instead of standard output')
    .option('--text-field <name>', 'text column/field', 'text')
    .option('--tokens-field <name>', 'token classification, JSONL: the field holding the words (default tokens)')
    .option('--max-length <n>', 'tokens per sample including the special tokens', positiveInteger, 128)
    .option('--batch-size <n>', 'samples per forward pass', positiveInteger, 32)
    .addOption(choiceOption('--backend <name>', 'TF.js backend', BACKEND_CHOICES, 'auto'))
    .addOption(choiceOption('--engine <name>', 'inference engine: tfjs (the checkpoint) or onnx (onnxruntime-node on an export; sequence classification)', ['tfjs', 'onnx'], 'tfjs'))
    .option('--quantized', 'with --engine onnx: run onnx/model_quantized.onnx (exported with --quantize int8)')
    .action(async (flags: PredictFlags) => {
      if (flags.quantized && flags.engine !== 'onnx') throw new ConfigError('needs --engine onnx', { field: 'quantized' });
      const modelDir = flags.engine === 'onnx' ? flags.model : await modelDirectory(flags.model);
      const task = flags.task ?? (await modelTask(modelDir));
      if (flags.engine === 'onnx' && task !== 'sequence-classification') {
        throw new ConfigError(`${modelDir} is a ${task} model: --engine onnx predicts sequence classification only (use the default engine, or transformers.js on the export)`, { field: 'engine' });
      }
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
  const predictor = await loadPredictor(flags, modelDir);
  try {
    const predictions = await predictor.predict(data.rows.map((row) => row.text));
    const labels = predictor.labels;
    return data.rows.map((row, i) =>
      JSON.stringify({
        line: row.line,
        text: row.text,
        label: labels[predictions[i]!.label],
        probabilities: Object.fromEntries(labels.map((label, k) => [label, predictions[i]!.probabilities[k]])),
      }),
    );
  } finally {
    await predictor.dispose();
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
