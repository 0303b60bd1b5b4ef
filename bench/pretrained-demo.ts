/**
 * The embedded demo from the shipped pretrained model vs from scratch (BENCHMARKS.md, "Pretrained
 * default model"): `microbatch train` on the bundled 110 messages with the demo's settings, for
 * each seed, once with --model data/pretrained-model (what the demo uses) and once with
 * --model data/default-model (config only: weights from the seed). Everything else is the
 * same, so the difference is the pretraining. Prints a markdown table.
 *
 *   npm run build && node dist/bench/pretrained-demo.js [--seeds 0-4] [--parallel 2] [--lr 3e-4] [--epochs 12]
 *
 * (--lr and --epochs change both starts' settings, to see whether another setting suits both.)
 *
 * Accuracy does not depend on the machine's load (runs are deterministic for a given worker
 * count); the times do.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = path.join(root, 'bin', 'microbatch.mjs');
const work = mkdtempSync(path.join(tmpdir(), 'microbatch-pretrained-demo-'));

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1]! : fallback;
}

function parseSeeds(text: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(text);
  if (range) return Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i);
  return text.split(',').map(Number);
}

const seeds = parseSeeds(argument('--seeds', '0-4'));
const parallel = Number(argument('--parallel', '1'));
const starts = [
  { name: 'pretrained', model: path.join(root, 'data', 'pretrained-model') },
  { name: 'scratch', model: path.join(root, 'data', 'default-model') },
];

interface Result {
  start: string;
  seed: number;
  accuracy: number;
  macroF1: number;
  trainSeconds: number;
}

/** The demo's own settings (src/cli/train.ts EMBEDDED_DEFAULT), given explicitly so both starts use them. */
const DEMO = [
  '--data', path.join(root, 'data', 'spam', 'train.jsonl'), '--eval', path.join(root, 'data', 'spam', 'eval.jsonl'),
  '--epochs', argument('--epochs', '12'), '--lr', argument('--lr', '3e-4'), '--warmup-steps', '4', '--weight-decay', '0.01',
];

function run(start: (typeof starts)[number], seed: number): Promise<Result> {
  const out = path.join(work, `${start.name}-${seed}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'train', ...DEMO, '--model', start.model, '--seed', String(seed), '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${start.name} seed ${seed} failed: ${stderr.trim().split('\n').at(-1)}`));
      const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
      resolve({ start: start.name, seed, accuracy: summary.eval.accuracy, macroF1: summary.eval.macro_f1, trainSeconds: summary.train_seconds });
    });
  });
}

const jobs = seeds.flatMap((seed) => starts.map((start) => () => run(start, seed)));
const results: Result[] = [];
for (let i = 0; i < jobs.length; i += parallel) results.push(...(await Promise.all(jobs.slice(i, i + parallel).map((job) => job()))));

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const std = (values: number[]) => Math.sqrt(values.reduce((sum, value) => sum + (value - mean(values)) ** 2, 0) / (values.length - 1));
console.log(`| seed | ${starts.map((start) => `${start.name} accuracy`).join(' | ')} | difference |`);
console.log(`| ---: | ${starts.map(() => '---:').join(' | ')} | ---: |`);
for (const seed of seeds) {
  const row = starts.map((start) => results.find((result) => result.start === start.name && result.seed === seed)!.accuracy);
  console.log(`| ${seed} | ${row.map((value) => value.toFixed(4)).join(' | ')} | ${(row[0]! - row[1]!) >= 0 ? '+' : ''}${(row[0]! - row[1]!).toFixed(4)} |`);
}
const by = (name: string, key: keyof Result) => results.filter((result) => result.start === name).map((result) => result[key] as number);
console.log(
  `| mean ± std | ${starts.map((start) => `${mean(by(start.name, 'accuracy')).toFixed(4)} ± ${std(by(start.name, 'accuracy')).toFixed(4)}`).join(' | ')} | ` +
    `${(mean(by('pretrained', 'accuracy')) - mean(by('scratch', 'accuracy'))).toFixed(4)} |`,
);
console.log(`\nmacro-F1 mean: ${starts.map((start) => `${start.name} ${mean(by(start.name, 'macroF1')).toFixed(4)}`).join(', ')}; training seconds (median): ${starts.map((start) => `${start.name} ${[...by(start.name, 'trainSeconds')].sort((a, b) => a - b)[Math.floor(seeds.length / 2)]!.toFixed(1)}`).join(', ')} (${parallel} runs at a time)`);
