/**
 * Checks every family × head against an independent PyTorch implementation written with
 * Hugging Face's module names (bench/hf_reference.py): the tiny checkpoints of
 * scripts/make-tiny-checkpoints.mjs (exactly HF's layout) are loaded here and there — there
 * with load_state_dict(strict=True), so every name and [out, in] shape must be what HF expects —
 * and the logits of real bundled texts of several lengths, padded into one batch, are compared.
 * Needs /usr/bin/python3 with torch (Debian's python3-torch); the product never does.
 *
 *   npm run build && node dist/bench/compare-pytorch.js [wasm|cpu]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModel, readConfig } from '../src/app/checkpoint.js';
import type { TaskName } from '../src/models/index.js';
import { selectBackend } from '../src/node/backend.js';
import { readTokenizerFiles, readWeights } from '../src/node/checkpoint.js';
import { readLabelledFile } from '../src/node/files.js';
import { loadTokenizer } from '../src/tokenizers/index.js';
import { makeTinyCheckpoints } from '../test/fixtures/tiny-checkpoints.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const backend = (process.argv[2] ?? 'wasm') as 'wasm' | 'cpu';
await selectBackend(backend, { log: () => {} });
const HEADS: Record<string, TaskName> = { 'sequence-classification': 'sequence-classification', 'token-classification': 'token-classification', 'masked-lm': 'masked-lm' };
const texts = (await readLabelledFile(path.join(root, 'data', 'spam', 'train.jsonl'))).rows.slice(0, 6).map((row) => row.text);
const work = mkdtempSync(path.join(tmpdir(), 'microbatch-compare-'));
const folders = (await makeTinyCheckpoints(work, { seed: 1 })).filter((folder) => folder.head in HEADS && folder.variant === null);

console.log(`| family | head | tokens per text | max |logit| | max |microbatch − PyTorch| | relative |`);
console.log('| --- | --- | --- | ---: | ---: | ---: |');
let worstRelative = 0;
for (const folder of folders) {
  const { family, config } = readConfig(JSON.parse(readFileSync(path.join(folder.dir, 'config.json'), 'utf8')), folder.dir);
  const task = HEADS[folder.head]!;
  const tokenizer = loadTokenizer(await readTokenizerFiles(folder.dir), family.modelType, folder.dir);
  const weights = (await readWeights(folder.dir))!;
  const { model } = buildModel(family, config, { task, labels: config.labels ?? [], tensors: weights.tensors, source: weights.file, mask: ((sample: never) => sample) as never });
  const lengthLimit = Math.min(config.maxPositions - (config.positionStyle === 'padding-offset' ? config.padTokenId + 1 : 0), 36);
  const inputs = texts.map((text, i) => tokenizer.encode(text, { maxLength: 6 + Math.floor(((lengthLimit - 6) * i) / (texts.length - 1)) }));
  const ours = model.logits(inputs);
  const idsFile = path.join(work, `${folder.name}-ids.json`);
  writeFileSync(idsFile, JSON.stringify(inputs.map((input) => input.ids)));
  const child = spawnSync('/usr/bin/python3', [path.join(root, 'bench', 'hf_reference.py'), '--model', folder.dir, '--ids-json', idsFile], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (child.status !== 0) throw new Error(`PyTorch reference failed for ${folder.name} (is python3-torch installed?):\n${child.stderr}`);
  const reference = (JSON.parse(child.stdout) as { logits: number[][] | number[][][] }).logits;
  let worst = 0;
  let scale = 0;
  ours.forEach((rows, sample) =>
    rows.forEach((row, position) => {
      const theirs = task === 'sequence-classification' ? (reference[sample] as number[]) : (reference[sample] as number[][])[position]!;
      row.forEach((value, k) => {
        worst = Math.max(worst, Math.abs(value - theirs[k]!));
        scale = Math.max(scale, Math.abs(theirs[k]!));
      });
    }),
  );
  worstRelative = Math.max(worstRelative, worst / scale);
  console.log(`| ${family.modelType} | ${task} | ${inputs.map((input) => input.ids.length).join('/')} | ${scale.toFixed(3)} | ${worst.toExponential(2)} | ${(worst / scale).toExponential(2)} |`);
  model.dispose();
}
console.log(`\nbackend ${backend}; worst relative difference ${worstRelative.toExponential(2)} (target ≤ 1e-5)`);
if (worstRelative > 1e-5) process.exitCode = 1;
