// Counter-based random numbers (Philox4x32-10, Salmon et al., SC'11).
//
// Every output element is a pure function of (seed, offset + i): the
// generator has no state, so results do not depend on thread count, chunking
// or on how a tensor is split across calls. To draw fresh numbers, callers
// advance `offset` by the number of elements drawn (e.g. a per-generator
// counter on the Python side).
//
// Element g = offset + i of a distribution lives in Philox block g / P, lane
// g % P, where P values come out of one 128-bit block (P depends on the
// distribution). Each distribution also puts its own tag in counter word 2,
// so e.g. uniform and normal draws with the same seed and offset are
// independent.
#pragma once
#include <array>
#include <cstdint>

namespace corten {

// One Philox4x32-10 block: 10 rounds of the multiply/xor Feistel-like round
// with the key bumped by the Weyl constants between rounds.
inline std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {c0, c1, c2, c3};
}

// Uniform on [lo, hi); never returns hi (requires lo < hi, else throws
// std::invalid_argument). float uses 24 random bits, double 53.
void random_uniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi);
void random_uniform(double* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi);

// Normal(mean, std) by Box-Muller: one pair of uniforms gives the two
// outputs 2j and 2j+1 (cos and sin branch), so each element is still a
// function of its own index only.
void random_normal(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std);
void random_normal(double* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std);

// Integers uniform on [low, high) (requires low < high). Uses the
// multiply-shift map x * range >> bits with no rejection: 64 random bits
// per value when range <= 2^32 (each value's probability is off by at most
// 2^-32 relative) and 128 bits for larger ranges (off by at most 2^-64).
void random_integers(int64_t* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high);

// out[i] = 1 with probability p (e.g. the keep probability of dropout), else
// 0; p is resolved to multiples of 2^-32, p <= 0 gives all 0, p >= 1 all 1.
void random_bernoulli(uint8_t* out, int64_t n, uint64_t seed, uint64_t offset, double p);

}  // namespace corten
