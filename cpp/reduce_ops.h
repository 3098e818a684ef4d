// The reductions as small structs: a State, how one element (or a run of
// elements) folds into it, how two partial states merge (left then right), and
// the final value. reduce_impl.h supplies the loops. Included inside an
// anonymous namespace (standard headers first). Float sums accumulate blocks
// of 256 in float lanes and the blocks in double, so float32 sums stay accurate.
#pragma once
// Needs <cstring>, <cmath>, <limits>, <type_traits> and numeric.h included first.

namespace rops {

using ::corten::is_float;
using ::corten::wrap_add;  // integer sums and products wrap, as NumPy's
using ::corten::wrap_mul;
template <class T> using Wide = std::conditional_t<is_float<T>, double, int64_t>;  // accumulator
template <class T> using SumOut = std::conditional_t<is_float<T>, T, int64_t>;
template <class T> inline bool isnan_(T v) { return ::corten::is_nan(v); }

constexpr int kLanes = 16;

// Two 32-byte vectors of T (GCC/Clang vector extensions: AVX2 registers in
// reduce_avx2.cpp, pairs of SSE registers in the portable build).
template <class T> struct VecOf { typedef T type __attribute__((vector_size(32))); };
template <class T> using Vec = typename VecOf<T>::type;
template <class T> constexpr int kVecN = 32 / sizeof(T);
template <class T> inline Vec<T> load(const T* p) {
  Vec<T> v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Sum of n contiguous floats in 2 vectors of lanes, combined pairwise.
template <class T> inline double lane_sum(const T* p, int64_t n) {
  constexpr int L = kVecN<T>;
  Vec<T> a0 = {}, a1 = {};
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    a0 += load(p + i);
    a1 += load(p + i + L);
  }
  a0 += a1;
  T acc[L];
  std::memcpy(acc, &a0, sizeof(a0));
  for (int w = L / 2; w > 0; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  double s = acc[0];
  const T* tail = p + i;  // fewer than 2 * L elements remain
  for (int64_t j = 0, rest = n - i; j < rest; ++j) s += tail[j];
  return s;
}

template <class T> struct Sum {
  using In = T;
  using State = Wide<T>;
  using Out = SumOut<T>;
  static constexpr bool kArg = false;
  static constexpr bool kFloatRows = is_float<T>;  // rows loop may add rows in T blocks
  State init() const { return 0; }
  void add(State& s, T v, int64_t) const { s = wrap_add(s, static_cast<State>(v)); }
  void merge(State& a, const State& b) const { a = wrap_add(a, b); }
  void run(State& s, const T* p, int64_t n, int64_t st, int64_t) const {
    if constexpr (is_float<T>) {
      if (st == 1 && n >= 64) {
        int64_t i = 0;
        for (; i + 256 <= n; i += 256) s += lane_sum(p + i, 256);
        s += lane_sum(p + i, n - i);
        return;
      }
      for (int64_t i = 0; i < n; ++i) s += p[i * st];
    } else {
      int64_t acc = 0;
      if (st == 1)
        for (int64_t i = 0; i < n; ++i) acc = wrap_add(acc, static_cast<int64_t>(p[i]));
      else
        for (int64_t i = 0; i < n; ++i) acc = wrap_add(acc, static_cast<int64_t>(p[i * st]));
      s = wrap_add(s, acc);
    }
  }
  Out finish(const State& s, int64_t) const { return static_cast<Out>(s); }
};

template <class T> struct Mean : Sum<T> {
  using Out = T;
  Out finish(const typename Sum<T>::State& s, int64_t n) const { return static_cast<T>(s / double(n)); }
};

template <class T> struct Prod {
  using In = T;
  using State = Wide<T>;
  using Out = SumOut<T>;
  static constexpr bool kArg = false;
  State init() const { return 1; }
  void add(State& s, T v, int64_t) const { s = wrap_mul(s, static_cast<State>(v)); }
  void merge(State& a, const State& b) const { a = wrap_mul(a, b); }
  void run(State& s, const T* p, int64_t n, int64_t st, int64_t) const {
    for (int64_t i = 0; i < n; ++i) s = wrap_mul(s, static_cast<State>(p[i * st]));
  }
  Out finish(const State& s, int64_t) const { return static_cast<Out>(s); }
};

// Max (IsMax) or Min; NaN wins.
template <class T, bool IsMax> struct Extreme {
  using In = T;
  using State = T;
  using Out = T;
  static constexpr bool kArg = false;
  static bool better(T a, T b) { return IsMax ? a > b : a < b; }
  static T identity() {
    if constexpr (std::is_same_v<T, bool>) return !IsMax;
    else if constexpr (is_float<T>) return IsMax ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    else return IsMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
  }
  State init() const { return identity(); }
  void add(State& s, T v, int64_t) const { s = (better(v, s) || isnan_(v)) ? v : s; }
  static constexpr bool kVecRows = !std::is_same_v<T, bool>;
  // st[j] = extreme(st[j], row[j]) for a contiguous row, in vectors.
  static void add_row(T* st, const T* row, int64_t n) {
    int64_t j = 0;
    if constexpr (kVecRows) {
      constexpr int L = kVecN<T>;
      for (; j + L <= n; j += L) {
        const Vec<T> a = load(st + j), v = load(row + j);
        const Vec<T> r = ((IsMax ? v > a : v < a) | (v != v)) ? v : a;
        std::memcpy(st + j, &r, sizeof(r));
      }
    }
    for (; j < n; ++j) st[j] = (better(row[j], st[j]) || isnan_(row[j])) ? row[j] : st[j];
  }
  void merge(State& a, const State& b) const { add(a, b, 0); }
  static T pick(T a, T b) { return better(a, b) || isnan_(a) ? a : b; }
  // Extreme of s and p[0..n) (contiguous): vector compares plus a NaN mask.
  static T run_value(T s, const T* p, int64_t n) {
    int64_t i = 0;
    if constexpr (!std::is_same_v<T, bool>) {
      constexpr int L = kVecN<T>;
      if (n >= 2 * L) {
        Vec<T> a0 = load(p), a1 = load(p + L), v0, v1;
        decltype(a0 != a0) nan = (a0 != a0) | (a1 != a1);
        for (i = 2 * L; i + 2 * L <= n; i += 2 * L) {
          v0 = load(p + i);
          v1 = load(p + i + L);
          a0 = (IsMax ? v0 > a0 : v0 < a0) ? v0 : a0;
          a1 = (IsMax ? v1 > a1 : v1 < a1) ? v1 : a1;
          if constexpr (is_float<T>) nan |= (v0 != v0) | (v1 != v1);
        }
        T acc[2 * L];
        std::memcpy(acc, &a0, sizeof(a0));
        std::memcpy(acc + L, &a1, sizeof(a1));
        for (int j = 0; j < 2 * L; ++j) s = pick(acc[j], s);
        if constexpr (is_float<T>) {
          for (int j = 0; j < L; ++j)
            if (nan[j]) return std::numeric_limits<T>::quiet_NaN();
        }
      }
    }
    for (; i < n; ++i) s = pick(p[i], s);
    return s;
  }
  void run(State& s, const T* p, int64_t n, int64_t st, int64_t) const {
    if (st == 1) {
      s = run_value(s, p, n);
      return;
    }
    for (int64_t i = 0; i < n; ++i) add(s, p[i * st], 0);
  }
  Out finish(const State& s, int64_t) const { return s; }
};

// ArgMax (IsMax) or ArgMin: first occurrence; the first NaN wins.
template <class T, bool IsMax> struct ArgExtreme {
  using E = Extreme<T, IsMax>;
  using In = T;
  struct State { T v; int64_t i; };
  using Out = int64_t;
  static constexpr bool kArg = true;
  static bool takes(const State& s, T v) {
    return s.i < 0 || (!isnan_(s.v) && (E::better(v, s.v) || isnan_(v)));
  }
  State init() const { return {E::identity(), -1}; }
  void add(State& s, T v, int64_t idx) const {
    if (takes(s, v)) s = {v, idx};
  }
  void merge(State& a, const State& b) const {
    if (b.i >= 0 && takes(a, b.v)) a = b;
  }
  void run(State& s, const T* p, int64_t n, int64_t st, int64_t idx0) const {
    if (st != 1) {
      for (int64_t i = 0; i < n; ++i) add(s, p[i * st], idx0 + i);
      return;
    }
    if constexpr (sizeof(T) >= 4) {
      if (n < (int64_t{1} << 30)) return run_vec(s, p, n, idx0);
    }
    // Per block: the block's extreme (vectorised), then find it only if it wins.
    constexpr int64_t B = 256;
    for (int64_t b = 0; b < n; b += B) {
      if (s.i >= 0 && isnan_(s.v)) return;
      const int64_t m = n - b < B ? n - b : B;
      const T best = E::run_value(E::identity(), p + b, m);
      if (!takes(s, best)) continue;
      int64_t j = 0;
      if (isnan_(best)) {
        while (!isnan_(p[b + j])) ++j;
      } else {
        while (p[b + j] != best) ++j;
      }
      s = {p[b + j], idx0 + b + j};
    }
  }
  // Lanes keep their best value and its index (strict compare: first wins);
  // the lane winner with the lowest index among equals wins. NaN: rescan.
  void run_vec(State& s, const T* p, int64_t n, int64_t idx0) const {
    using I = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
    constexpr int L = kVecN<T>;
    int64_t i = 0;
    if (n >= 2 * L) {
      // Two independent lane sets (even and odd vectors) keep two chains busy.
      Vec<T> b0 = load(p), b1 = load(p + L);
      Vec<I> i0, i1, c0;
      for (int j = 0; j < L; ++j) c0[j] = j;
      i0 = c0;
      i1 = c0 + L;
      auto nan = (b0 != b0) | (b1 != b1);
      for (i = 2 * L; i + 2 * L <= n; i += 2 * L) {
        const Vec<T> v0 = load(p + i), v1 = load(p + i + L);
        c0 += 2 * L;
        const auto m0 = IsMax ? v0 > b0 : v0 < b0;
        const auto m1 = IsMax ? v1 > b1 : v1 < b1;
        b0 = m0 ? v0 : b0;
        i0 = m0 ? c0 : i0;
        b1 = m1 ? v1 : b1;
        i1 = m1 ? c0 + L : i1;
        if constexpr (is_float<T>) nan |= (v0 != v0) | (v1 != v1);
      }
      bool any_nan = false;
      for (int j = 0; j < L; ++j) any_nan = any_nan || nan[j];
      if (any_nan) {
        int64_t j = 0;
        while (!isnan_(p[j])) ++j;
        add(s, p[j], idx0 + j);
        return;
      }
      State r{b0[0], i0[0]};
      for (int j = 0; j < 2 * L; ++j) {
        const T v = j < L ? b0[j] : b1[j - L];
        const int64_t k = j < L ? i0[j] : i1[j - L];
        if (E::better(v, r.v) || (v == r.v && k < r.i)) r = {v, k};
      }
      r.i += idx0;
      merge(s, r);
    }
    for (; i < n; ++i) add(s, p[i], idx0 + i);
  }
  Out finish(const State& s, int64_t) const { return s.i < 0 ? 0 : s.i; }
};

}  // namespace rops
