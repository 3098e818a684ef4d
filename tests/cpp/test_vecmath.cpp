// Accuracy and special-value tests for cpp/vecmath.h.
//
// Built and run by `make ctest` (tests/cpp/CMakeLists.txt: portable and AVX2/FMA
// builds, every 613th float); by hand, from the repository root:
//   g++ -std=c++17 -O3 -mavx2 -mfma -fopenmp -Wall -Wextra -Icpp tests/cpp/test_vecmath.cpp -o /tmp/test_vecmath && /tmp/test_vecmath
// Options: --full tests all 2^32 float inputs (~10 minutes on 2 cores);
// the default takes every 61st bit pattern (~70M inputs per function),
// --stride N every Nth;
// --only NAME restricts the accuracy sweep to one function.
// Also worth running with plain -O3 (SSE2 build) and -ffp-contract=off/fast.
//
// float results are compared with the double-precision libm result (its error
// is far below a float ulp); double results with the long double libm.
// The functions are called from simple loops so the vectorised code is what
// gets tested. Exit status is non-zero on failure.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "vecmath.h"

using namespace corten;

namespace {

#define LOOPS(name)                                                                    \
  __attribute__((noinline)) void loop_##name(const float* a, float* o, int64_t n) {   \
    for (int64_t i = 0; i < n; ++i) o[i] = vm::name(a[i]);                              \
  }                                                                                    \
  __attribute__((noinline)) void loop_##name(const double* a, double* o, int64_t n) { \
    for (int64_t i = 0; i < n; ++i) o[i] = vm::name(a[i]);                              \
  }
LOOPS(exp) LOOPS(expm1) LOOPS(log) LOOPS(log1p) LOOPS(tanh) LOOPS(sigmoid) LOOPS(sin) LOOPS(cos)
#undef LOOPS

double ref_sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }
long double ref_sigmoidl(long double x) {
  return x >= 0 ? 1.0L / (1.0L + std::exp(-x)) : std::exp(x) / (1.0L + std::exp(x));
}

struct Fn {
  const char* name;
  void (*vf)(const float*, float*, int64_t);
  void (*vd)(const double*, double*, int64_t);
  double (*rf)(double);
  long double (*rd)(long double);
  double max_ulp_f;  // pass thresholds
  double max_ulp_d;
};

