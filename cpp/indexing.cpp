// Gather/scatter through index arrays, mask selection, nonzero and a blocked
// copy. Element moves only need the item size, so the copying loops are
// templated on an unsigned integer of that size; only scatter-add needs the
// real dtype.
#include "indexing.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "elementwise.h"
#include "parallel.h"
#include "strided.h"

namespace corten {
namespace {

// Index walks have one operand per index array (up to ndim) plus out or values.
constexpr int kMaxOps = kMaxDims + 2;

// Operands walked together over one shape: collapsed dims with byte strides.
template <int N>
struct Walk {
  Dims<N> d;
  char* base[N];
  explicit Walk(int operands) : d(operands) {}
};

// Calls inner(count, ptrs, byte_strides) over elements [begin, end) in C order;
// inner returns false to stop early.
template <int N, class Inner>
void walk_range(const Walk<N>& w, int64_t begin, int64_t end, Inner&& inner) {
  for_each_run(w.d, begin, end, [&](int64_t cnt, const int64_t* off, const int64_t* st) {
    char* p[N] = {};  // initialised: GCC cannot see that nops <= N fills every slot read
    for (int k = 0; k < w.d.nops; ++k) p[k] = w.base[k] + off[k];
    return inner(cnt, p, st);
  });
}

// Views of one shape walked together (byte strides).
template <int N>
Walk<N> same_shape_walk(const View* const* vs) {
  Walk<N> w(N);
  for (int k = 0; k < N; ++k) w.base[k] = vs[k]->data;
  for (int i = 0; i < vs[0]->ndim; ++i) {
    int64_t s[N];
    for (int k = 0; k < N; ++k) s[k] = vs[k]->strides[i] * dtype_size(vs[k]->dtype);
    w.d.push(vs[0]->shape[i], s);
  }
  collapse_dims(w.d);
  return w;
}

// The "rest" block copied per index position: dims a.shape[a0:] against
// b.shape[b0:], element strides of the two sides.
Dims<2> make_block(const View& a, int a0, const View& b, int b0) {
  Dims<2> blk;
  for (int i = 0; a0 + i < a.ndim; ++i) {
    const int64_t s[2] = {a.strides[a0 + i], b.strides[b0 + i]};
    blk.push(a.shape[a0 + i], s);
  }
  collapse_dims(blk);
  return blk;
}

// f(a_elem*, b_elem*) for every element of the block.
template <class T, class F>
void for_block(const Dims<2>& blk, T* a, T* b, F&& f) {
  if (blk.nd == 1) {  // the common case (a row): no walk
    const Dim<2>& d = blk.d[0];
    for (int64_t j = 0; j < d.n; ++j) f(a + j * d.s[0], b + j * d.s[1]);
    return;
  }
  for_each_run(blk, 0, blk.total, [&](int64_t cnt, const int64_t* off, const int64_t* st) {
    T* pa = a + off[0];
    T* pb = b + off[1];
    for (int64_t j = 0; j < cnt; ++j) f(pa + j * st[0], pb + j * st[1]);
  });
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
Walk<kMaxOps> index_walk(const View& other, const std::vector<View>& idx) {
  const View& i0 = idx[0];
  const int n = static_cast<int>(idx.size()) + 1;
  Walk<kMaxOps> w(n);
  w.base[0] = other.data;
  for (int j = 1; j < n; ++j) w.base[j] = idx[j - 1].data;
  const int64_t es = dtype_size(other.dtype);
  for (int i = 0; i < i0.ndim; ++i) {
    int64_t s[kMaxOps];
    s[0] = other.strides[i] * es;
    for (int j = 1; j < n; ++j) s[j] = idx[j - 1].strides[i] * 8;
    w.d.push(i0.shape[i], s);
  }
  collapse_dims(w.d);
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

void gather(const View& src, const std::vector<View>& idx, const OutView& out, const std::vector<int64_t>& axes) {
  check_indices(src, idx, axes, "gather");
  const size_t k = idx.size();
  const int nb = idx[0].ndim;
  check_rest(src, static_cast<int>(k), out, nb, "gather", "output");
  for (int i = 0; i < nb; ++i)
    if (out.shape[i] != idx[0].shape[i]) throw std::invalid_argument("gather: output shape does not match the index");
  const Walk<kMaxOps> w = index_walk(out, idx);
  const Dims<2> blk = make_block(src, static_cast<int>(k), out, nb);
  const int64_t total = w.d.total;
  if (total == 0) return;
  const int nt = threads_for(total * std::max<int64_t>(blk.total, 1), 1 << 15);
  std::vector<BadIndex> bads(nt);  // per part: the first bad index in it
  dispatch_bits(src.dtype, [&](auto tag) {
    using U = typename decltype(tag)::type;
    const U* sdata = reinterpret_cast<const U*>(src.data);
    parallel_parts(total, nt, [&](int64_t part, int64_t b, int64_t e) {
      BadIndex& bad = bads[part];
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
        } else if (blk.nd == 1 && blk.d[0].s[0] == 1 && blk.d[0].s[1] == 1) {
          // Whole contiguous rows (a batch of samples, embedding rows): one memcpy each,
          // with the rows kAhead further on already requested. Random rows of a large
          // dataset miss every cache, and one row's misses alone leave the memory
          // system mostly idle. Indices are still checked in order.
          constexpr int64_t kAhead = 4;
          const size_t bytes = static_cast<size_t>(blk.d[0].n) * sizeof(U);
          const size_t ask = std::min<size_t>(bytes, 4096);  // longer rows: the hardware prefetcher streams them
          int64_t offs[kAhead];
          auto request = [&](int64_t j) {
            int64_t off;
            if (!index_offset(p, j, lst, src, k, off, bad)) {
              bad.pos = pos + j;
              return false;
            }
            offs[j % kAhead] = off;
            const char* row = reinterpret_cast<const char*>(sdata + off);
            for (size_t c = 0; c < ask; c += 64) __builtin_prefetch(row + c);
            return true;
          };
          for (int64_t j = 0; j < std::min(kAhead, cnt); ++j)
            if (!request(j)) return false;
          for (int64_t i = 0; i < cnt; ++i) {
            const int64_t off = offs[i % kAhead];  // read before request(i + kAhead) reuses the slot
            if (i + kAhead < cnt && !request(i + kAhead)) return false;
            std::memcpy(o + i * so, sdata + off, bytes);
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
    });
  });
  for (const BadIndex& bad : bads)
    if (bad.pos >= 0) throw_bad(bad, src, axes);
}

void scatter(const OutView& dst, const std::vector<View>& idx, const View& values, bool accumulate,
             const std::vector<int64_t>& axes) {
  check_indices(dst, idx, axes, "scatter");
  const size_t k = idx.size();
  const int nb = idx[0].ndim;
  check_rest(dst, static_cast<int>(k), values, nb, "scatter", "values");
  for (int i = 0; i < nb; ++i)
    if (values.shape[i] != idx[0].shape[i])
      throw std::invalid_argument("scatter: values shape " + shape_str(values) + " does not match the index shape " +
                                  shape_str(idx[0]));
  const Walk<kMaxOps> w = index_walk(values, idx);
  const int64_t total = w.d.total;
  if (total == 0) return;
  // Check every index before writing anything.
  BadIndex bad;
  int64_t pos = 0;
  walk_range(w, 0, total, [&](int64_t cnt, char* const* p, const int64_t* lst) {
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
  const Dims<2> blk = make_block(dst, static_cast<int>(k), values, nb);
  if (blk.total == 0) return;
  dispatch_dtype_or_complex(dst.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* ddata = reinterpret_cast<T*>(dst.data);
    walk_range(w, 0, total, [&](int64_t cnt, char* const* p, const int64_t* lst) {
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

template <class T>
int64_t count_range(const Walk<1>& w, int64_t b, int64_t e) {
  int64_t c = 0;
  walk_range(w, b, e, [&](int64_t cnt, char* const* p, const int64_t* lst) {
    const T* x = reinterpret_cast<const T*>(p[0]);
    const int64_t s = lst[0] / static_cast<int64_t>(sizeof(T));
    for (int64_t i = 0; i < cnt; ++i) c += x[i * s] != T(0);
    return true;
  });
  return c;
}

// Elements per thread below which counting stays on one thread.
constexpr int64_t kCountGrain = 1 << 16;

// Counts hits with count(b, e) on fixed parts of [0, total), then has
// write(b, e, start, stop) fill output rows [start, stop) for each part.
// Throws unless the hits number `expect`; returns that number.
template <class Count, class Write>
int64_t two_pass(int64_t total, int64_t expect, Count&& count, Write&& write) {
  const int parts = threads_for(total, kCountGrain);
  std::vector<int64_t> counts(parts + 1, 0);
  parallel_parts(total, parts, [&](int64_t q, int64_t b, int64_t e) { counts[q + 1] = count(b, e); });
  for (int q = 0; q < parts; ++q) counts[q + 1] += counts[q];
  if (counts[parts] != expect)
    throw std::invalid_argument("output of length " + std::to_string(expect) + " does not match the " +
                                std::to_string(counts[parts]) + " selected elements");
  parallel_parts(total, parts, [&](int64_t q, int64_t b, int64_t e) { write(b, e, counts[q], counts[q + 1]); });
  return expect;
}

}  // namespace

int64_t count_nonzero(const View& x) {
  const View* vs[] = {&x};
  const Walk<1> w = same_shape_walk<1>(vs);
  const int64_t total = w.d.total;
  if (total == 0) return 0;
  return dispatch_dtype(x.dtype, [&](auto tag) -> int64_t {
    using T = typename decltype(tag)::type;
    const int parts = threads_for(total, kCountGrain);
    std::vector<int64_t> counts(parts, 0);
    parallel_parts(total, parts, [&](int64_t q, int64_t b, int64_t e) { counts[q] = count_range<T>(w, b, e); });
    int64_t n = 0;
    for (int64_t c : counts) n += c;
    return n;
  });
}

void nonzero(const View& x, const OutView& out) {
  require_dtype(out, DType::Int64, "nonzero", "output");
  if (out.ndim != 2 || out.shape[1] != x.ndim)
    throw std::invalid_argument("nonzero: output must have shape (n, " + std::to_string(x.ndim) + "), got " +
                                shape_str(out));
  const View* vs[] = {&x};
  const Walk<1> w = same_shape_walk<1>(vs);
  if (w.d.total == 0) {
    if (out.shape[0] != 0) throw std::invalid_argument("nonzero: output length does not match");
    return;
  }
  Dims<1> coords;  // x's own dims, uncollapsed: the walker's idx are the coordinates
  for (int d = 0; d < x.ndim; ++d) coords.push(x.shape[d], &x.strides[d]);
  int64_t* o = reinterpret_cast<int64_t*>(out.data);
  const int64_t so0 = out.strides[0], so1 = out.strides[1];
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* base = reinterpret_cast<const T*>(x.data);
    two_pass(
        w.d.total, out.shape[0], [&](int64_t b, int64_t e) { return count_range<T>(w, b, e); },
        [&](int64_t b, int64_t e, int64_t row, int64_t) {
          Walker<1> at(coords);
          at.seek(b);
          for (int64_t i = b; i < e; ++i, at.next()) {
            if (base[at.off[0]] == T(0)) continue;
            for (int d = 0; d < x.ndim; ++d) o[row * so0 + d * so1] = at.idx[d];
            ++row;
          }
        });
  });
}

void masked_select(const View& src, const View& mask, const OutView& out) {
  require_dtype(mask, DType::Bool, "masked_select", "mask");
  bool same = src.ndim == mask.ndim && out.ndim == 1 && out.dtype == src.dtype;
  for (int i = 0; same && i < src.ndim; ++i) same = src.shape[i] == mask.shape[i];
  if (!same)
    throw std::invalid_argument("masked_select: mask " + shape_str(mask) + " must match the source " +
                                shape_str(src) + " and the output must be 1-D of the source dtype");
  const View* both[] = {&src, &mask};
  const Walk<2> w = same_shape_walk<2>(both);
  if (w.d.total == 0) {  // nothing selected: the output must be empty too
    if (out.shape[0] != 0)
      throw std::invalid_argument("masked_select: output of length " + std::to_string(out.shape[0]) +
                                  " does not match the 0 selected elements");
    return;
  }
  const View* just_mask[] = {&mask};
  const Walk<1> wm = same_shape_walk<1>(just_mask);
  dispatch_bits(src.dtype, [&](auto tag) {
    using U = typename decltype(tag)::type;
    U* o = reinterpret_cast<U*>(out.data);
    const int64_t so = out.strides[0];
    two_pass(
        w.d.total, out.shape[0], [&](int64_t b, int64_t e) { return count_range<uint8_t>(wm, b, e); },
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

void copy_blocked(const View& src, const OutView& out) {
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
  Dims<2> outer;  // all dims but d and last: strides of src and out
  for (int i = 0; i < last; ++i)
    if (i != d) {
      const int64_t st[2] = {src.strides[i], out.strides[i]};
      outer.push(src.shape[i], st);
    }
  collapse_dims(outer);
  const int64_t tasks = outer.total * td * tl;
  if (tasks == 0) return;
  const int nt = threads_for(outer.total * nd_ * nl);
  dispatch_bits(src.dtype, [&](auto tag) {
    using U = typename decltype(tag)::type;
    const U* s = reinterpret_cast<const U*>(src.data);
    U* o = reinterpret_cast<U*>(out.data);
    const int64_t ssd = src.strides[d], ssl = src.strides[last], osd = out.strides[d];
    parallel_ranges(tasks, nt, [&](int64_t first, int64_t end) {
      Walker<2> w(outer);
      for (int64_t task = first; task < end; ++task) {
        const int64_t jl = task % tl, jd = (task / tl) % td;
        w.seek(task / tl / td);
        const int64_t soff = w.off[0], ooff = w.off[1];
        const int64_t d0 = jd * kTile, d1 = std::min(nd_, d0 + kTile);
        const int64_t l0 = jl * kTile, l1 = std::min(nl, l0 + kTile);
        for (int64_t l = l0; l < l1; ++l)
          for (int64_t i = d0; i < d1; ++i) o[ooff + i * osd + l] = s[soff + i * ssd + l * ssl];
      }
    });
  });
}

}  // namespace corten
