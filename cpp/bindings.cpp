// The one file that knows about Python: it turns NumPy arrays into Views,
// releases the GIL, and calls a kernel. Each line below binds one kernel.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "elementwise.h"
#include "parallel.h"
#include "reduce.h"
#include "sort.h"
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
  if (writable) {
    if (!a.writeable()) throw std::invalid_argument("output array is read-only");
    v.data = static_cast<char*>(const_cast<void*>(a.data()));
  } else {
    v.data = static_cast<char*>(const_cast<void*>(a.data()));
  }
  return v;
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "corten's C++ kernels. Python owns shapes and dtypes; these loop.";

  m.def("get_num_threads", &num_threads);
  m.def("set_num_threads", &set_num_threads);
  m.def("simd_level", &simd_level);
  m.def("set_simd_generic", &set_simd_generic);

#define CORTEN_BIND_UNARY(name, F)                                      \
  m.def(#name, [](const py::array& x, const py::array& out) {          \
    View vx = as_view(x), vo = as_view(out, true);                      \
    py::gil_scoped_release nogil;                                       \
    unary(UnaryOp::name, vx, vo);                                       \
  });
#define CORTEN_BIND_BINARY(name, F)                                                    \
  m.def(#name, [](const py::array& a, const py::array& b, const py::array& out) {      \
    View va = as_view(a), vb = as_view(b), vo = as_view(out, true);                     \
    py::gil_scoped_release nogil;                                                      \
    binary(BinaryOp::name, va, vb, vo);                                                \
  });
  CORTEN_UNARY_OPS(CORTEN_BIND_UNARY)
  CORTEN_BINARY_OPS(CORTEN_BIND_BINARY)

  m.def("copy", [](const py::array& x, const py::array& out) {
    View vx = as_view(x), vo = as_view(out, true);
    py::gil_scoped_release nogil;
    cast(vx, vo);
  });
  m.def("where", [](const py::array& c, const py::array& a, const py::array& b, const py::array& out) {
    View vc = as_view(c), va = as_view(a), vb = as_view(b), vo = as_view(out, true);
    py::gil_scoped_release nogil;
    where(vc, va, vb, vo);
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
}
