/**
 * The native host kernels (src/node/native/addon.ts) on their own, outside TF.js:
 *
 *   1. GEMM GFLOP/s, fp32 (`sgemm`) and bf16 autocast (`sgemmBf16`, VDPBF16PS and the
 *      emulated fallback), 1 and 2 threads, on BERT-base dense shapes, the BERT-mini shapes
 *      of BENCHMARKS.md with every transpose flag, and attention shapes;
 *   2. time per call of the optimizer steps, host helpers and fused elementwise kernels,
 *      1 and 2 threads, against the pure-JS references for the optimizer and helpers.
 *
 * Timing: each case runs until ~`budget` ms have passed; the table gives the best wall time
 * (the run least disturbed by other processes) and, for one thread, the GFLOP/s per second
 * of process CPU time (what a core does while it runs, robust to a loaded machine). The
 * machine limit comes from bench/peak-flops.cc.
 *
 * Run: npm run build && node scripts/build-native.mjs && node dist/bench/native-kernels.js [--quick] [--only=gemm|kernels]
 */
import { cpus, loadavg } from 'node:os';
import { adamwScalars, loadNativeAddon, nativeAddonStatus, type GemmFunction, type NativeAddon } from '../src/node/native/addon.js';
import { adamwReference, axpyReference, sumSquaresReference } from '../src/node/native/reference.js';
import { fillGroupedDropoutMask, RandomStream } from '../src/core/random.js';

const quick = process.argv.includes('--quick');
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const budgetMs = quick ? 150 : 600;

interface Timing {
  /** Best wall-clock ms of one call. */
  bestMs: number;
  /** Median wall-clock ms. */
  medianMs: number;
  /** Process CPU ms per call (user + system, all threads). */
  cpuMs: number;
}

function time(run: () => void, minRuns = 3): Timing {
  run();
  const times: number[] = [];
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  while (times.length < minRuns || (performance.now() - start < budgetMs && times.length < 2000)) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpuStart);
  times.sort((x, y) => x - y);
  return { bestMs: times[0]!, medianMs: times[Math.floor(times.length / 2)]!, cpuMs: (cpu.user + cpu.system) / 1000 / times.length };
}

