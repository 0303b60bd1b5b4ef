// Machine limit for the GEMM numbers of bench/native-kernels.ts: the FLOP/s of back-to-back
// independent AVX-512 FMAs (fp32) and VDPBF16PS (bf16 pairs → fp32) in registers, on 1 and
// 2 threads. Not part of the addon; build and run by hand:
//
//   g++ -O2 -pthread bench/peak-flops.cc -o /tmp/peak-flops && /tmp/peak-flops
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <thread>
#include <vector>

constexpr long kIterations = 200'000'000;

// 24 independent accumulators (as in the 12×32 micro-kernels): latency never limits.
__attribute__((target("avx512f"), noinline)) float fmaLoop(long iterations) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_ps(float(i));
  const __m512 a = _mm512_set1_ps(1.0000001f), b = _mm512_set1_ps(0.9999999f);
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) acc[i] = _mm512_fmadd_ps(a, acc[i], b);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < 24; ++i) sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx512f,avx512bf16"), noinline)) float dpbf16Loop(long iterations) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_ps(float(i));
  const __m512i a = _mm512_set1_epi32(0x3F803F80), b = _mm512_set1_epi32(0x3F003F00);
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], (__m512bh)a, (__m512bh)b);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < 24; ++i) sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

double threadSeconds() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return double(now.tv_sec) + 1e-9 * double(now.tv_nsec);
}

// FLOPs per iteration: 24 instructions × 16 lanes × (2 for an FMA, 4 for a bf16 pair dot).
// Reports wall-clock GFLOP/s of all threads and GFLOP/s per second of CPU time of one thread
// (the second is what a core does when it runs, whatever else the machine is running).
void measure(const char* label, float (*loop)(long), double flopsPerIteration, int threads) {
  const long iterations = kIterations / 24;
  std::vector<std::thread> pool;
  std::vector<double> cpu(threads);
  volatile float sink = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const double begin = threadSeconds();
      sink = sink + loop(iterations);
      cpu[t] = threadSeconds() - begin;
    });
  }
  for (auto& thread : pool) thread.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double worstCpu = 0;
  for (double value : cpu) worstCpu = std::max(worstCpu, value);
  const double flops = flopsPerIteration * double(iterations);
  std::printf("%-9s %d thread(s): %7.1f GFLOP/s wall, %7.1f GFLOP/s per thread-CPU-second\n", label, threads,
              flops * threads / seconds / 1e9, flops / worstCpu / 1e9);
}

// Clock estimate: a chain of dependent integer adds retires one per cycle.
__attribute__((noinline)) long addChain(long iterations) {
  long x = 0;
  for (long it = 0; it < iterations; ++it) {
    asm volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
  }
  return x;
}

int main() {
  {
    const long iterations = 500'000'000;
    const double begin = threadSeconds();
    volatile long sink = addChain(iterations);
    (void)sink;
    const double ghz = 4.0 * double(iterations) / (threadSeconds() - begin) / 1e9;
    std::printf("clock ≈ %.2f GHz (dependent adds per thread-CPU-second)\n", ghz);
  }
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f")) {
    std::puts("no AVX-512F");
    return 0;
  }
  for (int threads : {1, 2}) {
    measure("fp32 FMA", fmaLoop, 24 * 16 * 2, threads);
    if (__builtin_cpu_supports("avx512bf16")) measure("VDPBF16PS", dpbf16Loop, 24 * 16 * 4, threads);
  }
  return 0;
}
