// Host kernels of microbatch_native on Float32Arrays (host arenas, SharedArrayBuffer views
// or wasm-heap views alike):
//
//   * optimizers: AdamW and SGD steps, bit for bit the project's TF.js/torch formulas —
//     every operation is one IEEE float32 operation, nothing fused (the addon is built with
//     -ffp-contract=off, and no FMA intrinsic appears in these kernels);
//   * host helpers: axpy, scale, copy, a float64 sum of squares whose summation order is
//     fixed (the same bits for any thread count and instruction set), an all-finite check;
//   * fused elementwise layers, forward and backward: bias + exact (erf) GELU, residual add
//     + LayerNorm (and its affine output from saved x̂), scale + additive mask + softmax,
//     bias + seeded dropout (the mask drawn in the kernel from one seed per group of rows, bit
//     for bit src/core/random.ts's fillGroupedDropoutMask, never stored).
//
// Each kernel has an AVX-512 version (explicit intrinsics, picked at load time when the
// CPU has AVX-512F/DQ/BW/VL and MICROBATCH_NATIVE_ISA does not cap it) and a portable
// scalar version (libm's erfc/exp, compiled for the baseline ISA: any x86-64, arm64). Large
// calls are split over the instance's thread pool; every result is independent of the
// number of threads (row-wise work, or reductions over fixed blocks combined in order).
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "common.h"

#if defined(__clang__)
#define MICROBATCH_AVX512_BEGIN \
  _Pragma("clang attribute push(__attribute__((target(\"avx512f,avx512dq,avx512bw,avx512vl,fma\"))), apply_to = function)")
#define MICROBATCH_AVX512_END _Pragma("clang attribute pop")
#else
#define MICROBATCH_AVX512_BEGIN \
  _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f,avx512dq,avx512bw,avx512vl,fma\")")
#define MICROBATCH_AVX512_END _Pragma("GCC pop_options")
#endif

namespace microbatch {
namespace {

// ---------------------------------------------------------------------------------------
// Parameters shared by the scalar and AVX-512 versions
// ---------------------------------------------------------------------------------------

// The float32 scalars of one AdamW step (the caller derives them in double, as adamw.ts).
struct AdamWScalars {
  bool decays;          // multiply p by `decay` first (decoupled weight decay)
  float decay;          // 1 − lr·wd
  float oneMinusBeta1;  // 1 − β1
  float beta2;
  float oneMinusBeta2;   // 1 − β2
  float biasCorrection2Sqrt;  // sqrt(1 − β2^t)
  float eps;
  float negStepSize;  // −lr / (1 − β1^t)
};

struct SgdScalars {
  bool decays;          // weightDecay ≠ 0: d = g + p·wd
  float weightDecay;
  bool hasMomentum;     // momentum ≠ 0 (a buffer is given)
  bool firstStep;       // the buffer starts as d
  float momentum;
  float oneMinusDampening;
  bool nesterov;
  float negLr;
};

// Sum of squares: float64 lanes i mod 32 within fixed 8192-element chunks, the 32 lanes
// then added in order, the chunk sums added in chunk order (src/node/native/reference.ts
// replays exactly this order). Squares of float32 values are exact in float64.
constexpr int64_t kSumChunk = 8192;
constexpr int kSumLanes = 32;

// Rows per block of the column reductions (bias/γ/β gradients): each block's partial sums
// are float64, blocks are added in order, so the result does not depend on threads.
constexpr int64_t kRowBlock = 32;

// Seeded dropout (src/core/random.ts fillGroupedDropoutMask): element s of a stream seeded
// with `seed` is mulberry32's output after s + 1 steps. Its state after s + 1 steps is
// seed + (s + 1)·0x6D2B79F5 (mod 2³²), so every element is computed directly from its index:
// no sequential pass, any row of any thread, the same bits. A draw below rate·2³² (as a
// double; equivalently below `dropBelow` = ⌈rate·2³²⌉ as an integer) drops the element, the
// others are scaled by float32(1 / (1 − rate)).
constexpr uint32_t kMulberryIncrement = 0x6D2B79F5u;

struct DropoutMask {
  bool active;        // rate > 0: multiply by the mask (rate 0 multiplies by nothing)
  bool dropAll;       // ⌈rate·2³²⌉ = 2³²: every draw is below it
  uint32_t dropBelow;  // a draw u is dropped when u < dropBelow
  float kept;          // float32(1 / (1 − rate))
  // The rows form groups of `groupRows` consecutive rows (a sample's positions, or one head's
  // query positions of a sample), each with its own stream: row r is row r % groupRows of
  // group r / groupRows, and its element j is draw (r % groupRows)·rowStride + j of the
  // stream of seeds[r / groupRows]. rowStride ≥ cols, so no two elements share a draw, and an
  // element's draw does not depend on how many rows, groups or columns there are.
  const uint32_t* seeds;
  int64_t groupRows;
  int64_t rowStride;

  uint32_t rowSeed(int64_t row) const { return seeds[row / groupRows]; }
  uint64_t rowStart(int64_t row) const { return uint64_t(row % groupRows) * uint64_t(rowStride); }
};

inline uint32_t mulberry32At(uint32_t seed, uint64_t index) {
  const uint32_t state = seed + uint32_t(index + 1) * kMulberryIncrement;
  uint32_t t = (state ^ (state >> 15)) * (state | 1u);
  t ^= t + (t ^ (t >> 7)) * (t | 61u);
  return t ^ (t >> 14);
}

// Work sizes (elements) from which a call is split over the pool: a wake-up costs ~10 µs.
constexpr int64_t kParallelStreaming = int64_t(1) << 17;
constexpr int64_t kParallelHeavy = int64_t(1) << 14;

// Φ(x) for |x| ≤ 1: 0.5 + x·P(x²), absolute error 1.3e-10 (a float64 minimax fit).
constexpr double kPhiA[6] = {0.39894227871342053, -0.06649033233948273, 0.009973170882392652,
                             -0.0011859845694339038, 0.00011314349673069435, -7.530243764097833e-06};
// Φ(−u) = exp(−u²/2)·H(t), t = 1/(1 + u/2), for u ≥ 1: relative error 1.4e-9 on [1, 16]
// (beyond, Φ(−u)·u is below float32's smallest denormal).
constexpr double kPhiB[11] = {-5.341635141139874e-07, 0.19949323838443628, 0.1990772803047484,
                              0.15356854411646811,    0.025099091376510743, 0.036208097448302105,
                              -0.3538309500334107,    0.27404126477962565,  0.11602770341932285,
                              -0.23496249106839753,   0.08567922800224205};

// ---------------------------------------------------------------------------------------
// Portable scalar kernels
// ---------------------------------------------------------------------------------------
namespace scalar {

void adamw(float* p, const float* g, float* m, float* v, int64_t begin, int64_t end, const AdamWScalars& s) {
  for (int64_t i = begin; i < end; ++i) {
    float param = p[i];
    if (s.decays) param = param * s.decay;
    const float grad = g[i];
    const float nextM = m[i] + (grad - m[i]) * s.oneMinusBeta1;
    const float square = grad * grad;
    const float nextV = v[i] * s.beta2 + square * s.oneMinusBeta2;
    const float denom = std::sqrt(nextV) / s.biasCorrection2Sqrt + s.eps;
    const float update = (nextM * s.negStepSize) / denom;
    p[i] = param + update;
    m[i] = nextM;
    v[i] = nextV;
  }
}

void sgd(float* p, const float* g, float* buffer, int64_t begin, int64_t end, const SgdScalars& s) {
  for (int64_t i = begin; i < end; ++i) {
    float direction = g[i];
    if (s.decays) direction = direction + p[i] * s.weightDecay;
    if (s.hasMomentum) {
      float b = direction;
      if (!s.firstStep) b = buffer[i] * s.momentum + direction * s.oneMinusDampening;
      buffer[i] = b;
      direction = s.nesterov ? direction + b * s.momentum : b;
    }
    p[i] = p[i] + direction * s.negLr;
  }
}

void axpy(float* y, float alpha, const float* x, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float product = alpha * x[i];
    y[i] = y[i] + product;
  }
}

void scale(float* x, float factor, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) x[i] = x[i] * factor;
}

// One chunk's sum of squares (see kSumChunk).
double sumSquaresChunk(const float* x, int64_t count) {
  double lanes[kSumLanes] = {};
  for (int64_t i = 0; i < count; ++i) {
    const double value = x[i];
    lanes[i % kSumLanes] += value * value;
  }
  double total = 0;
  for (int lane = 0; lane < kSumLanes; ++lane) total += lanes[lane];
  return total;
}

bool allFinite(const float* x, int64_t begin, int64_t end) {
  uint32_t bad = 0;
  for (int64_t i = begin; i < end; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof(bits));
    bad |= uint32_t((bits & 0x7F800000u) == 0x7F800000u);
  }
  return bad == 0;
}

// Φ(z) and φ(z) in double, from libm's erfc (no cancellation on either side).
inline void normal(float z, double* cdf, double* density) {
  const double x = z;
  *cdf = 0.5 * std::erfc(-x * 0.70710678118654752440);
  *density = std::exp(-0.5 * x * x) * 0.39894228040143267794;
}

void biasGeluForward(const float* x, const float* bias, int64_t cols, float* y, float* saved, int64_t rowBegin,
                     int64_t rowEnd) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t i = r * cols + j;
      const float z = bias != nullptr ? x[i] + bias[j] : x[i];
      if (saved != nullptr) saved[i] = z;
      double cdf, density;
      normal(z, &cdf, &density);
      y[i] = float(double(z) * cdf);
    }
  }
}