#define FN(name, rf, rd, uf, ud)                                                                \
  Fn {                                                                                          \
    #name, static_cast<void (*)(const float*, float*, int64_t)>(loop_##name),                   \
        static_cast<void (*)(const double*, double*, int64_t)>(loop_##name), rf, rd, uf, ud     \
  }

double r_exp(double x) { return std::exp(x); }
double r_expm1(double x) { return std::expm1(x); }
double r_log(double x) { return std::log(x); }
double r_log1p(double x) { return std::log1p(x); }
double r_tanh(double x) { return std::tanh(x); }
double r_sin(double x) { return std::sin(x); }
double r_cos(double x) { return std::cos(x); }
long double rl_exp(long double x) { return std::exp(x); }
long double rl_expm1(long double x) { return std::expm1(x); }
long double rl_log(long double x) { return std::log(x); }
long double rl_log1p(long double x) { return std::log1p(x); }
long double rl_tanh(long double x) { return std::tanh(x); }
long double rl_sin(long double x) { return std::sin(x); }
long double rl_cos(long double x) { return std::cos(x); }

const Fn kFns[] = {
    FN(exp, r_exp, rl_exp, 2, 4),         FN(expm1, r_expm1, rl_expm1, 2, 4),
    FN(log, r_log, rl_log, 2, 4),         FN(log1p, r_log1p, rl_log1p, 2, 4),
    FN(tanh, r_tanh, rl_tanh, 2.1, 4),      FN(sigmoid, ref_sigmoid, ref_sigmoidl, 3, 4),
    FN(sin, r_sin, rl_sin, 2, 4),         FN(cos, r_cos, rl_cos, 2, 4),
};

// ulp of the float nearest to v (subnormal spacing below FLT_MIN).
double ulp_f(double v) {
  int e;
  std::frexp(v, &e);  // v = m * 2^e, m in [0.5, 1)
  return std::ldexp(1.0, (e - 1 < -126 ? -126 : e - 1) - 23);
}
long double ulp_d(long double v) {
  int e;
  std::frexp(v, &e);
  return std::ldexp(1.0L, (e - 1 < -1022 ? -1022 : e - 1) - 52);
}

struct Stats {
  double max_ulp = 0;
  double worst_x = 0;
  int64_t bad_special = 0;  // NaN/inf/signed-zero mismatches
  double bad_x = 0;
  int64_t n = 0;
  void merge(const Stats& o) {
    if (o.max_ulp > max_ulp) { max_ulp = o.max_ulp; worst_x = o.worst_x; }
    if (o.bad_special && !bad_special) bad_x = o.bad_x;
    bad_special += o.bad_special;
    n += o.n;
  }
};

template <class T, class R>
void score(Stats& st, T x, T y, R ref, bool finite_ulp_from_float) {
  ++st.n;
  const T rt = static_cast<T>(ref);  // correctly rounded (up to ref error)
  bool bad = false;
  double err = 0;
  if (std::isnan(ref) || std::isnan(y)) {
    bad = std::isnan(ref) != std::isnan(y);
  } else if (std::isinf(rt) || std::isinf(y)) {
    bad = rt != y;
  } else {
    if (rt == 0 && y == 0 && std::signbit(rt) != std::signbit(y)) bad = true;
    const R u = finite_ulp_from_float ? static_cast<R>(ulp_f(static_cast<double>(rt)))
                                      : static_cast<R>(ulp_d(static_cast<long double>(rt)));
    err = static_cast<double>(std::fabs(static_cast<R>(y) - ref) / u);
  }
  if (bad) {
    if (!st.bad_special) st.bad_x = static_cast<double>(x);
    ++st.bad_special;
  }
  if (err > st.max_ulp) { st.max_ulp = err; st.worst_x = static_cast<double>(x); }
}

Stats test_float(const Fn& f, uint64_t stride) {
  Stats total;
  const int64_t kBlock = 1 << 16;
  const uint64_t count = ((1ull << 32) + stride - 1) / stride;
  const int64_t nblocks = static_cast<int64_t>((count + kBlock - 1) / kBlock);
#pragma omp parallel
  {
    Stats st;
    std::vector<float> xs(kBlock), ys(kBlock);
#pragma omp for schedule(dynamic, 16)
    for (int64_t b = 0; b < nblocks; ++b) {
      int64_t m = 0;
      for (; m < kBlock; ++m) {
        const uint64_t idx = static_cast<uint64_t>(b * kBlock + m);
        if (idx >= count) break;
        const uint32_t u = static_cast<uint32_t>(idx * stride);
        std::memcpy(&xs[m], &u, 4);
      }
      f.vf(xs.data(), ys.data(), m);
      for (int64_t i = 0; i < m; ++i) score<float, double>(st, xs[i], ys[i], f.rf(xs[i]), true);
    }
#pragma omp critical
    total.merge(st);
  }
  return total;
}

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Doubles: random bit patterns (whole domain) plus uniform samples on
// [-40, 40] and log-uniform magnitudes in [2^-60, 2^12] where the functions
// do their interesting work.
Stats test_double(const Fn& f, int64_t n) {
  Stats total;
  const int64_t kBlock = 1 << 14;
  const int64_t nblocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel
  {
    Stats st;
    std::vector<double> xs(kBlock), ys(kBlock);
#pragma omp for schedule(dynamic, 4)
    for (int64_t b = 0; b < nblocks; ++b) {
      uint64_t s = static_cast<uint64_t>(b) * 7919u + 12345u;
      for (int64_t i = 0; i < kBlock; ++i) {
        const uint64_t r = splitmix(s);
        const double uni = static_cast<double>(r >> 11) * 0x1p-53;
        switch (i % 3) {
          case 0: std::memcpy(&xs[i], &r, 8); break;
          case 1: xs[i] = (uni - 0.5) * 80.0; break;
          default: xs[i] = ((r & 1) ? -1.0 : 1.0) * std::exp2(-60.0 + 72.0 * uni); break;
        }
      }
      f.vd(xs.data(), ys.data(), kBlock);
      for (int64_t i = 0; i < kBlock; ++i)
        score<double, long double>(st, xs[i], ys[i], f.rd(static_cast<long double>(xs[i])), false);
    }
#pragma omp critical
    total.merge(st);
  }
  return total;
}

int g_failures = 0;

template <class T>
void expect(const char* what, T got, T want) {
  const bool ok = (std::isnan(want) && std::isnan(got)) ||
                  (got == want && std::signbit(got) == std::signbit(want)) ||
                  (std::isfinite(want) && want != 0 &&
                   std::fabs(got - want) <= 4 * std::numeric_limits<T>::epsilon() * std::fabs(want));
  if (!ok) {
    ++g_failures;
    std::printf("FAIL %-28s got %.9g want %.9g\n", what, static_cast<double>(got), static_cast<double>(want));
  }
}

template <class T>
T call(void (*fn)(const T*, T*, int64_t), T x) {
  T y;
  fn(&x, &y, 1);
  return y;
}

template <class T>
void special_values() {
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const T tiny = std::numeric_limits<T>::denorm_min(), eps = std::numeric_limits<T>::epsilon();
  using F = void (*)(const T*, T*, int64_t);
  const F exp_ = loop_exp, expm1_ = loop_expm1, log_ = loop_log, log1p_ = loop_log1p;
  const F tanh_ = loop_tanh, sig_ = loop_sigmoid, sin_ = loop_sin, cos_ = loop_cos;
  for (F fn : {exp_, expm1_, log_, log1p_, tanh_, sig_, sin_, cos_}) expect("f(NaN) is NaN", call(fn, nan), nan);
  expect("exp(+inf)", call(exp_, inf), inf);
  expect("exp(-inf)", call(exp_, -inf), T(0));
  expect("exp(1000) overflow", call(exp_, T(1000)), inf);
  expect("exp(-1000) underflow", call(exp_, T(-1000)), T(0));
  expect("exp(0)", call(exp_, T(0)), T(1));
  expect("exp(1)", call(exp_, T(1)), T(std::exp(1.0L)));
  expect("expm1(+inf)", call(expm1_, inf), inf);
  expect("expm1(-inf)", call(expm1_, -inf), T(-1));
  expect("expm1(-0)", call(expm1_, T(-0.0)), T(-0.0));
  expect("expm1(1e-30)", call(expm1_, T(1e-30)), T(1e-30));
  expect("expm1(eps)", call(expm1_, eps), T(std::expm1(static_cast<long double>(eps))));
  expect("expm1(denorm)", call(expm1_, tiny), tiny);
  expect("log(0)", call(log_, T(0)), -inf);
  expect("log(-0)", call(log_, T(-0.0)), -inf);
  expect("log(-1)", call(log_, T(-1)), nan);
  expect("log(-inf)", call(log_, -inf), nan);
  expect("log(inf)", call(log_, inf), inf);
  expect("log(1)", call(log_, T(1)), T(0));
  expect("log(denorm_min)", call(log_, tiny), T(std::log(static_cast<long double>(tiny))));
  expect("log1p(-1)", call(log1p_, T(-1)), -inf);
  expect("log1p(-2)", call(log1p_, T(-2)), nan);
  expect("log1p(inf)", call(log1p_, inf), inf);
  expect("log1p(-0)", call(log1p_, T(-0.0)), T(-0.0));
  expect("log1p(1e-30)", call(log1p_, T(1e-30)), T(1e-30));
  expect("log1p(max)", call(log1p_, std::numeric_limits<T>::max()),
         T(std::log(static_cast<long double>(std::numeric_limits<T>::max()))));
  expect("tanh(+inf)", call(tanh_, inf), T(1));
  expect("tanh(-inf)", call(tanh_, -inf), T(-1));
  expect("tanh(-0)", call(tanh_, T(-0.0)), T(-0.0));
  expect("tanh(1e-30)", call(tanh_, T(1e-30)), T(1e-30));
  expect("tanh(-denorm)", call(tanh_, -tiny), -tiny);
  expect("tanh(100)", call(tanh_, T(100)), T(1));
  expect("sigmoid(-1e4)", call(sig_, T(-1e4)), T(0));
  expect("sigmoid(1e4)", call(sig_, T(1e4)), T(1));
  expect("sigmoid(0)", call(sig_, T(0)), T(0.5));
  expect("sigmoid(-inf)", call(sig_, -inf), T(0));
  expect("sigmoid(inf)", call(sig_, inf), T(1));
  expect("sigmoid(-100)", call(sig_, T(-100)), T(std::exp(-100.0L) / (1 + std::exp(-100.0L))));
  expect("sin(inf)", call(sin_, inf), nan);
  expect("cos(-inf)", call(cos_, -inf), nan);
  expect("sin(-0)", call(sin_, T(-0.0)), T(-0.0));
  expect("cos(0)", call(cos_, T(0)), T(1));
  expect("sin(1e30)", call(sin_, T(1e30)), T(std::sin(static_cast<long double>(T(1e30)))));
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t stride = 61;
  const char* only = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--full") == 0) {
      stride = 1;
    } else if (std::strcmp(argv[i], "--stride") == 0 && i + 1 < argc) {
      stride = std::strtoull(argv[++i], nullptr, 10);
      if (stride == 0) {
        std::printf("--stride must be a positive integer\n");
        return 2;
      }
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else if (std::strcmp(argv[i], "--inject-failure") == 0) {
      ++g_failures;  // lets ctest verify that a failure gives a non-zero exit status
      std::printf("FAIL injected failure\n");
    } else {
      std::printf("unknown argument %s\n", argv[i]);
      return 2;
    }
  }

  special_values<float>();
  special_values<double>();

  std::printf("%-8s %14s %16s %6s | %14s %24s %6s\n", "fn", "f32 max ulp", "at x", "bad", "f64 max ulp",
              "at x", "bad");
  for (const Fn& f : kFns) {
    if (only && std::strcmp(only, f.name) != 0) continue;
    const Stats sf = test_float(f, stride);
    const Stats sd = test_double(f, 1 << 23);
    std::printf("%-8s %14.3f %16.9g %6lld | %14.3f %24.17g %6lld\n", f.name, sf.max_ulp, sf.worst_x,
                static_cast<long long>(sf.bad_special), sd.max_ulp, sd.worst_x,
                static_cast<long long>(sd.bad_special));
    if (sf.bad_special) std::printf("  first f32 special-value mismatch at x = %.9g\n", sf.bad_x);
    if (sd.bad_special) std::printf("  first f64 special-value mismatch at x = %.17g\n", sd.bad_x);
    std::fflush(stdout);
    if (sf.max_ulp > f.max_ulp_f || sd.max_ulp > f.max_ulp_d || sf.bad_special || sd.bad_special) {
      ++g_failures;
      std::printf("FAIL %s accuracy\n", f.name);
    }
  }
  std::printf(g_failures ? "%d FAILURES\n" : "all passed\n", g_failures);
  return g_failures ? 1 : 0;
}
