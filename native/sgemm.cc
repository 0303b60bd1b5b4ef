// microbatch_native: batched single-precision GEMM for Node (fp32, and bf16-input "autocast"
// GEMM), called by the optional native BatchMatMul kernel (src/backend/kernels/
// nativeBatchMatMul.ts) and by host-side layers through src/node/native/addon.ts.
//
// Why: TF.js's wasm backend is limited to 128-bit SIMD without FMA (≈ 40 GFLOP/s at
// best here), while one AVX2/AVX-512 core does 2–5× that. The kernel reads and writes the
// wasm heap directly (the Float32Array views share the wasm memory's ArrayBuffer), so a
// call costs no copies; the same holds for host Float32Arrays (SharedArrayBuffer or not).
//
// Layout: BLIS-style blocking. For each NC-wide column block of B and KC-deep slice of
// K, B is packed into NR-wide slivers; for each MC-tall row block of A, A is packed into
// MR-tall slivers; a register-blocked micro-kernel multiplies one A sliver by one B
// sliver into an MR×NR tile of C. Packing reads the operands through (row, column)
// strides, so transposed operands cost nothing extra. Micro-kernels: AVX-512F (12×32),
// AVX2+FMA (6×16) and a portable one the compiler vectorises for the baseline ISA,
// selected at load time with __builtin_cpu_supports, so one binary runs on any x86-64.
//
// bf16 (sgemmBf16): A and B are rounded to bfloat16 while packing (round to nearest even,
// NaN → 0x7FC0, as torch's .to(torch.bfloat16)), products are accumulated in fp32 and C
// is fp32. With AVX512_BF16 the packed operands hold bf16 pairs along K and the
// micro-kernel is VDPBF16PS (12×32 tile, two K steps per instruction); elsewhere (or with
// setBf16Emulation(true)) the operands are packed as bf16-rounded fp32 and the fp32
// micro-kernel runs: products of bf16 values are exact in fp32, so both paths compute the
// same products and differ only in the fp32 accumulation order (and VDPBF16PS treats
// bf16 denormals, |x| < 2^-126, as zero).
#include <atomic>
#include <cstdlib>

#if defined(__aarch64__)
#include <arm_neon.h>
#endif
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#endif

#include "common.h"

namespace microbatch {
namespace {

// ---------------------------------------------------------------------------------------
// Operand views and packing
// ---------------------------------------------------------------------------------------

// Element (row, col) of a matrix is data[row * rowStride + col * colStride].
struct MatrixView {
  const float* data;
  int64_t rowStride;
  int64_t colStride;
};

// Packs rows [0, rows) × depth [0, depth) of A into one sliver: sliver[p * mr + r] =
// A(r, p), rows beyond `rows` zero so the micro-kernel never needs a row mask.
void packASliver(const MatrixView& a, int64_t rows, int64_t depth, int mr, void* out) {
  float* sliver = static_cast<float*>(out);
  if (a.colStride == 1) {
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = a.data + r * a.rowStride;
      for (int64_t p = 0; p < depth; ++p) sliver[p * mr + r] = row[p];
    }
  } else {
    for (int64_t p = 0; p < depth; ++p) {
      const float* column = a.data + p * a.colStride;
      for (int64_t r = 0; r < rows; ++r) sliver[p * mr + r] = column[r * a.rowStride];
    }
  }
  for (int64_t r = rows; r < mr; ++r) {
    for (int64_t p = 0; p < depth; ++p) sliver[p * mr + r] = 0.0f;
  }
}

// Packs depth [0, depth) × columns [0, cols) of B: sliver[p * nr + c] = B(p, c), zero-padded.
void packBSliver(const MatrixView& b, int64_t depth, int64_t cols, int nr, void* out) {
  float* sliver = static_cast<float*>(out);
  if (b.colStride == 1) {
    for (int64_t p = 0; p < depth; ++p) {
      const float* row = b.data + p * b.rowStride;
      float* dst = sliver + p * nr;
      int64_t c = 0;
      for (; c < cols; ++c) dst[c] = row[c];
      for (; c < nr; ++c) dst[c] = 0.0f;
    }
  } else {
    // Transposed B: each column of B is a contiguous row of memory, read once.
    for (int64_t c = 0; c < cols; ++c) {
      const float* column = b.data + c * b.colStride;
      for (int64_t p = 0; p < depth; ++p) sliver[p * nr + c] = column[p * b.rowStride];
    }
    for (int64_t c = cols; c < nr; ++c) {
      for (int64_t p = 0; p < depth; ++p) sliver[p * nr + c] = 0.0f;
    }
  }
}

// ---------------------------------------------------------------------------------------
// bfloat16 rounding, bit for bit torch's c10::BFloat16 round_to_nearest_even
// ---------------------------------------------------------------------------------------

inline uint32_t bf16Bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FC0u;  // any NaN → canonical quiet NaN
  return (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
}

inline float bf16Round(float value) {
  const uint32_t bits = bf16Bits(value) << 16;
  float out;
  std::memcpy(&out, &bits, sizeof(out));
  return out;
}

// Emulated bf16: the fp32 packing with every element rounded to bf16 (kept as fp32).
void packASliverBf16Emulated(const MatrixView& a, int64_t rows, int64_t depth, int mr, void* out) {
  packASliver(a, rows, depth, mr, out);
  float* sliver = static_cast<float*>(out);
  for (int64_t i = 0, size = depth * mr; i < size; ++i) sliver[i] = bf16Round(sliver[i]);
}

void packBSliverBf16Emulated(const MatrixView& b, int64_t depth, int64_t cols, int nr, void* out) {
  packBSliver(b, depth, cols, nr, out);
  float* sliver = static_cast<float*>(out);
  for (int64_t i = 0, size = depth * nr; i < size; ++i) sliver[i] = bf16Round(sliver[i]);
}

// ---------------------------------------------------------------------------------------
// Micro-kernels: C[0:rows, 0:cols] = alpha · packedA (mr × depth) · packedB (depth × nr),
// added to C when `accumulate`.
// ---------------------------------------------------------------------------------------

using MicroKernel = void (*)(int64_t depth, const void* packedA, const void* packedB, float* c, int64_t ldc,
                             bool accumulate, float alpha, int64_t rows, int64_t cols);

// Writes a full register tile held in `tile` (mr × nr, row-major) to the valid part of C.
inline void storeTile(const float* tile, int nr, float* c, int64_t ldc, bool accumulate, float alpha, int64_t rows,
                      int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float* out = c + r * ldc;
    const float* in = tile + r * nr;
    if (alpha != 1.0f) {
      if (accumulate) {
        for (int64_t j = 0; j < cols; ++j) out[j] += alpha * in[j];
      } else {
        for (int64_t j = 0; j < cols; ++j) out[j] = alpha * in[j];
      }
    } else if (accumulate) {
      for (int64_t j = 0; j < cols; ++j) out[j] += in[j];
    } else {
      for (int64_t j = 0; j < cols; ++j) out[j] = in[j];
    }
  }
}

