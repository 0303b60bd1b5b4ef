import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempdir.js';
import { type ReadOptions } from '../../src/app/data/index.js';
import { readLabelledFile } from '../../src/node/files.js';
import { DataError } from '../../src/core/errors.js';

const dir = tempDir('data');

function write(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Asserts a DataError whose file/line/field are set and whose message names them. */
async function expectDataError(
  run: () => Promise<unknown>,
  expected: { file: string; line?: number; field?: string; message: RegExp },
): Promise<void> {
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof DataError, `expected DataError, got ${String(error)}`);
    assert.equal(error.file, expected.file);
    assert.equal(error.line, expected.line);
    assert.equal(error.field, expected.field);
    assert.ok(error.message.startsWith(expected.file), error.message);
    if (expected.line !== undefined) assert.ok(error.message.includes(`line ${expected.line}`), error.message);
    if (expected.field !== undefined) assert.ok(error.message.includes(`field "${expected.field}"`), error.message);
    assert.match(error.message, expected.message);
    return true;
  });
}

test('JSONL: rows with line numbers, integer labels as strings, blank lines keep the count', async () => {
  const file = write('ok.jsonl', '{"text": "good film", "label": "pos"}\n\n{"text": "bad", "label": 1, "extra": true}\r\n  \n{"text":"meh","label":"pos"}\n\n');
  const { rows, report } = await readLabelledFile(file);
  assert.deepEqual(rows, [
    { text: 'good film', label: 'pos', line: 1 },
    { text: 'bad', label: '1', line: 3 },
    { text: 'meh', label: 'pos', line: 5 },
  ]);
  assert.deepEqual({ ...report, labels: { ...report.labels } }, { file, format: 'jsonl', textField: 'text', labelField: 'label', rowsRead: 3, labels: { pos: 2, '1': 1 } });
  const odd = await readLabelledFile(write('proto.jsonl', '{"text": "a", "label": "__proto__"}\n'));
  assert.deepEqual(Object.entries(odd.report.labels), [['__proto__', 1]]);
});

test('JSONL: custom fields, .ndjson/.json-lines extensions, explicit format', async () => {
  const options: ReadOptions = { textField: 'sentence', labelField: 'y' };
  const content = '{"sentence": "a", "y": "b"}\n';
  for (const name of ['f.ndjson', 'f.json-lines', 'f.JSONL']) {
    assert.deepEqual((await readLabelledFile(write(name, content), options)).rows, [{ text: 'a', label: 'b', line: 1 }]);
  }
  const odd = write('data.txt', content);
  assert.equal((await readLabelledFile(odd, { ...options, format: 'jsonl' })).report.format, 'jsonl');
});

