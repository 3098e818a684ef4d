#include "parallel.h"

#include <atomic>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace corten {
namespace {
std::atomic<int> g_threads{0};  // 0: use the OpenMP default

int default_threads() {
#ifdef _OPENMP
  static const int n = omp_get_max_threads();
  return n > 0 ? n : 1;
#else
  return 1;
#endif
}
}  // namespace

int num_threads() {
  const int n = g_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : default_threads();
}

void set_num_threads(int n) { g_threads.store(n > 0 ? n : 0, std::memory_order_relaxed); }

}  // namespace corten
