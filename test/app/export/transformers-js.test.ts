/**
 * Exports loaded by transformers.js (`@huggingface/transformers`) as a local model path with
 * remote models disabled: its text-classification, token-classification and fill-mask
 * pipelines on an export of every family × head give the labels and scores of our TF.js model
 * (softmax of its logits) within 1e-4. The texts are real bundled texts cut to several lengths
 * and go through each pipeline in one padded batch; they fit in the model, because
 * transformers.js truncates after adding the template (it cuts the final [SEP] / </s>) where HF
 * and we truncate before it.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { exportModel } from '../../../src/node/export.js';
import { useBackend } from '../../helpers/backend.js';
import { tempDir } from '../../helpers/tempdir.js';
import { argmax, bundledTexts, referenceModel, softmax, textsOfLengths, tinyHeadFolders } from './helpers.js';

await useBackend('wasm');
const { pipeline, env } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
const folders = await tinyHeadFolders();
const texts = bundledTexts(8);
const out = tempDir('export-transformers-js');
const TOLERANCE = 1e-4;

type Pipeline = ((texts: string[], options?: object) => Promise<unknown>) & { tokenizer: (texts: string[], options: object) => { input_ids: number[][] }; dispose(): Promise<void> };

/** The export of `folder` loaded by a transformers.js pipeline, with our reference model and texts of several lengths. */
async function setUp(name: string, task: 'text-classification' | 'token-classification' | 'fill-mask', dtype: 'fp32' | 'q8' = 'fp32') {
  const folder = folders.find((candidate) => candidate.name === name)!;
  const dir = path.join(out, `${name}-${dtype}`);
  await exportModel(folder.dir, dir, { format: 'onnx', ...(dtype === 'q8' ? { quantize: 'int8' as const } : {}) });
  const reference = await referenceModel(folder.dir);
  const classifier = (await pipeline(task, dir, { dtype })) as unknown as Pipeline;
  const lengths = [5, 9, 14, 19, 25, 31, reference.lengthLimit - 4, reference.lengthLimit];
  return { folder, dir, reference, classifier, sample: textsOfLengths(reference.tokenizer, texts, lengths) };
}

/** transformers.js tokenizes the texts as we do (the precondition of comparing scores). */
function assertSameIds(classifier: Pipeline, encodings: { ids: number[] }[], batch: string[]): void {
  const theirs = classifier.tokenizer(batch, { return_tensor: false, padding: false, truncation: false }).input_ids;
  theirs.forEach((ids, i) => assert.deepEqual(ids.map(Number), encodings[i]!.ids, JSON.stringify(batch[i])));
}