function randomArray(size: number, seed: number, std = 1): Float32Array {
  const stream = new RandomStream(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = stream.normal() * std;
  return out;
}

interface GemmCase {
  label: string;
  batch: number;
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
  /** A broadcast over the batch (stride 0). */
  shareB?: boolean;
}

const GEMM_CASES: GemmCase[] = [
  { label: 'BERT-base FFN in [1024,768]×[768,3072]', batch: 1, m: 1024, k: 768, n: 3072, transposeA: false, transposeB: false },
  { label: 'BERT-base FFN out [1024,3072]×[3072,768]', batch: 1, m: 1024, k: 3072, n: 768, transposeA: false, transposeB: false },
  { label: 'FFN in dX: [1024,3072]×[768,3072]ᵀ', batch: 1, m: 1024, k: 3072, n: 768, transposeA: false, transposeB: true },
  { label: 'FFN in dW: [1024,768]ᵀ×[1024,3072]', batch: 1, m: 768, k: 1024, n: 3072, transposeA: true, transposeB: false },
  { label: 'BERT-mini [1024,256]×[256,1024]', batch: 1, m: 1024, k: 256, n: 1024, transposeA: false, transposeB: false },
  { label: 'BERT-mini Bᵀ', batch: 1, m: 1024, k: 256, n: 1024, transposeA: false, transposeB: true },
  { label: 'BERT-mini Aᵀ', batch: 1, m: 1024, k: 256, n: 1024, transposeA: true, transposeB: false },
  { label: 'BERT-mini Aᵀ Bᵀ', batch: 1, m: 1024, k: 256, n: 1024, transposeA: true, transposeB: true },
  { label: 'BERT-base QKᵀ [96,128,64]×[96,128,64]ᵀ', batch: 96, m: 128, k: 64, n: 128, transposeA: false, transposeB: true },
  { label: 'BERT-base PV [96,128,128]×[96,128,64]', batch: 96, m: 128, k: 128, n: 64, transposeA: false, transposeB: false },
  { label: 'BERT-mini QKᵀ [32,118,64]×[32,118,64]ᵀ', batch: 32, m: 118, k: 64, n: 118, transposeA: false, transposeB: true },
  { label: 'BERT-mini PV [32,118,118]×[32,118,64]', batch: 32, m: 118, k: 118, n: 64, transposeA: false, transposeB: false },
];

function gemmGflops(addon: NativeAddon, gemm: GemmFunction, c: GemmCase, threads: number): { wall: number; cpu: number } {
  addon.setThreads(threads);
  const a = randomArray(c.batch * c.m * c.k, 1);
  const b = randomArray((c.shareB ? 1 : c.batch) * c.k * c.n, 2);
  const out = new Float32Array(c.batch * c.m * c.n);
  const flops = 2 * c.batch * c.m * c.k * c.n;
  const t = time(() => gemm(a, b, out, c.batch, c.m, c.k, c.n, c.m * c.k, c.shareB ? 0 : c.k * c.n, c.transposeA, c.transposeB));
  return { wall: flops / t.bestMs / 1e6, cpu: flops / t.cpuMs / 1e6 };
}

function gemmTable(addon: NativeAddon): string[] {
  const lines = [
    '| product | fp32 1T best | fp32 1T /CPU-s | fp32 2T best | bf16 1T best | bf16 1T /CPU-s | bf16 2T best | bf16 emulated 1T best |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of GEMM_CASES) {
    const fp1 = gemmGflops(addon, addon.sgemm, c, 1);
    const fp2 = gemmGflops(addon, addon.sgemm, c, 2);
    const bf1 = gemmGflops(addon, addon.sgemmBf16, c, 1);
    const bf2 = gemmGflops(addon, addon.sgemmBf16, c, 2);
    addon.setBf16Emulation(true);
    const em1 = gemmGflops(addon, addon.sgemmBf16, c, 1);
    addon.setBf16Emulation(false);
    const cells = [fp1.wall, fp1.cpu, fp2.wall, bf1.wall, bf1.cpu, bf2.wall, em1.wall].map((value) => value.toFixed(1));
    lines.push(`| ${c.label} | ${cells.join(' | ')} |`);
  }
  addon.setThreads(1);
  return lines;
}

function row(label: string, elements: number, native1: Timing, native2: Timing, baseline: Timing | undefined, baselineLabel: string): string {
  const speedup = baseline === undefined ? '' : `${(baseline.bestMs / native1.bestMs).toFixed(1)}× (${baselineLabel})`;
  return `| ${label} | ${elements.toLocaleString('en-US')} | ${(native1.bestMs * 1000).toFixed(0)} | ${(native2.bestMs * 1000).toFixed(0)} | ${baseline === undefined ? '–' : (baseline.bestMs * 1000).toFixed(0)} | ${speedup} |`;
}

function withThreads(addon: NativeAddon, threads: number, run: () => void): Timing {
  addon.setThreads(threads);
  try {
    return time(run);
  } finally {
    addon.setThreads(1);
  }
}

function kernelTable(addon: NativeAddon): string[] {
  const lines = ['| kernel | elements | native 1T µs | native 2T µs | baseline µs | native 1T speed-up |', '| --- | ---: | ---: | ---: | ---: | --- |'];
  const both = (run: () => void) => [withThreads(addon, 1, run), withThreads(addon, 2, run)] as const;

  // Optimizer and helpers on 4 M parameters (a BERT-mini-and-a-half; BERT-base is 110 M).
  const n = 4_000_000;
  const p = randomArray(n, 3);
  const g = randomArray(n, 4, 1e-2);
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  const s = adamwScalars({ lr: 1e-3, step: 10, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, decays: true });
  const adamw = () => addon.adamwStep(p, g, m, v, s.decay, s.oneMinusBeta1, s.beta2, s.oneMinusBeta2, s.biasCorrection2Sqrt, s.eps, s.negStepSize);
  const [a1, a2] = both(adamw);
  lines.push(row('adamwStep', n, a1, a2, time(() => adamwReference(p, g, m, v, s), 1), 'JS fround loop'));
  const [x1, x2] = both(() => addon.axpy(p, 1e-3, g));
  lines.push(row('axpy', n, x1, x2, time(() => axpyReference(p, 1e-3, g), 1), 'JS fround loop'));
  const [q1, q2] = both(() => addon.sumSquares(g));
  lines.push(row('sumSquares (float64)', n, q1, q2, time(() => sumSquaresReference(g), 1), 'JS loop'));
  const [f1, f2] = both(() => addon.allFinite(g));
  lines.push(row('allFinite', n, f1, f2, time(() => g.every(Number.isFinite), 1), 'JS every'));
  const dst = new Float32Array(n);
  const [c1, c2] = both(() => addon.copy(dst, g));
  lines.push(row('copy', n, c1, c2, time(() => dst.set(g)), 'TypedArray.set'));

  // Elementwise layers at BERT-base sizes: 8 sequences × 128 tokens.
  const tokens = 1024;
  const hidden = 768;
  const inner = 3072;
  const x = randomArray(tokens * inner, 5);
  const bias = randomArray(inner, 6, 0.1);
  const y = new Float32Array(tokens * inner);
  const saved = new Float32Array(tokens * inner);
  const dx = new Float32Array(tokens * inner);
  const dbias = new Float32Array(inner);
  const [g1, g2] = both(() => addon.biasGeluForward(x, bias, tokens, inner, y, saved));
  lines.push(row('bias + GELU forward [1024,3072]', tokens * inner, g1, g2, undefined, ''));
  const [gb1, gb2] = both(() => addon.biasGeluBackward(x, saved, tokens, inner, dx, dbias, true));
  lines.push(row('GELU backward + dbias [1024,3072]', tokens * inner, gb1, gb2, undefined, ''));

  const h = randomArray(tokens * hidden, 7);
  const r = randomArray(tokens * hidden, 8);
  const gamma = randomArray(hidden, 9, 0.1).map((value) => value + 1);
  const beta = randomArray(hidden, 10, 0.1);
  const out = new Float32Array(tokens * hidden);
  const xhat = new Float32Array(tokens * hidden);
  const invStd = new Float32Array(tokens);
  const lnDx = new Float32Array(tokens * hidden);
  const dgamma = new Float32Array(hidden);
  const dbeta = new Float32Array(hidden);
  const [l1, l2] = both(() => addon.layerNormForward(h, r, gamma, beta, tokens, hidden, 1e-12, out, xhat, invStd));
  lines.push(row('residual + LayerNorm forward [1024,768]', tokens * hidden, l1, l2, undefined, ''));
  const [lb1, lb2] = both(() => addon.layerNormBackward(h, xhat, invStd, gamma, tokens, hidden, lnDx, dgamma, dbeta, false, true));
  lines.push(row('LayerNorm backward + dγ, dβ [1024,768]', tokens * hidden, lb1, lb2, undefined, ''));
  const [la1, la2] = both(() => addon.layerNormAffine(xhat, gamma, beta, tokens, hidden, out));
  lines.push(row('LayerNorm output from x̂ [1024,768]', tokens * hidden, la1, la2, undefined, ''));
  // 8 samples of 128 positions: one stream per sample, rows of `hidden` draws.
  const sampleSeeds = Uint32Array.from({ length: 8 }, (_, i) => 12345 + i);
  const [d1, d2] = both(() => addon.biasDropoutForward(h, beta, tokens, hidden, 0.1, sampleSeeds, tokens / 8, hidden, out));
  const dropoutMask = new Float32Array(tokens * hidden);
  lines.push(row('bias + dropout forward [1024,768]', tokens * hidden, d1, d2, time(() => fillGroupedDropoutMask(dropoutMask, hidden, 0.1, [...sampleSeeds]), 1), 'JS fillGroupedDropoutMask alone'));
  const [db1, db2] = both(() => addon.biasDropoutBackward(h, tokens, hidden, 0.1, sampleSeeds, tokens / 8, hidden, lnDx, dbeta, true));
  lines.push(row('dropout backward + dbias [1024,768]', tokens * hidden, db1, db2, undefined, ''));
  const [ba1, ba2] = both(() => addon.biasDropoutForward(h, beta, tokens, hidden, 0, null, tokens, hidden, out));
  lines.push(row('bias add (rate 0) [1024,768]', tokens * hidden, ba1, ba2, undefined, ''));

  const heads = 12;
  const length = 128;
  const rows = 8 * heads * length;
  const scores = randomArray(rows * length, 11, 3);
  const mask = new Float32Array(8 * length);
  for (let j = 100; j < length; j++) mask[7 * length + j] = -3.4e38;
  const probabilities = new Float32Array(rows * length);
  const sDx = new Float32Array(rows * length);
  const [s1, s2] = both(() => addon.softmaxForward(scores, rows, length, 0.125, mask, 8, heads * length, probabilities));
  lines.push(row('scale + mask + softmax forward [8,12,128,128]', rows * length, s1, s2, undefined, ''));
  const [sb1, sb2] = both(() => addon.softmaxBackward(scores, probabilities, rows, length, 0.125, sDx));
  lines.push(row('softmax backward [8,12,128,128]', rows * length, sb1, sb2, undefined, ''));
  // One stream per sample and head, rows of max_position_embeddings (512) draws.
  const headSeeds = Uint32Array.from({ length: 8 * heads }, (_, i) => 777 + i);
  const [pd1, pd2] = both(() => addon.biasDropoutForward(probabilities, null, rows, length, 0.1, headSeeds, length, 512, sDx));
  lines.push(row('dropout of probabilities [8,12,128,128]', rows * length, pd1, pd2, undefined, ''));
  return lines;
}

const status = nativeAddonStatus();
const addon = loadNativeAddon();
if (addon === undefined) {
  console.error(`native addon unavailable: ${status.reason}`);
  process.exit(1);
}
console.log(`## Native host kernels (fp32 ${addon.isa()}, bf16 ${addon.bf16Isa()}, elementwise ${addon.kernelIsa()})\n`);
console.log(`${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}; Node ${process.version}; load before ${loadavg().map((value) => value.toFixed(2)).join(' ')}\n`);
if (only === undefined || only === 'gemm') {
  console.log('GEMM GFLOP/s (2·batch·M·K·N per second; "best" = fastest call, "/CPU-s" = per second of process CPU time):\n');
  console.log(gemmTable(addon).join('\n'));
  console.log('');
}
if (only === undefined || only === 'kernels') {
  console.log('Host kernels, best time per call:\n');
  console.log(kernelTable(addon).join('\n'));
}
console.log(`\nload after ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
