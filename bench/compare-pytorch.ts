/**
 * Checks microbatch's BERT against an independent PyTorch implementation that uses Hugging
 * Face's module names (bench/hf_reference.py): saves a randomly initialised classifier as an
 * HF checkpoint, loads it there with load_state_dict(strict=True) — every name and [out, in]
 * shape must be what HF expects — and compares the logits of real bundled texts of different
 * lengths (so padding and the attention mask matter). Needs /usr/bin/python3 with torch.
 *
 *   npm run build && node dist/bench/compare-pytorch.js [wasm|cpu]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../src/backend/select.js';
import { saveBertCheckpoint } from '../src/bert/checkpoint.js';
import { BERT_CONFIG_DEFAULTS, parseBertConfig } from '../src/bert/config.js';
import { BertForSequenceClassification } from '../src/bert/model.js';
import { BertTokenizer } from '../src/bert/tokenizer.js';
import { readLabelledFile } from '../src/data/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const backend = (process.argv[2] ?? 'wasm') as 'wasm' | 'cpu';
await selectBackend(backend);
const vocabDir = path.join(root, 'data', 'default-model');
const tokenizer = BertTokenizer.fromDirectory(vocabDir);
const config = parseBertConfig(
  // A larger initialiser than HF's 0.02 so that the logits are far from zero and differ per text.
  { ...BERT_CONFIG_DEFAULTS, vocab_size: tokenizer.vocabSize, hidden_size: 64, num_hidden_layers: 3, num_attention_heads: 4, intermediate_size: 128, initializer_range: 0.3 },
  'compare-pytorch',
);
const labels = ['a', 'b', 'c'];
const model = BertForSequenceClassification.create(config, { numLabels: labels.length, seed: 7 });
const texts = readLabelledFile(path.join(root, 'data', 'spam', 'train.jsonl')).rows.slice(0, 8);
const examples = texts.map((row, i) => ({ ids: tokenizer.encode(row.text, { maxLength: 16 + 12 * i }).ids, label: 0 }));

const dir = mkdtempSync(path.join(tmpdir(), 'microbatch-compare-'));
await saveBertCheckpoint(dir, model, { labels, tokenizerFilesFrom: vocabDir });
copyFileSync(path.join(vocabDir, 'vocab.txt'), path.join(dir, 'vocab.txt'));
const idsFile = path.join(dir, 'ids.json');
writeFileSync(idsFile, JSON.stringify(examples.map((example) => example.ids)));

const logitsTensor = model.logits(examples);
const ours = logitsTensor.arraySync();
logitsTensor.dispose();
const child = spawnSync('/usr/bin/python3', [path.join(root, 'bench', 'hf_reference.py'), dir, idsFile], { encoding: 'utf8' });
if (child.status !== 0) throw new Error(`PyTorch reference failed (is python3-torch installed?):\n${child.stderr}`);
const theirs = JSON.parse(child.stdout) as number[][];

let worst = 0;
let scale = 0;
ours.forEach((row, i) =>
  row.forEach((value, k) => {
    worst = Math.max(worst, Math.abs(value - theirs[i]![k]!));
    scale = Math.max(scale, Math.abs(theirs[i]![k]!));
  }),
);
console.log(`${examples.length} texts of ${examples.map((e) => e.ids.length).join('/')} tokens, backend ${backend}`);
console.log(`max |logit| ${scale.toFixed(4)}, max |microbatch − PyTorch| ${worst.toExponential(2)} (${(worst / scale).toExponential(2)} relative)`);
if (worst / scale > 1e-4) {
  console.log('MISMATCH');
  process.exitCode = 1;
}
