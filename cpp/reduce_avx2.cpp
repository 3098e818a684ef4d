// The reduction loops compiled for AVX2/FMA (chosen at run time, see reduce.cpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "numeric.h"
#include "parallel.h"
#include "reduce.h"
#include "strided.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace {
#include "reduce_ops.h"
#include "reduce_impl.h"
}  // namespace

namespace corten {
void reduce_avx2(ReduceOp op, const View& x, const OutView& out, int nred) { reduce_any(op, x, out, nred); }
}  // namespace corten
#pragma GCC pop_options
