import test from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import { dropoutMask } from '../../src/bert/model.js';
import { useBackend } from '../helpers/backend.js';

for (const backend of ['cpu', 'wasm'] as const) {
  test(`[${backend}] dropoutMask drops a fraction rate, scales the rest by 1/(1 − rate), and is deterministic per seed`, async () => {
    await useBackend(backend);
    for (const rate of [0.1, 0.5]) {
      const mask = dropoutMask([40, 500], rate, 7);
      assert.deepEqual(mask.shape, [40, 500]);
      const values = Array.from(await mask.data());
      const dropped = values.filter((value) => value === 0).length / values.length;
      // 20 000 Bernoulli draws: 5 standard deviations is < 0.018.
      assert.ok(Math.abs(dropped - rate) < 0.018, `rate ${rate}: dropped ${dropped}`);
      assert.ok(values.every((value) => value === 0 || value === Math.fround(1 / (1 - rate))));
      const again = dropoutMask([40, 500], rate, 7);
      assert.deepEqual(Array.from(await again.data()), values);
      const other = dropoutMask([40, 500], rate, 8);
      assert.notDeepEqual(Array.from(await other.data()), values);
      mask.dispose();
      again.dispose();
      other.dispose();
    }
    const none = dropoutMask([3], 0, 1);
    assert.deepEqual(Array.from(await none.data()), [1, 1, 1]);
    none.dispose();
    assert.throws(() => dropoutMask([2], 1, 0), ConfigError);
    assert.throws(() => dropoutMask([2], -0.1, 0), ConfigError);
  });
}
