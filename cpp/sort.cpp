// Sorting kernels. Every row (last axis) is sorted on its own, rows in
// parallel. Order: ascending with NaN last (NumPy), or descending with NaN
// first (PyTorch, NaN counted as the largest); equal values keep their order.
#include "sort.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <numeric>
#include <utility>
#include <vector>

#include "numeric.h"
#include "parallel.h"
#include "strided.h"

namespace corten {

namespace {

// a comes strictly before b.
template <class T> struct Before {
  bool descending;
  bool operator()(T a, T b) const {
    if (descending) return a > b || (is_nan(a) && !is_nan(b));
    return a < b || (is_nan(b) && !is_nan(a));
  }
};

// Rows of at least kRadixMin 4- or 8-byte numbers sort by a stable LSD radix
// sort of (key, index) pairs: the key maps the value to an unsigned integer in
// the same order (-0.0 as 0.0; inverted when descending). NaNs are set aside.
constexpr int64_t kRadixMin = 256;
template <class T>
constexpr bool kRadix = std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int32_t> ||
                        std::is_same_v<T, int64_t>;
template <class T> using UKey = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;

template <class T> UKey<T> radix_key(T v, bool descending) {
  using U = UKey<T>;
  constexpr U top = U(1) << (sizeof(U) * 8 - 1);
  U u;
  if constexpr (std::is_floating_point_v<T>) {
    if (v == 0) v = 0;
    std::memcpy(&u, &v, sizeof(u));
    u = (u & top) ? ~u : (u | top);
  } else {
    u = static_cast<U>(v) ^ top;
  }
  return descending ? ~u : u;
}

template <class U> struct Radix {
  static constexpr int kBits = 11;
  std::vector<std::pair<U, int64_t>> a, b;
  std::vector<int64_t> count = std::vector<int64_t>(size_t{1} << kBits);
  explicit Radix(int64_t n) : a(n), b(n) {}
  void sort(int64_t n) {  // a[0..n) by key, stable; passes where all digits agree are skipped
    if (n < 2) return;
    constexpr U mask = (U(1) << kBits) - 1;
    auto *src = a.data(), *dst = b.data();
    for (int sh = 0; sh < static_cast<int>(sizeof(U) * 8); sh += kBits) {
      std::fill(count.begin(), count.end(), 0);
      for (int64_t i = 0; i < n; ++i) ++count[(src[i].first >> sh) & mask];
      if (count[(src[0].first >> sh) & mask] == n) continue;
      int64_t sum = 0;
      for (auto& c : count) {
        const int64_t t = c;
        c = sum;
        sum += t;
      }
      for (int64_t i = 0; i < n; ++i) dst[count[(src[i].first >> sh) & mask]++] = src[i];
      std::swap(src, dst);
    }
    if (src != a.data()) std::copy(src, src + n, a.data());
  }
};

void check_out(const View& x, const View& o, bool same_len, const char* op, const char* what) {
  if (o.size() == 0 && x.size() != 0 && same_len) return;  // skipped output
  bool ok = o.ndim == x.ndim;
  for (int i = 0; ok && i < x.ndim - (same_len ? 0 : 1); ++i) ok = o.shape[i] == x.shape[i];
  if (!ok)
    throw std::invalid_argument(std::string(op) + ": " + what + " shape " + shape_str(o) +
                                " does not match input shape " + shape_str(x));
  require_writable_layout(o, op);
}

}  // namespace

void sort_last(const View& x, const OutView& values, const OutView& indices, bool descending) {
  if (x.ndim < 1) throw std::invalid_argument("sort: needs at least one dimension");
  const bool want_v = values.size() != 0 || x.size() == 0, want_i = indices.size() != 0 || x.size() == 0;
  check_out(x, values, true, "sort", "values");
  check_out(x, indices, true, "sort", "indices");
  if (want_v) require_dtype(values, x.dtype, "sort", "values");
  if (want_i) require_dtype(indices, DType::Int64, "sort", "indices");
  if (x.size() == 0) return;
  const View* vs[] = {&x, want_v ? &values : &x, want_i ? &indices : &x};
  const Dims<3> r = row_dims(vs, 3, "sort");
  const int64_t n = x.shape[x.ndim - 1];
  const int64_t sx = x.strides[x.ndim - 1], sv = values.strides[values.ndim > 0 ? values.ndim - 1 : 0],
                si = indices.strides[indices.ndim > 0 ? indices.ndim - 1 : 0];
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x.ptr<T>();
    T* vp = values.ptr<T>();
    int64_t* ip = indices.ptr<int64_t>();
    parallel_ranges(r.total, threads_for(r.total * n * 8, 1 << 14), [&](int64_t b, int64_t e) {
      Walker<3> w(r);
      w.seek(b);
      using Pair = std::pair<T, int64_t>;
      std::vector<T> buf(n);
      std::vector<Pair> pairs(want_i ? n : 0);
      Radix<UKey<T>> rx(kRadix<T> && n >= kRadixMin ? n : 0);
      std::vector<int64_t> nans;
      for (int64_t row = b; row < e; ++row, w.next()) {
        const T* xr = xp + w.off[0];
        for (int64_t j = 0; j < n; ++j) buf[j] = xr[j * sx];
        if constexpr (kRadix<T>) {
          if (n >= kRadixMin) {
            int64_t m = 0, k = 0;
            nans.clear();
            for (int64_t j = 0; j < n; ++j) {
              if (is_nan(buf[j])) nans.push_back(j);
              else rx.a[m++] = {radix_key(buf[j], descending), j};
            }
            rx.sort(m);
            auto put = [&](int64_t j) {
              if (want_i) ip[w.off[2] + k * si] = j;
              if (want_v) vp[w.off[1] + k * sv] = buf[j];
              ++k;
            };
            if (descending) for (int64_t j : nans) put(j);
            for (int64_t j = 0; j < m; ++j) put(rx.a[j].second);
            if (!descending) for (int64_t j : nans) put(j);
            continue;
          }
        }
        // NaNs move to their end first (in order), so the sort itself compares plainly.
        if (!want_i) {
          auto lo = buf.begin(), hi = buf.end();
          if (descending) lo = std::partition(lo, hi, [](T v) { return is_nan(v); });
          else hi = std::partition(lo, hi, [](T v) { return !is_nan(v); });
          if (descending) std::sort(lo, hi, [](T a, T c) { return a > c; });
          else std::sort(lo, hi);
          for (int64_t j = 0; j < n; ++j) vp[w.off[1] + j * sv] = buf[j];
          continue;
        }
        for (int64_t j = 0; j < n; ++j) pairs[j] = {buf[j], j};
        auto lo = pairs.begin(), hi = pairs.end();
        if (descending) lo = std::stable_partition(lo, hi, [](const Pair& a) { return is_nan(a.first); });
        else hi = std::stable_partition(lo, hi, [](const Pair& a) { return !is_nan(a.first); });
        if (descending) std::stable_sort(lo, hi, [](const Pair& a, const Pair& c) { return a.first > c.first; });
        else std::stable_sort(lo, hi, [](const Pair& a, const Pair& c) { return a.first < c.first; });
        for (int64_t j = 0; j < n; ++j) ip[w.off[2] + j * si] = pairs[j].second;
        if (want_v)
          for (int64_t j = 0; j < n; ++j) vp[w.off[1] + j * sv] = pairs[j].first;
      }
    });
  });
}

