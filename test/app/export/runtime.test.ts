/**
 * Exports checked by an engine written elsewhere: onnxruntime-node runs the ONNX file of every
 * family × head and its logits match the TF.js model's on real texts of several lengths padded
 * into one batch, with LayerNormalization (opset 17) and decomposed (opset 14); the int8 file
 * loads, quantizes every linear layer and agrees with float32 on most predictions.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeOnnxModel, ONNX_QUANTIZED_FILE } from '../../../src/app/export/index.js';
import { exportModel } from '../../../src/node/export.js';
import { OnnxModelSession } from '../../../src/node/onnxRuntime.js';
import { useBackend } from '../../helpers/backend.js';
import { tempDir } from '../../helpers/tempdir.js';
import { argmax, bundledTexts, referenceModel, relativeDifference, tinyHeadFolders } from './helpers.js';

await useBackend('wasm');
const folders = await tinyHeadFolders();
const texts = bundledTexts(6);
const out = tempDir('export-runtime');

test('onnxruntime runs the export of every family × head: logits within 1e-4 of TF.js (opset 17 and 14), one padded batch', async () => {
  assert.equal(folders.length, 12);
  for (const folder of folders) {
    const reference = await referenceModel(folder.dir);
    const limit = Math.min(reference.lengthLimit, 36);
    // Real texts truncated to 6 … 36 tokens: one padded batch with every amount of padding.
    const inputs = texts.map((text, i) => reference.tokenizer.encode(text, { maxLength: 6 + Math.floor(((limit - 6) * i) / (texts.length - 1)) }));
    assert.ok(new Set(inputs.map((input) => input.ids.length)).size >= 5, 'several lengths');
    const ours = reference.model.logits(inputs);
    for (const opset of [17, 14]) {
      const dir = path.join(out, `${folder.name}-${opset}`);
      const summary = await exportModel(folder.dir, dir, { format: 'onnx', opset });
      assert.equal(summary.architecture, folder.architecture);
      const expectedInputs = folder.family === 'distilbert' || folder.family === 'roberta' ? ['input_ids', 'attention_mask'] : ['input_ids', 'attention_mask', 'token_type_ids'];
      assert.deepEqual(summary.inputs, expectedInputs, folder.name);
      const session = await OnnxModelSession.load(dir);
      try {
        assert.deepEqual(session.session.inputNames, expectedInputs);
        assert.deepEqual(session.session.outputNames, ['logits']);
        const theirs = await session.logits(inputs);
        const difference = relativeDifference(ours, theirs);
        assert.ok(difference <= 1e-4, `${folder.name} opset ${opset}: relative difference ${difference}`);
      } finally {
        await session.dispose();
      }
    }
    reference.model.dispose();
  }
});

test('dynamic batch and sequence axes: the same export runs batches of 1 and 3 of different lengths, each row as alone', async () => {
  const folder = folders.find((candidate) => candidate.name === 'roberta-token-classification')!;
  const reference = await referenceModel(folder.dir);
  const dir = path.join(out, 'axes');
  await exportModel(folder.dir, dir, { format: 'onnx' });
  const session = await OnnxModelSession.load(dir);
  try {
    const inputs = texts.slice(0, 3).map((text, i) => reference.tokenizer.encode(text, { maxLength: 9 + 11 * i }));
    const batched = await session.logits(inputs);
    for (let i = 0; i < inputs.length; i++) {
      const alone = await session.logits([inputs[i]!]);
      assert.ok(relativeDifference(alone, [batched[i]!]) <= 1e-5, `row ${i}: padding changes nothing`);
    }
    assert.ok(relativeDifference(reference.model.logits(inputs), batched) <= 1e-4);
  } finally {
    await session.dispose();
    reference.model.dispose();
  }
});

test('int8: every linear layer runs as MatMulInteger on uint8 weights; predictions agree with float32 on most inputs', async () => {
  let agreeing = 0;
  let total = 0;
  for (const folder of folders) {
    const reference = await referenceModel(folder.dir);
    const dir = path.join(out, `${folder.name}-int8`);
    const summary = await exportModel(folder.dir, dir, { format: 'onnx', quantize: 'int8' });
    const fp32 = decodeOnnxModel(readFileSync(path.join(dir, 'onnx', 'model.onnx')));
    const int8 = decodeOnnxModel(readFileSync(path.join(dir, ONNX_QUANTIZED_FILE)));
    assert.ok(summary.files[ONNX_QUANTIZED_FILE]! < summary.files['onnx/model.onnx']!, `${folder.name}: the quantized file is smaller`);
    const weightMatMuls = fp32.graph.nodes.filter((node) => (node.opType === 'MatMul' && node.inputs[1]!.endsWith('.weight.T')) || node.opType === 'Gemm').length;
    assert.equal(int8.graph.nodes.filter((node) => node.opType === 'MatMulInteger').length, weightMatMuls, `${folder.name}: every linear layer quantized`);
    assert.ok(!int8.graph.initializers.some((tensor) => tensor.name.endsWith('.weight.T')), 'no float copy of a quantized weight is left');
    assert.ok(int8.graph.nodes.every((node) => node.opType !== 'MatMul' || !node.inputs.some((input) => int8.graph.initializers.some((tensor) => tensor.name === input))));

    const inputs = texts.map((text, i) => reference.tokenizer.encode(text, { maxLength: 8 + 4 * i }));
    const ours = reference.model.logits(inputs);
    const session = await OnnxModelSession.load(dir, { quantized: true });
    try {
      const theirs = await session.logits(inputs);
      const difference = relativeDifference(ours, theirs);
      assert.ok(difference > 1e-6 && difference < 0.1, `${folder.name}: int8 relative difference ${difference} (rounded, but close)`);
      let folderAgreeing = 0;
      let folderTotal = 0;
      ours.forEach((rows, sample) =>
        rows.forEach((row, position) => {
          folderTotal += 1;
          if (argmax(row) === argmax(theirs[sample]![position]!)) folderAgreeing += 1;
        }),
      );
      assert.ok(folderAgreeing / folderTotal >= 0.8, `${folder.name}: ${folderAgreeing}/${folderTotal} argmax agree`);
      agreeing += folderAgreeing;
      total += folderTotal;
    } finally {
      await session.dispose();
    }
    reference.model.dispose();
  }
  assert.ok(agreeing / total >= 0.9, `overall ${agreeing}/${total} argmax agree`);
});
