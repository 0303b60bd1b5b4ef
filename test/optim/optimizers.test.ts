import test from 'node:test';
import assert from 'node:assert/strict';
import { maxRelativeDifference } from '../helpers/backend.js';
import { CheckpointError, ConfigError } from '../../src/core/errors.js';
import { AdamW, SGD, createOptimizer, isNoDecayParameter, type Optimizer, type OptimizerState } from '../../src/optim/index.js';
import { createRng } from '../../src/core/random.js';

/** Parameter names and shapes like a small BERT: two decay, three exempt (bias, LayerNorm, old-style gamma). */
const SHAPES: Record<string, number[]> = {
  'bert.embeddings.word_embeddings.weight': [4, 3],
  'bert.encoder.layer.0.attention.self.query.weight': [3, 3],
  'bert.encoder.layer.0.attention.self.query.bias': [3],
  'bert.encoder.layer.0.output.LayerNorm.weight': [3],
  'bert.embeddings.LayerNorm.gamma': [3],
};
/** Written out by hand so the reference does not trust isNoDecayParameter. */
const EXEMPT = new Set(['bert.encoder.layer.0.attention.self.query.bias', 'bert.encoder.layer.0.output.LayerNorm.weight', 'bert.embeddings.LayerNorm.gamma']);
const STEPS = 5;
/** Per-step learning rates, as a warm-up/decay schedule would give. */
const LRS = [0.01, 0.02, 0.015, 0.01, 0.005];

type Values = Record<string, number[]>;

function randomValues(seed: number, scale: number): Values {
  const random = createRng(seed);
  // Rounded to float32 so the reference starts from exactly what the tensors hold.
  return Object.fromEntries(
    Object.entries(SHAPES).map(([name, shape]) => [name, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.fround((random() * 2 - 1) * scale))]),
  );
}
const INITIAL = randomValues(1, 1);
const GRADS = Array.from({ length: STEPS }, (_, step) => randomValues(100 + step, 0.5));

interface Param {
  name: string;
  values: Float32Array;
}

function makeParams(values: Values = INITIAL): Param[] {
  return Object.keys(SHAPES).map((name) => ({ name, values: Float32Array.from(values[name]!) }));
}

function runSteps(optimizer: Optimizer, params: Param[], from: number, to: number): void {
  for (let step = from; step < to; step++) {
    optimizer.step(
      params.map(({ name, values }) => ({ name, values, grad: Float32Array.from(GRADS[step]![name]!) })),
      LRS[step]!,
    );
  }
}

function readParams(params: Param[]): Values {
  return Object.fromEntries(params.map(({ name, values }) => [name, Array.from(values)]));
}

function assertClose(actual: Values, expected: Values, tolerance: number, label: string): void {
  for (const name of Object.keys(expected)) {
    const difference = maxRelativeDifference(actual[name]!, expected[name]!);
    assert.ok(difference <= tolerance, `${label}: ${name} differs by ${difference}`);
  }
}

/** Textbook AdamW (Loshchilov & Hutter / torch docs) in float64. */
function referenceAdamW(options: { weightDecay: number; betas: [number, number]; eps: number; exempt: Set<string> }): Values {
  const [beta1, beta2] = options.betas;
  const params = structuredClone(INITIAL);
  const m: Values = Object.fromEntries(Object.entries(params).map(([name, values]) => [name, values.map(() => 0)]));
  const v = structuredClone(m);
  for (let step = 1; step <= STEPS; step++) {
    const lr = LRS[step - 1]!;
    for (const name of Object.keys(params)) {
      const p = params[name]!;
      const g = GRADS[step - 1]![name]!;
      for (let i = 0; i < p.length; i++) {
        if (!options.exempt.has(name)) p[i]! *= 1 - lr * options.weightDecay;
        m[name]![i] = beta1 * m[name]![i]! + (1 - beta1) * g[i]!;
        v[name]![i] = beta2 * v[name]![i]! + (1 - beta2) * g[i]! ** 2;
        const mHat = m[name]![i]! / (1 - beta1 ** step);
        const vHat = v[name]![i]! / (1 - beta2 ** step);
        p[i]! -= (lr * mHat) / (Math.sqrt(vHat) + options.eps);
      }
    }
  }
  return params;
}

