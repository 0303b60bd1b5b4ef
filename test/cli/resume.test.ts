/**
 * `train --resume`: a run interrupted at a window boundary (--stop-after-steps, or kill -9) and
 * resumed ends exactly where the uninterrupted run ends: weights, summary.json epochs, and one
 * metrics.jsonl line per optimizer step. Dropout and shuffling stay on: resume restores them too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { STATE_VERSION } from '../../src/node/finetune.js';
import { maxWeightDifference, runCli, sentimentRows, startCli, tempDir, tinyModel, writeJsonl } from './helpers.js';

function readSummary(out: string) {
  return JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
}

function metricSteps(out: string): number[] {
  return readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line).step);
}

async function setUp(name: string) {
  const dir = tempDir(name);
  const model = await tinyModel(path.join(dir, 'model'));
  const data = writeJsonl(path.join(dir, 'train.jsonl'), sentimentRows(22));
  const trainArgs = (out: string, epochs: number, paths = { data, model }) =>
    ['train', '--data', paths.data, '--model', paths.model, '--out', out, '--epochs', String(epochs), '--batch', '8', '--micro-batch', '3', '--lr', '1e-3', '--backend', 'cpu', '--workers', '1'];
  return { dir, trainArgs };
}

function assertSameRun(out: string, reference: string, steps: number): void {
  assert.equal(maxWeightDifference(out, reference), 0, 'resumed weights equal the uninterrupted run bit for bit');
  assert.deepEqual(readSummary(out).epochs, readSummary(reference).epochs);
  assert.deepEqual(metricSteps(out), Array.from({ length: steps }, (_, i) => i + 1));
}

test('stop after k steps, resume (twice, across an epoch boundary) = the uninterrupted run', async () => {
  const { dir, trainArgs } = await setUp('cli-resume');
  const reference = path.join(dir, 'reference');
  const out = path.join(dir, 'out');
  // The interrupted run starts in its own directory with relative paths; the resumes run elsewhere.
  const [full, first] = await Promise.all([
    runCli(trainArgs(reference, 2)),
    runCli([...trainArgs('out', 2, { data: 'train.jsonl', model: 'model' }), '--stop-after-steps', '2', '--save-every', '1'], dir),
  ]);
  assert.equal(full.code, 0, full.stderr);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /stopped after 2 steps as asked; continue with: microbatch train --resume /);
  assert.ok(existsSync(path.join(out, 'checkpoint', 'training_state.json')));
  assert.ok(!existsSync(path.join(out, 'summary.json')), 'a stopped run writes no summary');
  assert.deepEqual(metricSteps(out), [1, 2]);

  // Steps 3 and 4 cross the end of epoch 1; the resumed process is given the checkpoint dir itself.
  const second = await runCli(['train', '--resume', path.join(out, 'checkpoint'), '--stop-after-steps', '2', '--backend', 'cpu', '--workers', '1']);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, 'epoch 1: 22/22 samples in 3 steps [8, 8, 6]\n', 'a stopped run prints the ledger of its finished epochs');
  assert.deepEqual(metricSteps(out), [1, 2, 3, 4]);

  const last = await runCli(['train', '--resume', out, '--backend', 'cpu', '--workers', '1']);
  assert.equal(last.code, 0, last.stderr);
  assert.match(last.stderr, /epoch 2\/2 window 3\/3 step 6\/6/, 'progress counts the saved run\'s epochs');
  assert.match(last.stdout, /^epoch 1: 22\/22 samples in 3 steps \[8, 8, 6\]\nepoch 2: 22\/22 samples in 3 steps \[8, 8, 6\]\n/);
  assertSameRun(out, reference, 6);
});

test('a checkpoint swap interrupted between its two renames is recovered; stray copies are removed', async () => {
  const { dir, trainArgs } = await setUp('cli-swap');
  const reference = path.join(dir, 'reference');
  const out = path.join(dir, 'out');
  const [full, first] = await Promise.all([runCli(trainArgs(reference, 2)), runCli([...trainArgs(out, 2), '--stop-after-steps', '4', '--save-every', '2'])]);
  assert.equal(full.code, 0, full.stderr);
  assert.equal(first.code, 0, first.stderr);
  // What saveBertCheckpoint leaves when killed after moving the old checkpoint aside: the old one
  // under .old-<id>, and a new one that may be partial under .tmp-<another id>.
  renameSync(path.join(out, 'checkpoint'), path.join(out, 'checkpoint.old-1-aaaa'));
  mkdirSync(path.join(out, 'checkpoint.tmp-2-bbbb'));
  cpSync(path.join(out, 'checkpoint.old-1-aaaa', 'config.json'), path.join(out, 'checkpoint.tmp-2-bbbb', 'config.json'));
  writeFileSync(path.join(out, 'checkpoint.tmp-2-bbbb', 'model.safetensors'), 'partial');

  const resumed = await runCli(['train', '--resume', out, '--backend', 'cpu', '--workers', '1']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assertSameRun(out, reference, 6);
  // A finished run keeps no resumable checkpoint, and no stray copies.
  assert.deepEqual(readdirSync(out).filter((name) => name.startsWith('checkpoint')), []);
});

test('kill -9 during training leaves a complete checkpoint that resumes to the end', async () => {
  const { dir, trainArgs } = await setUp('cli-kill');
  const out = path.join(dir, 'out');
  const reference = path.join(dir, 'reference');
  const epochs = 8;
  const referenceRun = runCli(trainArgs(reference, epochs));
  const { child, done } = startCli([...trainArgs(out, epochs), '--save-every', '1']);
  const stateFile = path.join(out, 'checkpoint', 'training_state.json');
  // Bounded wait for the first checkpoint (no timing assertion: a slow machine only waits longer).
  for (let waited = 0; !existsSync(stateFile) && waited < 60_000; waited += 10) await sleep(10);
  child.kill('SIGKILL');
  const killed = await done;
  assert.ok(existsSync(stateFile) || readdirSync(out).some((name) => name.startsWith('checkpoint.old-')), 'a checkpoint was written');
  // The first checkpoint is written after one step of 24, so the run is killed mid-way.
  assert.equal(killed.signal, 'SIGKILL');
  assert.ok(!existsSync(path.join(out, 'summary.json')));

  const resumed = await runCli(['train', '--resume', out, '--backend', 'cpu', '--workers', '1']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const reference_ = await referenceRun;
  assert.equal(reference_.code, 0, reference_.stderr);
  const summary = readSummary(out);
  assert.equal(summary.epochs.length, epochs);
  for (const epoch of summary.epochs) assert.equal(epoch.samples_seen, 22);
  assertSameRun(out, reference, epochs * 3);
});

test('a checkpoint of an older state version (3: dropout masks per micro-batch) is refused with the file and field named', async () => {
  const dir = tempDir('cli-resume-version');
  const checkpoint = path.join(dir, 'out', 'checkpoint');
  mkdirSync(checkpoint, { recursive: true });
  const stateFile = path.join(checkpoint, 'training_state.json');
  writeFileSync(stateFile, JSON.stringify({ format: 'microbatch-training-state', version: 3 }));
  const result = await runCli(['train', '--resume', path.join(dir, 'out'), '--backend', 'cpu']);
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    `microbatch: error: ${stateFile}, field "version": was written by another version of microbatch (state version 3, this one reads ${STATE_VERSION}): start the run again\n`,
  );
});
