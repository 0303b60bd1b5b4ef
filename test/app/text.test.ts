import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError, DataError } from '../../src/core/errors.js';
import {
  packDocuments,
  parseTextDocuments,
  textFormatOf,
  truncateDocuments,
  type EncodedText,
  type TextDocument,
} from '../../src/app/data/text.js';

const CLS = 101;
const SEP = 102;

/**
 * A tokenizer stand-in: [CLS] pieces [SEP], one word per space-separated word, words longer than
 * four characters in two pieces; ids are 1000 + char codes so tests can read them back.
 */
function encode(text: string): EncodedText {
  const ids = [CLS];
  const specialTokensMask = [1];
  const wordIds: (number | null)[] = [null];
  text
    .split(' ')
    .filter((word) => word.length > 0)
    .forEach((word, index) => {
      const pieces = word.length > 4 ? [word.slice(0, 4), word.slice(4)] : [word];
      for (const piece of pieces) {
        ids.push(1000 + piece.charCodeAt(0));
        specialTokensMask.push(0);
        wordIds.push(index);
      }
    });
  ids.push(SEP);
  specialTokensMask.push(1);
  wordIds.push(null);
  return { ids, specialTokensMask, wordIds };
}

const documents = (...texts: string[]): TextDocument[] => texts.map((text, index) => ({ text, line: index + 1 }));

test('plain text: one document per line, blank lines (Python isspace) skipped and counted', () => {
  const content = '\ufefffirst line\r\n\r\n  \nsecond\rthird \u3000\n\u3000\x1c\t\n\nlast\n';
  const { documents: docs, blankSkipped } = parseTextDocuments(content, { format: 'text', file: 'corpus.txt' });
  assert.deepEqual(docs, [
    { text: 'first line', line: 1 },
    { text: 'second', line: 4 },
    { text: 'third \u3000', line: 5 },
    { text: 'last', line: 8 },
  ]);
  assert.equal(blankSkipped, 4); // lines 2, 3, 6 and 7
  assert.deepEqual(parseTextDocuments('only', { format: 'text' }).documents, [{ text: 'only', line: 1 }]);
  assert.deepEqual(parseTextDocuments('', { format: 'text' }), { documents: [], blankSkipped: 1 });
  // U+FEFF inside a line is not whitespace for Python, so that line is a document.
  assert.equal(parseTextDocuments('a\n\ufeff\n', { format: 'text' }).documents.length, 2);
});

test('JSONL text field: documents, blank texts skipped, errors with file, line and field', () => {
  const content = '{"text": "hello world", "id": 1}\n\n{"text": ""}\n{"text": "bye"}\n';
  assert.deepEqual(parseTextDocuments(content, { format: 'jsonl' }), {
    documents: [
      { text: 'hello world', line: 1 },
      { text: 'bye', line: 4 },
    ],
    blankSkipped: 1,
  });
  assert.deepEqual(parseTextDocuments('{"body": "x"}', { format: 'jsonl', textField: 'body' }).documents, [{ text: 'x', line: 1 }]);
  const fails = (text: string, where: object, detail: RegExp) =>
    assert.throws(
      () => parseTextDocuments(text, { format: 'jsonl', file: 'c.jsonl' }),
      (error: unknown) => error instanceof DataError && assert.deepEqual({ file: error.file, line: error.line, field: error.field }, where) === undefined && detail.test(error.detail),
    );
  fails('{"text": "a"}\n{"text": "b"', { file: 'c.jsonl', line: 2, field: undefined }, /malformed JSON/);
  fails('"just a string"', { file: 'c.jsonl', line: 1, field: undefined }, /JSON object, got a string/);
  fails('{"body": "a"}', { file: 'c.jsonl', line: 1, field: 'text' }, /missing text field \(available fields: "body"\)/);
  fails('{"text": null}', { file: 'c.jsonl', line: 1, field: 'text' }, /must be a string, got null/);
  fails('{"text": ["a"]}', { file: 'c.jsonl', line: 1, field: 'text' }, /must be a string, got an array/);
});

