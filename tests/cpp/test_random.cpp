// Tests for cpp/random.{h,cpp}: Philox known-answer vectors, independence of
// results from thread count and chunking, and distribution sanity checks
// (moments, Kolmogorov-Smirnov distance, chi-square for integers).
//
// Built and run by `make ctest` (tests/cpp/CMakeLists.txt); by hand, from the repository root:
//   g++ -std=c++17 -O3 -mavx2 -mfma -fopenmp -Wall -Wextra -Icpp cpp/random.cpp cpp/parallel.cpp tests/cpp/test_random.cpp -o /tmp/test_random && /tmp/test_random
// Exit status is non-zero on failure.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>
#include <vector>

#include "parallel.h"
#include "random.h"

using namespace corten;

namespace {

int g_failures = 0;

void check(bool ok, const char* what, double got = NAN, double want = NAN) {
  if (!ok) {
    ++g_failures;
    std::printf("FAIL %s (got %.10g, want %.10g)\n", what, got, want);
  }
}

void known_answers() {
  // Random123 kat_vectors for philox4x32-10: counter, key -> output.
  struct Kat { std::array<uint32_t, 4> ctr; std::array<uint32_t, 2> key; std::array<uint32_t, 4> out; };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Kat& k : kats) check(philox4x32_10(k.ctr, k.key) == k.out, "philox4x32_10 known answer");
}

// Runs gen(out, n, offset) with 1, 2, 3 and 8 threads and in irregular pieces;
// all must agree bit for bit.
template <class T>
void check_deterministic(const char* name, const std::function<void(T*, int64_t, uint64_t)>& gen) {
  const int64_t n = 1 << 18;
  const uint64_t off = 12345;
  std::vector<T> a(n), b(n), c(n);
  set_num_threads(1);
  gen(a.data(), n, off);
  char msg[128];
  for (int nt : {2, 3, 8}) {
    set_num_threads(nt);
    std::fill(b.begin(), b.end(), T(0));
    gen(b.data(), n, off);
    std::snprintf(msg, sizeof msg, "%s: 1 vs %d threads identical", name, nt);
    check(std::memcmp(a.data(), b.data(), n * sizeof(T)) == 0, msg);
  }
  // pieces starting at odd offsets, including pieces below and above the
  // parallel threshold
  const int64_t cuts[] = {0, 1, 3, 4, 7, 1000, 4099, 70001, 200003, n};
  for (size_t i = 0; i + 1 < sizeof(cuts) / sizeof(cuts[0]); ++i)
    gen(c.data() + cuts[i], cuts[i + 1] - cuts[i], off + static_cast<uint64_t>(cuts[i]));
  std::snprintf(msg, sizeof msg, "%s: chunked call identical", name);
  check(std::memcmp(a.data(), c.data(), n * sizeof(T)) == 0, msg);
}

struct Moments { double mean, var, skew, kurt; };
template <class T>
Moments moments(const std::vector<T>& v) {
  double m = 0;
  for (T x : v) m += static_cast<double>(x);
  m /= static_cast<double>(v.size());
  double m2 = 0, m3 = 0, m4 = 0;
  for (T x : v) {
    const double d = static_cast<double>(x) - m;
    m2 += d * d; m3 += d * d * d; m4 += d * d * d * d;
  }
  const double n = static_cast<double>(v.size());
  m2 /= n; m3 /= n; m4 /= n;
  return {m, m2, m3 / std::pow(m2, 1.5), m4 / (m2 * m2) - 3.0};
}

// Kolmogorov-Smirnov distance between the sample and a CDF.
template <class T>
double ks(std::vector<T> v, const std::function<double(double)>& cdf) {
  std::sort(v.begin(), v.end());
  const double n = static_cast<double>(v.size());
  double d = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const double f = cdf(static_cast<double>(v[i]));
    d = std::max(d, std::max(f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f));
  }
  return d;
}

