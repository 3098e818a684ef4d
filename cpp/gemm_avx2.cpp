// AVX2/FMA kernels for gemm. This TU is compiled with -mavx2 -mfma and holds
// nothing but compute kernels (the register-tile micro-kernels, and the
// matrix-vector and narrow k-vectorised kernels for shapes a tile would mostly
// pad): everything is in an anonymous namespace except gemm_avx2_kernels(),
// and no standard-library templates are instantiated here, so no AVX2
// instruction can leak into code that generic callers might link against.
// gemm.cpp calls gemm_avx2_kernels() only after checking
// __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma").
#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#include <cstdint>

#include "gemm_kernels.h"

namespace corten {
namespace detail {
namespace {

struct F32 {
  using T = float;
  using V = __m256;
  static constexpr int L = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static V bcast(const T* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  static T fma1(T a, T b, T c) {
    return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
  }
};

struct F64 {
  using T = double;
  using V = __m256d;
  static constexpr int L = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static V bcast(const T* p) { return _mm256_broadcast_sd(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static T fma1(T a, T b, T c) {
    return _mm_cvtsd_f64(_mm_fmadd_sd(_mm_set_sd(a), _mm_set_sd(b), _mm_set_sd(c)));
  }
};

#include "gemm_tile_impl.h"

// The 6 x 2L tile: 12 accumulators + 2 B vectors + 1 broadcast = 15 of the 16 ymm.
constexpr int MR = 6;

void kernel_f32(int64_t kc, const float* a, int64_t rsa, int64_t csa, const float* b,
                int64_t rsb, float* c, int64_t rsc, int64_t csc, int mr, int nr, bool load_c) {
  tile_kernel<F32, MR, 2>(kc, a, rsa, csa, b, rsb, c, rsc, csc, mr, nr, load_c);
}

void kernel_f64(int64_t kc, const double* a, int64_t rsa, int64_t csa, const double* b,
                int64_t rsb, double* c, int64_t rsc, int64_t csc, int mr, int nr, bool load_c) {
  tile_kernel<F64, MR, 2>(kc, a, rsa, csa, b, rsb, c, rsc, csc, mr, nr, load_c);
}

// ---- matrix-vector -----------------------------------------------------------

// Sum of the lanes of v in a fixed order: pairwise over halves
// (lane i + lane i + L/2, then again on the first half, ...).
inline float hsum(__m256 v) {
  __m128 u = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  u = _mm_add_ps(u, _mm_movehl_ps(u, u));
  u = _mm_add_ss(u, _mm_shuffle_ps(u, u, 1));
  return _mm_cvtss_f32(u);
}
inline double hsum(__m256d v) {
  __m128d u = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  u = _mm_add_sd(u, _mm_unpackhi_pd(u, u));
  return _mm_cvtsd_f64(u);
}

// Finishes one row of the dot form: lanes, then the tail in order.
template <class O>
void dot_finish(typename O::V s0, typename O::V s1, int64_t p, int64_t k, const typename O::T* a,
                const typename O::T* x, typename O::T* y, bool load_y) {
  using T = typename O::T;
  T t = hsum(O::add(s0, s1));
  for (; p < k; ++p) t = O::fma1(a[p], x[p], t);
  *y = load_y ? *y + t : t;
}

template <class O>
void gemv_dot(int64_t rows, int64_t k, const typename O::T* a, int64_t lda,
              const typename O::T* x, typename O::T* y, int64_t incy, bool load_y) {
  using V = typename O::V;
  constexpr int L = O::L;
  const int64_t k2 = k / (2 * L) * (2 * L);
  int64_t i = 0;
  for (; i + 4 <= rows; i += 4) {
    const auto *a0 = a + i * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
    V s00 = O::zero(), s01 = O::zero(), s10 = O::zero(), s11 = O::zero();
    V s20 = O::zero(), s21 = O::zero(), s30 = O::zero(), s31 = O::zero();
    for (int64_t p = 0; p < k2; p += 2 * L) {
      const V x0 = O::load(x + p), x1 = O::load(x + p + L);
      s00 = O::fma(O::load(a0 + p), x0, s00);
      s01 = O::fma(O::load(a0 + p + L), x1, s01);
      s10 = O::fma(O::load(a1 + p), x0, s10);
      s11 = O::fma(O::load(a1 + p + L), x1, s11);
      s20 = O::fma(O::load(a2 + p), x0, s20);
      s21 = O::fma(O::load(a2 + p + L), x1, s21);
      s30 = O::fma(O::load(a3 + p), x0, s30);
      s31 = O::fma(O::load(a3 + p + L), x1, s31);
    }
    dot_finish<O>(s00, s01, k2, k, a0, x, y + i * incy, load_y);
    dot_finish<O>(s10, s11, k2, k, a1, x, y + (i + 1) * incy, load_y);
    dot_finish<O>(s20, s21, k2, k, a2, x, y + (i + 2) * incy, load_y);
    dot_finish<O>(s30, s31, k2, k, a3, x, y + (i + 3) * incy, load_y);
  }
  for (; i < rows; ++i) {
    const auto* a0 = a + i * lda;
    V s00 = O::zero(), s01 = O::zero();
    for (int64_t p = 0; p < k2; p += 2 * L) {
      s00 = O::fma(O::load(a0 + p), O::load(x + p), s00);
      s01 = O::fma(O::load(a0 + p + L), O::load(x + p + L), s01);
    }
    dot_finish<O>(s00, s01, k2, k, a0, x, y + i * incy, load_y);
  }
}

template <class O>
void gemv_axpy(int64_t rows, int64_t k, const typename O::T* a, int64_t lda,
               const typename O::T* x, typename O::T* y, int64_t incy, bool load_y) {
  using T = typename O::T;
  using V = typename O::V;
  constexpr int L = O::L;
  constexpr int64_t BLK = 16384 / sizeof(T);  // running sums stay in L1
  alignas(32) T s[BLK];
  for (int64_t b0 = 0; b0 < rows; b0 += BLK) {
    const int64_t bn = rows - b0 < BLK ? rows - b0 : BLK;
    const int64_t bv = bn / L * L;
    for (int64_t i = 0; i < bn; ++i) s[i] = T(0);
    const T* col = a + b0;
    int64_t p = 0;
    for (; p + 4 <= k; p += 4) {
      const T* c0 = col + p * lda;
      const T *c1 = c0 + lda, *c2 = c1 + lda, *c3 = c2 + lda;
      const V x0 = O::bcast(x + p), x1 = O::bcast(x + p + 1), x2 = O::bcast(x + p + 2),
              x3 = O::bcast(x + p + 3);
      for (int64_t i = 0; i < bv; i += L) {
        V v = O::load(s + i);
        v = O::fma(O::load(c0 + i), x0, v);
        v = O::fma(O::load(c1 + i), x1, v);
        v = O::fma(O::load(c2 + i), x2, v);
        v = O::fma(O::load(c3 + i), x3, v);
        O::store(s + i, v);
      }
      for (int64_t i = bv; i < bn; ++i) {
        T v = s[i];
        v = O::fma1(c0[i], x[p], v);
        v = O::fma1(c1[i], x[p + 1], v);
        v = O::fma1(c2[i], x[p + 2], v);
        v = O::fma1(c3[i], x[p + 3], v);
        s[i] = v;
      }
    }
    for (; p < k; ++p) {
      const T* c0 = col + p * lda;
      const V x0 = O::bcast(x + p);
      for (int64_t i = 0; i < bv; i += L) O::store(s + i, O::fma(O::load(c0 + i), x0, O::load(s + i)));
      for (int64_t i = bv; i < bn; ++i) s[i] = O::fma1(c0[i], x[p], s[i]);
    }
    for (int64_t i = 0; i < bn; ++i) {
      T& d = y[(b0 + i) * incy];
      d = load_y ? d + s[i] : s[i];
    }
  }
}

// ---- narrow products (k-vectorised) ---------------------------------------------

// R rows x J columns of C, one k-lane accumulator each.
template <class O, int R, int J>
void dot_block(int64_t k, const typename O::T* a, int64_t lda, const typename O::T* bt,
               int64_t ldb, typename O::T* c, int64_t rsc, int64_t csc, bool load_c) {
  using T = typename O::T;
  using V = typename O::V;
  constexpr int L = O::L;
  const int64_t kv = k / L * L;
  V acc[R][J];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < J; ++j) acc[r][j] = O::zero();
  for (int64_t p = 0; p < kv; p += L) {
    V bv[J];
    for (int j = 0; j < J; ++j) bv[j] = O::load(bt + j * ldb + p);
    for (int r = 0; r < R; ++r) {
      const V av = O::load(a + r * lda + p);
      for (int j = 0; j < J; ++j) acc[r][j] = O::fma(av, bv[j], acc[r][j]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int j = 0; j < J; ++j) {
      T t = hsum(acc[r][j]);
      const T* ar = a + r * lda;
      const T* bj = bt + j * ldb;
      for (int64_t p = kv; p < k; ++p) t = O::fma1(ar[p], bj[p], t);
      T& d = c[r * rsc + j * csc];
      d = load_c ? d + t : t;
    }
  }
}

template <class O, int R>
void dot_rows_all(int64_t n, int64_t k, const typename O::T* a, int64_t lda,
                  const typename O::T* bt, int64_t ldb, typename O::T* c, int64_t rsc,
                  int64_t csc, bool load_c) {
  int64_t j = 0;
  for (; j + 3 <= n; j += 3)
    dot_block<O, R, 3>(k, a, lda, bt + j * ldb, ldb, c + j * csc, rsc, csc, load_c);
  for (; j < n; ++j) dot_block<O, R, 1>(k, a, lda, bt + j * ldb, ldb, c + j * csc, rsc, csc, load_c);
}

template <class O>
void dot_narrow(int64_t rows, int64_t n, int64_t k, const typename O::T* a, int64_t lda,
                const typename O::T* bt, int64_t ldb, typename O::T* c, int64_t rsc, int64_t csc,
                bool load_c) {
  int64_t i = 0;
  for (; i + 4 <= rows; i += 4)
    dot_rows_all<O, 4>(n, k, a + i * lda, lda, bt, ldb, c + i * rsc, rsc, csc, load_c);
  for (; i < rows; ++i)
    dot_rows_all<O, 1>(n, k, a + i * lda, lda, bt, ldb, c + i * rsc, rsc, csc, load_c);
}

void dot_f32(int64_t rows, int64_t n, int64_t k, const float* a, int64_t lda, const float* bt,
             int64_t ldb, float* c, int64_t rsc, int64_t csc, bool load_c) {
  dot_narrow<F32>(rows, n, k, a, lda, bt, ldb, c, rsc, csc, load_c);
}
void dot_f64(int64_t rows, int64_t n, int64_t k, const double* a, int64_t lda, const double* bt,
             int64_t ldb, double* c, int64_t rsc, int64_t csc, bool load_c) {
  dot_narrow<F64>(rows, n, k, a, lda, bt, ldb, c, rsc, csc, load_c);
}

void gemv_dot_f32(int64_t rows, int64_t k, const float* a, int64_t lda, const float* x, float* y,
                  int64_t incy, bool load_y) {
  gemv_dot<F32>(rows, k, a, lda, x, y, incy, load_y);
}
void gemv_axpy_f32(int64_t rows, int64_t k, const float* a, int64_t lda, const float* x, float* y,
                   int64_t incy, bool load_y) {
  gemv_axpy<F32>(rows, k, a, lda, x, y, incy, load_y);
}
void gemv_dot_f64(int64_t rows, int64_t k, const double* a, int64_t lda, const double* x,
                  double* y, int64_t incy, bool load_y) {
  gemv_dot<F64>(rows, k, a, lda, x, y, incy, load_y);
}
void gemv_axpy_f64(int64_t rows, int64_t k, const double* a, int64_t lda, const double* x,
                   double* y, int64_t incy, bool load_y) {
  gemv_axpy<F64>(rows, k, a, lda, x, y, incy, load_y);
}

// In-register transpose of 8 rows of 8 floats: r[j][i] <- r[i][j].
inline void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  // u[4g + c], 128-bit lane L: column 4L + c of rows 4g .. 4g + 3.
  for (int g = 0; g < 8; g += 4) {
    u[g] = _mm256_shuffle_ps(t[g], t[g + 2], 0x44);
    u[g + 1] = _mm256_shuffle_ps(t[g], t[g + 2], 0xEE);
    u[g + 2] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0x44);
    u[g + 3] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
  }
}

// PackColsKernel for the 16-column float tile: 8 x 8 blocks, loaded along k
// (masked at the kc tail and past column nr), transposed, stored as panel rows.
void pack_b_cols_f32(int nr, int64_t kc, const float* b, int64_t ldb, float* dst) {
  constexpr int NR = 2 * F32::L;
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int64_t p0 = 0; p0 < kc; p0 += 8) {
    const int rows = static_cast<int>(kc - p0 < 8 ? kc - p0 : 8);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(rows), lane);
    for (int j0 = 0; j0 < NR; j0 += 8) {
      __m256 r[8];
      for (int j = 0; j < 8; ++j)
        r[j] = j0 + j < nr ? _mm256_maskload_ps(b + (j0 + j) * ldb + p0, mask) : _mm256_setzero_ps();
      transpose8(r);
      for (int q = 0; q < rows; ++q) _mm256_storeu_ps(dst + (p0 + q) * NR + j0, r[q]);
    }
  }
}

// Block sizes measured on AMD EPYC Zen4 (32 KiB L1d, 1 MiB L2 per core):
// KC = 256 keeps a KC x NR packed B panel at 16 KiB (half of L1), MC = 144 an
// A block in L2 (and 128-row problems in one block), NC = 4080 a B block in L3.
const GemmKernels kAvx2Kernels = {
    {kernel_f32, MR, 2 * F32::L, 144, 256, 4080, true, pack_b_cols_f32, nullptr, 0},
    {kernel_f64, MR, 2 * F64::L, 144, 256, 4080, true, nullptr, nullptr, 0},
    gemv_dot_f32, gemv_axpy_f32, gemv_dot_f64, gemv_axpy_f64, dot_f32, dot_f64};

}  // namespace

const GemmKernels* gemm_avx2_kernels() { return &kAvx2Kernels; }

}  // namespace detail
}  // namespace corten

#endif  // x86-64