test('CSV / TSV text column: quoted fields across lines keep their line numbers', () => {
  const content = 'id,text\n1,"first, with comma"\n\n2,"spans\r\ntwo lines"\n3,""\n4,plain\n';
  assert.deepEqual(parseTextDocuments(content, { format: 'csv' }), {
    documents: [
      { text: 'first, with comma', line: 2 },
      { text: 'spans\r\ntwo lines', line: 4 },
      { text: 'plain', line: 7 },
    ],
    blankSkipped: 1,
  });
  assert.deepEqual(parseTextDocuments('text\tlabel\nhé "quoted" ünïcode\tx\n', { format: 'tsv' }).documents, [{ text: 'hé "quoted" ünïcode', line: 2 }]);
  assert.throws(
    () => parseTextDocuments('id,body\n1,a\n', { format: 'csv', file: 'c.csv' }),
    (error: unknown) => error instanceof DataError && error.line === 1 && error.field === 'text' && /available columns: "id", "body"/.test(error.detail),
  );
  assert.throws(
    () => parseTextDocuments('id,text\n1,a\n"2","b",extra\n', { format: 'csv', file: 'c.csv' }),
    (error: unknown) => error instanceof DataError && error.file === 'c.csv' && error.line === 3 && /expected 2 columns as in the header, found 3/.test(error.detail),
  );
  assert.throws(() => parseTextDocuments('x', { format: 'xml' as 'text' }), /unknown text format/);
  assert.equal(textFormatOf('wiki.train.raw'), 'text');
  assert.equal(textFormatOf('a.TSV'), 'tsv');
  assert.equal(textFormatOf('noext'), undefined);
});

/**
 * run_mlm.py's group_texts, transcribed line by line (for one key), applied to each batch of
 * `batchSize` tokenized examples as datasets.map(batched=True) does:
 *
 *     concatenated_examples = {k: list(chain(*examples[k])) for k in examples.keys()}
 *     total_length = len(concatenated_examples[list(examples.keys())[0]])
 *     if total_length >= max_seq_length:
 *         total_length = (total_length // max_seq_length) * max_seq_length
 *     result = {k: [t[i : i + max_seq_length] for i in range(0, total_length, max_seq_length)] ...}
 */
function groupTextsReference<T>(examples: T[][], maxSeqLength: number, batchSize: number): T[][] {
  const result: T[][] = [];
  for (let first = 0; first < examples.length; first += batchSize) {
    const concatenated = examples.slice(first, first + batchSize).flat();
    let totalLength = concatenated.length;
    if (totalLength >= maxSeqLength) totalLength = Math.floor(totalLength / maxSeqLength) * maxSeqLength;
    for (let i = 0; i < totalLength; i += maxSeqLength) result.push(concatenated.slice(i, i + maxSeqLength));
  }
  return result;
}