template <class T>
void uniform_tests() {
  const int64_t n = 1 << 22;
  std::vector<T> v(n);
  random_uniform(v.data(), n, 42, 0, T(-2), T(3));
  const Moments mo = moments(v);
  const double se = std::sqrt(25.0 / 12.0 / n);
  check(std::fabs(mo.mean - 0.5) < 5 * se, "uniform mean", mo.mean, 0.5);
  check(std::fabs(mo.var / (25.0 / 12.0) - 1) < 5 * std::sqrt(0.8 / n), "uniform var", mo.var, 25.0 / 12.0);
  check(*std::min_element(v.begin(), v.end()) >= T(-2), "uniform >= lo");
  check(*std::max_element(v.begin(), v.end()) < T(3), "uniform < hi");
  const double d = ks(v, [](double x) { return (x + 2) / 5; });
  check(d < 1.95 / std::sqrt(static_cast<double>(n)), "uniform KS distance (0.1% level)", d);
  // narrow interval where lo + span * u rounds up to hi for u near 1
  const T lo = T(1), hi = std::nextafter(std::nextafter(T(1), T(2)), T(2));
  random_uniform(v.data(), n, 7, 0, lo, hi);
  bool in = true;
  for (T x : v) in &= (x >= lo && x < hi);
  check(in, "uniform never returns hi on a 2-ulp interval");
}

template <class T>
void normal_tests() {
  const int64_t n = 1 << 22;
  std::vector<T> v(n);
  random_normal(v.data(), n, 3, 99, T(1.5), T(2));
  const Moments mo = moments(v);
  const double sn = std::sqrt(1.0 / n);
  check(std::fabs(mo.mean - 1.5) < 5 * 2 * sn, "normal mean", mo.mean, 1.5);
  check(std::fabs(mo.var / 4 - 1) < 5 * std::sqrt(2.0) * sn, "normal var", mo.var, 4);
  check(std::fabs(mo.skew) < 5 * std::sqrt(6.0) * sn, "normal skewness", mo.skew, 0);
  check(std::fabs(mo.kurt) < 5 * std::sqrt(24.0) * sn, "normal excess kurtosis", mo.kurt, 0);
  const double d = ks(v, [](double x) { return 0.5 * std::erfc(-(x - 1.5) / 2 / std::sqrt(2.0)); });
  check(d < 1.95 / std::sqrt(static_cast<double>(n)), "normal KS distance (0.1% level)", d);
  // the pair structure must not correlate neighbours
  double c = 0;
  for (int64_t i = 0; i + 1 < n; i += 2) c += (v[i] - 1.5) * (v[i + 1] - 1.5);
  c /= (n / 2) * 4.0;
  check(std::fabs(c) < 5 * std::sqrt(2.0 / n), "normal pair correlation", c, 0);
  bool finite = true;
  for (T x : v) finite &= std::isfinite(x);
  check(finite, "normal values finite");
}

void integer_tests() {
  const int64_t n = 1 << 22;
  std::vector<int64_t> v(n);
  random_integers(v.data(), n, 5, 0, -3, 7);  // 10 values
  std::vector<double> count(10, 0);
  bool in = true;
  for (int64_t x : v) {
    in &= (x >= -3 && x < 7);
    if (x >= -3 && x < 7) count[x + 3] += 1;
  }
  check(in, "integers in [low, high)");
  double chi2 = 0;
  for (double cnt : count) chi2 += (cnt - n / 10.0) * (cnt - n / 10.0) / (n / 10.0);
  check(chi2 < 27.9, "integers chi-square, 9 dof (0.1% level)", chi2, 9);
  // full int64 span (range 2^64 - 1, the 128-bit path)
  const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  random_integers(v.data(), n, 5, 0, lo, hi);
  double mean = 0;
  int64_t neg = 0;
  for (int64_t x : v) { mean += static_cast<double>(x) / n; neg += x < 0; }
  check(std::fabs(mean) < 5 * 0x1p63 / std::sqrt(3.0 * n), "integers full-span mean", mean, 0);
  check(std::fabs(neg - n / 2.0) < 5 * std::sqrt(n / 4.0), "integers full-span sign balance", double(neg), n / 2.0);
  // range of exactly 2^32 and one above it
  random_integers(v.data(), n, 6, 0, 0, int64_t(1) << 32);
  in = true;
  for (int64_t x : v) in &= (x >= 0 && x < (int64_t(1) << 32));
  check(in, "integers range 2^32");
  random_integers(v.data(), n, 6, 0, 0, (int64_t(1) << 32) + 1);
  in = true;
  for (int64_t x : v) in &= (x >= 0 && x <= (int64_t(1) << 32));
  check(in, "integers range 2^32 + 1");
}

