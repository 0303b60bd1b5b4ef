/**
 * Distributed sweeps with the real thing: a redis-server on 127.0.0.1 at a free port, three
 * worker processes (test/fixtures/sweep-worker.ts, the test trial runner) and coordinators in
 * this process or in their own. Each sweep must end with the same sweep.jsonl (timing aside) as
 * the same sweep run locally one trial at a time — after a worker is killed with SIGKILL
 * mid-trial, after Redis restarts, after the coordinator exits and another re-attaches.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { planSweep } from '../../../src/app/sweep/plan.js';
import { trialDir } from '../../../src/node/sweep/files.js';
import { runSweepLocal } from '../../../src/node/sweep/local.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, jobId, redisOptions, runSweepQueued, sweepKey } from '../../../src/node/sweep/queue.js';
import { tempDir } from '../../helpers/tempdir.js';
import { SMALL_SWEEP, sweepLines } from './helpers.js';
import { NodeProcess, processGone, until } from './processes.js';
import { freePort, RedisServer, requireRedisServer } from './redis.js';

const WORKER = new URL('../../fixtures/sweep-worker.js', import.meta.url);
const COORDINATOR = new URL('../../fixtures/sweep-coordinator.js', import.meta.url);
/** Short locks so a dead worker's trial is recovered in seconds (production keeps BullMQ's 30 s). */
const WORKER_SETTINGS = { lockDurationMs: 3000, stalledIntervalMs: 500, killGraceMs: 5000, runnerOptions: { epochSleepMs: 100 } };

/** 2 configs × 1 seed × 2 folds: 4 trials, for three workers (each trial is a process, slow to start here). */
const QUEUE_SWEEP = { ...SMALL_SWEEP, seeds: [0] };
const plan = planSweep(QUEUE_SWEEP);
let redis: RedisServer;
let referenceDir: string;
let queue: Queue;
const workers: NodeProcess[] = [];
const killed = new Set<NodeProcess>();
let workerCount = 0;

function startWorker(): NodeProcess {
  const worker = new NodeProcess(`worker ${++workerCount}`, WORKER, { url: redis.url, ...WORKER_SETTINGS });
  workers.push(worker);
  return worker;
}

const liveWorkers = () => workers.filter((worker) => worker.alive);

before(async () => {
  requireRedisServer();
  redis = new RedisServer(await freePort(), tempDir('sweep-redis'));
  await redis.start();
  queue = new Queue(DEFAULT_QUEUE_NAME, { connection: redisOptions(redis.url), prefix: DEFAULT_PREFIX });
  queue.on('error', () => {}); // the restart test takes Redis away on purpose
  for (let i = 0; i < 3; i++) startWorker();
  referenceDir = tempDir('sweep-queue-reference');
  const [reference] = await Promise.all([
    runSweepLocal({ plan, outDir: referenceDir, runner: { module: new URL('../../fixtures/sweep-trial.js', import.meta.url).href, exportName: 'createTestRunner' }, parallel: 2 }),
    ...workers.map((worker) => worker.waitFor((event) => event.type === 'ready')),
  ]);
  assert.ok(reference.finished);
});

after(async () => {
  // Workers close gracefully on SIGTERM (exit 0); then Redis goes.
  const exits = await Promise.all(workers.map((worker) => worker.stop('SIGTERM')));
  await queue?.close();
  await redis?.stop();
  for (const [position, exit] of exits.entries()) {
    if (!killed.has(workers[position]!)) assert.deepEqual(exit, { code: 0, signal: null }, `${workers[position]!.label} exit`);
  }
});

/** The jobs of a sweep in `outDir`: each trial exactly one job, all completed. */
async function assertJobsCompletedOnce(outDir: string): Promise<void> {
  const key = sweepKey(plan, outDir);
  const completed = (await queue.getJobs(['completed'], 0, -1)).filter((job) => job.id!.startsWith(key + '.'));
  assert.deepEqual(completed.map((job) => job.id).sort(), plan.trials.map((trial) => jobId(key, trial)).sort());
  const others = await queue.getJobs(['failed', 'active', 'wait', 'delayed', 'prioritized'], 0, -1);
  assert.deepEqual(others.filter((job) => job.id!.startsWith(key + '.')).map((job) => job.id), []);
}

function attempts(outDir: string, trialId: string): string {
  return readFileSync(path.join(trialDir(outDir, plan.trials.find((trial) => trial.id === trialId)!), 'attempts.log'), 'utf8');
}

