/**
 * src/tokenizers is browser-safe: it bundles for the browser (esbuild refuses Node built-ins on
 * that platform), imports nothing but src/core and @huggingface/tokenizers, and the bundle works
 * on its own.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { tinyRobertaTokenizerJson, BERT_VOCAB } from './fixtures.js';

const entry = fileURLToPath(new URL('../../../src/tokenizers/index.ts', import.meta.url));

test('src/tokenizers bundles for the browser and runs from the bundle', async () => {
  const result = await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
  const inputs = Object.keys(result.metafile.inputs);
  for (const input of inputs) {
    assert.match(input, /(^|\/)src\/(tokenizers|core)\/[^/]+\.ts$|node_modules\/@huggingface\/tokenizers\//, `unexpected import ${input}`);
  }
  assert.ok(inputs.some((input) => input.endsWith('src/core/errors.ts')));
  const bundle = result.outputFiles[0]!.text;
  const module = (await import(`data:text/javascript;base64,${Buffer.from(bundle).toString('base64')}`)) as typeof import('../../src/tokenizers/index.js');
  const roberta = module.loadTokenizer({ 'tokenizer.json': JSON.stringify(tinyRobertaTokenizerJson()) }, 'roberta', 'dropped-files');
  assert.deepEqual(roberta.encode('hello world', { maxLength: 8 }).tokens, ['<s>', 'hello', 'Ġworld', '</s>']);
  const bert = module.loadTokenizer({ 'vocab.txt': BERT_VOCAB.join('\n') }, 'bert', 'dropped-files');
  assert.deepEqual(bert.encode('Hello, world!', { maxLength: 8 }).offsets, [[0, 0], [0, 5], [5, 6], [7, 12], [12, 13], [0, 0]]);
});
