/**
 * RoBERTa's byte-level BPE through `@huggingface/tokenizers`, on a tiny hand-built vocabulary
 * (fixtures.ts): template, truncation, ids equal to the library's own `encode`, and the word ids
 * and offsets the library does not give.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import fc from 'fast-check';
import * as tokenizersLibrary from '@huggingface/tokenizers';
import { JsonTokenizer, loadTokenizer } from '../../src/tokenizers/index.js';
import type { Encoding, Tokenizer } from '../../src/tokenizers/index.js';
import { byteLevelBytes } from '../../src/tokenizers/byteLevel.js';
import { ConfigError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/tempdir.js';
import { tinyBpeMergesTxt, tinyBpeVocab, tinyRobertaTokenizerJson, toByteLevel } from './fixtures.js';

const LibraryTokenizer = tokenizersLibrary.Tokenizer as unknown as new (json: object, config: object) => { encode(text: string): { ids: number[]; tokens: string[] } };

const VOCAB = tinyBpeVocab();
const roberta = (json = tinyRobertaTokenizerJson(), extra: Record<string, string> = {}): Tokenizer =>
  loadTokenizer({ 'tokenizer.json': JSON.stringify(json), ...extra }, 'roberta', '/roberta');
const tokenizer = roberta();
const library = new LibraryTokenizer(tinyRobertaTokenizerJson(), {});
const slices = (text: string, encoding: Encoding) => encoding.offsets.map(([start, end]) => text.slice(start, end));

test('a RoBERTa tokenizer.json runs on @huggingface/tokenizers with <s> … </s> and RoBERTa\'s special tokens', () => {
  assert.ok(tokenizer instanceof JsonTokenizer);
  assert.equal(tokenizer.kind, 'tokenizer.json');
  assert.equal(tokenizer.vocabSize, Object.keys(VOCAB).length);
  assert.deepEqual(tokenizer.special, {
    cls: { token: '<s>', id: 0 },
    pad: { token: '<pad>', id: 1 },
    sep: { token: '</s>', id: 2 },
    unk: { token: '<unk>', id: 3 },
    mask: { token: '<mask>', id: VOCAB['<mask>'] },
  });
  const text = 'hello world the café';
  const encoding = tokenizer.encode(text, { maxLength: 32 });
  assert.deepEqual(encoding.tokens, ['<s>', 'hello', 'Ġworld', 'Ġthe', 'ĠcafÃ©', '</s>']);
  assert.deepEqual(encoding.ids, encoding.tokens.map((token) => VOCAB[token]));
  assert.deepEqual(encoding.specialTokensMask, [1, 0, 0, 0, 0, 1]);
  assert.deepEqual(encoding.wordIds, [null, 0, 1, 2, 3, null]);
  // Offsets leave out the space a Ġ token starts with (trim_offsets).
  assert.deepEqual(encoding.offsets, [[0, 0], [0, 5], [6, 11], [12, 15], [16, 20], [0, 0]]);
  assert.deepEqual(slices(text, encoding), ['', 'hello', 'world', 'the', 'café', '']);
  // A token that is only a space has an empty span where the space ends; GPT-2's regex keeps
  // the last space of a run for the next word.
  const spaced = 'the  hello\n';
  const spacedEncoding = tokenizer.encode(spaced, { maxLength: 32 });
  assert.deepEqual(spacedEncoding.tokens, ['<s>', 't', 'he', 'Ġ', 'Ġhello', 'Ċ', '</s>']);
  assert.deepEqual(spacedEncoding.offsets, [[0, 0], [0, 1], [1, 3], [4, 4], [5, 10], [10, 11], [0, 0]]);
  assert.deepEqual(spacedEncoding.wordIds, [null, 0, 0, 1, 2, 3, null]);
  assert.equal(tokenizer.idToToken(VOCAB['Ġworld']!), 'Ġworld');
  assert.equal(tokenizer.tokenToId('Ġworld'), VOCAB['Ġworld']);
});

test('truncation keeps <s> and </s>', () => {
  const encoding = tokenizer.encode('hello world the', { maxLength: 4 });
  assert.deepEqual(encoding.tokens, ['<s>', 'hello', 'Ġworld', '</s>']);
  assert.equal(encoding.truncated, true);
  assert.equal(encoding.truncatedTokens, 1);
  assert.deepEqual(tokenizer.encode('hello', { maxLength: 2 }).tokens, ['<s>', '</s>']);
  assert.throws(() => tokenizer.encode('hello', { maxLength: 1 }), ConfigError);
});

test('characters split across byte-level tokens: every piece covers the whole character', () => {
  const text = '中文 😀x';
  const encoding = tokenizer.encode(text, { maxLength: 32 });
  assert.deepEqual(encoding.tokens.slice(1, -1), [toByteLevel('中'), ...Array.from(toByteLevel('文')), 'Ġ', ...Array.from(toByteLevel('😀')), 'x']);
  assert.deepEqual(slices(text, encoding).slice(1, -1), ['中', '文', '文', '文', '', '😀', '😀', '😀', '😀', 'x']);
  assert.deepEqual(encoding.wordIds.slice(1, -1), [0, 0, 0, 0, 1, 1, 1, 1, 1, 2], 'GPT-2 regex pieces: 中文, " 😀", x');
});

test('<mask> in the text is one token (its lstrip swallows the space before it), not a template token', () => {
  const text = 'New York is big <mask>!';
  const encoding = tokenizer.encode(text, { maxLength: 32 });
  assert.deepEqual(encoding.tokens, ['<s>', 'New', 'ĠYork', 'Ġis', 'Ġbig', '<mask>', '!', '</s>']);
  assert.deepEqual(encoding.specialTokensMask, [1, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(encoding.wordIds, [null, 0, 1, 2, 3, 4, 5, null]);
  assert.deepEqual(slices(text, encoding), ['', 'New', 'York', 'is', 'big', '<mask>', '!', '']);
  assert.deepEqual(library.encode(text).ids, encoding.ids);
});

/** Text that exercises the GPT-2 regex, byte-level splitting and added tokens. */
const bpeText = fc
  .array(
    fc.oneof(
      fc.constantFrom('hello', 'Hello', 'world', 'the', 'café', 'New', 'York', 'is', 'big', "it's", "we'll", '42', '3.14'),
      fc.constantFrom(' ', '  ', '   ', '\n', '\n\n', '\t', '\u00a0', '\u3000', ' \n '),
      fc.constantFrom('中', '文', '😀', '👍🏽', 'e\u0301', 'Σ', 'ß', '\u0000', '\ufeff', '\ud800'),
      fc.constantFrom('<mask>', '<s>', '</s>', '<pad>', '<unk>', '<mask', 'mask>', '!', '?', '...', ',', '"'),
      fc.string({ unit: 'grapheme', maxLength: 5 }),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

test('ids and tokens are the library\'s own encode(), on any text', () => {
  fc.assert(
    fc.property(fc.oneof(bpeText, fc.string({ unit: 'binary', maxLength: 30 })), (text) => {
      const expected = library.encode(text);
      const encoding = tokenizer.encode(text, { maxLength: 100_000 });
      assert.deepEqual(encoding.ids, expected.ids, JSON.stringify(text));
      assert.deepEqual(encoding.tokens, expected.tokens);
    }),
    { numRuns: 2000 },
  );
});

const utf8 = new TextEncoder();
function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let k = 0; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

test('offsets: each token covers exactly the characters its bytes came from, spaces trimmed; words are consecutive', () => {
  fc.assert(
    fc.property(bpeText, (text) => {
      const encoding = tokenizer.encode(text, { maxLength: 100_000 });
      let previousEnd = 0;
      encoding.tokens.forEach((token, i) => {
        if (encoding.specialTokensMask[i] === 1) return;
        const [start, end] = encoding.offsets[i]!;
        assert.ok(start >= previousEnd && start <= end && end <= text.length, `${JSON.stringify(text)} ${token} ${start}..${end}`);
        previousEnd = Math.max(previousEnd, start);
        const slice = text.slice(start, end);
        const bytes = byteLevelBytes(token);
        if (bytes === undefined) {
          assert.equal(slice, token, 'an added token covers itself');
          return;
        }
        // trim_offsets: the token's own leading/trailing spaces are not in the span.
        let low = 0;
        let high = bytes.length;
        while (low < high && bytes[low] === 0x20) low++;
        while (high > low && bytes[high - 1] === 0x20) high--;
        const core = bytes.subarray(low, high);
        if (core.length === 0) {
          assert.equal(slice, '', 'a token of spaces has an empty span');
          return;
        }
        // The slice is the smallest run of whole characters whose UTF-8 contains the token's bytes.
        const sliceBytes = utf8.encode(slice);
        const at = indexOfBytes(sliceBytes, core);
        assert.ok(at >= 0, `${JSON.stringify(text)}: ${token} not inside ${JSON.stringify(slice)}`);
        const first = utf8.encode(String.fromCodePoint(slice.codePointAt(0)!)).length;
        const last = utf8.encode(String.fromCodePoint([...slice].at(-1)!.codePointAt(0)!)).length;
        assert.ok(at < first && at + core.length > sliceBytes.length - last, `${JSON.stringify(slice)} is wider than ${token}`);
      });
      const words = encoding.wordIds.filter((word): word is number => word !== null);
      words.forEach((word, i) => assert.ok(i === 0 ? word === 0 : word === words[i - 1] || word === words[i - 1]! + 1));
    }),
    { numRuns: 1500 },
  );
});

test('trim_offsets false (in the file) keeps the spaces in the offsets, as HF', () => {
  const json = tinyRobertaTokenizerJson();
  (json.post_processor as Record<string, unknown>).trim_offsets = false;
  const text = 'hello world';
  assert.deepEqual(slices(text, roberta(json).encode(text, { maxLength: 8 })), ['', 'hello', ' world', '']);
  // tokenizer_config.json's trim_offsets is written into the post-processor, as RobertaTokenizerFast does.
  const viaConfig = roberta(tinyRobertaTokenizerJson(), { 'tokenizer_config.json': '{"trim_offsets": false}' });
  assert.deepEqual(slices(text, viaConfig.encode(text, { maxLength: 8 })), ['', 'hello', ' world', '']);
});

test('add_prefix_space from tokenizer_config.json is honoured, and the prefix space has no span', () => {
  const spaced = roberta(tinyRobertaTokenizerJson(), { 'tokenizer_config.json': '{"add_prefix_space": true}' });
  const encoding = spaced.encode('hello world', { maxLength: 8 });
  assert.deepEqual(encoding.tokens, ['<s>', 'Ġhello', 'Ġworld', '</s>']);
  assert.deepEqual(encoding.offsets, [[0, 0], [0, 5], [6, 11], [0, 0]]);
  const written = JSON.parse(spaced.files()['tokenizer.json']!);
  assert.equal(written.pre_tokenizer.add_prefix_space, true, 'files() writes the tokenizer.json as run');
  assert.equal(written.post_processor.add_prefix_space, true);
  assert.equal(tokenizer.files()['tokenizer.json'], JSON.stringify(tinyRobertaTokenizerJson()), 'an unchanged tokenizer.json is written back verbatim');
});

test('encodeWords: each word gets a prefix space (HF requires add_prefix_space for words), word ids index the words', () => {
  const words = ['hello', 'world', 'café', 'New', '', '<mask>'];
  const encoding = tokenizer.encodeWords(words, { maxLength: 32 });
  assert.deepEqual(encoding.tokens, ['<s>', 'Ġhello', 'Ġworld', 'ĠcafÃ©', 'Ġ', 'New', '<mask>', '</s>']);
  assert.deepEqual(encoding.wordIds, [null, 0, 1, 2, 3, 3, 5, null]);
  assert.deepEqual(encoding.offsets, [[0, 0], [0, 5], [0, 5], [0, 4], [0, 0], [0, 3], [0, 6], [0, 0]], 'offsets index each word');
  // The same tokens as the sentence with spaces, as in the middle of a text.
  assert.deepEqual(encoding.ids.slice(1, 4), tokenizer.encode(' hello world café', { maxLength: 32 }).ids.slice(1, 4));
  const cut = tokenizer.encodeWords(words, { maxLength: 4 });
  assert.deepEqual(cut.wordIds, [null, 0, 1, null]);
  assert.equal(cut.truncatedTokens, 4);
});

test('decode is byte-level (lossless), e.g. for a fill-mask prediction', () => {
  assert.equal(tokenizer.decode([VOCAB['Ġworld']!]), ' world');
  assert.equal(tokenizer.decode([]), '');
  const plain = roberta(tinyRobertaTokenizerJson(), { 'tokenizer_config.json': '{"clean_up_tokenization_spaces": false}' });
  fc.assert(
    fc.property(bpeText, (text) => {
      fc.pre(!/<mask>|<s>|<\/s>|<pad>|<unk>|\ud800/.test(text));
      const { ids } = plain.encode(text, { maxLength: 100_000 });
      assert.equal(plain.decode(ids, { skipSpecialTokens: true }), text);
      assert.equal(plain.decode(ids), `<s>${text}</s>`);
    }),
    { numRuns: 500 },
  );
});

test('vocab.json + merges.txt (an older RoBERTa checkpoint) builds the same tokenizer as its tokenizer.json', () => {
  const files = { 'vocab.json': JSON.stringify(VOCAB), 'merges.txt': tinyBpeMergesTxt() };
  const fromMerges = loadTokenizer(files, 'roberta', '/old-roberta');
  assert.equal(fromMerges.kind, 'tokenizer.json');
  assert.deepEqual(fromMerges.special, tokenizer.special);
  fc.assert(
    fc.property(bpeText, (text) => {
      assert.deepEqual(fromMerges.encode(text, { maxLength: 100_000 }), tokenizer.encode(text, { maxLength: 100_000 }));
    }),
    { numRuns: 300 },
  );
  const written = fromMerges.files();
  assert.deepEqual(Object.keys(written).sort(), ['merges.txt', 'tokenizer.json', 'tokenizer_config.json', 'vocab.json']);
  assert.equal(written['merges.txt'], files['merges.txt']);
  const config = JSON.parse(written['tokenizer_config.json']!);
  assert.equal(config.tokenizer_class, 'RobertaTokenizer');
  assert.equal(config.mask_token, '<mask>');
  // What files() writes loads back (now through the written tokenizer.json).
  const reloaded = loadTokenizer(written, 'roberta', '/saved');
  assert.deepEqual(reloaded.encode('hello world <mask>', { maxLength: 16 }), fromMerges.encode('hello world <mask>', { maxLength: 16 }));
  // add_prefix_space from tokenizer_config.json applies here too.
  const spaced = loadTokenizer({ ...files, 'tokenizer_config.json': '{"add_prefix_space": true, "model_max_length": 512}' }, 'roberta', '/old-roberta');
  assert.deepEqual(spaced.encode('hello', { maxLength: 8 }).tokens, ['<s>', 'Ġhello', '</s>']);
  assert.equal(spaced.modelMaxLength, 512);
});

test('transformers.js AutoTokenizer on the written files gives our ids', async () => {
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  const modelDir = join(tempDir('tokenizer-export'), 'exported-roberta');
  mkdirSync(modelDir);
  for (const [name, text] of Object.entries(tokenizer.files())) writeFileSync(join(modelDir, name), text);
  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(modelDir)}/`;
  const transformersTokenizer = await AutoTokenizer.from_pretrained(basename(modelDir));
  assert.equal(transformersTokenizer.constructor.name, 'RobertaTokenizer');
  assert.equal(transformersTokenizer.mask_token_id, VOCAB['<mask>']);
  for (const text of fc.sample(bpeText, { numRuns: 300, seed: 11 })) {
    const { input_ids: inputIds } = transformersTokenizer(text, { return_tensor: false }) as unknown as { input_ids: number[] };
    assert.deepEqual(inputIds, tokenizer.encode(text, { maxLength: 100_000 }).ids, JSON.stringify(text));
  }
});
