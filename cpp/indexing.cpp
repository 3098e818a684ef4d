// Gather/scatter through index arrays, mask selection, nonzero and a blocked
// copy. Element moves only need the item size, so the copying loops are
// templated on an unsigned integer of that size; only scatter-add needs the
// real dtype.
#include "indexing.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "elementwise.h"
#include "parallel.h"

namespace corten {
namespace {

constexpr int kMaxOps = kMaxDims + 2;

// A C-order walk over one shape with several operands (byte strides), adjacent
// dimensions merged where every operand allows it.
struct Walk {
  int nd = 0, nops = 0;
  int64_t shape[kMaxDims];
  int64_t st[kMaxOps][kMaxDims];
  char* base[kMaxOps];
  int64_t total = 1;

  Walk(int ndim, const int64_t* shp, int n) : nops(n) {
    for (int k = 0; k < n; ++k) base[k] = nullptr;
    for (int i = 0; i < ndim; ++i) total *= shp[i];
    ndim_in = ndim;
    for (int i = 0; i < ndim; ++i) shape_in[i] = shp[i];
  }
  // Operand k: data pointer and element strides for the walked dims.
  void set(int k, char* data, const int64_t* strides, int64_t es) {
    base[k] = data;
    for (int i = 0; i < ndim_in; ++i) st_in[k][i] = strides[i] * es;
  }
  void collapse() {
    nd = 0;
    for (int i = 0; i < ndim_in; ++i) {
      const int64_t n = shape_in[i];
      if (n == 1) continue;
      if (nd > 0) {
        bool merge = true;
        for (int k = 0; k < nops; ++k)
          if (st[k][nd - 1] != st_in[k][i] * n) { merge = false; break; }
        if (merge) {
          shape[nd - 1] *= n;
          for (int k = 0; k < nops; ++k) st[k][nd - 1] = st_in[k][i];
          continue;
        }
      }
      shape[nd] = n;
      for (int k = 0; k < nops; ++k) st[k][nd] = st_in[k][i];
      ++nd;
    }
    if (nd == 0) {
      nd = 1;
      shape[0] = 1;
      for (int k = 0; k < nops; ++k) st[k][0] = 0;
    }
  }

