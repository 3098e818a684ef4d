#include "view.h"

#include <utility>

namespace corten {

std::string shape_str(const View& v) {
  std::string s = "(";
  for (int i = 0; i < v.ndim; ++i) {
    if (i) s += ",";
    s += std::to_string(v.shape[i]);
  }
  if (v.ndim == 1) s += ",";
  return s + ")";
}

bool overlaps_itself(const View& v) {
  int64_t st[kMaxDims], n[kMaxDims];
  int m = 0;
  for (int i = 0; i < v.ndim; ++i) {
    if (v.shape[i] == 0) return false;  // no elements at all
    if (v.shape[i] > 1) {
      st[m] = v.strides[i] < 0 ? -v.strides[i] : v.strides[i];
      n[m] = v.shape[i];
      ++m;
    }
  }
  for (int i = 1; i < m; ++i)  // insertion sort by stride: m is small
    for (int j = i; j > 0 && st[j] < st[j - 1]; --j) {
      std::swap(st[j], st[j - 1]);
      std::swap(n[j], n[j - 1]);
    }
  int64_t reach = 0;  // elements spanned by the dimensions checked so far, minus one
  for (int i = 0; i < m; ++i) {
    if (st[i] <= reach) return true;
    reach += (n[i] - 1) * st[i];
  }
  return false;
}

void require_writable_layout(const View& v, const char* op) {
  if (v.size() == 0) return;  // NumPy gives empty arrays 0 strides
  for (int i = 0; i < v.ndim; ++i)
    if (v.shape[i] > 1 && v.strides[i] == 0)
      throw std::invalid_argument(std::string(op) + ": output with shape " + shape_str(v) +
                                  " is a broadcast view; it cannot be written");
}

void require_dtype(const View& v, DType d, const char* op, const char* what) {
  if (v.dtype != d)
    throw std::invalid_argument(std::string(op) + ": " + what + " has dtype " + dtype_name(v.dtype) +
                                ", expected " + dtype_name(d));
}

}  // namespace corten
