import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isChineseChar, isPunctuation, loadTokenizer, WordPieceTokenizer } from '../../src/tokenizers/index.js';
import type { Encoding } from '../../src/tokenizers/index.js';
import { CheckpointError, ConfigError } from '../../src/core/errors.js';
import { BERT_SPECIALS, BERT_VOCAB, bertTokenizerJson } from './fixtures.js';

// Expected outputs below follow HF BertTokenizer's algorithm (tokenization_bert.py) step by step.
const VOCAB = BERT_VOCAB;
const tokenizer = WordPieceTokenizer.fromVocab(VOCAB);
const cased = WordPieceTokenizer.fromVocab(VOCAB, { doLowerCase: false });
const ids = (tokens: string[]) => tokens.map((token) => VOCAB.indexOf(token));

/** The tokenizer from files given as text (what a checkpoint directory holds). */
function fromFiles(files: Record<string, string>, modelType = 'bert'): WordPieceTokenizer {
  const loaded = loadTokenizer(files, modelType, '/ckpt');
  assert.ok(loaded instanceof WordPieceTokenizer);
  return loaded;
}

test('special tokens and vocabulary size come from the vocabulary', () => {
  assert.equal(tokenizer.vocabSize, VOCAB.length);
  assert.equal(tokenizer.kind, 'wordpiece');
  assert.deepEqual(tokenizer.special, {
    pad: { token: '[PAD]', id: 0 },
    unk: { token: '[UNK]', id: 1 },
    cls: { token: '[CLS]', id: 2 },
    sep: { token: '[SEP]', id: 3 },
    mask: { token: '[MASK]', id: 4 },
  });
  assert.equal(WordPieceTokenizer.fromVocab(['[PAD]', '[UNK]', '[CLS]', '[SEP]']).special.mask, undefined);
  assert.equal(tokenizer.tokenToId('hello'), VOCAB.indexOf('hello'));
  assert.equal(tokenizer.idToToken(VOCAB.indexOf('hello')), 'hello');
  assert.equal(tokenizer.tokenToId('nope'), undefined);
  assert.equal(tokenizer.idToToken(VOCAB.length), undefined);
  assert.equal(tokenizer.idToToken(-1), undefined);
});

test('greedy longest-match-first WordPiece with ## continuations (HF docstring example)', () => {
  assert.deepEqual(tokenizer.tokenize('unaffable'), ['un', '##aff', '##able']);
  assert.deepEqual(tokenizer.tokenize('hello'), ['hello'], 'the longest match wins over hel + ##lo');
  assert.deepEqual(tokenizer.tokenize('aaa'), ['a', '##a', '##a']);
});

test('a word with any unmatched remainder becomes a single [UNK]', () => {
  assert.deepEqual(tokenizer.tokenize('unaffablez'), ['[UNK]']);
  assert.deepEqual(tokenizer.tokenize('zebra hello'), ['[UNK]', 'hello']);
});

test('words over 100 code points become [UNK]; exactly 100 are still split', () => {
  assert.deepEqual(tokenizer.tokenize('a'.repeat(101)), ['[UNK]']);
  assert.deepEqual(tokenizer.tokenize('a'.repeat(100)), ['a', ...Array<string>(99).fill('##a')]);
  // Code points, not UTF-16 units: 60 astral letters (120 UTF-16 units) are under the limit.
  const astral = WordPieceTokenizer.fromVocab([...BERT_SPECIALS, '𝐚', '##𝐚'], { doLowerCase: false });
  assert.equal(astral.tokenize('𝐚'.repeat(60)).length, 60);
});

test('lower-casing and accent stripping follow do_lower_case / strip_accents', () => {
  assert.deepEqual(tokenizer.tokenize('HeLLo Café NAÏVE'), ['hello', 'cafe', 'naive']);
  assert.deepEqual(cased.tokenize('Café Hello hello'), ['Café', 'Hello', 'hello']);
  const lowerKeepAccents = WordPieceTokenizer.fromVocab(VOCAB, { stripAccents: false });
  assert.deepEqual(lowerKeepAccents.tokenize('CAFÉ'), ['café']);
  const casedStripped = WordPieceTokenizer.fromVocab(VOCAB, { doLowerCase: false, stripAccents: true });
  assert.deepEqual(casedStripped.tokenize('café'), ['cafe']);
  // Decomposed input (e + combining acute) is the same word after NFD + Mn removal.
  assert.deepEqual(tokenizer.tokenize('cafe\u0301'), ['cafe']);
  // A lone combining mark is emptied by accent stripping and disappears.
  assert.deepEqual(tokenizer.tokenize('hello \u0301 world'), ['hello', 'world']);
});

