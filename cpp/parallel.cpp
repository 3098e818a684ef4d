#include "parallel.h"

#include <pthread.h>

#include <atomic>
#include <omp.h>

namespace corten {

namespace {
// 0 means "not set yet": follow OpenMP's own default (OMP_NUM_THREADS or cores).
std::atomic<int> g_threads{0};
// An OpenMP team has run in this process; a fork child inherits the flag.
std::atomic<bool> g_pool_used{false};
// This process was forked after the pool ran: only one thread from now on.
std::atomic<bool> g_forked_after_pool{false};

void after_fork_in_child() {
  if (g_pool_used.load(std::memory_order_relaxed)) g_forked_after_pool.store(true, std::memory_order_relaxed);
}

const int g_atfork_registered = pthread_atfork(nullptr, nullptr, &after_fork_in_child);
// Cap on requested threads: beyond it thread creation itself fails.
constexpr int kMaxThreads = 1024;
}  // namespace

int num_threads() {
  if (g_forked_after_pool.load(std::memory_order_relaxed)) return 1;
  int n = g_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : omp_get_max_threads();
}

void set_num_threads(int n) { g_threads.store(n < 1 ? 1 : (n > kMaxThreads ? kMaxThreads : n), std::memory_order_relaxed); }

void note_pool_used() {
  if (!g_pool_used.load(std::memory_order_relaxed)) g_pool_used.store(true, std::memory_order_relaxed);
}

}  // namespace corten
