import os from 'node:os';
import { Command, Option } from 'commander';
import { ConfigError } from '../core/errors.js';
import { finetuneRunnerRef } from '../node/sweep/finetune-runner.js';
import { closeOnSignals, DEFAULT_QUEUE_NAME, redisOptions, startSweepWorker, type WorkerEvent } from '../node/sweep/queue.js';

/** `microbatch worker`: takes sweep trials from a Redis queue and runs them, until SIGTERM/SIGINT. */

function seconds(text: string, field: string, minimum: number): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < minimum) throw new ConfigError(`must be a number of seconds ≥ ${minimum}, got "${text}"`, { field });
  return value;
}

function positive(text: string, field: string): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < 1) throw new ConfigError(`must be a positive integer, got "${text}"`, { field });
  return Number(text);
}

function eventLine(event: WorkerEvent): string {
  switch (event.type) {
    case 'ready':
      return 'worker: ready';
    case 'started':
      return `worker: trial ${event.trial} ${event.resume ? 'resumed' : 'started'} (job ${event.job}, pid ${event.pid ?? '?'})`;
    case 'epoch':
      return `worker: trial ${event.trial} epoch ${event.epoch}`;
    case 'completed':
      return `worker: trial ${event.trial} completed${event.reused ? ' (its result was already on disk)' : ''}`;
    case 'failed':
      return `worker: job ${event.job} failed: ${event.reason}`;
    case 'returned':
      return `worker: trial ${event.trial} handed back to the queue`;
    case 'lock-lost':
      return `worker: lost the lock of job ${event.job}: its trial stops, another worker takes it over`;
    case 'error':
      return `worker: redis: ${event.message}`;
    case 'closed':
      return 'worker: closed';
  }
}

export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'Run sweep trials from a Redis queue (`microbatch sweep --queue URL` puts them there), each in its own process on one core, until stopped. ' +
        'Jobs carry every setting and path, so every machine must see the data, the model and the sweep\'s out dir at the same paths (a shared file system). ' +
        'SIGTERM or SIGINT hands running trials back to the queue (they resume from their last checkpoint) and exits 0.',
    )
    .requiredOption('--queue <url>', 'the Redis the sweep uses: redis://[user:password@]host:port[/db] or rediss://… (TLS)')
    .addOption(new Option('--queue-name <name>', 'the queue (as given to sweep)').default(DEFAULT_QUEUE_NAME, DEFAULT_QUEUE_NAME))
    .option('--concurrency <n>', 'trials at a time (default: the number of cores; lower it when memory, not cores, is the limit)')
    .addOption(new Option('--lock-duration <s>', 'a job lock lasts this long without renewal (renewed every half): a dead worker\'s trial is taken over after this plus --stalled-interval').default('30', '30 s'))
    .addOption(new Option('--stalled-interval <s>', 'how often to look for the jobs of dead workers').default('30', '30 s'))
    .addOption(new Option('--max-stalled <n>', 'a trial may lose this many workers before it fails').default('3', '3'))
    .addOption(new Option('--kill-grace <s>', 'on SIGTERM, how long a running trial may take to stop before it is killed').default('20', '20 s'))
    .action(async (flags: { queue: string; queueName: string; concurrency?: string; lockDuration: string; stalledInterval: string; maxStalled: string; killGrace: string }) => {
      redisOptions(flags.queue);
      const concurrency = flags.concurrency === undefined ? os.availableParallelism() : positive(flags.concurrency, 'concurrency');
      const settings = {
        lockDurationMs: seconds(flags.lockDuration, 'lockDuration', 1) * 1000,
        stalledIntervalMs: seconds(flags.stalledInterval, 'stalledInterval', 0.1) * 1000,
        maxStalledCount: positive(flags.maxStalled, 'maxStalled'),
        killGraceMs: seconds(flags.killGrace, 'killGrace', 0) * 1000,
      };
      process.stderr.write(`worker: ${os.hostname()} pid ${process.pid}, queue ${flags.queueName} on ${flags.queue}, ${concurrency} trial${concurrency === 1 ? '' : 's'} at a time\n`);
      const worker = await startSweepWorker({
        queue: { url: flags.queue, name: flags.queueName },
        runner: finetuneRunnerRef(),
        concurrency,
        ...settings,
        onEvent: (event) => process.stderr.write(eventLine(event) + '\n'),
      });
      closeOnSignals(worker);
      // Runs until a signal closes it (closeOnSignals exits the process).
      await new Promise<never>(() => {});
    });
}
