import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../../src/core/errors.js';
import { canonicalJson, configId, expandGrid, stableHash } from '../../../src/app/sweep/grid.js';
import { parseBooleanList, parseChoiceList, parseIntegerList, parseNumberList, parseSettingList } from '../../../src/app/sweep/lists.js';

function throwsConfig(run: () => unknown, field: string, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.field, field);
    assert.match(error.message, pattern);
    return true;
  });
}

test('parseIntegerList: ranges, lists, mixtures, in the order given', () => {
  assert.deepEqual(parseIntegerList('0-4', 'seeds'), [0, 1, 2, 3, 4]);
  assert.deepEqual(parseIntegerList('0,2,5', 'seeds'), [0, 2, 5]);
  assert.deepEqual(parseIntegerList('7, 0-2 ,10', 'seeds'), [7, 0, 1, 2, 10]);
  assert.deepEqual(parseIntegerList('3', 'seeds'), [3]);
  assert.deepEqual(parseIntegerList('4-4', 'seeds'), [4]);
});

test('parseIntegerList: errors name the field and say what is wrong', () => {
  throwsConfig(() => parseIntegerList('4-0', 'seeds'), 'seeds', /descending range "4-0"; write 0-4/);
  throwsConfig(() => parseIntegerList('0,,2', 'seeds'), 'seeds', /empty item at position 2/);
  throwsConfig(() => parseIntegerList('0-2,1', 'seeds'), 'seeds', /lists 1 twice/);
  throwsConfig(() => parseIntegerList('1.5', 'seeds'), 'seeds', /integers or ranges/);
  throwsConfig(() => parseIntegerList('a', 'seeds'), 'seeds', /got "a"/);
  throwsConfig(() => parseIntegerList('-1', 'seeds'), 'seeds', /in \[0, ∞\), got -1/);
  throwsConfig(() => parseIntegerList('0-99999999', 'seeds'), 'seeds', /more than 10000/);
  throwsConfig(() => parseIntegerList('1', 'folds', { min: 2, max: 20 }), 'folds', /in \[2, 20\], got 1/);
  // The message reads as the library's sentence: "<field> <detail>".
  assert.throws(() => parseIntegerList('', 'seeds'), { message: /^seeds has an empty item/ });
});

test('parseNumberList: decimal and exponent notation, bounds, no duplicates by value', () => {
  assert.deepEqual(parseNumberList('2e-5,5e-5', 'lr', { above: 0 }), [2e-5, 5e-5]);
  assert.deepEqual(parseNumberList('0.1, .5, 3., 1E3', 'x'), [0.1, 0.5, 3, 1000]);
  assert.deepEqual(parseNumberList('16,32', 'batch', { integer: true, min: 1 }), [16, 32]);
  assert.ok(Object.is(parseNumberList('-0', 'x')[0], 0));
  throwsConfig(() => parseNumberList('2e-5,0.00002', 'lr'), 'lr', /twice/);
  throwsConfig(() => parseNumberList('0', 'lr', { above: 0 }), 'lr', /must be > 0, got 0/);
  throwsConfig(() => parseNumberList('1e999', 'lr'), 'lr', /finite/);
  throwsConfig(() => parseNumberList('0x10', 'lr'), 'lr', /numbers separated by commas, got "0x10"/);
  throwsConfig(() => parseNumberList('Infinity', 'lr'), 'lr', /got "Infinity"/);
  throwsConfig(() => parseNumberList('16.5', 'batch', { integer: true }), 'batch', /integers, got "16.5"/);
  throwsConfig(() => parseNumberList('64', 'batch', { max: 32 }), 'batch', /≤ 32/);
});