test('packDocuments: group_texts by hand — blocks of maxSeqLength, remainder dropped, a short group kept whole', () => {
  // "aa bb cc" → [CLS] a b c [SEP] (5), "dd eeeee" → [CLS] d e e [SEP] (5): 10 tokens, blocks of 4.
  const packed = packDocuments(documents('aa bb cc', 'dd eeeee'), encode, { maxSeqLength: 4 });
  const a = 1000 + 'a'.charCodeAt(0);
  const d = 1000 + 'd'.charCodeAt(0);
  assert.deepEqual(
    packed.blocks.map((block) => block.ids),
    [
      [CLS, a, a + 1, a + 2],
      [SEP, CLS, d, d + 1],
    ],
  );
  assert.deepEqual(packed.blocks.map((block) => block.specialTokensMask), [
    [1, 0, 0, 0],
    [1, 1, 0, 0],
  ]);
  // Word ids renumbered per block; "eeeee" is two pieces of one word, cut by the block end.
  assert.deepEqual(packed.blocks.map((block) => block.wordIds), [
    [null, 0, 1, 2],
    [null, null, 0, 1],
  ]);
  assert.deepEqual(packed.blocks.map((block) => block.line), [1, 1]);
  // Two documents in one block: their words stay apart; a block starting in document 2 has its line.
  const both = packDocuments(documents('aa bb', 'cc dd ee ff'), encode, { maxSeqLength: 8 });
  assert.deepEqual(both.blocks.map((block) => [block.line, block.wordIds]), [[1, [null, 0, 1, null, null, 2, 3, 4]]]);
  assert.deepEqual(packDocuments(documents('aa', 'bb cc dd ee'), encode, { maxSeqLength: 3 }).blocks.map((block) => block.line), [1, 2, 2]);
  assert.deepEqual([packed.tokens, packed.droppedTokens], [10, 2]);
  // Fewer tokens than one block: run_mlm keeps the one short block.
  const short = packDocuments(documents('aa'), encode, { maxSeqLength: 8 });
  assert.deepEqual(short.blocks.map((block) => block.ids), [[CLS, a, SEP]]);
  assert.equal(short.droppedTokens, 0);
  assert.deepEqual(packDocuments([], encode, { maxSeqLength: 8 }), { blocks: [], tokens: 0, droppedTokens: 0 });
  // The remainder is dropped per group of mapBatchSize documents.
  const perGroup = packDocuments(documents('aa bb cc', 'dd eeeee'), encode, { maxSeqLength: 4, mapBatchSize: 1 });
  assert.deepEqual(perGroup.blocks.map((block) => [block.line, block.ids.length]), [
    [1, 4],
    [2, 4],
  ]);
  assert.equal(perGroup.droppedTokens, 2);
});

