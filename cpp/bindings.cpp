// The one file that knows about Python: it turns NumPy arrays into Views,
// releases the GIL, and calls a kernel. Each line below binds one kernel.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

#include "elementwise.h"
#include "gemm.h"
#include "indexing.h"
#include "nn.h"
#include "parallel.h"
#include "peak.h"
#include "reduce.h"
#include "sort.h"
#include "random_fill.h"
#include "view.h"

namespace py = pybind11;
using namespace corten;

namespace {

DType dtype_of_array(const py::array& a) {
  const py::dtype dt = a.dtype();
  if (dt.byteorder() == '>') throw std::invalid_argument("non-native byte order is not supported");
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'b' && size == 1) return DType::Bool;
  if (kind == 'u' && size == 1) return DType::UInt8;
  if (kind == 'i' && size == 4) return DType::Int32;
  if (kind == 'i' && size == 8) return DType::Int64;
  if (kind == 'f' && size == 4) return DType::Float32;
  if (kind == 'f' && size == 8) return DType::Float64;
  throw py::type_error("unsupported array dtype " + std::string(py::str(dt)));
}

// A View of a NumPy array; outputs must be writable.
View as_view(const py::array& a, bool writable = false) {
  View v;
  v.dtype = dtype_of_array(a);
  if (a.ndim() > kMaxDims) throw std::invalid_argument("too many dimensions: " + std::to_string(a.ndim()));
  v.ndim = static_cast<int>(a.ndim());
  const int64_t es = dtype_size(v.dtype);
  for (int i = 0; i < v.ndim; ++i) {
    v.shape[i] = a.shape(i);
    if (a.strides(i) % es != 0) throw std::invalid_argument("array strides must be a multiple of the item size");
    v.strides[i] = a.strides(i) / es;
  }
  if (writable && !a.writeable()) throw std::invalid_argument("output array is read-only");
  if (writable && overlaps_itself(v))
    throw std::invalid_argument("output array " + shape_str(v) + " has elements that share memory "
                                "(a broadcast view?); it cannot be written");
  v.data = static_cast<char*>(const_cast<void*>(a.data()));
  // Kernels load whole elements: a misaligned pointer would be undefined behaviour.
  if (a.size() > 0 && reinterpret_cast<uintptr_t>(v.data) % es != 0)
    throw std::invalid_argument("array data is not aligned to its item size");
  return v;
}

// Releases the GIL for work large enough to pay for it (a release/re-acquire
// pair costs about as much as a 1000-element loop).
class ReleaseGilIfLarge {
 public:
  explicit ReleaseGilIfLarge(const View& out) {
    int64_t n = 1;
    for (int i = 0; i < out.ndim; ++i) n *= out.shape[i];
    if (n >= (1 << 12)) release_.emplace();
  }

 private:
  std::optional<py::gil_scoped_release> release_;
};

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "corten's C++ kernels. Python owns shapes and dtypes; these loop.";

  m.def("get_num_threads", &num_threads);
  m.def("set_num_threads", &set_num_threads);
  m.def("simd_level", &simd_level);
  m.def("set_simd_generic", &set_simd_generic);
  m.def("peak_gflops", &peak_gflops, py::call_guard<py::gil_scoped_release>());

#define CORTEN_BIND_UNARY(name, F)                                      \
  m.def(#name, [](const py::array& x, const py::array& out) {          \
    View vx = as_view(x), vo = as_view(out, true);                      \
    ReleaseGilIfLarge nogil(vo);                                        \
    unary(UnaryOp::name, vx, vo);                                       \
  });
