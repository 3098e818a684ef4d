// Data movement that a plain strided copy cannot express: gather and scatter
// through integer index arrays, boolean-mask selection, nonzero, and a
// cache-blocked copy for transposed layouts.
#pragma once
#include <cstdint>
#include <vector>

#include "view.h"

namespace corten {

// out[b..., r...] = src[idx[0][b], ..., idx[k-1][b], r...]. The index arrays
// (int64) share one shape B; out has shape B + src.shape[k:]. Negative indices
// count from the end; others out of range throw std::out_of_range naming
// axes[j] (the caller's axis number, for the message).
void gather(const View& src, const std::vector<View>& idx, const OutView& out, const std::vector<int64_t>& axes);

// dst[idx[0][b], ..., r...] = values[b..., r...] (or += when accumulate), in C
// order of b, so a repeated index keeps the last value (or the sum). values is
// already broadcast to B + dst.shape[k:]. All indices are checked before any write.
void scatter(const OutView& dst, const std::vector<View>& idx, const View& values, bool accumulate,
             const std::vector<int64_t>& axes);

int64_t count_nonzero(const View& x);
// out (n, ndim) int64: the coordinates of x's nonzero elements in C order.
void nonzero(const View& x, const OutView& out);
// out (n,) = src[mask], mask bool of src's shape.
void masked_select(const View& src, const View& mask, const OutView& out);
// out = src for a C-contiguous out, tiled so that a transposed src is read in
// cache-sized blocks; falls back to the plain strided copy when src's fastest
// dimension is already the last one.
void copy_blocked(const View& src, const OutView& out);

}  // namespace corten
