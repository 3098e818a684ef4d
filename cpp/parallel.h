// Thread count for every kernel, the rule for when a loop is worth splitting,
// and parallel_ranges: the one way kernels split work across threads.
#pragma once
#include <omp.h>

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

// Calls f(begin, end) on fixed ranges of [0, units): thread t of T gets
// [units*t/T, units*(t+1)/T), and one thread gets everything when nt <= 1.
// Callers make each unit's result independent of which thread computes it, so
// results never depend on the thread count.
template <class F>
void parallel_ranges(int64_t units, int nt, F&& f) {
  if (units <= 0) return;
  if (nt > units) nt = static_cast<int>(units);
  if (nt <= 1) {
    f(int64_t{0}, units);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    const int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
    const int64_t b = units * t / T, e = units * (t + 1) / T;
    if (b < e) f(b, e);
  }
}

// Splits [0, total) into `parts` fixed ranges and calls f(part, begin, end)
// for each, on up to `parts` threads: for kernels that keep a result per part
// (a count, the first error) and combine them in part order afterwards.
template <class F>
void parallel_parts(int64_t total, int parts, F&& f) {
  parallel_ranges(parts, parts, [&](int64_t first, int64_t last) {
    for (int64_t q = first; q < last; ++q) f(q, total * q / parts, total * (q + 1) / parts);
  });
}

}  // namespace corten
