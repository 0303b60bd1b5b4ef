import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { formatProgress, formatSummaryTable } from '../app/sweep/aggregate.js';
import { parseIntegerList } from '../app/sweep/lists.js';
import { planSweep, type SweepInput, type SweepPlan } from '../app/sweep/plan.js';
import { METRIC_NAMES, type MetricName, type SettingValue, type Settings, type TrialRecord } from '../app/sweep/types.js';
import { ConfigError } from '../core/errors.js';
import { SUMMARY_FILE } from '../node/finetune.js';
import { finetuneRunnerRef } from '../node/sweep/finetune-runner.js';
import { loadSweepPlan, SWEEP_FILE, trialDir, writeSweepReport } from '../node/sweep/files.js';
import { refitBest, runSweepLocal, type SweepCounts, type SweepOutcome } from '../node/sweep/local.js';
import { preflightSweep } from '../node/sweep/preflight.js';
import { DEFAULT_QUEUE_NAME, refitBestQueued, runSweepQueued, type QueueSweepEvent, type QueueTarget } from '../node/sweep/queue.js';
import { SWEEPABLE_SETTINGS, parseSettingValues } from '../node/sweep/settings.js';
import { MODEL_HELP, modelDirectory } from './model.js';
import { BACKEND_CHOICES, byteSize } from './options.js';
import { EMBEDDED_DEFAULT, trainCommand } from './train.js';

/**
 * `microbatch sweep`: flags → a sweep plan, then the sweep on this machine or through a queue.
 * Every training flag of `train` is here with train's default; those a sweep may list take a
 * comma-separated list (`--lr 2e-5,5e-5`), and every listed setting with two or more values is a
 * dimension of the grid. The out dir's sweep.json makes a re-run (or `--out DIR` alone) continue
 * the same sweep.
 */

const kebab = (name: string) => name.replace(/[A-Z]/g, (upper) => `-${upper.toLowerCase()}`);

/** Flags that only say where and how to run, not what: `--out DIR` with only these re-attaches to DIR's sweep. */
const RUN_FLAGS = new Set(['out', 'parallel', 'queue', 'queueName', 'retryFailed', 'refit']);

const EMBEDDED_OUT = 'runs/sweep';

type Flags = Record<string, string | boolean | undefined>;

function integerFlag(text: string, field: string, minimum: number): number {
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < minimum) {
    throw new ConfigError(`must be an integer ≥ ${minimum}, got "${text}"`, { field });
  }
  return Number(text);
}

function choiceFlag<T extends string>(text: string, field: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text)) throw new ConfigError(`must be one of ${allowed.join(', ')}, got "${text}"`, { field });
  return text as T;
}

