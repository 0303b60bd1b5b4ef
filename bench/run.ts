/**
 * `npm run bench`: the benchmarks of BENCHMARKS.md, printed as markdown.
 *
 *   1. BERT-mini epoch through the CLI: microbatch (fast kernels, all cores) vs stock TF.js
 *      (same backend, no fast kernels, one worker) vs PyTorch on the same job, when
 *      `/usr/bin/python3 -c "import torch"` works (Debian python3-torch; reference only).
 *   2. Accumulation overhead: micro-batch 8 × 4 per step vs plain batch-8 steps, same samples.
 *   3. Peak memory: micro-batch 8 × batch 32 vs plain batch 32 (RSS and TF.js peak tensor bytes).
 *   4. The embedded default demo, end to end.
 *   5. The kernel table (bench/kernels.ts).
 *
 * Every measurement runs in its own child process, so one run's heap does not colour the next.
 *   6. Both sizes in one run (BERT-mini and bert-base): microbatch fp32 and bf16 autocast, with
 *      the default worker count and one worker, vs PyTorch fp32 and bf16 autocast: whole
 *      process, training time and peak RSS.
 *
 * Flags: --quick (fewer repetitions), --only=epoch,overhead,memory,demo,kernels,sizes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './profile-kernels.js';
import { BERT_SHAPES } from './profile-model-step.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = path.join(root, 'bin', 'microbatch.mjs');
const rssReporter = path.join(root, 'bench', 'report-rss.mjs');
const quick = process.argv.includes('--quick');
const onlyArg = process.argv.find((arg) => arg.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',')) : undefined;
const wanted = (name: string) => only === undefined || only.has(name);
const repeats = quick ? 1 : 3;
const work = mkdtempSync(path.join(tmpdir(), 'microbatch-bench-'));
const trainData = path.join(root, 'data', 'spam', 'train.jsonl');

/** BERT-mini (google/bert_uncased_L-4_H-256_A-4 shape) over the bundled default vocabulary. */
function bertMiniDir(): string {
  return bertDir('mini');
}

/** A BERT of `shape` (BERT-mini, or bert-base: 12 layers, hidden 768) over the bundled default vocabulary, fresh weights. */
function bertDir(shape: 'mini' | 'base'): string {
  const dir = path.join(work, `bert-${shape}`);
  mkdirSync(dir, { recursive: true });
  const vocab = path.join(root, 'data', 'default-model', 'vocab.txt');
  const vocabSize = readFileSync(vocab, 'utf8').split('\n').filter((line) => line !== '').length;
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ model_type: 'bert', architectures: ['BertForSequenceClassification'], vocab_size: vocabSize, ...BERT_SHAPES[shape] }),
  );
  for (const file of ['vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
    copyFileSync(path.join(root, 'data', 'default-model', file), path.join(dir, file));
  }
  return dir;
}

interface RunResult {
  wallSeconds: number;
  maxRssBytes: number;
  summary: { train_seconds: number; samples: number; micro_batch: number; backend_detail: string; epochs: { steps: number }[]; eval?: { accuracy: number } };
}

/** Runs `microbatch train …` in a child process; returns wall time, peak RSS and summary.json. */
function train(args: string[], env: Record<string, string> = {}): RunResult {
  const out = mkdtempSync(path.join(work, 'run-'));
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--import', rssReporter, cli, 'train', ...args, '--out', out], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  const wallSeconds = (performance.now() - started) / 1000;
  if (child.status !== 0) throw new Error(`microbatch train ${args.join(' ')} failed:\n${child.stderr}`);
  const rssLine = child.stderr.split('\n').find((line) => line.startsWith('{"maxRssBytes"'));
  return {
    wallSeconds,
    maxRssBytes: rssLine ? (JSON.parse(rssLine) as { maxRssBytes: number }).maxRssBytes : Number.NaN,
    summary: JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as RunResult['summary'],
  };
}

