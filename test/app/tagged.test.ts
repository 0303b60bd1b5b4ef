import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DataError } from '../../src/core/errors.js';
import {
  collectTags,
  compareCodePoints,
  compareTags,
  detectScheme,
  findSchemeViolation,
  parseConll,
  parseTagged,
  parseTaggedJsonl,
  taggedFormatOf,
  type TaggedSentence,
} from '../../src/app/data/tagged.js';

/** Asserts that `run` throws a DataError at exactly this place, with a detail matching `detail`. */
function throwsAt(run: () => unknown, where: { file?: string; line?: number; field?: string }, detail: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof DataError, String(error));
    assert.deepEqual({ file: error.file, line: error.line, field: error.field }, { file: where.file, line: where.line, field: where.field });
    assert.match(error.detail, detail);
    return true;
  });
}

const CONLL_2003 = [
  '-DOCSTART- -X- -X- O',
  '',
  'EU NNP B-NP B-ORG',
  'rejects VBZ B-VP O',
  'German JJ B-NP B-MISC',
  'call NN I-NP O',
  '. . O O',
  '',
  '',
  'Peter NNP B-NP B-PER',
  'Blackburn NNP I-NP I-PER',
  '',
  '-DOCSTART- -X- -X- O',
  '',
  'BRUSSELS NNP B-NP B-LOC',
  '1996-08-22 CD I-NP O',
].join('\n');

test('parseConll: CoNLL-2003 with -DOCSTART-, repeated blank lines and no blank line at the end', () => {
  const sentences = parseConll(CONLL_2003, { file: 'train.txt' });
  assert.deepEqual(sentences, [
    { line: 3, words: ['EU', 'rejects', 'German', 'call', '.'], tags: ['B-ORG', 'O', 'B-MISC', 'O', 'O'] },
    { line: 10, words: ['Peter', 'Blackburn'], tags: ['B-PER', 'I-PER'] },
    { line: 15, words: ['BRUSSELS', '1996-08-22'], tags: ['B-LOC', 'O'] },
  ]);
  // The chunk column instead of the NER column.
  assert.deepEqual(parseConll(CONLL_2003, { tagColumn: 2 })[1]!.tags, ['B-NP', 'I-NP']);
  assert.deepEqual(parseConll(CONLL_2003, { tagColumn: -2 })[1]!.tags, ['B-NP', 'I-NP']);
  // CRLF, tabs, a byte-order mark and a trailing blank line change nothing.
  const windows = '\ufeff' + CONLL_2003.replaceAll(' ', '\t').replaceAll('\n', '\r\n') + '\r\n\r\n';
  assert.deepEqual(parseConll(windows), sentences);
  // -DOCSTART- ends a sentence even without a blank line before it.
  assert.deepEqual(parseConll('a O\n-DOCSTART- O\nb O').map((sentence) => sentence.words), [['a'], ['b']]);
  assert.equal(parseTagged(CONLL_2003, 'conll').length, 3);
});

