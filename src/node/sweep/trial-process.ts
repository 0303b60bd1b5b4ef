/**
 * Entry point of the child process that runs one trial (see executor.ts). One process per trial:
 * a crash, an exit() or a leak in the runner ends only its trial, the process that schedules
 * trials keeps its event loop free (a BullMQ worker must renew its lock while the trial
 * computes), and the compute-thread limit is set in the environment before any backend loads.
 *
 * Protocol over the IPC channel: the parent sends `start`, later perhaps `abort`; the child sends
 * `epoch` after each epoch and then `result` or `error`, and exits. If the parent goes away
 * (killed with SIGKILL), the channel closes and the child exits at once, so that a trial never
 * goes on computing behind the back of the worker that took it over.
 */
import { loadTrialRunner } from './runner.js';
import type { ParentMessage, ChildMessage } from './executor.js';

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, {}, () => resolve());
  });
}

const controller = new AbortController();

process.on('disconnect', () => process.exit(70));
// The parent owns this process: it stops it with an abort message (the runner keeps its last
// checkpoint) or kills it. A Ctrl-C in a terminal reaches the whole process group; a trial dying
// of it before its parent asked it to stop would be recorded as failed instead of resumed.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
process.on('message', (message: ParentMessage) => {
  if (message.type === 'abort') controller.abort(new Error(message.reason));
  else if (message.type === 'start') void run(message);
});

async function run(start: Extract<ParentMessage, { type: 'start' }>): Promise<void> {
  try {
    const runner = await loadTrialRunner(start.runner);
    const result = await runner.run(start.trial, {
      outDir: start.outDir,
      resume: start.resume,
      signal: controller.signal,
      computeThreads: 1,
      onEpoch: (epoch) => void send({ type: 'epoch', epoch }),
    });
    await send({ type: 'result', result });
    process.exit(0);
  } catch (error) {
    const message = error instanceof Error ? `${error.name === 'Error' ? '' : error.name + ': '}${error.message}` : String(error);
    await send({ type: 'error', message, aborted: controller.signal.aborted });
    process.exit(1);
  }
}
