// Shared pieces of the microbatch_native addon: the per-instance thread pool, a parallel-for
// over index ranges, and N-API argument parsing with errors that name the function and the
// argument. Included by sgemm.cc (GEMM, module init) and kernels.cc (optimizer, host
// helpers and fused elementwise kernels).
#pragma once

#include <node_api.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define MICROBATCH_X86 1
#include <immintrin.h>
#endif

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 intrinsics pass _mm512_undefined_*() as the masked-off source and then
// warn that it "may be used uninitialized" at -O3: a false positive in its own headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace microbatch {

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

// One per loaded addon instance (each worker_thread that loads the addon gets its own).
struct Instance {
  ThreadPool pool;
  // sgemmBf16 rounds to bf16 and runs the fp32 kernel even when AVX512_BF16 is there
  // (setBf16Emulation), so the fallback is testable on machines that have the instruction.
  bool bf16Emulated = false;
};

// Splits [0, count) into at most pool.size() contiguous parts whose boundaries are
// multiples of `align`, and runs body(begin, end) for each, on the pool when `parallel`.
// Kernels pass parallel = false below the size where waking a worker (tens of µs) costs
// more than it saves.
inline void parallelFor(Instance* instance, int64_t count, int64_t align, bool parallel,
                        const std::function<void(int64_t, int64_t)>& body) {
  const int threads = instance->pool.size();
  const int64_t units = (count + align - 1) / align;
  const int parts = parallel ? int(std::min<int64_t>(threads, units)) : 1;
  if (parts <= 1) {
    if (count > 0) body(0, count);
    return;
  }
  instance->pool.run([&](int index) {
    if (index >= parts) return;
    const int64_t begin = std::min(count, units * index / parts * align);
    const int64_t end = std::min(count, units * (index + 1) / parts * align);
    if (begin < end) body(begin, end);
  });
}

// ---------------------------------------------------------------------------------------
// N-API argument parsing. Each entry point builds an Args, reads its arguments in order
// and returns nullptr as soon as one fails (the JS exception is then pending).
// ---------------------------------------------------------------------------------------

// A typed array argument: FloatArray (Float32Array) or UintArray (Uint32Array).
template <typename T>
struct TypedArray {
  T* data = nullptr;
  size_t length = 0;
  bool present = false;  // false for null/undefined optional arguments
};
using FloatArray = TypedArray<float>;
using UintArray = TypedArray<const uint32_t>;

class Args {
 public:
  Args(napi_env env, napi_callback_info info, const char* name, size_t minCount, size_t maxCount)
      : env_(env), name_(name) {
    argc_ = std::min<size_t>(maxCount, kMaxArgs);
    if (napi_get_cb_info(env, info, &argc_, values_, nullptr, nullptr) != napi_ok) {
      ok_ = false;
      return;
    }
    if (napi_get_instance_data(env, reinterpret_cast<void**>(&instance_)) != napi_ok || instance_ == nullptr) {
      fail("ERR_MICROBATCH_NATIVE", "addon not initialised");
      return;
    }
    if (argc_ < minCount || argc_ > maxCount) {
      std::string message = "expects " + std::to_string(minCount);
      if (maxCount != minCount) message += " to " + std::to_string(maxCount);
      message += " arguments, got " + std::to_string(argc_);
      fail("ERR_INVALID_ARG_COUNT", message.c_str());
    }
  }

  bool ok() const { return ok_; }
  size_t count() const { return argc_; }
  Instance* instance() const { return instance_; }
  napi_env env() const { return env_; }

  // Whether argument `index` was passed and is neither undefined nor null.
  bool given(size_t index) const {
    if (index >= argc_) return false;
    napi_valuetype type;
    if (napi_typeof(env_, values_[index], &type) != napi_ok) return false;
    return type != napi_undefined && type != napi_null;
  }

  FloatArray floats(size_t index, const char* what, bool optional = false) {
    return typedArray<float>(index, what, optional, napi_float32_array, "Float32Array");
  }

  UintArray uints(size_t index, const char* what, bool optional = false) {
    return typedArray<const uint32_t>(index, what, optional, napi_uint32_array, "Uint32Array");
  }

  int64_t integer(size_t index, const char* what) {
    if (!ok_) return 0;
    double number = 0;
    if (index < argc_ && napi_get_value_double(env_, values_[index], &number) == napi_ok && number >= 0 &&
        number <= 9007199254740991.0 && number == double(int64_t(number))) {
      return int64_t(number);
    }
    failArg("ERR_INVALID_ARG_VALUE", what, "must be a non-negative integer");
    return 0;
  }

