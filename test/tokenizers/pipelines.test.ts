/**
 * Pipelines other than byte-level BPE through `@huggingface/tokenizers`: offsets through
 * normalizers that rewrite text (lower-casing, accent stripping, NFKC, Replace, Strip,
 * Prepend), Metaspace pre-tokens with a Unigram model (XLM-R's layout), and WordPiece run by the
 * library. The ids are always the library's; the offsets are checked against the text.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tokenizersLibrary from '@huggingface/tokenizers';
import { AlignedText, alignMapped, alignNormalizer, alignRemoveSpace } from '../../src/tokenizers/alignment.js';
import type { LibraryNormalizer } from '../../src/tokenizers/alignment.js';
import { JsonTokenizer, loadTokenizer } from '../../src/tokenizers/index.js';
import type { Encoding } from '../../src/tokenizers/index.js';
import { bertTokenizerJson } from './fixtures.js';

type LibraryTokenizer = { encode(text: string): { ids: number[]; tokens: string[] }; normalizer: LibraryNormalizer | null };
const LibraryTokenizerClass = tokenizersLibrary.Tokenizer as unknown as new (json: object, config: object) => LibraryTokenizer;
const slices = (text: string, encoding: Encoding) => encoding.offsets.map(([start, end]) => text.slice(start, end));

/** An XLM-R-like tokenizer: normalizer sequence, Metaspace, Unigram with fused unknowns, `<s> $A </s>`. */
function unigramJson(): Record<string, unknown> {
  const pieces: [string, number][] = [
    ['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0],
    ['▁', -3], ['▁hello', -2], ['▁world', -2], ['▁wor', -4], ['ld', -4], ['▁new', -2], ['▁york', -2], ['s', -5], ['▁café', -2],
    ...[...'abcdefghijklmnopqrstuvwxyz'].map((letter): [string, number] => [letter, -6]),
    ['<mask>', 0],
  ];
  const special = (content: string, id: number, lstrip = false) => ({ id, content, single_word: false, lstrip, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    added_tokens: [special('<s>', 0), special('<pad>', 1), special('</s>', 2), special('<unk>', 3), special('<mask>', pieces.length - 1, true)],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Strip', strip_left: true, strip_right: true },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
        { type: 'NFKC' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [],
      special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 3, vocab: pieces, byte_fallback: false },
  };
}

test('Unigram with Metaspace: ids are the library\'s; a word starts at each ▁; offsets go through Strip, Replace, NFKC and Lowercase', () => {
  const json = unigramJson();
  const tokenizer = loadTokenizer({ 'tokenizer.json': JSON.stringify(json) }, 'xlm-roberta', '/xlmr');
  assert.ok(tokenizer instanceof JsonTokenizer);
  const library = new LibraryTokenizerClass(json, {});
  const text = '  Hello   WORLD ｎｅｗ York café <mask> §§ ';
  const encoding = tokenizer.encode(text, { maxLength: 64 });
  assert.deepEqual(encoding.ids, library.encode(text).ids);
  assert.deepEqual(encoding.tokens, ['<s>', '▁hello', '▁world', '▁new', '▁york', '▁café', '<mask>', '▁', '§§', '</s>'], 'unknown characters fused into one token');
  assert.equal(encoding.ids[8], 3);
  assert.deepEqual(encoding.wordIds, [null, 0, 1, 2, 3, 4, 5, 6, 6, null]);
  // A ▁ that replaced spaces covers them (HF's Rust offsets include it too); a prepended ▁ has
  // no span (after <mask>, Strip removed the space and Metaspace prepended a ▁).
  assert.deepEqual(slices(text, encoding), ['', 'Hello', '   WORLD', ' ｎｅｗ', ' York', ' café', '<mask>', '', '§§', '']);
  assert.deepEqual(encoding.specialTokensMask, [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

  const words = fc.constantFrom('hello', 'HELLO', 'world', 'ｗｏｒｌｄ', 'new', 'york', 'café', 'cafe\u0301', 'zz', 'x', 'İ', 'ß', '§', '§§x', '<mask>', '<s>');
  const spaces = fc.constantFrom(' ', '  ', '   ', '\t', '\u00a0');
  const texts = fc.array(fc.tuple(spaces, words), { maxLength: 8 }).map((parts) => parts.map(([space, word]) => space + word).join(''));
  fc.assert(
    fc.property(fc.oneof(texts, fc.string({ unit: 'binary', maxLength: 20 })), (input) => {
      const ours = tokenizer.encode(input, { maxLength: 100_000 });
      assert.deepEqual(ours.ids, library.encode(input).ids, JSON.stringify(input));
      assert.deepEqual(ours.tokens, library.encode(input).tokens);
      ours.offsets.forEach(([start, end], i) => {
        assert.ok(start <= end && end <= input.length);
        if (ours.specialTokensMask[i] === 1 || ours.tokens[i] === '<mask>') return;
        // What the token spells, without its ▁, is what NFKC + lower-casing make of its span
        // (all of it, or a part when one character became several: İ → i + U+0307).
        // A bare ▁ stands for a space (one NFKC may have made: ῍ → space + marks), or covers nothing.
        const spelled = ours.tokens[i]!.replace(/^▁/, '');
        const normalized = input.slice(start, end).normalize('NFKC').toLowerCase();
        const where = `${JSON.stringify(input)}: ${ours.tokens[i]} at ${start}..${end}`;
        if (spelled.length === 0) assert.ok(start === end || /\s/u.test(normalized), where);
        else if (ours.ids[i] !== 3) assert.ok(spelled === normalized.trim() || normalized.includes(spelled), where);
      });
    }),
    { numRuns: 3000 },
  );
});

test('WordPiece run by the library (a pipeline ours does not take): offsets through BertNormalizer', () => {
  const vocab: Record<string, number> = {};
  ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'cafe', 'naive', 'hello', '##s', '中', '文', 'istanbul', '<e1>'].forEach((token, id) => (vocab[token] = id));
  const json = bertTokenizerJson({
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    model: { continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
    added_tokens: [{ id: 3, content: '[SEP]', special: true }, { id: 12, content: '<e1>', special: false, normalized: true }],
    post_processor: { type: 'BertProcessing', cls: ['[CLS]', 2], sep: ['[SEP]', 3] },
  });
  const tokenizer = loadTokenizer({ 'tokenizer.json': JSON.stringify(json) }, 'bert', '/bert');
  assert.ok(tokenizer instanceof JsonTokenizer, 'a non-special added token: the library runs it');
  const library = new LibraryTokenizerClass(json, {});
  const text = 'Café\tNAÏVE  HELLOS 中文 İstanbul <E1> cafe\u0301 zzz';
  const encoding = tokenizer.encode(text, { maxLength: 64 });
  assert.deepEqual(encoding.ids, library.encode(text).ids);
  assert.deepEqual(encoding.tokens, ['[CLS]', 'cafe', 'naive', 'hello', '##s', '中', '文', 'istanbul', '<e1>', 'cafe', '[UNK]', '[SEP]']);
  // The combining mark accent stripping drops belongs to no token (as in HF's Rust offsets).
  assert.deepEqual(slices(text, encoding), ['', 'Café', 'NAÏVE', 'HELLO', 'S', '中', '文', 'İstanbul', '<E1>', 'cafe', 'zzz', '']);
  assert.deepEqual(encoding.wordIds, [null, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, null]);

  // tokenizer_config.json's do_lower_case is written into the BertNormalizer, as BertTokenizerFast does.
  const cased = structuredClone(json) as Record<string, any>;
  cased.normalizer.lowercase = false;
  const viaConfig = loadTokenizer({ 'tokenizer.json': JSON.stringify(cased), 'tokenizer_config.json': '{"do_lower_case": true}' }, 'bert', '/bert');
  assert.deepEqual(viaConfig.encode('HELLOS', { maxLength: 8 }).tokens, ['[CLS]', 'hello', '##s', '[SEP]']);
  assert.equal(JSON.parse(viaConfig.files()['tokenizer.json']!).normalizer.lowercase, true);
  assert.deepEqual(loadTokenizer({ 'tokenizer.json': JSON.stringify(cased) }, 'bert', '/bert').encode('HELLOS', { maxLength: 8 }).tokens, ['[CLS]', '[UNK]', '[SEP]']);
});

test('BPE with byte fallback (Llama\'s layout): each byte token covers its character; Prepend and Replace align', () => {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2, '<pad>': 3 };
  for (let byte = 0; byte < 256; byte++) vocab[`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`] = Object.keys(vocab).length;
  for (const token of ['▁', 'h', 'i', '!', '▁h', '▁hi', 'é']) vocab[token] = Object.keys(vocab).length;
  const json = {
    version: '1.0',
    added_tokens: ['<unk>', '<s>', '</s>', '<pad>'].map((content) => ({ id: vocab[content], content, special: true, normalized: false })),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    model: { type: 'BPE', vocab, merges: ['▁ h', '▁h i'], unk_token: '<unk>', fuse_unk: true, byte_fallback: true },
  };
  const tokenizer = loadTokenizer({ 'tokenizer.json': JSON.stringify(json) }, 'llama', '/llama');
  const library = new LibraryTokenizerClass(json, {});
  const text = 'hi 中é!😀';
  const encoding = tokenizer.encode(text, { maxLength: 32 });
  assert.deepEqual(encoding.ids.slice(1, -1), library.encode(text).ids);
  assert.deepEqual(encoding.tokens, ['<s>', '▁hi', '▁', '<0xE4>', '<0xB8>', '<0xAD>', 'é', '!', '<0xF0>', '<0x9F>', '<0x98>', '<0x80>', '</s>'], 'the family template (RoBERTa-style names found in the vocabulary)');
  assert.deepEqual(slices(text, encoding), ['', 'hi', ' ', '中', '中', '中', 'é', '!', '😀', '😀', '😀', '😀', '']);
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'hi !é中😀\u0301x '), maxLength: 12 }), (input) => {
      const ours = tokenizer.encode(input, { maxLength: 1000 });
      assert.deepEqual(ours.ids.slice(1, -1), library.encode(input).ids, JSON.stringify(input));
      ours.offsets.forEach(([start, end], i) => {
        const token = ours.tokens[i]!;
        if (/^<0x/.test(token)) assert.equal([...input.slice(start, end)].length, 1, `${JSON.stringify(input)}: ${token} covers one character`);
        else if (ours.specialTokensMask[i] === 0) {
          // The token spells its span with ▁ for spaces, maybe after the ▁ Prepend inserted (which covers nothing).
          const spelled = input.slice(start, end).replaceAll(' ', '▁');
          assert.ok(token === spelled || token === `▁${spelled}`, `${JSON.stringify(input)}: ${token} at ${start}..${end}`);
        }
      });
    }),
    { numRuns: 1000 },
  );
});