  int ndim_in = 0;
  int64_t shape_in[kMaxDims];
  int64_t st_in[kMaxOps][kMaxDims];
};

// Calls inner(count, ptrs, last_strides) over elements [begin, end) in C order;
// inner returns false to stop early.
template <class Inner>
void walk_range(const Walk& w, int64_t begin, int64_t end, Inner&& inner) {
  if (begin >= end) return;
  const int last = w.nd - 1;
  int64_t idx[kMaxDims];
  char* row[kMaxOps];
  for (int k = 0; k < w.nops; ++k) row[k] = w.base[k];
  int64_t rem = begin / w.shape[last];
  int64_t col = begin % w.shape[last];
  for (int d = last - 1; d >= 0; --d) {
    idx[d] = rem % w.shape[d];
    rem /= w.shape[d];
    for (int k = 0; k < w.nops; ++k) row[k] += idx[d] * w.st[k][d];
  }
  int64_t lst[kMaxOps];
  for (int k = 0; k < w.nops; ++k) lst[k] = w.st[k][last];
  char* cur[kMaxOps];
  while (begin < end) {
    const int64_t cnt = std::min(w.shape[last] - col, end - begin);
    for (int k = 0; k < w.nops; ++k) cur[k] = row[k] + col * lst[k];
    if (!inner(cnt, cur, lst)) return;
    begin += cnt;
    col = 0;
    for (int d = last - 1; d >= 0; --d) {
      for (int k = 0; k < w.nops; ++k) row[k] += w.st[k][d];
      if (++idx[d] < w.shape[d]) break;
      for (int k = 0; k < w.nops; ++k) row[k] -= w.st[k][d] * w.shape[d];
      idx[d] = 0;
    }
  }
}

template <class Fn>
decltype(auto) dispatch_size(int64_t es, Fn&& fn) {
  switch (es) {
    case 1: return fn(Tag<uint8_t>{});
    case 4: return fn(Tag<uint32_t>{});
    case 8: return fn(Tag<uint64_t>{});
  }
  throw std::invalid_argument("unsupported item size " + std::to_string(es));
}

// The "rest" block copied per index position: dims src.shape[k:].
struct Block {
  int nd = 0;
  int64_t shape[kMaxDims];
  int64_t sa[kMaxDims], sb[kMaxDims];  // element strides of the two sides
  int64_t total = 1;
};

Block make_block(const View& a, int a0, const View& b, int b0) {
  Block blk;
  for (int i = 0; a0 + i < a.ndim; ++i) {
    const int64_t n = a.shape[a0 + i];
    blk.total *= n;
    if (n == 1) continue;
    const int64_t x = a.strides[a0 + i], y = b.strides[b0 + i];
    if (blk.nd > 0 && blk.sa[blk.nd - 1] == x * n && blk.sb[blk.nd - 1] == y * n) {
      blk.shape[blk.nd - 1] *= n;
      blk.sa[blk.nd - 1] = x;
      blk.sb[blk.nd - 1] = y;
      continue;
    }
    blk.shape[blk.nd] = n;
    blk.sa[blk.nd] = x;
    blk.sb[blk.nd] = y;
    ++blk.nd;
  }
  return blk;
}

// f(a_elem*, b_elem*) for every element of the block.
template <class T, class F>
void for_block(const Block& blk, T* a, T* b, F&& f) {
  if (blk.total == 0) return;
  if (blk.nd == 0) {
    f(a, b);
    return;
  }
  const int last = blk.nd - 1;
  const int64_t n = blk.shape[last], sa = blk.sa[last], sb = blk.sb[last];
  int64_t idx[kMaxDims] = {};
  int64_t outer = blk.total / n;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < n; ++j) f(a + j * sa, b + j * sb);
    for (int d = last - 1; d >= 0; --d) {
      a += blk.sa[d];
      b += blk.sb[d];
      if (++idx[d] < blk.shape[d]) break;
      a -= blk.sa[d] * blk.shape[d];
      b -= blk.sb[d] * blk.shape[d];
      idx[d] = 0;
    }
  }
}

struct BadIndex {
  int64_t pos = -1, value = 0;
  int which = 0;
};

[[noreturn]] void throw_bad(const BadIndex& bad, const View& src, const std::vector<int64_t>& axes) {
  throw std::out_of_range("index " + std::to_string(bad.value) + " is out of bounds for axis " +
                          std::to_string(axes[bad.which]) + " with size " + std::to_string(src.shape[bad.which]));
}

void check_indices(const View& src, const std::vector<View>& idx, const std::vector<int64_t>& axes,
                   const char* op) {
  const size_t k = idx.size();
  if (k == 0 || static_cast<int>(k) > src.ndim || axes.size() != k)
    throw std::invalid_argument(std::string(op) + ": need 1 to ndim index arrays and one axis label each");
  for (size_t j = 0; j < k; ++j) {
    require_dtype(idx[j], DType::Int64, op, "index array");
    if (idx[j].ndim != idx[0].ndim)
      throw std::invalid_argument(std::string(op) + ": index arrays must share one shape");
    for (int d = 0; d < idx[0].ndim; ++d)
      if (idx[j].shape[d] != idx[0].shape[d])
        throw std::invalid_argument(std::string(op) + ": index arrays must share one shape, got " +
                                    shape_str(idx[0]) + " and " + shape_str(idx[j]));
  }
}

// The index walk: operand 0 is `other` (out or values) over B, then the index arrays.
Walk index_walk(const View& other, const std::vector<View>& idx) {
  const View& i0 = idx[0];
  Walk w(i0.ndim, i0.shape, static_cast<int>(idx.size()) + 1);
  w.set(0, other.data, other.strides, dtype_size(other.dtype));
  for (size_t j = 0; j < idx.size(); ++j) w.set(static_cast<int>(j) + 1, idx[j].data, idx[j].strides, 8);
  w.collapse();
  return w;
}

