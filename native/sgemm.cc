// microbatch_native: a batched single-precision GEMM for Node, called by the optional
// native BatchMatMul kernel (src/backend/kernels/nativeBatchMatMul.ts).
//
// Why: TF.js's wasm backend is limited to 128-bit SIMD without FMA (≈ 40 GFLOP/s at
// best here), while one AVX2/AVX-512 core does 2–5× that. The kernel reads and writes the
// wasm heap directly (the Float32Array views share the wasm memory's ArrayBuffer), so a
// call costs no copies.
//
// Layout: BLIS-style blocking. For each NC-wide column block of B and KC-deep slice of
// K, B is packed into NR-wide slivers; for each MC-tall row block of A, A is packed into
// MR-tall slivers; a register-blocked micro-kernel multiplies one A sliver by one B
// sliver into an MR×NR tile of C. Packing reads the operands through (row, column)
// strides, so transposed operands cost nothing extra. Micro-kernels: AVX-512F (12×32),
// AVX2+FMA (6×16) and a portable one the compiler vectorises for the baseline ISA,
// selected at load time with __builtin_cpu_supports, so one binary runs on any x86-64.
#include <node_api.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define MICROBATCH_X86 1
#include <immintrin.h>
#endif

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
void packASliver(const MatrixView& a, int64_t rows, int64_t depth, int mr, float* sliver) {
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
void packBSliver(const MatrixView& b, int64_t depth, int64_t cols, int nr, float* sliver) {
  if (b.colStride == 1) {
    for (int64_t p = 0; p < depth; ++p) {
      const float* row = b.data + p * b.rowStride;
      float* out = sliver + p * nr;
      int64_t c = 0;
      for (; c < cols; ++c) out[c] = row[c];
      for (; c < nr; ++c) out[c] = 0.0f;
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
// Micro-kernels: C[0:rows, 0:cols] (+)= packedA (mr × depth) · packedB (depth × nr)
// ---------------------------------------------------------------------------------------

using MicroKernel = void (*)(int64_t depth, const float* packedA, const float* packedB, float* c, int64_t ldc,
                             bool accumulate, int64_t rows, int64_t cols);

// Writes a full register tile held in `tile` (mr × nr, row-major) to the valid part of C.
inline void storeTile(const float* tile, int nr, float* c, int64_t ldc, bool accumulate, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float* out = c + r * ldc;
    const float* in = tile + r * nr;
    if (accumulate) {
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

void microKernelPortable(int64_t depth, const float* packedA, const float* packedB, float* c, int64_t ldc,
                         bool accumulate, int64_t rows, int64_t cols) {
  Float4 acc[kPortableMR][2];
  for (int r = 0; r < kPortableMR; ++r) acc[r][0] = acc[r][1] = Float4{0, 0, 0, 0};
  for (int64_t p = 0; p < depth; ++p) {
    const Float4 b0 = loadFloat4(packedB + p * kPortableNR);
    const Float4 b1 = loadFloat4(packedB + p * kPortableNR + 4);
    const float* aCol = packedA + p * kPortableMR;
#pragma GCC unroll 6
    for (int r = 0; r < kPortableMR; ++r) {
      const Float4 scale = Float4{aCol[r], aCol[r], aCol[r], aCol[r]};
      acc[r][0] += scale * b0;
      acc[r][1] += scale * b1;
    }
  }
  float tile[kPortableMR * kPortableNR];
  for (int r = 0; r < kPortableMR; ++r) {
    std::memcpy(tile + r * kPortableNR, &acc[r][0], sizeof(Float4));
    std::memcpy(tile + r * kPortableNR + 4, &acc[r][1], sizeof(Float4));
  }
  storeTile(tile, kPortableNR, c, ldc, accumulate, rows, cols);
}
#else
// Other compilers: plain loops, vectorised as well as the compiler manages.
void microKernelPortable(int64_t depth, const float* packedA, const float* packedB, float* c, int64_t ldc,
                         bool accumulate, int64_t rows, int64_t cols) {
  float tile[kPortableMR * kPortableNR] = {};
  for (int64_t p = 0; p < depth; ++p) {
    const float* bRow = packedB + p * kPortableNR;
    const float* aCol = packedA + p * kPortableMR;
    for (int r = 0; r < kPortableMR; ++r) {
      for (int j = 0; j < kPortableNR; ++j) tile[r * kPortableNR + j] += aCol[r] * bRow[j];
    }
  }
  storeTile(tile, kPortableNR, c, ldc, accumulate, rows, cols);
}
#endif

#if MICROBATCH_X86
constexpr int kAvx2MR = 6;
constexpr int kAvx2NR = 16;

// 6 rows × 2 ymm = 12 accumulators + 2 B vectors + 1 broadcast: fits the 16 ymm registers.
__attribute__((target("avx2,fma"))) void microKernelAvx2(int64_t depth, const float* packedA, const float* packedB,
                                                          float* c, int64_t ldc, bool accumulate, int64_t rows,
                                                          int64_t cols) {
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
#pragma GCC unroll 6
    for (int r = 0; r < kAvx2MR; ++r) {
      float* out = c + r * ldc;
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
  storeTile(tile, kAvx2NR, c, ldc, accumulate, rows, cols);
}

constexpr int kAvx512MR = 12;
constexpr int kAvx512NR = 32;

// 12 rows × 2 zmm = 24 accumulators + 2 B vectors + 1 broadcast, of the 32 zmm registers.
__attribute__((target("avx512f"))) void microKernelAvx512(int64_t depth, const float* packedA, const float* packedB,
                                                           float* c, int64_t ldc, bool accumulate, int64_t rows,
                                                           int64_t cols) {
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
  if (rows == kAvx512MR) {
    // Full rows: masks cover partial columns, so only the valid part of C is touched.
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
  // Partial rows (the bottom edge): go through memory, indexing registers by a runtime row
  // count would push the accumulators out of registers in the main loop.
  alignas(64) float tile[kAvx512MR * kAvx512NR];
#pragma GCC unroll 12
  for (int r = 0; r < kAvx512MR; ++r) {
    _mm512_store_ps(tile + r * kAvx512NR, acc[r][0]);
    _mm512_store_ps(tile + r * kAvx512NR + 16, acc[r][1]);
  }
  storeTile(tile, kAvx512NR, c, ldc, accumulate, rows, cols);
}
#endif

struct KernelSpec {
  MicroKernel kernel;
  int mr;
  int nr;
  const char* name;
};

// MICROBATCH_NATIVE_ISA=avx2|portable caps the instruction set (to test or compare the
// fallbacks on a machine that has more).
KernelSpec selectKernel() {
#if MICROBATCH_X86
  const char* cap = std::getenv("MICROBATCH_NATIVE_ISA");
  const bool allowAvx512 = cap == nullptr || std::strcmp(cap, "avx512") == 0;
  const bool allowAvx2 = allowAvx512 || std::strcmp(cap, "avx2") == 0;
  __builtin_cpu_init();
  if (allowAvx512 && __builtin_cpu_supports("avx512f")) return {microKernelAvx512, kAvx512MR, kAvx512NR, "avx512"};
  if (allowAvx2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return {microKernelAvx2, kAvx2MR, kAvx2NR, "avx2"};
  }
#endif
  return {microKernelPortable, kPortableMR, kPortableNR, "portable"};
}

const KernelSpec kKernel = selectKernel();

// ---------------------------------------------------------------------------------------
// Blocked driver (one thread, one matrix or a band of its rows)
// ---------------------------------------------------------------------------------------

// KC × NR B sliver (32 KB at NR 32) stays in L1 across a row block; MC × KC of A
// (≈ 150 KB) and KC × NC of B (1 MB) fit the 1–2 MB L2 of current x86 cores.
constexpr int64_t kKC = 256;
constexpr int64_t kMCRows = 144;
constexpr int64_t kNC = 1024;

struct AlignedBuffer {
  float* data = nullptr;
  size_t size = 0;
  float* reserve(size_t floats) {
    if (floats > size) {
      std::free(data);
      data = static_cast<float*>(std::aligned_alloc(64, ((floats * sizeof(float) + 63) / 64) * 64));
      size = data == nullptr ? 0 : floats;
    }
    return data;
  }
  ~AlignedBuffer() { std::free(data); }
};

// Each thread packs into its own buffers, reused across calls.
thread_local AlignedBuffer tPackedA;
thread_local AlignedBuffer tPackedB;

// C (rows × n, leading dimension ldc) = A (rows × depth) · B (depth × n). Returns false
// when the packing buffers cannot be allocated.
bool gemmBlocked(const MatrixView& a, const MatrixView& b, float* c, int64_t ldc, int64_t rows, int64_t depth,
                 int64_t n) {
  if (depth == 0) {
    for (int64_t i = 0; i < rows; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return true;
  }
  const int mr = kKernel.mr;
  const int nr = kKernel.nr;
  const int64_t mc = (kMCRows / mr) * mr;
  const int64_t kc = std::min(kKC, depth);
  const int64_t ncBlock = std::min(kNC, ((n + nr - 1) / nr) * nr);
  float* packedA = tPackedA.reserve(size_t(mc * kc));
  float* packedB = tPackedB.reserve(size_t(ncBlock * kc));
  if (packedA == nullptr || packedB == nullptr) return false;
  for (int64_t jc = 0; jc < n; jc += kNC) {
    const int64_t ncCur = std::min(kNC, n - jc);
    for (int64_t pc = 0; pc < depth; pc += kKC) {
      const int64_t kcCur = std::min(kKC, depth - pc);
      for (int64_t jr = 0; jr < ncCur; jr += nr) {
        const MatrixView bSliver{b.data + pc * b.rowStride + (jc + jr) * b.colStride, b.rowStride, b.colStride};
        packBSliver(bSliver, kcCur, std::min<int64_t>(nr, ncCur - jr), nr, packedB + jr * kcCur);
      }
      for (int64_t ic = 0; ic < rows; ic += mc) {
        const int64_t mcCur = std::min(mc, rows - ic);
        for (int64_t ir = 0; ir < mcCur; ir += mr) {
          const MatrixView aSliver{a.data + (ic + ir) * a.rowStride + pc * a.colStride, a.rowStride, a.colStride};
          packASliver(aSliver, std::min<int64_t>(mr, mcCur - ir), kcCur, mr, packedA + ir * kcCur);
        }
        for (int64_t jr = 0; jr < ncCur; jr += nr) {
          for (int64_t ir = 0; ir < mcCur; ir += mr) {
            kKernel.kernel(kcCur, packedA + ir * kcCur, packedB + jr * kcCur, c + (ic + ir) * ldc + jc + jr, ldc,
                           pc > 0, std::min<int64_t>(mr, mcCur - ir), std::min<int64_t>(nr, ncCur - jr));
          }
        }
      }
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Thread pool: the calling thread plus `threads - 1` workers run `task(index)` for
// index 0 .. threads-1 and the call returns when all are done.
// ---------------------------------------------------------------------------------------

class ThreadPool {
 public:
  ~ThreadPool() { resize(1); }

  int size() const { return int(workers_.size()) + 1; }

  void resize(int threads) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      ++generation_;
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
    stopping_ = false;
    // Each worker starts from the current generation, read here and not in the new thread:
    // a `run` issued before the thread first takes the lock must still wake it.
    const uint64_t start = generation_;
    for (int index = 1; index < threads; ++index) workers_.emplace_back([this, index, start] { workerLoop(index, start); });
  }

  void run(const std::function<void(int)>& task) {
    if (workers_.empty()) {
      task(0);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = &task;
      pending_ = int(workers_.size());
      ++generation_;
    }
    wake_.notify_all();
    task(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    task_ = nullptr;
  }

 private:
  void workerLoop(int index, uint64_t seen) {
    for (;;) {
      const std::function<void(int)>* task = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (stopping_) return;
        task = task_;
      }
      (*task)(index);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--pending_ == 0) done_.notify_one();
      }
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int)>* task_ = nullptr;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stopping_ = false;
};

// Below this many multiply-adds a call stays on one thread: waking a worker costs tens of
// microseconds, as much as ~1 M multiply-adds of work.
constexpr int64_t kMinParallelMultiplyAdds = int64_t(1) << 20;

struct Instance {
  ThreadPool pool;
};

// ---------------------------------------------------------------------------------------
// N-API glue
// ---------------------------------------------------------------------------------------

napi_value throwError(napi_env env, const char* code, const char* message, bool range = false) {
  if (range) {
    napi_throw_range_error(env, code, message);
  } else {
    napi_throw_type_error(env, code, message);
  }
  return nullptr;
}

bool getFloat32Array(napi_env env, napi_value value, float** data, size_t* length) {
  bool isTypedArray = false;
  if (napi_is_typedarray(env, value, &isTypedArray) != napi_ok || !isTypedArray) return false;
  napi_typedarray_type type;
  void* raw = nullptr;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_float32_array) return false;
  *data = static_cast<float*>(raw);
  return true;
}

bool getInteger(napi_env env, napi_value value, int64_t* out) {
  double number = 0;
  if (napi_get_value_double(env, value, &number) != napi_ok) return false;
  if (!(number >= 0) || number > 9007199254740991.0 || number != double(int64_t(number))) return false;
  *out = int64_t(number);
  return true;
}

// Smallest number of elements a batched operand needs: the last matrix ends at
// (batch - 1) · stride + rows · cols.
bool fits(size_t length, int64_t batch, int64_t stride, int64_t matrixSize) {
  if (batch == 0 || matrixSize == 0) return true;
  return double(batch - 1) * double(stride) + double(matrixSize) <= double(length);
}

// sgemm(a, b, c, batch, m, k, n, strideA, strideB, transposeA, transposeB): for each
// i < batch, C_i = op(A_i) · op(B_i), C_i = c[i·m·n ...] (m × n, row-major),
// A_i = a[i·strideA ...] (m × k, or k × m when transposeA), B_i = b[i·strideB ...]
// (k × n, or n × k when transposeB). A stride of 0 broadcasts one matrix to the batch.
// C must not overlap A or B.
napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value args[11];
  Instance* instance = nullptr;
  if (napi_get_cb_info(env, info, &argc, args, nullptr, nullptr) != napi_ok) return nullptr;
  if (napi_get_instance_data(env, reinterpret_cast<void**>(&instance)) != napi_ok || instance == nullptr) {
    return throwError(env, "ERR_MICROBATCH_NATIVE", "sgemm: addon not initialised");
  }
  if (argc != 11) return throwError(env, "ERR_INVALID_ARG_COUNT", "sgemm expects 11 arguments");
  float* a = nullptr;
  float* b = nullptr;
  float* c = nullptr;
  size_t aLength = 0, bLength = 0, cLength = 0;
  if (!getFloat32Array(env, args[0], &a, &aLength) || !getFloat32Array(env, args[1], &b, &bLength) ||
      !getFloat32Array(env, args[2], &c, &cLength)) {
    return throwError(env, "ERR_INVALID_ARG_TYPE", "sgemm: a, b and c must be Float32Arrays");
  }
  int64_t sizes[6];
  for (int i = 0; i < 6; ++i) {
    if (!getInteger(env, args[3 + i], &sizes[i])) {
      return throwError(env, "ERR_INVALID_ARG_VALUE", "sgemm: batch, m, k, n and the strides must be non-negative integers");
    }
  }
  const int64_t batch = sizes[0], m = sizes[1], k = sizes[2], n = sizes[3], strideA = sizes[4], strideB = sizes[5];
  bool transposeA = false, transposeB = false;
  if (napi_get_value_bool(env, args[9], &transposeA) != napi_ok || napi_get_value_bool(env, args[10], &transposeB) != napi_ok) {
    return throwError(env, "ERR_INVALID_ARG_TYPE", "sgemm: transposeA and transposeB must be booleans");
  }
  if (!fits(aLength, batch, strideA, m * k) || !fits(bLength, batch, strideB, k * n) ||
      !fits(cLength, batch, m * n, m * n)) {
    return throwError(env, "ERR_OUT_OF_RANGE", "sgemm: an array is shorter than batch, m, k, n and the strides require", true);
  }
  if (batch == 0 || m == 0 || n == 0) return nullptr;

  const MatrixView aBase{a, transposeA ? 1 : k, transposeA ? m : 1};
  const MatrixView bBase{b, transposeB ? 1 : n, transposeB ? k : 1};
  const int threads = instance->pool.size();
  const int64_t work = batch * m * k * n;
  // Split the batch when it gives every thread work, else split each matrix's rows into
  // bands (each band packs B itself: k·n extra copies against m·k·n/threads of compute).
  const int64_t rowBands =
      threads == 1 || work < kMinParallelMultiplyAdds || batch >= threads
          ? 1
          : std::min<int64_t>((threads + batch - 1) / batch, (m + kKernel.mr - 1) / kKernel.mr);
  const int64_t bandRows = ((m + rowBands - 1) / rowBands + kKernel.mr - 1) / kKernel.mr * kKernel.mr;
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
      if (!gemmBlocked(aBand, bItem, c + item * m * n + rowStart * n, n, rowCount, k, n)) failed = true;
    }
  };
  if (workers == 1) {
    task(0);
  } else {
    instance->pool.run(task);
  }
  if (failed) return throwError(env, "ERR_MEMORY_ALLOCATION_FAILED", "sgemm: out of memory for packing buffers", true);
  return nullptr;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  Instance* instance = nullptr;
  if (napi_get_cb_info(env, info, &argc, &arg, nullptr, nullptr) != napi_ok) return nullptr;
  napi_get_instance_data(env, reinterpret_cast<void**>(&instance));
  int64_t threads = 0;
  if (argc != 1 || !getInteger(env, arg, &threads) || threads < 1 || threads > 256) {
    return throwError(env, "ERR_INVALID_ARG_VALUE", "setThreads: expected an integer from 1 to 256", true);
  }
  if (threads != instance->pool.size()) instance->pool.resize(int(threads));
  return nullptr;
}

napi_value GetThreads(napi_env env, napi_callback_info) {
  Instance* instance = nullptr;
  napi_get_instance_data(env, reinterpret_cast<void**>(&instance));
  napi_value result;
  napi_create_int32(env, instance->pool.size(), &result);
  return result;
}

napi_value Isa(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_string_utf8(env, kKernel.name, NAPI_AUTO_LENGTH, &result);
  return result;
}

void finalizeInstance(napi_env, void* data, void*) { delete static_cast<Instance*>(data); }

}  // namespace

// Context-aware: every worker_thread that loads the addon gets its own thread pool, so
// microbatch's worker replicas never contend for one.
NAPI_MODULE_INIT() {
  Instance* instance = new Instance();
  if (napi_set_instance_data(env, instance, finalizeInstance, nullptr) != napi_ok) {
    delete instance;
    return nullptr;
  }
  const napi_property_descriptor properties[] = {
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getThreads", nullptr, GetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isa", nullptr, Isa, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}
