// View-level entry points for the random generator: validate the output
// tensor (contiguous, right dtype) and fill it. See random.h for the streams.
#include <stdexcept>
#include <string>

#include "random.h"
#include "random_fill.h"

namespace corten {

namespace {
void require_contiguous(const View& out, const char* op) {
  if (!out.is_contiguous()) throw std::invalid_argument(std::string(op) + ": output must be contiguous");
}
}  // namespace

void fill_uniform(const OutView& out, uint64_t seed, uint64_t offset, double lo, double hi) {
  require_contiguous(out, "random_uniform");
  dispatch_float(out.dtype, "random_uniform", [&](auto tag) {
    using T = typename decltype(tag)::type;
    random_uniform(out.ptr<T>(), out.size(), seed, offset, static_cast<T>(lo), static_cast<T>(hi));
  });
}

void fill_normal(const OutView& out, uint64_t seed, uint64_t offset, double mean, double std) {
  require_contiguous(out, "random_normal");
  dispatch_float(out.dtype, "random_normal", [&](auto tag) {
    using T = typename decltype(tag)::type;
    random_normal(out.ptr<T>(), out.size(), seed, offset, static_cast<T>(mean), static_cast<T>(std));
  });
}

void fill_integers(const OutView& out, uint64_t seed, uint64_t offset, int64_t low, int64_t high) {
  require_contiguous(out, "random_integers");
  require_dtype(out, DType::Int64, "random_integers", "output");
  random_integers(out.ptr<int64_t>(), out.size(), seed, offset, low, high);
}

void fill_bernoulli(const OutView& out, uint64_t seed, uint64_t offset, double p) {
  require_contiguous(out, "random_bernoulli");
  if (out.dtype != DType::UInt8 && out.dtype != DType::Bool)
    throw std::invalid_argument("random_bernoulli: needs a uint8 or bool output");
  random_bernoulli(out.ptr<uint8_t>(), out.size(), seed, offset, p);
}

}  // namespace corten