void check_rest(const View& src, int k, const View& other, int nb, const char* op, const char* what) {
  bool ok = other.ndim == nb + src.ndim - k && other.dtype == src.dtype;
  for (int i = 0; ok && k + i < src.ndim; ++i) ok = other.shape[nb + i] == src.shape[k + i];
  if (!ok)
    throw std::invalid_argument(std::string(op) + ": " + what + " of shape " + shape_str(other) + " and dtype " +
                                dtype_name(other.dtype) + " does not match the indexed tensor " +
                                shape_str(src) + " " + dtype_name(src.dtype));
}

// Source offset (elements) of one index position, or false if an index is out of range.
inline bool index_offset(char* const* p, int64_t i, const int64_t* lst, const View& src, size_t k, int64_t& off,
                         BadIndex& bad) {
  off = 0;
  for (size_t j = 0; j < k; ++j) {
    int64_t v = *reinterpret_cast<const int64_t*>(p[j + 1] + i * lst[j + 1]);
    const int64_t n = src.shape[j];
    const int64_t raw = v;
    if (v < 0) v += n;
    if (v < 0 || v >= n) {
      bad.value = raw;
      bad.which = static_cast<int>(j);
      return false;
    }
    off += v * src.strides[j];
  }
  return true;
}

}  // namespace

void gather(const View& src, const std::vector<View>& idx, const View& out, const std::vector<int64_t>& axes) {
  check_indices(src, idx, axes, "gather");
  const size_t k = idx.size();
  const int nb = idx[0].ndim;
  check_rest(src, static_cast<int>(k), out, nb, "gather", "output");
  for (int i = 0; i < nb; ++i)
    if (out.shape[i] != idx[0].shape[i]) throw std::invalid_argument("gather: output shape does not match the index");
  const Walk w = index_walk(out, idx);
  const Block blk = make_block(src, static_cast<int>(k), out, nb);
  if (w.total == 0) return;
  const int64_t es = dtype_size(src.dtype);
  const int nt = threads_for(w.total * std::max<int64_t>(blk.total, 1), 1 << 15);
  std::vector<BadIndex> bads(nt);
  dispatch_size(es, [&](auto tag) {
    using U = typename decltype(tag)::type;
    const U* sdata = reinterpret_cast<const U*>(src.data);
#pragma omp parallel num_threads(nt)
    {
      const int t = omp_get_thread_num(), T = omp_get_num_threads();
      const int64_t chunk = (w.total + T - 1) / T;
      const int64_t b = std::min(w.total, t * chunk), e = std::min(w.total, b + chunk);
      BadIndex& bad = bads[t];
      int64_t pos = b;
      walk_range(w, b, e, [&](int64_t cnt, char* const* p, const int64_t* lst) {
        const int64_t so = lst[0] / static_cast<int64_t>(sizeof(U));
        U* o = reinterpret_cast<U*>(p[0]);
        if (k == 1 && blk.nd == 0 && blk.total == 1) {  // one index array, one element each
          const int64_t* ix = reinterpret_cast<const int64_t*>(p[1]);
          const int64_t si = lst[1] / 8, n = src.shape[0], ss = src.strides[0];
          if (si == 1 && so == 1 && ss == 1) {  // all contiguous: the tight loop
            int64_t i = 0;
            for (; i < cnt; ++i) {
              int64_t v = ix[i];
              v += v < 0 ? n : 0;
              if (static_cast<uint64_t>(v) >= static_cast<uint64_t>(n)) break;
              o[i] = sdata[v];
            }
            if (i < cnt) {
              bad = BadIndex{pos + i, ix[i], 0};
              return false;
            }
            pos += cnt;
            return true;
          }
          for (int64_t i = 0; i < cnt; ++i) {
            int64_t v = ix[i * si];
            const int64_t raw = v;
            if (v < 0) v += n;
            if (static_cast<uint64_t>(v) >= static_cast<uint64_t>(n)) {
              bad = BadIndex{pos + i, raw, 0};
              return false;
            }
            o[i * so] = sdata[v * ss];
          }
        } else {
          for (int64_t i = 0; i < cnt; ++i) {
            int64_t off;
            if (!index_offset(p, i, lst, src, k, off, bad)) {
              bad.pos = pos + i;
              return false;
            }
            for_block(blk, const_cast<U*>(sdata + off), o + i * so, [](U* s, U* d) { *d = *s; });
          }
        }
        pos += cnt;
        return true;
      });
    }
  });
  for (const BadIndex& bad : bads)
    if (bad.pos >= 0) throw_bad(bad, src, axes);
}

