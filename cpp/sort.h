// Sorting along the last axis (rows in parallel) and unique of a sorted 1-D array.
#pragma once
#include "view.h"

namespace corten {

// Stable sort of every row along the last axis; NaN sorts last (first when
// descending). Either output may be empty (size 0) to skip it.
void sort_last(const View& x, const OutView& values, const OutView& indices, bool descending);

// The k = values.shape[-1] largest (or smallest) of every row, sorted; ties
// keep the lower index first.
void topk_last(const View& x, const OutView& values, const OutView& indices, bool largest);

// Runs of equal values in sorted (1-D); NaNs form one run. Writes the first
// element and length of every run to values/counts (each at least as long as
// sorted) and, if perm is non-empty, inverse[perm[i]] = run of position i.
// Returns the number of runs.
int64_t unique_sorted(const View& sorted, const View& perm, const OutView& values, const OutView& counts,
                      const OutView& inverse);

}  // namespace corten