constexpr int kPortableMR = 6;
constexpr int kPortableNR = 8;

#if defined(__GNUC__)
// GCC/Clang vector extensions: 128-bit vectors on every target (SSE2 on baseline x86-64,
// NEON on arm64). 6 rows × 2 vectors = 12 accumulators stay in the 16 registers; a plain
// array tile would be kept in memory and run 5× slower.
typedef float Float4 __attribute__((vector_size(16)));

inline Float4 loadFloat4(const float* p) {
  Float4 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// acc + a·b. The addon is built with -ffp-contract=off (the optimizer kernels must round
// every operation), so where the target has a fused multiply-add it is spelled out.
#if defined(__aarch64__)
inline Float4 multiplyAdd(Float4 acc, Float4 a, Float4 b) {
  return (Float4)vfmaq_f32((float32x4_t)acc, (float32x4_t)a, (float32x4_t)b);
}
#else
inline Float4 multiplyAdd(Float4 acc, Float4 a, Float4 b) { return acc + a * b; }
#endif

void microKernelPortable(int64_t depth, const void* packedAVoid, const void* packedBVoid, float* c, int64_t ldc,
                         bool accumulate, float alpha, int64_t rows, int64_t cols) {
  const float* packedA = static_cast<const float*>(packedAVoid);
  const float* packedB = static_cast<const float*>(packedBVoid);
  Float4 acc[kPortableMR][2];
  for (int r = 0; r < kPortableMR; ++r) acc[r][0] = acc[r][1] = Float4{0, 0, 0, 0};
  for (int64_t p = 0; p < depth; ++p) {
    const Float4 b0 = loadFloat4(packedB + p * kPortableNR);
    const Float4 b1 = loadFloat4(packedB + p * kPortableNR + 4);
    const float* aCol = packedA + p * kPortableMR;
#pragma GCC unroll 6
    for (int r = 0; r < kPortableMR; ++r) {
      const Float4 scale = Float4{aCol[r], aCol[r], aCol[r], aCol[r]};
      acc[r][0] = multiplyAdd(acc[r][0], scale, b0);
      acc[r][1] = multiplyAdd(acc[r][1], scale, b1);
    }
  }
  float tile[kPortableMR * kPortableNR];
  for (int r = 0; r < kPortableMR; ++r) {
    std::memcpy(tile + r * kPortableNR, &acc[r][0], sizeof(Float4));
    std::memcpy(tile + r * kPortableNR + 4, &acc[r][1], sizeof(Float4));
  }
  storeTile(tile, kPortableNR, c, ldc, accumulate, alpha, rows, cols);
}
#else
// Other compilers: plain loops, vectorised as well as the compiler manages.
void microKernelPortable(int64_t depth, const void* packedAVoid, const void* packedBVoid, float* c, int64_t ldc,
                         bool accumulate, float alpha, int64_t rows, int64_t cols) {
  const float* packedA = static_cast<const float*>(packedAVoid);
  const float* packedB = static_cast<const float*>(packedBVoid);
  float tile[kPortableMR * kPortableNR] = {};
  for (int64_t p = 0; p < depth; ++p) {
    const float* bRow = packedB + p * kPortableNR;
    const float* aCol = packedA + p * kPortableMR;
    for (int r = 0; r < kPortableMR; ++r) {
      for (int j = 0; j < kPortableNR; ++j) tile[r * kPortableNR + j] += aCol[r] * bRow[j];
    }
  }
  storeTile(tile, kPortableNR, c, ldc, accumulate, alpha, rows, cols);
}
#endif

#if MICROBATCH_X86
constexpr int kAvx2MR = 6;
constexpr int kAvx2NR = 16;

// 6 rows × 2 ymm = 12 accumulators + 2 B vectors + 1 broadcast: fits the 16 ymm registers.
__attribute__((target("avx2,fma"))) void microKernelAvx2(int64_t depth, const void* packedAVoid,
                                                          const void* packedBVoid, float* c, int64_t ldc,
                                                          bool accumulate, float alpha, int64_t rows, int64_t cols) {
  const float* packedA = static_cast<const float*>(packedAVoid);
  const float* packedB = static_cast<const float*>(packedBVoid);
  __m256 acc[kAvx2MR][2];
#pragma GCC unroll 6
  for (int r = 0; r < kAvx2MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t p = 0; p < depth; ++p) {
    const __m256 b0 = _mm256_loadu_ps(packedB + p * kAvx2NR);
    const __m256 b1 = _mm256_loadu_ps(packedB + p * kAvx2NR + 8);
    const float* aCol = packedA + p * kAvx2MR;
#pragma GCC unroll 6
    for (int r = 0; r < kAvx2MR; ++r) {
      const __m256 scale = _mm256_broadcast_ss(aCol + r);
      acc[r][0] = _mm256_fmadd_ps(scale, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(scale, b1, acc[r][1]);
    }
  }
  if (rows == kAvx2MR && cols == kAvx2NR) {
    const __m256 scale = _mm256_set1_ps(alpha);
#pragma GCC unroll 6
    for (int r = 0; r < kAvx2MR; ++r) {
      float* out = c + r * ldc;
      if (alpha != 1.0f) {
        acc[r][0] = _mm256_mul_ps(acc[r][0], scale);
        acc[r][1] = _mm256_mul_ps(acc[r][1], scale);
      }
      if (accumulate) {
        acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_loadu_ps(out));
        acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_loadu_ps(out + 8));
      }
      _mm256_storeu_ps(out, acc[r][0]);
      _mm256_storeu_ps(out + 8, acc[r][1]);
    }
    return;
  }
  alignas(32) float tile[kAvx2MR * kAvx2NR];
#pragma GCC unroll 6
  for (int r = 0; r < kAvx2MR; ++r) {
    _mm256_store_ps(tile + r * kAvx2NR, acc[r][0]);
    _mm256_store_ps(tile + r * kAvx2NR + 8, acc[r][1]);
  }
  storeTile(tile, kAvx2NR, c, ldc, accumulate, alpha, rows, cols);
}

