import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { tempDir as makeTempDir } from '../helpers/tempdir.js';
import { BertTokenizer, isChineseChar, isPunctuation } from '../../src/bert/tokenizer.js';
import { CheckpointError, ConfigError } from '../../src/core/errors.js';

// Expected outputs below follow HF BertTokenizer's algorithm (tokenization_bert.py) step by step.
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const WORDS = [
  'un', '##aff', '##able', 'hello', 'world', 'the', 'cafe', 'café', 'Café', 'naive', 'a', '##a',
  '中', '文', '𠀀', '한국', 'σασ', 'σας', '[', ']', 'cls', ',', '!', '.', '$', '^', '`', '¿', '«', '»', '…',
  '5€', 'x', '##x', 'hel', '##lo', '[FOO]', 'Hello', '한국'.normalize('NFD'),
];
const VOCAB = [...SPECIALS, ...WORDS];
const tokenizer = BertTokenizer.fromVocab(VOCAB);
const cased = BertTokenizer.fromVocab(VOCAB, { doLowerCase: false });

function tempDir(): string {
  return makeTempDir('tokenizer');
}

test('special token ids and vocabulary size come from the vocabulary', () => {
  assert.equal(tokenizer.vocabSize, VOCAB.length);
  assert.deepEqual([tokenizer.padId, tokenizer.unkId, tokenizer.clsId, tokenizer.sepId, tokenizer.maskId], [0, 1, 2, 3, 4]);
  assert.equal(BertTokenizer.fromVocab(['[PAD]', '[UNK]', '[CLS]', '[SEP]']).maskId, undefined);
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
  const astral = BertTokenizer.fromVocab([...SPECIALS, '𝐚', '##𝐚'], { doLowerCase: false });
  assert.equal(astral.tokenize('𝐚'.repeat(60)).length, 60);
});

test('lower-casing and accent stripping follow do_lower_case / strip_accents', () => {
  assert.deepEqual(tokenizer.tokenize('HeLLo Café NAÏVE'), ['hello', 'cafe', 'naive']);
  assert.deepEqual(cased.tokenize('Café Hello hello'), ['Café', 'Hello', 'hello']);
  const lowerKeepAccents = BertTokenizer.fromVocab(VOCAB, { stripAccents: false });
  assert.deepEqual(lowerKeepAccents.tokenize('CAFÉ'), ['café']);
  const casedStripped = BertTokenizer.fromVocab(VOCAB, { doLowerCase: false, stripAccents: true });
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
  const noCjk = BertTokenizer.fromVocab(VOCAB, { tokenizeChineseChars: false });
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
});

test('special tokens in the text are kept whole and not lower-cased; other bracketed words are split', () => {
  assert.deepEqual(tokenizer.tokenize('hello[SEP]world [MASK]!'), ['hello', '[SEP]', 'world', '[MASK]', '!']);
  assert.deepEqual(tokenizer.tokenize('[CLS][UNK][PAD]'), ['[CLS]', '[UNK]', '[PAD]']);
  assert.deepEqual(tokenizer.tokenize('[cls]'), ['[', 'cls', ']']);
  const extra = BertTokenizer.fromVocab([...VOCAB, '<E>'], { additionalSpecialTokens: ['<E>'] });
  assert.deepEqual(extra.tokenize('HELLO<E>world'), ['hello', '<E>', 'world']);
  // Overlapping special tokens: the longest one wins (HF's Trie docstring example).
  const overlapping = BertTokenizer.fromVocab([...VOCAB, 'extra_id_1', 'extra_id_100'], { additionalSpecialTokens: ['extra_id_1', 'extra_id_100'] });
  assert.deepEqual(overlapping.tokenize('[CLS] the extra_id_100'), ['[CLS]', 'the', 'extra_id_100']);
});