// dx = dy·GELU'(z); with `partial`, also partial[j] += Σ_rows dx (float64, row order).
void geluBackward(const float* dy, const float* z, int64_t cols, float* dx, int64_t rowBegin, int64_t rowEnd,
                  double* partial) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t i = r * cols + j;
      double cdf, density;
      normal(z[i], &cdf, &density);
      const float value = float(double(dy[i]) * (cdf + double(z[i]) * density));
      dx[i] = value;
      if (partial != nullptr) partial[j] += double(value);
    }
  }
}

}  // namespace scalar

// ---------------------------------------------------------------------------------------
// AVX-512 kernels
// ---------------------------------------------------------------------------------------
#if MICROBATCH_X86
MICROBATCH_AVX512_BEGIN
namespace avx512 {

inline __mmask16 tailMask(int64_t remaining) {
  return remaining >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << remaining) - 1);
}

void adamw(float* p, const float* g, float* m, float* v, int64_t begin, int64_t end, const AdamWScalars& s) {
  const __m512 decay = _mm512_set1_ps(s.decay), oneMinusBeta1 = _mm512_set1_ps(s.oneMinusBeta1);
  const __m512 beta2 = _mm512_set1_ps(s.beta2), oneMinusBeta2 = _mm512_set1_ps(s.oneMinusBeta2);
  const __m512 bc2 = _mm512_set1_ps(s.biasCorrection2Sqrt), eps = _mm512_set1_ps(s.eps);
  const __m512 negStep = _mm512_set1_ps(s.negStepSize);
  for (int64_t i = begin; i < end; i += 16) {
    const __mmask16 k = tailMask(end - i);
    __m512 param = _mm512_maskz_loadu_ps(k, p + i);
    const __m512 grad = _mm512_maskz_loadu_ps(k, g + i);
    const __m512 oldM = _mm512_maskz_loadu_ps(k, m + i);
    const __m512 oldV = _mm512_maskz_loadu_ps(k, v + i);
    if (s.decays) param = _mm512_mul_ps(param, decay);
    const __m512 nextM = _mm512_add_ps(oldM, _mm512_mul_ps(_mm512_sub_ps(grad, oldM), oneMinusBeta1));
    const __m512 nextV = _mm512_add_ps(_mm512_mul_ps(oldV, beta2), _mm512_mul_ps(_mm512_mul_ps(grad, grad), oneMinusBeta2));
    const __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(nextV), bc2), eps);
    param = _mm512_add_ps(param, _mm512_div_ps(_mm512_mul_ps(nextM, negStep), denom));
    _mm512_mask_storeu_ps(p + i, k, param);
    _mm512_mask_storeu_ps(m + i, k, nextM);
    _mm512_mask_storeu_ps(v + i, k, nextV);
  }
}

void sgd(float* p, const float* g, float* buffer, int64_t begin, int64_t end, const SgdScalars& s) {
  const __m512 wd = _mm512_set1_ps(s.weightDecay), momentum = _mm512_set1_ps(s.momentum);
  const __m512 oneMinusDampening = _mm512_set1_ps(s.oneMinusDampening), negLr = _mm512_set1_ps(s.negLr);
  for (int64_t i = begin; i < end; i += 16) {
    const __mmask16 k = tailMask(end - i);
    const __m512 param = _mm512_maskz_loadu_ps(k, p + i);
    __m512 direction = _mm512_maskz_loadu_ps(k, g + i);
    if (s.decays) direction = _mm512_add_ps(direction, _mm512_mul_ps(param, wd));
    if (s.hasMomentum) {
      __m512 b = direction;
      if (!s.firstStep) {
        b = _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(k, buffer + i), momentum), _mm512_mul_ps(direction, oneMinusDampening));
      }
      _mm512_mask_storeu_ps(buffer + i, k, b);
      direction = s.nesterov ? _mm512_add_ps(direction, _mm512_mul_ps(b, momentum)) : b;
    }
    _mm512_mask_storeu_ps(p + i, k, _mm512_add_ps(param, _mm512_mul_ps(direction, negLr)));
  }
}

void axpy(float* y, float alpha, const float* x, int64_t begin, int64_t end) {
  const __m512 a = _mm512_set1_ps(alpha);
  for (int64_t i = begin; i < end; i += 16) {
    const __mmask16 k = tailMask(end - i);
    const __m512 product = _mm512_mul_ps(a, _mm512_maskz_loadu_ps(k, x + i));
    _mm512_mask_storeu_ps(y + i, k, _mm512_add_ps(_mm512_maskz_loadu_ps(k, y + i), product));
  }
}

void scale(float* x, float factor, int64_t begin, int64_t end) {
  const __m512 f = _mm512_set1_ps(factor);
  for (int64_t i = begin; i < end; i += 16) {
    const __mmask16 k = tailMask(end - i);
    _mm512_mask_storeu_ps(x + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), f));
  }
}

// Same lane order as scalar::sumSquaresChunk: accumulator a holds lanes 8a .. 8a+7.
double sumSquaresChunk(const float* x, int64_t count) {
  __m512d acc[4] = {_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd()};
  for (int64_t i = 0; i < count; i += 32) {
    const __mmask16 k0 = tailMask(count - i);
    const __mmask16 k1 = tailMask(count - i - 16 < 0 ? 0 : count - i - 16);
    const __m512 v0 = _mm512_maskz_loadu_ps(k0, x + i);
    const __m512 v1 = _mm512_maskz_loadu_ps(k1, x + i + 16);
    const __m512d d0 = _mm512_cvtps_pd(_mm512_castps512_ps256(v0));
    const __m512d d1 = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v0), 1)));
    const __m512d d2 = _mm512_cvtps_pd(_mm512_castps512_ps256(v1));
    const __m512d d3 = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v1), 1)));
    acc[0] = _mm512_add_pd(acc[0], _mm512_mul_pd(d0, d0));
    acc[1] = _mm512_add_pd(acc[1], _mm512_mul_pd(d1, d1));
    acc[2] = _mm512_add_pd(acc[2], _mm512_mul_pd(d2, d2));
    acc[3] = _mm512_add_pd(acc[3], _mm512_mul_pd(d3, d3));
  }
  alignas(64) double lanes[kSumLanes];
  for (int a = 0; a < 4; ++a) _mm512_store_pd(lanes + 8 * a, acc[a]);
  double total = 0;
  for (int lane = 0; lane < kSumLanes; ++lane) total += lanes[lane];
  return total;
}

bool allFinite(const float* x, int64_t begin, int64_t end) {
  __mmask16 bad = 0;
  for (int64_t i = begin; i < end; i += 16) {
    const __m512 value = _mm512_maskz_loadu_ps(tailMask(end - i), x + i);
    bad |= _mm512_fpclass_ps_mask(value, 0x01 | 0x80 | 0x08 | 0x10);  // QNaN, SNaN, +Inf, −Inf
  }
  return bad == 0;
}

// exp(x), float32, ≤ 1 ulp-ish: x = n·ln2 + r (Cody–Waite), exp(r) by Cephes' expf
// polynomial, 2^n by VSCALEFPS (exact, underflows gradually). NaN propagates.
inline __m512 exp(__m512 x) {
  x = _mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(_mm512_set1_ps(-150.0f), x));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606820309417e-06f), r);
  __m512 poly = _mm512_set1_ps(1.9875691500e-4f);
  poly = _mm512_fmadd_ps(poly, r, _mm512_set1_ps(1.3981999507e-3f));
  poly = _mm512_fmadd_ps(poly, r, _mm512_set1_ps(8.3334519073e-3f));
  poly = _mm512_fmadd_ps(poly, r, _mm512_set1_ps(4.1665795894e-2f));
  poly = _mm512_fmadd_ps(poly, r, _mm512_set1_ps(1.6666665459e-1f));
  poly = _mm512_fmadd_ps(poly, r, _mm512_set1_ps(5.0000001201e-1f));
  poly = _mm512_fmadd_ps(poly, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(poly, n);
}

// exp(x) in float64 to ~1e-13 relative: x = n·ln2 + r, |r| ≤ ln2/2, Taylor to r¹⁰, then
// 2ⁿ by VSCALEFPD. Only the GELU's Gaussian uses it (arguments ≤ 0).
inline __m512d expPd(__m512d x) {
  x = _mm512_min_pd(_mm512_set1_pd(709.0), _mm512_max_pd(_mm512_set1_pd(-745.0), x));  // NaN stays NaN
  const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(1.4426950408889634)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(0.6931471803691238), x);
  r = _mm512_fnmadd_pd(n, _mm512_set1_pd(1.9082149292705877e-10), r);
  constexpr double kInverseFactorials[11] = {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
                                             1.0 / 40320, 1.0 / 362880, 1.0 / 3628800};
  __m512d poly = _mm512_set1_pd(kInverseFactorials[10]);
  for (int c = 9; c >= 0; --c) poly = _mm512_fmadd_pd(poly, r, _mm512_set1_pd(kInverseFactorials[c]));
  return _mm512_scalef_pd(poly, n);
}