void scatter(const View& dst, const std::vector<View>& idx, const View& values, bool accumulate,
             const std::vector<int64_t>& axes) {
  check_indices(dst, idx, axes, "scatter");
  const size_t k = idx.size();
  const int nb = idx[0].ndim;
  check_rest(dst, static_cast<int>(k), values, nb, "scatter", "values");
  for (int i = 0; i < nb; ++i)
    if (values.shape[i] != idx[0].shape[i])
      throw std::invalid_argument("scatter: values shape " + shape_str(values) + " does not match the index shape " +
                                  shape_str(idx[0]));
  const Walk w = index_walk(values, idx);
  if (w.total == 0) return;
  // Check every index before writing anything.
  BadIndex bad;
  int64_t pos = 0;
  walk_range(w, 0, w.total, [&](int64_t cnt, char* const* p, const int64_t* lst) {
    for (int64_t i = 0; i < cnt; ++i) {
      int64_t off;
      if (!index_offset(p, i, lst, dst, k, off, bad)) {
        bad.pos = pos + i;
        return false;
      }
    }
    pos += cnt;
    return true;
  });
  if (bad.pos >= 0) throw_bad(bad, dst, axes);
  const Block blk = make_block(dst, static_cast<int>(k), values, nb);
  if (blk.total == 0) return;
  dispatch_dtype(dst.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* ddata = reinterpret_cast<T*>(dst.data);
    walk_range(w, 0, w.total, [&](int64_t cnt, char* const* p, const int64_t* lst) {
      const int64_t sv = lst[0] / static_cast<int64_t>(sizeof(T));
      T* v = reinterpret_cast<T*>(p[0]);
      for (int64_t i = 0; i < cnt; ++i) {
        int64_t off;
        BadIndex unused;
        index_offset(p, i, lst, dst, k, off, unused);
        if (!accumulate) {
          for_block(blk, ddata + off, v + i * sv, [](T* d, T* s) { *d = *s; });
        } else if constexpr (std::is_same_v<T, bool>) {
          for_block(blk, ddata + off, v + i * sv, [](T* d, T* s) { *d = *d || *s; });
        } else {
          for_block(blk, ddata + off, v + i * sv, [](T* d, T* s) { *d = static_cast<T>(*d + *s); });
        }
      }
      return true;
    });
  });
}

namespace {

Walk single_walk(const View& x) {
  Walk w(x.ndim, x.shape, 1);
  w.set(0, x.data, x.strides, dtype_size(x.dtype));
  w.collapse();
  return w;
}

template <class T>
int64_t count_range(const Walk& w, int64_t b, int64_t e) {
  int64_t c = 0;
  walk_range(w, b, e, [&](int64_t cnt, char* const* p, const int64_t* lst) {
    const T* x = reinterpret_cast<const T*>(p[0]);
    const int64_t s = lst[0] / static_cast<int64_t>(sizeof(T));
    for (int64_t i = 0; i < cnt; ++i) c += x[i * s] != T(0);
    return true;
  });
  return c;
}

// Runs count(b, e) then write(b, e, start) per thread over equal ranges of
// [0, total); write(b, e, start, stop) fills output rows [start, stop). Returns
// the total number of hits.
template <class Count, class Write>
int64_t two_pass(int64_t total, int64_t expect, Count&& count, Write&& write) {
  const int nt = threads_for(total, 1 << 16);
  std::vector<int64_t> counts(nt + 1, 0);
  bool ok = true;
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), T = omp_get_num_threads();
    const int64_t chunk = (total + T - 1) / T;
    const int64_t b = std::min(total, t * chunk), e = std::min(total, b + chunk);
    counts[t + 1] = count(b, e);
#pragma omp barrier
#pragma omp single
    {
      for (int i = 0; i < T; ++i) counts[i + 1] += counts[i];
      ok = expect < 0 || counts[T] == expect;
    }
    if (ok) write(b, e, counts[t], counts[t + 1]);
  }
  int64_t n = 0;
  for (int i = 1; i <= nt; ++i) n = std::max(n, counts[i]);
  if (!ok)
    throw std::invalid_argument("output of length " + std::to_string(expect) + " does not match the " +
                                std::to_string(n) + " selected elements");
  return n;
}

}  // namespace

