// The reduction loops compiled for any CPU.
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

namespace {
#include "reduce_ops.h"
#include "reduce_impl.h"
}  // namespace

namespace corten {
void reduce_generic(ReduceOp op, const View& x, const OutView& out, int nred) { reduce_any(op, x, out, nred); }
}  // namespace corten
