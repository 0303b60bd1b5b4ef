import { Command, CommanderError } from 'commander';
import { MicrobatchError } from '../core/errors.js';
import { isOutOfMemory } from '../node/memory.js';
import { describeError } from './errors.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { fillMaskCommand } from './fill-mask.js';
import { planCommand } from './plan.js';
import { predictCommand } from './predict.js';
import { pretrainCommand } from './pretrain.js';
import { reportCommand } from './report.js';
import { sweepCommand } from './sweep.js';
import { tokenizeCommand } from './tokenize.js';
import { trainCommand } from './train.js';
import { workerCommand } from './worker.js';

export function buildProgram(): Command {
  const program = new Command('microbatch')
    .description('Exact gradient accumulation for TensorFlow.js: fine-tune and pretrain BERT-family encoders (BERT, DistilBERT, RoBERTa, ELECTRA) with an effective batch larger than memory allows.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const command of [trainCommand(), pretrainCommand(), evalCommand(), predictCommand(), fillMaskCommand(), exportCommand(), planCommand(), tokenizeCommand(), reportCommand(), sweepCommand(), workerCommand()]) {
    program.addCommand(command.exitOverride().showHelpAfterError('(run with --help for usage)'));
  }
  return program;
}

/** Runs the CLI; returns the process exit code (0 ok, 1 bad input or failure, 2 usage error). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed the problem (or the help / version text).
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof MicrobatchError) {
      process.stderr.write(`microbatch: error: ${describeError(error, program)}\n`);
      return 1;
    }
    if (isOutOfMemory(error)) {
      process.stderr.write('microbatch: error: out of memory: use a smaller --micro-batch (the result does not depend on it), or --micro-batch auto\n');
      return 1;
    }
    const message = error instanceof Error ? (process.env.MICROBATCH_DEBUG ? error.stack : error.message) : String(error);
    process.stderr.write(`microbatch: unexpected error: ${message}\n`);
    return 1;
  }
}
