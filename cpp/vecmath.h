// Branch-free elementary functions for the element-wise kernels.
//
// std::exp and friends are opaque library calls, so a loop
// `for (i..) out[i] = std::exp(a[i]);` stays scalar. These inline versions use
// only arithmetic, bit casts and selects (`c ? a : b` with both sides already
// computed), which GCC's vectoriser turns into SIMD code at -O3 without
// -ffast-math. Special values are handled by selects at the end rather than
// early returns, for the same reason.
//
// Rules that keep them vectorisable and portable to the SSE2 baseline build:
//  * no calls other than builtins (fabs, copysign) and no branches;
//  * rounding to integer via the 1.5*2^p "shift" constant instead of rint
//    (roundps needs SSE4.1) and int64<->double via bit patterns (needs AVX-512);
//  * written to be accurate both with and without FMA contraction.
//
// Accuracy vs the correctly rounded result (tests/cpp/test_vecmath.cpp;
// float32 exhaustive over all 2^32 inputs, with and without FMA contraction;
// double on 8M samples): exp, log, sin, cos < 1 ulp; expm1, log1p < 1.5 ulp;
// tanh < 2.1 ulp, sigmoid < 2.5 ulp; double versions < 2.6 ulp.
// sin/cos for double call std::sin/std::cos (huge-argument reduction in double
// needs a multi-word 2/pi product that is not worth it here).
//
// Vectorisation (GCC 12, -O3): everything except double sin/cos vectorises
// with -mavx2 -mfma. In the SSE2 baseline only the float versions of
// exp/expm1/log/log1p/tanh/sigmoid do; double versions (64-bit masks) and
// float sin/cos (table lookups) stay scalar there but remain correct.
//
// Polynomial coefficients come from tools/vecmath_coeffs.py.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace corten {
namespace vm {
namespace detail {

inline uint32_t bits(float x) { uint32_t u; std::memcpy(&u, &x, 4); return u; }
inline uint64_t bits(double x) { uint64_t u; std::memcpy(&u, &x, 8); return u; }
inline float f32(uint32_t u) { float x; std::memcpy(&x, &u, 4); return x; }
inline double f64(uint64_t u) { double x; std::memcpy(&x, &u, 8); return x; }

// Bitwise select. A plain `c ? a : b` lets GCC sink the computation of `a`
// into a branch, and with the default -ftrapping-math it then refuses to
// if-convert (speculate) that FP code, so the loop would not vectorise.
// Even clamps to constants go through sel: inside these functions GCC
// otherwise still ends up with control flow for some of them.
inline float sel(bool c, float a, float b) {
  const uint32_t m = 0u - static_cast<uint32_t>(c);
  return f32((bits(a) & m) | (bits(b) & ~m));
}
inline double sel(bool c, double a, double b) {
  const uint64_t m = 0ull - static_cast<uint64_t>(c);
  return f64((bits(a) & m) | (bits(b) & ~m));
}

constexpr float kInfF = std::numeric_limits<float>::infinity();
constexpr double kInfD = std::numeric_limits<double>::infinity();
constexpr float kNanF = std::numeric_limits<float>::quiet_NaN();
constexpr double kNanD = std::numeric_limits<double>::quiet_NaN();

// Adding 1.5*2^23 (2^52) rounds |v| < 2^22 (2^51) to an integer that then sits
// in the low mantissa bits, so one add gives both rint(v) and its int value.
constexpr float kShiftF = 0x1.8p23f;
constexpr double kShiftD = 0x1.8p52;

// ln2 split so that k*kLn2Hi is exact for the |k| the callers produce
// (float: 15 significant bits, |k| <= 151; double: 32 bits, |k| <= 1076).
constexpr float kLn2HiF = 0x1.62e4p-1f;
constexpr float kLn2LoF = 0x1.7f7d1cp-20f;
constexpr double kLn2HiD = 0x1.62e42feep-1;
constexpr double kLn2LoD = 0x1.a39ef35793c76p-33;

// 2^n for n in the normal exponent range, built from the exponent bits.
inline float pow2i(int32_t n) { return f32(static_cast<uint32_t>(n + 127) << 23); }
inline double pow2i(int64_t n) { return f64(static_cast<uint64_t>(n + 1023) << 52); }

// e^r - 1 - r ~= r^2 * Q(r) on |r| <= ln2/2 (+1% slack).
inline float expm1_poly(float r) {
  const float q = 0.5f + r * (0.166666672f + r * (0.0416664556f + r * (0.00833331048f +
                  r * (0.00139345415f + r * 0.000198919806f))));
  return r + (r * r) * q;
}
inline double expm1_poly(double r) {
  const double r2 = r * r;
  // Estrin-style split halves the dependency chain of the degree-10 Horner.
  const double lo = 0.5 + r * (0.16666666666666671 + r * (0.041666666666666671 +
                    r * (0.0083333333333255443 + r * 0.0013888888888883327)));
  const double hi = 0.00019841269876864356 + r * (2.4801587327007187e-05 +
                    r * (2.7557252833516911e-06 + r * (2.75572718102198e-07 +
                    r * (2.5106274733573296e-08 + r * 2.0915442297780116e-09))));
  const double r4 = r2 * r2;
  return r + r2 * (lo + (r4 * r) * hi);
}

// x = k*ln2 + r with |r| <= ~ln2/2; returns r, stores k (as float and int).
// Requires |x| small enough that k fits (callers clamp first).
inline float reduce_ln2(float x, float& kf, int32_t& k) {
  const float t = x * 0x1.715476p+0f + kShiftF;
  k = static_cast<int32_t>(bits(t) - bits(kShiftF));
  kf = t - kShiftF;
  return (x - kf * kLn2HiF) - kf * kLn2LoF;
}
inline double reduce_ln2(double x, double& kd, int64_t& k) {
  const double t = x * 0x1.71547652b82fep+0 + kShiftD;
  k = static_cast<int64_t>(bits(t) - bits(kShiftD));
  kd = t - kShiftD;
  return (x - kd * kLn2HiD) - kd * kLn2LoD;
}

// log(1+f) for f in [sqrt(1/2)-1, sqrt(2)-1] via s = f/(2+f):
// log(1+f) = 2 atanh(s) = 2s + s z R(z), z = s^2, and 2s = f - s f, so
// log(1+f) = f - s (f - z R(z)); the correction term is small, so the
// result is about as accurate as f itself (which is exact).
inline float log1p_reduced(float f) {
  const float s = f / (2.0f + f);
  const float z = s * s;
  const float zr = z * (0.666666865f + z * (0.399883181f + z * 0.296007961f));
  return f - s * (f - zr);
}
inline double log1p_reduced(double f) {
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double z2 = z * z;
  const double lo = 0.66666666666666663 + z * (0.40000000000001013 +
                    z * (0.28571428570722829 + z * 0.22222222409844039));
  const double hi = 0.18181793722272505 + z * (0.15386342974308154 +
                    z * (0.13266035037261051 + z * 0.13114976096717038));
  const double zr = z * (lo + z2 * z2 * hi);
  return f - s * (f - zr);
}

// Splits a positive finite normal u as u = 2^k * m, m in [sqrt(1/2), sqrt(2)).
// Uses logical shifts only (no 64-bit arithmetic shift before AVX-512).
inline float split_log(float u, int32_t& k) {
  const uint32_t iy = bits(u) - 0x3f3504f3u + (127u << 23);  // >= 0 for normal u
  k = static_cast<int32_t>(iy >> 23) - 127;
  return f32(bits(u) - (static_cast<uint32_t>(k) << 23));
}
inline double split_log(double u, int64_t& k) {
  const uint64_t iy = bits(u) - 0x3fe6a09e667f3bcdull + (1023ull << 52);
  k = static_cast<int64_t>(iy >> 52) - 1023;
  return f64(bits(u) - (static_cast<uint64_t>(k) << 52));
}

// int64 -> double without cvtqq2pd: valid for |k| < 2^51.
inline double to_double(int64_t k) {
  return f64(bits(kShiftD) + static_cast<uint64_t>(k)) - kShiftD;
}

// e^x - 1 for x in [lo, hi] of the callers' clamps (no tiny-x fixup):
// with x = n ln2 + r, e^x - 1 = 2 * (2^(n-1) q + (2^(n-1) - 1/2)), q = e^r - 1.
// Using 2^(n-1) keeps the scale factor finite up to n = 128 (1024), and the
// final doubling is exact (or overflows to inf exactly when it should).
inline float expm1_core(float x) {
  float kf;
  int32_t k;
  const float r = reduce_ln2(x, kf, k);
  const float q = expm1_poly(r);
  const float t = pow2i(k - 1);
  return 2.0f * (t * q + (t - 0.5f));
}
inline double expm1_core(double x) {
  double kd;
  int64_t k;
  const double r = reduce_ln2(x, kd, k);
  const double q = expm1_poly(r);
  const double t = pow2i(k - 1);
  return 2.0 * (t * q + (t - 0.5));
}

// Payne-Hanek table for float sin/cos. For a float |x| = M * 2^E (M a 24-bit
// integer), x * 2/pi mod 4 only depends on R = (2/pi * 2^E) mod 4. For each
// biased exponent e >= 127 we store R as four 24-bit chunks (each exactly a
// float), starting at R's leading bit or at 2^1, whichever is lower. Smaller
// exponents reuse the e = 127 entry with M scaled down by a power of two.
struct TwoOverPiTable {
  float w[4][128];
  constexpr TwoOverPiTable() : w{} {
    // 2/pi = 0.a2f9836e 4e441529 ... (hex), 256 bits.
    constexpr uint32_t words[8] = {0xa2f9836eu, 0x4e441529u, 0xfc2757d1u, 0xf534ddc0u,
                                   0xdb629599u, 0x3c439041u, 0xfe5163abu, 0xdebbc561u};
    for (int i = 0; i < 128; ++i) {
      const int E = i + 127 - 150;
      const int q = E - 1 < 1 ? E - 1 : 1;  // position of the first stored bit
      for (int c = 0; c < 4; ++c) {
        // bit at position p (weight 2^p) of 2/pi * 2^E is bit j = E - p of 2/pi
        uint32_t chunk = 0;
        for (int b = 0; b < 24; ++b) {
          const int p = q - 24 * c - b;
          const int j = E - p;  // 1-based index after the binary point
          const uint32_t bit = (j >= 1 && j <= 256) ? (words[(j - 1) / 32] >> (31 - (j - 1) % 32)) & 1u : 0u;
          chunk = (chunk << 1) | bit;
        }
        // value = chunk * 2^(q - 24c - 23); scale exactly by repeated halving
        float v = static_cast<float>(chunk);
        int sh = q - 24 * c - 23;
        for (; sh < 0; ++sh) v *= 0.5f;
        for (; sh > 0; --sh) v *= 2.0f;
        w[c][i] = v;
      }
    }
  }
};
inline constexpr TwoOverPiTable kTwoOverPi{};

inline double rint_shift(double v) { return (v + kShiftD) - kShiftD; }

// For finite float x: |x| * 2/pi = n + f with n mod 4 in quad (0..3 as double)
// and f in [-1/2, 1/2] accurate to ~2^-70 absolute; returns r = f * pi/2.
inline double reduce_pio2(float x, double& quad) {
  const uint32_t ax = bits(x) & 0x7fffffffu;
  const int32_t e = static_cast<int32_t>(ax >> 23);
  const int32_t e1 = e > 0 ? e : 1;                       // subnormals: E = -149
  const int32_t mant = static_cast<int32_t>((ax & 0x7fffffu) | (e > 0 ? 0x800000u : 0u));
  int32_t idx = e1 - 127;
  idx = idx < 0 ? 0 : idx;
  idx = idx > 127 ? 127 : idx;                            // inf/NaN: fixed up by caller
  const int32_t down = e1 < 127 ? e1 - 127 : 0;
  const double m = static_cast<double>(mant) * pow2i(static_cast<int64_t>(down));
  const double p0 = m * static_cast<double>(kTwoOverPi.w[0][idx]);  // each product is exact
  const double p1 = m * static_cast<double>(kTwoOverPi.w[1][idx]);
  const double p2 = m * static_cast<double>(kTwoOverPi.w[2][idx]);
  const double p3 = m * static_cast<double>(kTwoOverPi.w[3][idx]);
  // Peel integer parts off before adding the next (smaller) product so every
  // partial sum is either exact or already about as small as the result.
  double n = rint_shift(p0);
  double s = (p0 - n) + p1;  // exact: fits in 53 bits
  double k = rint_shift(s);
  n += k;
  s = (s - k) + p2;
  k = rint_shift(s);
  n += k;
  const double f = (s - k) + p3;
  quad = n - 4.0 * rint_shift(n * 0.25);  // in {-2, -1, 0, 1, 2}
  quad = sel(quad < 0.0, quad + 4.0, quad);
  return f * 0x1.921fb54442d18p+0;
}

inline double sin_poly(double r) {  // |r| <= pi/4, rel err ~2e-11
  const double z = r * r;
  return r + (r * z) * (-0.16666666663741367 + z * (0.0083333318306294292 +
                       z * (-0.00019840063040804117 + z * 2.7246868722877944e-06)));
}
inline double cos_poly(double r) {  // |r| <= pi/4, rel err ~1e-12
  const double z = r * r;
  return (1.0 - 0.5 * z) + (z * z) * (0.04166666666422613 + z * (-0.0013888887635227975 +
                           z * (2.4800580601354642e-05 + z * -2.7298407652795173e-07)));
}

}  // namespace detail

// ---------------------------------------------------------------- exp
inline float exp(float x) {
  using namespace detail;
  // Clamp so k stays in [-150, 128]; beyond that the result is 0 or inf anyway
  // and comes out of the scaling below. NaN fails both compares and passes.
  x = sel(x > 88.8f, 88.8f, x);
  x = sel(x < -104.0f, -104.0f, x);
  float kf;
  int32_t k;
  const float r = reduce_ln2(x, kf, k);
  const float p = 1.0f + expm1_poly(r);
  // Scale in two halves: both factors are normal, the first product is exact,
  // so overflow and gradual underflow round exactly once.
  const int32_t k1 = k >> 1;
  return (p * pow2i(k1)) * pow2i(k - k1);
}
inline double exp(double x) {
  using namespace detail;
  x = sel(x > 710.0, 710.0, x);
  x = sel(x < -746.0, -746.0, x);
  double kd;
  int64_t k;
  const double r = reduce_ln2(x, kd, k);
  const double p = 1.0 + expm1_poly(r);
  // k/2 via the shift trick (AVX2 has no 64-bit arithmetic shift).
  const int64_t k1 = static_cast<int64_t>(bits(kd * 0.5 + kShiftD) - bits(kShiftD));
  return (p * pow2i(k1)) * pow2i(k - k1);
}

// ---------------------------------------------------------------- expm1
inline float expm1(float x) {
  using namespace detail;
  // Below -18, e^x < 2^-25 and the result rounds to -1; above 88.8 it is inf.
  float xc = sel(x > 88.8f, 88.8f, x);
  xc = sel(xc < -18.0f, -18.0f, xc);
  const float y = expm1_core(xc);
  // |x| < 2^-25: expm1(x) rounds to x; keeps -0 and subnormals exact.
  return sel(std::fabs(x) < 0x1p-25f, x, y);
}
inline double expm1(double x) {
  using namespace detail;
  double xc = sel(x > 710.0, 710.0, x);
  xc = sel(xc < -40.0, -40.0, xc);
  const double y = expm1_core(xc);
  return sel(std::fabs(x) < 0x1p-54, x, y);
}

// ---------------------------------------------------------------- log
inline float log(float x) {
  using namespace detail;
  // Subnormals: scale into the normal range and compensate in k.
  const bool sub = x < 0x1p-126f;
  const float xs = sel(sub, x * 0x1p23f, x);
  int32_t k;
  const float m = split_log(xs, k);
  k -= sub ? 23 : 0;
  const float kf = static_cast<float>(k);
  const float y = kf * kLn2HiF + (log1p_reduced(m - 1.0f) + kf * kLn2LoF);
  float res = sel(x == kInfF, x, y);
  res = sel(x == 0.0f, -kInfF, res);
  res = sel(x < 0.0f, kNanF, res);
  return sel(x != x, x, res);
}
inline double log(double x) {
  using namespace detail;
  const bool sub = x < 0x1p-1022;
  const double xs = sel(sub, x * 0x1p52, x);
  int64_t k;
  const double m = split_log(xs, k);
  k -= sub ? 52 : 0;
  const double kd = to_double(k);
  const double y = kd * kLn2HiD + (log1p_reduced(m - 1.0) + kd * kLn2LoD);
  double res = sel(x == kInfD, x, y);
  res = sel(x == 0.0, -kInfD, res);
  res = sel(x < 0.0, kNanD, res);
  return sel(x != x, x, res);
}

// ---------------------------------------------------------------- log1p
// log1p(x) = log(u) + c/u with u = fl(1+x) and c = (1+x) - u computed exactly,
// which restores the bits of x lost in forming 1+x.
inline float log1p(float x) {
  using namespace detail;
  const float u = 1.0f + x;
  const float c = sel(x >= 1.0f, 1.0f - (u - x), x - (u - 1.0f));
  const float uu = sel(u > 0.0f, u, 1.0f);  // keep the core on valid input
  int32_t k;
  const float m = split_log(uu, k);
  const float kf = static_cast<float>(k);
  const float y = kf * kLn2HiF + (log1p_reduced(m - 1.0f) + (kf * kLn2LoF + c / uu));
  float res = sel(x == kInfF, x, y);
  res = sel(x == -1.0f, -kInfF, res);
  res = sel(x < -1.0f, kNanF, res);
  res = sel(x != x, x, res);
  return sel(std::fabs(x) < 0x1p-25f, x, res);
}
inline double log1p(double x) {
  using namespace detail;
  const double u = 1.0 + x;
  const double c = sel(x >= 1.0, 1.0 - (u - x), x - (u - 1.0));
  const double uu = sel(u > 0.0, u, 1.0);
  int64_t k;
  const double m = split_log(uu, k);
  const double kd = to_double(k);
  const double y = kd * kLn2HiD + (log1p_reduced(m - 1.0) + (kd * kLn2LoD + c / uu));
  double res = sel(x == kInfD, x, y);
  res = sel(x == -1.0, -kInfD, res);
  res = sel(x < -1.0, kNanD, res);
  res = sel(x != x, x, res);
  return sel(std::fabs(x) < 0x1p-54, x, res);
}

// ---------------------------------------------------------------- tanh
// float: through the half argument, with no exp. T = 2 tanh(a/2) = a + a^3 R(a^2)
// (R a rational fit on [0, 9.2]); then tanh a = 2h/(1+h^2) with h = T/2, written
// T - T e, e = T^2/(4 + T^2). Where a is large the identity damps T's error by
// (1-h^2)/(1+h^2); where a is small T is a plus a tiny correction, and the last
// step rounds once. About 30% fewer instructions than the expm1 form below.
inline float tanh(float x) {
  using namespace detail;
  const float a = std::fabs(x);
  const bool big = a > 9.1f;  // tanh rounds to 1 beyond 9.02; NaN is not big
  const float ac = sel(big, 9.1f, a);
  const float u = ac * ac;
  const float p = -0.0833333284f + u * (-0.00124198361f + u * -2.70834767e-06f);
  const float q = 1.0f + u * (0.114903755f + u * (0.00140384526f + u * 2.79741653e-06f));
  const float t = (ac * u) * (p / q) + ac;  // exact for tiny and subnormal a
  const float tt = t * t;
  const float y = t - t * (tt / (4.0f + tt));
  return std::copysign(sel(big, 1.0f, y), x);
}
// double: tanh|x| = t / (t + 2), t = expm1(2|x|): no cancellation for small |x|.
inline double tanh(double x) {
  using namespace detail;
  const double a = std::fabs(x);
  const double ac = sel(a > 19.5, 19.5, a);  // tanh rounds to 1 beyond ~19.06
  double kd;
  int64_t k;
  const double r = reduce_ln2(2.0 * ac, kd, k);
  const double sc = pow2i(k);
  const double t = sc * expm1_poly(r) + (sc - 1.0);
  const double y = std::copysign(t / (t + 2.0), x);
  return sel(a < 0x1p-27, x, y);
}

// ---------------------------------------------------------------- sigmoid
// 1/(1+e^-x) for x >= 0 and e^x/(1+e^x) for x < 0, with e = e^-|x| <= 1, so
// neither form overflows and tiny results keep full relative accuracy.
inline float sigmoid(float x) {
  const float e = vm::exp(-std::fabs(x));
  return detail::sel(x >= 0.0f, 1.0f, e) / (1.0f + e);
}
inline double sigmoid(double x) {
  const double e = vm::exp(-std::fabs(x));
  return detail::sel(x >= 0.0, 1.0, e) / (1.0 + e);
}

// ---------------------------------------------------------------- sin, cos
// float: exact Payne-Hanek reduction in double (valid for every float), then
// double polynomials, rounded once to float.
inline float sin(float x) {
  using namespace detail;
  double quad;
  const double r = reduce_pio2(x, quad);
  const double sr = sin_poly(r), cr = cos_poly(r);
  double y = sel((quad == 1.0) | (quad == 3.0), cr, sr);
  y = sel(quad >= 2.0, -y, y);
  const float res = static_cast<float>(y);
  const float sres = f32(bits(res) ^ (bits(x) & 0x80000000u));  // sin is odd
  return sel(std::fabs(x) < kInfF, sres, x - x);  // inf, NaN -> NaN
}
inline float cos(float x) {
  using namespace detail;
  double quad;
  const double r = reduce_pio2(x, quad);
  const double sr = sin_poly(r), cr = cos_poly(r);
  double y = sel((quad == 1.0) | (quad == 3.0), sr, cr);
  y = sel((quad == 1.0) | (quad == 2.0), -y, y);
  const float res = static_cast<float>(y);
  return sel(std::fabs(x) < kInfF, res, x - x);
}
// double: no vectorisable reduction for huge arguments; use the library.
inline double sin(double x) { return std::sin(x); }
inline double cos(double x) { return std::cos(x); }

}  // namespace vm
}  // namespace corten