test('never_split words are kept whole; with lower-casing on, HF lower-cases the text first', () => {
  const keep = BertTokenizer.fromVocab(VOCAB, { doLowerCase: false, neverSplit: ['[FOO]', 'hello!'] });
  assert.deepEqual(keep.tokenize('a [FOO] hello! [FOO]x'), ['a', '[FOO]', 'hello!', '[', '[UNK]', ']', 'x']);
  const lowered = BertTokenizer.fromVocab(VOCAB, { neverSplit: ['[FOO]'] });
  assert.deepEqual(lowered.tokenize('[FOO]'), ['[', '[UNK]', ']']);
});

test('do_basic_tokenize = false runs WordPiece on whitespace-separated words only', () => {
  const wordPieceOnly = BertTokenizer.fromVocab(VOCAB, { doBasicTokenize: false });
  assert.deepEqual(wordPieceOnly.tokenize('UNAFFABLE hello,'), ['un', '##aff', '##able', '[UNK]']);
});

test('encode adds [CLS] … [SEP] and truncates word pieces, never the specials', () => {
  const full = tokenizer.encode('unaffable hello');
  assert.deepEqual(full.tokens, ['[CLS]', 'un', '##aff', '##able', 'hello', '[SEP]']);
  assert.deepEqual(full.ids, tokenizer.convertTokensToIds(full.tokens));
  assert.deepEqual(full.ids.slice(0, 1).concat(full.ids.slice(-1)), [tokenizer.clsId, tokenizer.sepId]);
  assert.equal(full.truncatedTokens, 0);
  assert.deepEqual(tokenizer.encode('unaffable hello', { maxLength: 6 }), full);
  const cut = tokenizer.encode('unaffable hello', { maxLength: 4 });
  assert.deepEqual(cut.tokens, ['[CLS]', 'un', '##aff', '[SEP]']);
  assert.equal(cut.truncatedTokens, 2);
  assert.deepEqual(tokenizer.encode('hello', { maxLength: 2 }).tokens, ['[CLS]', '[SEP]']);
  assert.deepEqual(tokenizer.encode('').tokens, ['[CLS]', '[SEP]']);
  assert.throws(() => tokenizer.encode('hello', { maxLength: 1 }), ConfigError);
  assert.throws(() => tokenizer.encode('hello', { maxLength: 3.5 }), ConfigError);
});

test('convertTokensToIds maps unknown tokens to the [UNK] id', () => {
  assert.deepEqual(tokenizer.convertTokensToIds(['hello', 'nope', '[SEP]']), [VOCAB.indexOf('hello'), tokenizer.unkId, tokenizer.sepId]);
});

test('fromVocab rejects vocabularies without the required special tokens', () => {
  assert.throws(() => BertTokenizer.fromVocab(['[PAD]', '[CLS]', '[SEP]', 'a']), (error: Error) => error instanceof ConfigError && /\[UNK\]/.test(error.message));
  assert.throws(() => BertTokenizer.fromVocab(VOCAB, { maxInputCharsPerWord: 0 }), ConfigError);
});

test('any Unicode input tokenizes without throwing into vocabulary pieces', () => {
  const vocabulary = new Set(VOCAB);
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.integer({ min: 2, max: 12 }), (text, maxLength) => {
      const pieces = tokenizer.tokenize(text);
      for (const piece of pieces) assert.ok(vocabulary.has(piece), `piece ${JSON.stringify(piece)} not in vocabulary`);
      const encoding = tokenizer.encode(text, { maxLength });
      assert.ok(encoding.ids.length <= maxLength);
      assert.equal(encoding.ids.length - 2 + encoding.truncatedTokens, pieces.length);
      assert.deepEqual(tokenizer.tokenize(text), pieces);
    }),
    { numRuns: 500 },
  );
  // Lone surrogates (invalid UTF-16) are dropped like other C* characters.
  assert.deepEqual(tokenizer.tokenize('hel\ud800lo'), ['hello']);
});