/** torch.optim.SGD's documented algorithm in float64. */
function referenceSGD(options: { momentum: number; dampening: number; nesterov: boolean; weightDecay: number }): Values {
  const params = structuredClone(INITIAL);
  const buffers: Values = {};
  for (let step = 0; step < STEPS; step++) {
    const lr = LRS[step]!;
    for (const name of Object.keys(params)) {
      const p = params[name]!;
      const g = GRADS[step]![name]!;
      const direction = g.map((value, i) => (EXEMPT.has(name) ? value : value + options.weightDecay * p[i]!));
      let update = direction;
      if (options.momentum !== 0) {
        const buffer = buffers[name];
        buffers[name] = buffer === undefined ? [...direction] : buffer.map((b, i) => options.momentum * b + (1 - options.dampening) * direction[i]!);
        update = options.nesterov ? direction.map((d, i) => d + options.momentum * buffers[name]![i]!) : buffers[name]!;
      }
      for (let i = 0; i < p.length; i++) p[i]! -= lr * update[i]!;
    }
  }
  return params;
}

const ADAMW_CASES = [
  { weightDecay: 0, betas: [0.9, 0.999] as [number, number], eps: 1e-8 },
  { weightDecay: 0.1, betas: [0.9, 0.999] as [number, number], eps: 1e-8 },
  { weightDecay: 0.05, betas: [0.8, 0.99] as [number, number], eps: 1e-6 },
];
const SGD_CASES = [
  { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
  { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0.1 },
  { momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 },
  { momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 0.1 },
  { momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.1 },
];

{
  test(`AdamW matches a float64 reference for ${STEPS} steps`, () => {
    for (const options of ADAMW_CASES) {
      const params = makeParams();
      const optimizer = new AdamW(options);
      runSteps(optimizer, params, 0, STEPS);
      const actual = readParams(params);
      assertClose(actual, referenceAdamW({ ...options, exempt: EXEMPT }), 1e-6, JSON.stringify(options));
      if (options.weightDecay > 0) {
        // The exemption is real: decaying everything would move the bias and LayerNorm parameters measurably.
        const decayAll = referenceAdamW({ ...options, exempt: new Set() });
        for (const name of EXEMPT) assert.ok(maxRelativeDifference(actual[name]!, decayAll[name]!) > 1e-5, `${name} was decayed`);
      }
      optimizer.dispose();
    }
  });

  test('SGD matches a float64 reference with and without momentum and weight decay', () => {
    for (const options of SGD_CASES) {
      const params = makeParams();
      const optimizer = new SGD(options);
      runSteps(optimizer, params, 0, STEPS);
      assertClose(readParams(params), referenceSGD(options), 1e-6, JSON.stringify(options));
      optimizer.dispose();
    }
  });
}

test('createOptimizer builds the right optimizer with the given options', () => {
  const adamw = createOptimizer({ kind: 'adamw', weightDecay: 0.1 });
  assert.ok(adamw instanceof AdamW);
  assert.deepEqual([adamw.weightDecay, adamw.betas, adamw.eps], [0.1, [0.9, 0.999], 1e-8]);
  const sgd = createOptimizer({ kind: 'sgd', momentum: 0.9, nesterov: true });
  assert.ok(sgd instanceof SGD);
  assert.deepEqual([sgd.momentum, sgd.dampening, sgd.nesterov, sgd.weightDecay], [0.9, 0, true, 0]);
  // The factory's optimizer computes what the class does.
  const params = makeParams();
  runSteps(createOptimizer({ kind: 'sgd', momentum: 0.9, weightDecay: 0.1 }), params, 0, STEPS);
  assertClose(readParams(params), referenceSGD({ momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0.1 }), 1e-6, 'factory sgd');
  const defaults = new AdamW();
  assert.equal(defaults.weightDecay, 0, 'library default weight decay is 0, like the CLI');
});

test('isNoDecayParameter: biases and LayerNorm (any spelling) are exempt, weights and embeddings decay', () => {
  const exempt = [
    'classifier.bias',
    'bert.pooler.dense.bias',
    'bert.encoder.layer.11.attention.output.LayerNorm.weight',
    'bert.encoder.layer.11.attention.output.LayerNorm.bias',
    'bert.embeddings.LayerNorm.gamma',
    'bert.embeddings.LayerNorm.beta',
    'encoder.layers.0.self_attn_layer_norm.weight',
    'bias',
  ];
  const decay = ['classifier.weight', 'bert.pooler.dense.weight', 'bert.embeddings.word_embeddings.weight', 'bert.encoder.layer.0.intermediate.dense.weight', 'bias_net.weight'];
  for (const name of exempt) assert.equal(isNoDecayParameter(name), true, name);
  for (const name of decay) assert.equal(isNoDecayParameter(name), false, name);
});

const STATEFUL: [string, () => Optimizer][] = [
  ['adamw', () => new AdamW({ weightDecay: 0.1 })],
  ['sgd momentum', () => new SGD({ momentum: 0.9, weightDecay: 0.1, nesterov: true })],
  ['sgd plain', () => new SGD()],
];

for (const [label, make] of STATEFUL) {
  test(`${label}: getState/setState continues exactly like an uninterrupted run`, () => {
    const uninterrupted = makeParams();
    const reference = make();
    runSteps(reference, uninterrupted, 0, STEPS);

    const first = makeParams();
    const before = make();
    runSteps(before, first, 0, 2);
    const saved = before.getState();
    assert.equal(saved.step, 2);
    const savedParams = readParams(first);
    runSteps(before, first, 2, 3);
    assert.deepEqual(saved, { ...saved }, 'the state is a copy: later steps do not change it');
    before.dispose();

    const resumedParams = makeParams(savedParams);
    const after = make();
    after.setState(saved);
    // Restored but not yet used slots still round-trip exactly.
    assert.deepEqual(after.getState(), saved);
    runSteps(after, resumedParams, 2, STEPS);
    assert.deepEqual(readParams(resumedParams), readParams(uninterrupted), 'bitwise identical');
    assert.deepEqual(after.getState(), reference.getState());
    for (const optimizer of [after, reference]) optimizer.dispose();
  });

  test(`${label}: state bytes stay constant across steps; dispose frees them`, () => {
    const params = makeParams();
    const optimizer = make();
    runSteps(optimizer, params, 0, 2);
    const bytes = optimizer.stateBytes();
    runSteps(optimizer, params, 2, STEPS);
    assert.equal(optimizer.stateBytes(), bytes);
    optimizer.dispose();
    assert.equal(optimizer.stateBytes(), 0);
    assert.equal(optimizer.getState().step, 0);
  });
}

test('state shapes: AdamW keeps m and v, SGD a momentum buffer, per parameter name', () => {
  const params = makeParams();
  const adamw = new AdamW();
  runSteps(adamw, params, 0, 1);
  const state = adamw.getState();
  assert.equal(state.kind, 'adamw');
  assert.deepEqual(Object.keys(state.slots).sort(), Object.keys(SHAPES).sort());
  const name = 'bert.embeddings.word_embeddings.weight';
  assert.deepEqual(Object.keys(state.slots[name]!).sort(), ['m', 'v']);
  // After one step m = g·(1 − β1) and v = g²·(1 − β2), up to float32 rounding.
  const grad = GRADS[0]![name]!;
  assert.ok(maxRelativeDifference(state.slots[name]!.m!, grad.map((g) => 0.1 * g)) < 1e-6);
  assert.ok(maxRelativeDifference(state.slots[name]!.v!, grad.map((g) => 0.001 * g * g), 1e-9) < 1e-6);
  adamw.dispose();
  const sgd = new SGD({ momentum: 0.5 });
  runSteps(sgd, params, 0, 1);
  assert.deepEqual(Array.from(sgd.getState().slots[name]!.momentum!), GRADS[0]![name], 'the buffer starts as the first gradient, like torch');
  sgd.dispose();
});

test('bad options and bad step arguments are ConfigErrors; bad saved state is a CheckpointError', () => {
  const configErrors: [() => unknown, RegExp][] = [
    [() => createOptimizer({ kind: 'adam' as 'adamw' }), /optimizer must be one of adamw, sgd, got "adam"/],
    [() => createOptimizer({ kind: 'adamw', weightDecay: -0.1 }), /weightDecay must be a finite number ≥ 0, got -0.1/],
    [() => createOptimizer({ kind: 'sgd', weightDecay: Number.NaN }), /weightDecay must be a finite number ≥ 0, got NaN/],
    [() => createOptimizer({ kind: 'adamw', betas: [1, 0.999] }), /betas\[0\] must be in \[0, 1\), got 1/],
    [() => createOptimizer({ kind: 'adamw', betas: [0.9, Number.NaN] }), /betas\[1\] must be in \[0, 1\)/],
    [() => createOptimizer({ kind: 'adamw', betas: [0.9] as unknown as [number, number] }), /betas must be a pair/],
    [() => createOptimizer({ kind: 'adamw', eps: -1 }), /eps must be a finite number ≥ 0/],
    [() => createOptimizer({ kind: 'adamw', momentum: 0.9 }), /option momentum does not apply to the adamw optimizer/],
    [() => createOptimizer({ kind: 'sgd', betas: [0.9, 0.99] }), /option betas does not apply to the sgd optimizer/],
    [() => createOptimizer({ kind: 'sgd', momentum: -0.5 }), /momentum must be a finite number ≥ 0/],
    [() => createOptimizer({ kind: 'sgd', nesterov: true }), /nesterov momentum requires momentum > 0 and dampening 0/],
    [() => createOptimizer({ kind: 'sgd', nesterov: true, momentum: 0.9, dampening: 0.1 }), /nesterov momentum requires/],
  ];
  for (const [call, message] of configErrors) assert.throws(call, (error: unknown) => error instanceof ConfigError && message.test(error.message), String(message));

  const params = makeParams();
  const optimizer = new AdamW();
  const host = (list: Param[], grads?: Float32Array[]) => list.map(({ name, values }, index) => ({ name, values, grad: grads?.[index] ?? new Float32Array(values.length) }));
  const stepErrors: [() => unknown, RegExp][] = [
    [() => optimizer.step(host(params), Number.NaN), /lr must be a finite number ≥ 0, got NaN/],
    [() => optimizer.step(host(params), -1), /lr must be a finite number ≥ 0, got -1/],
    [() => optimizer.step(host(params, [new Float32Array(3)]), 0.1), /gradient of bert.embeddings.word_embeddings.weight has 3 values, the parameter has 12/],
    [() => optimizer.step(host([params[0]!, params[0]!]), 0.1), /parameter name bert.embeddings.word_embeddings.weight appears twice/],
  ];
  for (const [call, message] of stepErrors) assert.throws(call, (error: unknown) => error instanceof ConfigError && message.test(error.message), String(message));
  assert.deepEqual(optimizer.getState(), { kind: 'adamw', step: 0, slots: {} }, 'rejected steps change nothing');

  optimizer.step(host(params.slice(1)), 0.1);
  assert.throws(() => optimizer.step(host(params), 0.1), /parameter bert.embeddings.word_embeddings.weight has no AdamW state although 1 steps were taken/);

  const checkpointErrors: [() => unknown, RegExp][] = [
    [() => new AdamW().setState({ kind: 'sgd', step: 1, slots: {} }), /optimizer state is for sgd, this optimizer is adamw/],
    [() => new SGD().setState({ kind: 'sgd', step: -1, slots: {} }), /step must be an integer ≥ 0, got -1/],
    [() => new AdamW().setState({ kind: 'adamw', step: 1, slots: { a: { momentum: Float32Array.of(1) } } }), /unknown slot "momentum" \(expected m, v\)/],
    [() => new AdamW().setState({ kind: 'adamw', step: 1, slots: { a: { m: ['x'] as unknown as Float32Array } } }), /"m" of a must be a Float32Array/],
    [() => new SGD().setState({ kind: 'sgd', step: 1, slots: [] as unknown as OptimizerState['slots'] }), /slots must be an object/],
  ];
  for (const [call, message] of checkpointErrors) assert.throws(call, (error: unknown) => error instanceof CheckpointError && message.test(error.message), String(message));

  const wrongLength = new SGD({ momentum: 0.9 });
  wrongLength.setState({ kind: 'sgd', step: 1, slots: { [params[0]!.name]: { momentum: Float32Array.of(1, 2) } } });
  assert.throws(() => wrongLength.step(host(params), 0.1), (error: unknown) => error instanceof CheckpointError && /"momentum" of bert.embeddings.word_embeddings.weight has 2 values, the parameter has 12/.test(error.message));
  const halfState = new AdamW();
  halfState.setState({ kind: 'adamw', step: 1, slots: Object.fromEntries(params.map(({ name, values }) => [name, { m: new Float32Array(values.length) }])) });
  assert.throws(() => halfState.step(host(params), 0.1), /has only one of "m" and "v"/);
  for (const disposable of [optimizer, wrongLength, halfState]) disposable.dispose();
});