// Φ(z) in float64 (z exactly a float32) and exp(−z²/2) for the density; z² is exact in
// float64. |z| ≤ 1: 0.5 + z·P(z²); beyond, Φ(−|z|) = exp(−z²/2)·H(t) and Φ(|z|) = 1 − that,
// so neither tail cancels. Errors (≤ 2e-9 relative) vanish in the final float32 rounding:
// the GELU is correctly rounded but for values within ~2e-9 ulp of a tie.
inline __m512d normalCdf(__m512d z, __m512d* gaussian) {
  const __m512d one = _mm512_set1_pd(1.0), half = _mm512_set1_pd(0.5);
  const __m512d square = _mm512_mul_pd(z, z);
  const __m512d e = expPd(_mm512_mul_pd(square, _mm512_set1_pd(-0.5)));
  *gaussian = e;
  __m512d pa = _mm512_set1_pd(kPhiA[5]);
  for (int c = 4; c >= 0; --c) pa = _mm512_fmadd_pd(pa, square, _mm512_set1_pd(kPhiA[c]));
  const __m512d inner = _mm512_fmadd_pd(z, pa, half);
  const __m512d u = _mm512_abs_pd(z);
  const __m512d t = _mm512_div_pd(one, _mm512_fmadd_pd(u, half, one));
  __m512d pb = _mm512_set1_pd(kPhiB[10]);
  for (int c = 9; c >= 0; --c) pb = _mm512_fmadd_pd(pb, t, _mm512_set1_pd(kPhiB[c]));
  const __m512d tail = _mm512_mul_pd(e, pb);  // Φ(−u)
  const __mmask8 negative = _mm512_cmp_pd_mask(z, _mm512_setzero_pd(), _CMP_LT_OQ);
  const __m512d outer = _mm512_mask_blend_pd(negative, _mm512_sub_pd(one, tail), tail);
  const __mmask8 isInner = _mm512_cmp_pd_mask(u, one, _CMP_LE_OQ);
  const __mmask8 nan = _mm512_cmp_pd_mask(z, z, _CMP_UNORD_Q);
  return _mm512_mask_blend_pd(nan, _mm512_mask_blend_pd(isInner, outer, inner), z);
}

inline __m512d lowHalf(__m512 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
inline __m512d highHalf(__m512 v) { return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))); }
inline __m512 join(__m512d low, __m512d high) {
  return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(low)), _mm512_cvtpd_ps(high), 1);
}

void biasGeluForward(const float* x, const float* bias, int64_t cols, float* y, float* saved, int64_t rowBegin,
                     int64_t rowEnd) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = tailMask(cols - j);
      const int64_t i = r * cols + j;
      __m512 z = _mm512_maskz_loadu_ps(k, x + i);
      if (bias != nullptr) z = _mm512_add_ps(z, _mm512_maskz_loadu_ps(k, bias + j));
      if (saved != nullptr) _mm512_mask_storeu_ps(saved + i, k, z);
      __m512d gaussian;
      const __m512d z0 = lowHalf(z), z1 = highHalf(z);
      const __m512d y0 = _mm512_mul_pd(z0, normalCdf(z0, &gaussian));
      const __m512d y1 = _mm512_mul_pd(z1, normalCdf(z1, &gaussian));
      _mm512_mask_storeu_ps(y + i, k, join(y0, y1));
    }
  }
}

void geluBackward(const float* dy, const float* z, int64_t cols, float* dx, int64_t rowBegin, int64_t rowEnd,
                  double* partial) {
  const __m512d invSqrt2Pi = _mm512_set1_pd(0.3989422804014327);
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = tailMask(cols - j);
      const int64_t i = r * cols + j;
      const __m512 input = _mm512_maskz_loadu_ps(k, z + i);
      const __m512 grad = _mm512_maskz_loadu_ps(k, dy + i);
      __m512d out[2];
      for (int half = 0; half < 2; ++half) {
        const __m512d zd = half == 0 ? lowHalf(input) : highHalf(input);
        __m512d gaussian;
        const __m512d cdf = normalCdf(zd, &gaussian);
        const __m512d derivative = _mm512_fmadd_pd(_mm512_mul_pd(zd, gaussian), invSqrt2Pi, cdf);
        out[half] = _mm512_mul_pd(half == 0 ? lowHalf(grad) : highHalf(grad), derivative);
      }
      const __m512 value = join(out[0], out[1]);
      _mm512_mask_storeu_ps(dx + i, k, value);
      if (partial != nullptr) {
        const __mmask8 k0 = __mmask8(k), k1 = __mmask8(k >> 8);
        _mm512_mask_storeu_pd(partial + j, k0, _mm512_add_pd(_mm512_maskz_loadu_pd(k0, partial + j), lowHalf(value)));
        _mm512_mask_storeu_pd(partial + j + 8, k1, _mm512_add_pd(_mm512_maskz_loadu_pd(k1, partial + j + 8), highHalf(value)));
      }
    }
  }
}

inline double sumPd(__m512d value) { return _mm512_reduce_add_pd(value); }

// Adds float values to two float64 accumulators (low and high 8 lanes).
inline void addWide(__m512 value, __m512d* low, __m512d* high) {
  *low = _mm512_add_pd(*low, _mm512_cvtps_pd(_mm512_castps512_ps256(value)));
  *high = _mm512_add_pd(*high, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(value), 1))));
}

}  // namespace avx512
MICROBATCH_AVX512_END
#endif

// ---------------------------------------------------------------------------------------
// Row kernels shared by both ISAs: LayerNorm and softmax do little arithmetic per element
// besides exp, so one row-wise implementation with an ISA-specific exp and reductions
// would gain little; they are written once per ISA below.
// ---------------------------------------------------------------------------------------

namespace scalar {

// s = x + residual (one float add); mean, variance, 1/sqrt(var + eps) and x̂ = (s − mean)·invStd
// in float64, each rounded once to float32 (no cancellation when |mean| ≫ σ);
// out = x̂·γ + β in float32 ops, unfused, as the TF.js layer.
void layerNormForward(const float* x, const float* residual, const float* gamma, const float* beta, int64_t cols,
                      double eps, float* out, float* xhat, float* invStd, int64_t rowBegin, int64_t rowEnd) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const float* xr = x + r * cols;
    const float* rr = residual != nullptr ? residual + r * cols : nullptr;
    float* hr = xhat + r * cols;
    double sum = 0;
    for (int64_t j = 0; j < cols; ++j) {
      const float s = rr != nullptr ? xr[j] + rr[j] : xr[j];
      hr[j] = s;
      sum += s;
    }
    const double mean = sum / double(cols);
    double squares = 0;
    for (int64_t j = 0; j < cols; ++j) {
      const double centered = double(hr[j]) - mean;
      squares += centered * centered;
    }
    const double inverse = 1.0 / std::sqrt(squares / double(cols) + eps);
    invStd[r] = float(inverse);
    float* outRow = out + r * cols;
    for (int64_t j = 0; j < cols; ++j) {
      const float normalized = float((double(hr[j]) - mean) * inverse);
      hr[j] = normalized;
      outRow[j] = normalized * gamma[j] + beta[j];
    }
  }
}

// dx (+)= (g − mean(g) − x̂·mean(g·x̂))·invStd with g = dy·γ (means in float64).
void layerNormBackwardRows(const float* dy, const float* xhat, const float* invStd, const float* gamma, int64_t cols,
                           float* dx, bool accumulateDx, int64_t rowBegin, int64_t rowEnd) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const float* dyr = dy + r * cols;
    const float* hr = xhat + r * cols;
    double sumG = 0, sumGX = 0;
    for (int64_t j = 0; j < cols; ++j) {
      const float g = dyr[j] * gamma[j];
      sumG += g;
      sumGX += double(g) * double(hr[j]);
    }
    const float meanG = float(sumG / double(cols));
    const float meanGX = float(sumGX / double(cols));
    const float inverse = invStd[r];
    float* dxr = dx + r * cols;
    for (int64_t j = 0; j < cols; ++j) {
      const float g = dyr[j] * gamma[j];
      const float value = ((g - meanG) - hr[j] * meanGX) * inverse;
      dxr[j] = accumulateDx ? dxr[j] + value : value;
    }
  }
}

// y = softmax(x·scale + mask) over each row (mask row: (r / maskRepeat) % maskRows).
void softmaxForward(const float* x, int64_t cols, float scale, const float* mask, int64_t maskRows, int64_t maskRepeat,
                    float* y, int64_t rowBegin, int64_t rowEnd) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const float* xr = x + r * cols;
    const float* mr = mask != nullptr ? mask + ((r / maskRepeat) % maskRows) * cols : nullptr;
    float* yr = y + r * cols;
    float max = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < cols; ++j) {
      float z = xr[j] * scale;
      if (mr != nullptr) z = z + mr[j];
      yr[j] = z;
      max = std::isnan(z) || z > max ? z : max;
    }
    double sum = 0;
    for (int64_t j = 0; j < cols; ++j) {
      const float e = std::exp(yr[j] - max);
      yr[j] = e;
      sum += e;
    }
    const float total = float(sum);
    for (int64_t j = 0; j < cols; ++j) yr[j] = yr[j] / total;
  }
}

// dx = y·(dy − Σ dy·y)·scale (the sum in float64).
void softmaxBackward(const float* dy, const float* y, int64_t cols, float scale, float* dx, int64_t rowBegin,
                     int64_t rowEnd) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const float* dyr = dy + r * cols;
    const float* yr = y + r * cols;
    double dot = 0;
    for (int64_t j = 0; j < cols; ++j) dot += double(dyr[j]) * double(yr[j]);
    const float dotF = float(dot);
    float* dxr = dx + r * cols;
    for (int64_t j = 0; j < cols; ++j) dxr[j] = (yr[j] * (dyr[j] - dotF)) * scale;
  }
}