test('alignMapped: exact per character, per cluster, position by position, per run, or whole', () => {
  const spans = (aligned: AlignedText) => Array.from({ length: aligned.text.length }, (_, i) => [aligned.starts[i], aligned.ends[i]]);
  const input = AlignedText.of('xAB Σ', 0);
  // Per character (a lower-cased İ becomes two code units, both from the İ).
  const dotted = alignMapped((text) => text.toLowerCase(), AlignedText.of('İa', 0));
  assert.equal(dotted.text, 'i̇a');
  assert.deepEqual(spans(dotted), [[0, 1], [0, 1], [1, 2]]);
  // Per character, where nothing but an exact match would do (NFKC of full-width letters).
  const fullWidth = alignMapped((text) => text.normalize('NFKC'), AlignedText.of('ｈｉ ｘ', 0));
  assert.equal(fullWidth.text, 'hi x');
  assert.deepEqual(spans(fullWidth), [[0, 1], [1, 2], [2, 3], [3, 4]]);
  // Position by position: whole-string lower-casing makes the final Σ a ς, one character for one.
  const lowered = alignMapped((text) => text.toLowerCase(), AlignedText.of('ΑΣ', 0));
  assert.equal(lowered.text, 'ας');
  assert.deepEqual(spans(lowered), [[0, 1], [1, 2]]);
  // Per cluster: NFC composes e + combining acute into é, which covers both.
  const composed = alignMapped((text) => text.normalize('NFC'), AlignedText.of('ce\u0301!', 0));
  assert.equal(composed.text, 'cé!');
  assert.deepEqual(spans(composed), [[0, 1], [1, 3], [3, 4]]);
  // Per whitespace run: a map that reverses each word is only right word by word.
  const reversed = alignMapped((text) => text.split(' ').map((word) => [...word].reverse().join('')).join(' '), input);
  assert.equal(reversed.text, 'BAx Σ');
  assert.deepEqual(spans(reversed), [[0, 3], [0, 3], [0, 3], [3, 4], [4, 5]]);
  // Whole: nothing smaller reproduces it.
  const whole = alignMapped((text) => [...text].reverse().join(''), input);
  assert.equal(whole.text, 'Σ BAx');
  assert.deepEqual(spans(whole), Array(5).fill([0, 5]));
  // The library's remove_space: trimmed, and each inner run of whitespace one space covering the run.
  const squeezed = alignRemoveSpace(AlignedText.of(' a \t b  c ', 0));
  assert.equal(squeezed.text, 'a b c');
  assert.deepEqual(spans(squeezed), [[1, 2], [2, 5], [5, 6], [6, 8], [8, 9]]);
  // Surrogate pairs stay together.
  assert.deepEqual(spans(AlignedText.of('xyza😀', 3)), [[3, 4], [4, 6], [4, 6]]);
});

