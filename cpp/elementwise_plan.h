// How the element-wise kernels walk their operands: the output and its inputs
// (broadcast to the output's shape) become one collapsed Dims with byte
// strides; the elements are split across threads with parallel_ranges, and
// the innermost dim is handed to a callback as (count, pointers, byte strides)
// so it can pick a tight loop. Operand 0 is the output.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "parallel.h"
#include "strided.h"
#include "view.h"

namespace corten {

template <int N>
struct Plan {
  Dims<N> dims;  // byte strides
  char* base[N];
};

// Byte strides of `in` broadcast against out's shape; false when the shapes do not broadcast.
inline bool broadcast_strides_into(const View& in, const View& out, int64_t* dst) {
  if (in.ndim > out.ndim) return false;
  const int64_t es = dtype_size(in.dtype);
  const int lead = out.ndim - in.ndim;
  for (int i = 0; i < lead; ++i) dst[i] = 0;
  for (int i = 0; i < in.ndim; ++i) {
    const int64_t d = in.shape[i], o = out.shape[lead + i];
    if (d == o) dst[lead + i] = d == 1 ? 0 : in.strides[i] * es;
    else if (d == 1) dst[lead + i] = 0;
    else return false;
  }
  return true;
}

// The plan for out = f(ins...). Throws std::invalid_argument naming the shapes
// when an input does not broadcast to the output or the output repeats memory.
template <int N>
Plan<N> make_plan(const View& out, const View* const* ins, const char* op) {
  const bool empty = out.size() == 0;  // NumPy may give zero-size arrays 0 strides
  int64_t st[N][kMaxDims];
  const int64_t es0 = dtype_size(out.dtype);
  for (int i = 0; i < out.ndim; ++i) {
    st[0][i] = out.strides[i] * es0;
    if (!empty && out.shape[i] > 1 && out.strides[i] == 0)
      throw std::invalid_argument(std::string(op) + ": output with shape " + shape_str(out) +
                                  " is a broadcast view; it cannot be written");
  }
  Plan<N> p;
  p.base[0] = out.data;
  for (int k = 1; k < N; ++k) {
    if (!broadcast_strides_into(*ins[k - 1], out, st[k]))
      throw std::invalid_argument(std::string(op) + ": operand with shape " + shape_str(*ins[k - 1]) +
                                  " could not be broadcast to the output shape " + shape_str(out));
    p.base[k] = ins[k - 1]->data;
  }
  if (!empty && overlaps_itself(out))
    throw std::invalid_argument(std::string(op) + ": output with shape " + shape_str(out) +
                                " has elements that share memory; it cannot be written");
  for (int i = 0; i < out.ndim; ++i) {
    int64_t s[N];
    for (int k = 0; k < N; ++k) s[k] = st[k][i];
    p.dims.push(out.shape[i], s);
  }
  collapse_dims(p.dims);
  return p;
}

// Runs inner(count, ptrs, byte_strides) over elements [begin, end) of the plan.
template <int N, class Inner>
void run_range(const Plan<N>& p, int64_t begin, int64_t end, Inner& inner) {
  for_each_run(p.dims, begin, end, [&](int64_t cnt, const int64_t* off, const int64_t* st) {
    char* cur[N];
    for (int k = 0; k < N; ++k) cur[k] = p.base[k] + off[k];
    inner(cnt, cur, st);
  });
}

// ---- tiled iteration, for transposed operands -----------------------------
// When an operand walks the innermost dimension with a larger stride than the
// next one out (e.g. b in `a + b.T`), going row by row fetches a new cache line
// (and often a new page) for nearly every element of it. Walking the two
// innermost dimensions in kTile x kTile blocks uses each fetched line for
// kTile rows instead.
constexpr int64_t kTile = 32;

template <int N>
bool wants_tiles(const Plan<N>& p) {
  const Dims<N>& d = p.dims;
  if (d.nd < 2) return false;
  const Dim<N>& in = d.d[d.nd - 1];
  const Dim<N>& out = d.d[d.nd - 2];
  if (in.n <= kTile || out.n <= 1) return false;
  for (int k = 0; k < N; ++k)
    if (out.s[k] != 0 && std::abs(in.s[k]) > std::abs(out.s[k])) return true;
  return false;
}

template <int N>
int64_t tile_count(const Plan<N>& p) {
  const Dims<N>& d = p.dims;
  const int last = d.nd - 1;
  int64_t n = ((d.d[last - 1].n + kTile - 1) / kTile) * ((d.d[last].n + kTile - 1) / kTile);
  for (int i = 0; i < last - 1; ++i) n *= d.d[i].n;
  return n;
}

// Runs inner(count, ptrs, byte_strides) row by row over tiles [begin, end);
// tiles are numbered with the column block fastest, then the row block, then
// the outer dimensions.
template <int N, class Inner>
void run_tiles(const Plan<N>& p, int64_t begin, int64_t end, Inner& inner) {
  const Dims<N>& d = p.dims;
  const int last = d.nd - 1;
  const Dim<N>& in = d.d[last];
  const Dim<N>& row = d.d[last - 1];
  const int64_t col_tiles = (in.n + kTile - 1) / kTile, row_tiles = (row.n + kTile - 1) / kTile;
  for (int64_t t = begin; t < end; ++t) {
    int64_t rest = t;
    const int64_t c0 = (rest % col_tiles) * kTile;
    rest /= col_tiles;
    const int64_t r0 = (rest % row_tiles) * kTile;
    rest /= row_tiles;
    char* base[N];
    for (int k = 0; k < N; ++k) base[k] = p.base[k] + c0 * in.s[k];
    for (int i = last - 2; i >= 0; --i) {
      const int64_t at = rest % d.d[i].n;
      rest /= d.d[i].n;
      for (int k = 0; k < N; ++k) base[k] += at * d.d[i].s[k];
    }
    const int64_t r1 = std::min(row.n, r0 + kTile), cnt = std::min(in.n - c0, kTile);
    for (int64_t r = r0; r < r1; ++r) {
      char* cur[N];
      for (int k = 0; k < N; ++k) cur[k] = base[k] + r * row.s[k];
      inner(cnt, cur, in.s);
    }
  }
}

// Chunks of 64 elements keep threads off each other's cache lines.
constexpr int64_t kElementChunk = 64;

template <int N, class Inner>
void run_plan(const Plan<N>& p, Inner inner) {
  const int64_t total = p.dims.total;
  if (total == 0) return;
  const int nt = threads_for(total);
  if (wants_tiles(p)) {
    parallel_ranges(tile_count(p), nt, [&](int64_t b, int64_t e) {
      Inner local = inner;
      run_tiles(p, b, e, local);
    });
    return;
  }
  parallel_ranges((total + kElementChunk - 1) / kElementChunk, nt, [&](int64_t b, int64_t e) {
    Inner local = inner;
    run_range(p, b * kElementChunk, std::min(total, e * kElementChunk), local);
  });
}

}  // namespace corten
