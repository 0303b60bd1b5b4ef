/**
 * Kernel benchmark: GFLOP/s of each matMul variant training uses, stock TF.js vs
 * microbatch's fast kernels on wasm (cpu for reference), then the per-kernel profile of the
 * real BERT-mini training step (bench/profile-model-step.ts), stock vs fast. Prints markdown.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/kernels.js [--quick]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { cpus } from 'node:os';
import { installFastKernels, registerMissingKernels, uninstallFastKernels } from '../src/backend/index.js';
import { median } from './profile-kernels.js';
import { BERT_MINI_STEP, formatModelStepProfile, profileModelStep } from './profile-model-step.js';

interface Variant {
  name: string;
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
  /** Multiply-adds × 2. */
  flops: number;
}

const dense = (name: string, transposeA: boolean, transposeB: boolean): Variant => ({
  name,
  a: transposeA ? [256, 1024] : [1024, 256],
  b: transposeB ? [1024, 256] : [256, 1024],
  transposeA,
  transposeB,
  flops: 2 * 1024 * 256 * 1024,
});
const attentionFlops = 2 * 8 * 4 * 110 * 110 * 64;
const VARIANTS: Variant[] = [
  dense('plain [1024,256]×[256,1024]', false, false),
  dense('transposeA', true, false),
  dense('transposeB', false, true),
  dense('transposeA + transposeB', true, true),
  { name: 'attention QKᵀ [8,4,110,64]×[8,4,110,64]ᵀ', a: [8, 4, 110, 64], b: [8, 4, 110, 64], transposeA: false, transposeB: true, flops: attentionFlops },
  { name: 'attention PV [8,4,110,110]×[8,4,110,64]', a: [8, 4, 110, 110], b: [8, 4, 110, 64], transposeA: false, transposeB: false, flops: attentionFlops },
];

/** Median GFLOP/s over `runs` timed calls after `warmup` untimed ones. */
function measure(variant: Variant, runs: number, warmup: number): number {
  const a = tf.randomNormal(variant.a);
  const b = tf.randomNormal(variant.b);
  const call = () => tf.matMul(a, b, variant.transposeA, variant.transposeB).dataSync();
  for (let i = 0; i < warmup; i++) call();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    call();
    times.push(performance.now() - start);
  }
  tf.dispose([a, b]);
  return variant.flops / (median(times) * 1e6);
}

const quick = process.argv.includes('--quick');
const runs = quick ? 3 : 7;

console.log(`Node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? 'unknown CPU'}, TF.js ${tf.version_core}\n`);
console.log(`## matMul GFLOP/s (median of ${runs}, after warm-up)\n`);
console.log('| variant | cpu | wasm stock | wasm fast | fast / stock |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const variant of VARIANTS) {
  await tf.setBackend('cpu');
  const cpu = measure(variant, quick ? 1 : 3, 1);
  await tf.setBackend('wasm');
  registerMissingKernels();
  uninstallFastKernels();
  const stock = measure(variant, runs, 2);
  installFastKernels();
  const fast = measure(variant, runs, 2);
  uninstallFastKernels();
  console.log(`| ${variant.name} | ${cpu.toFixed(2)} | ${stock.toFixed(2)} | ${fast.toFixed(2)} | ${(fast / stock).toFixed(1)}× |`);
}

console.log('\n## BERT-mini training step (forward + backward, micro-batch 8, 110–128 tokens)\n');
const stockProfile = await profileModelStep({ ...BERT_MINI_STEP, fastKernels: false, runs: 1 });
const fastProfile = await profileModelStep({ ...BERT_MINI_STEP, runs: quick ? 2 : 5 });
console.log('wasm stock:\n\n' + formatModelStepProfile(stockProfile, 10) + '\n');
console.log('wasm fast:\n\n' + formatModelStepProfile(fastProfile, 10) + '\n');
console.log(`Forward + backward speed-up: ${(stockProfile.forwardBackwardMs / fastProfile.forwardBackwardMs).toFixed(1)}×`);