int64_t count_nonzero(const View& x) {
  const Walk w = single_walk(x);
  if (w.total == 0) return 0;
  return dispatch_dtype(x.dtype, [&](auto tag) -> int64_t {
    using T = typename decltype(tag)::type;
    return two_pass(w.total, -1, [&](int64_t b, int64_t e) { return count_range<T>(w, b, e); },
                    [](int64_t, int64_t, int64_t, int64_t) {});
  });
}

void nonzero(const View& x, const View& out) {
  require_dtype(out, DType::Int64, "nonzero", "output");
  if (out.ndim != 2 || out.shape[1] != x.ndim)
    throw std::invalid_argument("nonzero: output must have shape (n, " + std::to_string(x.ndim) + "), got " +
                                shape_str(out));
  const Walk w = single_walk(x);
  if (w.total == 0) {
    if (out.shape[0] != 0) throw std::invalid_argument("nonzero: output length does not match");
    return;
  }
  const int nd = x.ndim;
  int64_t* o = reinterpret_cast<int64_t*>(out.data);
  const int64_t so0 = out.strides[0], so1 = out.strides[1];
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* base = reinterpret_cast<const T*>(x.data);
    two_pass(
        w.total, out.shape[0], [&](int64_t b, int64_t e) { return count_range<T>(w, b, e); },
        [&](int64_t b, int64_t e, int64_t row, int64_t) {
          if (b >= e) return;
          int64_t idx[kMaxDims];
          int64_t rem = b, off = 0;
          for (int d = nd - 1; d >= 0; --d) {
            idx[d] = rem % x.shape[d];
            rem /= x.shape[d];
            off += idx[d] * x.strides[d];
          }
          for (int64_t i = b; i < e; ++i) {
            if (base[off] != T(0)) {
              for (int d = 0; d < nd; ++d) o[row * so0 + d * so1] = idx[d];
              ++row;
            }
            for (int d = nd - 1; d >= 0; --d) {
              off += x.strides[d];
              if (++idx[d] < x.shape[d]) break;
              off -= x.strides[d] * x.shape[d];
              idx[d] = 0;
            }
          }
        });
  });
}

void masked_select(const View& src, const View& mask, const View& out) {
  require_dtype(mask, DType::Bool, "masked_select", "mask");
  bool same = src.ndim == mask.ndim && out.ndim == 1 && out.dtype == src.dtype;
  for (int i = 0; same && i < src.ndim; ++i) same = src.shape[i] == mask.shape[i];
  if (!same)
    throw std::invalid_argument("masked_select: mask " + shape_str(mask) + " must match the source " +
                                shape_str(src) + " and the output must be 1-D of the source dtype");
  Walk w(src.ndim, src.shape, 2);
  w.set(0, src.data, src.strides, dtype_size(src.dtype));
  w.set(1, mask.data, mask.strides, 1);
  w.collapse();
  if (w.total == 0) {  // nothing selected: the output must be empty too
    if (out.shape[0] != 0)
      throw std::invalid_argument("masked_select: output of length " + std::to_string(out.shape[0]) +
                                  " does not match the 0 selected elements");
    return;
  }
  Walk wm(mask.ndim, mask.shape, 1);
  wm.set(0, mask.data, mask.strides, 1);
  wm.collapse();
  dispatch_size(dtype_size(src.dtype), [&](auto tag) {
    using U = typename decltype(tag)::type;
    U* o = reinterpret_cast<U*>(out.data);
    const int64_t so = out.strides[0];
    two_pass(
        w.total, out.shape[0], [&](int64_t b, int64_t e) { return count_range<uint8_t>(wm, b, e); },
        [&](int64_t b, int64_t e, int64_t row, int64_t stop) {
          U* dst = o + row * so;
          U* const end = o + stop * so;  // past the last row this range writes
          walk_range(w, b, e, [&](int64_t cnt, char* const* p, const int64_t* lst) {
            const U* s = reinterpret_cast<const U*>(p[0]);
            const uint8_t* m = reinterpret_cast<const uint8_t*>(p[1]);
            const int64_t ss = lst[0] / static_cast<int64_t>(sizeof(U)), sm = lst[1];
            if (so == 1 && ss == 1 && sm == 1) {
              // Branch-free: always store, advance on a hit. Once every row of this
              // range is written the rest are misses, and the next slot is not ours.
              for (int64_t i = 0; i < cnt && dst != end; ++i) {
                *dst = s[i];
                dst += m[i] != 0;
              }
              return dst != end;
            } else {
              for (int64_t i = 0; i < cnt; ++i)
                if (m[i * sm]) {
                  *dst = s[i * ss];
                  dst += so;
                }
            }
            return true;
          });
        });
  });
}

