/**
 * TF.js peak tensor bytes of one training micro-batch (forward + backward, with parameters,
 * accumulation buffers and AdamW's two slots counted) for each micro-batch size given, at the
 * longest sequence of the bundled training data. Used by bench/run.ts.
 *
 *   node dist/bench/memory-peak.js MODEL_DIR 8 32   → {"8": bytes, "32": bytes}
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../src/backend/select.js';
import { BertTokenizer } from '../src/bert/tokenizer.js';
import { buildLabelMap, encodeRows, readLabelledFile } from '../src/data/index.js';
import { measureMicroBatchPeak } from '../src/train/autobatch.js';
import { prepareModel, readModelConfig } from '../src/train/finetune.js';

const [modelDir, ...sizes] = process.argv.slice(2);
if (modelDir === undefined || sizes.length === 0) throw new Error('usage: memory-peak MODEL_DIR SIZE...');
await selectBackend('wasm', { log: () => {} });
const root = fileURLToPath(new URL('../../', import.meta.url));
const data = readLabelledFile(path.join(root, 'data', 'spam', 'train.jsonl'));
const { labels, label2id } = buildLabelMap(data);
const examples = encodeRows(data, BertTokenizer.fromDirectory(modelDir), { maxLength: 128, label2id });
const longest = examples.reduce((best, example) => (example.ids.length > best.ids.length ? example : best));
const { model } = await prepareModel(modelDir, await readModelConfig(modelDir), labels, 0);
const paramBytes = model.params.reduce((sum, { variable }) => sum + variable.size * 4, 0);
const peaks: Record<string, number> = {};
for (const size of sizes) {
  peaks[size] = await measureMicroBatchPeak(
    { model, probeSamples: (count) => Array.from({ length: count }, () => longest), maxMicroBatch: Number(size), budgetBytes: Infinity, optimizerStateBytes: 2 * paramBytes },
    Number(size),
  );
}
console.log(JSON.stringify(peaks));