#define CORTEN_BIND_BINARY(name, F)                                                    \
  m.def(#name, [](const py::array& a, const py::array& b, const py::array& out) {      \
    View va = as_view(a), vb = as_view(b), vo = as_view(out, true);                     \
    ReleaseGilIfLarge nogil(vo);                                                       \
    binary(BinaryOp::name, va, vb, vo);                                                \
  });
  CORTEN_UNARY_OPS(CORTEN_BIND_UNARY)
  CORTEN_BINARY_OPS(CORTEN_BIND_BINARY)

  m.def("copy", [](const py::array& x, const py::array& out) {
    View vx = as_view(x), vo = as_view(out, true);
    ReleaseGilIfLarge nogil(vo);
    cast(vx, vo);
  });
  m.def("gather", [](const py::array& src, const std::vector<py::array>& idx, const py::array& out,
                     const std::vector<int64_t>& axes) {
    View vs = as_view(src), vo = as_view(out, true);
    std::vector<View> vi;
    for (const auto& a : idx) vi.push_back(as_view(a));
    py::gil_scoped_release nogil;
    gather(vs, vi, vo, axes);
  });
  m.def("scatter", [](const py::array& dst, const std::vector<py::array>& idx, const py::array& values,
                      bool accumulate, const std::vector<int64_t>& axes) {
    View vd = as_view(dst, true), vv = as_view(values);
    std::vector<View> vi;
    for (const auto& a : idx) vi.push_back(as_view(a));
    py::gil_scoped_release nogil;
    scatter(vd, vi, vv, accumulate, axes);
  });
  m.def("count_nonzero", [](const py::array& x) {
    View vx = as_view(x);
    py::gil_scoped_release nogil;
    return count_nonzero(vx);
  });
  m.def("nonzero", [](const py::array& x, const py::array& out) {
    View vx = as_view(x), vo = as_view(out, true);
    py::gil_scoped_release nogil;
    nonzero(vx, vo);
  });
  m.def("masked_select", [](const py::array& src, const py::array& mask, const py::array& out) {
    View vs = as_view(src), vm = as_view(mask), vo = as_view(out, true);
    py::gil_scoped_release nogil;
    masked_select(vs, vm, vo);
  });
  m.def("copy_blocked", [](const py::array& src, const py::array& out) {
    View vs = as_view(src), vo = as_view(out, true);
    py::gil_scoped_release nogil;
    copy_blocked(vs, vo);
  });
  m.def("where", [](const py::array& c, const py::array& a, const py::array& b, const py::array& out) {
    View vc = as_view(c), va = as_view(a), vb = as_view(b), vo = as_view(out, true);
    py::gil_scoped_release nogil;
    where(vc, va, vb, vo);
  });
  m.def("gemm_kernel", &gemm_kernel_name);
  m.def("set_gemm_fallback", &set_gemm_force_fallback);
  m.def("matmul", [](const py::array& a, const py::array& b, const py::array& out, bool accumulate) {
    View va = as_view(a), vb = as_view(b), vo = as_view(out, true);
    py::gil_scoped_release nogil;
    matmul(va, vb, vo, accumulate);
  });
  m.def("clip", [](const py::array& x, const py::array& lo, const py::array& hi, const py::array& out) {
    View vx = as_view(x), vl = as_view(lo), vh = as_view(hi), vo = as_view(out, true);
    py::gil_scoped_release nogil;
    clip(vx, vl, vh, vo);
  });

  // Reductions, scans and sorting (cpp/reduce.cpp, scan.cpp, sort.cpp).