test('alignNormalizer: Strip, Prepend and Replace align structurally; the output is always the library\'s', () => {
  const normalizerOf = (normalizer: Record<string, unknown>) =>
    new LibraryTokenizerClass({ model: { type: 'WordPiece', vocab: { '[UNK]': 0 }, unk_token: '[UNK]', continuing_subword_prefix: '##' }, normalizer, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [] }, {}).normalizer!;
  const sequence = normalizerOf({
    type: 'Sequence',
    normalizers: [
      { type: 'Strip', strip_left: true, strip_right: true },
      { type: 'Replace', pattern: { String: 'ab' }, content: 'X' },
      { type: 'Prepend', prepend: '▁' },
      { type: 'NFKD' },
    ],
  });
  const text = '  zabé ';
  const aligned = alignNormalizer(sequence, AlignedText.of(text, 0));
  assert.equal(aligned.text, sequence.normalize(text));
  assert.equal(aligned.text, '▁zXe\u0301');
  assert.deepEqual(
    Array.from(aligned.text, (_, i) => (aligned.isSynthetic(i) ? null : text.slice(aligned.starts[i], aligned.ends[i]))),
    [null, 'z', 'ab', 'é', 'é'],
  );
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'ab é\u0301ｆＡ\tΣ'), maxLength: 12 }), (input) => {
      assert.equal(alignNormalizer(sequence, AlignedText.of(input, 0)).text, sequence.normalize(input));
    }),
  );
});
