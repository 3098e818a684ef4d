// Reductions over any set of trailing axes of a strided View.
//
// The reduced dims (R) and kept dims (K) are each collapsed. Then one of two loops:
//  - per output: every output folds its reduced elements as runs along R's
//    innermost dim (contiguous runs are vectorised);
//  - accumulate rows: when K's innermost dim has the smaller stride (sum over
//    axis 0 of a C-contiguous matrix), blocks of kBlock outputs are updated row
//    by row so memory is read in order.
// The reduced elements of every output are split into fixed chunks of kChunk;
// chunk results merge in chunk order. Threads take whole (output, chunk) units,
// so results do not depend on the thread count.
#include "reduce.h"

#include "simd.h"

namespace corten {

void reduce_generic(ReduceOp op, const View& x, const OutView& out, int nred);
void reduce_avx2(ReduceOp op, const View& x, const OutView& out, int nred);
void reduce_avx512(ReduceOp op, const View& x, const OutView& out, int nred);

void reduce(ReduceOp op, const View& x, const OutView& out, int nred) {
  bool ok = nred >= 0 && nred <= x.ndim && out.ndim == x.ndim - nred;
  for (int i = 0; ok && i < out.ndim; ++i) ok = out.shape[i] == x.shape[i];
  if (!ok)
    throw std::invalid_argument("reduce: output shape " + shape_str(out) + " does not match input shape " +
                                shape_str(x) + " with " + std::to_string(nred) + " reduced trailing dims");
  require_writable_layout(out, "reduce");
  if (simd_at_least(SimdLevel::avx512)) reduce_avx512(op, x, out, nred);
  else if (simd_at_least(SimdLevel::avx2)) reduce_avx2(op, x, out, nred);
  else reduce_generic(op, x, out, nred);
}

}  // namespace corten
