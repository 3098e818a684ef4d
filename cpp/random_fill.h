// Fill a contiguous View with random numbers (see random.h for the generator).
#pragma once
#include <cstdint>

#include "view.h"

namespace corten {
void fill_uniform(const OutView& out, uint64_t seed, uint64_t offset, double lo, double hi);
void fill_normal(const OutView& out, uint64_t seed, uint64_t offset, double mean, double std);
void fill_integers(const OutView& out, uint64_t seed, uint64_t offset, int64_t low, int64_t high);
void fill_bernoulli(const OutView& out, uint64_t seed, uint64_t offset, double p);
}  // namespace corten
