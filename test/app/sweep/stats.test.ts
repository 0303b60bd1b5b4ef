import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { confidenceInterval, incompleteBeta, logGamma, mean, sampleStd, studentTCdf, studentTQuantile } from '../../../src/app/sweep/stats.js';

const DF = [...Array.from({ length: 30 }, (_, index) => index + 1), 60, 120];

// Student's t quantiles (scipy.stats.t.ppf to 10 decimals), the values printed in every t table.
const T_975 = [
  12.7062047362, 4.3026527297, 3.1824463053, 2.7764451052, 2.5705818356, 2.4469118511, 2.3646242516, 2.3060041352, 2.2621571628, 2.228138852,
  2.2009851601, 2.1788128297, 2.1603686565, 2.1447866879, 2.1314495456, 2.1199052992, 2.1098155778, 2.1009220402, 2.0930240544, 2.0859634473,
  2.0796138447, 2.0738730679, 2.0686576104, 2.0638985616, 2.0595385528, 2.0555294386, 2.0518305165, 2.0484071418, 2.0452296421, 2.0422724563,
  2.000297822, 1.9799304051,
];
const T_95 = [
  6.3137515147, 2.9199855804, 2.3533634348, 2.1318467863, 2.0150483733, 1.9431802805, 1.8945786051, 1.8595480375, 1.8331129327, 1.8124611228,
  1.7958848187, 1.7822875556, 1.770933396, 1.7613101358, 1.7530503557, 1.7458836763, 1.7396067261, 1.7340636066, 1.7291328115, 1.7247182429,
  1.7207429028, 1.7171443744, 1.7138715277, 1.7108820799, 1.7081407613, 1.7056179198, 1.7032884457, 1.7011309343, 1.6991270265, 1.6972608866,
  1.6706488649, 1.6576508994,
];
const T_995 = [
  63.6567411629, 9.9248432009, 5.8409093097, 4.6040948713, 4.0321429836, 3.7074280213, 3.4994832974, 3.3553873313, 3.2498355416, 3.1692726726,
  3.1058065155, 3.0545395894, 3.0122758387, 2.9768427344, 2.9467128835, 2.9207816224, 2.8982305197, 2.8784404727, 2.8609346065, 2.8453397098,
  2.831359558, 2.8187560606, 2.8073356838, 2.7969395048, 2.7874358137, 2.7787145333, 2.7706829571, 2.7632624555, 2.7563859037, 2.7499956536,
  2.6602830289, 2.6174211451,
];

test('studentTQuantile matches the t table for df 1..30, 60 and 120 to 1e-9', () => {
  for (const [p, table] of [
    [0.975, T_975],
    [0.95, T_95],
    [0.995, T_995],
  ] as const) {
    DF.forEach((df, position) => {
      const expected = table[position]!;
      const actual = studentTQuantile(p, df);
      assert.ok(Math.abs(actual - expected) <= 1e-9 * expected, `t(${p}, ${df}) = ${actual}, table ${expected}`);
      // Symmetry.
      assert.equal(studentTQuantile(1 - p, df), -actual);
    });
  }
  // The three-decimal table everybody knows.
  assert.equal(studentTQuantile(0.975, 4).toFixed(3), '2.776');
  assert.equal(studentTQuantile(0.975, 9).toFixed(3), '2.262');
  assert.equal(studentTQuantile(0.975, 120).toFixed(2), '1.98');
  // Non-integer df and far tails (scipy: t.ppf(0.6, 3.5), t.ppf(0.999999, 2), t.ppf(1e-4, 1000)).
  assert.ok(Math.abs(studentTQuantile(0.6, 3.5) - 0.27326545405577973) < 1e-12);
  assert.ok(Math.abs(studentTQuantile(0.999999, 2) / 707.1057205157672 - 1) < 1e-10);
  assert.ok(Math.abs(studentTQuantile(1e-4, 1000) / -3.7328516045753686 - 1) < 1e-10);
  assert.equal(studentTQuantile(0.5, 7), 0);
  // Large df approaches the normal quantile 1.959963984540054.
  assert.ok(Math.abs(studentTQuantile(0.975, 1e7) - 1.959963984540054) < 1e-6);
  assert.throws(() => studentTQuantile(1, 3), /probability must be in \(0, 1\)/);
  assert.throws(() => studentTQuantile(0.9, 0), /degreesOfFreedom must be a positive/);
});

