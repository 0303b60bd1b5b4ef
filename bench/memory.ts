/**
 * Where the bytes of a training run go, by category (the memory-ceiling issue): for a BERT
 * shape and micro-batch sizes, one AdamW training step's
 *
 *   parameters (host store) · gradient buffers (host) · optimizer state (host, AdamW m and v) ·
 *   heap mirrors of parameters · activations (peak heap tensors of a forward + backward beyond
 *   the mirrors) · heap workspace (the wasm heap's size beyond the peak tensors: allocator and
 *   TF.js buffers) · everything else in the process (Node, V8, code) = peak RSS − the above.
 *
 *   node dist/bench/memory.js [mini|base] [vocab=4000] [tokens=128] 8 16 …   → markdown + a JSON line
 *
 * Each micro-batch size is measured in a fresh process (the wasm heap never shrinks).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { asWasmBackend } from '../src/backend/wasmHeap.js';
import { selectBackend } from '../src/node/backend.js';
import { createOptimizer } from '../src/optim/index.js';
import { GradientStore } from '../src/train/store.js';
import { benchClassifier, syntheticMicroBatches, type BertShape } from './profile-model-step.js';

export interface MemoryBreakdown {
  shape: BertShape;
  vocab: number;
  tokens: number;
  microBatch: number;
  parameterCount: number;
  parametersBytes: number;
  gradientsBytes: number;
  optimizerBytes: number;
  mirrorsBytes: number;
  activationsBytes: number;
  heapWorkspaceBytes: number;
  heapBytes: number;
  otherBytes: number;
  peakRssBytes: number;
  backend: string;
}

/** Measures one micro-batch size in this process. */
async function measure(shape: BertShape, vocab: number, tokens: number, microBatch: number): Promise<MemoryBreakdown> {
  const backend = await selectBackend('wasm', { log: () => {} });
  const model = benchClassifier(shape, vocab, 0.1);
  const grads = new GradientStore(model.parameters.layout);
  const optimizer = createOptimizer({ kind: 'adamw', weightDecay: 0.01 });
  const samples = syntheticMicroBatches({ microBatch, minLength: tokens, maxLength: tokens, vocab }, 1)[0]!;
  const pass = () => model.accumulateGradients(samples, grads, { factor: 1 / microBatch, training: true, dropoutSeeds: samples.map((_, i) => i), epoch: 0 });
  pass();
  optimizer.step(grads.pairWith(model.parameters), 1e-5);
  model.parameters.markUpdated();
  grads.zero();
  // The mirrors a pass makes (small parameters, or all of them without host weights), then the pass's peak.
  model.parameters.releaseMirrors();
  const profile = await tf.profile(() => {
    pass();
  });
  const mirrorsBytes = model.parameters.mirrorBytes();
  const heapBytes = asWasmBackend(tf.backend()).wasm.HEAPF32.buffer.byteLength;
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  const parametersBytes = model.parameters.values.data.byteLength;
  const gradientsBytes = grads.arena.data.byteLength;
  const optimizerBytes = optimizer.stateBytes();
  const activationsBytes = profile.peakBytes - mirrorsBytes;
  return {
    shape,
    vocab,
    tokens,
    microBatch,
    parameterCount: model.parameters.layout.size,
    parametersBytes,
    gradientsBytes,
    optimizerBytes,
    mirrorsBytes,
    activationsBytes,
    heapWorkspaceBytes: heapBytes - profile.peakBytes,
    heapBytes,
    otherBytes: peakRssBytes - parametersBytes - gradientsBytes - optimizerBytes - heapBytes,
    peakRssBytes,
    backend: backend.detail,
  };
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

export function formatBreakdowns(rows: MemoryBreakdown[]): string {
  const first = rows[0]!;
  return [
    `BERT-${first.shape} (${(first.parameterCount / 1e6).toFixed(1)} M parameters, vocabulary ${first.vocab}), ${first.tokens} tokens per sample, AdamW; ${first.backend}`,
    '',
    '| MiB | ' + rows.map((row) => `micro-batch ${row.microBatch}`).join(' | ') + ' |',
    '| --- |' + ' ---: |'.repeat(rows.length),
    ...(
      [
        ['parameters (host)', 'parametersBytes'],
        ['gradient buffers (host)', 'gradientsBytes'],
        ['optimizer state (host)', 'optimizerBytes'],
        ['parameter mirrors (heap)', 'mirrorsBytes'],
        ['activations (heap)', 'activationsBytes'],
        ['heap workspace', 'heapWorkspaceBytes'],
        ['Node, V8, code', 'otherBytes'],
        ['**peak RSS**', 'peakRssBytes'],
      ] as const
    ).map(([label, key]) => `| ${label} | ${rows.map((row) => mib(row[key])).join(' | ')} |`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [shapeArg, vocabArg, tokensArg, ...sizes] = process.argv.slice(2);
  const shape = (shapeArg ?? 'base') as BertShape;
  const vocab = Number(vocabArg ?? 4000);
  const tokens = Number(tokensArg ?? 128);
  if (process.env.MICROBATCH_MEMORY_CHILD === '1') {
    console.log(JSON.stringify(await measure(shape, vocab, tokens, Number(sizes[0]))));
  } else {
    const rows = (sizes.length > 0 ? sizes : ['8']).map((size) => {
      const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), shape, String(vocab), String(tokens), size], {
        env: { ...process.env, MICROBATCH_MEMORY_CHILD: '1' },
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      if (child.status !== 0) throw new Error(`micro-batch ${size} failed:\n${child.stderr}`);
      return JSON.parse(child.stdout.trim().split('\n').pop()!) as MemoryBreakdown;
    });
    console.log(formatBreakdowns(rows));
    console.log(JSON.stringify(rows));
  }
}
