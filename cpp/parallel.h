// Thread count for every kernel, and the rule for when a loop is worth splitting.
#pragma once
#include <cstdint>

namespace corten {

int num_threads();
void set_num_threads(int n);

// Threads to use for a loop over `work` elements: 1 below `grain` elements per
// thread, so small tensors never pay for waking the pool.
inline int threads_for(int64_t work, int64_t grain = 1 << 15) {
  int nt = num_threads();
  if (work < 2 * grain || nt <= 1) return 1;
  int64_t by_work = work / grain;
  return by_work < nt ? static_cast<int>(by_work) : nt;
}

}  // namespace corten