constexpr int kAvx512MR = 12;
constexpr int kAvx512NR = 32;

// Asks for the C tile (12 rows × 128 bytes, ldc apart) at the start of a micro-kernel: by
// the end of its K loop the lines are in L1. Without it, large products (C beyond L2,
// e.g. [1024, 3072]) stall ~25 % of the time on the read-for-ownership of every tile.
inline void prefetchTile(const float* c, int64_t ldc, int rows) {
  for (int r = 0; r < rows; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16), _MM_HINT_T0);
  }
}

// Stores a 12×32 register tile: alpha·acc (+ C), masked on the right edge; the bottom edge
// goes through memory (indexing registers by a runtime row count would push the
// accumulators out of registers in the main loop).
__attribute__((target("avx512f"), always_inline)) inline void storeAvx512Tile(__m512 (&acc)[kAvx512MR][2], float* c,
                                                                              int64_t ldc, bool accumulate,
                                                                              float alpha, int64_t rows, int64_t cols) {
  if (alpha != 1.0f) {
    const __m512 scale = _mm512_set1_ps(alpha);
#pragma GCC unroll 12
    for (int r = 0; r < kAvx512MR; ++r) {
      acc[r][0] = _mm512_mul_ps(acc[r][0], scale);
      acc[r][1] = _mm512_mul_ps(acc[r][1], scale);
    }
  }
  if (rows == kAvx512MR) {
    const __mmask16 mask0 = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
    const __mmask16 mask1 = cols >= 32 ? __mmask16(0xFFFF) : cols <= 16 ? __mmask16(0) : __mmask16((1u << (cols - 16)) - 1);
#pragma GCC unroll 12
    for (int r = 0; r < kAvx512MR; ++r) {
      float* out = c + r * ldc;
      if (accumulate) {
        acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_maskz_loadu_ps(mask0, out));
        acc[r][1] = _mm512_add_ps(acc[r][1], _mm512_maskz_loadu_ps(mask1, out + 16));
      }
      _mm512_mask_storeu_ps(out, mask0, acc[r][0]);
      _mm512_mask_storeu_ps(out + 16, mask1, acc[r][1]);
    }
    return;
  }
  alignas(64) float tile[kAvx512MR * kAvx512NR];
#pragma GCC unroll 12
  for (int r = 0; r < kAvx512MR; ++r) {
    _mm512_store_ps(tile + r * kAvx512NR, acc[r][0]);
    _mm512_store_ps(tile + r * kAvx512NR + 16, acc[r][1]);
  }
  storeTile(tile, kAvx512NR, c, ldc, accumulate, 1.0f, rows, cols);
}

