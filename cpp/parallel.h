// Thread count for every kernel, and the rule for when a loop is worth splitting.
#pragma once
#include <cstdint>

namespace corten {

// Threads kernels may use. In a process forked after OpenMP's thread pool was
// started this is always 1: GNU libgomp hangs in such a child when it opens a
// parallel region, so kernels there never leave the calling thread.
int num_threads();
void set_num_threads(int n);
void note_pool_used();

// Threads to use for a loop over `work` elements: 1 below `grain` elements per
// thread, so small tensors never pay for waking the pool.
// Calls note_pool_used() whenever it hands out more than one thread (see fork below).
inline int threads_for(int64_t work, int64_t grain = 1 << 15) {
  int nt = num_threads();
  if (work < 2 * grain || nt <= 1) return 1;
  int64_t by_work = work / grain;
  note_pool_used();
  return by_work < nt ? static_cast<int>(by_work) : nt;
}

}  // namespace corten