export function sweepCommand(): Command {
  const train = trainCommand();
  const trainOption = (long: string) => train.options.find((option) => option.long === long);
  const command = new Command('sweep')
    .description(
      'Run every config (the grid of the listed settings) × seed × fold as a normal fine-tuning run with early stopping on a validation metric, ' +
        'on all cores of this machine or through a Redis queue on many; print per config the mean ± std and 95 % interval and the best config. ' +
        'With neither --data nor --model it sweeps the embedded default (the bundled spam data and small BERT, with train\'s settings for it).',
    )
    .option('--data <file>', 'training data: JSONL, CSV or TSV with a text and a label field (the folds are cut from it)')
    .option('--model <dir|id>', MODEL_HELP)
    .option('--out <dir>', `the sweep's directory: sweep.json, sweep.jsonl, summary.json, report.html, trials/…, refit/; with only --out (and --queue), continue the sweep in it (default for the embedded sweep: ${EMBEDDED_OUT})`)
    .option('--eval <file>', 'validate every trial on this fixed file instead of folds')
    .addOption(new Option('--seeds <list>', 'run seeds: 0-4, 0,2,5 or 0-2,7').default('0-4', '0-4'))
    .option('--folds <k>', 'stratified k-fold cross-validation on the training data (default 5 unless --eval)')
    .addOption(new Option('--split-seed <n>', 'seed of the fold split, the same for every trial').default('0', '0'))
    .addOption(new Option('--metric <name>', `validation metric to early-stop on and to compare configs by: ${METRIC_NAMES.join(', ')}`).default('accuracy', 'accuracy'))
    .option('--patience <n>', 'stop a trial after n epochs without improvement (needs --metric); default: all epochs, the best one kept')
    .option('--refit', 'when the sweep is done, retrain the best config on all the training data for the median of its best epochs (in <out>/refit)')
    .option('--parallel <n>', 'trials at a time on this machine, each on one core (default: the number of cores)')
    .option('--queue <url>', 'run the trials as jobs on this Redis (redis://host:port) for `microbatch worker`s; the out dir must be on a file system every worker shares')
    .addOption(new Option('--queue-name <name>', 'the queue (workers must use the same)').default(DEFAULT_QUEUE_NAME, DEFAULT_QUEUE_NAME))
    .option('--retry-failed', 'run again the trials whose record says they failed');
  for (const name of SWEEPABLE_SETTINGS) {
    const long = `--${kebab(name)}`;
    const source = trainOption(long);
    if (source === undefined) throw new Error(`train has no ${long}: the sweep's settings follow train's flags`);
    const option = new Option(`${long} <values>`, `${source.description}; a comma-separated list sweeps it`);
    if (source.defaultValue !== undefined) option.default(String(source.defaultValue), formatValue(source.defaultValue as SettingValue));
    command.addOption(option);
  }
  for (const long of ['--task', '--text-field', '--label-field', '--memory-budget', '--backend', '--save-every']) {
    const source = trainOption(long)!;
    const option = new Option(source.flags, source.description);
    if (source.defaultValue !== undefined) option.default(String(source.defaultValue), formatValue(source.defaultValue as SettingValue));
    command.addOption(option);
  }
  command
    .addOption(new Option('--micro-batch <n|auto>', 'samples per forward/backward pass (the result does not depend on it; auto may choose differently on different machines)').default('8', '8'))
    .option('--no-shuffle', 'keep the file order in every epoch')
    .action(async (flags: Flags, cmd: Command) => {
      const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
      const embedded = flags.data === undefined && flags.model === undefined;
      if (flags.out === undefined && !embedded) throw new ConfigError('sweep needs --out DIR (where the trials and the summary go)');
      const out = path.resolve(String(flags.out ?? EMBEDDED_OUT));
      const reattach = existsSync(path.join(out, SWEEP_FILE)) && cmd.options.every((option) => RUN_FLAGS.has(option.attributeName()) || !given(option.attributeName()));
      const plan = reattach ? await loadSweepPlan(out) : planSweep(await sweepInput(flags, given));
      const parallel = flags.parallel === undefined ? undefined : integerFlag(String(flags.parallel), 'parallel', 1);
      const queue: QueueTarget | undefined = flags.queue === undefined ? undefined : { url: String(flags.queue), name: String(flags.queueName) };
      const report = await preflightSweep(plan);
      await runSweep(plan, out, report, { ...(parallel !== undefined ? { parallel } : {}), ...(queue !== undefined ? { queue } : {}), retryFailed: flags.retryFailed === true, refit: flags.refit === true });
    });
  return command;
}

