// Helpers shared by the reduction, scan and sort kernels: walking the leading
// ("row") dimensions of one or more Views, and splitting a count of work units
// into fixed ranges across threads.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "parallel.h"
#include "view.h"

namespace corten {

// One dimension: size and strides (elements) in up to three operands.
struct Dim {
  int64_t n;
  int64_t s[3];
};

// Iterates a list of dims in C order, keeping each operand's element offset.
struct Walker {
  int nd = 0;
  const Dim* d = nullptr;
  int64_t idx[kMaxDims];  // set by seek()
  int64_t off[3] = {0, 0, 0};

  Walker(const Dim* dims, int ndims) : nd(ndims), d(dims) {}
  void seek(int64_t flat) {
    off[0] = off[1] = off[2] = 0;
    for (int i = nd - 1; i >= 0; --i) {
      idx[i] = flat % d[i].n;
      flat /= d[i].n;
      for (int k = 0; k < 3; ++k) off[k] += idx[i] * d[i].s[k];
    }
  }
  void next() {
    for (int i = nd - 1; i >= 0; --i) {
      for (int k = 0; k < 3; ++k) off[k] += d[i].s[k];
      if (++idx[i] < d[i].n) return;
      for (int k = 0; k < 3; ++k) off[k] -= d[i].s[k] * d[i].n;
      idx[i] = 0;
    }
  }
};

// Calls f(begin, end) on fixed ranges of [0, units): thread t of T gets
// [units*t/T, units*(t+1)/T). Callers make each unit's result independent of
// which thread computes it, so results never depend on the thread count.
template <class F>
void parallel_ranges(int64_t units, int nt, F&& f) {
  if (units <= 0) return;
  if (nt > units) nt = static_cast<int>(units);
  if (nt <= 1) {
    f(int64_t{0}, units);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    const int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
    const int64_t b = units * t / T, e = units * (t + 1) / T;
    if (b < e) f(b, e);
  }
}

// Leading dims (all but the last) of up to three Views whose leading shapes
// match, size-1 dims dropped and contiguous neighbours merged. Returns the
// number of dims written to `out` and the row count in *rows.
inline int row_dims(const View* const* vs, int nv, Dim* out, int64_t* rows, const char* op) {
  const int nd = vs[0]->ndim - 1;
  for (int k = 1; k < nv; ++k) {
    bool ok = vs[k]->ndim == nd + 1;
    for (int i = 0; ok && i < nd; ++i) ok = vs[k]->shape[i] == vs[0]->shape[i];
    if (!ok)
      throw std::invalid_argument(std::string(op) + ": leading shapes differ: " + shape_str(*vs[0]) + " and " +
                                  shape_str(*vs[k]));
  }
  int m = 0;
  *rows = 1;
  for (int i = 0; i < nd; ++i) {
    const int64_t n = vs[0]->shape[i];
    *rows *= n;
    if (n == 1) continue;
    Dim d{n, {0, 0, 0}};
    for (int k = 0; k < nv; ++k) d.s[k] = vs[k]->strides[i];
    if (m > 0) {
      bool merge = true;
      for (int k = 0; k < nv; ++k) merge = merge && out[m - 1].s[k] == d.s[k] * n;
      if (merge) {
        out[m - 1].n *= n;
        for (int k = 0; k < nv; ++k) out[m - 1].s[k] = d.s[k];
        continue;
      }
    }
    out[m++] = d;
  }
  return m;
}

inline void require_writable_layout(const View& v, const char* op) {
  if (v.size() == 0) return;  // NumPy gives empty arrays 0 strides
  for (int i = 0; i < v.ndim; ++i)
    if (v.shape[i] > 1 && v.strides[i] == 0)
      throw std::invalid_argument(std::string(op) + ": output with shape " + shape_str(v) +
                                  " is a broadcast view; it cannot be written");
}

}  // namespace corten
