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
#include "simd.h"
#include "strided.h"

CORTEN_BEGIN_AVX2
namespace {
#include "reduce_ops.h"
#include "reduce_impl.h"
}  // namespace

namespace corten {
void reduce_avx2(ReduceOp op, const View& x, const OutView& out, int nred) { reduce_any(op, x, out, nred); }
}  // namespace corten
CORTEN_END_AVX2
