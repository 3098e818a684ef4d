// Strided iteration shared by every kernel that walks Views (element-wise,
// reductions, row kernels, indexing):
//   Dims<N>        one shape walked by N operands, each with its own strides
//   collapse_dims  drop size-1 dims, merge neighbours contiguous in every operand
//   Walker<N>      C-order walk over dims, keeping each operand's offset
//   for_each_run   elements [begin, end) as runs along the innermost dim
//   row_dims       the leading ("row") dims of Views that share them
// Strides are in whatever unit the caller pushes (elements, or bytes for the
// element-wise kernels); offsets come out in the same unit. Threads: see
// parallel_ranges in parallel.h.
#pragma once
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "view.h"

namespace corten {

template <int N>
struct Dim {
  int64_t n;
  int64_t s[N];
};

template <int N>
struct Dims {
  int nd = 0;
  int nops = N;       // operands in use; loops with N <= 4 run over all N (unused strides are 0)
  int64_t total = 1;  // product of every size pushed (0 when any is 0)
  Dim<N> d[kMaxDims];

  Dims() = default;
  explicit Dims(int operands) : nops(operands) {}
  int ops() const { return N <= 4 ? N : nops; }
  // Appends a dim of size n; operand k steps by s[k].
  void push(int64_t n, const int64_t* s) {
    Dim<N>& x = d[nd++];
    x.n = n;
    for (int k = 0; k < N; ++k) x.s[k] = k < nops ? s[k] : 0;
    total *= n;
  }
  const Dim<N>& inner() const { return d[nd - 1]; }
};

// Drops size-1 dims and merges each dim into the one before it when every
// operand steps over the inner one exactly (outer stride = inner stride * size).
// Keeps `total`; leaves nd == 0 for a single element.
template <int N>
void collapse_dims(Dims<N>& x) {
  int m = 0;
  const int ops = x.ops();
  for (int i = 0; i < x.nd; ++i) {
    const Dim<N> cur = x.d[i];
    if (cur.n == 1) continue;
    if (m > 0) {
      Dim<N>& prev = x.d[m - 1];
      bool merge = true;
      for (int k = 0; k < ops && merge; ++k) merge = prev.s[k] == cur.s[k] * cur.n;
      if (merge) {
        prev.n *= cur.n;
        for (int k = 0; k < ops; ++k) prev.s[k] = cur.s[k];
        continue;
      }
    }
    x.d[m++] = cur;
  }
  x.nd = m;
}

// Walks the first `nd` dims of a Dims in C order: off[k] is operand k's offset
// of the current position (idx holds its coordinates).
template <int N>
struct Walker {
  const Dim<N>* d;
  int nd, nops;
  int64_t idx[kMaxDims];
  int64_t off[N];

  explicit Walker(const Dims<N>& x) : Walker(x, x.nd) {}
  Walker(const Dims<N>& x, int ndims) : d(x.d), nd(ndims), nops(x.nops) {}
  int ops() const { return N <= 4 ? N : nops; }  // a constant the compiler can unroll by
  void reset() {
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int i = 0; i < nd; ++i) idx[i] = 0;
  }
  void seek(int64_t flat) {
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int i = nd - 1; i >= 0; --i) {
      idx[i] = flat % d[i].n;
      flat /= d[i].n;
      for (int k = 0; k < ops(); ++k) off[k] += idx[i] * d[i].s[k];
    }
  }
  void next() {
    for (int i = nd - 1; i >= 0; --i) {
      for (int k = 0; k < ops(); ++k) off[k] += d[i].s[k];
      if (++idx[i] < d[i].n) return;
      for (int k = 0; k < ops(); ++k) off[k] -= d[i].s[k] * d[i].n;
      idx[i] = 0;
    }
  }
};

// Calls f(count, off, strides) for the runs along the innermost dim covering
// elements [begin, end) in C order: off[k] is operand k's offset of the run's
// first element, strides[k] its step within the run. When f returns bool,
// false stops the walk. With no dims (one element) there is one run of 1.
template <int N, class F>
void for_each_run(const Dims<N>& x, int64_t begin, int64_t end, F&& f) {
  if (begin >= end) return;
  static const int64_t zero[N] = {};
  if (x.nd == 0) {
    f(int64_t{1}, zero, zero);
    return;
  }
  const Dim<N>& in = x.inner();
  const int ops = x.ops();
  Walker<N> w(x, x.nd - 1);
  int64_t col = 0;
  if (begin == 0) {
    w.reset();
  } else {
    col = begin % in.n;
    w.seek(begin / in.n);
  }
  int64_t off[N] = {};
  while (begin < end) {
    const int64_t cnt = std::min(in.n - col, end - begin);
    for (int k = 0; k < ops; ++k) off[k] = w.off[k] + col * in.s[k];
    if constexpr (std::is_same_v<decltype(f(cnt, off, in.s)), bool>) {
      if (!f(cnt, off, in.s)) return;
    } else {
      f(cnt, off, in.s);
    }
    begin += cnt;
    col = 0;
    w.next();
  }
}

// The leading dims (all but the last) of up to three Views whose leading
// shapes match, collapsed, strides in elements. total is the row count.
inline Dims<3> row_dims(const View* const* vs, int nv, const char* op) {
  const int nd = vs[0]->ndim - 1;
  for (int k = 1; k < nv; ++k) {
    bool ok = vs[k]->ndim == nd + 1;
    for (int i = 0; ok && i < nd; ++i) ok = vs[k]->shape[i] == vs[0]->shape[i];
    if (!ok)
      throw std::invalid_argument(std::string(op) + ": leading shapes differ: " + shape_str(*vs[0]) + " and " +
                                  shape_str(*vs[k]));
  }
  Dims<3> r(nv);
  for (int i = 0; i < nd; ++i) {
    int64_t s[3] = {0, 0, 0};
    for (int k = 0; k < nv; ++k) s[k] = vs[k]->strides[i];
    r.push(vs[0]->shape[i], s);
  }
  collapse_dims(r);
  return r;
}

}  // namespace corten