void copy_blocked(const View& src, const View& out) {
  bool plain = src.dtype != out.dtype || src.ndim != out.ndim || src.ndim < 2 || !out.is_contiguous();
  for (int i = 0; !plain && i < src.ndim; ++i) plain = src.shape[i] != out.shape[i];
  const int last = src.ndim - 1;
  int d = -1;
  if (!plain) {  // the source dim with the smallest stride, if it is not the last
    int64_t best = src.shape[last] > 1 ? std::abs(src.strides[last]) : INT64_MAX;
    for (int i = 0; i < last; ++i)
      if (src.shape[i] > 1 && std::abs(src.strides[i]) < best) {
        best = std::abs(src.strides[i]);
        d = i;
      }
    plain = d < 0 || src.shape[last] < 8 || src.shape[d] < 8;
  }
  if (plain) {
    cast(src, out);
    return;
  }
  constexpr int64_t kTile = 32;
  const int64_t nd_ = src.shape[d], nl = src.shape[last];
  const int64_t td = (nd_ + kTile - 1) / kTile, tl = (nl + kTile - 1) / kTile;
  // Outer dims: all but d and last.
  int outer_dims[kMaxDims], no = 0;
  int64_t outer = 1;
  for (int i = 0; i < last; ++i)
    if (i != d) {
      outer_dims[no++] = i;
      outer *= src.shape[i];
    }
  const int64_t tasks = outer * td * tl;
  if (tasks == 0) return;
  const int64_t total = outer * nd_ * nl;
  const int nt = threads_for(total);
  dispatch_size(dtype_size(src.dtype), [&](auto tag) {
    using U = typename decltype(tag)::type;
    const U* s = reinterpret_cast<const U*>(src.data);
    U* o = reinterpret_cast<U*>(out.data);
    const int64_t ssd = src.strides[d], ssl = src.strides[last], osd = out.strides[d];
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t task = 0; task < tasks; ++task) {
      int64_t rem = task;
      const int64_t jl = rem % tl;
      rem /= tl;
      const int64_t jd = rem % td;
      rem /= td;
      int64_t soff = 0, ooff = 0;
      for (int q = no - 1; q >= 0; --q) {
        const int a = outer_dims[q];
        const int64_t iv = rem % src.shape[a];
        rem /= src.shape[a];
        soff += iv * src.strides[a];
        ooff += iv * out.strides[a];
      }
      const int64_t d0 = jd * kTile, d1 = std::min(nd_, d0 + kTile);
      const int64_t l0 = jl * kTile, l1 = std::min(nl, l0 + kTile);
      for (int64_t l = l0; l < l1; ++l)
        for (int64_t i = d0; i < d1; ++i) o[ooff + i * osd + l] = s[soff + i * ssd + l * ssl];
    }
  });
}

}  // namespace corten