test('a worker killed with SIGKILL mid-trial: the job is recovered, the trial resumes from its checkpoint, the sweep equals the local one', async () => {
  const outDir = tempDir('sweep-queue-kill');
  const running = runSweepQueued({ plan, outDir, queue: { url: redis.url }, pollMs: 200 });
  // The first worker to report epoch 1 of a trial dies: with patience 2 and 100 ms per epoch the
  // trial is certainly still running (the events reach us late, in bursts).
  let victim: NodeProcess | undefined;
  let epochEvent: Record<string, unknown> | undefined;
  await until(
    () => {
      for (const worker of liveWorkers()) {
        epochEvent = worker.events.find((event) => event.type === 'epoch' && event.epoch === 1);
        if (epochEvent !== undefined) {
          victim = worker;
          return true;
        }
      }
      return false;
    },
    30_000,
    'a worker at epoch 1',
  );
  const trialId = epochEvent!.trial as string;
  const started = victim!.events.find((event) => event.type === 'started' && event.trial === trialId)!;
  killed.add(victim!);
  await victim!.stop('SIGKILL');
  // Its trial process notices the closed IPC channel and exits instead of computing on unowned.
  await until(() => processGone(started.pid as number), 5000, 'the orphaned trial process to exit');
  startWorker();

  const outcome = await running;
  if (process.env.DEBUG_SWEEP) {
    for (const w of workers) console.error(w.label, JSON.stringify(w.events.map((e) => [e.at, e.type, e.trial, e.epoch])));
    console.error('killed', trialId, JSON.stringify(attempts(outDir, trialId)));
  }
  assert.ok(outcome.finished);
  assert.deepEqual(sweepLines(outDir), sweepLines(referenceDir));
  assert.match(attempts(outDir, trialId), /^fresh\nresume after epoch [1-6]\n$/);
  await assertJobsCompletedOnce(outDir);
  const job = await queue.getJob(jobId(sweepKey(plan, outDir), plan.trials.find((trial) => trial.id === trialId)!));
  assert.ok(job!.attemptsStarted >= 2, `started ${job!.attemptsStarted} times`);
});

test('a malformed job fails with the reason and the worker goes on', async () => {
  const valid = { version: 1, sweep: 'sbad', outDir: '/nonexistent', trial: plan.trials[0]! };
  const bad = [
    { id: 'bad-1', data: { hello: 'world' }, reason: /^malformed job: job bad-1, field "version": must be 1, got nothing$/ },
    { id: 'bad-2', data: { ...valid, trial: { ...valid.trial, seed: -3 } }, reason: /^malformed job: job bad-2, field "trial.seed": must be an integer ≥ 0, got number -3$/ },
    { id: 'bad-3', data: valid, reason: /^malformed job: job id must be sbad\.c[0-9a-f]{10}-s0-f0 \(sweep\.trial\), got bad-3$/ },
    { id: `sbad.${valid.trial.id}`, data: valid, reason: /^\/nonexistent is not a sweep's out dir on .*: every worker must see the out dir at the same path$/ },
  ];
  for (const { id, data } of bad) await queue.add('trial', data, { jobId: id, attempts: 3 });
  for (const { id, reason } of bad) {
    const deadline = Date.now() + 15_000;
    let state = await queue.getJobState(id);
    while (state !== 'failed' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = await queue.getJobState(id);
    }
    const job = await queue.getJob(id);
    assert.equal(state, 'failed', `${id} is ${state}`);
    assert.match(job!.failedReason, reason);
    // Unrecoverable: failed at once, not retried three times.
    assert.equal(job!.attemptsMade, 1);
  }
  assert.equal(liveWorkers().length, 3);
});

test('Redis restarted mid-sweep (append-only persistence): the sweep completes and equals the local one', async () => {
  const outDir = tempDir('sweep-queue-restart');
  let finished = 0;
  const running = runSweepQueued({
    plan,
    outDir,
    queue: { url: redis.url },
    pollMs: 200,
    onEvent: (event) => {
      if (event.type === 'finished') finished++;
    },
  });
  // With 4 trials on 3 workers, the last one starts when the first ends: it is running now.
  await until(() => finished >= 1, 30_000, 'a finished trial');
  assert.ok(finished < plan.trials.length);
  await redis.restart();
  const outcome = await running;
  assert.ok(outcome.finished);
  assert.deepEqual(sweepLines(outDir), sweepLines(referenceDir));
  await assertJobsCompletedOnce(outDir);
  assert.equal(liveWorkers().length, 3, 'no worker died of the restart');
});

test('a worker stopped with SIGTERM hands its trial back; the coordinator exits mid-sweep and another re-attaches from the out dir', async () => {
  const outDir = tempDir('sweep-queue-reattach');
  const first = new NodeProcess('coordinator 1', COORDINATOR, { url: redis.url, outDir, input: QUEUE_SWEEP });
  // A worker in the middle of a trial (after epoch 1: patience 2 cannot have stopped it yet) is stopped gracefully.
  let stopping: { worker: NodeProcess; trial: string } | undefined;
  await until(
    () => {
      for (const worker of liveWorkers()) {
        const last = worker.events.at(-1);
        if (last?.type === 'epoch' && last.epoch === 1) stopping = { worker, trial: last.trial as string };
      }
      return stopping !== undefined;
    },
    30_000,
    'a worker in the middle of a trial',
  );
  assert.deepEqual(await stopping!.worker.stop('SIGTERM'), { code: 0, signal: null });
  assert.ok(stopping!.worker.events.some((event) => event.type === 'returned' && event.trial === stopping!.trial));
  startWorker();

  // The coordinator goes away once it has seen a trial finish; the workers go on without it.
  await first.waitFor((event) => event.type === 'finished', 30_000);
  await first.stop('SIGKILL');
  const second = new NodeProcess('coordinator 2', COORDINATOR, { url: redis.url, outDir });
  const done = await second.waitFor((event) => event.type === 'done', 40_000);
  assert.deepEqual(await second.exited, { code: 0, signal: null });
  assert.equal(done.finished, true);
  // The second coordinator found what had finished without it (the workers' result files in the shared out dir).
  assert.ok(second.events.some((event) => event.type === 'skipped'));
  assert.deepEqual(sweepLines(outDir), sweepLines(referenceDir));
  assert.match(attempts(outDir, stopping!.trial), /^fresh\nresume after epoch [1-6]\n$/);
  await assertJobsCompletedOnce(outDir);
});
