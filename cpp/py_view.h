// The pybind11 side of View, included only by bindings.cpp: a type caster that
// turns a NumPy array argument into a View (or an OutView, for arrays a kernel
// writes), and the one GIL rule every kernel binding follows.
//
// pybind11 converts all arguments (these casters run, GIL held) before it
// constructs a binding's call guard; the guard then decides whether to release
// the GIL around the kernel, and re-acquires it when the kernel returns.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "view.h"

namespace corten {
namespace py = pybind11;

// The GIL rule: release it while a kernel runs when one of its arrays has at
// least this many elements. Below that, a release/re-acquire pair costs about
// as much as the loop itself; kernels never touch Python objects either way.
constexpr int64_t kReleaseGilElements = int64_t{1} << 12;

// Largest array converted for the call this thread is preparing (reset by the guard).
inline thread_local int64_t t_largest_array = 0;

class ReleaseGilIfLarge {
 public:
  ReleaseGilIfLarge() {
    if (t_largest_array >= kReleaseGilElements) release_.emplace();
    t_largest_array = 0;
  }

 private:
  std::optional<py::gil_scoped_release> release_;
};

// The DType of a NumPy dtype, from the table in dtype.h.
inline DType dtype_code(const py::dtype& dt) {
  if (dt.byteorder() == '>') throw std::invalid_argument("non-native byte order is not supported");
  const char kind = dt.kind();
  const int64_t size = dt.itemsize();
  for (int i = 0; i < kNumDTypes; ++i) {
    const DType d = static_cast<DType>(i);
    if (dtype_kind(d) == kind && dtype_size(d) == size) return d;
  }
  throw py::type_error("unsupported array dtype " + std::string(py::str(dt)));
}

// Fills v from a NumPy array; outputs must be writable with no two elements
// sharing memory. Throws std::invalid_argument (ValueError) otherwise.
inline void load_view(View& v, const py::array& a, bool output) {
  v.dtype = dtype_code(a.dtype());
  if (a.ndim() > kMaxDims) throw std::invalid_argument("too many dimensions: " + std::to_string(a.ndim()));
  v.ndim = static_cast<int>(a.ndim());
  const int64_t es = dtype_size(v.dtype);
  const py::ssize_t* shape = a.shape();
  const py::ssize_t* strides = a.strides();
  int64_t size = 1;
  for (int i = 0; i < v.ndim; ++i) {
    v.shape[i] = shape[i];
    size *= shape[i];
    if (strides[i] % es != 0) throw std::invalid_argument("array strides must be a multiple of the item size");
    v.strides[i] = strides[i] / es;
  }
  if (output && !a.writeable())
    throw std::invalid_argument("output array of shape " + shape_str(v) + " and dtype " + dtype_name(v.dtype) +
                                " is read-only");
  if (output && overlaps_itself(v))
    throw std::invalid_argument("output array of shape " + shape_str(v) + " has elements that share memory "
                                "(a broadcast view?); it cannot be written");
  v.data = static_cast<char*>(const_cast<void*>(a.data()));
  // Kernels load whole elements: a misaligned pointer would be undefined behaviour.
  if (size > 0 && reinterpret_cast<uintptr_t>(v.data) % es != 0)
    throw std::invalid_argument(std::string(dtype_name(v.dtype)) + " array data is not aligned to its item size");
  if (size > t_largest_array) t_largest_array = size;
}

}  // namespace corten

namespace pybind11 {
namespace detail {

template <class V, bool Output>
struct view_caster {
  PYBIND11_TYPE_CASTER(V, const_name("numpy.ndarray"));
  bool load(handle src, bool) {
    if (!array::check_(src)) return false;  // not an ndarray: pybind11 raises TypeError
    corten::load_view(value, reinterpret_borrow<array>(src), Output);
    return true;
  }
};

template <> struct type_caster<corten::View> : view_caster<corten::View, false> {};
template <> struct type_caster<corten::OutView> : view_caster<corten::OutView, true> {};

}  // namespace detail
}  // namespace pybind11
