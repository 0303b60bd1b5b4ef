import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { ConfigError } from '../../src/core/errors.js';
import { fastKernelsInstalled, installFastKernels, uninstallFastKernels } from '../../src/backend/index.js';
import { backendCandidates, parseBackendChoice, selectBackend } from '../../src/node/backend.js';
import { nativeAvailable, nativeKernelsInstalled } from '../../src/node/native.js';

const notInstalled = () => false;

test('parseBackendChoice accepts the four choices and rejects others with a ConfigError', () => {
  for (const choice of ['auto', 'node', 'wasm', 'cpu']) assert.equal(parseBackendChoice(choice), choice);
  assert.throws(() => parseBackendChoice('gpu'), (error: unknown) => error instanceof ConfigError && /"gpu".*auto, node, wasm, cpu/.test(error.message));
});

test('backendCandidates: auto prefers node when resolvable, explicit choices have no fall-back', () => {
  assert.deepEqual(backendCandidates('auto', true), ['node', 'wasm', 'cpu']);
  assert.deepEqual(backendCandidates('auto', false), ['wasm', 'cpu']);
  assert.deepEqual(backendCandidates('cpu', true), ['cpu']);
  assert.deepEqual(backendCandidates('node', false), ['node']);
});

test('node without @tensorflow/tfjs-node is an actionable ConfigError', async () => {
  await assert.rejects(
    selectBackend('node', { isResolvable: notInstalled, log: () => {} }),
    (error: unknown) => error instanceof ConfigError && error.message.includes('npm install @tensorflow/tfjs-node'),
  );
});

test('auto with tfjs-node resolvable imports it and activates its backend (faked)', async () => {
  const imported: string[] = [];
  const lines: string[] = [];
  const selected = await selectBackend('auto', {
    isResolvable: (specifier) => specifier === '@tensorflow/tfjs-node',
    // What importing tfjs-node does: register the 'tensorflow' backend.
    importModule: async (specifier) => {
      imported.push(specifier);
      tf.registerBackend('tensorflow', () => new MathBackendCPU());
    },
    log: (line) => lines.push(line),
  });
  try {
    assert.deepEqual(imported, ['@tensorflow/tfjs-node']);
    assert.equal(selected.name, 'node');
    assert.equal(tf.getBackend(), 'tensorflow');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /backend node/);
  } finally {
    await tf.setBackend('cpu');
    tf.removeBackend('tensorflow');
  }
});

test('auto falls back to wasm when tfjs-node resolves but fails to load, and says why', async () => {
  const lines: string[] = [];
  const selected = await selectBackend('auto', {
    isResolvable: () => true,
    importModule: async () => {
      throw new Error('libtensorflow.so: cannot open shared object file');
    },
    log: (line) => lines.push(line),
  });
  assert.equal(selected.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(lines[0]!, /backend wasm \(SIMD (on|off), 1 thread, fast kernels(, native matMul [^)]*)?\).*node unavailable: libtensorflow/);
  uninstallFastKernels();
});

test('wasm installs the fast kernels by default and not with fastKernels: false; cpu reports itself', async () => {
  const fast = await selectBackend('wasm', { isResolvable: notInstalled, log: () => {} });
  assert.equal(fast.fastKernels, true);
  assert.equal(fastKernelsInstalled(), true);
  const stock = await selectBackend('wasm', { isResolvable: notInstalled, fastKernels: false, log: () => {} });
  assert.equal(stock.fastKernels, false);
  assert.equal(fastKernelsInstalled(), false);
  assert.match(stock.detail, /stock kernels/);
  const cpu = await selectBackend('cpu', { log: () => {} });
  assert.equal(cpu.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
});

test('installFastKernels is idempotent and uninstallFastKernels restores the stock kernel', async () => {
  await selectBackend('wasm', { isResolvable: notInstalled, fastKernels: false, log: () => {} });
  const stock = tf.getKernel('BatchMatMul', 'wasm');
  installFastKernels();
  const fast = tf.getKernel('BatchMatMul', 'wasm');
  installFastKernels();
  assert.equal(tf.getKernel('BatchMatMul', 'wasm'), fast);
  assert.notEqual(fast.kernelFunc, stock.kernelFunc);
  uninstallFastKernels();
  uninstallFastKernels();
  assert.equal(tf.getKernel('BatchMatMul', 'wasm'), stock);
  assert.equal(fastKernelsInstalled(), false);
});

test('bad thread counts are ConfigErrors', async () => {
  await assert.rejects(selectBackend('wasm', { threads: 0, log: () => {} }), ConfigError);
  await assert.rejects(selectBackend('wasm', { threads: 1.5, log: () => {} }), ConfigError);
});

test('wasm puts the native matMul (when built) over the fast kernels, reports it, and never over stock kernels', async () => {
  const fast = await selectBackend('wasm', { isResolvable: notInstalled, nativeThreads: 2, log: () => {} });
  assert.equal(fast.native, nativeAvailable());
  assert.equal(nativeKernelsInstalled(), nativeAvailable());
  assert.equal(fastKernelsInstalled(), true);
  assert.match(fast.detail, fast.native ? /native matMul \w+ × 2 threads/ : /native matMul off: /);
  // Selecting again must not stack a second layer of kernels.
  const again = await selectBackend('wasm', { isResolvable: notInstalled, log: () => {} });
  assert.equal(again.native, nativeAvailable());
  assert.equal(fastKernelsInstalled(), true);
  const stock = await selectBackend('wasm', { isResolvable: notInstalled, fastKernels: false, log: () => {} });
  assert.equal(stock.native, false);
  assert.equal(nativeKernelsInstalled(), false);
  assert.equal(fastKernelsInstalled(), false);
});
