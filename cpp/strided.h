// Strided iteration shared by every kernel that walks several operands of one
// shape: adjacent dimensions are collapsed, the work is split into equal
// element ranges across threads, and the innermost dimension is handed to a
// callback as (count, pointers, strides) so it can pick a tight loop.
// Operand 0 is the output; inputs are already broadcast (stride 0) to its shape.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "parallel.h"
#include "view.h"

namespace corten {

template <int N>
struct Plan {
  int ndim = 0;
  int64_t shape[kMaxDims];
  int64_t strides[N][kMaxDims];  // in bytes
  char* base[N];
  int64_t total = 1;
};

// Fills p.strides[k] (bytes) for input `in` broadcast against output shape.
// Returns false when the shapes do not broadcast.
inline bool broadcast_strides_into(const View& in, const View& out, int64_t* dst) {
  if (in.ndim > out.ndim) return false;
  int64_t es = dtype_size(in.dtype);
  int lead = out.ndim - in.ndim;
  for (int i = 0; i < lead; ++i) dst[i] = 0;
  for (int i = 0; i < in.ndim; ++i) {
    int64_t d = in.shape[i], o = out.shape[lead + i];
    if (d == o) dst[lead + i] = d == 1 ? 0 : in.strides[i] * es;
    else if (d == 1) dst[lead + i] = 0;
    else return false;
  }
  return true;
}

// Builds the plan for out = f(ins...). Throws std::invalid_argument naming the
// shapes when an input does not broadcast to the output or the output repeats
// memory (stride 0 on a dimension longer than 1).
template <int N>
Plan<N> make_plan(const View& out, const View* const* ins, const char* op) {
  Plan<N> full;
  full.ndim = out.ndim;
  int64_t es0 = dtype_size(out.dtype);
  const bool empty = out.size() == 0;  // NumPy may give zero-size arrays 0 strides
  for (int i = 0; i < out.ndim; ++i) {
    full.shape[i] = out.shape[i];
    full.strides[0][i] = out.strides[i] * es0;
    if (!empty && out.shape[i] > 1 && out.strides[i] == 0)
      throw std::invalid_argument(std::string(op) + ": output with shape " + shape_str(out) +
                                  " is a broadcast view; it cannot be written");
  }
  full.base[0] = out.data;
  for (int k = 1; k < N; ++k) {
    if (!broadcast_strides_into(*ins[k - 1], out, full.strides[k]))
      throw std::invalid_argument(std::string(op) + ": operand with shape " + shape_str(*ins[k - 1]) +
                                  " could not be broadcast to the output shape " + shape_str(out));
    full.base[k] = ins[k - 1]->data;
  }
  // Drop size-1 dims and merge dims that are contiguous for every operand.
  Plan<N> p;
  for (int k = 0; k < N; ++k) p.base[k] = full.base[k];
  p.ndim = 0;
  for (int i = 0; i < full.ndim; ++i) {
    int64_t n = full.shape[i];
    p.total *= n;
    if (n == 1) continue;
    if (p.ndim > 0) {
      bool merge = true;
      for (int k = 0; k < N; ++k)
        if (p.strides[k][p.ndim - 1] != full.strides[k][i] * n) { merge = false; break; }
      if (merge) {
        p.shape[p.ndim - 1] *= n;
        for (int k = 0; k < N; ++k) p.strides[k][p.ndim - 1] = full.strides[k][i];
        continue;
      }
    }
    p.shape[p.ndim] = n;
    for (int k = 0; k < N; ++k) p.strides[k][p.ndim] = full.strides[k][i];
    ++p.ndim;
  }
  if (!empty && overlaps_itself(out))
    throw std::invalid_argument(std::string(op) + ": output with shape " + shape_str(out) +
                                " has elements that share memory; it cannot be written");
  if (p.ndim == 0) {  // a single element
    p.ndim = 1;
    p.shape[0] = 1;
    for (int k = 0; k < N; ++k) p.strides[k][0] = 0;
  }
  return p;
}

// Runs inner(count, ptrs, byte_strides) over elements [begin, end) of the plan.
template <int N, class Inner>
void run_range(const Plan<N>& p, int64_t begin, int64_t end, Inner& inner) {
  const int last = p.ndim - 1;
  const int64_t n_inner = p.shape[last];
  int64_t row = begin / n_inner, col = begin % n_inner;
  int64_t idx[kMaxDims];
  char* ptr[N];
  for (int k = 0; k < N; ++k) ptr[k] = p.base[k];
  for (int d = last - 1; d >= 0; --d) {
    idx[d] = row % p.shape[d];
    row /= p.shape[d];
    for (int k = 0; k < N; ++k) ptr[k] += idx[d] * p.strides[k][d];
  }
  int64_t inner_st[N];
  for (int k = 0; k < N; ++k) inner_st[k] = p.strides[k][last];
  while (begin < end) {
    int64_t cnt = std::min(n_inner - col, end - begin);
    char* cur[N];
    for (int k = 0; k < N; ++k) cur[k] = ptr[k] + col * inner_st[k];
    inner(cnt, cur, inner_st);
    begin += cnt;
    col = 0;
    for (int d = last - 1; d >= 0; --d) {  // advance the outer index
      for (int k = 0; k < N; ++k) ptr[k] += p.strides[k][d];
      if (++idx[d] < p.shape[d]) break;
      for (int k = 0; k < N; ++k) ptr[k] -= p.strides[k][d] * p.shape[d];
      idx[d] = 0;
    }
  }
}

template <int N, class Inner>
void run_plan(const Plan<N>& p, Inner inner) {
  if (p.total == 0) return;
  int nt = threads_for(p.total);
  if (nt == 1) {
    run_range(p, 0, p.total, inner);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    int t = omp_get_thread_num(), T = omp_get_num_threads();
    // Chunks aligned to 64 elements keep threads off each other's cache lines.
    int64_t chunk = ((p.total + T - 1) / T + 63) / 64 * 64;
    int64_t b = std::min<int64_t>(p.total, t * chunk), e = std::min<int64_t>(p.total, b + chunk);
    Inner local = inner;
    if (b < e) run_range(p, b, e, local);
  }
}

}  // namespace corten