/** The sweep's definition from the flags. */
async function sweepInput(flags: Flags, given: (name: string) => boolean): Promise<SweepInput> {
  const embedded = flags.data === undefined && flags.model === undefined;
  if (!embedded && (flags.data === undefined || flags.model === undefined)) throw new ConfigError('sweep needs both --data FILE and --model DIR (or neither, for the embedded default)');
  const metric = choiceFlag(String(flags.metric), 'metric', METRIC_NAMES) as MetricName;
  if (flags.patience !== undefined && !given('metric')) throw new ConfigError('needs --metric (the validation metric to stop on)', { field: 'patience' });
  const patience = flags.patience === undefined ? null : integerFlag(String(flags.patience), 'patience', 1);
  const seeds = parseIntegerList(String(flags.seeds), 'seeds');
  const splitSeed = integerFlag(String(flags.splitSeed), 'splitSeed', 0);
  if (flags.eval !== undefined && flags.folds !== undefined) throw new ConfigError('and --eval exclude each other: folds validate on the training data, --eval on a fixed file', { field: 'folds' });
  const folds = flags.eval !== undefined ? null : flags.folds === undefined ? 5 : Number.isSafeInteger(Number(flags.folds)) && /^\s*\d+\s*$/.test(String(flags.folds)) ? Number(flags.folds) : NaN;
  if (Number.isNaN(folds)) throw new ConfigError(`must be an integer ≥ 2, got "${String(flags.folds)}"`, { field: 'folds' });

  const base: Settings = {};
  const grid: [string, SettingValue[]][] = [];
  const overrides = EMBEDDED_DEFAULT.overrides as Record<string, SettingValue>;
  for (const name of SWEEPABLE_SETTINGS) {
    const values = embedded && !given(name) && overrides[name] !== undefined ? [overrides[name]!] : flags[name] === undefined ? [] : parseSettingValues(name, String(flags[name]));
    if (values.length === 1) base[name] = values[0]!;
    else if (values.length > 1) grid.push([name, values]);
  }
  base.data = path.resolve(String(flags.data ?? EMBEDDED_DEFAULT.data));
  base.model = path.resolve(flags.model === undefined ? EMBEDDED_DEFAULT.model : await modelDirectory(String(flags.model)));
  if (flags.eval !== undefined) base.eval = path.resolve(String(flags.eval));
  base.task = choiceFlag(String(flags.task), 'task', ['sequence-classification']);
  base.textField = String(flags.textField);
  base.labelField = String(flags.labelField);
  base.microBatch = flags.microBatch === 'auto' ? 'auto' : integerFlag(String(flags.microBatch), 'microBatch', 1);
  if (flags.memoryBudget !== undefined) {
    try {
      base.memoryBudget = byteSize(String(flags.memoryBudget));
    } catch (error) {
      throw new ConfigError((error as Error).message, { field: 'memoryBudget' });
    }
  }
  base.shuffle = flags.shuffle !== false;
  base.backend = choiceFlag(String(flags.backend), 'backend', BACKEND_CHOICES);
  base.saveEvery = integerFlag(String(flags.saveEvery), 'saveEvery', 0);
  return { grid, base, seeds, folds, splitSeed, metric, patience };
}

interface RunOptions {
  parallel?: number;
  queue?: QueueTarget;
  retryFailed: boolean;
  refit: boolean;
}

const err = (line: string) => process.stderr.write(line + '\n');

function describePlan(plan: SweepPlan): string {
  const { input } = plan;
  const validation = input.folds === null ? 'a fixed eval file' : `${input.folds} folds`;
  return (
    `sweep ${plan.id}: ${plan.configs.length} config${plan.configs.length === 1 ? '' : 's'} × ${input.seeds.length} seed${input.seeds.length === 1 ? '' : 's'} × ${validation} = ${plan.trials.length} trials, ` +
    `${input.metric}${input.patience === null ? ' (every epoch, the best kept)' : `, patience ${input.patience}`}`
  );
}

function metricText(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(4);
}

/** One progress line per event on stderr (the trials' own output is in their trial.log). */
function progressLine(plan: SweepPlan, event: QueueSweepEvent, counts: SweepCounts): string | undefined {
  const metric = plan.input.metric;
  const done = counts.completed + counts.failed;
  const where = `[${String(done).padStart(String(counts.total).length)}/${counts.total}]`;
  switch (event.type) {
    case 'skipped':
      return undefined;
    case 'started':
      return `${where} ${event.trial.id} ${event.resume ? 'resumed' : 'started'}`;
    case 'epoch':
      return `${where} ${event.trial.id} epoch ${event.epoch.epoch}: ${metric} ${metricText(event.epoch.metrics[metric])}`;
    case 'finished':
      return `${where} ${event.trial.id} ${finishedText(event.record)}`;
    case 'connection':
      return `redis: ${event.message} (retrying)`;
  }
}

function finishedText(record: TrialRecord): string {
  if (record.status === 'failed') return `failed: ${record.error}`;
  const stopped = record.stoppedEarly ? `, stopped after epoch ${record.epochs.length}` : `, ${record.epochs.length} epochs`;
  return `${record.metric} ${metricText(record.metrics?.[record.metric])} at epoch ${record.bestEpoch ?? '—'}${stopped} (${(record.durationMs / 1000).toFixed(1)} s)`;
}

