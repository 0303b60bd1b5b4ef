/**
 * The optional native matMul (native/sgemm.cc) against the wasm kernels:
 *
 *   1. GFLOP/s of BatchMatMul: wasm stock, wasm fast kernel, native 1 thread, native 2
 *      threads, on the BERT-mini products (dense layers with every transpose flag, a
 *      ragged 880-row batch, attention scores);
 *   2. small cubes, fast vs native, which set MIN_NATIVE_MULTIPLY_ADDS;
 *   3. the real training step: forward + backward of BertForSequenceClassification at the
 *      BERT-mini shape, micro-batch 8 × 118 tokens, with the fast kernels alone and with
 *      the native matMul on top (1 and 2 threads), and the BatchMatMul share of each.
 *
 * Run: npm run build && node scripts/build-native.mjs && node dist/bench/native.js [--quick]
 */
import * as tf from '@tensorflow/tfjs-core';
import { cpus, loadavg } from 'node:os';
import { installFastKernels, uninstallFastKernels } from '../src/backend/fastKernels.js';
import { MIN_HOST_MULTIPLY_ADDS as MIN_NATIVE_MULTIPLY_ADDS } from '../src/backend/kernels/hostBatchMatMul.js';
import { selectBackend } from '../src/node/backend.js';
import { installNativeKernels as installNativeMatMul, nativeStatus, uninstallNativeKernels as uninstallNativeMatMul } from '../src/node/native.js';
import { GradientStore } from '../src/train/store.js';
import { median, timeKernels } from './profile-kernels.js';
import { benchClassifier, syntheticMicroBatches } from './profile-model-step.js';

const quick = process.argv.includes('--quick');

type Variant = 'wasm stock' | 'wasm fast' | 'native 1T' | 'native 2T';
const VARIANTS: Variant[] = ['wasm stock', 'wasm fast', 'native 1T', 'native 2T'];

/** Registers the BatchMatMul of `variant` (native over fast, as the library installs it). */
function useVariant(variant: Variant): void {
  uninstallNativeMatMul();
  if (variant === 'wasm stock') {
    uninstallFastKernels();
    return;
  }
  installFastKernels();
  if (variant === 'native 1T' || variant === 'native 2T') {
    if (!installNativeMatMul({ threads: variant === 'native 1T' ? 1 : 2 })) throw new Error(`native matMul unavailable: ${nativeStatus().reason}`);
  }
}

/** Median ms of `run` after a warm-up, with at least `minRuns` runs and ~`budgetMs` of work. */
function timeMedian(run: () => void, minRuns: number, budgetMs: number): number {
  run();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || (performance.now() - start < budgetMs && times.length < 1000)) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