test('parseChoiceList, parseBooleanList and parseSettingList', () => {
  assert.deepEqual(parseChoiceList('step,balance', 'remainder', ['step', 'balance', 'drop']), ['step', 'balance']);
  throwsConfig(() => parseChoiceList('step,Drop', 'remainder', ['step', 'drop']), 'remainder', /among step, drop, got "Drop"/);
  assert.deepEqual(parseBooleanList('true,no', 'shuffle'), [true, false]);
  throwsConfig(() => parseBooleanList('yes,on', 'shuffle'), 'shuffle', /twice/);
  throwsConfig(() => parseBooleanList('maybe', 'shuffle'), 'shuffle', /true or false/);
  assert.deepEqual(parseSettingList('3,10', 'epochs', { kind: 'integer', min: 1 }), [3, 10]);
  throwsConfig(() => parseSettingList('0', 'epochs', { kind: 'integer', min: 1 }), 'epochs', /≥ 1/);
  assert.deepEqual(parseSettingList('0.1', 'warmup', { kind: 'number' }), [0.1]);
  assert.deepEqual(parseSettingList('cosine', 'schedule', { kind: 'choice', allowed: ['linear', 'cosine'] }), ['cosine']);
  assert.deepEqual(parseSettingList('off', 'shuffle', { kind: 'boolean' }), [false]);
});

test('property: an integer list round-trips through its comma-separated text', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.nat({ max: 1_000_000 }), { minLength: 1, maxLength: 30 }), (values) => {
      assert.deepEqual(parseIntegerList(values.join(','), 'seeds'), values);
      assert.deepEqual(parseNumberList(values.map((value) => value.toExponential()).join(','), 'x'), values);
    }),
  );
});

test('expandGrid: cartesian product, first setting slowest, stable ids', () => {
  const configs = expandGrid([
    ['lr', [2e-5, 5e-5]],
    ['epochs', [3, 10]],
    ['batch', [16]],
  ]);
  assert.deepEqual(
    configs.map((config) => config.settings),
    [
      { lr: 2e-5, epochs: 3, batch: 16 },
      { lr: 2e-5, epochs: 10, batch: 16 },
      { lr: 5e-5, epochs: 3, batch: 16 },
      { lr: 5e-5, epochs: 10, batch: 16 },
    ],
  );
  assert.deepEqual(
    configs.map((config) => config.index),
    [0, 1, 2, 3],
  );
  for (const config of configs) assert.match(config.id, /^c[0-9a-f]{10}$/);
  assert.equal(new Set(configs.map((config) => config.id)).size, 4);
  // The id is a function of the settings alone: another grid containing the same point agrees, whatever the key order.
  const other = expandGrid([
    ['batch', [16, 32]],
    ['epochs', [10]],
    ['lr', [5e-5]],
  ]);
  assert.equal(other[0]!.id, configs[3]!.id);
  assert.equal(configId({ epochs: 10, lr: 5e-5, batch: 16 }), configs[3]!.id);
  // Pinned: ids name directories and queue jobs of existing sweeps, so they may never change.
  assert.equal(configId({}), 'c' + stableHash('{}').slice(0, 10));
  assert.equal(stableHash(''), 'cbf29ce484222325');
  assert.equal(stableHash('a'), 'af63dc4c8601ec8c');
  assert.equal(stableHash('foobar'), '85944171f73967e8');
  assert.equal(canonicalJson({ b: [1, { d: true, c: 'x' }], a: 2e-5 }), '{"a":0.00002,"b":[1,{"c":"x","d":true}]}');
  // An empty grid is the one config with no swept setting.
  assert.deepEqual(
    expandGrid([]).map((config) => config.settings),
    [{}],
  );
});

test('expandGrid: errors name the setting', () => {
  throwsConfig(() => expandGrid([['lr', []]]), 'lr', /no values/);
  throwsConfig(() => expandGrid([['lr', [1, 1]]]), 'lr', /twice/);
  throwsConfig(
    () =>
      expandGrid([
        ['lr', [1]],
        ['lr', [2]],
      ]),
    'lr',
    /listed twice/,
  );
  throwsConfig(() => expandGrid([['lr', [NaN]]]), 'lr', /not a finite number/);
  throwsConfig(() => expandGrid([['micro-batch', [8]]]), 'micro-batch', /not a setting name/);
});

test('property: the grid has the product of the list lengths configs, all distinct', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 3 }), (lengths, width) => {
      const grid = lengths.map((length, position) => [`s${position}`, Array.from({ length: length + width - 1 }, (_, value) => value * 0.5)] as const);
      const configs = expandGrid(grid);
      assert.equal(configs.length, grid.reduce((product, [, values]) => product * values.length, 1));
      assert.equal(new Set(configs.map((config) => canonicalJson(config.settings))).size, configs.length);
      assert.equal(new Set(configs.map((config) => config.id)).size, configs.length);
    }),
  );
});
