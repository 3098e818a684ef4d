// Reductions and scans over strided Views. Python decides axes, dtypes and
// output shapes; these kernels validate and loop.
#pragma once
#include "view.h"

namespace corten {

enum class ReduceOp { Sum, Mean, Prod, Max, Min, ArgMax, ArgMin };

// out = op over the last `nred` dims of x. out's shape is x's leading
// x.ndim - nred dims. Sum/Prod of bool and integers give int64 (floats keep
// their dtype, accumulated in double); Mean needs a float input; ArgMax/ArgMin
// give int64 flat C-order indices into the reduced dims.
void reduce(ReduceOp op, const View& x, const OutView& out, int nred);

// out[..., i] = sum (or product, when prod) of x[..., 0..i] along the last axis
// (reverse: of x[..., i..n-1]).
void scan(const View& x, const OutView& out, bool prod, bool reverse);

// Gradient of cumprod along the last axis, exact when x has zeros.
void cumprod_grad(const View& x, const View& g, const OutView& out);

// Along the last axis, leading dims equal: out[..., idx[..., j]] += src[..., j].
void scatter_add_last(const OutView& out, const View& idx, const View& src);
// out[..., j] = x[..., idx[..., j]].
void gather_last(const View& x, const View& idx, const OutView& out);

}  // namespace corten