test('lower-casing is per character, as HF: a final capital sigma becomes σ, not ς', () => {
  assert.deepEqual(tokenizer.tokenize('ΣΑΣ'), ['σασ']);
});

test('punctuation: ASCII non-alphanumerics and Unicode P* are split off, other symbols are not', () => {
  assert.deepEqual(tokenizer.tokenize('hello,world!'), ['hello', ',', 'world', '!']);
  assert.deepEqual(tokenizer.tokenize('$^`'), ['$', '^', '`'], '$ ^ ` are not Unicode punctuation but ASCII rule splits them');
  assert.deepEqual(tokenizer.tokenize('¿hello…«world»'), ['¿', 'hello', '…', '«', 'world', '»']);
  assert.deepEqual(tokenizer.tokenize('5€'), ['5€'], '€ is a currency symbol (Sc), not punctuation');
  assert.equal(isPunctuation('+'), true);
  assert.equal(isPunctuation('€'), false);
  assert.equal(isPunctuation('、'), true);
});

test('CJK ideographs become single-character words; Hangul and kana do not', () => {
  assert.deepEqual(tokenizer.tokenize('中文hello'), ['中', '文', 'hello']);
  assert.deepEqual(tokenizer.tokenize('x𠀀x'), ['x', '𠀀', 'x'], 'Extension B, outside the BMP');
  assert.deepEqual(cased.tokenize('한국'), ['한국']);
  // Accent stripping's NFD also decomposes Hangul syllables into jamo (HF does the same).
  assert.deepEqual(tokenizer.tokenize('한국'), ['한국'.normalize('NFD')]);
  const noCjk = WordPieceTokenizer.fromVocab(VOCAB, { tokenizeChineseChars: false });
  assert.deepEqual(noCjk.tokenize('中文'), ['[UNK]']);
  const ranges: [number, number][] = [
    [0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x20000, 0x2a6df], [0x2a700, 0x2b73f],
    [0x2b740, 0x2b81f], [0x2b820, 0x2ceaf], [0xf900, 0xfaff], [0x2f800, 0x2fa1f],
  ];
  for (const [low, high] of ranges) {
    assert.equal(isChineseChar(low), true);
    assert.equal(isChineseChar(high), true);
    assert.equal(isChineseChar(low - 1), ranges.some(([l, h]) => low - 1 >= l && low - 1 <= h));
    assert.equal(isChineseChar(high + 1), ranges.some(([l, h]) => high + 1 >= l && high + 1 <= h));
  }
  assert.equal(isChineseChar(0xac00), false, 'Hangul syllable');
  assert.equal(isChineseChar(0x3042), false, 'Hiragana');
});

test('cleaning drops NUL, U+FFFD and control/format characters and maps whitespace to spaces', () => {
  assert.deepEqual(tokenizer.tokenize('hel\u0000lo wo\ufffdrld'), ['hello', 'world']);
  assert.deepEqual(tokenizer.tokenize('hel\u0007lo wor\u00adld'), ['hello', 'world'], 'BEL (Cc) and soft hyphen (Cf) are dropped');
  assert.deepEqual(tokenizer.tokenize('hel\u200blo'), ['hello'], 'zero-width space (Cf) is dropped, not a separator');
  assert.deepEqual(tokenizer.tokenize('hello\tworld\nthe\r\na\u00a0a\u3000hello\u2003world'), [
    'hello', 'world', 'the', 'a', 'a', 'hello', 'world',
  ]);
  assert.deepEqual(tokenizer.tokenize('\u0378hello'), ['hello'], 'unassigned code points are category Cn, dropped');
  assert.deepEqual(tokenizer.tokenize(''), []);
  assert.deepEqual(tokenizer.tokenize(' \t\n '), []);
  // Lone surrogates (invalid UTF-16) are dropped like other C* characters.
  assert.deepEqual(tokenizer.tokenize('hel\ud800lo'), ['hello']);
});

