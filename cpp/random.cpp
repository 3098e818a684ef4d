#include "random.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "parallel.h"
#include "vecmath.h"

namespace corten {
namespace {

// Counter word 2 per distribution, so different distributions drawn with the
// same (seed, offset) use disjoint Philox streams.
enum StreamTag : uint32_t {
  kUniformF = 1,
  kUniformD = 2,
  kNormalF = 3,
  kNormalD = 4,
  kIntSmall = 5,
  kIntLarge = 6,
  kBernoulli = 7,
};

// Work is split into chunks of kChunk elements (a multiple of every values-
// per-block count), each filled from a small stack buffer. Chunk boundaries
// do not affect values: element g always comes from block g / P, lane g % P.
constexpr int64_t kChunk = 2048;
constexpr int64_t kParallelMin = int64_t(1) << 16;

// Words 4j..4j+3 = Philox block b0 + j.
void philox_blocks(uint32_t* words, uint64_t b0, int64_t nb, uint64_t seed, uint32_t tag) {
  const std::array<uint32_t, 2> key{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  for (int64_t j = 0; j < nb; ++j) {
    const uint64_t b = b0 + static_cast<uint64_t>(j);
    const std::array<uint32_t, 4> r =
        philox4x32_10({static_cast<uint32_t>(b), static_cast<uint32_t>(b >> 32), tag, 0u}, key);
    words[4 * j] = r[0];
    words[4 * j + 1] = r[1];
    words[4 * j + 2] = r[2];
    words[4 * j + 3] = r[3];
  }
}

// Fills out[0, n): `convert(words, vals, nb)` turns nb blocks (4 words each)
// into nb * P values; element i takes value (offset + i) - P * b0 of its chunk.
template <int P, class T, class Convert>
void fill(T* out, int64_t n, uint64_t seed, uint64_t offset, uint32_t tag, Convert convert) {
  static_assert(kChunk % P == 0, "chunks must hold whole blocks");
  if (n <= 0) return;
  const int64_t nchunks = (n + kChunk - 1) / kChunk;
  // corten's thread count (set_num_threads, and 1 in a child forked after the pool ran)
  const int nt = threads_for(n, kParallelMin / 2);
  parallel_ranges(nchunks, nt, [&](int64_t first, int64_t end) {
    constexpr int64_t kMaxBlocks = kChunk / P + 1;
    uint32_t words[4 * kMaxBlocks];
    T vals[P * kMaxBlocks];
    for (int64_t c = first; c < end; ++c) {
      const int64_t i0 = c * kChunk;
      const int64_t len = std::min(n - i0, kChunk);
      const uint64_t g0 = offset + static_cast<uint64_t>(i0);
      const int64_t skip = static_cast<int64_t>(g0 % P);
      const int64_t nb = (skip + len + P - 1) / P;
      philox_blocks(words, g0 / P, nb, seed, tag);
      convert(words, vals, nb);
      std::memcpy(out + i0, vals + skip, static_cast<size_t>(len) * sizeof(T));
    }
  });
}

constexpr double kTwoPow32Inv = 0x1p-32;

__extension__ typedef unsigned __int128 u128;  // GCC/Clang; for 64x64->128 products

// Exact uint32 -> double (cvtdq2pd only takes signed int32).
inline double u32_to_double(uint32_t w) {
  return vm::detail::f64(0x4330000000000000ull | w) - 0x1p52;
}

// 53 random bits from two words, as a double in [0, 1).
inline double unit53(uint32_t a, uint32_t b) {
  return (static_cast<double>(static_cast<int32_t>(a >> 5)) * 0x1p26 +
          static_cast<double>(static_cast<int32_t>(b >> 6))) * 0x1p-53;
}

// cos and sin of 2*pi*t for t in [0, 1): reducing in turns is exact, so the
// short polynomials from vecmath suffice for float output.
inline void cossin_turns(double t, double& c, double& s) {
  const double x = 4.0 * t;                       // quarter turns, exact
  const double q = vm::detail::rint_shift(x);     // 0..4
  const double r = (x - q) * 0x1.921fb54442d18p+0;  // |r| <= pi/4
  const double sr = vm::detail::sin_poly(r), cr = vm::detail::cos_poly(r);
  const double qm = q - 4.0 * vm::detail::rint_shift(q * 0.25);  // -1, 0, 1, 2 (4 -> 0)
  // quadrant 0: (c, s); 1: (-s, c); 2: (-c, -s); -1 (= 3): (s, -c)
  const bool odd = (qm == 1.0) | (qm == -1.0);
  const double c0 = vm::detail::sel(odd, sr, cr), s0 = vm::detail::sel(odd, cr, sr);
  c = vm::detail::sel((qm == 1.0) | (qm == 2.0), -c0, c0);
  s = vm::detail::sel((qm == 2.0) | (qm == -1.0), -s0, s0);
}

void check_range(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}

}  // namespace

void random_uniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi) {
  check_range(lo < hi && std::isfinite(lo) && std::isfinite(hi), "random_uniform: need finite lo < hi");
  // Work in double so the map from 24 random bits stays exact, then clamp the
  // rare rounding up to hi back below it.
  const double dlo = lo, span = static_cast<double>(hi) - static_cast<double>(lo);
  const float below_hi = std::nextafter(hi, lo);
  fill<4>(out, n, seed, offset, kUniformF, [=](const uint32_t* w, float* v, int64_t nb) {
    for (int64_t k = 0; k < 4 * nb; ++k) {
      const double u = static_cast<double>(static_cast<int32_t>(w[k] >> 8)) * 0x1p-24;
      const float x = static_cast<float>(dlo + span * u);
      v[k] = vm::detail::sel(x < hi, x, below_hi);
    }
  });
}

void random_uniform(double* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi) {
  check_range(lo < hi && std::isfinite(lo) && std::isfinite(hi), "random_uniform: need finite lo < hi");
  const double span = hi - lo;
  const double below_hi = std::nextafter(hi, lo);
  fill<2>(out, n, seed, offset, kUniformD, [=](const uint32_t* w, double* v, int64_t nb) {
    for (int64_t k = 0; k < 2 * nb; ++k) {
      const double x = lo + span * unit53(w[2 * k], w[2 * k + 1]);
      v[k] = vm::detail::sel(x < hi, x, below_hi);
    }
  });
}

void random_normal(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) {
  // Box-Muller in double. u1 = (w + 1) / 2^32 is in (0, 1], so log never sees
  // 0 and the radius reaches sqrt(64 ln 2) ~ 6.7 sigma.
  const double m = mean, s = std;
  fill<4>(out, n, seed, offset, kNormalF, [=](const uint32_t* w, float* v, int64_t nb) {
    for (int64_t k = 0; k < 2 * nb; ++k) {
      const double u1 = (u32_to_double(w[2 * k]) + 1.0) * kTwoPow32Inv;
      const double t = u32_to_double(w[2 * k + 1]) * kTwoPow32Inv;
      const double rad = std::sqrt(-2.0 * vm::log(u1));
      double c, sn;
      cossin_turns(t, c, sn);
      v[2 * k] = static_cast<float>(m + s * (rad * c));
      v[2 * k + 1] = static_cast<float>(m + s * (rad * sn));
    }
  });
}

void random_normal(double* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  // Two uniforms of 53 bits per pair of outputs (one Philox block, P = 2).
  // Library sin/cos/log keep full double accuracy.
  fill<2>(out, n, seed, offset, kNormalD, [=](const uint32_t* w, double* v, int64_t nb) {
    for (int64_t j = 0; j < nb; ++j) {
      const double u1 = 1.0 - unit53(w[4 * j], w[4 * j + 1]);  // (0, 1]
      const double t = unit53(w[4 * j + 2], w[4 * j + 3]);
      const double rad = std::sqrt(-2.0 * std::log(u1));
      const double ang = 0x1.921fb54442d18p+2 * t;  // 2 pi t
      v[2 * j] = mean + std * (rad * std::cos(ang));
      v[2 * j + 1] = mean + std * (rad * std::sin(ang));
    }
  });
}

void random_integers(int64_t* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high) {
  check_range(low < high, "random_integers: need low < high");
  // Range as unsigned: high - low can exceed INT64_MAX.
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  const uint64_t ulow = static_cast<uint64_t>(low);
  if (range <= (uint64_t(1) << 32)) {
    fill<2>(out, n, seed, offset, kIntSmall, [=](const uint32_t* w, int64_t* v, int64_t nb) {
      for (int64_t k = 0; k < 2 * nb; ++k) {
        const uint64_t x = (static_cast<uint64_t>(w[2 * k]) << 32) | w[2 * k + 1];
        const uint64_t r = static_cast<uint64_t>((static_cast<u128>(x) * range) >> 64);
        v[k] = static_cast<int64_t>(ulow + r);
      }
    });
  } else {
    fill<1>(out, n, seed, offset, kIntLarge, [=](const uint32_t* w, int64_t* v, int64_t nb) {
      for (int64_t j = 0; j < nb; ++j) {
        // floor(x * range / 2^128) for a 128-bit x = xh * 2^64 + xl
        const uint64_t xh = (static_cast<uint64_t>(w[4 * j]) << 32) | w[4 * j + 1];
        const uint64_t xl = (static_cast<uint64_t>(w[4 * j + 2]) << 32) | w[4 * j + 3];
        const u128 hi = static_cast<u128>(xh) * range;
        const u128 lo = static_cast<u128>(xl) * range;
        const uint64_t r = static_cast<uint64_t>((hi + (lo >> 64)) >> 64);
        v[j] = static_cast<int64_t>(ulow + r);
      }
    });
  }
}

void random_bernoulli(uint8_t* out, int64_t n, uint64_t seed, uint64_t offset, double p) {
  // 1 iff w < p * 2^32; the threshold is 64-bit so p = 1 gives all ones.
  const double pc = std::isnan(p) ? 0.0 : std::min(std::max(p, 0.0), 1.0);
  const uint64_t thr = static_cast<uint64_t>(std::nearbyint(pc * 0x1p32));
  fill<4>(out, n, seed, offset, kBernoulli, [=](const uint32_t* w, uint8_t* v, int64_t nb) {
    for (int64_t k = 0; k < 4 * nb; ++k) v[k] = static_cast<uint64_t>(w[k]) < thr ? 1 : 0;
  });
}

}  // namespace corten
