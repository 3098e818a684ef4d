// The one file that binds kernels to Python. Each kernel's C++ signature is its
// Python signature: a `const View&` argument takes a NumPy array, a
// `const OutView&` a writable one (py_view.h converts and validates both), and
// every kernel follows one GIL rule (ReleaseGilIfLarge, py_view.h).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "build_info.h"
#include "conv.h"
#include "elementwise.h"
#include "gemm.h"
#include "gemm_kernels.h"
#include "indexing.h"
#include "nn.h"
#include "parallel.h"
#include "peak.h"
#include "py_view.h"
#include "random_fill.h"
#include "reduce.h"
#include "simd.h"
#include "sort.h"

namespace py = pybind11;
using namespace corten;

namespace {

template <UnaryOp op> void unary_op(const View& x, const OutView& out) { unary(op, x, out); }
template <BinaryOp op> void binary_op(const View& a, const View& b, const OutView& out) { binary(op, a, b, out); }
template <ReduceOp op> void reduce_op(const View& x, const OutView& out, int nred) { reduce(op, x, out, nred); }

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "corten's C++ kernels. Python owns shapes and dtypes; these loop.";
  const auto gil = py::call_guard<ReleaseGilIfLarge>();

  m.def("get_num_threads", &num_threads);
  m.def("set_num_threads", &set_num_threads);
  m.def("simd_level", &simd_level_str);
  m.def("simd_available", &simd_available);
  m.def("simd_cap", &simd_cap);
  m.def("set_simd_cap", &set_simd_cap);
  m.def("simd_env_problem", &simd_env_problem);
  m.def("cpu_features", &cpu_features);
  m.def("build_info", &build_info);
  // Takes no arrays but runs for a set time: always without the GIL.
  m.def("peak_gflops", &peak_gflops, py::call_guard<py::gil_scoped_release>());
  m.def("gemm_kernel", &gemm_kernel_name);
  m.def("elementwise_kernel", &elementwise_kernel_name);
  m.def("set_gemm_fallback", &set_gemm_force_fallback);
  m.def("set_gemm_kernel", &set_gemm_kernel);
  // Cache-block overrides for measuring (elem_bytes 4 or 8; 0 restores, < 0 keeps).
  m.def("set_gemm_blocking", &detail::set_gemm_blocking);
  m.def("get_gemm_blocking", [](int elem_bytes) {
    int64_t mc, kc, nc;
    detail::get_gemm_blocking(elem_bytes, &mc, &kc, &nc);
    return std::make_tuple(mc, kc, nc);
  });
  m.def("op_kinds", &op_kinds);

  // ---- element-wise (elementwise.cpp) and data movement (indexing.cpp) ----
#define CORTEN_BIND_UNARY(name, F) m.def(#name, &unary_op<UnaryOp::name>, gil);
#define CORTEN_BIND_BINARY(name, F) m.def(#name, &binary_op<BinaryOp::name>, gil);
  CORTEN_UNARY_OPS(CORTEN_BIND_UNARY)
  CORTEN_BINARY_OPS(CORTEN_BIND_BINARY)
#undef CORTEN_BIND_UNARY
#undef CORTEN_BIND_BINARY
  m.def("copy", &cast, gil);
  m.def("where", &where, gil);
  m.def("clip", &clip, gil);
  m.def("complex_abs", &complex_abs, gil);
  m.def("gather", &gather, gil);
  m.def("scatter", &scatter, gil);
  m.def("count_nonzero", &count_nonzero, gil);
  m.def("nonzero", &nonzero, gil);
  m.def("masked_select", &masked_select, gil);
  m.def("copy_blocked", &copy_blocked, gil);
  m.def("matmul", &matmul, gil);
  m.def("matmul_epilogue", &matmul_epilogue, py::arg("a"), py::arg("b"), py::arg("out"), py::arg("bias"),
        py::arg("relu"), py::arg("mask") = py::none(), gil);
  m.def("conv2d_forward", &conv2d_forward, gil);
  m.def("conv2d_input_grad", &conv2d_input_grad, gil);
  m.def("conv2d_weight_grad", &conv2d_weight_grad, gil);
  m.def("max_pool2d_forward", &max_pool2d_forward, gil);
  m.def("max_pool2d_backward", &max_pool2d_backward, gil);
  m.def("avg_pool2d_forward", &avg_pool2d_forward, gil);
  m.def("avg_pool2d_backward", &avg_pool2d_backward, gil);

  // ---- reductions, scans and sorting (reduce*.cpp, scan.cpp, sort.cpp) ----
  m.def("reduce_sum", &reduce_op<ReduceOp::Sum>, gil);
  m.def("reduce_mean", &reduce_op<ReduceOp::Mean>, gil);
  m.def("reduce_prod", &reduce_op<ReduceOp::Prod>, gil);
  m.def("reduce_max", &reduce_op<ReduceOp::Max>, gil);
  m.def("reduce_min", &reduce_op<ReduceOp::Min>, gil);
  m.def("reduce_argmax", &reduce_op<ReduceOp::ArgMax>, gil);
  m.def("reduce_argmin", &reduce_op<ReduceOp::ArgMin>, gil);
  m.def("scan", &scan, gil);
  m.def("cumprod_grad", &cumprod_grad, gil);
  m.def("scatter_add_last", &scatter_add_last, gil);
  m.def("gather_last", &gather_last, gil);
  m.def("sort_last", &sort_last, gil);
  m.def("topk_last", &topk_last, gil);
  m.def("unique_sorted", &unique_sorted, gil);

  // ---- nn: row softmax family, fused cross-entropy, GELU (loss.cpp) ----
  m.def("softmax_rows", &softmax_rows, gil);
  m.def("softmax_rows_backward", &softmax_rows_backward, gil);
  m.def("xent_index_forward", &xent_index_forward, gil);
  m.def("xent_index_backward", &xent_index_backward, gil);
  m.def("xent_reduce", &xent_reduce, gil);
  m.def("xent_row_grads", &xent_row_grads, gil);
  m.def("xent_prob_forward", &xent_prob_forward, gil);
  m.def("xent_prob_backward", &xent_prob_backward, gil);
  m.def("gelu", &gelu, gil);
  m.def("gelu_backward", &gelu_backward, gil);
  m.def("relu_backward", &relu_backward, gil);

  // ---- optim: in-place parameter updates (optim.cpp) ----
  m.def("sgd_step", &sgd_step, gil);
  m.def("rmsprop_step", &rmsprop_step, gil);
  m.def("adam_step", &adam_step, gil);
  m.def("sgd_steps", &sgd_steps, gil);
  m.def("rmsprop_steps", &rmsprop_steps, gil);
  m.def("adam_steps", &adam_steps, gil);

  // ---- random fills (random_fill.cpp) ----
  m.def("random_uniform", &fill_uniform, gil);
  m.def("random_normal", &fill_normal, gil);
  m.def("random_integers", &fill_integers, gil);
  m.def("random_bernoulli", &fill_bernoulli, gil);
}