// Column sums of `rows` rows into float64 partials: partial[j] += Σ_r a[r,j] (·b[r,j]).
void columnSums(const float* a, const float* b, int64_t cols, int64_t rowBegin, int64_t rowEnd, double* partial) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const float* ar = a + r * cols;
    if (b != nullptr) {
      const float* br = b + r * cols;
      for (int64_t j = 0; j < cols; ++j) partial[j] += double(ar[j]) * double(br[j]);
    } else {
      for (int64_t j = 0; j < cols; ++j) partial[j] += double(ar[j]);
    }
  }
}

// y = (x + bias)·mask over rows [rowBegin, rowEnd) (bias null: x; mask inactive: no product).
void biasDropoutForward(const float* x, const float* bias, int64_t cols, const DropoutMask& mask, float* y,
                        int64_t rowBegin, int64_t rowEnd) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const uint32_t seed = mask.active ? mask.rowSeed(r) : 0;
    const uint64_t stream = mask.rowStart(r);
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t i = r * cols + j;
      float value = bias != nullptr ? x[i] + bias[j] : x[i];
      if (mask.active) {
        const bool drop = mask.dropAll || mulberry32At(seed, stream + uint64_t(j)) < mask.dropBelow;
        value = value * (drop ? 0.0f : mask.kept);
      }
      y[i] = value;
    }
  }
}

// dx = dy·mask (dx null: not written); with `partial`, partial[j] += Σ_rows dy·mask (float64).
void dropoutBackward(const float* dy, int64_t cols, const DropoutMask& mask, float* dx, int64_t rowBegin,
                     int64_t rowEnd, double* partial) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const uint32_t seed = mask.active ? mask.rowSeed(r) : 0;
    const uint64_t stream = mask.rowStart(r);
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t i = r * cols + j;
      float value = dy[i];
      if (mask.active) {
        const bool drop = mask.dropAll || mulberry32At(seed, stream + uint64_t(j)) < mask.dropBelow;
        value = value * (drop ? 0.0f : mask.kept);
      }
      if (dx != nullptr) dx[i] = value;
      if (partial != nullptr) partial[j] += double(value);
    }
  }
}

// out = x̂·γ + β: the forward's output from its saved x̂, the same two float32 operations.
void layerNormAffine(const float* xhat, const float* gamma, const float* beta, int64_t cols, float* out,
                     int64_t rowBegin, int64_t rowEnd) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const float* hr = xhat + r * cols;
    float* outRow = out + r * cols;
    for (int64_t j = 0; j < cols; ++j) {
      const float scaled = hr[j] * gamma[j];
      outRow[j] = scaled + beta[j];
    }
  }
}

}  // namespace scalar

#if MICROBATCH_X86
MICROBATCH_AVX512_BEGIN
namespace avx512 {

void layerNormForward(const float* x, const float* residual, const float* gamma, const float* beta, int64_t cols,
                      double eps, float* out, float* xhat, float* invStd, int64_t rowBegin, int64_t rowEnd) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const float* xr = x + r * cols;
    const float* rr = residual != nullptr ? residual + r * cols : nullptr;
    float* hr = xhat + r * cols;
    __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = tailMask(cols - j);
      __m512 s = _mm512_maskz_loadu_ps(k, xr + j);
      if (rr != nullptr) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(k, rr + j));
      _mm512_mask_storeu_ps(hr + j, k, s);
      addWide(s, &lo, &hi);
    }
    const double mean = (sumPd(lo) + sumPd(hi)) / double(cols);
    const __m512d meanWide = _mm512_set1_pd(mean);
    __m512d sq0 = _mm512_setzero_pd(), sq1 = _mm512_setzero_pd();
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = tailMask(cols - j);
      const __m512 s = _mm512_maskz_loadu_ps(k, hr + j);
      const __mmask8 k0 = __mmask8(k), k1 = __mmask8(k >> 8);
      const __m512d c0 = _mm512_maskz_sub_pd(k0, _mm512_cvtps_pd(_mm512_castps512_ps256(s)), meanWide);
      const __m512d c1 = _mm512_maskz_sub_pd(k1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1))), meanWide);
      sq0 = _mm512_add_pd(sq0, _mm512_mul_pd(c0, c0));
      sq1 = _mm512_add_pd(sq1, _mm512_mul_pd(c1, c1));
    }
    const double inverse = 1.0 / std::sqrt((sumPd(sq0) + sumPd(sq1)) / double(cols) + eps);
    invStd[r] = float(inverse);
    const __m512d inv = _mm512_set1_pd(inverse);
    float* outRow = out + r * cols;
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = tailMask(cols - j);
      const __m512 s = _mm512_maskz_loadu_ps(k, hr + j);
      const __m512 normalized = join(_mm512_mul_pd(_mm512_sub_pd(lowHalf(s), meanWide), inv),
                                     _mm512_mul_pd(_mm512_sub_pd(highHalf(s), meanWide), inv));
      _mm512_mask_storeu_ps(hr + j, k, normalized);
      const __m512 scaled = _mm512_mul_ps(normalized, _mm512_maskz_loadu_ps(k, gamma + j));
      _mm512_mask_storeu_ps(outRow + j, k, _mm512_add_ps(scaled, _mm512_maskz_loadu_ps(k, beta + j)));
    }
  }
}

void layerNormBackwardRows(const float* dy, const float* xhat, const float* invStd, const float* gamma, int64_t cols,
                           float* dx, bool accumulateDx, int64_t rowBegin, int64_t rowEnd) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const float* dyr = dy + r * cols;
    const float* hr = xhat + r * cols;
    __m512d g0 = _mm512_setzero_pd(), g1 = _mm512_setzero_pd(), gx0 = _mm512_setzero_pd(), gx1 = _mm512_setzero_pd();
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = tailMask(cols - j);
      const __m512 g = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, dyr + j), _mm512_maskz_loadu_ps(k, gamma + j));
      const __m512 h = _mm512_maskz_loadu_ps(k, hr + j);
      addWide(g, &g0, &g1);
      const __m512d gl = _mm512_cvtps_pd(_mm512_castps512_ps256(g));
      const __m512d gh = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(g), 1)));
      const __m512d hl = _mm512_cvtps_pd(_mm512_castps512_ps256(h));
      const __m512d hh = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(h), 1)));
      gx0 = _mm512_fmadd_pd(gl, hl, gx0);
      gx1 = _mm512_fmadd_pd(gh, hh, gx1);
    }
    const __m512 meanG = _mm512_set1_ps(float((sumPd(g0) + sumPd(g1)) / double(cols)));
    const __m512 meanGX = _mm512_set1_ps(float((sumPd(gx0) + sumPd(gx1)) / double(cols)));
    const __m512 inverse = _mm512_set1_ps(invStd[r]);
    float* dxr = dx + r * cols;
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = tailMask(cols - j);
      const __m512 g = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, dyr + j), _mm512_maskz_loadu_ps(k, gamma + j));
      const __m512 h = _mm512_maskz_loadu_ps(k, hr + j);
      __m512 value = _mm512_mul_ps(_mm512_sub_ps(_mm512_sub_ps(g, meanG), _mm512_mul_ps(h, meanGX)), inverse);
      if (accumulateDx) value = _mm512_add_ps(_mm512_maskz_loadu_ps(k, dxr + j), value);
      _mm512_mask_storeu_ps(dxr + j, k, value);
    }
  }
}

void softmaxForward(const float* x, int64_t cols, float scale, const float* mask, int64_t maskRows, int64_t maskRepeat,
                    float* y, int64_t rowBegin, int64_t rowEnd) {
  const __m512 scaleV = _mm512_set1_ps(scale);
  const __m512 negInf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const float* xr = x + r * cols;
    const float* mr = mask != nullptr ? mask + ((r / maskRepeat) % maskRows) * cols : nullptr;
    float* yr = y + r * cols;
    __m512 maxV = negInf;
    __mmask16 nan = 0;
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = tailMask(cols - j);
      __m512 z = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, xr + j), scaleV);
      if (mr != nullptr) z = _mm512_add_ps(z, _mm512_maskz_loadu_ps(k, mr + j));
      _mm512_mask_storeu_ps(yr + j, k, z);
      nan |= _mm512_mask_cmp_ps_mask(k, z, z, _CMP_UNORD_Q);
      maxV = _mm512_mask_max_ps(maxV, k, maxV, z);
    }
    const float max = nan != 0 ? std::numeric_limits<float>::quiet_NaN() : _mm512_reduce_max_ps(maxV);
    const __m512 maxB = _mm512_set1_ps(max);
    __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = tailMask(cols - j);
      const __m512 e = _mm512_maskz_mov_ps(k, exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, yr + j), maxB)));
      _mm512_mask_storeu_ps(yr + j, k, e);
      addWide(e, &lo, &hi);
    }
    const __m512 total = _mm512_set1_ps(float(sumPd(lo) + sumPd(hi)));
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = tailMask(cols - j);
      _mm512_mask_storeu_ps(yr + j, k, _mm512_div_ps(_mm512_maskz_loadu_ps(k, yr + j), total));
    }
  }
}