/** The run whose training time is the median of `repeats` runs. */
function medianRun(args: string[], env: Record<string, string> = {}, count = repeats): RunResult {
  const runs = Array.from({ length: count }, () => train(args, env));
  const target = median(runs.map((run) => run.summary.train_seconds));
  return runs.reduce((best, run) => (Math.abs(run.summary.train_seconds - target) < Math.abs(best.summary.train_seconds - target) ? run : best));
}

function torchAvailable(): boolean {
  if (!existsSync('/usr/bin/python3')) return false;
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
}

/** Tokenises the training data exactly as `train` does, for the PyTorch reference. */
async function pretokenize(modelDir: string, maxLength: number, dataFile = trainData): Promise<string> {
  const { loadTokenizer } = await import('../src/tokenizers/index.js');
  const { readTokenizerFiles } = await import('../src/node/checkpoint.js');
  const { buildLabelMap, encodeRows } = await import('../src/app/data/index.js');
  const { readLabelledFile } = await import('../src/node/files.js');
  const tokenizer = loadTokenizer(await readTokenizerFiles(modelDir), 'bert', modelDir);
  const data = await readLabelledFile(dataFile);
  const { labels, label2id } = buildLabelMap(data);
  const examples = encodeRows(data, tokenizer, { maxLength, label2id }).map(({ ids, label }) => ({ ids, label }));
  const file = path.join(work, `train-ids-${path.basename(dataFile)}-${path.basename(modelDir)}.json`);
  writeFileSync(file, JSON.stringify({ examples, num_labels: labels.length }));
  return file;
}

interface TorchResult {
  max_rss_bytes?: number;
  train_seconds: number;
  process_seconds: number;
  samples_per_second: number;
}

/**
 * PyTorch configurations tried; the fastest is the reference. Debian's torch links OpenBLAS's
 * pthread build, whose own thread pool (OPENBLAS_NUM_THREADS) is separate from torch's
 * intra-op threads: both settings are reported, since either can win on a given machine.
 */
const TORCH_CONFIGS: { name: string; threads: number; env: Record<string, string> }[] = [
  { name: 'PyTorch, torch 1 thread (OpenBLAS default threads)', threads: 1, env: {} },
  { name: 'PyTorch, torch 1 thread, OpenBLAS 1 thread', threads: 1, env: { OPENBLAS_NUM_THREADS: '1' } },
  { name: 'PyTorch, torch 2 threads, OpenBLAS 1 thread', threads: 2, env: { OPENBLAS_NUM_THREADS: '1' } },
];

function runTorch(modelDir: string, idsFile: string, threads: number, env: Record<string, string>, count = repeats, extra: string[] = []): TorchResult & { wallSeconds: number } {
  const runs = Array.from({ length: count }, () => {
    const started = performance.now();
    const child = spawnSync(
      '/usr/bin/python3',
      [path.join(root, 'bench', 'pytorch_bert_mini.py'), '--config', path.join(modelDir, 'config.json'), '--data', idsFile, '--threads', String(threads), ...extra],
      { encoding: 'utf8', env: { ...process.env, ...env } },
    );
    if (child.status !== 0) throw new Error(`pytorch reference failed:\n${child.stderr}`);
    return { ...(JSON.parse(child.stdout.trim().split('\n').pop()!) as TorchResult), wallSeconds: (performance.now() - started) / 1000 };
  });
  const target = median(runs.map((run) => run.train_seconds));
  return runs.reduce((best, run) => (Math.abs(run.train_seconds - target) < Math.abs(best.train_seconds - target) ? run : best));
}

const fmt = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const mib = (bytes: number) => fmt(bytes / 1024 ** 2, 0);

