/**
 * `microbatch sweep --queue` with `microbatch worker`s, all real: a redis-server on 127.0.0.1 at a
 * free port, three worker processes of the CLI running real training trials (the tiny test model),
 * one of them killed with SIGKILL in the middle of a trial — after the trial's first checkpoint,
 * before its end — and the coordinator interrupted and re-attached from the out dir alone. The
 * sweep must end with the same sweep.jsonl (timing aside) as the same sweep run locally, each trial
 * one completed job, the killed trial resumed from its checkpoint.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { loadSweepPlan } from '../../src/node/sweep/files.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, jobId, redisOptions, sweepKey } from '../../src/node/sweep/queue.js';
import { processGone } from '../node/sweep/processes.js';
import { freePort, RedisServer, requireRedisServer } from '../node/sweep/redis.js';
import { runCli, tempDir } from './helpers.js';
import { CliProcess, smallSweep, sweepLines, until } from './sweep-helpers.js';

let redis: RedisServer;
let queue: Queue;
const workers: CliProcess[] = [];
const killed = new Set<CliProcess>();

before(async () => {
  requireRedisServer();
  redis = new RedisServer(await freePort(), tempDir('cli-sweep-redis'));
  await redis.start();
  queue = new Queue(DEFAULT_QUEUE_NAME, { connection: redisOptions(redis.url), prefix: DEFAULT_PREFIX });
});

after(async () => {
  const exits = await Promise.all(workers.map((worker) => worker.stop('SIGTERM')));
  await queue?.close();
  await redis?.stop();
  exits.forEach((exit, position) => {
    const worker = workers[position]!;
    if (!killed.has(worker)) assert.deepEqual(exit, { code: 0, signal: null }, `${worker.label} exits 0 on SIGTERM: ${worker.stderr}`);
  });
});

/** Sends `signal` to `pid`; false when the process is gone. */
function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

/** `trials/<config>/seed-<s>/fold-<f>` of a trial id `<config>-s<s>-f<f>`. */
function trialDirOf(outDir: string, trialId: string): string {
  const [, config, seed, fold] = /^(c[0-9a-f]{10})-s(\d+)-f(\d+)$/.exec(trialId)!;
  return path.join(outDir, 'trials', config!, `seed-${seed}`, `fold-${fold}`);
}

interface Started {
  worker: CliProcess;
  trial: string;
  pid: number;
}

/** Trials the workers are running now (started, not yet completed), from their stderr. */
function running(): Started[] {
  const found: Started[] = [];
  for (const worker of workers.filter((candidate) => candidate.alive)) {
    let current: Started | undefined;
    for (const line of worker.lines) {
      const start = /^worker: trial (\S+) (?:started|resumed) \(job \S+, pid (\d+)\)$/.exec(line);
      if (start !== null) current = { worker, trial: start[1]!, pid: Number(start[2]) };
      else if (current !== undefined && (line.startsWith(`worker: trial ${current.trial} completed`) || line.startsWith('worker: job '))) current = undefined;
    }
    if (current !== undefined) found.push(current);
  }
  return found;
}

test('sweep --queue with three workers, one SIGKILLed mid-trial, the coordinator detached and re-attached: the same sweep.jsonl as the local sweep', async () => {
  const dir = tempDir('cli-sweep-queue');
  const sweep = await smallSweep(dir);
  const reference = path.join(dir, 'local');
  const queued = path.join(dir, 'queued');
  // Short locks so that the dead worker's trial is back in the queue within seconds (the default is 30 s).
  const workerArgs = ['worker', '--queue', redis.url, '--concurrency', '1', '--lock-duration', '3', '--stalled-interval', '0.5', '--kill-grace', '5'];
  for (let i = 1; i <= 3; i++) workers.push(new CliProcess(`worker ${i}`, workerArgs));
  // The local reference runs meanwhile (the machine has two cores; the order of events does not matter to the results).
  const local = runCli([...sweep.args, '--out', reference, '--parallel', '1']);
  const first = new CliProcess('coordinator 1', [...sweep.args, '--out', queued, '--queue', redis.url]);

  // A worker dies in the middle of a trial: once the trial has its first checkpoint, its process is
  // frozen (SIGSTOP) and, if it has not finished in the meantime, its worker is killed.
  let victim: Started | undefined;
  await until(
    () => {
      for (const candidate of running()) {
        const trialDir = trialDirOf(queued, candidate.trial);
        if (!existsSync(path.join(trialDir, 'checkpoint', 'training_state.json'))) continue;
        if (!signal(candidate.pid, 'SIGSTOP')) continue;
        if (!existsSync(path.join(trialDir, 'summary.json')) && existsSync(path.join(trialDir, 'checkpoint'))) {
          victim = candidate;
          return true;
        }
        signal(candidate.pid, 'SIGCONT');
      }
      return false;
    },
    120_000,
    'a trial with a checkpoint, not finished',
    5,
  );
  killed.add(victim!.worker);
  await victim!.worker.stop('SIGKILL');
  signal(victim!.pid, 'SIGCONT');
  // The orphaned trial process sees its parent gone and exits instead of computing on unowned.
  await until(() => processGone(victim!.pid), 10_000, 'the orphaned trial process to exit');

  // The coordinator is interrupted once a trial has finished; the workers go on without it.
  await until(() => /^\[1\/8\] /m.test(first.stderr) || !first.alive, 120_000, 'a finished trial');
  assert.deepEqual(await first.stop('SIGINT'), { code: 130, signal: null }, first.stderr);
  assert.match(first.stderr, /^detached with [1-7] trials to go: re-attach with `microbatch sweep --out .* --queue redis:\/\/127\.0\.0\.1:\d+`$/m);

  // Re-attached from the out dir alone (its sweep.json), it waits for the rest and aggregates.
  const second = await runCli(['sweep', '--out', queued, '--queue', redis.url]);
  assert.equal(second.code, 0, second.stderr);
  const localRun = await local;
  assert.equal(localRun.code, 0, localRun.stderr);

  assert.deepEqual(sweepLines(queued), sweepLines(reference));
  assert.equal(second.stdout, localRun.stdout.replaceAll(reference, queued));
  assert.ok(sweepLines(queued).every((record) => record.status === 'completed'));
  const log = readFileSync(path.join(trialDirOf(queued, victim!.trial), 'trial.log'), 'utf8');
  assert.match(log, /^trial \S+: starting$/m);
  assert.match(log, /^trial \S+: resuming from the checkpoint after epoch [1-3]$/m, log);

  // Every trial is exactly one completed job; the killed one was started twice.
  const plan = await loadSweepPlan(queued);
  const key = sweepKey(plan, queued);
  const completed = (await queue.getJobs(['completed'], 0, -1)).map((job) => job.id).sort();
  assert.deepEqual(completed, plan.trials.map((trial) => jobId(key, trial)).sort());
  assert.deepEqual(await queue.getJobs(['failed', 'active', 'wait', 'delayed', 'prioritized'], 0, -1), []);
  const job = await queue.getJob(`${key}.${victim!.trial}`);
  assert.ok(job!.attemptsStarted >= 2, `started ${job!.attemptsStarted} times`);
  assert.equal(workers.filter((worker) => worker.alive).length, 2);
});