test('fromDirectory reads vocab.txt, tokenizer_config.json and special_tokens_map.json', () => {
  const dir = tempDir();
  const vocab = ['<pad>', '<unk>', '<cls>', '<sep>', '[FOO]', 'Hello', 'hello', 'café', 'cafe'];
  writeFileSync(join(dir, 'vocab.txt'), vocab.join('\n') + '\n');
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ do_lower_case: false, strip_accents: null, never_split: ['[FOO]'], model_max_length: 512, unk_token: '[UNK]', pad_token: '<pad>' }),
  );
  writeFileSync(
    join(dir, 'special_tokens_map.json'),
    JSON.stringify({ unk_token: { content: '<unk>', lstrip: false }, cls_token: '<cls>', sep_token: '<sep>', mask_token: '<mask>' }),
  );
  const loaded = BertTokenizer.fromDirectory(dir);
  assert.equal(loaded.vocabSize, vocab.length);
  assert.deepEqual([loaded.padId, loaded.unkId, loaded.clsId, loaded.sepId, loaded.maskId], [0, 1, 2, 3, undefined]);
  assert.equal(loaded.settings.modelMaxLength, 512);
  assert.deepEqual(loaded.encode('Hello [FOO] café zzz').tokens, ['<cls>', 'Hello', '[FOO]', 'café', '<unk>', '<sep>']);
});

test('vocab.txt keeps empty lines as tokens, tolerates CRLF, and a repeated token maps to its last line', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'vocab.txt'), '[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n\r\nhello\r\nhello\r\n');
  const loaded = BertTokenizer.fromDirectory(dir);
  assert.equal(loaded.vocabSize, 7);
  assert.deepEqual(loaded.convertTokensToIds(['hello', '']), [6, 4]);
});

test('added special tokens (tokenizer_config.json added_tokens_decoder) are kept whole; tokens beyond vocab.txt are refused', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'vocab.txt'), [...VOCAB, '<e1>'].join('\n') + '\n');
  const decoder = (extra: Record<string, unknown>) =>
    JSON.stringify({
      added_tokens_decoder: { '0': { content: '[PAD]', special: true }, '3': { content: '[SEP]', special: true, lstrip: false }, ...extra },
    });
  writeFileSync(join(dir, 'tokenizer_config.json'), decoder({ [String(VOCAB.length)]: { content: '<e1>', special: true } }));
  const loaded = BertTokenizer.fromDirectory(dir);
  assert.deepEqual(loaded.tokenize('HELLO<e1>world'), ['hello', '<e1>', 'world']);
  assert.deepEqual(loaded.settings.additionalSpecialTokens, ['<e1>']);
  writeFileSync(join(dir, 'tokenizer_config.json'), decoder({ [String(VOCAB.length + 1)]: { content: '<e2>', special: true } }));
  assert.throws(() => BertTokenizer.fromDirectory(dir), (error: Error) => error instanceof CheckpointError && /unsupported added token "<e2>"/.test(error.message));
  writeFileSync(join(dir, 'tokenizer_config.json'), decoder({ [String(VOCAB.length)]: { content: '<e1>', special: false } }));
  assert.throws(() => BertTokenizer.fromDirectory(dir), (error: Error) => error instanceof CheckpointError && /unsupported added token "<e1>"/.test(error.message));
});

function tokenizerJson(overrides: { normalizer?: unknown; model?: Record<string, unknown>; added_tokens?: unknown[] } = {}): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'Hello', 'hello', 'Ab', '@@c', '中文'].forEach((token, id) => {
    vocab[token] = id;
  });
  return {
    version: '1.0',
    added_tokens: overrides.added_tokens ?? [{ id: 3, content: '[SEP]', special: true }],
    normalizer: overrides.normalizer ?? { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: false, strip_accents: null, lowercase: false },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '@@', max_input_chars_per_word: 4, vocab, ...overrides.model },
  };
}

