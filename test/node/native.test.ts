import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
// Registers the gradients (tfjs-core's Node bundle has none).
import '@tensorflow/tfjs-layers';
import { useBackend } from '../helpers/backend.js';
import { productAndGrads, type MatMulCase } from '../helpers/matmul.js';
import { ConfigError } from '../../src/core/errors.js';
import { fastKernelsInstalled, installFastKernels, uninstallFastKernels } from '../../src/backend/index.js';
import { installNativeKernels as installNativeMatMul, nativeAvailable, nativeKernelsInstalled as nativeMatMulInstalled, nativeStatus, nativeThreads, uninstallNativeKernels as uninstallNativeMatMul } from '../../src/node/native.js';
import { MIN_HOST_MULTIPLY_ADDS as MIN_NATIVE_MULTIPLY_ADDS } from '../../src/backend/kernels/hostBatchMatMul.js';

/** Whether `npm install` built the addon (this file runs from dist/test/backend/). */
const addonBuilt = existsSync(fileURLToPath(new URL('../../../build/Release/microbatch_native.node', import.meta.url)));
const nativeDisabled = process.env['MICROBATCH_NATIVE'] === '0';

/** max |a − b| / max |b|: the error relative to the output's scale, as BLAS error bounds are. */
function scaledDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  }
  return scale === 0 ? worst : worst / scale;
}

/**
 * Counts calls that reach the kernel registered under the native one, to tell computed
 * natively from delegated. Returns the counter and a function that restores the stock kernel.
 */
function countDelegations(): { calls: () => number; restore: () => void } {
  const stock = tf.getKernel(tf.BatchMatMul, 'wasm');
  let calls = 0;
  tf.unregisterKernel(tf.BatchMatMul, 'wasm');
  tf.registerKernel({ ...stock, kernelFunc: (args) => (calls++, stock.kernelFunc(args)) });
  return {
    calls: () => calls,
    restore: () => {
      tf.unregisterKernel(tf.BatchMatMul, 'wasm');
      tf.registerKernel(stock);
    },
  };
}

/** Stock result vs native result (installed over a counting stock kernel); returns whether native computed it. */
async function assertNativeMatchesStock(c: MatMulCase, threads = 1): Promise<{ delegated: number }> {
  const stock = await productAndGrads(c);
  const counter = countDelegations();
  assert.equal(installNativeMatMul({ threads }), true);
  try {
    const native = await productAndGrads(c);
    const label = JSON.stringify(c);
    assert.deepEqual(native.shape, stock.shape, label);
    assert.ok(scaledDifference(native.product, stock.product) <= 1e-5, `product ${label}`);
    if (typeof stock.grads === 'string' || typeof native.grads === 'string') {
      assert.equal(native.grads, stock.grads, `gradient error ${label}`);
    } else {
      assert.ok(scaledDifference(native.grads.a, stock.grads.a) <= 1e-5, `gradA ${label}`);
      assert.ok(scaledDifference(native.grads.b, stock.grads.b) <= 1e-5, `gradB ${label}`);
    }
    return { delegated: counter.calls() };
  } finally {
    uninstallNativeMatMul();
    counter.restore();
  }
}

/** Without the addon (or with MICROBATCH_NATIVE=0), installing must change nothing. */
function assertInstallIsNoOp(): void {
  const before = tf.getKernel(tf.BatchMatMul, 'wasm');
  assert.equal(nativeAvailable(), false);
  assert.equal(installNativeMatMul({ threads: 2 }), false);
  assert.equal(nativeMatMulInstalled(), false);
  assert.equal(tf.getKernel(tf.BatchMatMul, 'wasm'), before);
  uninstallNativeMatMul();
  assert.equal(tf.getKernel(tf.BatchMatMul, 'wasm'), before);
  assert.equal(nativeThreads(), 0);
}

test.before(async () => {
  await useBackend('wasm');
  uninstallFastKernels();
});

