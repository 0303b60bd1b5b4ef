import { Command } from 'commander';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, type Quantization } from '../app/export/index.js';
import { EXPORT_FORMATS, exportModel, type ExportFormat } from '../node/export.js';
import { positiveInteger } from './options.js';

interface ExportFlags {
  model: string;
  format: string;
  out: string;
  quantize?: string;
  opset: number;
}

export function exportCommand(): Command {
  return new Command('export')
    .description(
      'Export a trained model (sequence classification, token classification or masked LM of any supported family) as ONNX in the folder layout transformers.js loads: config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx (and onnx/model_quantized.onnx with --quantize int8).',
    )
    .requiredOption('--model <dir>', 'trained model directory (e.g. the --out of train)')
    .requiredOption('--format <name>', `export format: ${EXPORT_FORMATS.join(', ')}`)
    .requiredOption('--out <dir>', 'output directory (new, empty, or an earlier export, which is replaced)')
    .option('--quantize <type>', 'also write a dynamically quantized model: int8 (onnx/model_quantized.onnx, transformers.js dtype "q8")')
    .option('--opset <n>', `ONNX opset, ${MIN_OPSET}–${MAX_OPSET} (LayerNormalization from 17; decomposed below)`, positiveInteger, DEFAULT_OPSET)
    .action(async (flags: ExportFlags) => {
      const summary = await exportModel(flags.model, flags.out, {
        format: flags.format as ExportFormat,
        opset: flags.opset,
        // Checked by exportModel before anything is read.
        ...(flags.quantize !== undefined ? { quantize: flags.quantize as Quantization } : {}),
      });
      process.stdout.write(
        `exported ${summary.architecture} (${summary.task}) to ${summary.outDir}: opset ${summary.opset}, inputs ${summary.inputs.join(', ')}, output logits\n` +
          Object.entries(summary.files)
            .map(([name, bytes]) => `  ${name} ${bytes} bytes\n`)
            .join(''),
      );
    });
}