test('special tokens in the text are kept whole and not lower-cased; other bracketed words are split', () => {
  assert.deepEqual(tokenizer.tokenize('hello[SEP]world [MASK]!'), ['hello', '[SEP]', 'world', '[MASK]', '!']);
  assert.deepEqual(tokenizer.tokenize('[CLS][UNK][PAD]'), ['[CLS]', '[UNK]', '[PAD]']);
  assert.deepEqual(tokenizer.tokenize('[cls]'), ['[', 'cls', ']']);
  const extra = WordPieceTokenizer.fromVocab([...VOCAB, '<E>'], { additionalSpecialTokens: ['<E>'] });
  assert.deepEqual(extra.tokenize('HELLO<E>world'), ['hello', '<E>', 'world']);
  // Overlapping special tokens: the longest one wins (HF's Trie docstring example).
  const overlapping = WordPieceTokenizer.fromVocab([...VOCAB, 'extra_id_1', 'extra_id_100'], { additionalSpecialTokens: ['extra_id_1', 'extra_id_100'] });
  assert.deepEqual(overlapping.tokenize('[CLS] the extra_id_100'), ['[CLS]', 'the', 'extra_id_100']);
});

test('never_split words are kept whole (even outside the vocabulary); with lower-casing on, HF lower-cases the text first', () => {
  const keep = WordPieceTokenizer.fromVocab(VOCAB, { doLowerCase: false, neverSplit: ['[FOO]', 'hello!'] });
  assert.deepEqual(keep.tokenize('a [FOO] hello! [FOO]x'), ['a', '[FOO]', 'hello!', '[', '[UNK]', ']', 'x']);
  assert.deepEqual(keep.encode('hello!', { maxLength: 8 }).ids, ids(['[CLS]', '[UNK]', '[SEP]']), 'a never-split word outside the vocabulary has the [UNK] id');
  const lowered = WordPieceTokenizer.fromVocab(VOCAB, { neverSplit: ['[FOO]'] });
  assert.deepEqual(lowered.tokenize('[FOO]'), ['[', '[UNK]', ']']);
});

test('do_basic_tokenize = false runs WordPiece on whitespace-separated words only', () => {
  const wordPieceOnly = WordPieceTokenizer.fromVocab(VOCAB, { doBasicTokenize: false });
  assert.deepEqual(wordPieceOnly.tokenize('UNAFFABLE hello,'), ['un', '##aff', '##able', '[UNK]']);
});

test('encode adds [CLS] … [SEP] and truncates word pieces, never the specials', () => {
  const full = tokenizer.encode('unaffable hello', { maxLength: 512 });
  assert.deepEqual(full.tokens, ['[CLS]', 'un', '##aff', '##able', 'hello', '[SEP]']);
  assert.deepEqual(full.ids, ids(full.tokens));
  assert.deepEqual(full.specialTokensMask, [1, 0, 0, 0, 0, 1]);
  assert.deepEqual(full.wordIds, [null, 0, 0, 0, 1, null]);
  assert.deepEqual(full.offsets, [[0, 0], [0, 2], [2, 5], [5, 9], [10, 15], [0, 0]]);
  assert.equal(full.truncated, false);
  assert.equal(full.truncatedTokens, 0);
  assert.deepEqual(tokenizer.encode('unaffable hello', { maxLength: 6 }), full);
  const cut = tokenizer.encode('unaffable hello', { maxLength: 4 });
  assert.deepEqual(cut.tokens, ['[CLS]', 'un', '##aff', '[SEP]']);
  assert.deepEqual(cut.wordIds, [null, 0, 0, null]);
  assert.deepEqual(cut.offsets, [[0, 0], [0, 2], [2, 5], [0, 0]]);
  assert.equal(cut.truncated, true);
  assert.equal(cut.truncatedTokens, 2);
  assert.deepEqual(tokenizer.encode('hello', { maxLength: 2 }).tokens, ['[CLS]', '[SEP]']);
  assert.deepEqual(tokenizer.encode('', { maxLength: 8 }).tokens, ['[CLS]', '[SEP]']);
  assert.throws(() => tokenizer.encode('hello', { maxLength: 1 }), ConfigError);
  assert.throws(() => tokenizer.encode('hello', { maxLength: 3.5 }), ConfigError);
});