interface MatMulCase {
  label: string;
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

function matMulGflops(c: MatMulCase, variant: Variant): number {
  useVariant(variant);
  const a = tf.randomNormal(c.a, 0, 1, 'float32', 1);
  const b = tf.randomNormal(c.b, 0, 1, 'float32', 2);
  const probe = tf.matMul(a, b, c.transposeA, c.transposeB);
  const multiplyAdds = tf.util.sizeFromShape(probe.shape) * c.a[c.a.length - (c.transposeA ? 2 : 1)]!;
  probe.dispose();
  // The stock transposed variants run at ~1 GFLOP/s: fewer runs keep the table quick.
  const slow = variant === 'wasm stock' && (c.transposeA || c.transposeB || c.a.length > 2);
  const ms = timeMedian(() => tf.matMul(a, b, c.transposeA, c.transposeB).dispose(), slow ? 2 : 5, quick || slow ? 100 : 400);
  tf.dispose([a, b]);
  return (2 * multiplyAdds) / ms / 1e6;
}

function kernelTable(): string[] {
  const cases: MatMulCase[] = [];
  for (const [transposeA, transposeB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
    cases.push({
      label: `[1024,256]×[256,1024]${transposeA ? ' Aᵀ' : ''}${transposeB ? ' Bᵀ' : ''}`,
      a: transposeA ? [256, 1024] : [1024, 256],
      b: transposeB ? [1024, 256] : [256, 1024],
      transposeA,
      transposeB,
    });
  }
  cases.push({ label: '[880,256]×[256,1024]', a: [880, 256], b: [256, 1024], transposeA: false, transposeB: false });
  cases.push({ label: 'attention [8,4,118,64]×[8,4,64,118]', a: [8, 4, 118, 64], b: [8, 4, 64, 118], transposeA: false, transposeB: false });
  cases.push({ label: 'attention [8,4,118,64]×[8,4,118,64]ᵀ', a: [8, 4, 118, 64], b: [8, 4, 118, 64], transposeA: false, transposeB: true });
  cases.push({ label: 'attention [8,4,118,118]×[8,4,118,64]', a: [8, 4, 118, 118], b: [8, 4, 118, 64], transposeA: false, transposeB: false });
  const lines = ['| product | ' + VARIANTS.join(' | ') + ' |', '| --- |' + ' ---: |'.repeat(VARIANTS.length)];
  for (const c of cases) lines.push(`| ${c.label} | ${VARIANTS.map((v) => matMulGflops(c, v).toFixed(1)).join(' | ')} |`);
  return lines;
}

function smallProductTable(): string[] {
  const lines = ['| cube | wasm fast µs | native 1T µs |', '| --- | ---: | ---: |'];
  // Below MIN_NATIVE_MULTIPLY_ADDS the native kernel delegates, so both columns time the fast kernel.
  for (const size of [2, 4, 8, 16, 32]) {
    const c: MatMulCase = { label: `${size}³`, a: [size, size], b: [size, size], transposeA: false, transposeB: true };
    const micros = (['wasm fast', 'native 1T'] as const).map((variant) => (1e3 * 2 * size ** 3) / (matMulGflops(c, variant) * 1e6));
    const delegated = size ** 3 < MIN_NATIVE_MULTIPLY_ADDS ? ' (delegated)' : '';
    lines.push(`| ${size}³ (Bᵀ) | ${micros[0]!.toFixed(1)} | ${micros[1]!.toFixed(1)}${delegated} |`);
  }
  return lines;
}

async function modelStepTable(): Promise<string[]> {
  const microBatch = 8;
  const model = benchClassifier('mini', 4000, 0.1);
  const grads = new GradientStore(model.parameters.layout);
  const samples = syntheticMicroBatches({ microBatch, minLength: 118, maxLength: 118, vocab: 4000 }, 1)[0]!;
  let dropoutSeed = 0;
  const forwardBackward = (): void => {
    model.accumulateGradients(samples, grads, { factor: 1 / 32, training: true, dropoutSeeds: samples.map(() => dropoutSeed++), epoch: 0 });
  };
  const runs = quick ? 5 : 15;
  const lines = ['| BatchMatMul | forward + backward ms (median) | of which BatchMatMul ms | samples/s |', '| --- | ---: | ---: | ---: |'];
  try {
    for (const variant of ['wasm fast', 'native 1T', 'native 2T'] as const) {
      useVariant(variant);
      const ms = timeMedian(forwardBackward, runs, 0);
      const { kernels } = await timeKernels('wasm', () => {
        for (let i = 0; i < runs; i++) forwardBackward();
      });
      const matMulMs = (kernels.find((k) => k.kernel === tf.BatchMatMul)?.ms ?? 0) / runs;
      lines.push(`| ${variant} | ${ms.toFixed(1)} | ${matMulMs.toFixed(1)} | ${((1000 * microBatch) / ms).toFixed(1)} |`);
    }
  } finally {
    model.dispose();
  }
  return lines;
}

const status = nativeStatus();
if (!status.available) {
  console.error(`native matMul unavailable: ${status.reason}`);
  process.exit(1);
}
const selected = await selectBackend('wasm', { log: () => {} });
console.log(`## Native matMul (${status.isa}) vs wasm\n`);
console.log(`${selected.detail}; ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}; Node ${process.version}; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
console.log('GFLOP/s (2·M·K·N per second, median):\n');
console.log(kernelTable().join('\n'));
console.log('\nSmall products, time per call:\n');
console.log(smallProductTable().join('\n'));
console.log('\nBERT-mini forward + backward, micro-batch 8 × 118 tokens (fast kernels installed in every row):\n');
console.log((await modelStepTable()).join('\n'));
useVariant('wasm fast');
