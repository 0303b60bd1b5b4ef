/**
 * Mean, sample standard deviation and Student's t confidence intervals for the few values a
 * config gets (seeds × folds: 5 to 50). With so few values the normal 1.96 would be too narrow
 * (t for 4 degrees of freedom is 2.78), so the t quantile is computed exactly: the t
 * distribution's tail is ½·I_x(ν/2, ½) with x = ν/(ν + t²), I the regularised incomplete beta
 * function (continued fraction, Numerical Recipes §6.4), inverted by bisection in t to the last
 * bit. Closed forms for ν = 1 and 2 are used where they exist.
 */
import { ConfigError } from '../../core/errors.js';

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/** Standard deviation with Bessel's correction (divides by n − 1); NaN for fewer than 2 values. */
export function sampleStd(values: readonly number[]): number {
  if (values.length < 2) return NaN;
  const center = mean(values);
  let squares = 0;
  for (const value of values) squares += (value - center) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}

// Lanczos approximation (g = 7, 9 coefficients): relative error below 1e-15 for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const shifted = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (shifted + i);
  const t = shifted + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let result = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let numerator = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + numerator * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + numerator / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    result *= d * c;
    numerator = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + numerator * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + numerator / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    result *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return result;
}

/** The regularised incomplete beta function I_x(a, b) for a, b > 0 and x in [0, 1]. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  // The fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) beyond.
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(a, b, x)) / a;
  return 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

function checkDegrees(df: number): void {
  if (!(df > 0) || !Number.isFinite(df)) throw new ConfigError(`must be a positive finite number, got ${df}`, { field: 'degreesOfFreedom' });
}

/** P(T > t) for t ≥ 0 with `df` degrees of freedom, without the cancellation of 1 − CDF. */
function upperTail(t: number, df: number): number {
  return 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** The CDF of Student's t distribution with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  checkDegrees(df);
  if (Number.isNaN(t)) return NaN;
  const tail = upperTail(Math.abs(t), df);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t distribution with `df` degrees of freedom (`studentTQuantile(0.975, 4)` = 2.776…). */
export function studentTQuantile(p: number, df: number): number {
  checkDegrees(df);
  if (!(p > 0 && p < 1)) throw new ConfigError(`must be in (0, 1), got ${p}`, { field: 'probability' });
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  const tail = 1 - p;
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  // upperTail decreases in t: bracket, then bisect until the interval stops shrinking (~60 steps).
  let low = 0;
  let high = 1;
  while (upperTail(high, df) > tail) {
    low = high;
    high *= 2;
  }
  for (;;) {
    const middle = 0.5 * (low + high);
    if (middle <= low || middle >= high) return middle;
    if (upperTail(middle, df) > tail) low = middle;
    else high = middle;
  }
}

/** Mean, spread and a two-sided confidence interval of a sample. */
export interface Estimate {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); NaN for n < 2. */
  std: number;
  /** Half-width t_{1−α/2, n−1} · std / √n; NaN for n < 2. */
  halfWidth: number;
  low: number;
  high: number;
  /** The interval's level, e.g. 0.95. */
  level: number;
}

/** The mean of `values` with its Student's t interval at `level` (default 95 %). */
export function confidenceInterval(values: readonly number[], level = 0.95): Estimate {
  if (!(level > 0 && level < 1)) throw new ConfigError(`must be in (0, 1), got ${level}`, { field: 'level' });
  const n = values.length;
  const center = mean(values);
  const std = sampleStd(values);
  const halfWidth = n < 2 ? NaN : (studentTQuantile(1 - (1 - level) / 2, n - 1) * std) / Math.sqrt(n);
  return { n, mean: center, std, halfWidth, low: center - halfWidth, high: center + halfWidth, level };
}
