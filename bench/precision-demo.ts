/**
 * The README's demo (`microbatch train`: the shipped pretrained 2-layer BERT, hidden 128,
 * fine-tuned on the bundled SpamAssassin subset, 12 epochs, evaluated on 440 held-out samples) in fp32 and bf16
 * autocast for seeds 0–4: eval accuracy per seed and precision, and the weights after ONE epoch
 * of bf16 against fp32 (same seed).
 *
 * It runs the real CLI command (`trainCommand`) in this process with --workers 1 --backend wasm
 * (native kernels with the machine's threads, as the CLI installs them) and `--precision`.
 *
 * Run: node dist/bench/precision-demo.js [seeds=0,1,2,3,4]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildModel, readConfig } from '../src/app/checkpoint.js';
import { EMBEDDED_DEFAULT, trainCommand } from '../src/cli/train.js';
import { parseSafetensors } from '../src/core/safetensors.js';
import type { Precision } from '../src/nn/context.js';

interface DemoRun {
  accuracy: number;
  seconds: number;
  weights: Map<string, Float32Array>;
}

async function demo(seed: number, precision: Precision, epochs?: number): Promise<DemoRun> {
  const out = mkdtempSync(path.join(tmpdir(), 'microbatch-precision-'));
  const start = performance.now();
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  // The command's progress and report lines are not this benchmark's output.
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const args = ['--out', out, '--workers', '1', '--backend', 'wasm', '--precision', precision, '--seed', String(seed), ...(epochs !== undefined ? ['--epochs', String(epochs)] : [])];
    await trainCommand().exitOverride().parseAsync(args, { from: 'user' });
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
  const seconds = (performance.now() - start) / 1000;
  const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { eval?: { accuracy: number } };
  const file = parseSafetensors(readFileSync(path.join(out, 'model.safetensors')), 'model.safetensors');
  const weights = new Map([...file.tensors].map(([name, tensor]) => [name, tensor.data as Float32Array]));
  rmSync(out, { recursive: true, force: true });
  return { accuracy: summary.eval?.accuracy ?? Number.NaN, seconds, weights };
}

/** The demo's initial weights for `seed`: the shipped pretrained model and a fresh head drawn from the seed. */
function initialWeights(seed: number): Map<string, Float32Array> {
  const { family, config } = readConfig(JSON.parse(readFileSync(path.join(EMBEDDED_DEFAULT.model, 'config.json'), 'utf8')), 'config.json');
  const file = path.join(EMBEDDED_DEFAULT.model, 'model.safetensors');
  const { tensors } = parseSafetensors(readFileSync(file), file);
  const { model } = buildModel(family, config, { task: 'sequence-classification', labels: ['ham', 'spam'], tensors, freshHead: true, seed, source: file });
  const weights = new Map([...model.weights()].map(([name, values]) => [name, Float32Array.from(values)]));
  model.dispose();
  return weights;
}

/** max |a − b|, and ‖a − b‖ over the norm of b's update from `initial`. */
function weightDifference(a: Map<string, Float32Array>, b: Map<string, Float32Array>, initial: Map<string, Float32Array>): { max: number; ofUpdate: number } {
  let max = 0;
  let difference = 0;
  let update = 0;
  for (const [name, values] of b) {
    const other = a.get(name)!;
    const start = initial.get(name)!;
    for (let i = 0; i < values.length; i++) {
      const d = other[i]! - values[i]!;
      max = Math.max(max, Math.abs(d));
      difference += d * d;
      update += (values[i]! - start[i]!) ** 2;
    }
  }
  return { max, ofUpdate: Math.sqrt(difference / update) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const seeds = (process.argv[2] ?? '0,1,2,3,4').split(',').map(Number);
  const loadBefore = loadavg();
  const lines = ['| seed | fp32 accuracy | bf16 accuracy | bf16 − fp32 (points) | fp32 s | bf16 s |', '| ---: | ---: | ---: | ---: | ---: | ---: |'];
  const accuracies: Record<Precision, number[]> = { fp32: [], bf16: [] };
  for (const seed of seeds) {
    const fp32 = await demo(seed, 'fp32');
    const bf16 = await demo(seed, 'bf16');
    accuracies.fp32.push(fp32.accuracy);
    accuracies.bf16.push(bf16.accuracy);
    lines.push(`| ${seed} | ${fp32.accuracy.toFixed(4)} | ${bf16.accuracy.toFixed(4)} | ${(100 * (bf16.accuracy - fp32.accuracy)).toFixed(2)} | ${fp32.seconds.toFixed(1)} | ${bf16.seconds.toFixed(1)} |`);
    console.error(lines[lines.length - 1]);
  }
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  lines.push(`| mean | ${mean(accuracies.fp32).toFixed(4)} | ${mean(accuracies.bf16).toFixed(4)} | ${(100 * (mean(accuracies.bf16) - mean(accuracies.fp32))).toFixed(2)} | | |`);
  const oneEpoch: string[] = [];
  for (const seed of seeds) {
    const fp32 = await demo(seed, 'fp32', 1);
    const bf16 = await demo(seed, 'bf16', 1);
    const { max, ofUpdate } = weightDifference(bf16.weights, fp32.weights, initialWeights(seed));
    oneEpoch.push(`seed ${seed}: after one epoch (4 optimizer steps), max |w_bf16 − w_fp32| = ${max.toExponential(2)}, ‖w_bf16 − w_fp32‖ = ${ofUpdate.toFixed(4)} ‖w_fp32 − w_0‖`);
    console.error(oneEpoch[oneEpoch.length - 1]);
  }
  console.log(
    [
      `The demo (microbatch train, embedded default, --workers 1 --backend wasm), seeds ${seeds.join(', ')}; load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')} before, ${loadavg().map((x) => x.toFixed(2)).join(' ')} after`,
      '',
      ...lines,
      '',
      ...oneEpoch,
    ].join('\n'),
  );
}