// 12 rows × 2 zmm = 24 accumulators + 2 B vectors + 1 broadcast, of the 32 zmm registers.
__attribute__((target("avx512f"))) void microKernelAvx512(int64_t depth, const void* packedAVoid,
                                                           const void* packedBVoid, float* c, int64_t ldc,
                                                           bool accumulate, float alpha, int64_t rows, int64_t cols) {
  const float* packedA = static_cast<const float*>(packedAVoid);
  const float* packedB = static_cast<const float*>(packedBVoid);
  prefetchTile(c, ldc, int(rows));
  __m512 acc[kAvx512MR][2];
#pragma GCC unroll 12
  for (int r = 0; r < kAvx512MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < depth; ++p) {
    const __m512 b0 = _mm512_loadu_ps(packedB + p * kAvx512NR);
    const __m512 b1 = _mm512_loadu_ps(packedB + p * kAvx512NR + 16);
    const float* aCol = packedA + p * kAvx512MR;
#pragma GCC unroll 12
    for (int r = 0; r < kAvx512MR; ++r) {
      const __m512 scale = _mm512_set1_ps(aCol[r]);
      acc[r][0] = _mm512_fmadd_ps(scale, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(scale, b1, acc[r][1]);
    }
  }
  storeAvx512Tile(acc, c, ldc, accumulate, alpha, rows, cols);
}

// ---------------------------------------------------------------------------------------
// AVX512_BF16: packing into bf16 pairs along K, and the VDPBF16PS micro-kernel
// ---------------------------------------------------------------------------------------

#endif

// The avx512bf16 target needs GCC ≥ 10 or Clang ≥ 9; older compilers build without the
// native bf16 path (sgemmBf16 is then always emulated) rather than fail the whole addon.
#if MICROBATCH_X86 && ((defined(__clang__) && __clang_major__ >= 9) || (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 10))
#define MICROBATCH_BF16 1

#define MICROBATCH_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// AVX512_BF16 is CPUID.(EAX=7, ECX=1):EAX bit 5. Read directly: __builtin_cpu_supports only
// knows "avx512bf16" from GCC 12 on. The OS's saving of the zmm state is covered by the
// avx512f check the caller makes first.
bool cpuHasAvx512Bf16() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return false;
  return (eax >> 5) & 1u;
}

// 16 floats → 16 bf16 bit patterns in the low halves of 32-bit lanes (torch's rounding).
MICROBATCH_BF16_TARGET inline __m512i roundToBf16Lanes(__m512 value) {
  const __m512i bits = _mm512_castps_si512(value);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF))), 16);
  const __mmask16 nan = _mm512_cmp_ps_mask(value, value, _CMP_UNORD_Q);
  return _mm512_mask_mov_epi32(rounded, nan, _mm512_set1_epi32(0x7FC0));
}

// Pairs (even, odd) of two rows of 16 lanes: dword i = bf16(even[i]) | bf16(odd[i]) << 16.
MICROBATCH_BF16_TARGET inline __m512i pairAcross(__m512 even, __m512 odd) {
  return _mm512_or_si512(roundToBf16Lanes(even), _mm512_slli_epi32(roundToBf16Lanes(odd), 16));
}

// `count` contiguous floats (count may be odd: the missing partner is 0) → (count+1)/2
// dwords written to dst[0], dst[stride], dst[2·stride] …
MICROBATCH_BF16_TARGET void pairAlong(const float* src, int64_t count, uint32_t* dst, int64_t stride) {
  int64_t i = 0;
  alignas(64) uint32_t pairs[16];
  for (; i + 32 <= count; i += 32) {
    const __m256i lo = _mm512_cvtepi32_epi16(roundToBf16Lanes(_mm512_loadu_ps(src + i)));
    const __m256i hi = _mm512_cvtepi32_epi16(roundToBf16Lanes(_mm512_loadu_ps(src + i + 16)));
    _mm256_store_si256(reinterpret_cast<__m256i*>(pairs), lo);
    _mm256_store_si256(reinterpret_cast<__m256i*>(pairs + 8), hi);
    uint32_t* out = dst + (i / 2) * stride;
#pragma GCC unroll 16
    for (int q = 0; q < 16; ++q) out[q * stride] = pairs[q];
  }
  for (; i < count; i += 2) {
    const uint32_t even = bf16Bits(src[i]);
    const uint32_t odd = i + 1 < count ? bf16Bits(src[i + 1]) : 0u;
    dst[(i / 2) * stride] = even | (odd << 16);
  }
}

