import { Command, Option } from 'commander';
import { ConfigError } from '../core/errors.js';
import { readLabelledFile } from '../node/files.js';
import { planEpoch, stepsPerEpoch, type RemainderPolicy } from '../plan/index.js';
import { positiveInteger, nonNegativeInteger, choiceOption } from './options.js';
import { describePlan } from '../plan/describe.js';

interface PlanFlags {
  data?: string;
  size?: number;
  microBatch: number;
  batch: number;
  epochs: number;
  remainder: RemainderPolicy;
  seed: number;
  shuffle: boolean;
  textField: string;
  labelField: string;
  json?: boolean;
}

export function planCommand(): Command {
  return new Command('plan')
    .description('Print the window plan and sample ledger of a training run without training.')
    .option('--data <file>', 'dataset (JSONL, CSV or TSV) whose rows are planned')
    .option('--size <n>', 'plan for N samples instead of a file', positiveInteger)
    .option('--micro-batch <n>', 'samples per forward/backward pass', positiveInteger, 8)
    .option('--batch <n>', 'samples per optimizer step (effective batch)', positiveInteger, 32)
    .option('--epochs <n>', 'epochs to plan', positiveInteger, 3)
    .addOption(choiceOption('--remainder <policy>', 'last partial window: step, balance or drop', ['step', 'balance', 'drop'], 'step'))
    .option('--seed <n>', 'shuffle seed', nonNegativeInteger, 0)
    .option('--no-shuffle', 'keep the file order')
    .option('--text-field <name>', 'text column/field', 'text')
    .option('--label-field <name>', 'label column/field', 'label')
    .addOption(new Option('--json', 'print the whole plan (every window\'s sample indices) as JSON'))
    .action(async (flags: PlanFlags) => {
      const size = await planSize(flags);
      const plans = Array.from({ length: flags.epochs }, (_, epoch) =>
        planEpoch({ size, microBatch: flags.microBatch, batch: flags.batch, remainder: flags.remainder, seed: flags.seed, epoch, shuffle: flags.shuffle }),
      );
      if (flags.json) {
        process.stdout.write(JSON.stringify({ samples: size, steps_per_epoch: stepsPerEpoch(size, flags.batch, flags.remainder), epochs: plans }) + '\n');
        return;
      }
      process.stdout.write(
        `plan: ${size} samples, micro-batch ${flags.microBatch}, batch ${flags.batch}, remainder ${flags.remainder}, ` +
          `seed ${flags.seed}, ${flags.shuffle ? 'shuffled' : 'file order'}\n`,
      );
      for (const plan of plans) process.stdout.write(describePlan(plan) + '\n');
    });
}

async function planSize(flags: PlanFlags): Promise<number> {
  if (flags.data !== undefined && flags.size !== undefined) throw new ConfigError('give either --data or --size, not both');
  if (flags.size !== undefined) return flags.size;
  if (flags.data === undefined) throw new ConfigError('plan needs --data FILE or --size N');
  const { rows } = await readLabelledFile(flags.data, { textField: flags.textField, labelField: flags.labelField, requireLabel: false });
  return rows.length;
}
