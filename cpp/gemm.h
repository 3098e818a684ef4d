// Matrix multiplication kernels.
//
// gemm<T> is a blocked GEMM in the BLIS style (loops NC / KC / MC around an
// MR x NR register micro-kernel, A packed into MR-row panels and B into
// NR-column panels straight from arbitrary strides). matmul() is the batched,
// validated entry point used by the Python binding.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "view.h"

namespace corten {
namespace detail {
struct GemmKernels;
}

// C (m x n) = A (m x k) * B (k x n), or C += A * B when accumulate.
// Strides are in elements; any sign or zero is allowed for A and B, so
// transposed, sliced and broadcast inputs need no copy. C may have any strides
// as long as distinct (i, j) do not alias. T = float or double; the integer
// instantiations (int32_t, int64_t, uint8_t) and bool use a plain triple loop
// with wrapping arithmetic (bool: logical or of ands).
// Results do not depend on the thread count: each element of C is computed by
// one thread, always summing k in the same order.
template <class T>
void gemm(int64_t m, int64_t n, int64_t k, const T* A, int64_t rsa, int64_t csa, const T* B,
          int64_t rsb, int64_t csb, T* C, int64_t rsc, int64_t csc, bool accumulate);

// Applied to C after the product, while each tile is still in cache (so a
// linear layer with its activation is one pass over C):
//   C(i, j) = C(i, j) + bias[i * bias_rs + j * bias_cs]   when bias is set
//   C(i, j) = relu(C(i, j))                               when relu (as the relu op:
//                                                         NaN stays NaN, -0 becomes 0)
//   C(i, j) = mask[i * mask_rs + j * mask_cs] > 0 ? C(i, j) : 0   when mask is set
//                                                         (ReLU's backward from its output)
// Each step is the same rounding as the separate element-wise op, so the result is
// bit-identical to gemm, then add, then relu (then relu_backward).
template <class T>
struct GemmEpilogue {
  const T* bias = nullptr;
  int64_t bias_rs = 0, bias_cs = 0;
  bool relu = false;
  const T* mask = nullptr;
  int64_t mask_rs = 0, mask_cs = 0;
};

// gemm followed by the epilogue (T = float or double).
template <class T>
void gemm(int64_t m, int64_t n, int64_t k, const T* A, int64_t rsa, int64_t csa, const T* B,
          int64_t rsb, int64_t csb, T* C, int64_t rsc, int64_t csc, bool accumulate,
          const GemmEpilogue<T>& epi);

// out[..., m, n] = a[..., m, k] @ b[..., k, n] (or += when accumulate).
// a, b and out have the same ndim >= 2 and dtype; every batch dimension of a
// and b equals out's or is 1 (already broadcast by the caller, typically with
// stride 0). Throws std::invalid_argument with a NumPy-style message otherwise.
void matmul(const View& a, const View& b, const OutView& out, bool accumulate);

// out (m x n) = a (m x k) @ b (k x n), then the epilogue: + bias (when given, any
// (m, n) view: the caller broadcasts a row or column vector with stride 0), then
// relu (when relu), then zero where mask (when given, out's shape) is not > 0.
// float32 / float64, 2-D operands; throws std::invalid_argument naming the shapes or
// dtypes at fault.
void matmul_epilogue(const View& a, const View& b, const OutView& out, const std::optional<View>& bias,
                     bool relu, const std::optional<View>& mask);

// Force the portable (non-SIMD) micro-kernel; the environment variable
// CORTEN_GEMM_FALLBACK=1 sets the initial value.
void set_gemm_force_fallback(bool on);
bool gemm_force_fallback();
// "avx512", "avx2-fma" or "portable": the kernel level the next gemm call will use.
const char* gemm_kernel_name();

// The kernel table of one SIMD level (0 portable: nullptr, 1 AVX2/FMA,
// 2 AVX-512F, whose gemv/dot kernels are the AVX2 ones). The caller makes sure
// the CPU runs that level; gemm uses min(CPU's best level, cap).
const detail::GemmKernels* gemm_kernel_for_level(int level);
// Caps the level by name: "portable", "avx2", "avx512" or "best"; the
// environment variable CORTEN_GEMM_KERNEL sets the initial cap. Throws
// std::invalid_argument for an unknown name or a level this CPU cannot run.
void set_gemm_kernel(const std::string& name);

}  // namespace corten