// sliver[q * mr + r] = (A(r, 2q), A(r, 2q+1)) as a bf16 pair; q < ceil(depth/2).
MICROBATCH_BF16_TARGET void packASliverBf16(const MatrixView& a, int64_t rows, int64_t depth, int mr, void* out) {
  uint32_t* sliver = static_cast<uint32_t*>(out);
  const int64_t pairs = (depth + 1) / 2;
  if (a.colStride == 1) {
    for (int64_t r = 0; r < rows; ++r) pairAlong(a.data + r * a.rowStride, depth, sliver + r, mr);
  } else if (a.rowStride == 1 && mr <= 16) {
    // Transposed A: rows 2q and 2q+1 of memory are contiguous along r.
    const __mmask16 mask = __mmask16((1u << rows) - 1);
    for (int64_t q = 0; q < pairs; ++q) {
      const __m512 even = _mm512_maskz_loadu_ps(mask, a.data + (2 * q) * a.colStride);
      const __m512 odd = 2 * q + 1 < depth ? _mm512_maskz_loadu_ps(mask, a.data + (2 * q + 1) * a.colStride) : _mm512_setzero_ps();
      _mm512_mask_storeu_epi32(sliver + q * mr, __mmask16((1u << mr) - 1), pairAcross(even, odd));
    }
    return;
  } else {
    for (int64_t q = 0; q < pairs; ++q) {
      for (int64_t r = 0; r < rows; ++r) {
        const float* element = a.data + r * a.rowStride + 2 * q * a.colStride;
        const uint32_t odd = 2 * q + 1 < depth ? bf16Bits(element[a.colStride]) : 0u;
        sliver[q * mr + r] = bf16Bits(element[0]) | (odd << 16);
      }
    }
  }
  for (int64_t q = 0; q < pairs; ++q) {
    for (int64_t r = rows; r < mr; ++r) sliver[q * mr + r] = 0;
  }
}

// sliver[q * nr + c] = (B(2q, c), B(2q+1, c)) as a bf16 pair, zero-padded to nr columns.
MICROBATCH_BF16_TARGET void packBSliverBf16(const MatrixView& b, int64_t depth, int64_t cols, int nr, void* out) {
  uint32_t* sliver = static_cast<uint32_t*>(out);
  const int64_t pairs = (depth + 1) / 2;
  if (b.colStride == 1 && nr == 32) {
    const __mmask16 mask0 = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
    const __mmask16 mask1 = cols >= 32 ? __mmask16(0xFFFF) : cols <= 16 ? __mmask16(0) : __mmask16((1u << (cols - 16)) - 1);
    for (int64_t q = 0; q < pairs; ++q) {
      const float* even = b.data + (2 * q) * b.rowStride;
      const bool hasOdd = 2 * q + 1 < depth;
      const float* odd = even + b.rowStride;
      const __m512 e0 = _mm512_maskz_loadu_ps(mask0, even), e1 = _mm512_maskz_loadu_ps(mask1, even + 16);
      const __m512 o0 = hasOdd ? _mm512_maskz_loadu_ps(mask0, odd) : _mm512_setzero_ps();
      const __m512 o1 = hasOdd ? _mm512_maskz_loadu_ps(mask1, odd + 16) : _mm512_setzero_ps();
      _mm512_storeu_si512(sliver + q * nr, pairAcross(e0, o0));
      _mm512_storeu_si512(sliver + q * nr + 16, pairAcross(e1, o1));
    }
    return;
  }
  if (b.rowStride == 1) {
    // Transposed B: each column of B is contiguous along K.
    for (int64_t c = 0; c < cols; ++c) pairAlong(b.data + c * b.colStride, depth, sliver + c, nr);
  } else {
    for (int64_t q = 0; q < pairs; ++q) {
      for (int64_t c = 0; c < cols; ++c) {
        const float* element = b.data + 2 * q * b.rowStride + c * b.colStride;
        const uint32_t odd = 2 * q + 1 < depth ? bf16Bits(element[b.rowStride]) : 0u;
        sliver[q * nr + c] = bf16Bits(element[0]) | (odd << 16);
      }
    }
  }
  for (int64_t q = 0; q < pairs; ++q) {
    for (int64_t c = cols; c < nr; ++c) sliver[q * nr + c] = 0;
  }
}

// `depth` counts K (the kernel runs ceil(depth/2) pair steps).
MICROBATCH_BF16_TARGET void microKernelAvx512Bf16(int64_t depth, const void* packedAVoid, const void* packedBVoid,
                                                 float* c, int64_t ldc, bool accumulate, float alpha, int64_t rows,
                                                 int64_t cols) {
  const uint32_t* packedA = static_cast<const uint32_t*>(packedAVoid);
  const uint32_t* packedB = static_cast<const uint32_t*>(packedBVoid);
  const int64_t pairs = (depth + 1) / 2;
  prefetchTile(c, ldc, int(rows));
  __m512 acc[kAvx512MR][2];
#pragma GCC unroll 12
  for (int r = 0; r < kAvx512MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t q = 0; q < pairs; ++q) {
    const __m512i b0 = _mm512_loadu_si512(packedB + q * kAvx512NR);
    const __m512i b1 = _mm512_loadu_si512(packedB + q * kAvx512NR + 16);
    const uint32_t* aPairs = packedA + q * kAvx512MR;
#pragma GCC unroll 12
    for (int r = 0; r < kAvx512MR; ++r) {
      const __m512i pair = _mm512_set1_epi32(int(aPairs[r]));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], (__m512bh)pair, (__m512bh)b0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], (__m512bh)pair, (__m512bh)b1);
    }
  }
  storeAvx512Tile(acc, c, ldc, accumulate, alpha, rows, cols);
}
#endif

// ---------------------------------------------------------------------------------------
// Kernel selection
// ---------------------------------------------------------------------------------------

