import test from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import { dropoutMask } from '../../src/nn/dropout.js';
import { useBackend } from '../helpers/backend.js';

for (const backend of ['cpu', 'wasm'] as const) {
  test(`[${backend}] dropoutMask drops a fraction rate, scales the rest by 1/(1 − rate), and is deterministic per seed`, async () => {
    await useBackend(backend);
    for (const rate of [0.1, 0.5]) {
      const mask = dropoutMask([40, 500], { rate, seed: 7 });
      assert.deepEqual(mask.shape, [40, 500]);
      const values = Array.from(await mask.data());
      const dropped = values.filter((value) => value === 0).length / values.length;
      // 20 000 Bernoulli draws: 5 standard deviations is < 0.018.
      assert.ok(Math.abs(dropped - rate) < 0.018, `rate ${rate}: dropped ${dropped}`);
      assert.ok(values.every((value) => value === 0 || value === Math.fround(1 / (1 - rate))));
      const again = dropoutMask([40, 500], { rate, seed: 7 });
      assert.deepEqual(Array.from(await again.data()), values);
      const other = dropoutMask([40, 500], { rate, seed: 8 });
      assert.notDeepEqual(Array.from(await other.data()), values);
      // The first-position rows of a larger tensor's mask: what a [CLS]-only layer uses.
      const first = dropoutMask([40, 100], { rate, seed: 7, firstOf: { groups: 40, rows: 5 } });
      const firstValues = Array.from(await first.data());
      for (let group = 0; group < 40; group++) {
        assert.deepEqual(firstValues.slice(group * 100, group * 100 + 100), values.slice(group * 500, group * 500 + 100));
      }
      mask.dispose();
      again.dispose();
      other.dispose();
      first.dispose();
    }
    const none = dropoutMask([3], { rate: 0, seed: 1 });
    assert.deepEqual(Array.from(await none.data()), [1, 1, 1]);
    none.dispose();
    assert.throws(() => dropoutMask([2], { rate: 1, seed: 0 }), ConfigError);
    assert.throws(() => dropoutMask([2], { rate: -0.1, seed: 0 }), ConfigError);
  });
}