void bernoulli_tests() {
  const int64_t n = 1 << 22;
  std::vector<uint8_t> v(n);
  random_bernoulli(v.data(), n, 9, 0, 0.3);
  double s = 0;
  for (uint8_t x : v) s += x;
  check(std::fabs(s / n - 0.3) < 5 * std::sqrt(0.21 / n), "bernoulli frequency", s / n, 0.3);
  random_bernoulli(v.data(), n, 9, 0, 0.0);
  check(std::count(v.begin(), v.end(), 0) == n, "bernoulli p = 0");
  random_bernoulli(v.data(), n, 9, 0, 1.0);
  check(std::count(v.begin(), v.end(), 1) == n, "bernoulli p = 1");
}

void argument_checks() {
  float f;
  bool threw = false;
  try { random_uniform(&f, 1, 0, 0, 1.0f, 1.0f); } catch (const std::invalid_argument&) { threw = true; }
  check(threw, "uniform rejects lo == hi");
  int64_t i;
  threw = false;
  try { random_integers(&i, 1, 0, 0, 5, 5); } catch (const std::invalid_argument&) { threw = true; }
  check(threw, "integers rejects low == high");
}

}  // namespace

int main(int argc, char** argv) {
  // --inject-failure: one failing check and nothing else, so ctest can verify
  // that a failure gives a non-zero exit status.
  if (argc > 1 && std::strcmp(argv[1], "--inject-failure") == 0) {
    check(false, "injected failure");
    std::printf("%d FAILURES\n", g_failures);
    return g_failures ? 1 : 0;
  }
  known_answers();
  check_deterministic<float>("uniform f32", [](float* o, int64_t n, uint64_t off) { random_uniform(o, n, 1, off, -1.f, 1.f); });
  check_deterministic<double>("uniform f64", [](double* o, int64_t n, uint64_t off) { random_uniform(o, n, 1, off, -1., 1.); });
  check_deterministic<float>("normal f32", [](float* o, int64_t n, uint64_t off) { random_normal(o, n, 1, off, 0.f, 1.f); });
  check_deterministic<double>("normal f64", [](double* o, int64_t n, uint64_t off) { random_normal(o, n, 1, off, 0., 1.); });
  check_deterministic<int64_t>("integers", [](int64_t* o, int64_t n, uint64_t off) { random_integers(o, n, 1, off, -5, 1000); });
  check_deterministic<int64_t>("integers large", [](int64_t* o, int64_t n, uint64_t off) {
    random_integers(o, n, 1, off, 0, int64_t(1) << 40);
  });
  check_deterministic<uint8_t>("bernoulli", [](uint8_t* o, int64_t n, uint64_t off) { random_bernoulli(o, n, 1, off, 0.5); });
  uniform_tests<float>();
  uniform_tests<double>();
  normal_tests<float>();
  normal_tests<double>();
  integer_tests();
  bernoulli_tests();
  argument_checks();
  std::printf(g_failures ? "%d FAILURES\n" : "all passed\n", g_failures);
  return g_failures ? 1 : 0;
}