  double number(size_t index, const char* what) {
    if (!ok_) return 0;
    double number = 0;
    if (index < argc_ && napi_get_value_double(env_, values_[index], &number) == napi_ok) return number;
    failArg("ERR_INVALID_ARG_TYPE", what, "must be a number");
    return 0;
  }

  double optionalNumber(size_t index, const char* what, double fallback) {
    return given(index) ? number(index, what) : fallback;
  }

  bool boolean(size_t index, const char* what) {
    if (!ok_) return false;
    bool value = false;
    if (index < argc_ && napi_get_value_bool(env_, values_[index], &value) == napi_ok) return value;
    failArg("ERR_INVALID_ARG_TYPE", what, "must be a boolean");
    return false;
  }

  bool optionalBoolean(size_t index, const char* what, bool fallback) {
    return given(index) ? boolean(index, what) : fallback;
  }

  // Throws a RangeError unless `array` holds at least `needed` elements.
  bool require(const FloatArray& array, double needed, const char* what) {
    if (!ok_) return false;
    if (double(array.length) >= needed) return true;
    std::string message = std::string(what) + " has " + std::to_string(array.length) + " elements, needs " +
                          std::to_string(int64_t(needed));
    fail("ERR_OUT_OF_RANGE", message.c_str(), true);
    return false;
  }

  // Throws unless the byte ranges [a, a + aCount) and [b, b + bCount) (in floats) are
  // either disjoint or (when `sameAllowed`) the very same range.
  bool disjoint(const float* a, int64_t aCount, const float* b, int64_t bCount, const char* what, bool sameAllowed = false) {
    if (!ok_ || a == nullptr || b == nullptr || aCount == 0 || bCount == 0) return ok_;
    if (sameAllowed && a == b && aCount == bCount) return true;
    const uintptr_t aBegin = reinterpret_cast<uintptr_t>(a), aEnd = aBegin + uintptr_t(aCount) * sizeof(float);
    const uintptr_t bBegin = reinterpret_cast<uintptr_t>(b), bEnd = bBegin + uintptr_t(bCount) * sizeof(float);
    if (aEnd <= bBegin || bEnd <= aBegin) return true;
    fail("ERR_INVALID_ARG_VALUE", what, true);
    return false;
  }

  void fail(const char* code, const char* message, bool range = false) {
    if (!ok_) return;
    ok_ = false;
    const std::string full = std::string(name_) + ": " + message;
    if (range) {
      napi_throw_range_error(env_, code, full.c_str());
    } else {
      napi_throw_type_error(env_, code, full.c_str());
    }
  }

 private:
  template <typename T>
  TypedArray<T> typedArray(size_t index, const char* what, bool optional, napi_typedarray_type wanted, const char* typeName) {
    TypedArray<T> out;
    if (!ok_) return out;
    if (optional && !given(index)) return out;
    bool isTypedArray = false;
    napi_typedarray_type type;
    void* raw = nullptr;
    if (index < argc_ && napi_is_typedarray(env_, values_[index], &isTypedArray) == napi_ok && isTypedArray &&
        napi_get_typedarray_info(env_, values_[index], &type, &out.length, &raw, nullptr, nullptr) == napi_ok &&
        type == wanted) {
      out.data = static_cast<T*>(raw);
      out.present = true;
      return out;
    }
    const std::string problem = std::string("must be a ") + typeName + (optional ? ", null or undefined" : "");
    failArg("ERR_INVALID_ARG_TYPE", what, problem.c_str());
    return out;
  }

  void failArg(const char* code, const char* what, const char* problem) {
    const std::string message = std::string(what) + " " + problem;
    fail(code, message.c_str());
  }

  // No heap allocation per call: small products cost ~2 µs in all, parsing included.
  static constexpr size_t kMaxArgs = 16;
  napi_env env_;
  const char* name_;
  size_t argc_ = 0;
  napi_value values_[kMaxArgs] = {};
  Instance* instance_ = nullptr;
  bool ok_ = true;
};

inline napi_value makeNumber(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

inline napi_value makeBoolean(napi_env env, bool value) {
  napi_value result;
  napi_get_boolean(env, value, &result);
  return result;
}

// Entry points defined in kernels.cc, registered by the module init in sgemm.cc.
void defineKernelFunctions(std::vector<napi_property_descriptor>& properties);

}  // namespace microbatch
