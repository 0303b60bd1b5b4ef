import { Command } from 'commander';
import { writeReport } from '../node/report.js';

export function reportCommand(): Command {
  return new Command('report')
    .description(
      "Write a run's report: one self-contained HTML page (no network needed to view it) with what ran, the sample ledger of every epoch, " +
        'the per-step loss, learning-rate and gradient-norm charts, and the evaluation.',
    )
    .argument('<run-dir>', "a train run's --out directory (summary.json, metrics.jsonl; a stopped run without summary.json works too)")
    .option('--out <file>', 'where to write the page (default: <run-dir>/report.html)')
    .action(async (runDir: string, flags: { out?: string }) => {
      const file = await writeReport(runDir, flags.out !== undefined ? { out: flags.out } : {});
      process.stdout.write(`wrote ${file}\n`);
    });
}
