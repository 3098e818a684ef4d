#include "view.h"

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

void require_dtype(const View& v, DType d, const char* op, const char* what) {
  if (v.dtype != d)
    throw std::invalid_argument(std::string(op) + ": " + what + " has dtype " + dtype_name(v.dtype) +
                                ", expected " + dtype_name(d));
}

}  // namespace corten
