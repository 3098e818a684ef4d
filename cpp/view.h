// A strided view of memory handed to a kernel: pointer, dtype, shape and
// strides in elements. Python owns layout; kernels only read these fields.
// The binding (py_view.h) builds Views from NumPy arrays and validates them.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "dtype.h"

namespace corten {

constexpr int kMaxDims = 64;

struct View {
  char* data = nullptr;
  DType dtype = DType::Float32;
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};  // in elements, may be 0 or negative

  int64_t size() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= shape[i];
    return n;
  }
  template <class T> T* ptr() const { return reinterpret_cast<T*>(data); }
  // C order with no gaps. A view without elements is contiguous whatever its
  // strides (NumPy gives zero-size arrays strides of 0).
  bool is_contiguous() const {
    for (int i = 0; i < ndim; ++i)
      if (shape[i] == 0) return true;
    int64_t expect = 1;
    for (int i = ndim - 1; i >= 0; --i) {
      if (shape[i] != 1 && strides[i] != expect) return false;
      expect *= shape[i];
    }
    return true;
  }
};

// A View the kernel writes. The binding only builds one from a writable array
// whose elements each have their own memory (no broadcast or overlapping
// layout), so a kernel's signature says which arguments it writes.
struct OutView : View {};

std::string shape_str(const View& v);

// True unless every element of v provably has its own memory: sorted by
// |stride|, each stride must step past everything the smaller ones reach.
// Layouts made by slicing, permuting and reshaping always pass; broadcast
// (stride 0) and hand-made as_strided layouts can fail. Outputs must pass.
bool overlaps_itself(const View& v);

// Throws std::invalid_argument when v (an output) is a broadcast view: stride 0
// on a dim longer than 1.
void require_writable_layout(const View& v, const char* op);

// Throws std::invalid_argument unless v has dtype d.
void require_dtype(const View& v, DType d, const char* op, const char* what);

}  // namespace corten