void softmaxBackward(const float* dy, const float* y, int64_t cols, float scale, float* dx, int64_t rowBegin,
                     int64_t rowEnd) {
  const __m512 scaleV = _mm512_set1_ps(scale);
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const float* dyr = dy + r * cols;
    const float* yr = y + r * cols;
    __m512d d0 = _mm512_setzero_pd(), d1 = _mm512_setzero_pd();
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = tailMask(cols - j);
      const __m512 a = _mm512_maskz_loadu_ps(k, dyr + j), b = _mm512_maskz_loadu_ps(k, yr + j);
      d0 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(a)), _mm512_cvtps_pd(_mm512_castps512_ps256(b)), d0);
      d1 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1))),
                           _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(b), 1))), d1);
    }
    const __m512 dot = _mm512_set1_ps(float(sumPd(d0) + sumPd(d1)));
    float* dxr = dx + r * cols;
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = tailMask(cols - j);
      const __m512 a = _mm512_maskz_loadu_ps(k, dyr + j), b = _mm512_maskz_loadu_ps(k, yr + j);
      _mm512_mask_storeu_ps(dxr + j, k, _mm512_mul_ps(_mm512_mul_ps(b, _mm512_sub_ps(a, dot)), scaleV));
    }
  }
}

void columnSums(const float* a, const float* b, int64_t cols, int64_t rowBegin, int64_t rowEnd, double* partial) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const float* ar = a + r * cols;
    const float* br = b != nullptr ? b + r * cols : nullptr;
    for (int64_t j = 0; j < cols; j += 8) {
      const __mmask8 k = cols - j >= 8 ? __mmask8(0xFF) : __mmask8((1u << (cols - j)) - 1);
      __m512d value = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(k, ar + j));
      if (br != nullptr) value = _mm512_mul_pd(value, _mm512_cvtps_pd(_mm256_maskz_loadu_ps(k, br + j)));
      _mm512_mask_storeu_pd(partial + j, k, _mm512_add_pd(_mm512_maskz_loadu_pd(k, partial + j), value));
    }
  }
}

// Mulberry32 on 16 lanes of states (uint32 arithmetic, as the scalar mulberry32At).
inline __m512i mulberry32(__m512i state) {
  __m512i t = _mm512_mullo_epi32(_mm512_xor_si512(state, _mm512_srli_epi32(state, 15)), _mm512_or_si512(state, _mm512_set1_epi32(1)));
  const __m512i inner = _mm512_mullo_epi32(_mm512_xor_si512(t, _mm512_srli_epi32(t, 7)), _mm512_or_si512(t, _mm512_set1_epi32(61)));
  t = _mm512_xor_si512(t, _mm512_add_epi32(t, inner));
  return _mm512_xor_si512(t, _mm512_srli_epi32(t, 14));
}

// The mask multipliers of elements start … start + 15 of the stream of `seed`: 0 or `kept`.
inline __m512 maskAt(const DropoutMask& mask, uint32_t seed, uint64_t start) {
  if (mask.dropAll) return _mm512_setzero_ps();
  const __m512i lanes = _mm512_set_epi32(16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
  const uint32_t base = seed + uint32_t(start) * kMulberryIncrement;
  const __m512i state = _mm512_add_epi32(_mm512_set1_epi32(int(base)), _mm512_mullo_epi32(lanes, _mm512_set1_epi32(int(kMulberryIncrement))));
  const __mmask16 drop = _mm512_cmplt_epu32_mask(mulberry32(state), _mm512_set1_epi32(int(mask.dropBelow)));
  return _mm512_maskz_mov_ps(__mmask16(~drop), _mm512_set1_ps(mask.kept));
}

void biasDropoutForward(const float* x, const float* bias, int64_t cols, const DropoutMask& mask, float* y,
                        int64_t rowBegin, int64_t rowEnd) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const uint32_t seed = mask.active ? mask.rowSeed(r) : 0;
    const uint64_t stream = mask.rowStart(r);
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = tailMask(cols - j);
      const int64_t i = r * cols + j;
      __m512 value = _mm512_maskz_loadu_ps(k, x + i);
      if (bias != nullptr) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(k, bias + j));
      if (mask.active) value = _mm512_mul_ps(value, maskAt(mask, seed, stream + uint64_t(j)));
      _mm512_mask_storeu_ps(y + i, k, value);
    }
  }
}

void dropoutBackward(const float* dy, int64_t cols, const DropoutMask& mask, float* dx, int64_t rowBegin,
                     int64_t rowEnd, double* partial) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const uint32_t seed = mask.active ? mask.rowSeed(r) : 0;
    const uint64_t stream = mask.rowStart(r);
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = tailMask(cols - j);
      const int64_t i = r * cols + j;
      __m512 value = _mm512_maskz_loadu_ps(k, dy + i);
      if (mask.active) value = _mm512_mul_ps(value, maskAt(mask, seed, stream + uint64_t(j)));
      if (dx != nullptr) _mm512_mask_storeu_ps(dx + i, k, value);
      if (partial != nullptr) {
        const __mmask8 k0 = __mmask8(k), k1 = __mmask8(k >> 8);
        _mm512_mask_storeu_pd(partial + j, k0, _mm512_add_pd(_mm512_maskz_loadu_pd(k0, partial + j), lowHalf(value)));
        _mm512_mask_storeu_pd(partial + j + 8, k1, _mm512_add_pd(_mm512_maskz_loadu_pd(k1, partial + j + 8), highHalf(value)));
      }
    }
  }
}

void layerNormAffine(const float* xhat, const float* gamma, const float* beta, int64_t cols, float* out,
                     int64_t rowBegin, int64_t rowEnd) {
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const float* hr = xhat + r * cols;
    float* outRow = out + r * cols;
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = tailMask(cols - j);
      const __m512 scaled = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, hr + j), _mm512_maskz_loadu_ps(k, gamma + j));
      _mm512_mask_storeu_ps(outRow + j, k, _mm512_add_ps(scaled, _mm512_maskz_loadu_ps(k, beta + j)));
    }
  }
}

}  // namespace avx512
MICROBATCH_AVX512_END
#endif

// ---------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------

