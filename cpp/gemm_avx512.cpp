// AVX-512F register-tile micro-kernels for gemm. This TU is compiled with
// -mavx512f (plus AVX2/FMA) and, like gemm_avx2.cpp, holds nothing but compute
// kernels in an anonymous namespace; only gemm_avx512_tile_kernels() is
// visible. gemm.cpp calls it only after checking the CPU runs AVX-512F.
//
// The tile uses the 32 zmm registers: MR rows x 2 vectors (32 floats or 16
// doubles per row), MR * 2 accumulators + 2 B vectors + 1 broadcast. Each k
// step is 2 loads of B, MR broadcasts of A and 2 * MR FMAs: enough
// independent chains (>= 8) to keep both FMA pipes busy through the 4-cycle
// latency without splitting sums. The shapes and cache blocks below were
// chosen by measurement (docs/benchmarks.md, "AVX-512 GEMM").
#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#include <cstdint>

#include "gemm_kernels.h"

namespace corten {
namespace detail {
namespace {

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

#include "gemm_tile_impl.h"

// 14 x 2 vectors: 28 accumulators + 2 B + 1 broadcast = 31 of the 32 zmm. Measured
// against 12 x 2, 8 x 3 and 6 x 4 (docs/benchmarks.md): within noise of each
// other on large products, and 14 x 2 ahead on 128^3 and the training shapes.
constexpr int MR = 14, NV = 2;

void kernel_f32(int64_t kc, const float* a, int64_t rsa, int64_t csa, const float* b,
                int64_t rsb, float* c, int64_t rsc, int64_t csc, int mr, int nr, bool load_c) {
  tile_kernel<F32, MR, NV>(kc, a, rsa, csa, b, rsb, c, rsc, csc, mr, nr, load_c);
}

void kernel_f64(int64_t kc, const double* a, int64_t rsa, int64_t csa, const double* b,
                int64_t rsb, double* c, int64_t rsc, int64_t csc, int mr, int nr, bool load_c) {
  tile_kernel<F64, MR, NV>(kc, a, rsa, csa, b, rsb, c, rsc, csc, mr, nr, load_c);
}

// In-register transpose of 16 rows of 16 floats: r[j][i] <- r[i][j].
// Three shuffle stages: pairs of rows interleaved, then 4-row groups within each
// 128-bit lane, then the 128-bit lanes themselves (two shuffle_f32x4 stages).
// The unpacks and lane shuffles are written as their zero-masked forms with a
// full mask (the same instructions): the plain forms pass GCC's self-initialised
// `_mm512_undefined_ps()`, which -Wmaybe-uninitialized flags in sanitizer builds.
#define CORTEN_LANES(x, y, imm) _mm512_maskz_shuffle_f32x4(kAll16, (x), (y), (imm))
constexpr __mmask16 kAll16 = 0xFFFF;
inline void transpose16(__m512 r[16]) {
  __m512 a[16], b[16];
  for (int i = 0; i < 16; i += 2) {
    a[i] = _mm512_maskz_unpacklo_ps(kAll16, r[i], r[i + 1]);
    a[i + 1] = _mm512_maskz_unpackhi_ps(kAll16, r[i], r[i + 1]);
  }
  // b[4g + c], 128-bit lane L: column 4L + c of rows 4g .. 4g + 3.
  for (int g = 0; g < 16; g += 4) {
    b[g] = _mm512_shuffle_ps(a[g], a[g + 2], 0x44);
    b[g + 1] = _mm512_shuffle_ps(a[g], a[g + 2], 0xEE);
    b[g + 2] = _mm512_shuffle_ps(a[g + 1], a[g + 3], 0x44);
    b[g + 3] = _mm512_shuffle_ps(a[g + 1], a[g + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 u0 = CORTEN_LANES(b[c], b[4 + c], 0x88);
    const __m512 u1 = CORTEN_LANES(b[c], b[4 + c], 0xDD);
    const __m512 u2 = CORTEN_LANES(b[8 + c], b[12 + c], 0x88);
    const __m512 u3 = CORTEN_LANES(b[8 + c], b[12 + c], 0xDD);
    r[c] = CORTEN_LANES(u0, u2, 0x88);
    r[4 + c] = CORTEN_LANES(u1, u3, 0x88);
    r[8 + c] = CORTEN_LANES(u0, u2, 0xDD);
    r[12 + c] = CORTEN_LANES(u1, u3, 0xDD);
  }
}
#undef CORTEN_LANES

// PackColsKernel for the 32-column float tile: 16 x 16 blocks, loaded along k
// (masked at the kc tail and past column nr), transposed, stored as panel rows.
void pack_b_cols_f32(int nr, int64_t kc, const float* b, int64_t ldb, float* dst) {
  constexpr int NR = NV * F32::L;
  for (int64_t p0 = 0; p0 < kc; p0 += 16) {
    const int rows = static_cast<int>(kc - p0 < 16 ? kc - p0 : 16);
    const __mmask16 mask = static_cast<__mmask16>((1u << rows) - 1u);
    for (int j0 = 0; j0 < NR; j0 += 16) {
      __m512 r[16];
      for (int j = 0; j < 16; ++j)
        r[j] = j0 + j < nr ? _mm512_maskz_loadu_ps(mask, b + (j0 + j) * ldb + p0) : _mm512_setzero_ps();
      transpose16(r);
      for (int q = 0; q < rows; ++q) _mm512_storeu_ps(dst + (p0 + q) * NR + j0, r[q]);
    }
  }
}

// Edge tiles of at most 4 rows (TileKernel::run_short): 8 accumulators, still
// enough independent chains for both FMA pipes.
constexpr int kShortMR = 4;

void kernel_f32_short(int64_t kc, const float* a, int64_t rsa, int64_t csa, const float* b,
                      int64_t rsb, float* c, int64_t rsc, int64_t csc, int mr, int nr, bool load_c) {
  tile_kernel<F32, kShortMR, NV>(kc, a, rsa, csa, b, rsb, c, rsc, csc, mr, nr, load_c);
}

void kernel_f64_short(int64_t kc, const double* a, int64_t rsa, int64_t csa, const double* b,
                      int64_t rsb, double* c, int64_t rsc, int64_t csc, int mr, int nr, bool load_c) {
  tile_kernel<F64, kShortMR, NV>(kc, a, rsa, csa, b, rsb, c, rsc, csc, mr, nr, load_c);
}

}  // namespace

TileKernels gemm_avx512_tile_kernels() {
  // Blocks for 48 KiB L1d and 2 MiB L2 per core (Xeon, Sapphire Rapids class),
  // from a sweep of MC in {112, 224, 448} x KC in {192, 256, 384} (one thread,
  // 512^3, 1024^3 and the training shapes; the spread was ~10%, within noise
  // for most pairs): MC = 224 (an A block of 336 / 672 KiB in L2), KC = 384,
  // NC = 4096 (a B block of 6 / 12 MiB in L3). A row-major A is read in place
  // as fast as a packed panel (measured), so only strided A is packed.
  return {{kernel_f32, MR, NV * F32::L, 16 * MR, 384, 4096, true, pack_b_cols_f32, kernel_f32_short, kShortMR},
          {kernel_f64, MR, NV * F64::L, 16 * MR, 384, 4096, true, nullptr, kernel_f64_short, kShortMR}};
}

}  // namespace detail
}  // namespace corten

#endif  // x86-64