for (const family of ['bert', 'distilbert', 'roberta', 'electra']) {
  test(`${family}: text-classification pipeline gives our labels and scores`, async () => {
    const { reference, classifier, sample, dir } = await setUp(`${family}-sequence-classification`, 'text-classification');
    try {
      const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(config['transformers.js_config'], { dtype: 'fp32' }, 'an export without a quantized file asks for fp32 on every device');
      const encodings = sample.map((text) => reference.tokenizer.encode(text, { maxLength: reference.lengthLimit }));
      assertSameIds(classifier, encodings, sample);
      assert.ok(new Set(encodings.map((encoding) => encoding.ids.length)).size >= 6, 'several lengths');
      const logits = reference.model.logits(encodings);
      const results = (await classifier(sample, { top_k: null })) as { label: string; score: number }[][];
      assert.equal(results.length, sample.length);
      results.forEach((scores, i) => {
        const probabilities = softmax(logits[i]![0]!);
        assert.equal(scores[0]!.label, reference.model.labels[argmax(probabilities)], `text ${i}: label`);
        assert.equal(scores.length, reference.model.labels.length);
        for (const { label, score } of scores) {
          const ours = probabilities[reference.model.labels.indexOf(label)]!;
          assert.ok(Math.abs(score - ours) <= TOLERANCE, `text ${i}, ${label}: ${score} vs ${ours}`);
        }
      });
    } finally {
      await classifier.dispose();
      reference.model.dispose();
    }
  });

  test(`${family}: token-classification pipeline gives our entity and score for every token`, async () => {
    const { reference, classifier, sample } = await setUp(`${family}-token-classification`, 'token-classification');
    try {
      const encodings = sample.map((text) => reference.tokenizer.encode(text, { maxLength: reference.lengthLimit }));
      assertSameIds(classifier, encodings, sample);
      const logits = reference.model.logits(encodings);
      const results = (await classifier(sample, { ignore_labels: [] })) as { entity: string; score: number; index: number }[][];
      let compared = 0;
      results.forEach((tokens, i) => {
        // Every input token (not the template's) is reported, at its index.
        assert.deepEqual(
          tokens.map((token) => token.index),
          encodings[i]!.specialTokensMask.flatMap((special, index) => (special === 1 ? [] : [index])).filter((index) => reference.tokenizer.decode([encodings[i]!.ids[index]!], { skipSpecialTokens: true }) !== ''),
        );
        for (const token of tokens) {
          const probabilities = softmax(logits[i]![token.index]!);
          const best = argmax(probabilities);
          assert.equal(token.entity, reference.model.labels[best], `text ${i}, token ${token.index}`);
          assert.ok(Math.abs(token.score - probabilities[best]!) <= TOLERANCE, `text ${i}, token ${token.index}: ${token.score} vs ${probabilities[best]}`);
          compared += 1;
        }
      });
      assert.ok(compared > 50, `${compared} tokens compared`);
    } finally {
      await classifier.dispose();
      reference.model.dispose();
    }
  });

  test(`${family}: fill-mask pipeline gives our top-5 tokens and scores`, async () => {
    const { reference, classifier, sample } = await setUp(`${family}-masked-lm`, 'fill-mask');
    try {
      const maskToken = reference.tokenizer.special.mask!.token;
      // One word of each text (after the first) replaced by the mask token.
      const masked = sample.slice(0, 6).map((text, i) => {
        const words = text.split(' ');
        words[1 + (i % Math.max(1, words.length - 1))] = maskToken;
        return words.join(' ');
      });
      const encodings = masked.map((text) => reference.tokenizer.encode(text, { maxLength: reference.lengthLimit }));
      assertSameIds(classifier, encodings, masked);
      const logits = reference.model.logits(encodings);
      const results = (await classifier(masked, { top_k: 5 })) as { score: number; token: number }[][];
      results.forEach((candidates, i) => {
        const position = encodings[i]!.ids.indexOf(reference.tokenizer.special.mask!.id);
        const probabilities = softmax(logits[i]![position]!);
        const top = [...probabilities.keys()].sort((a, b) => probabilities[b]! - probabilities[a]!).slice(0, 5);
        assert.deepEqual(
          candidates.map((candidate) => candidate.token),
          top,
          `text ${i}: top-5 tokens`,
        );
        candidates.forEach((candidate) => assert.ok(Math.abs(candidate.score - probabilities[candidate.token]!) <= TOLERANCE, `text ${i}, token ${candidate.token}`));
      });
    } finally {
      await classifier.dispose();
      reference.model.dispose();
    }
  });
}

test('dtype q8 loads onnx/model_quantized.onnx: the same labels as float32 on most texts, scores close', async () => {
  const { reference, classifier, sample, dir } = await setUp('bert-sequence-classification', 'text-classification', 'q8');
  const full = (await pipeline('text-classification', dir, { dtype: 'fp32' })) as unknown as Pipeline;
  try {
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config['transformers.js_config'], undefined, 'with a quantized file, transformers.js picks by device (q8 on wasm, fp32 on cpu)');
    const quantized = (await classifier(sample)) as { label: string; score: number }[];
    const float32 = (await full(sample)) as { label: string; score: number }[];
    const agreeing = quantized.filter((result, i) => result.label === float32[i]!.label).length;
    assert.ok(agreeing >= sample.length - 1, `${agreeing}/${sample.length} labels agree`);
    quantized.forEach((result, i) => {
      if (result.label === float32[i]!.label) assert.ok(Math.abs(result.score - float32[i]!.score) < 0.05);
    });
    assert.ok(quantized.some((result, i) => result.score !== float32[i]!.score), 'the quantized file was used');
  } finally {
    await classifier.dispose();
    await full.dispose();
    reference.model.dispose();
  }
});
