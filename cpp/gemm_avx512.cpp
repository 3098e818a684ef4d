// AVX-512F register-tile micro-kernels for gemm. This TU is compiled with
// -mavx512f (plus AVX2/FMA) and, like gemm_avx2.cpp, holds nothing but compute
// kernels in an anonymous namespace; only gemm_avx512_micro_kernels() is
// visible. gemm.cpp calls it only after checking
// __builtin_cpu_supports("avx512f").
//
// The tile is the shared one (kGemmMR x kGemmNRf / kGemmNRd), so packing and
// blocking are unchanged: one row of the tile is exactly one 512-bit vector
// (16 floats or 8 doubles), where AVX2 needs two. The same tile therefore
// takes half the instructions per k step (6 FMAs, 1 load, 6 broadcasts).
//
// Six accumulators are too few to hide the FMA latency (4 cycles, 2 FMAs per
// cycle wants 8 chains in flight), so even and odd k steps go to two banks of
// six, added at the end. The order is fixed by kc alone, so results do not
// depend on the thread count or on how the caller splits m and n.
#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#include <cstdint>

#include "gemm_kernels.h"

namespace corten {
namespace detail {
namespace {

constexpr int MR = kGemmMR;

struct F32 {
  using T = float;
  using V = __m512;
  static constexpr int L = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static V bcast(const T* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static void store(T* p, V v) { _mm512_storeu_ps(p, v); }
};

struct F64 {
  using T = double;
  using V = __m512d;
  static constexpr int L = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static V bcast(const T* p) { return _mm512_set1_pd(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static void store(T* p, V v) { _mm512_storeu_pd(p, v); }
};

// Six accumulators, one per tile row, updated by one k step.
template <class O>
struct Bank {
  typename O::V r[MR];
  Bank() {
    for (int i = 0; i < MR; ++i) r[i] = O::zero();
  }
  // rows[i] points at a(i, p); bp at b(p, 0..NR-1).
  void step(const typename O::T* const rows[MR], const typename O::T* bp) {
    const typename O::V b = O::load(bp);
    for (int i = 0; i < MR; ++i) r[i] = O::fma(O::bcast(rows[i]), b, r[i]);
  }
};

template <class O>
void kernel(int64_t kc, const typename O::T* a, int64_t rsa, int64_t csa,
            const typename O::T* b, int64_t rsb, typename O::T* c, int64_t rsc, int64_t csc,
            int mr, int nr, bool load_c) {
  using T = typename O::T;
  constexpr int NR = O::L;
  Bank<O> even, odd;

  // Warm the destination rows while the k loop runs: with k split into KC
  // blocks, C is read back from memory once per block on large problems.
  if (csc == 1) {
    for (int i = 0; i < mr; ++i)
      _mm_prefetch(reinterpret_cast<const char*>(c + i * rsc), _MM_HINT_T0);
  }

  // Row starts of A; missing rows repeat row mr - 1 (see the contract).
  const T* r0[MR];
  for (int i = 0; i < MR; ++i) r0[i] = a + (i < mr ? i : mr - 1) * rsa;
  const T* rows[MR];
  int64_t p = 0;
  for (; p + 1 < kc; p += 2) {
    for (int i = 0; i < MR; ++i) rows[i] = r0[i] + p * csa;
    even.step(rows, b + p * rsb);
    for (int i = 0; i < MR; ++i) rows[i] += csa;
    odd.step(rows, b + (p + 1) * rsb);
  }
  if (p < kc) {
    for (int i = 0; i < MR; ++i) rows[i] = r0[i] + p * csa;
    even.step(rows, b + p * rsb);
  }
  for (int i = 0; i < MR; ++i) even.r[i] = O::add(even.r[i], odd.r[i]);

  if (nr == NR && csc == 1) {
    for (int i = 0; i < mr; ++i) {
      T* d = c + i * rsc;
      O::store(d, load_c ? O::add(O::load(d), even.r[i]) : even.r[i]);
    }
    return;
  }
  // Edge tile or non-unit column stride: spill the tile, then write what exists.
  alignas(64) T t[MR * NR];
  for (int i = 0; i < MR; ++i) O::store(t + i * NR, even.r[i]);
  for (int i = 0; i < mr; ++i) {
    T* ci = c + i * rsc;
    const T* ti = t + i * NR;
    if (load_c) {
      for (int j = 0; j < nr; ++j) ci[j * csc] = ci[j * csc] + ti[j];
    } else {
      for (int j = 0; j < nr; ++j) ci[j * csc] = ti[j];
    }
  }
}

void kernel_f32(int64_t kc, const float* a, int64_t rsa, int64_t csa, const float* b,
                int64_t rsb, float* c, int64_t rsc, int64_t csc, int mr, int nr, bool load_c) {
  kernel<F32>(kc, a, rsa, csa, b, rsb, c, rsc, csc, mr, nr, load_c);
}

void kernel_f64(int64_t kc, const double* a, int64_t rsa, int64_t csa, const double* b,
                int64_t rsb, double* c, int64_t rsc, int64_t csc, int mr, int nr, bool load_c) {
  kernel<F64>(kc, a, rsa, csa, b, rsb, c, rsc, csc, mr, nr, load_c);
}

static_assert(F32::L == kGemmNRf, "float tile width");
static_assert(F64::L == kGemmNRd, "double tile width");

}  // namespace

MicroKernels gemm_avx512_micro_kernels() { return {kernel_f32, kernel_f64}; }

}  // namespace detail
}  // namespace corten

#endif  // x86-64