using PackA = void (*)(const MatrixView& a, int64_t rows, int64_t depth, int mr, void* sliver);
using PackB = void (*)(const MatrixView& b, int64_t depth, int64_t cols, int nr, void* sliver);

struct GemmPath {
  MicroKernel kernel;
  PackA packA;
  PackB packB;
  int mr;
  int nr;
  bool pairs;  // packed operands hold bf16 pairs along K (4 bytes per 2 K steps)
  const char* name;
};

// MICROBATCH_NATIVE_ISA=avx512|avx2|portable caps the instruction set (to test or compare
// the fallbacks on a machine that has more); avx512 also turns off the AVX512_BF16 path.
struct Selection {
  GemmPath fp32;
  GemmPath bf16;  // bf16 inputs: native pairs with VDPBF16PS, else emulated on fp32
};

Selection selectPaths() {
  GemmPath fp32{microKernelPortable, packASliver, packBSliver, kPortableMR, kPortableNR, false, "portable"};
#if MICROBATCH_X86
  bool bf16Native = false;
  const char* cap = std::getenv("MICROBATCH_NATIVE_ISA");
  const bool allowBf16 = cap == nullptr || cap[0] == '\0' || std::strcmp(cap, "avx512bf16") == 0;
  const bool allowAvx512 = allowBf16 || std::strcmp(cap, "avx512") == 0;
  const bool allowAvx2 = allowAvx512 || std::strcmp(cap, "avx2") == 0;
  __builtin_cpu_init();
  if (allowAvx512 && __builtin_cpu_supports("avx512f")) {
    fp32 = {microKernelAvx512, packASliver, packBSliver, kAvx512MR, kAvx512NR, false, "avx512"};
#if MICROBATCH_BF16
    bf16Native = allowBf16 && cpuHasAvx512Bf16() && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#else
    (void)allowBf16;
#endif
  } else if (allowAvx2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    fp32 = {microKernelAvx2, packASliver, packBSliver, kAvx2MR, kAvx2NR, false, "avx2"};
  }
#if MICROBATCH_BF16
  if (bf16Native) {
    return {fp32, {microKernelAvx512Bf16, packASliverBf16, packBSliverBf16, kAvx512MR, kAvx512NR, true, "avx512bf16"}};
  }
#endif
#endif
  GemmPath emulated = fp32;
  emulated.packA = packASliverBf16Emulated;
  emulated.packB = packBSliverBf16Emulated;
  emulated.name = "emulated";
  return {fp32, emulated};
}

const Selection kPaths = selectPaths();

GemmPath emulatedBf16Path() {
  GemmPath emulated = kPaths.fp32;
  emulated.packA = packASliverBf16Emulated;
  emulated.packB = packBSliverBf16Emulated;
  emulated.name = "emulated";
  return emulated;
}

const GemmPath kEmulatedBf16 = emulatedBf16Path();

// ---------------------------------------------------------------------------------------
// Blocked driver (one thread, one matrix or a band of its rows)
// ---------------------------------------------------------------------------------------

// KC × NR B sliver (32 KB at NR 32) stays in L1 across a row block; MC × KC of A
// (≈ 150 KB) and KC × NC of B (1 MB) fit the 1–2 MB L2 of current x86 cores. KC is even,
// so bf16 pairs never straddle two K blocks.
constexpr int64_t kKC = 256;
constexpr int64_t kMCRows = 144;
constexpr int64_t kNC = 1024;

struct AlignedBuffer {
  void* data = nullptr;
  size_t size = 0;
  void* reserve(size_t words) {
    if (words > size) {
      std::free(data);
      data = std::aligned_alloc(64, ((words * 4 + 63) / 64) * 64);
      size = data == nullptr ? 0 : words;
    }
    return data;
  }
  ~AlignedBuffer() { std::free(data); }
};

// Each thread packs into its own buffers, reused across calls.
thread_local AlignedBuffer tPackedA;
thread_local AlignedBuffer tPackedB;