test('JSONL errors name file, line and field', async () => {
  const bad = (content: string) => write('bad.jsonl', content);
  let file = bad('{"text": "a", "label": "x"}\n{"text": "b", "label": \n');
  await expectDataError(() => readLabelledFile(file), { file, line: 2, message: /malformed JSON/ });
  file = bad('{"text": "a", "label": "x"}\n\n[1, 2]\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 3, message: /row must be a JSON object, got an array/ });
  file = bad('"just a string"\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 1, message: /row must be a JSON object, got a string/ });
  file = bad('{"body": "a", "label": "x"}\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 1, field: 'text', message: /missing text field \(available fields: "body", "label"\)/ });
  file = bad('{"text": "a", "label": "x"}\n{"text": "a", "tag": "x"}\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 2, field: 'label', message: /missing label field \(available fields: "text", "tag"\)/ });
  file = bad('{"text": 5, "label": "x"}\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 1, field: 'text', message: /text must be a string, got a number/ });
  file = bad('{"text": "  ", "label": "x"}\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 1, field: 'text', message: /text is empty/ });
  file = bad('{"text": "a", "label": 1.5}\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 1, field: 'label', message: /string or an integer, got 1\.5/ });
  file = bad('{"text": "a", "label": ["x"]}\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 1, field: 'label', message: /got an array/ });
  file = bad('{"text": "a", "label": null}\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 1, field: 'label', message: /label is null/ });
  file = bad('{"text": "a", "label": ""}\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 1, field: 'label', message: /label is empty/ });
});

test('requireLabel = false gives null labels for missing ones', async () => {
  const file = write('unlabelled.jsonl', '{"text": "a"}\n{"text": "b", "label": null}\n{"text": "c", "label": "z"}\n{"text": "d", "label": " "}\n');
  const { rows, report } = await readLabelledFile(file, { requireLabel: false });
  assert.deepEqual(rows.map((row) => row.label), [null, null, 'z', null]);
  assert.deepEqual({ ...report.labels }, { z: 1 });
  const csv = write('unlabelled.csv', 'text\nhello\n');
  assert.deepEqual((await readLabelledFile(csv, { requireLabel: false })).rows, [{ text: 'hello', label: null, line: 2 }]);
  const emptyCell = write('empty-cell.csv', 'text,label\nhello,\n');
  assert.deepEqual((await readLabelledFile(emptyCell, { requireLabel: false })).rows, [{ text: 'hello', label: null, line: 2 }]);
});

test('CSV: quoted commas, doubled quotes and line breaks inside quotes keep later line numbers right', async () => {
  const file = write(
    'quoted.csv',
    '\ufefftext,label\r\n"a, b",x\r\n"multi\r\nline ""quoted""",y\r\n\r\nplain,z\r\nsays "hi" here,w\r\n"é, ü",x',
  );
  const { rows, report } = await readLabelledFile(file);
  assert.deepEqual(rows, [
    { text: 'a, b', label: 'x', line: 2 },
    { text: 'multi\r\nline "quoted"', label: 'y', line: 3 },
    { text: 'plain', label: 'z', line: 6 },
    { text: 'says "hi" here', label: 'w', line: 7 },
    { text: 'é, ü', label: 'x', line: 8 },
  ]);
  assert.equal(report.format, 'csv');
  assert.deepEqual({ ...report.labels }, { x: 2, y: 1, z: 1, w: 1 });
});

test('CSV: extra columns are ignored, fields are chosen by header name', async () => {
  const file = write('cols.csv', 'id,label,body\n1,spam,"buy, now"\n2,ham,hi\n');
  assert.deepEqual((await readLabelledFile(file, { textField: 'body' })).rows, [
    { text: 'buy, now', label: 'spam', line: 2 },
    { text: 'hi', label: 'ham', line: 3 },
  ]);
});

test('TSV: tab-separated with excel-tab quoting, .tsv and .tab extensions', async () => {
  const content = 'text\tlabel\n"tab\tinside"\tx\nsays "hi", ok\ty\n"two\nlines"\tz\nlast\tx\n';
  for (const name of ['data.tsv', 'data.tab']) {
    const { rows, report } = await readLabelledFile(write(name, content));
    assert.equal(report.format, 'tsv');
    assert.deepEqual(rows, [
      { text: 'tab\tinside', label: 'x', line: 2 },
      { text: 'says "hi", ok', label: 'y', line: 3 },
      { text: 'two\nlines', label: 'z', line: 4 },
      { text: 'last', label: 'x', line: 6 },
    ]);
  }
});

test('CSV/TSV errors name file, line and field', async () => {
  let file = write('columns.csv', 'text,label\n"a\nb",x\n\nc,y,extra\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 5, message: /expected 2 columns as in the header, found 3/ });
  file = write('short.tsv', 'text\tlabel\nonly one column\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 2, message: /expected 2 columns as in the header, found 1/ });
  file = write('nolabel.csv', 'text,category\na,b\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 1, field: 'label', message: /missing label column \(available columns: "text", "category"\)/ });
  file = write('notext.csv', 'sentence,label\na,b\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 1, field: 'text', message: /missing text column/ });
  file = write('emptytext.csv', 'text,label\na,b\n"",c\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 3, field: 'text', message: /text is empty/ });
  file = write('emptylabel.csv', 'text,label\na,b\nc,\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 3, field: 'label', message: /label is empty/ });
  file = write('unclosed.csv', 'text,label\na,b\n\n"never closed,c\nd,e\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 4, message: /malformed CSV record starting on this line: Quote Not Closed/ });
  file = write('dup.csv', 'text,label,text\na,b,c\n');
  await expectDataError(() => readLabelledFile(file), { file, line: 1, message: /duplicate column "text"/ });
});

test('file-level errors: missing file, directory, empty file, header only, unknown format', async () => {
  let file = join(dir, 'absent.jsonl');
  await expectDataError(() => readLabelledFile(file), { file, message: /file not found/ });
  file = join(dir, 'folder.csv');
  mkdirSync(file);
  await expectDataError(() => readLabelledFile(file), { file, message: /not a regular file/ });
  for (const name of ['empty.jsonl', 'empty.csv']) {
    file = write(name, '');
    await expectDataError(() => readLabelledFile(file), { file, message: /the file is empty/ });
  }
  file = write('blank.jsonl', '\n\n  \n');
  await expectDataError(() => readLabelledFile(file), { file, message: /the file is empty/ });
  file = write('header.csv', 'text,label\n');
  await expectDataError(() => readLabelledFile(file), { file, message: /no data rows/ });
  file = write('data.xlsx', 'x');
  await expectDataError(() => readLabelledFile(file), { file, message: /unknown data format "\.xlsx"/ });
  await expectDataError(() => readLabelledFile(file, { format: 'parquet' as never }), { file, message: /unknown data format "parquet"/ });
  await expectDataError(() => readLabelledFile(file, { format: 'toString' as never }), { file, message: /unknown data format "toString"/ });
});