async function main(): Promise<void> {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# microbatch benchmarks\n`);
  console.log(`Machine: ${cpus().length} cores (${cpu}), ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}. Command: \`npm run bench${quick ? ' -- --quick' : ''}\`. Medians of ${repeats} runs.\n`);
  const mini = bertMiniDir();
  const base = ['--data', trainData, '--model', mini, '--epochs', '1', '--micro-batch', '8', '--batch', '32', '--max-length', '128', '--backend', 'wasm'];

  if (wanted('epoch')) {
    console.log('## BERT-mini, one epoch of the bundled 110 training samples through the CLI\n');
    console.log('4 layers, hidden 256, intermediate 1024, 4 heads, max length 128 (mean ≈ 118 tokens), micro-batch 8, batch 32, AdamW, clip 1.0.\n');
    const fast = medianRun([...base, '--workers', String(cpus().length)]);
    const fastOne = medianRun([...base, '--workers', '1']);
    const noNative = medianRun([...base, '--workers', String(cpus().length)], { MICROBATCH_NATIVE: '0' });
    const stock = medianRun([...base, '--workers', '1'], { MICROBATCH_FAST_KERNELS: '0' }, 1);
    console.log('| run | training s | samples/s | whole process s | vs stock |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    const row = (name: string, run: { train: number; wall: number; samples: number }, stockTrain: number) =>
      console.log(`| ${name} | ${fmt(run.train)} | ${fmt(run.samples / run.train, 1)} | ${fmt(run.wall)} | ${fmt(stockTrain / run.train, 1)}× |`);
    const asRow = (run: RunResult) => ({ train: run.summary.train_seconds, wall: run.wallSeconds, samples: run.summary.samples });
    row('stock TF.js wasm, 1 worker', asRow(stock), stock.summary.train_seconds);
    row('microbatch, 1 worker', asRow(fastOne), stock.summary.train_seconds);
    row(`microbatch, ${cpus().length} workers`, asRow(fast), stock.summary.train_seconds);
    row(`microbatch, ${cpus().length} workers, without the native addon (MICROBATCH_NATIVE=0)`, asRow(noNative), stock.summary.train_seconds);
    if (torchAvailable()) {
      const ids = await pretokenize(mini, 128);
      const torchRuns = TORCH_CONFIGS.map((config) => ({ ...config, run: runTorch(mini, ids, config.threads, config.env) }));
      for (const { name, run } of torchRuns) {
        row(name, { train: run.train_seconds, wall: run.wallSeconds, samples: 110 }, stock.summary.train_seconds);
      }
      const best = torchRuns.reduce((a, b) => (b.run.wallSeconds < a.run.wallSeconds ? b : a));
      console.log(
        `\nBackends: stock = \`${stock.summary.backend_detail}\`; microbatch 1 worker = \`${fastOne.summary.backend_detail}\`; ` +
          `${cpus().length} workers = \`${fast.summary.backend_detail}\` each.`,
      );
      console.log(
        `\nmicrobatch (${cpus().length} workers) / fastest PyTorch (${best.name}): ` +
          `training ${fmt(fast.summary.train_seconds / best.run.train_seconds)}×, whole process ${fmt(fast.wallSeconds / best.run.wallSeconds)}× (target ≤ 3×).`,
      );
    } else {
      console.log('\nPyTorch reference skipped: `/usr/bin/python3 -c "import torch"` failed (apt-get install python3-torch libopenblas0-pthread).');
    }
    console.log();
  }

  if (wanted('overhead')) {
    console.log('## Accumulation overhead (BERT-mini, 1 worker, 3 epochs = 330 samples)\n');
    const common = ['--data', trainData, '--model', mini, '--epochs', '3', '--max-length', '128', '--backend', 'wasm', '--workers', '1', '--micro-batch', '8'];
    const accumulated = medianRun([...common, '--batch', '32']);
    const plain = medianRun([...common, '--batch', '8']);
    const perSample = (run: RunResult) => (run.summary.train_seconds / (run.summary.samples * 3)) * 1000;
    console.log('| run | steps | training s | ms/sample |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(`| micro 8 × 4 (batch 32) | ${accumulated.summary.epochs.reduce((s, e) => s + e.steps, 0)} | ${fmt(accumulated.summary.train_seconds)} | ${fmt(perSample(accumulated), 1)} |`);
    console.log(`| plain batch 8 | ${plain.summary.epochs.reduce((s, e) => s + e.steps, 0)} | ${fmt(plain.summary.train_seconds)} | ${fmt(perSample(plain), 1)} |`);
    console.log(`\nOverhead of accumulation: ${fmt((accumulated.summary.train_seconds / plain.summary.train_seconds - 1) * 100, 1)}% (goal ≤ 5%; negative means accumulating is cheaper: 4× fewer optimizer steps).\n`);
  }

  if (wanted('memory')) {
    console.log('## Peak memory (BERT-mini, 1 worker, one epoch)\n');
    const common = ['--data', trainData, '--model', mini, '--epochs', '1', '--max-length', '128', '--backend', 'wasm', '--workers', '1', '--batch', '32'];
    const micro = medianRun([...common, '--micro-batch', '8'], {}, 1);
    const plain = medianRun([...common, '--micro-batch', '32'], {}, 1);
    const peaks = heapPeaks('mini', [8, 32]);
    console.log('| run | peak RSS MiB | peak heap tensors MiB (one micro-batch fwd+bwd at 128 tokens) |');
    console.log('| --- | ---: | ---: |');
    console.log(`| micro 8 × batch 32 | ${mib(micro.maxRssBytes)} | ${mib(peaks[8]!)} |`);
    console.log(`| plain batch 32 | ${mib(plain.maxRssBytes)} | ${mib(peaks[32]!)} |`);
    console.log(`\nRatio: RSS ${fmt(micro.maxRssBytes / plain.maxRssBytes)}, heap tensors ${fmt(peaks[8]! / peaks[32]!)} (goal ≤ 0.6).\n`);
  }

  if (wanted('demo')) {
    console.log('## Embedded default demo (`npm run demo`: 2 layers, hidden 128, 12 epochs × 110 samples, then 440 evaluated)\n');
    const demo = medianRun(['--backend', 'wasm'], {}, quick ? 1 : 2);
    console.log(`Whole process ${fmt(demo.wallSeconds, 1)} s, training ${fmt(demo.summary.train_seconds, 1)} s, eval accuracy ${fmt(demo.summary.eval?.accuracy ?? Number.NaN, 4)} (goal: under 2 minutes, accuracy ≥ 0.75).\n`);
  }

  if (wanted('sizes')) await sizes();

  if (wanted('kernels')) {
    const child = spawnSync(process.execPath, [path.join(root, 'dist', 'bench', 'kernels.js'), ...(quick ? ['--quick'] : [])], { cwd: root, encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`kernel benchmark failed:\n${child.stderr}`);
    console.log(child.stdout);
  }
}

/**
 * Issue 12's comparison in one run. The jobs: BERT-mini over the 110 bundled samples (micro-batch
 * 8, batch 32) and bert-base over the first 32 of them (micro-batch 8, batch 16) — the job of the
 * issue's table: ~118 tokens per sample, AdamW, one epoch, no shuffle. PyTorch runs the same job
 * (bench/pytorch_bert_mini.py) with 2 torch threads and OpenBLAS pinned to 1 thread (fp32; the
 * issue's reference) and in bf16 autocast.
 */
async function sizes(): Promise<void> {
  const cores = cpus().length;
  const first32 = path.join(work, 'train32.jsonl');
  writeFileSync(first32, readFileSync(trainData, 'utf8').split('\n').filter((line) => line.trim() !== '').slice(0, 32).join('\n') + '\n');
  const jobs = [
    { shape: 'mini' as const, data: trainData, samples: 110, batch: 32, title: 'BERT-mini (4 layers, hidden 256), 110 samples, micro-batch 8, batch 32' },
    { shape: 'base' as const, data: first32, samples: 32, batch: 16, title: 'bert-base size (12 layers, hidden 768, 4000-piece vocabulary: 89 M parameters), 32 samples, micro-batch 8, batch 16' },
  ];
  console.log('## Both sizes, fp32 and bf16, against PyTorch (one run of `npm run bench -- --only=sizes`)\n');
  console.log('One epoch, AdamW, clip 1.0, max length 128 (≈ 118 tokens per sample), no shuffle, dropout 0.1, fresh weights. Whole process = wall time of the command, start to exit.\n');
  for (const job of jobs) {
    const model = bertDir(job.shape);
    const args = ['--data', job.data, '--model', model, '--epochs', '1', '--micro-batch', '8', '--batch', String(job.batch), '--max-length', '128', '--no-shuffle', '--backend', 'wasm'];
    const runs: { name: string; wall: number; train: number; rss: number; detail: string }[] = [];
    const ours = (name: string, extra: string[]) => {
      const run = medianRun([...args, ...extra]);
      runs.push({ name, wall: run.wallSeconds, train: run.summary.train_seconds, rss: run.maxRssBytes, detail: `${run.summary.backend_detail}, ${(run.summary as { workers?: number }).workers ?? '?'} worker(s)` });
    };
    ours('microbatch fp32, default settings', []);
    ours('microbatch fp32, --workers 1', ['--workers', '1']);
    ours(`microbatch fp32, --workers ${cores}`, ['--workers', String(cores)]);
    ours('microbatch bf16, default settings', ['--precision', 'bf16']);
    ours('microbatch bf16, --workers 1', ['--precision', 'bf16', '--workers', '1']);
    if (torchAvailable()) {
      const ids = await pretokenize(model, 128, job.data);
      const torch = (name: string, extra: string[]) => {
        const run = runTorch(model, ids, 2, { OPENBLAS_NUM_THREADS: '1' }, repeats, ['--micro-batch', '8', '--batch', String(job.batch), '--no-shuffle', ...extra]);
        runs.push({ name, wall: run.wallSeconds, train: run.train_seconds, rss: run.max_rss_bytes ?? Number.NaN, detail: '' });
      };
      torch('PyTorch fp32, 2 threads', []);
      torch('PyTorch bf16 autocast, 2 threads', ['--bf16']);
    }
    const reference = (precision: string) => runs.find((run) => run.name === `PyTorch ${precision === 'fp32' ? 'fp32' : 'bf16 autocast'}, 2 threads`);
    console.log(`### ${job.title}\n`);
    console.log('| run | whole process s | training s | samples/s | peak RSS MiB | vs PyTorch (same precision, whole process) |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const run of runs) {
      const against = reference(run.name.includes('bf16') ? 'bf16' : 'fp32');
      console.log(`| ${run.name} | ${fmt(run.wall)} | ${fmt(run.train)} | ${fmt(job.samples / run.train, 1)} | ${mib(run.rss)} | ${against !== undefined ? `${fmt(run.wall / against.wall)}×` : 'n/a'} |`);
    }
    console.log(`\nBackends: ${[...new Set(runs.filter((run) => run.detail !== '').map((run) => `${run.name}: \`${run.detail}\``))].join('; ')}.\n`);
  }
}

/** Peak heap tensor bytes (activations + parameter mirrors) of one training micro-batch per size, at 128 tokens (bench/memory.ts). */
function heapPeaks(shape: 'mini' | 'base', sizes: number[]): Record<number, number> {
  const child = spawnSync(process.execPath, [path.join(root, 'dist', 'bench', 'memory.js'), shape, '4000', '128', ...sizes.map(String)], { cwd: root, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`memory probe failed:\n${child.stderr}`);
  const rows = JSON.parse(child.stdout.trim().split('\n').pop()!) as { microBatch: number; activationsBytes: number; mirrorsBytes: number }[];
  return Object.fromEntries(rows.map((row) => [row.microBatch, row.activationsBytes + row.mirrorsBytes]));
}

await main();