// C (rows × n, leading dimension ldc) (+)= alpha · A (rows × depth) · B (depth × n).
// Returns false when the packing buffers cannot be allocated.
bool gemmBlocked(const GemmPath& path, const MatrixView& a, const MatrixView& b, float* c, int64_t ldc, int64_t rows,
                 int64_t depth, int64_t n, bool accumulate, float alpha) {
  if (depth == 0) {
    if (!accumulate) {
      for (int64_t i = 0; i < rows; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    }
    return true;
  }
  const int mr = path.mr;
  const int nr = path.nr;
  const int64_t mc = (kMCRows / mr) * mr;
  // bf16 pairs take half the bytes per K step: twice the depth fills the same L1/L2 share,
  // and C is revisited half as often.
  const int64_t kcBlock = path.pairs ? 2 * kKC : kKC;
  const int64_t kc = std::min(kcBlock, depth);
  // 32-bit words per K step of a sliver row: 1 for fp32, ½ for bf16 pairs (rounded up).
  auto words = [&](int64_t steps) { return path.pairs ? (steps + 1) / 2 : steps; };
  const int64_t ncBlock = std::min(kNC, ((n + nr - 1) / nr) * nr);
  uint32_t* packedA = static_cast<uint32_t*>(tPackedA.reserve(size_t(mc * words(kc))));
  uint32_t* packedB = static_cast<uint32_t*>(tPackedB.reserve(size_t(ncBlock * words(kc))));
  if (packedA == nullptr || packedB == nullptr) return false;
  for (int64_t jc = 0; jc < n; jc += kNC) {
    const int64_t ncCur = std::min(kNC, n - jc);
    for (int64_t pc = 0; pc < depth; pc += kcBlock) {
      const int64_t kcCur = std::min(kcBlock, depth - pc);
      const int64_t kcWords = words(kcCur);
      const bool addToC = accumulate || pc > 0;
      for (int64_t jr = 0; jr < ncCur; jr += nr) {
        const MatrixView bSliver{b.data + pc * b.rowStride + (jc + jr) * b.colStride, b.rowStride, b.colStride};
        path.packB(bSliver, kcCur, std::min<int64_t>(nr, ncCur - jr), nr, packedB + jr * kcWords);
      }
      for (int64_t ic = 0; ic < rows; ic += mc) {
        const int64_t mcCur = std::min(mc, rows - ic);
        for (int64_t ir = 0; ir < mcCur; ir += mr) {
          const MatrixView aSliver{a.data + (ic + ir) * a.rowStride + pc * a.colStride, a.rowStride, a.colStride};
          path.packA(aSliver, std::min<int64_t>(mr, mcCur - ir), kcCur, mr, packedA + ir * kcWords);
        }
        for (int64_t jr = 0; jr < ncCur; jr += nr) {
          for (int64_t ir = 0; ir < mcCur; ir += mr) {
            path.kernel(kcCur, packedA + ir * kcWords, packedB + jr * kcWords, c + (ic + ir) * ldc + jc + jr, ldc,
                        addToC, alpha, std::min<int64_t>(mr, mcCur - ir), std::min<int64_t>(nr, ncCur - jr));
          }
        }
      }
    }
  }
  return true;
}

// Below this many multiply-adds a call stays on one thread: waking a worker costs tens of
// microseconds, as much as ~1 M multiply-adds of work.
constexpr int64_t kMinParallelMultiplyAdds = int64_t(1) << 20;

// sgemm(a, b, c, batch, m, k, n, strideA, strideB, transposeA, transposeB[, accumulate[, alpha]])
// and sgemmBf16(same): for each i < batch, C_i (+)= alpha · op(A_i) · op(B_i),
// C_i = c[i·m·n ...] (m × n, row-major), A_i = a[i·strideA ...] (m × k, or k × m when
// transposeA), B_i = b[i·strideB ...] (k × n, or n × k when transposeB). A stride of 0
// broadcasts one matrix to the batch. C must not overlap A or B.
napi_value gemmEntry(napi_env env, napi_callback_info info, const char* name, bool bf16) {
  Args args(env, info, name, 11, 13);
  const FloatArray a = args.floats(0, "a");
  const FloatArray b = args.floats(1, "b");
  const FloatArray c = args.floats(2, "c");
  const int64_t batch = args.integer(3, "batch");
  const int64_t m = args.integer(4, "m");
  const int64_t k = args.integer(5, "k");
  const int64_t n = args.integer(6, "n");
  const int64_t strideA = args.integer(7, "strideA");
  const int64_t strideB = args.integer(8, "strideB");
  const bool transposeA = args.boolean(9, "transposeA");
  const bool transposeB = args.boolean(10, "transposeB");
  const bool accumulate = args.optionalBoolean(11, "accumulate", false);
  const double alphaValue = args.optionalNumber(12, "alpha", 1.0);
  if (!args.ok()) return nullptr;
  // Elements each operand's last matrix ends at: (batch - 1) · stride + rows · cols.
  auto extent = [&](int64_t stride, int64_t size) { return batch == 0 || size == 0 ? 0.0 : double(batch - 1) * double(stride) + double(size); };
  const double aExtent = extent(strideA, m * k), bExtent = extent(strideB, k * n), cExtent = extent(m * n, m * n);
  if (!args.require(a, aExtent, "a") || !args.require(b, bExtent, "b") || !args.require(c, cExtent, "c")) return nullptr;
  if (!args.disjoint(c.data, int64_t(cExtent), a.data, int64_t(aExtent), "c overlaps a") ||
      !args.disjoint(c.data, int64_t(cExtent), b.data, int64_t(bExtent), "c overlaps b")) {
    return nullptr;
  }
  if (batch == 0 || m == 0 || n == 0) return nullptr;
  Instance* instance = args.instance();
  const GemmPath& path = !bf16 ? kPaths.fp32 : instance->bf16Emulated ? kEmulatedBf16 : kPaths.bf16;
  const float alpha = float(alphaValue);

  const MatrixView aBase{a.data, transposeA ? 1 : k, transposeA ? m : 1};
  const MatrixView bBase{b.data, transposeB ? 1 : n, transposeB ? k : 1};
  const int threads = instance->pool.size();
  const int64_t work = batch * m * k * n;
  // Split the batch when it gives every thread work, else split each matrix's rows into
  // bands (each band packs B itself: k·n extra copies against m·k·n/threads of compute).
  const int64_t rowBands = threads == 1 || work < kMinParallelMultiplyAdds || batch >= threads
                               ? 1
                               : std::min<int64_t>((threads + batch - 1) / batch, (m + path.mr - 1) / path.mr);
  const int64_t bandRows = ((m + rowBands - 1) / rowBands + path.mr - 1) / path.mr * path.mr;
  const int64_t units = batch * rowBands;
  const int workers = work < kMinParallelMultiplyAdds ? 1 : int(std::min<int64_t>(threads, units));
  std::atomic<bool> failed{false};
  const std::function<void(int)> task = [&](int index) {
    if (index >= workers) return;
    for (int64_t unit = units * index / workers; unit < units * (index + 1) / workers; ++unit) {
      const int64_t item = unit / rowBands;
      const int64_t rowStart = std::min(m, (unit % rowBands) * bandRows);
      const int64_t rowCount = std::min(m - rowStart, bandRows);
      if (rowCount == 0) continue;
      const MatrixView aBand{aBase.data + item * strideA + rowStart * aBase.rowStride, aBase.rowStride, aBase.colStride};
      const MatrixView bItem{bBase.data + item * strideB, bBase.rowStride, bBase.colStride};
      if (!gemmBlocked(path, aBand, bItem, c.data + item * m * n + rowStart * n, n, rowCount, k, n, accumulate, alpha)) {
        failed = true;
      }
    }
  };
  if (workers == 1) {
    task(0);
  } else {
    instance->pool.run(task);
  }
  if (failed) {
    args.fail("ERR_MEMORY_ALLOCATION_FAILED", "out of memory for packing buffers", true);
  }
  return nullptr;
}

napi_value Sgemm(napi_env env, napi_callback_info info) { return gemmEntry(env, info, "sgemm", false); }

napi_value SgemmBf16(napi_env env, napi_callback_info info) { return gemmEntry(env, info, "sgemmBf16", true); }

// roundToBf16(x, out): out[i] = float(bf16(x[i])), torch's rounding; out may be x.
napi_value RoundToBf16(napi_env env, napi_callback_info info) {
  Args args(env, info, "roundToBf16", 2, 2);
  const FloatArray x = args.floats(0, "x");
  const FloatArray out = args.floats(1, "out");
  if (!args.require(out, double(x.length), "out") ||
      !args.disjoint(out.data, int64_t(x.length), x.data, int64_t(x.length), "out overlaps x (other than being x)", true)) {
    return nullptr;
  }
  for (size_t i = 0; i < x.length; ++i) out.data[i] = bf16Round(x.data[i]);
  return nullptr;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args args(env, info, "setThreads", 1, 1);
  const int64_t threads = args.integer(0, "threads");
  if (!args.ok()) return nullptr;
  if (threads < 1 || threads > 256) {
    args.fail("ERR_INVALID_ARG_VALUE", "expected an integer from 1 to 256", true);
    return nullptr;
  }
  if (threads != args.instance()->pool.size()) args.instance()->pool.resize(int(threads));
  return nullptr;
}

napi_value GetThreads(napi_env env, napi_callback_info info) {
  Args args(env, info, "getThreads", 0, 0);
  if (!args.ok()) return nullptr;
  napi_value result;
  napi_create_int32(env, args.instance()->pool.size(), &result);
  return result;
}

napi_value Isa(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_string_utf8(env, kPaths.fp32.name, NAPI_AUTO_LENGTH, &result);
  return result;
}

// The path sgemmBf16 takes in this instance: 'avx512bf16' or 'emulated'.
napi_value Bf16Isa(napi_env env, napi_callback_info info) {
  Args args(env, info, "bf16Isa", 0, 0);
  if (!args.ok()) return nullptr;
  napi_value result;
  const char* name = args.instance()->bf16Emulated ? kEmulatedBf16.name : kPaths.bf16.name;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &result);
  return result;
}