test('availability follows the build and MICROBATCH_NATIVE', () => {
  const status = nativeStatus();
  assert.equal(nativeAvailable(), addonBuilt && !nativeDisabled, JSON.stringify(status));
  if (status.available) {
    assert.ok(['avx512', 'avx2', 'portable'].includes(status.isa!), status.isa);
  } else {
    assert.match(status.reason!, /not built|disabled|failed to load/);
    assertInstallIsNoOp();
  }
});

test('MICROBATCH_NATIVE=0 disables it: install is a no-op', () => {
  const saved = process.env['MICROBATCH_NATIVE'];
  process.env['MICROBATCH_NATIVE'] = '0';
  try {
    assert.equal(nativeStatus().reason, 'disabled by MICROBATCH_NATIVE=0');
    assertInstallIsNoOp();
  } finally {
    if (saved === undefined) delete process.env['MICROBATCH_NATIVE'];
    else process.env['MICROBATCH_NATIVE'] = saved;
  }
});

test('install registers over the current kernel, uninstall restores it, threads are set', () => {
  if (!nativeAvailable()) return assertInstallIsNoOp();
  assert.throws(() => installNativeMatMul({ threads: 0 }), ConfigError);
  assert.throws(() => installNativeMatMul({ threads: 1.5 }), ConfigError);
  installFastKernels();
  try {
    const fast = tf.getKernel(tf.BatchMatMul, 'wasm');
    assert.equal(installNativeMatMul(), true);
    assert.equal(nativeMatMulInstalled(), true);
    assert.equal(nativeThreads(), 1);
    assert.notEqual(tf.getKernel(tf.BatchMatMul, 'wasm'), fast);
    assert.equal(installNativeMatMul({ threads: 2 }), true, 'idempotent');
    assert.equal(nativeThreads(), 2);
    uninstallNativeMatMul();
    assert.equal(nativeMatMulInstalled(), false);
    assert.equal(tf.getKernel(tf.BatchMatMul, 'wasm'), fast);
    assert.equal(fastKernelsInstalled(), true);
    uninstallNativeMatMul();
    assert.equal(tf.getKernel(tf.BatchMatMul, 'wasm'), fast, 'second uninstall is a no-op');
  } finally {
    uninstallNativeMatMul();
    uninstallFastKernels();
    installNativeMatMul({ threads: 1 });
    uninstallNativeMatMul();
  }
});

test('every transpose flag and odd size, 2-D and batched, forward and gradients', async () => {
  if (!nativeAvailable()) return assertInstallIsNoOp();
  const size = fc.constantFrom(1, 3, 17, 129);
  // Batch pairs the native kernel computes itself: equal batches or one single matrix.
  const batches = fc.constantFrom<[number[], number[]]>([[], []], [[3], [3]], [[2, 3], [2, 3]], [[3], []], [[], [3]], [[1], [3]], [[2, 3], [1]]);
  await fc.assert(
    fc.asyncProperty(batches, size, size, size, fc.boolean(), fc.boolean(), fc.nat(1000), async ([aBatch, bBatch], m, k, n, transposeA, transposeB, seed) => {
      const c = { aBatch, bBatch, m, k, n, transposeA, transposeB, seed };
      const { delegated } = await assertNativeMatchesStock(c);
      const batch = Math.max(tf.util.sizeFromShape(aBatch), tf.util.sizeFromShape(bBatch));
      // The forward product and both gradient products all have batch·m·k·n multiply-adds:
      // above the threshold each must run natively, below it each is delegated.
      if (batch * m * k * n >= MIN_NATIVE_MULTIPLY_ADDS) assert.equal(delegated, 0, JSON.stringify(c));
      else assert.ok(delegated > 0, JSON.stringify(c));
    }),
    { numRuns: 40, seed: 4 },
  );
});

