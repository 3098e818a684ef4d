#include "parallel.h"

#include <atomic>
#include <omp.h>

namespace corten {

namespace {
// 0 means "not set yet": follow OpenMP's own default (OMP_NUM_THREADS or cores).
std::atomic<int> g_threads{0};
}  // namespace

int num_threads() {
  int n = g_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : omp_get_max_threads();
}

void set_num_threads(int n) { g_threads.store(n > 0 ? n : 1, std::memory_order_relaxed); }

}  // namespace corten