// setBf16Emulation(force): true makes sgemmBf16 take the emulated path in this instance.
napi_value SetBf16Emulation(napi_env env, napi_callback_info info) {
  Args args(env, info, "setBf16Emulation", 1, 1);
  const bool force = args.boolean(0, "force");
  if (!args.ok()) return nullptr;
  args.instance()->bf16Emulated = force;
  return nullptr;
}

void finalizeInstance(napi_env, void* data, void*) { delete static_cast<Instance*>(data); }

}  // namespace
}  // namespace microbatch

// Context-aware: every worker_thread that loads the addon gets its own thread pool, so
// microbatch's worker replicas never contend for one.
NAPI_MODULE_INIT() {
  using namespace microbatch;
  Instance* instance = new Instance();
  if (napi_set_instance_data(env, instance, finalizeInstance, nullptr) != napi_ok) {
    delete instance;
    return nullptr;
  }
  if (const char* bf16 = std::getenv("MICROBATCH_NATIVE_BF16")) instance->bf16Emulated = std::strcmp(bf16, "emulated") == 0;
  std::vector<napi_property_descriptor> properties = {
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sgemmBf16", nullptr, SgemmBf16, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"roundToBf16", nullptr, RoundToBf16, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"getThreads", nullptr, GetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"isa", nullptr, Isa, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"bf16Isa", nullptr, Bf16Isa, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setBf16Emulation", nullptr, SetBf16Emulation, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  defineKernelFunctions(properties);
  napi_define_properties(env, exports, properties.size(), properties.data());
  return exports;
}
