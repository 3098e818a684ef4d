// Measured peak: N threads run independent multiply-add chains at once; each
// thread's flops over its own CPU time (CLOCK_THREAD_CPUTIME_ID), summed, is the
// machine's roof. The clock a core runs at under all-core vector load (boost
// included) is what a large matmul gets too, which a nominal "cores x
// flop/cycle x base clock" misses. CPU time rather than wall time: on a shared
// machine another process may take a core for part of the run, which must not
// lower the roof (it lowers the benchmark's rates instead, which are wall time).
#include "peak.h"

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <time.h>
#include <vector>

#include "simd.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define CORTEN_PEAK_X86 1
#endif

namespace corten {
namespace {

constexpr int kChains = 12;  // > FMA latency (4) x pipes (2): every pipe busy each cycle

// One iteration updates kChains vectors of x = x * m + c: 2 flops per lane.
#ifdef CORTEN_PEAK_X86
__attribute__((target("avx2,fma"))) double chains_avx2_f32(int64_t iters) {
  __m256 x[kChains];
  for (int j = 0; j < kChains; ++j) x[j] = _mm256_set1_ps(1.0f + 0.01f * j);
  const __m256 m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(0.001f);  // fixed point 1: no overflow
  for (int64_t i = 0; i < iters; ++i)
    for (int j = 0; j < kChains; ++j) x[j] = _mm256_fmadd_ps(x[j], m, c);
  __m256 s = x[0];
  for (int j = 1; j < kChains; ++j) s = _mm256_add_ps(s, x[j]);
  return _mm256_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) double chains_avx2_f64(int64_t iters) {
  __m256d x[kChains];
  for (int j = 0; j < kChains; ++j) x[j] = _mm256_set1_pd(1.0 + 0.01 * j);
  const __m256d m = _mm256_set1_pd(0.999), c = _mm256_set1_pd(0.001);
  for (int64_t i = 0; i < iters; ++i)
    for (int j = 0; j < kChains; ++j) x[j] = _mm256_fmadd_pd(x[j], m, c);
  __m256d s = x[0];
  for (int j = 1; j < kChains; ++j) s = _mm256_add_pd(s, x[j]);
  return _mm256_cvtsd_f64(s);
}

// The same chains in 512-bit vectors: what the AVX-512 kernels can reach (a
// CPU with one 512-bit FMA pipe shows half of it, and so does the roof).
__attribute__((target("avx512f"))) double chains_avx512_f32(int64_t iters) {
  __m512 x[kChains];
  for (int j = 0; j < kChains; ++j) x[j] = _mm512_set1_ps(1.0f + 0.01f * j);
  const __m512 m = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);
  for (int64_t i = 0; i < iters; ++i)
    for (int j = 0; j < kChains; ++j) x[j] = _mm512_fmadd_ps(x[j], m, c);
  __m512 s = x[0];
  for (int j = 1; j < kChains; ++j) s = _mm512_add_ps(s, x[j]);
  return _mm512_cvtss_f32(s);
}

__attribute__((target("avx512f"))) double chains_avx512_f64(int64_t iters) {
  __m512d x[kChains];
  for (int j = 0; j < kChains; ++j) x[j] = _mm512_set1_pd(1.0 + 0.01 * j);
  const __m512d m = _mm512_set1_pd(0.999), c = _mm512_set1_pd(0.001);
  for (int64_t i = 0; i < iters; ++i)
    for (int j = 0; j < kChains; ++j) x[j] = _mm512_fmadd_pd(x[j], m, c);
  __m512d s = x[0];
  for (int j = 1; j < kChains; ++j) s = _mm512_add_pd(s, x[j]);
  return _mm512_cvtsd_f64(s);
}
#endif

// Portable: kChains x 4 scalars, which the compiler vectorises for the baseline ISA.
template <typename T>
double chains_portable(int64_t iters) {
  T x[kChains * 4];
  for (int j = 0; j < kChains * 4; ++j) x[j] = T(1) + T(0.01) * T(j % kChains);
  const T m = T(0.999), c = T(0.001);
  for (int64_t i = 0; i < iters; ++i)
    for (int j = 0; j < kChains * 4; ++j) x[j] = x[j] * m + c;
  T s = 0;
  for (int j = 0; j < kChains * 4; ++j) s += x[j];
  return static_cast<double>(s);
}

using Chains = double (*)(int64_t);

// Flops of one iteration, 2 per lane: kChains vectors of `bytes` bytes (portable: kChains x 4 scalars).
double flops_per_iter(bool f64, int bytes) { return 2.0 * kChains * (bytes ? bytes / (f64 ? 8 : 4) : 4); }

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

double peak_gflops(bool f64, int threads, double seconds, bool portable) {
  if (threads < 1 || threads > 1024) throw std::invalid_argument("peak_gflops: threads must be in [1, 1024]");
  if (!(seconds > 0 && seconds <= 10)) throw std::invalid_argument("peak_gflops: seconds must be in (0, 10]");
  Chains run = f64 ? &chains_portable<double> : &chains_portable<float>;
  int bytes = 0;  // vector width in use; 0: portable
#ifdef CORTEN_PEAK_X86
  // The best level in force (the CPU's, capped by CORTEN_SIMD), as the GEMM picks.
  if (!portable && simd_at_least(SimdLevel::avx512)) {
    run = f64 ? &chains_avx512_f64 : &chains_avx512_f32;
    bytes = 64;
  } else if (!portable && simd_at_least(SimdLevel::avx2)) {
    run = f64 ? &chains_avx2_f64 : &chains_avx2_f32;
    bytes = 32;
  }
#endif
  // Calibrate on one thread: iterations for `seconds` of work per thread.
  int64_t iters = 1 << 12;
  double t = 0;
  std::atomic<double> sink{0};
  while (true) {
    const double start = thread_cpu_seconds();
    sink = sink + run(iters);
    t = thread_cpu_seconds() - start;
    if (t > 2e-3 || iters > (int64_t(1) << 40)) break;
    iters *= 4;
  }
  iters = static_cast<int64_t>(static_cast<double>(iters) * seconds / t) + 1;

  // All threads start together; each rate is that thread's flops over its CPU time.
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<double> cpu(threads, 0.0);
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&, i] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      const double t0 = thread_cpu_seconds();
      const double r = run(iters);
      cpu[i] = thread_cpu_seconds() - t0;
      sink = sink + r;
    });
  while (ready.load() < threads) std::this_thread::yield();
  go.store(true, std::memory_order_release);
  for (auto& th : pool) th.join();
  if (sink.load() == 12345.678) return 0;  // keeps the results live
  double rate = 0;
  for (double c : cpu) rate += flops_per_iter(f64, bytes) * static_cast<double>(iters) / (c > 0 ? c : 1e-9);
  return rate / 1e9;
}

}  // namespace corten
