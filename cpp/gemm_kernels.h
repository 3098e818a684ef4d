// Internal to the gemm implementation: the micro-kernel calling convention
// shared by gemm.cpp (driver, packing, portable kernel), gemm_avx2.cpp and
// gemm_avx512.cpp (SIMD kernels only). Keep this header free of inline functions
// and templates with bodies: it is included by TUs built with -mavx2 -mfma or
// -mavx512f, and nothing from it may end up as a symbol that generic code
// could pick up.
#pragma once
#include <cstdint>

namespace corten {
namespace detail {

// Computes the MR x NR tile (MR, NR: the kernel's own, see TileKernel)  T = sum_p a(i, p) * b(p, j)  for p in [0, kc),
// starting from zero and summing p in increasing order, then writes
// C(i, j) = T(i, j) (load_c false) or C(i, j) = C(i, j) + T(i, j) (load_c true)
// for i < mr, j < nr.
//   a(i, p) = a[i * rsa + p * csa]; rows i >= mr are never written back and the
//             kernel reads row mr - 1 in their place (so an unpacked A may end at
//             row mr - 1). Packed A panels use rsa = 1, csa = MR.
//   b(p, j) = b[p * rsb + j]: NR contiguous values per p (packed panel: rsb = NR).
// C(i, j) = c[i * rsc + j * csc].
template <class T>
using MicroKernel = void (*)(int64_t kc, const T* a, int64_t rsa, int64_t csa, const T* b,
                             int64_t rsb, T* c, int64_t rsc, int64_t csc, int mr, int nr,
                             bool load_c);

// Matrix-vector kernels, y(i) = sum_p a(i, p) x(p) for i < rows (or y += ...),
// x contiguous, y(i) = y[i * incy]:
//   dot form:  a(i, p) = a[i * lda + p]  (rows contiguous). Each row is summed
//              the same way whatever its position, so splitting rows between
//              threads does not change results.
//   axpy form: a(i, p) = a[i + p * lda]  (columns contiguous). Each y(i) is
//              the chain s = fma(a(i, p), x(p), s) for p = 0, 1, ... from s = 0.
template <class T>
using GemvKernel = void (*)(int64_t rows, int64_t k, const T* a, int64_t lda, const T* x, T* y,
                            int64_t incy, bool load_y);

// Narrow products, vectorised along k: C(i, j) = sum_p a(i, p) bt(j, p) for
// i < rows, j < n with a(i, p) = a[i * lda + p], bt(j, p) = bt[j * ldb + p]
// (both contiguous along k), written to c[i * rsc + j * csc] (or added to it).
// Used when n is much narrower than a register tile. Every element is summed
// the same way (k-lanes, then a fixed reduction, then the tail in order).
template <class T>
using DotKernel = void (*)(int64_t rows, int64_t n, int64_t k, const T* a, int64_t lda, const T* bt,
                           int64_t ldb, T* c, int64_t rsc, int64_t csc, bool load_c);

// Packs a column-major B block (b(p, j) = b[p + j * ldb], ldb >= kc) into a
// register tile's B panel: dst[p * NR + j] = b(p, j) for p < kc, j < nr, and 0
// for nr <= j < NR (NR: the tile's own). A transpose, done in registers.
template <class T>
using PackColsKernel = void (*)(int nr, int64_t kc, const T* b, int64_t ldb, T* dst);

// A micro-kernel and the shape it was built and tuned for. The driver packs
// and blocks with these numbers, so every level can have its own tile:
//   mr, nr        register tile (packed A panels hold mr rows, B panels nr columns)
//   mc, kc, nc    cache blocks: an mc x kc A block for L2, a kc x nr B panel for
//                 L1, a kc x nc B block for L3 (mc a multiple of mr, nc of nr)
//   a_in_place    streams a row-major unpacked A as fast as a packed panel (the
//                 driver then skips packing A when its rows are contiguous)
//   pack_b_cols   packs column-major B panels (nullptr: the driver's scalar loop)
//   run_short     the same tile with only mr_short rows, for edge tiles of at most
//                 mr_short rows (a 2-row edge in the full tile costs all its rows:
//                 m = 128 with 14-row tiles is 9 full tiles and one of 2 rows).
//                 Each element is the same chain of FMAs, so the same bits.
template <class T>
struct TileKernel {
  MicroKernel<T> run;
  int mr, nr;
  int64_t mc, kc, nc;
  bool a_in_place;
  PackColsKernel<T> pack_b_cols;
  MicroKernel<T> run_short;
  int mr_short;
};

struct GemmKernels {
  TileKernel<float> f32;
  TileKernel<double> f64;
  GemvKernel<float> gemv_dot_f32, gemv_axpy_f32;
  GemvKernel<double> gemv_dot_f64, gemv_axpy_f64;
  DotKernel<float> dot_f32;
  DotKernel<double> dot_f64;
};

// Writes the first mr x nr values of a spilled tile s (row pitch lds) to
// C(i, j) = c[i * rsc + j * csc], or adds them to it (load_c). Generic code in
// gemm.cpp: the kernels' edge tiles and non-unit column strides.
void store_tile(const float* s, int lds, float* c, int64_t rsc, int64_t csc, int mr, int nr,
                bool load_c);
void store_tile(const double* s, int lds, double* c, int64_t rsc, int64_t csc, int mr, int nr,
                bool load_c);

// Defined in gemm_avx2.cpp (x86-64 only). Call only when the CPU has AVX2 and FMA.
const GemmKernels* gemm_avx2_kernels();

// The AVX-512F micro-kernels defined in gemm_avx512.cpp (x86-64 only), with
// their own (larger) tiles; the rest of GemmKernels is shared with AVX2, whose
// matrix-vector and dot kernels are bound by memory, not by vector width.
// Call only when the CPU has AVX-512F.
struct TileKernels {
  TileKernel<float> f32;
  TileKernel<double> f64;
};
TileKernels gemm_avx512_tile_kernels();

}  // namespace detail
}  // namespace corten

namespace corten {
namespace detail {

// Cache block overrides for one element size (4: float32, 8: float64), so the
// block sizes can be measured without rebuilding: a value > 0 replaces the
// selected kernel's own (rounded to a multiple of its tile), 0 goes back to it,
// < 0 keeps the current setting. get_gemm_blocking reports the blocks in force
// for the kernel the next call would use.
void set_gemm_blocking(int elem_bytes, int64_t mc, int64_t kc, int64_t nc);
void get_gemm_blocking(int elem_bytes, int64_t* mc, int64_t* kc, int64_t* nc);

}  // namespace detail
}  // namespace corten