#define CORTEN_BIND_REDUCE(pyname, OP)                                  \
  m.def(pyname, [](const py::array& x, const py::array& out, int nred) { \
    View vx = as_view(x), vo = as_view(out, true);                      \
    py::gil_scoped_release nogil;                                       \
    reduce(ReduceOp::OP, vx, vo, nred);                                 \
  });
  CORTEN_BIND_REDUCE("reduce_sum", Sum)
  CORTEN_BIND_REDUCE("reduce_mean", Mean)
  CORTEN_BIND_REDUCE("reduce_prod", Prod)
  CORTEN_BIND_REDUCE("reduce_max", Max)
  CORTEN_BIND_REDUCE("reduce_min", Min)
  CORTEN_BIND_REDUCE("reduce_argmax", ArgMax)
  CORTEN_BIND_REDUCE("reduce_argmin", ArgMin)
  m.def("scan", [](const py::array& x, const py::array& out, bool prod, bool reverse) {
    View vx = as_view(x), vo = as_view(out, true);
    py::gil_scoped_release nogil;
    scan(prod ? ScanOp::Prod : ScanOp::Sum, vx, vo, reverse);
  });
  m.def("cumprod_grad", [](const py::array& x, const py::array& g, const py::array& out) {
    View vx = as_view(x), vg = as_view(g), vo = as_view(out, true);
    py::gil_scoped_release nogil;
    cumprod_grad(vx, vg, vo);
  });
  m.def("scatter_add_last", [](const py::array& out, const py::array& idx, const py::array& src) {
    View vo = as_view(out, true), vi = as_view(idx), vs = as_view(src);
    py::gil_scoped_release nogil;
    scatter_add_last(vo, vi, vs);
  });
  m.def("gather_last", [](const py::array& x, const py::array& idx, const py::array& out) {
    View vx = as_view(x), vi = as_view(idx), vo = as_view(out, true);
    py::gil_scoped_release nogil;
    gather_last(vx, vi, vo);
  });
  m.def("sort_last", [](const py::array& x, const py::array& values, const py::array& indices, bool descending) {
    View vx = as_view(x), vv = as_view(values, true), vi = as_view(indices, true);
    py::gil_scoped_release nogil;
    sort_last(vx, vv, vi, descending);
  });
  m.def("topk_last", [](const py::array& x, const py::array& values, const py::array& indices, bool largest) {
    View vx = as_view(x), vv = as_view(values, true), vi = as_view(indices, true);
    py::gil_scoped_release nogil;
    topk_last(vx, vv, vi, largest);
  });
  m.def("unique_sorted", [](const py::array& s, const py::array& perm, const py::array& values,
                            const py::array& counts, const py::array& inverse) {
    View vs = as_view(s), vp = as_view(perm), vv = as_view(values, true), vc = as_view(counts, true),
         vi = as_view(inverse, true);
    py::gil_scoped_release nogil;
    return unique_sorted(vs, vp, vv, vc, vi);
  });

  // ---- nn: row softmax family and fused cross-entropy (loss.cpp) ----
  m.def("softmax_rows", [](const py::array& x, const py::array& out, bool log) {
    View vx = as_view(x), vo = as_view(out, true);
    py::gil_scoped_release nogil;
    softmax_rows(vx, vo, log);
  });
  m.def("softmax_rows_backward", [](const py::array& y, const py::array& g, const py::array& gi, bool log) {
    View vy = as_view(y), vg = as_view(g), vi = as_view(gi, true);
    py::gil_scoped_release nogil;
    softmax_rows_backward(vy, vg, vi, log);
  });
  m.def("xent_index_forward", [](const py::array& x, const py::array& t, int64_t ignore, double eps,
                                 const py::array& loss, const py::array& lse) {
    View vx = as_view(x), vt = as_view(t), vl = as_view(loss, true), vs = as_view(lse, true);
    py::gil_scoped_release nogil;
    xent_index_forward(vx, vt, ignore, eps, vl, vs);
  });
  m.def("xent_index_backward", [](const py::array& x, const py::array& t, const py::array& lse,
                                  const py::array& g, int64_t ignore, double eps, const py::array& gx) {
    View vx = as_view(x), vt = as_view(t), vs = as_view(lse), vg = as_view(g), vo = as_view(gx, true);
    py::gil_scoped_release nogil;
    xent_index_backward(vx, vt, vs, vg, ignore, eps, vo);
  });
  m.def("xent_prob_forward", [](const py::array& x, const py::array& p, double eps, const py::array& loss,
                                const py::array& lse) {
    View vx = as_view(x), vp = as_view(p), vl = as_view(loss, true), vs = as_view(lse, true);
    py::gil_scoped_release nogil;
    xent_prob_forward(vx, vp, eps, vl, vs);
  });
  m.def("xent_prob_backward", [](const py::array& x, const py::array& p, const py::array& lse,
                                 const py::array& g, double eps, const py::array& gx) {
    View vx = as_view(x), vp = as_view(p), vs = as_view(lse), vg = as_view(g), vo = as_view(gx, true);
    py::gil_scoped_release nogil;
    xent_prob_backward(vx, vp, vs, vg, eps, vo);
  });

  m.def("gelu", [](const py::array& x, const py::array& out, bool tanh) {
    View vx = as_view(x), vo = as_view(out, true);
    py::gil_scoped_release nogil;
    gelu(vx, vo, tanh);
  });
  m.def("gelu_backward", [](const py::array& x, const py::array& g, const py::array& gi, bool tanh) {
    View vx = as_view(x), vg = as_view(g), vo = as_view(gi, true);
    py::gil_scoped_release nogil;
    gelu_backward(vx, vg, vo, tanh);
  });

  // ---- optim: in-place parameter updates (optim.cpp) ----
  m.def("sgd_step", [](const py::array& p, const py::array& g, const py::array& buf, double lr, double momentum,
                       double dampening, bool nesterov, double wd, bool first) {
    View vp = as_view(p, true), vg = as_view(g), vb = as_view(buf, true);
    py::gil_scoped_release nogil;
    sgd_step(vp, vg, vb, lr, momentum, dampening, nesterov, wd, first);
  });
  m.def("rmsprop_step", [](const py::array& p, const py::array& g, const py::array& sq, const py::array& gavg,
                           const py::array& buf, double lr, double alpha, double eps, double wd, double momentum,
                           bool centered) {
    View vp = as_view(p, true), vg = as_view(g), vs = as_view(sq, true), va = as_view(gavg, true),
         vb = as_view(buf, true);
    py::gil_scoped_release nogil;
    rmsprop_step(vp, vg, vs, va, vb, lr, alpha, eps, wd, momentum, centered);
  });
  m.def("adam_step", [](const py::array& p, const py::array& g, const py::array& m1, const py::array& v,
                        const py::array& vmax, double lr, double beta1, double beta2, double eps, double wd,
                        bool decoupled, int64_t step) {
    View vp = as_view(p, true), vg = as_view(g), vm = as_view(m1, true), vv = as_view(v, true),
         vx = as_view(vmax, true);
    py::gil_scoped_release nogil;
    adam_step(vp, vg, vm, vv, vx, lr, beta1, beta2, eps, wd, decoupled, step);
  });
  m.def("random_uniform", [](const py::array& out, uint64_t seed, uint64_t offset, double lo, double hi) {
    View vo = as_view(out, true);
    py::gil_scoped_release nogil;
    fill_uniform(vo, seed, offset, lo, hi);
  });
  m.def("random_normal", [](const py::array& out, uint64_t seed, uint64_t offset, double mean, double std) {
    View vo = as_view(out, true);
    py::gil_scoped_release nogil;
    fill_normal(vo, seed, offset, mean, std);
  });
  m.def("random_integers", [](const py::array& out, uint64_t seed, uint64_t offset, int64_t low, int64_t high) {
    View vo = as_view(out, true);
    py::gil_scoped_release nogil;
    fill_integers(vo, seed, offset, low, high);
  });
  m.def("random_bernoulli", [](const py::array& out, uint64_t seed, uint64_t offset, double p) {
    View vo = as_view(out, true);
    py::gil_scoped_release nogil;
    fill_bernoulli(vo, seed, offset, p);
  });
}