test('parseConll errors name file, line and column', () => {
  throwsAt(() => parseConll('EU\nrejects O\n', { file: 'a.conll' }), { file: 'a.conll', line: 1 }, /too few columns: found 1/);
  throwsAt(() => parseConll('EU NNP B-ORG\nrejects O\n', { file: 'a.conll' }), { file: 'a.conll', line: 2 }, /too few columns: found 2, expected 3 as on line 1/);
  throwsAt(() => parseConll('EU NNP B-ORG\n\nrejects VBZ B-VP O\n'), { line: 3 }, /too many columns: found 4, expected 3/);
  throwsAt(() => parseConll('EU NNP B-ORG\n', { tagColumn: 3 }), { line: 1 }, /needs at least 4/);
  throwsAt(() => parseConll('EU B-ORG\n', { tagColumn: 0 }), { field: 'tagColumn' }, /column 0 is the word/);
  throwsAt(
    () => parseConll(CONLL_2003, { file: 'train.txt', tagSet: ['O', 'B-ORG', 'I-ORG', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'] }),
    { file: 'train.txt', line: 5, field: 'column 4' },
    /unknown tag "B-MISC" \(the tag set has 7: O, B-ORG/,
  );
  throwsAt(() => parseConll('a O\nb I-PER\n', { scheme: 'IOB2', file: 'x' }), { file: 'x', line: 2, field: 'column 2' }, /"I-PER" after "O": I-PER must follow B-PER or I-PER/);
  throwsAt(() => parseConll('a B-PER\nb I-PER\n\nc O', { scheme: 'IOBES' }), { line: 2, field: 'column 2' }, /ends inside a PER entity/);
  throwsAt(() => parseConll('\n-DOCSTART- -X- O\n\n', { file: 'empty.conll' }), { file: 'empty.conll' }, /no sentences/);
  // A valid sequence of the scheme passes.
  assert.equal(parseConll(CONLL_2003, { scheme: 'IOB2' }).length, 3);
});

test('parseTaggedJsonl: tokens and tags, configurable fields, integer ids through the tag set', () => {
  const content = [
    '{"tokens": ["EU", "rejects", "German", "call"], "tags": ["B-ORG", "O", "B-MISC", "O"]}',
    '',
    '{"tokens": ["Peter", "Blackburn"], "tags": ["B-PER", "I-PER"], "id": 7}',
  ].join('\r\n');
  assert.deepEqual(parseTaggedJsonl(content, { file: 'a.jsonl' }), [
    { line: 1, words: ['EU', 'rejects', 'German', 'call'], tags: ['B-ORG', 'O', 'B-MISC', 'O'] },
    { line: 3, words: ['Peter', 'Blackburn'], tags: ['B-PER', 'I-PER'] },
  ]);
  // As Hugging Face datasets export conll2003: integer ner_tags, names from the features (= id2label).
  const names = ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC'];
  const exported = '{"id": "0", "words": ["EU", "rejects", "German"], "ner_tags": [3, 0, 7]}\n';
  assert.deepEqual(parseTagged(exported, 'jsonl', { tokensField: 'words', tagsField: 'ner_tags', tagSet: names }), [
    { line: 1, words: ['EU', 'rejects', 'German'], tags: ['B-ORG', 'O', 'B-MISC'] },
  ]);
});

test('parseTaggedJsonl errors name file, line and field', () => {
  const at = (line: number, field?: string) => (field === undefined ? { file: 'd.jsonl', line } : { file: 'd.jsonl', line, field });
  const parse = (content: string, options = {}) => () => parseTaggedJsonl(content, { file: 'd.jsonl', ...options });
  const ok = '{"tokens": ["a"], "tags": ["O"]}\n';
  throwsAt(parse(ok + '{"tokens": ["a"], "tags": ["O"]\n'), at(2), /malformed JSON/);
  throwsAt(parse('[1, 2]'), at(1), /row must be a JSON object, got an array/);
  throwsAt(parse('{"words": ["a"], "tags": ["O"]}'), at(1, 'tokens'), /missing tokens field \(available fields: "words", "tags"\)/);
  throwsAt(parse('{"tokens": ["a"]}'), at(1, 'tags'), /missing tags field/);
  throwsAt(parse('{"tokens": "a b", "tags": ["O"]}'), at(1, 'tokens'), /must be an array of strings, got a string/);
  throwsAt(parse('{"tokens": ["a", 3], "tags": ["O", "O"]}'), at(1, 'tokens'), /token 2 must be a string, got a number/);
  throwsAt(parse('{"tokens": ["a", null], "tags": ["O", "O"]}'), at(1, 'tokens'), /token 2 must be a string, got null/);
  throwsAt(parse('{"tokens": [], "tags": []}'), at(1, 'tokens'), /empty sentence/);
  throwsAt(parse('{"tokens": ["a", ""], "tags": ["O", "O"]}'), at(1, 'tokens'), /token 2 is empty/);
  throwsAt(parse('{"tokens": ["a", " "], "tags": ["O", "O"]}'), at(1, 'tokens'), /token 2 is only whitespace/);
  throwsAt(parse('{"tokens": ["a", "b"], "tags": ["O"]}'), at(1, 'tags'), /1 tags for 2 tokens/);
  throwsAt(parse('{"tokens": ["a"], "tags": "O"}'), at(1, 'tags'), /tags must be an array, got a string/);
  throwsAt(parse('{"tokens": ["a"], "tags": [0]}'), at(1, 'tags'), /integer tags need the tag names/);
  throwsAt(parse('{"tokens": ["a"], "tags": [9]}', { tagSet: ['O', 'B-X'] }), at(1, 'tags'), /9, not an id of the tag set \(0 to 1\)/);
  throwsAt(parse('{"tokens": ["a"], "tags": [""]}'), at(1, 'tags'), /tag 1 is empty/);
  throwsAt(parse('{"tokens": ["a"], "tags": [true]}'), at(1, 'tags'), /tag 1 must be a string, got a boolean/);
  throwsAt(parse(ok + '{"tokens": ["a"], "tags": ["B-PRE"]}', { tagSet: ['O', 'B-PER'] }), at(2, 'tags'), /unknown tag "B-PRE"/);
  throwsAt(parse('{"tokens": ["a", "b"], "tags": ["B-PER", "S-PER"]}', { scheme: 'IOBES' }), at(1, 'tags'), /continues with I-PER or ends with E-PER/);
  throwsAt(parse('\n\n'), { file: 'd.jsonl' }, /no sentences/);
});

test('collectTags: O first, then by entity type, then B, I, E, S within a type', () => {
  const sentences = parseConll(CONLL_2003);
  assert.deepEqual(collectTags(sentences), ['O', 'B-LOC', 'B-MISC', 'B-ORG', 'B-PER', 'I-PER']);
  const tags = ['S-PER', 'I-LOC', 'O', 'E-PER', 'B-PER', 'I-PER', 'B-LOC', 'E-LOC', 'S-LOC', 'PER', 'U-PER', 'L-PER', 'X-PER'];
  assert.deepEqual(collectTags([{ tags }]), ['O', 'B-LOC', 'I-LOC', 'E-LOC', 'S-LOC', 'PER', 'B-PER', 'I-PER', 'E-PER', 'S-PER', 'L-PER', 'U-PER', 'X-PER']);
  // Sorted, unique, complete, and independent of the data's order.
  const tag = fc.constantFrom('O', 'B-PER', 'I-PER', 'E-PER', 'S-PER', 'B-LOC', 'I-LOC', 'B-ORG-X', 'MISC', 'B-𝒜', 'B-Ｚ');
  fc.assert(
    fc.property(fc.array(fc.array(tag, { maxLength: 6 }), { maxLength: 6 }), (sentenceTags) => {
      const collected = collectTags(sentenceTags.map((list) => ({ tags: list })));
      assert.deepEqual(new Set(collected), new Set(sentenceTags.flat()));
      assert.equal(new Set(collected).size, collected.length);
      for (let i = 1; i < collected.length; i++) assert.ok(compareTags(collected[i - 1]!, collected[i]!) < 0);
      if (collected.includes('O')) assert.equal(collected[0], 'O');
      assert.deepEqual(collectTags([{ tags: sentenceTags.flat().reverse() }]), collected);
    }),
  );
  // Python's code point order: U+1D49C (𝒜) sorts after U+FF3A (Ｚ), unlike UTF-16 order.
  assert.ok(compareCodePoints('𝒜', 'Ｚ') > 0 && '𝒜' < 'Ｚ');
});

test('detectScheme: IOB2, IOBES, or null for IOB1-style, unprefixed or BILOU tag sets', () => {
  assert.equal(detectScheme(['O', 'B-PER', 'I-PER', 'B-LOC']), 'IOB2');
  assert.equal(detectScheme(['O']), 'IOB2');
  assert.equal(detectScheme(['O', 'B-PER', 'I-PER', 'E-PER', 'S-PER']), 'IOBES');
  assert.equal(detectScheme(['O', 'S-PER']), 'IOBES');
  assert.equal(detectScheme(['O', 'I-PER', 'B-LOC', 'I-LOC']), null);
  assert.equal(detectScheme(['O', 'PER']), null);
  assert.equal(detectScheme(['O', 'B-PER', 'L-PER', 'U-PER']), null);
  assert.equal(detectScheme(['B-']), null);
});

test('findSchemeViolation: hand cases', () => {
  assert.equal(findSchemeViolation(['B-PER', 'I-PER', 'O', 'B-LOC', 'B-LOC'], 'IOB2'), null);
  assert.deepEqual(findSchemeViolation(['I-PER'], 'IOB2'), { index: 0, detail: '"I-PER" at the start of the sentence: I-PER must follow B-PER or I-PER' });
  assert.equal(findSchemeViolation(['B-PER', 'I-LOC'], 'IOB2')?.index, 1);
  assert.equal(findSchemeViolation(['B-PER', 'E-PER'], 'IOB2')?.detail, '"E-PER" is not an IOB2 tag (expected O or B-TYPE, I-TYPE)');
  assert.equal(findSchemeViolation(['PER'], 'IOB2')?.index, 0);
  assert.equal(findSchemeViolation(['B-PER', 'I-PER', 'E-PER', 'S-LOC', 'O'], 'IOBES'), null);
  assert.equal(findSchemeViolation(['B-PER', 'O'], 'IOBES')?.index, 1);
  assert.equal(findSchemeViolation(['O', 'E-PER'], 'IOBES')?.index, 1);
  assert.equal(findSchemeViolation(['S-PER', 'I-PER'], 'IOBES')?.index, 1);
  assert.equal(findSchemeViolation(['B-PER', 'E-LOC'], 'IOBES')?.index, 1);
  assert.equal(findSchemeViolation(['B-PER', 'I-PER'], 'IOBES')?.index, 1);
  assert.equal(findSchemeViolation([], 'IOBES'), null);
});

test('property: sequences built from whole entities are valid, one corrupted tag is found at or after it', () => {
  const TYPES = ['PER', 'LOC'];
  for (const scheme of ['IOB2', 'IOBES'] as const) {
    const piece = fc.oneof(
      fc.constant(['O']),
      fc.tuple(fc.constantFrom(...TYPES), fc.integer({ min: 1, max: 4 })).map(([type, length]) =>
        scheme === 'IOB2'
          ? [`B-${type}`, ...Array(length - 1).fill(`I-${type}`)]
          : length === 1
            ? [`S-${type}`]
            : [`B-${type}`, ...Array(length - 2).fill(`I-${type}`), `E-${type}`],
      ),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }).map((pieces) => pieces.flat() as string[]), fc.nat(), (tags, where) => {
        assert.equal(findSchemeViolation(tags, scheme), null);
        assert.equal(detectScheme(tags) === scheme || !tags.some((tag) => /^[ES]-/.test(tag)), true);
        if (tags.length === 0) return;
        // An I- right after O (or at the start) is never valid.
        const position = where % tags.length;
        const previousIsOutside = position === 0 || tags[position - 1] === 'O' || /^[ES]-/.test(tags[position - 1]!);
        if (!previousIsOutside) return;
        const corrupted = [...tags];
        corrupted[position] = 'I-PER';
        const violation = findSchemeViolation(corrupted, scheme);
        assert.ok(violation !== null && violation.index <= position, JSON.stringify({ corrupted, violation }));
      }),
      { numRuns: 300 },
    );
  }
});

test('taggedFormatOf: by extension', () => {
  assert.equal(taggedFormatOf('data/train.conll'), 'conll');
  assert.equal(taggedFormatOf('NER.BIO'), 'conll');
  assert.equal(taggedFormatOf('x.jsonl'), 'jsonl');
  assert.equal(taggedFormatOf('x.txt'), undefined);
  assert.equal(taggedFormatOf('dir.conll/file'), undefined);
  assert.throws(() => parseTagged('', 'xml' as 'conll'), /unknown tagged data format/);
});

test('property: CoNLL written from sentences parses back to them (line numbers included)', () => {
  const word = fc.stringMatching(/^[A-Za-z0-9.,'-]{1,8}$/).filter((text) => text !== '-DOCSTART-');
  const sentence = fc.array(fc.tuple(word, fc.constantFrom('O', 'B-PER', 'I-PER', 'B-LOC')), { minLength: 1, maxLength: 6 });
  fc.assert(
    fc.property(fc.array(sentence, { minLength: 1, maxLength: 5 }), fc.boolean(), (pairs, trailingBlank) => {
      const lines: string[] = [];
      const expected: TaggedSentence[] = [];
      for (const tokens of pairs) {
        expected.push({ line: lines.length + 1, words: tokens.map(([w]) => w), tags: tokens.map(([, t]) => t) });
        for (const [w, t] of tokens) lines.push(`${w} X ${t}`);
        lines.push('');
      }
      const content = (trailingBlank ? lines : lines.slice(0, -1)).join('\n');
      assert.deepEqual(parseConll(content), expected);
    }),
  );
});
