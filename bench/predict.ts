/**
 * Predict throughput of a trained classifier over the bundled evaluation set (440 e-mails,
 * --max-length 128, batches of 32, tokenization included, model loading excluded): TF.js wasm
 * (with and without the native matMul addon) against onnxruntime-node on its export (float32
 * and int8, 1 and 2 threads) and transformers.js' pipeline on the same folder. Also the
 * accuracy of each and how many labels agree with TF.js'.
 *
 *   node bin/microbatch.mjs train --out runs/demo          # the demo model (~30 s)
 *   npm run build && node dist/bench/predict.js runs/demo [--runs 5] [--rounds 3]
 *
 * Each engine runs in its own child process (one warm-up pass, then --runs timed passes), so
 * thread settings and heaps do not leak between them; --rounds (default 3) repeats the whole
 * list, interleaving the engines. The median and the best pass are reported: on a shared,
 * noisy machine the best is the closer estimate of what the engine can do.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { predictClassifier } from '../src/app/evaluate.js';
import { selectBackend } from '../src/node/backend.js';
import { exportModel } from '../src/node/export.js';
import { readLabelledFile } from '../src/node/files.js';
import { loadTrainedModel } from '../src/node/models.js';
import { OnnxModelSession } from '../src/node/onnxRuntime.js';
import type { SequenceClassifier } from '../src/tasks/model.js';
import { median } from './profile-kernels.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const MAX_LENGTH = 128;
const BATCH = 32;

interface EngineResult {
  engine: string;
  detail: string;
  seconds: number[];
  labels: string[];
}

type EngineName = 'tokenize only' | 'tfjs-wasm' | 'tfjs-native-1' | 'tfjs-native-2' | 'ort-fp32-1' | 'ort-fp32-2' | 'ort-int8-1' | 'ort-int8-2' | 'transformers.js-fp32' | 'transformers.js-q8';
const ENGINES: EngineName[] = ['tokenize only', 'tfjs-wasm', 'tfjs-native-1', 'tfjs-native-2', 'ort-fp32-1', 'ort-fp32-2', 'ort-int8-1', 'ort-int8-2', 'transformers.js-fp32', 'transformers.js-q8'];

async function timed(runs: number, pass: () => Promise<string[]>): Promise<{ seconds: number[]; labels: string[] }> {
  let labels = await pass();
  const seconds: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = process.hrtime.bigint();
    labels = await pass();
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return { seconds, labels };
}

/** One engine, in this (child) process. */
async function runEngine(engine: EngineName, modelDir: string, exportDir: string, texts: string[], runs: number): Promise<EngineResult> {
  if (engine === 'tokenize only') {
    // What every row below includes: our WordPiece over the 440 texts.
    const { tokenizer, labels } = await loadTrainedModel<SequenceClassifier>(modelDir, 'sequence-classification');
    const pass = async () => texts.map((text) => labels[tokenizer.encode(text, { maxLength: MAX_LENGTH }).ids.length % labels.length]!);
    return { engine, detail: 'microbatch WordPiece, no model', ...(await timed(runs, pass)) };
  }
  if (engine.startsWith('tfjs')) {
    const selected = await selectBackend('wasm', { log: () => {}, nativeThreads: engine === 'tfjs-native-2' ? 2 : 1 });
    if (engine !== 'tfjs-wasm' && !selected.native) throw new Error(`${engine}: the native addon is not built (node scripts/build-native.mjs)`);
    const { model, tokenizer, labels } = await loadTrainedModel<SequenceClassifier>(modelDir, 'sequence-classification');
    const pass = async () => predictClassifier(model, texts.map((text) => tokenizer.encode(text, { maxLength: MAX_LENGTH })), BATCH).map((prediction) => labels[prediction.label]!);
    return { engine, detail: selected.detail, ...(await timed(runs, pass)) };
  }
  if (engine.startsWith('ort')) {
    const threads = Number(engine.slice(-1));
    const session = await OnnxModelSession.load(exportDir, { quantized: engine.includes('int8'), threads });
    const pass = async () => (await session.predict(texts.map((text) => session.tokenizer.encode(text, { maxLength: MAX_LENGTH })), BATCH)).map((prediction) => session.labels[prediction.label]!);
    const result = await timed(runs, pass);
    await session.dispose();
    return { engine, detail: `onnxruntime-node, ${path.basename(session.file)}, ${threads} intra-op thread${threads === 1 ? '' : 's'}`, ...result };
  }
  const { pipeline, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  const dtype = engine.endsWith('q8') ? 'q8' : 'fp32';
  const classifier = (await pipeline('text-classification', exportDir, { dtype })) as unknown as (texts: string[]) => Promise<{ label: string }[]>;
  const pass = async () => {
    const labels: string[] = [];
    for (let start = 0; start < texts.length; start += BATCH) labels.push(...(await classifier(texts.slice(start, start + BATCH))).map((result) => result.label));
    return labels;
  };
  return { engine, detail: `transformers.js pipeline('text-classification'), dtype ${dtype}, its default threads`, ...(await timed(runs, pass)) };
}

const args = process.argv.slice(2);
const child = args.indexOf('--child');
if (child >= 0) {
  const [engine, modelDir, exportDir, runs] = args.slice(child + 1) as [EngineName, string, string, string];
  const data = await readLabelledFile(path.join(root, 'data', 'spam', 'eval.jsonl'));
  const result = await runEngine(engine, modelDir, exportDir, data.rows.map((row) => row.text), Number(runs));
  process.stdout.write(JSON.stringify(result) + '\n');
} else {
  const modelDir = args.find((arg) => !arg.startsWith('--'));
  if (modelDir === undefined) throw new Error('usage: node dist/bench/predict.js RUN_DIR [--runs N]');
  const runsFlag = args.indexOf('--runs');
  const runs = runsFlag >= 0 ? Number(args[runsFlag + 1]) : 5;
  const exportDir = path.join(mkdtempSync(path.join(tmpdir(), 'microbatch-predict-bench-')), 'export');
  await exportModel(modelDir, exportDir, { format: 'onnx', quantize: 'int8' });
  const data = await readLabelledFile(path.join(root, 'data', 'spam', 'eval.jsonl'));
  const gold = data.rows.map((row) => row.label);
  const roundsFlag = args.indexOf('--rounds');
  const rounds = roundsFlag >= 0 ? Number(args[roundsFlag + 1]) : 3;
  const byEngine = new Map<string, EngineResult>();
  // Rounds interleave the engines, so that a burst of load elsewhere does not land on one engine only.
  for (let round = 0; round < rounds; round++) {
    for (const engine of ENGINES) {
      const env = { ...process.env, ...(engine === 'tfjs-wasm' ? { MICROBATCH_NATIVE: '0' } : {}) };
      const output = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', engine, modelDir, exportDir, String(runs)], { encoding: 'utf8', maxBuffer: 1 << 26, env });
      if (output.status !== 0) {
        if (round === 0) console.error(`${engine}: skipped (${output.stderr.trim().split('\n').pop()})`);
        continue;
      }
      const result = JSON.parse(output.stdout.trim().split('\n').pop()!) as EngineResult;
      const known = byEngine.get(engine);
      if (known === undefined) byEngine.set(engine, result);
      else known.seconds.push(...result.seconds);
    }
  }
  const results = [...byEngine.values()];
  const reference = results.find((result) => result.engine === 'tfjs-wasm')!;
  const sizes = (name: string) => (readFileSync(path.join(exportDir, 'onnx', name)).byteLength / 1e6).toFixed(1);
  console.log(`${data.rows.length} texts of ${path.join('data', 'spam', 'eval.jsonl')}, --max-length ${MAX_LENGTH}, batches of ${BATCH}; ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}; Node ${process.version}`);
  console.log(`model ${modelDir}; export onnx/model.onnx ${sizes('model.onnx')} MB, onnx/model_quantized.onnx ${sizes('model_quantized.onnx')} MB; ${rounds} rounds × ${runs} timed passes per engine, each round after a warm-up pass\n`);
  console.log('| engine | texts/s (median) | texts/s (best) | pass time median (s) | accuracy | labels as TF.js | detail |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const result of results) {
    const seconds = median(result.seconds);
    const best = Math.min(...result.seconds);
    const scored = result.engine !== 'tokenize only';
    const accuracy = result.labels.filter((label, i) => label === gold[i]).length / gold.length;
    const agree = result.labels.filter((label, i) => label === reference.labels[i]).length;
    console.log(
      `| ${result.engine} | ${(data.rows.length / seconds).toFixed(0)} | ${(data.rows.length / best).toFixed(0)} | ${seconds.toFixed(3)} | ${scored ? `${(100 * accuracy).toFixed(2)} %` : '–'} | ${scored ? `${agree}/${gold.length}` : '–'} | ${result.detail} |`,
    );
  }
}