void topk_last(const View& x, const OutView& values, const OutView& indices, bool largest) {
  if (x.ndim < 1) throw std::invalid_argument("topk: needs at least one dimension");
  check_out(x, values, false, "topk", "values");
  check_out(x, indices, false, "topk", "indices");
  require_dtype(values, x.dtype, "topk", "values");
  require_dtype(indices, DType::Int64, "topk", "indices");
  const int64_t n = x.shape[x.ndim - 1], k = values.shape[values.ndim - 1];
  if (k > n || indices.shape[indices.ndim - 1] != k)
    throw std::invalid_argument("topk: k=" + std::to_string(k) + " does not fit a row of " + std::to_string(n));
  if (values.size() == 0) return;
  const View* vs[] = {&x, &values, &indices};
  const Dims<3> r = row_dims(vs, 3, "topk");
  const int64_t sx = x.strides[x.ndim - 1], sv = values.strides[values.ndim - 1],
                si = indices.strides[indices.ndim - 1];
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x.ptr<T>();
    T* vp = values.ptr<T>();
    int64_t* ip = indices.ptr<int64_t>();
    const Before<T> before{largest};
    parallel_ranges(r.total, threads_for(r.total * n * 2, 1 << 14), [&](int64_t b, int64_t e) {
      Walker<3> w(r);
      w.seek(b);
      std::vector<T> buf(n);
      std::vector<int64_t> perm(n);
      auto cmp = [&](int64_t a, int64_t c) {
        return before(buf[a], buf[c]) || (!before(buf[c], buf[a]) && a < c);
      };
      for (int64_t row = b; row < e; ++row, w.next()) {
        const T* xr = xp + w.off[0];
        for (int64_t j = 0; j < n; ++j) buf[j] = xr[j * sx];
        std::iota(perm.begin(), perm.end(), int64_t{0});
        std::partial_sort(perm.begin(), perm.begin() + k, perm.end(), cmp);
        for (int64_t j = 0; j < k; ++j) {
          ip[w.off[2] + j * si] = perm[j];
          vp[w.off[1] + j * sv] = buf[perm[j]];
        }
      }
    });
  });
}