test('property: packDocuments equals run_mlm group_texts, flags and word ids travel with the ids', () => {
  const word = fc.stringMatching(/^[a-z]{1,7}$/);
  const text = fc.array(word, { maxLength: 12 }).map((words) => words.join(' '));
  fc.assert(
    fc.property(fc.array(text, { maxLength: 30 }), fc.integer({ min: 1, max: 24 }), fc.constantFrom(1, 3, 7, 1000, Infinity), (texts, maxSeqLength, mapBatchSize) => {
      const docs = documents(...texts);
      const packed = packDocuments(docs, encode, { maxSeqLength, mapBatchSize });
      const encoded = texts.map(encode);
      const batchSize = mapBatchSize === Infinity ? Math.max(1, texts.length) : mapBatchSize;
      assert.deepEqual(packed.blocks.map((block) => block.ids), groupTextsReference(encoded.map((e) => e.ids), maxSeqLength, batchSize));
      assert.deepEqual(packed.blocks.map((block) => block.specialTokensMask), groupTextsReference(encoded.map((e) => e.specialTokensMask), maxSeqLength, batchSize));
      // Each block's line is that of its first token's document; equal word ids ⇔ the same word of the same document.
      const lines = groupTextsReference(encoded.map((e, doc) => e.ids.map(() => docs[doc]!.line)), maxSeqLength, batchSize);
      assert.deepEqual(packed.blocks.map((block) => block.line), lines.map((blockLines) => blockLines[0]));
      const words = groupTextsReference(encoded.map((e, doc) => e.wordIds.map((word) => (word === null ? null : `${doc}:${word}`))), maxSeqLength, batchSize);
      packed.blocks.forEach((block, b) =>
        block.wordIds.forEach((x, i) => block.wordIds.forEach((y, j) => x !== null && y !== null && assert.equal(x === y, words[b]![i] === words[b]![j]))),
      );
      const kept = packed.blocks.reduce((sum, block) => sum + block.ids.length, 0);
      assert.equal(packed.tokens, encoded.reduce((sum, e) => sum + e.ids.length, 0));
      assert.equal(packed.tokens - packed.droppedTokens, kept);
      for (const block of packed.blocks) {
        assert.ok(block.ids.length <= maxSeqLength);
        block.ids.forEach((id, i) => assert.equal(block.specialTokensMask[i], id === CLS || id === SEP ? 1 : 0));
        // Word ids: null exactly on specials, numbered 0, 1, 2 … in order of appearance.
        const numbers = block.wordIds.filter((wordId): wordId is number => wordId !== null);
        assert.equal(numbers.length, block.specialTokensMask.filter((flag) => flag === 0).length);
        let next = 0;
        for (const wordId of numbers) {
          assert.ok(wordId <= next);
          if (wordId === next) next++;
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('truncateDocuments: line by line, cut as the tokenizer truncates one sequence, template kept', () => {
  const a = 1000 + 'a'.charCodeAt(0);
  const result = truncateDocuments(documents('aa bb cc dd', 'x', 'hello'), encode, { maxSeqLength: 4 });
  assert.deepEqual(
    result.blocks.map((block) => block.ids),
    [
      [CLS, a, a + 1, SEP],
      [CLS, 1000 + 'x'.charCodeAt(0), SEP],
      [CLS, 1000 + 'h'.charCodeAt(0), 1000 + 'o'.charCodeAt(0), SEP],
    ],
  );
  assert.deepEqual(result.blocks[0]!.specialTokensMask, [1, 0, 0, 1]);
  assert.deepEqual(result.blocks[0]!.wordIds, [null, 0, 1, null]);
  assert.deepEqual(result.blocks.map((block) => block.line), [1, 2, 3]);
  assert.equal(result.truncated, 1);
  // A special token written in the text (it has a word id) is text, not template.
  const withMask = (): EncodedText => ({ ids: [CLS, 7, 8, 103, SEP], specialTokensMask: [1, 0, 0, 1, 1], wordIds: [null, 0, 1, 2, null] });
  assert.deepEqual(truncateDocuments(documents('_'), withMask, { maxSeqLength: 4 }).blocks[0]!.ids, [CLS, 7, 8, SEP]);
  assert.throws(() => truncateDocuments(documents('aa bb'), encode, { maxSeqLength: 2 }), (error: unknown) => error instanceof ConfigError && error.field === 'maxSeqLength');
  // Short documents need no room: maxSeqLength 2 is fine when nothing is cut.
  assert.equal(truncateDocuments(documents(''), encode, { maxSeqLength: 2 }).blocks.length, 1);
  fc.assert(
    fc.property(fc.array(fc.stringMatching(/^[a-z]{1,6}( [a-z]{1,6}){0,9}$/), { maxLength: 10 }), fc.integer({ min: 3, max: 12 }), (texts, maxSeqLength) => {
      const { blocks, truncated } = truncateDocuments(documents(...texts), encode, { maxSeqLength });
      assert.equal(blocks.length, texts.length);
      blocks.forEach((block, i) => {
        const full = encode(texts[i]!).ids;
        assert.ok(block.ids.length === Math.min(full.length, maxSeqLength));
        assert.deepEqual(block.ids, full.length <= maxSeqLength ? full : [...full.slice(0, maxSeqLength - 1), SEP]);
      });
      assert.equal(truncated, texts.filter((t) => encode(t).ids.length > maxSeqLength).length);
    }),
  );
});

test('settings and tokenizer output are checked', () => {
  assert.throws(() => packDocuments(documents('a'), encode, { maxSeqLength: 0 }), (error: unknown) => error instanceof ConfigError && error.field === 'maxSeqLength');
  assert.throws(() => packDocuments(documents('a'), encode, { maxSeqLength: 4, mapBatchSize: 0 }), (error: unknown) => error instanceof ConfigError && error.field === 'mapBatchSize');
  const broken = (): EncodedText => ({ ids: [1, 2], specialTokensMask: [1], wordIds: [null, null] });
  assert.throws(
    () => packDocuments([{ text: 'x', line: 9 }], broken, { maxSeqLength: 4, file: 'c.txt' }),
    (error: unknown) => error instanceof DataError && error.file === 'c.txt' && error.line === 9 && /2 ids, 1 special-token flags/.test(error.detail),
  );
  assert.throws(() => truncateDocuments([{ text: 'x', line: 9 }], broken, { maxSeqLength: 4 }), DataError);
});