test('property: studentTCdf inverts studentTQuantile', () => {
  fc.assert(
    fc.property(fc.double({ min: 0.001, max: 0.999, noNaN: true }), fc.double({ min: 0.5, max: 500, noNaN: true }), (p, df) => {
      const t = studentTQuantile(p, df);
      // Near p = 0.5 (t ≈ 0) the inversion's round trip loses up to ~5e-10 (200 000 random draws); intervals use p = 0.975.
      assert.ok(Math.abs(studentTCdf(t, df) - p) < 2e-9, `p ${p} df ${df} t ${t} cdf ${studentTCdf(t, df)}`);
    }),
  );
});

test('logGamma and incompleteBeta agree with closed forms', () => {
  for (let n = 1; n <= 20; n++) {
    let factorial = 1;
    for (let k = 2; k < n; k++) factorial *= k;
    assert.ok(Math.abs(logGamma(n) - Math.log(factorial)) < 1e-12 * Math.max(1, Math.log(factorial)), `lgamma(${n})`);
  }
  assert.ok(Math.abs(logGamma(0.5) - 0.5 * Math.log(Math.PI)) < 1e-14);
  // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 − (1 − x)^b.
  for (const x of [0.01, 0.3, 0.5, 0.77, 0.99]) {
    assert.ok(Math.abs(incompleteBeta(x, 1, 1) - x) < 1e-14);
    assert.ok(Math.abs(incompleteBeta(x, 3.5, 1) - x ** 3.5) < 1e-14);
    assert.ok(Math.abs(incompleteBeta(x, 1, 2.5) - (1 - (1 - x) ** 2.5)) < 1e-14);
  }
  assert.equal(incompleteBeta(0, 2, 3), 0);
  assert.equal(incompleteBeta(1, 2, 3), 1);
});

test('mean, sampleStd and confidenceInterval', () => {
  assert.equal(mean([1, 2, 3, 4]), 2.5);
  assert.ok(Number.isNaN(mean([])));
  // Bessel's correction: var of [2, 4, 4, 4, 5, 5, 7, 9] is 32/7.
  assert.ok(Math.abs(sampleStd([2, 4, 4, 4, 5, 5, 7, 9]) - Math.sqrt(32 / 7)) < 1e-15);
  assert.ok(Number.isNaN(sampleStd([1])));
  const values = [0.81, 0.84, 0.79, 0.86, 0.83];
  const estimate = confidenceInterval(values);
  const s = sampleStd(values);
  assert.equal(estimate.n, 5);
  assert.ok(Math.abs(estimate.halfWidth - (2.7764451052 * s) / Math.sqrt(5)) < 1e-9);
  assert.ok(Math.abs(estimate.low - (estimate.mean - estimate.halfWidth)) < 1e-15);
  assert.equal(estimate.level, 0.95);
  const single = confidenceInterval([0.8]);
  assert.equal(single.mean, 0.8);
  assert.ok(Number.isNaN(single.halfWidth) && Number.isNaN(single.std));
  assert.throws(() => confidenceInterval([1, 2], 1), /level must be in/);
});

test('property: a 95 % interval covers the true mean of normal samples about 95 % of the time', () => {
  // Deterministic normal draws (Box–Muller over an LCG) so the count is reproducible.
  let state = 12345;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  let covered = 0;
  const runs = 4000;
  for (let run = 0; run < runs; run++) {
    const estimate = confidenceInterval(Array.from({ length: 4 }, () => 3 + 2 * normal()));
    if (estimate.low <= 3 && 3 <= estimate.high) covered += 1;
  }
  // Binomial(4000, 0.95) has sd ≈ 14: 3800 ± 60 is a > 4-sigma band. z = 1.96 would cover only ≈ 86 % at n = 4.
  assert.ok(Math.abs(covered - 3800) < 60, `covered ${covered} of ${runs}`);
});