test('fromDirectory reads normalizer and WordPiece settings from tokenizer.json', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson()));
  const loaded = BertTokenizer.fromDirectory(dir);
  assert.equal(loaded.vocabSize, 10);
  // Cased, CJK not split, prefix @@, words over 4 characters are unknown.
  assert.deepEqual(loaded.tokenize('Hello Abc 中文 Abcde'), ['[UNK]', 'Ab', '@@c', '中文', '[UNK]']);
  assert.deepEqual(loaded.tokenize('[SEP]Ab[SEP]'), ['[SEP]', 'Ab', '[SEP]']);
  // Explicit tokenizer_config.json keys win over tokenizer.json (as BertTokenizerFast re-applies them).
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true }));
  assert.deepEqual(BertTokenizer.fromDirectory(dir).tokenize('ABC'), ['[UNK]']);
});

test('fromDirectory rejects broken or unsupported tokenizer files with CheckpointError', () => {
  const expectError = (files: Record<string, string>, pattern: RegExp) => {
    const dir = tempDir();
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    assert.throws(() => BertTokenizer.fromDirectory(dir), (error: Error) => error instanceof CheckpointError && pattern.test(error.message));
  };
  expectError({}, /no tokenizer found/);
  expectError({ 'vocab.txt': '' }, /empty vocabulary/);
  expectError({ 'vocab.txt': '[PAD]\n[CLS]\n[SEP]\n' }, /unknown token "\[UNK\]" is not in the vocabulary/);
  expectError({ 'vocab.txt': VOCAB.join('\n'), 'tokenizer_config.json': '{not json' }, /tokenizer_config\.json: not valid JSON/);
  expectError({ 'vocab.txt': VOCAB.join('\n'), 'tokenizer_config.json': '{"do_lower_case": "yes"}' }, /do_lower_case/);
  expectError({ 'vocab.txt': VOCAB.join('\n'), 'tokenizer.json': JSON.stringify(tokenizerJson()) }, /different vocabularies/);
  expectError({ 'tokenizer.json': JSON.stringify(tokenizerJson({ normalizer: { type: 'NFC' } })) }, /unsupported normalizer "NFC"/);
  expectError({ 'tokenizer.json': JSON.stringify(tokenizerJson({ model: { type: 'BPE' } })) }, /unsupported model/);
  expectError({ 'tokenizer.json': JSON.stringify(tokenizerJson({ model: { vocab: { '[UNK]': 0, a: 2 } } })) }, /model\.vocab ids/);
  expectError({ 'tokenizer.json': JSON.stringify(tokenizerJson({ added_tokens: [{ id: 10, content: '<new>', special: true }] })) }, /unsupported added token "<new>"/);
});

test('saveTo writes files that load back into the same tokenizer', () => {
  const original = BertTokenizer.fromVocab(VOCAB, { doLowerCase: false, stripAccents: true, neverSplit: ['[FOO]'], modelMaxLength: 128 });
  const dir = tempDir();
  original.saveTo(dir);
  assert.equal(readFileSync(join(dir, 'vocab.txt'), 'utf8'), VOCAB.join('\n') + '\n');
  const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  assert.equal(config.do_lower_case, false);
  assert.equal(config.strip_accents, true);
  assert.equal(config.model_max_length, 128);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'special_tokens_map.json'), 'utf8')), {
    unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]',
  });
  const reloaded = BertTokenizer.fromDirectory(dir);
  assert.deepEqual(reloaded.settings, original.settings);
  for (const text of ['Café [FOO] Hello', '中文, HELLO!', 'unaffable [SEP] x']) {
    assert.deepEqual(reloaded.encode(text), original.encode(text));
  }
  // A tokenizer loaded from tokenizer.json writes it back, so non-default WordPiece settings survive.
  const fromJson = tempDir();
  writeFileSync(join(fromJson, 'tokenizer.json'), JSON.stringify(tokenizerJson()));
  const saved = tempDir();
  BertTokenizer.fromDirectory(fromJson).saveTo(saved);
  assert.deepEqual(BertTokenizer.fromDirectory(saved).settings, BertTokenizer.fromDirectory(fromJson).settings);
  assert.throws(() => BertTokenizer.fromVocab(VOCAB, { continuingSubwordPrefix: '@@' }).saveTo(tempDir()), ConfigError);
});