test('convertTokensToIds maps unknown tokens to the [UNK] id', () => {
  assert.deepEqual(tokenizer.convertTokensToIds(['hello', 'nope', '[SEP]']), [VOCAB.indexOf('hello'), 1, 3]);
});

test('fromVocab rejects vocabularies without the required special tokens', () => {
  assert.throws(() => WordPieceTokenizer.fromVocab(['[PAD]', '[CLS]', '[SEP]', 'a']), (error: Error) => error instanceof ConfigError && /\[UNK\]/.test(error.message));
  assert.throws(() => WordPieceTokenizer.fromVocab(VOCAB, { maxInputCharsPerWord: 0 }), ConfigError);
  assert.throws(() => WordPieceTokenizer.fromVocab(VOCAB, { modelMaxLength: 0 }), ConfigError);
});

/** Checks what every encoding must satisfy, whatever the text. */
function checkEncodingShape(encoding: Encoding, maxLength: number): void {
  const n = encoding.ids.length;
  assert.ok(n <= maxLength);
  for (const field of [encoding.tokens, encoding.specialTokensMask, encoding.wordIds, encoding.offsets]) assert.equal(field.length, n);
  assert.equal(encoding.specialTokensMask[0], 1);
  assert.equal(encoding.specialTokensMask[n - 1], 1);
  encoding.specialTokensMask.forEach((mask, i) => {
    assert.equal(mask === 1, encoding.wordIds[i] === null);
    if (mask === 1) assert.deepEqual(encoding.offsets[i], [0, 0]);
  });
  const words = encoding.wordIds.filter((word): word is number => word !== null);
  for (let i = 1; i < words.length; i++) assert.ok(words[i]! === words[i - 1]! || words[i]! === words[i - 1]! + 1, 'word ids count up by one');
  if (words.length > 0) assert.equal(words[0], 0);
  assert.equal(encoding.truncated, encoding.truncatedTokens > 0);
}

test('any Unicode input tokenizes without throwing into vocabulary pieces, with consistent word ids and offsets', () => {
  const vocabulary = new Set(VOCAB);
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.integer({ min: 2, max: 12 }), (text, maxLength) => {
      const pieces = tokenizer.tokenize(text);
      for (const piece of pieces) assert.ok(vocabulary.has(piece), `piece ${JSON.stringify(piece)} not in vocabulary`);
      const encoding = tokenizer.encode(text, { maxLength });
      checkEncodingShape(encoding, maxLength);
      assert.equal(encoding.ids.length - 2 + encoding.truncatedTokens, pieces.length);
      for (const [start, end] of encoding.offsets) assert.ok(start >= 0 && start <= end && end <= text.length);
      assert.deepEqual(tokenizer.tokenize(text), pieces);
    }),
    { numRuns: 500 },
  );
});

// A vocabulary in which every lower-case ASCII letter, accented word and ideograph below has a
// piece, so that offsets can be checked against the pieces themselves.
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const FULL = WordPieceTokenizer.fromVocab([...BERT_SPECIALS, ...LETTERS, ...[...LETTERS].map((c) => `##${c}`), '中', '文', '字', '𠀀', '.', ',', '!', '?', '-']);
const normalizeLikeBert = (text: string) => text.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');