async function runSweep(plan: SweepPlan, out: string, data: { rows: number }, options: RunOptions): Promise<void> {
  const controller = new AbortController();
  const interrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    err(options.queue === undefined ? 'stopping: running trials stop at their next step and resume from their last checkpoint next time (again to quit at once)' : 'detaching: the workers go on');
    controller.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const parallel = options.parallel ?? os.availableParallelism();
  err(`${describePlan(plan)}; ${data.rows} training rows`);
  err(options.queue === undefined ? `running ${Math.min(parallel, plan.trials.length)} trials at a time on this machine, one thread each; trial output in ${path.join(out, 'trials')}/…/trial.log` : `queue ${options.queue.name} on ${options.queue.url}: start \`microbatch worker --queue ${options.queue.url}\` on each machine`);
  const onEvent = (event: QueueSweepEvent, counts: SweepCounts) => {
    const line = progressLine(plan, event, counts);
    if (line !== undefined) err(line);
  };
  const common = { plan, outDir: out, retryFailed: options.retryFailed, signal: controller.signal, onEvent };
  const started = performance.now();
  const outcome: SweepOutcome =
    options.queue === undefined ? await runSweepLocal({ ...common, runner: finetuneRunnerRef(), parallel }) : await runSweepQueued({ ...common, queue: options.queue });
  const seconds = (performance.now() - started) / 1000;
  err(`${formatProgress({ total: plan.trials.length, completed: outcome.summary.trials.completed, failed: outcome.summary.trials.failed, running: 0 })} in ${seconds.toFixed(1)} s`);
  process.stdout.write(formatSummaryTable(plan, outcome.summaries, outcome.best).join('\n') + '\n');
  const best = outcome.best;
  if (best !== null && best.estimate !== null) {
    const settings = plan.input.grid.map(([name]) => `${name} ${formatValue(best.settings[name]!)}`).join(', ');
    const interval = Number.isFinite(best.estimate.halfWidth) ? `, 95 % CI [${best.estimate.low.toFixed(4)}, ${best.estimate.high.toFixed(4)}]` : '';
    process.stdout.write(`best: ${best.config}${settings === '' ? '' : ` (${settings})`}: ${plan.input.metric} ${best.estimate.mean.toFixed(4)} ± ${best.estimate.std.toFixed(4)} (n = ${best.estimate.n}${interval})\n`);
  } else if (outcome.finished) {
    process.stdout.write('best: none (no config has every trial completed with a finite metric; see summary.json)\n');
  }
  if (!outcome.finished) {
    err(
      options.queue === undefined
        ? `stopped with ${plan.trials.length - outcome.records.length} trials to go: run the same command (or \`microbatch sweep --out ${out}\`) to continue`
        : `detached with ${plan.trials.length - outcome.records.length} trials to go: re-attach with \`microbatch sweep --out ${out} --queue ${options.queue.url}\``,
    );
    process.exit(130);
  }
  let refit: TrialRecord | undefined;
  if (options.refit) {
    const trialCount = best?.bestEpochs.length ?? 0;
    err(`refit: the best config on all ${data.rows} training rows${trialCount > 0 ? ` for the median of its ${trialCount} best epochs` : ''}`);
    refit = options.queue === undefined ? await refitBest(outcome, { outDir: out, runner: finetuneRunnerRef(), signal: controller.signal, onEvent }) : await refitBestQueued(outcome, { outDir: out, queue: options.queue, signal: controller.signal, onEvent });
    if (refit === undefined) process.exit(130);
    await writeSweepReport(out, plan, outcome.records, refit);
    process.stdout.write(refitLine(plan, out, refit) + '\n');
  }
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);
  process.stdout.write(`wrote ${out}: sweep.jsonl, summary.json, report.html${refit?.status === 'completed' ? ', refit/' : ''}\n`);
}

function formatValue(value: SettingValue): string {
  return typeof value === 'number' && value !== 0 && Math.abs(value) < 1e-3 ? value.toExponential() : String(value);
}

function refitLine(plan: SweepPlan, out: string, refit: TrialRecord): string {
  if (refit.status === 'failed') return `refit: failed: ${refit.error}`;
  const dir = trialDir(out, { id: refit.trial, index: refit.index, configId: refit.config, settings: refit.settings, seed: refit.seed, split: { kind: 'all', epochs: refit.epochs.length }, metric: plan.input.metric, patience: null });
  let evaluation = '';
  try {
    const summary = JSON.parse(readFileSync(path.join(dir, SUMMARY_FILE), 'utf8')) as { eval?: { accuracy?: number; macro_f1?: number; file?: string } };
    if (summary.eval !== undefined) evaluation = `; on ${summary.eval.file}: accuracy ${metricText(summary.eval.accuracy)}, macro-F1 ${metricText(summary.eval.macro_f1)}`;
  } catch {
    // The refit's record is what counts; its summary.json only adds the eval line.
  }
  return `refit: ${refit.config}, seed ${refit.seed}, ${refit.epochs.length} epochs on all the training data → ${dir}${evaluation}`;
}