int64_t unique_sorted(const View& sorted, const View& perm, const OutView& values, const OutView& counts,
                      const OutView& inverse) {
  const int64_t n = sorted.size();
  if (sorted.ndim != 1 || values.ndim != 1 || counts.ndim != 1 || values.shape[0] < n || counts.shape[0] < n)
    throw std::invalid_argument("unique: needs 1-D sorted input and outputs at least as long");
  require_dtype(values, sorted.dtype, "unique", "values");
  require_dtype(counts, DType::Int64, "unique", "counts");
  const bool inv = perm.size() != 0;
  if (inv) {
    require_dtype(perm, DType::Int64, "unique", "perm");
    require_dtype(inverse, DType::Int64, "unique", "inverse");
    if (perm.ndim != 1 || perm.shape[0] != n || inverse.size() != n || inverse.ndim != 1)
      throw std::invalid_argument("unique: perm and inverse must have the input's length");
    const int64_t* pp = perm.ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i)
      if (pp[i * perm.strides[0]] < 0 || pp[i * perm.strides[0]] >= n)
        throw std::invalid_argument("unique: perm is not a permutation");
  }
  return dispatch_dtype(sorted.dtype, [&](auto tag) -> int64_t {
    using T = typename decltype(tag)::type;
    const T* sp = sorted.ptr<T>();
    T* vp = values.ptr<T>();
    int64_t* cp = counts.ptr<int64_t>();
    const int64_t ss = sorted.strides[0], svs = values.strides[0], scs = counts.strides[0];
    int64_t runs = 0;
    for (int64_t i = 0; i < n; ++i) {
      const T v = sp[i * ss];
      if (i == 0 || !(v == sp[(i - 1) * ss] || (is_nan(v) && is_nan(sp[(i - 1) * ss])))) {
        vp[runs * svs] = v;
        cp[runs * scs] = 0;
        ++runs;
      }
      cp[(runs - 1) * scs] += 1;
      if (inv) inverse.ptr<int64_t>()[perm.ptr<int64_t>()[i * perm.strides[0]] * inverse.strides[0]] = runs - 1;
    }
    return runs;
  });
}

}  // namespace corten