test('offsets slice the text back to each piece: ASCII, accents (composed and decomposed), CJK inside and outside the BMP', () => {
  const word = fc.oneof(
    fc.string({ unit: fc.constantFrom(...'abcXYZhello'), minLength: 1, maxLength: 8 }),
    fc.constantFrom('Café', 'NAÏVE', 'cafe\u0301', 'Ångström', 'résumé', 'İstanbul', 'ÉCOLE'),
    fc.constantFrom('中', '文字', '中a文', '𠀀', 'x𠀀y'),
  );
  const separator = fc.constantFrom(' ', '  ', '\t', '\n', '.', ', ', '!', '-', '\u00a0', '\u200b');
  const text = fc.array(fc.tuple(word, separator), { minLength: 1, maxLength: 8 }).map((parts) => parts.map(([w, s]) => w + s).join(''));
  fc.assert(
    fc.property(text, (input) => {
      const encoding = FULL.encode(input, { maxLength: 512 });
      checkEncodingShape(encoding, 512);
      let previousEnd = 0;
      encoding.tokens.forEach((token, i) => {
        if (encoding.specialTokensMask[i] === 1) return;
        const [start, end] = encoding.offsets[i]!;
        assert.ok(start >= previousEnd, 'offsets move forward');
        previousEnd = end;
        const slice = input.slice(start, end);
        assert.equal(normalizeLikeBert(slice), token.replace(/^##/, ''), `${JSON.stringify(input)}: token ${token} at ${start}..${end}`);
      });
      // Each word's pieces together cover one word of the input: no whitespace, and punctuation only as a word of its own.
      const byWord = new Map<number, [number, number]>();
      encoding.wordIds.forEach((wordId, i) => {
        if (wordId === null) return;
        const [start, end] = encoding.offsets[i]!;
        const span = byWord.get(wordId);
        byWord.set(wordId, span === undefined ? [start, end] : [span[0], end]);
      });
      for (const [start, end] of byWord.values()) {
        const slice = input.slice(start, end);
        assert.doesNotMatch(slice, /\s/u);
        if (slice.length > 1) assert.doesNotMatch(slice, /[.,!-]/u);
      }
    }),
    { numRuns: 400 },
  );
});

test('offsets of hand-picked hard cases', () => {
  const check = (text: string, expected: [string, string][]) => {
    const encoding = FULL.encode(text, { maxLength: 64 });
    const actual = encoding.tokens.slice(1, -1).map((token, i) => [token, text.slice(...encoding.offsets[i + 1]!)]);
    assert.deepEqual(actual, expected, JSON.stringify(text));
  };
  check('Café', [['c', 'C'], ['##a', 'a'], ['##f', 'f'], ['##e', 'é']]);
  // The combining mark is dropped; the e it follows keeps its own span, so the mark belongs to no piece.
  check('cafe\u0301!', [['c', 'c'], ['##a', 'a'], ['##f', 'f'], ['##e', 'e'], ['!', '!']]);
  // İ lower-cases to i + U+0307, whose mark accent stripping drops: one piece for one character.
  check('İ', [['i', 'İ']]);
  check('x𠀀y', [['x', 'x'], ['𠀀', '𠀀'], ['y', 'y']]);
  check('中文', [['中', '中'], ['文', '文']]);
  check('[MASK]ab', [['[MASK]', '[MASK]'], ['a', 'a'], ['##b', 'b']]);
  const unknown = FULL.encode('ab3c d', { maxLength: 64 });
  assert.deepEqual(unknown.tokens.slice(1, -1), ['[UNK]', 'd']);
  assert.deepEqual(unknown.offsets.slice(1, -1), [[0, 4], [5, 6]], 'an unknown word covers the whole word');
  const long = FULL.encode(`x ${'a'.repeat(101)}`, { maxLength: 64 });
  assert.deepEqual(long.offsets.slice(1, -1), [[0, 1], [2, 103]]);
});

test('word ids: whitespace and punctuation separate words, each CJK ideograph and each special token is a word', () => {
  const encoding = tokenizer.encode("unaffable,hello 中文 [MASK]world", { maxLength: 64 });
  assert.deepEqual(encoding.tokens, ['[CLS]', 'un', '##aff', '##able', ',', 'hello', '中', '文', '[MASK]', 'world', '[SEP]']);
  assert.deepEqual(encoding.wordIds, [null, 0, 0, 0, 1, 2, 3, 4, 5, 6, null]);
  assert.deepEqual(encoding.specialTokensMask, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], '[MASK] typed in the text is not a template token');
});

test('encodeWords tokenizes each word on its own; word ids index the words and offsets index each word', () => {
  const words = ['New', 'York', 'is', 'unaffable', '!', '', '\u0007', "don't"];
  const encoding = tokenizer.encodeWords(words, { maxLength: 64 });
  assert.deepEqual(encoding.tokens, ['[CLS]', 'new', 'york', 'is', 'un', '##aff', '##able', '!', 'don', "'", 't', '[SEP]']);
  assert.deepEqual(encoding.wordIds, [null, 0, 1, 2, 3, 3, 3, 4, 7, 7, 7, null], 'empty and control-only words have no token');
  assert.deepEqual(encoding.offsets, [[0, 0], [0, 3], [0, 4], [0, 2], [0, 2], [2, 5], [5, 9], [0, 1], [0, 3], [3, 4], [4, 5], [0, 0]]);
  const firstPieces = encoding.wordIds.map((word, i) => word !== null && encoding.wordIds[i - 1] !== word);
  assert.deepEqual(firstPieces, [false, true, true, true, true, false, false, true, true, false, false, false]);
  const cut = tokenizer.encodeWords(words, { maxLength: 5 });
  assert.deepEqual(cut.wordIds, [null, 0, 1, 2, null]);
  assert.equal(cut.truncatedTokens, 7);
  assert.deepEqual(tokenizer.encodeWords(['[MASK]', 'hello'], { maxLength: 8 }).tokens, ['[CLS]', '[MASK]', 'hello', '[SEP]']);
});

test('decode joins pieces as HF BertTokenizer.decode', () => {
  const { ids: encoded } = tokenizer.encode("unaffable hello , world ! don't", { maxLength: 64 });
  assert.equal(tokenizer.decode(encoded), "[CLS] unaffable hello, world! don't [SEP]");
  assert.equal(tokenizer.decode(encoded, { skipSpecialTokens: true }), "unaffable hello, world! don't");
  assert.equal(tokenizer.decode([]), '');
  assert.equal(tokenizer.decode([VOCAB.indexOf('hello'), 10_000]), 'hello [UNK]');
  const raw = WordPieceTokenizer.fromVocab(VOCAB, { cleanUpTokenizationSpaces: false });
  assert.equal(raw.decode(ids(['hello', ',', 'world'])), 'hello , world');
});

test('loadTokenizer reads vocab.txt, tokenizer_config.json and special_tokens_map.json', () => {
  const vocab = ['<pad>', '<unk>', '<cls>', '<sep>', '[FOO]', 'Hello', 'hello', 'café', 'cafe'];
  const loaded = fromFiles({
    'vocab.txt': vocab.join('\n') + '\n',
    'tokenizer_config.json': JSON.stringify({ do_lower_case: false, strip_accents: null, never_split: ['[FOO]'], model_max_length: 512, unk_token: '[UNK]', pad_token: '<pad>' }),
    'special_tokens_map.json': JSON.stringify({ unk_token: { content: '<unk>', lstrip: false }, cls_token: '<cls>', sep_token: '<sep>', mask_token: '<mask>' }),
  });
  assert.equal(loaded.vocabSize, vocab.length);
  assert.deepEqual(
    [loaded.special.pad.id, loaded.special.unk.id, loaded.special.cls.id, loaded.special.sep.id, loaded.special.mask],
    [0, 1, 2, 3, undefined],
  );
  assert.equal(loaded.modelMaxLength, 512);
  assert.deepEqual(loaded.encode('Hello [FOO] café zzz', { maxLength: 16 }).tokens, ['<cls>', 'Hello', '[FOO]', 'café', '<unk>', '<sep>']);
  // HF writes int(1e30) for "no limit".
  const unlimited = fromFiles({ 'vocab.txt': VOCAB.join('\n'), 'tokenizer_config.json': '{"model_max_length": 1000000000000000019884624838656}' });
  assert.equal(unlimited.modelMaxLength, undefined);
});

test('vocab.txt keeps empty lines as tokens, tolerates CRLF, and a repeated token maps to its last line', () => {
  const loaded = fromFiles({ 'vocab.txt': '[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n\r\nhello\r\nhello\r\n' });
  assert.equal(loaded.vocabSize, 7);
  assert.deepEqual(loaded.convertTokensToIds(['hello', '']), [6, 4]);
  assert.equal(loaded.idToToken(5), 'hello');
});

test('added special tokens (tokenizer_config.json added_tokens_decoder) are kept whole; tokens beyond vocab.txt are refused', () => {
  const decoder = (extra: Record<string, unknown>) =>
    JSON.stringify({ added_tokens_decoder: { '0': { content: '[PAD]', special: true }, '3': { content: '[SEP]', special: true, lstrip: false }, ...extra } });
  const vocabTxt = [...VOCAB, '<e1>'].join('\n') + '\n';
  const loaded = fromFiles({ 'vocab.txt': vocabTxt, 'tokenizer_config.json': decoder({ [String(VOCAB.length)]: { content: '<e1>', special: true } }) });
  assert.deepEqual(loaded.tokenize('HELLO<e1>world'), ['hello', '<e1>', 'world']);
  assert.deepEqual(loaded.settings.additionalSpecialTokens, ['<e1>']);
  const refused = (config: string, pattern: RegExp) =>
    assert.throws(() => fromFiles({ 'vocab.txt': vocabTxt, 'tokenizer_config.json': config }), (error: Error) => error instanceof CheckpointError && pattern.test(error.message));
  refused(decoder({ [String(VOCAB.length + 1)]: { content: '<e2>', special: true } }), /tokenizer_config\.json, field "added_tokens_decoder": unsupported added token "<e2>"/);
  refused(decoder({ [String(VOCAB.length)]: { content: '<e1>', special: false } }), /unsupported added token "<e1>"/);
});

test('a BERT tokenizer.json without vocab.txt runs on our WordPiece with its normalizer and model settings', () => {
  const loaded = fromFiles({ 'tokenizer.json': JSON.stringify(bertTokenizerJson()) });
  assert.equal(loaded.vocabSize, 10);
  // Cased, CJK not split, prefix @@, words over 4 characters are unknown.
  assert.deepEqual(loaded.tokenize('Hello Abc 中文 Abcde'), ['[UNK]', 'Ab', '@@c', '中文', '[UNK]']);
  assert.deepEqual(loaded.tokenize('[SEP]Ab[SEP]'), ['[SEP]', 'Ab', '[SEP]']);
  // Explicit tokenizer_config.json keys win over tokenizer.json (as BertTokenizerFast re-applies them).
  const lowered = fromFiles({ 'tokenizer.json': JSON.stringify(bertTokenizerJson()), 'tokenizer_config.json': JSON.stringify({ do_lower_case: true }) });
  assert.deepEqual(lowered.tokenize('ABC'), ['[UNK]']);
  // The template's special tokens are the encoding's.
  const template = bertTokenizerJson({ post_processor: { type: 'BertProcessing', cls: ['[MASK]', 4], sep: ['[SEP]', 3] } });
  assert.deepEqual(fromFiles({ 'tokenizer.json': JSON.stringify(template) }).encode('Ab', { maxLength: 8 }).tokens, ['[MASK]', 'Ab', '[SEP]']);
});

test('files() round-trips: the written files load back into the same tokenizer', () => {
  const original = WordPieceTokenizer.fromVocab(VOCAB, { doLowerCase: false, stripAccents: true, neverSplit: ['[FOO]'], modelMaxLength: 128, tokenizerClass: 'ElectraTokenizer' });
  const files = original.files();
  assert.deepEqual(Object.keys(files).sort(), ['special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
  assert.equal(files['vocab.txt'], VOCAB.join('\n') + '\n');
  const config = JSON.parse(files['tokenizer_config.json']!);
  assert.equal(config.tokenizer_class, 'ElectraTokenizer');
  assert.equal(config.do_lower_case, false);
  assert.equal(config.strip_accents, true);
  assert.equal(config.model_max_length, 128);
  assert.deepEqual(JSON.parse(files['special_tokens_map.json']!), {
    unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]',
  });
  const reloaded = fromFiles(files, 'electra');
  assert.deepEqual(reloaded.settings, { ...original.settings, tokenizerConfig: config });
  for (const text of ['Café [FOO] Hello', '中文, HELLO!', 'unaffable [SEP] x']) {
    assert.deepEqual(reloaded.encode(text, { maxLength: 32 }), original.encode(text, { maxLength: 32 }));
  }
  // Non-default WordPiece settings survive through the written tokenizer.json.
  const fromJson = fromFiles({ 'tokenizer.json': JSON.stringify(bertTokenizerJson()) });
  assert.deepEqual(fromFiles(fromJson.files()).settings.continuingSubwordPrefix, '@@');
  assert.deepEqual(fromFiles(fromJson.files()).tokenize('Hello Abc 中文 Abcde'), fromJson.tokenize('Hello Abc 中文 Abcde'));
  // Other keys of the checkpoint's tokenizer_config.json are kept; ours replace theirs.
  const kept = fromFiles({ 'vocab.txt': VOCAB.join('\n'), 'tokenizer_config.json': JSON.stringify({ padding_side: 'left', do_lower_case: true, cls_token: { content: '[CLS]', __type: 'AddedToken' } }) });
  const keptConfig = JSON.parse(kept.files()['tokenizer_config.json']!);
  assert.equal(keptConfig.padding_side, 'left');
  assert.equal(keptConfig.cls_token, '[CLS]', 'special tokens are written as strings');
});