bool selectAvx512() {
#if MICROBATCH_X86
  const char* cap = std::getenv("MICROBATCH_NATIVE_ISA");
  const bool allowed = cap == nullptr || cap[0] == '\0' || std::strcmp(cap, "avx512bf16") == 0 || std::strcmp(cap, "avx512") == 0;
  __builtin_cpu_init();
  return allowed && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

const bool kAvx512 = selectAvx512();

#if MICROBATCH_X86
#define DISPATCH(function, ...) (kAvx512 ? avx512::function(__VA_ARGS__) : scalar::function(__VA_ARGS__))
#else
#define DISPATCH(function, ...) scalar::function(__VA_ARGS__)
#endif

// Runs the float64 column sums of a [rows, cols] product (or of `a` alone) into `out`
// (+= when accumulate): rows in fixed blocks of kRowBlock, each block's sums added in
// block order, so the rounding does not depend on the thread count.
// out[j] (+)= Σ_blocks partials[block][j], blocks added in order.
void combineColumns(const std::vector<double>& partials, int64_t blocks, int64_t cols, float* out, bool accumulate) {
  for (int64_t j = 0; j < cols; ++j) {
    double total = 0;
    for (int64_t block = 0; block < blocks; ++block) total += partials[size_t(block * cols + j)];
    out[j] = accumulate ? out[j] + float(total) : float(total);
  }
}

void reduceColumns(Instance* instance, const float* a, const float* b, int64_t rows, int64_t cols, float* out,
                   bool accumulate) {
  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  std::vector<double> partials(size_t(std::max<int64_t>(blocks, 1) * cols), 0.0);
  parallelFor(instance, blocks, 1, rows * cols >= kParallelStreaming, [&](int64_t begin, int64_t end) {
    for (int64_t block = begin; block < end; ++block) {
      const int64_t rowBegin = block * kRowBlock, rowEnd = std::min(rows, rowBegin + kRowBlock);
      DISPATCH(columnSums, a, b, cols, rowBegin, rowEnd, partials.data() + block * cols);
    }
  });
  combineColumns(partials, blocks, cols, out, accumulate);
}

// ---------------------------------------------------------------------------------------
// N-API entry points
// ---------------------------------------------------------------------------------------

// adamwStep(param, grad, m, v, decay, oneMinusBeta1, beta2, oneMinusBeta2,
//           biasCorrection2Sqrt, eps, negStepSize): one AdamW step in place; decay = 1
// means no decay. The scalars are rounded to float32 (as TF.js's scalar tensors).
napi_value AdamwStep(napi_env env, napi_callback_info info) {
  Args args(env, info, "adamwStep", 11, 11);
  const FloatArray p = args.floats(0, "param"), g = args.floats(1, "grad"), m = args.floats(2, "m"), v = args.floats(3, "v");
  AdamWScalars s;
  const double decay = args.number(4, "decay");
  s.decays = decay != 1.0;
  s.decay = float(decay);
  s.oneMinusBeta1 = float(args.number(5, "oneMinusBeta1"));
  s.beta2 = float(args.number(6, "beta2"));
  s.oneMinusBeta2 = float(args.number(7, "oneMinusBeta2"));
  s.biasCorrection2Sqrt = float(args.number(8, "biasCorrection2Sqrt"));
  s.eps = float(args.number(9, "eps"));
  s.negStepSize = float(args.number(10, "negStepSize"));
  const int64_t n = int64_t(p.length);
  if (!args.require(g, double(n), "grad") || !args.require(m, double(n), "m") || !args.require(v, double(n), "v")) return nullptr;
  if (!args.disjoint(p.data, n, g.data, n, "param overlaps grad") || !args.disjoint(p.data, n, m.data, n, "param overlaps m") ||
      !args.disjoint(p.data, n, v.data, n, "param overlaps v") || !args.disjoint(m.data, n, v.data, n, "m overlaps v") ||
      !args.disjoint(m.data, n, g.data, n, "m overlaps grad") || !args.disjoint(v.data, n, g.data, n, "v overlaps grad")) {
    return nullptr;
  }
  parallelFor(args.instance(), n, 64, n >= kParallelStreaming / 2, [&](int64_t begin, int64_t end) {
    DISPATCH(adamw, p.data, g.data, m.data, v.data, begin, end, s);
  });
  return nullptr;
}

// sgdStep(param, grad, buffer, weightDecay, momentum, oneMinusDampening, nesterov,
//         firstStep, negLr): one SGD step in place. weightDecay 0 skips the decay;
// momentum 0 (buffer null/undefined) is plain SGD.
napi_value SgdStep(napi_env env, napi_callback_info info) {
  Args args(env, info, "sgdStep", 9, 9);
  const FloatArray p = args.floats(0, "param"), g = args.floats(1, "grad");
  const FloatArray buffer = args.floats(2, "buffer", true);
  SgdScalars s;
  const double weightDecay = args.number(3, "weightDecay");
  const double momentum = args.number(4, "momentum");
  s.decays = weightDecay != 0;
  s.weightDecay = float(weightDecay);
  s.hasMomentum = momentum != 0;
  s.momentum = float(momentum);
  s.oneMinusDampening = float(args.number(5, "oneMinusDampening"));
  s.nesterov = args.boolean(6, "nesterov");
  s.firstStep = args.boolean(7, "firstStep");
  s.negLr = float(args.number(8, "negLr"));
  const int64_t n = int64_t(p.length);
  if (!args.require(g, double(n), "grad")) return nullptr;
  if (s.hasMomentum && !buffer.present) {
    args.fail("ERR_INVALID_ARG_VALUE", "momentum ≠ 0 needs a buffer");
    return nullptr;
  }
  if (s.hasMomentum && !args.require(buffer, double(n), "buffer")) return nullptr;
  if (!args.disjoint(p.data, n, g.data, n, "param overlaps grad") ||
      !args.disjoint(p.data, n, s.hasMomentum ? buffer.data : nullptr, n, "param overlaps buffer") ||
      !args.disjoint(g.data, n, s.hasMomentum ? buffer.data : nullptr, n, "grad overlaps buffer")) {
    return nullptr;
  }
  parallelFor(args.instance(), n, 64, n >= kParallelStreaming / 2, [&](int64_t begin, int64_t end) {
    DISPATCH(sgd, p.data, g.data, buffer.data, begin, end, s);
  });
  return nullptr;
}

// axpy(y, alpha, x): y[i] = y[i] + float(alpha)·x[i] (two roundings, no FMA), in place.
napi_value Axpy(napi_env env, napi_callback_info info) {
  Args args(env, info, "axpy", 3, 3);
  const FloatArray y = args.floats(0, "y");
  const float alpha = float(args.number(1, "alpha"));
  const FloatArray x = args.floats(2, "x");
  const int64_t n = int64_t(y.length);
  if (!args.require(x, double(n), "x") || !args.disjoint(y.data, n, x.data, n, "y overlaps x")) return nullptr;
  parallelFor(args.instance(), n, 64, n >= kParallelStreaming, [&](int64_t begin, int64_t end) {
    DISPATCH(axpy, y.data, alpha, x.data, begin, end);
  });
  return nullptr;
}

// scale(x, factor): x[i] = x[i]·float(factor), in place.
napi_value Scale(napi_env env, napi_callback_info info) {
  Args args(env, info, "scale", 2, 2);
  const FloatArray x = args.floats(0, "x");
  const float factor = float(args.number(1, "factor"));
  if (!args.ok()) return nullptr;
  const int64_t n = int64_t(x.length);
  parallelFor(args.instance(), n, 64, n >= kParallelStreaming, [&](int64_t begin, int64_t end) {
    DISPATCH(scale, x.data, factor, begin, end);
  });
  return nullptr;
}

// copy(dst, src): dst[i] = src[i] for i < src.length (overlapping views allowed).
napi_value Copy(napi_env env, napi_callback_info info) {
  Args args(env, info, "copy", 2, 2);
  const FloatArray dst = args.floats(0, "dst"), src = args.floats(1, "src");
  const int64_t n = int64_t(src.length);
  if (!args.require(dst, double(n), "dst")) return nullptr;
  const uintptr_t d = reinterpret_cast<uintptr_t>(dst.data), s = reinterpret_cast<uintptr_t>(src.data);
  const bool overlap = n > 0 && d < s + uintptr_t(n) * 4 && s < d + uintptr_t(n) * 4;
  if (overlap) {
    std::memmove(dst.data, src.data, size_t(n) * 4);
    return nullptr;
  }
  parallelFor(args.instance(), n, 1024, n >= 4 * kParallelStreaming, [&](int64_t begin, int64_t end) {
    std::memcpy(dst.data + begin, src.data + begin, size_t(end - begin) * 4);
  });
  return nullptr;
}

// sumSquares(x) → Σ x[i]² in float64, in a fixed order (see kSumChunk).
napi_value SumSquares(napi_env env, napi_callback_info info) {
  Args args(env, info, "sumSquares", 1, 1);
  const FloatArray x = args.floats(0, "x");
  if (!args.ok()) return nullptr;
  const int64_t n = int64_t(x.length);
  const int64_t chunks = (n + kSumChunk - 1) / kSumChunk;
  std::vector<double> partial(size_t(chunks), 0.0);
  parallelFor(args.instance(), chunks, 1, n >= kParallelStreaming, [&](int64_t begin, int64_t end) {
    for (int64_t chunk = begin; chunk < end; ++chunk) {
      const int64_t start = chunk * kSumChunk;
      partial[size_t(chunk)] = DISPATCH(sumSquaresChunk, x.data + start, std::min(kSumChunk, n - start));
    }
  });
  double total = 0;
  for (double value : partial) total += value;
  return makeNumber(env, total);
}

// allFinite(x) → whether no element is NaN or ±Infinity.
napi_value AllFinite(napi_env env, napi_callback_info info) {
  Args args(env, info, "allFinite", 1, 1);
  const FloatArray x = args.floats(0, "x");
  if (!args.ok()) return nullptr;
  const int64_t n = int64_t(x.length);
  std::atomic<bool> finite{true};
  parallelFor(args.instance(), n, 1024, n >= kParallelStreaming, [&](int64_t begin, int64_t end) {
    if (!DISPATCH(allFinite, x.data, begin, end)) finite = false;
  });
  return makeBoolean(env, finite);
}

// Checks a [rows, cols] matrix argument.
bool matrix(Args& args, const FloatArray& array, int64_t rows, int64_t cols, const char* what) {
  return args.require(array, double(rows) * double(cols), what);
}

// biasGeluForward(x, bias, rows, cols, y, saved): z = x + bias (bias: [cols], or null),
// y = z·Φ(z) (exact erf GELU), saved = z for the backward (null: not saved). y and saved
// may be x itself; otherwise arrays must not overlap.
napi_value BiasGeluForward(napi_env env, napi_callback_info info) {
  Args args(env, info, "biasGeluForward", 6, 6);
  const FloatArray x = args.floats(0, "x");
  const FloatArray bias = args.floats(1, "bias", true);
  const int64_t rows = args.integer(2, "rows"), cols = args.integer(3, "cols");
  const FloatArray y = args.floats(4, "y");
  const FloatArray saved = args.floats(5, "saved", true);
  const int64_t n = rows * cols;
  if (!matrix(args, x, rows, cols, "x") || !matrix(args, y, rows, cols, "y") ||
      (bias.present && !args.require(bias, double(cols), "bias")) ||
      (saved.present && !matrix(args, saved, rows, cols, "saved"))) {
    return nullptr;
  }
  if (!args.disjoint(y.data, n, x.data, n, "y overlaps x", true) ||
      !args.disjoint(saved.data, n, x.data, n, "saved overlaps x", true) ||
      !args.disjoint(saved.data, n, y.data, n, "saved overlaps y") ||
      !args.disjoint(bias.data, cols, y.data, n, "bias overlaps y") ||
      !args.disjoint(bias.data, cols, saved.data, n, "bias overlaps saved")) {
    return nullptr;
  }
  parallelFor(args.instance(), rows, 1, n >= kParallelHeavy, [&](int64_t begin, int64_t end) {
    DISPATCH(biasGeluForward, x.data, bias.data, cols, y.data, saved.data, begin, end);
  });
  return nullptr;
}

// biasGeluBackward(dy, z, rows, cols, dx, dbias, accumulateDbias): dx = dy·GELU'(z);
// dbias (+)= Σ_rows dx when dbias is given. dx may be dy itself.
napi_value BiasGeluBackward(napi_env env, napi_callback_info info) {
  Args args(env, info, "biasGeluBackward", 6, 7);
  const FloatArray dy = args.floats(0, "dy"), z = args.floats(1, "z");
  const int64_t rows = args.integer(2, "rows"), cols = args.integer(3, "cols");
  const FloatArray dx = args.floats(4, "dx");
  const FloatArray dbias = args.floats(5, "dbias", true);
  const bool accumulate = args.optionalBoolean(6, "accumulateDbias", false);
  const int64_t n = rows * cols;
  if (!matrix(args, dy, rows, cols, "dy") || !matrix(args, z, rows, cols, "z") || !matrix(args, dx, rows, cols, "dx") ||
      (dbias.present && !args.require(dbias, double(cols), "dbias"))) {
    return nullptr;
  }
  if (!args.disjoint(dx.data, n, dy.data, n, "dx overlaps dy", true) || !args.disjoint(dx.data, n, z.data, n, "dx overlaps z") ||
      !args.disjoint(dbias.data, cols, dx.data, n, "dbias overlaps dx")) {
    return nullptr;
  }
  if (!dbias.present) {
    parallelFor(args.instance(), rows, 1, n >= kParallelHeavy, [&](int64_t begin, int64_t end) {
      DISPATCH(geluBackward, dy.data, z.data, cols, dx.data, begin, end, nullptr);
    });
    return nullptr;
  }
  // The bias gradient is summed while dx is written, per fixed block of rows.
  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  std::vector<double> partials(size_t(std::max<int64_t>(blocks, 1) * cols), 0.0);
  parallelFor(args.instance(), blocks, 1, n >= kParallelHeavy, [&](int64_t begin, int64_t end) {
    for (int64_t block = begin; block < end; ++block) {
      const int64_t rowBegin = block * kRowBlock, rowEnd = std::min(rows, rowBegin + kRowBlock);
      DISPATCH(geluBackward, dy.data, z.data, cols, dx.data, rowBegin, rowEnd, partials.data() + block * cols);
    }
  });
  combineColumns(partials, blocks, cols, dbias.data, accumulate);
  return nullptr;
}

// layerNormForward(x, residual, gamma, beta, rows, cols, eps, out, xhat, invStd):
// s = x + residual (residual null: s = x), out = x̂·γ + β over each row with
// x̂ = (s − mean)/sqrt(var + eps); saves x̂ [rows, cols] and invStd [rows].
napi_value LayerNormForward(napi_env env, napi_callback_info info) {
  Args args(env, info, "layerNormForward", 10, 10);
  const FloatArray x = args.floats(0, "x");
  const FloatArray residual = args.floats(1, "residual", true);
  const FloatArray gamma = args.floats(2, "gamma"), beta = args.floats(3, "beta");
  const int64_t rows = args.integer(4, "rows"), cols = args.integer(5, "cols");
  const double eps = args.number(6, "eps");
  const FloatArray out = args.floats(7, "out"), xhat = args.floats(8, "xhat"), invStd = args.floats(9, "invStd");
  const int64_t n = rows * cols;
  if (!matrix(args, x, rows, cols, "x") || (residual.present && !matrix(args, residual, rows, cols, "residual")) ||
      !args.require(gamma, double(cols), "gamma") || !args.require(beta, double(cols), "beta") ||
      !matrix(args, out, rows, cols, "out") || !matrix(args, xhat, rows, cols, "xhat") ||
      !args.require(invStd, double(rows), "invStd")) {
    return nullptr;
  }
  // out may be x or residual (read before written per row); xhat is scratch for s.
  if (!args.disjoint(out.data, n, x.data, n, "out overlaps x", true) ||
      !args.disjoint(out.data, n, residual.data, n, "out overlaps residual", true) ||
      !args.disjoint(xhat.data, n, x.data, n, "xhat overlaps x") || !args.disjoint(xhat.data, n, residual.data, n, "xhat overlaps residual") ||
      !args.disjoint(xhat.data, n, out.data, n, "xhat overlaps out") || !args.disjoint(invStd.data, rows, out.data, n, "invStd overlaps out") ||
      !args.disjoint(invStd.data, rows, xhat.data, n, "invStd overlaps xhat")) {
    return nullptr;
  }
  if (cols == 0) return nullptr;
  parallelFor(args.instance(), rows, 1, n >= kParallelStreaming / 4, [&](int64_t begin, int64_t end) {
    DISPATCH(layerNormForward, x.data, residual.data, gamma.data, beta.data, cols, eps, out.data, xhat.data, invStd.data, begin, end);
  });
  return nullptr;
}

// layerNormBackward(dy, xhat, invStd, gamma, rows, cols, dx, dgamma, dbeta, accumulateDx,
// accumulateParams): dx (+)= (g − mean(g) − x̂·mean(g·x̂))·invStd, g = dy·γ;
// dgamma (+)= Σ_rows dy·x̂, dbeta (+)= Σ_rows dy (each may be null).
napi_value LayerNormBackward(napi_env env, napi_callback_info info) {
  Args args(env, info, "layerNormBackward", 9, 11);
  const FloatArray dy = args.floats(0, "dy"), xhat = args.floats(1, "xhat"), invStd = args.floats(2, "invStd");
  const FloatArray gamma = args.floats(3, "gamma");
  const int64_t rows = args.integer(4, "rows"), cols = args.integer(5, "cols");
  const FloatArray dx = args.floats(6, "dx");
  const FloatArray dgamma = args.floats(7, "dgamma", true), dbeta = args.floats(8, "dbeta", true);
  const bool accumulateDx = args.optionalBoolean(9, "accumulateDx", false);
  const bool accumulateParams = args.optionalBoolean(10, "accumulateParams", false);
  const int64_t n = rows * cols;
  if (!matrix(args, dy, rows, cols, "dy") || !matrix(args, xhat, rows, cols, "xhat") || !args.require(invStd, double(rows), "invStd") ||
      !args.require(gamma, double(cols), "gamma") || !matrix(args, dx, rows, cols, "dx") ||
      (dgamma.present && !args.require(dgamma, double(cols), "dgamma")) || (dbeta.present && !args.require(dbeta, double(cols), "dbeta"))) {
    return nullptr;
  }
  // dγ and dβ are reduced from dy and x̂ after dx is written, so dx must not be either.
  if (!args.disjoint(dx.data, n, dy.data, n, "dx overlaps dy") || !args.disjoint(dx.data, n, xhat.data, n, "dx overlaps xhat") ||
      !args.disjoint(dgamma.data, cols, dx.data, n, "dgamma overlaps dx") || !args.disjoint(dbeta.data, cols, dx.data, n, "dbeta overlaps dx")) {
    return nullptr;
  }
  if (cols == 0) return nullptr;
  parallelFor(args.instance(), rows, 1, n >= kParallelStreaming / 4, [&](int64_t begin, int64_t end) {
    DISPATCH(layerNormBackwardRows, dy.data, xhat.data, invStd.data, gamma.data, cols, dx.data, accumulateDx, begin, end);
  });
  if (dgamma.present) reduceColumns(args.instance(), dy.data, xhat.data, rows, cols, dgamma.data, accumulateParams);
  if (dbeta.present) reduceColumns(args.instance(), dy.data, nullptr, rows, cols, dbeta.data, accumulateParams);
  return nullptr;
}

// softmaxForward(x, rows, cols, scale, mask, maskRows, maskRepeat, y): y = softmax over each
// row of x·scale + mask[(r / maskRepeat) % maskRows] (mask null: none). y may be x.
napi_value SoftmaxForward(napi_env env, napi_callback_info info) {
  Args args(env, info, "softmaxForward", 8, 8);
  const FloatArray x = args.floats(0, "x");
  const int64_t rows = args.integer(1, "rows"), cols = args.integer(2, "cols");
  const float scale = float(args.number(3, "scale"));
  const FloatArray mask = args.floats(4, "mask", true);
  const int64_t maskRows = args.integer(5, "maskRows"), maskRepeat = args.integer(6, "maskRepeat");
  const FloatArray y = args.floats(7, "y");
  const int64_t n = rows * cols;
  if (!matrix(args, x, rows, cols, "x") || !matrix(args, y, rows, cols, "y")) return nullptr;
  if (mask.present) {
    if (maskRows < 1 || maskRepeat < 1) {
      args.fail("ERR_INVALID_ARG_VALUE", "maskRows and maskRepeat must be ≥ 1 with a mask", true);
      return nullptr;
    }
    if (!matrix(args, mask, maskRows, cols, "mask") || !args.disjoint(y.data, n, mask.data, maskRows * cols, "y overlaps mask")) return nullptr;
  }
  if (!args.disjoint(y.data, n, x.data, n, "y overlaps x", true)) return nullptr;
  if (cols == 0) return nullptr;
  parallelFor(args.instance(), rows, 1, n >= kParallelHeavy, [&](int64_t begin, int64_t end) {
    DISPATCH(softmaxForward, x.data, cols, scale, mask.data, std::max<int64_t>(maskRows, 1), std::max<int64_t>(maskRepeat, 1), y.data, begin, end);
  });
  return nullptr;
}

// softmaxBackward(dy, y, rows, cols, scale, dx): dx = y·(dy − Σ dy·y)·scale. dx may be dy.
napi_value SoftmaxBackward(napi_env env, napi_callback_info info) {
  Args args(env, info, "softmaxBackward", 6, 6);
  const FloatArray dy = args.floats(0, "dy"), y = args.floats(1, "y");
  const int64_t rows = args.integer(2, "rows"), cols = args.integer(3, "cols");
  const float scale = float(args.number(4, "scale"));
  const FloatArray dx = args.floats(5, "dx");
  const int64_t n = rows * cols;
  if (!matrix(args, dy, rows, cols, "dy") || !matrix(args, y, rows, cols, "y") || !matrix(args, dx, rows, cols, "dx")) return nullptr;
  if (!args.disjoint(dx.data, n, dy.data, n, "dx overlaps dy", true) || !args.disjoint(dx.data, n, y.data, n, "dx overlaps y")) return nullptr;
  if (cols == 0) return nullptr;
  parallelFor(args.instance(), rows, 1, n >= kParallelStreaming / 4, [&](int64_t begin, int64_t end) {
    DISPATCH(softmaxBackward, dy.data, y.data, cols, scale, dx.data, begin, end);
  });
  return nullptr;
}

// Reads (rate, seeds, groupRows, rowStride) at `index` … index + 3 into a DropoutMask over a
// [rows, cols] tensor. With rate 0 the seeds are not read (null allowed).
bool dropoutMaskArgs(Args& args, size_t index, int64_t rows, int64_t cols, DropoutMask* mask) {
  const double rate = args.number(index, "rate");
  const UintArray seeds = args.uints(index + 1, "seeds", true);
  mask->groupRows = args.integer(index + 2, "groupRows");
  mask->rowStride = args.integer(index + 3, "rowStride");
  if (!args.ok()) return false;
  if (!(rate >= 0 && rate < 1)) {
    args.fail("ERR_OUT_OF_RANGE", "rate must be in [0, 1)", true);
    return false;
  }
  if (mask->groupRows < 1) {
    args.fail("ERR_OUT_OF_RANGE", "groupRows must be ≥ 1", true);
    return false;
  }
  mask->active = rate > 0;
  if (mask->active) {
    if (!seeds.present) {
      args.fail("ERR_INVALID_ARG_TYPE", "seeds must be a Uint32Array when rate > 0");
      return false;
    }
    const int64_t groups = (rows + mask->groupRows - 1) / mask->groupRows;
    if (int64_t(seeds.length) < groups) {
      const std::string message = "seeds has " + std::to_string(seeds.length) + " elements, needs " + std::to_string(groups) + " (one per group of rows)";
      args.fail("ERR_OUT_OF_RANGE", message.c_str(), true);
      return false;
    }
    if (mask->rowStride < cols) {
      args.fail("ERR_OUT_OF_RANGE", "rowStride must be ≥ cols", true);
      return false;
    }
  }
  const double dropBelow = std::ceil(rate * 4294967296.0);
  mask->dropAll = dropBelow > 4294967295.0;
  mask->dropBelow = mask->dropAll ? 0xFFFFFFFFu : uint32_t(dropBelow);
  mask->seeds = seeds.data;
  mask->kept = float(1.0 / (1.0 - rate));
  return true;
}

// biasDropoutForward(x, bias, rows, cols, rate, seeds, groupRows, rowStride, y):
// y = (x + bias)·mask, the mask of fillGroupedDropoutMask drawn per group of rows (see
// DropoutMask); bias [cols] or null; rate 0: y = x + bias. y may be x.
napi_value BiasDropoutForward(napi_env env, napi_callback_info info) {
  Args args(env, info, "biasDropoutForward", 9, 9);
  const FloatArray x = args.floats(0, "x");
  const FloatArray bias = args.floats(1, "bias", true);
  const int64_t rows = args.integer(2, "rows"), cols = args.integer(3, "cols");
  DropoutMask mask;
  if (!dropoutMaskArgs(args, 4, rows, cols, &mask)) return nullptr;
  const FloatArray y = args.floats(8, "y");
  const int64_t n = rows * cols;
  if (!matrix(args, x, rows, cols, "x") || !matrix(args, y, rows, cols, "y") ||
      (bias.present && !args.require(bias, double(cols), "bias"))) {
    return nullptr;
  }
  if (!args.disjoint(y.data, n, x.data, n, "y overlaps x", true) || !args.disjoint(bias.data, cols, y.data, n, "bias overlaps y")) {
    return nullptr;
  }
  if (cols == 0) return nullptr;
  parallelFor(args.instance(), rows, 1, n >= kParallelStreaming, [&](int64_t begin, int64_t end) {
    DISPATCH(biasDropoutForward, x.data, bias.data, cols, mask, y.data, begin, end);
  });
  return nullptr;
}

// biasDropoutBackward(dy, rows, cols, rate, seeds, groupRows, rowStride, dx, dbias,
// accumulateDbias): dx = dy·mask (null: not written); dbias (+)= Σ_rows dy·mask (null:
// skipped). dx may be dy.
napi_value BiasDropoutBackward(napi_env env, napi_callback_info info) {
  Args args(env, info, "biasDropoutBackward", 9, 10);
  const FloatArray dy = args.floats(0, "dy");
  const int64_t rows = args.integer(1, "rows"), cols = args.integer(2, "cols");
  DropoutMask mask;
  if (!dropoutMaskArgs(args, 3, rows, cols, &mask)) return nullptr;
  const FloatArray dx = args.floats(7, "dx", true);
  const FloatArray dbias = args.floats(8, "dbias", true);
  const bool accumulate = args.optionalBoolean(9, "accumulateDbias", false);
  const int64_t n = rows * cols;
  if (!matrix(args, dy, rows, cols, "dy") || (dx.present && !matrix(args, dx, rows, cols, "dx")) ||
      (dbias.present && !args.require(dbias, double(cols), "dbias"))) {
    return nullptr;
  }
  if (!args.disjoint(dx.data, n, dy.data, n, "dx overlaps dy", true) || !args.disjoint(dbias.data, cols, dx.data, n, "dbias overlaps dx") ||
      !args.disjoint(dbias.data, cols, dy.data, n, "dbias overlaps dy")) {
    return nullptr;
  }
  if (cols == 0) return nullptr;
  if (!dbias.present) {
    parallelFor(args.instance(), rows, 1, n >= kParallelStreaming, [&](int64_t begin, int64_t end) {
      DISPATCH(dropoutBackward, dy.data, cols, mask, dx.data, begin, end, nullptr);
    });
    return nullptr;
  }
  // The bias gradient is summed while dx is written, per fixed block of rows (as biasGeluBackward).
  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  std::vector<double> partials(size_t(std::max<int64_t>(blocks, 1) * cols), 0.0);
  parallelFor(args.instance(), blocks, 1, n >= kParallelStreaming, [&](int64_t begin, int64_t end) {
    for (int64_t block = begin; block < end; ++block) {
      const int64_t rowBegin = block * kRowBlock, rowEnd = std::min(rows, rowBegin + kRowBlock);
      DISPATCH(dropoutBackward, dy.data, cols, mask, dx.data, rowBegin, rowEnd, partials.data() + block * cols);
    }
  });
  combineColumns(partials, blocks, cols, dbias.data, accumulate);
  return nullptr;
}

// layerNormAffine(xhat, gamma, beta, rows, cols, out): out = x̂·γ + β per row, bit for bit
// layerNormForward's output from the x̂ it saved. out may be xhat.
napi_value LayerNormAffine(napi_env env, napi_callback_info info) {
  Args args(env, info, "layerNormAffine", 6, 6);
  const FloatArray xhat = args.floats(0, "xhat"), gamma = args.floats(1, "gamma"), beta = args.floats(2, "beta");
  const int64_t rows = args.integer(3, "rows"), cols = args.integer(4, "cols");
  const FloatArray out = args.floats(5, "out");
  const int64_t n = rows * cols;
  if (!matrix(args, xhat, rows, cols, "xhat") || !matrix(args, out, rows, cols, "out") ||
      !args.require(gamma, double(cols), "gamma") || !args.require(beta, double(cols), "beta")) {
    return nullptr;
  }
  if (!args.disjoint(out.data, n, xhat.data, n, "out overlaps xhat", true) || !args.disjoint(gamma.data, cols, out.data, n, "gamma overlaps out") ||
      !args.disjoint(beta.data, cols, out.data, n, "beta overlaps out")) {
    return nullptr;
  }
  if (cols == 0) return nullptr;
  parallelFor(args.instance(), rows, 1, n >= kParallelStreaming, [&](int64_t begin, int64_t end) {
    DISPATCH(layerNormAffine, xhat.data, gamma.data, beta.data, cols, out.data, begin, end);
  });
  return nullptr;
}

napi_value KernelIsa(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_string_utf8(env, kAvx512 ? "avx512" : "portable", NAPI_AUTO_LENGTH, &result);
  return result;
}

}  // namespace

void defineKernelFunctions(std::vector<napi_property_descriptor>& properties) {
  const std::pair<const char*, napi_callback> functions[] = {
      {"adamwStep", AdamwStep},
      {"sgdStep", SgdStep},
      {"axpy", Axpy},
      {"scale", Scale},
      {"copy", Copy},
      {"sumSquares", SumSquares},
      {"allFinite", AllFinite},
      {"biasGeluForward", BiasGeluForward},
      {"biasGeluBackward", BiasGeluBackward},
      {"layerNormForward", LayerNormForward},
      {"layerNormBackward", LayerNormBackward},
      {"softmaxForward", SoftmaxForward},
      {"softmaxBackward", SoftmaxBackward},
      {"biasDropoutForward", BiasDropoutForward},
      {"biasDropoutBackward", BiasDropoutBackward},
      {"layerNormAffine", LayerNormAffine},
      {"kernelIsa", KernelIsa},
  };
  for (const auto& [name, callback] : functions) {
    properties.push_back({name, nullptr, callback, nullptr, nullptr, nullptr, napi_enumerable, nullptr});
  }
}

}  // namespace microbatch