test('the BERT shapes: dense layers and attention with all transposes', async () => {
  if (!nativeAvailable()) return assertInstallIsNoOp();
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      const dense = { aBatch: [], bBatch: [], m: 236, k: 64, n: 96, transposeA, transposeB, seed: 7 };
      const attention = { aBatch: [2, 4], bBatch: [2, 4], m: 118, k: 16, n: 118, transposeA, transposeB, seed: 8 };
      for (const c of [dense, attention]) assert.equal((await assertNativeMatchesStock(c)).delegated, 0, JSON.stringify(c));
    }
  }
});

test('two threads give the same result (row bands and batch split), bit for bit', async () => {
  if (!nativeAvailable()) return assertInstallIsNoOp();
  for (const c of [
    { aBatch: [], bBatch: [], m: 301, k: 129, n: 200, transposeA: false, transposeB: true, seed: 11 },
    { aBatch: [5], bBatch: [5], m: 129, k: 64, n: 129, transposeA: true, transposeB: false, seed: 12 },
  ]) {
    assert.equal((await assertNativeMatchesStock(c, 2)).delegated, 0, JSON.stringify(c));
    // Each output element is computed by one thread in the same order whatever the split,
    // so the thread count cannot change the bits (training stays reproducible).
    const products: Float32Array[] = [];
    for (const threads of [1, 2]) {
      installNativeMatMul({ threads });
      products.push((await productAndGrads(c)).product as Float32Array);
      uninstallNativeMatMul();
    }
    assert.deepEqual(products[0], products[1], JSON.stringify(c));
  }
});

test('delegates what it does not compute: mixed broadcasts, tiny products, int32, shape errors', async () => {
  if (!nativeAvailable()) return assertInstallIsNoOp();
  // [2, 3] × [3]: B's batch is neither 1 nor the output's, so no single stride describes it.
  const mixed = await assertNativeMatchesStock({ aBatch: [2, 3], bBatch: [3], m: 17, k: 17, n: 17, transposeA: false, transposeB: false, seed: 3 });
  assert.ok(mixed.delegated > 0);
  const tiny = await assertNativeMatchesStock({ aBatch: [], bBatch: [], m: 3, k: 3, n: 3, transposeA: false, transposeB: true, seed: 5 });
  assert.ok(tiny.delegated > 0);

  const errorOf = (run: () => tf.Tensor): string => {
    try {
      tf.dispose(run());
    } catch (error) {
      return (error as Error).message;
    }
    return 'no error';
  };
  const cases: Array<() => tf.Tensor> = [
    () => tf.tidy(() => tf.matMul(tf.ones([17, 17], 'int32'), tf.ones([17, 17], 'int32'))),
    () => tf.tidy(() => tf.matMul(tf.ones([2, 3, 17, 17]), tf.ones([3, 2, 17, 17]))),
    () => tf.tidy(() => tf.matMul(tf.ones([17, 16]), tf.ones([17, 17]))),
  ];
  const stockErrors = cases.map(errorOf);
  installNativeMatMul();
  try {
    assert.deepEqual(cases.map(errorOf), stockErrors);
    assert.ok(stockErrors.every((message) => message !== 'no error'));
  } finally {
    uninstallNativeMatMul();
  }
});

test('no tensors or wasm memory leak across training-like steps', async () => {
  if (!nativeAvailable()) return assertInstallIsNoOp();
  installNativeMatMul({ threads: 2 });
  try {
    const x = tf.randomNormal([4, 33, 64], 0, 1, 'float32', 1);
    const w = tf.variable(tf.randomNormal([64, 64], 0, 1, 'float32', 2));
    const step = (): void => {
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
        const h = tf.reshape(tf.matMul(tf.reshape(x, [4 * 33, 64]), w), [4, 33, 64]);
        const scores = tf.matMul(h, h, false, true);
        return tf.sum(tf.matMul(scores, h));
      }));
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory();
    for (let i = 0; i < 3; i++) step();
    const after = tf.memory();
    assert.equal(after.numTensors, before.numTensors);
    assert.equal(after.numBytes, before.numBytes);
    tf.dispose([x, w]);
  } finally {
    uninstallNativeMatMul();
  }
});
