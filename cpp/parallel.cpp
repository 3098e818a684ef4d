#include "parallel.h"

#include <pthread.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <omp.h>

namespace corten {

namespace {
// 0 means "not set yet": follow OpenMP's own default (OMP_NUM_THREADS or cores).
std::atomic<int> g_threads{0};
// An OpenMP team has run in this process (kernels using threads_for say so).
std::atomic<bool> g_pool_used{false};
// The process had other threads when it forked: libgomp's pool may be among
// them (matmul and other kernels start it without going through threads_for).
std::atomic<bool> g_threads_at_fork{false};
// This process was forked after the pool ran: only one thread from now on.
std::atomic<bool> g_forked_after_pool{false};

// Threads of this process from /proc/self/stat (field 20); 0 when unknown.
long thread_count() {
  FILE* f = std::fopen("/proc/self/stat", "r");
  if (!f) return 0;
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the command name may hold spaces
  for (int field = 2; p && field < 20; ++field) p = std::strchr(p + 1, ' ');
  return p ? std::strtol(p + 1, nullptr, 10) : 0;
}

void before_fork() { g_threads_at_fork.store(thread_count() != 1, std::memory_order_relaxed); }

void after_fork_in_child() {
  if (g_pool_used.load(std::memory_order_relaxed) || g_threads_at_fork.load(std::memory_order_relaxed))
    g_forked_after_pool.store(true, std::memory_order_relaxed);
}

const int g_atfork_registered = pthread_atfork(&before_fork, nullptr, &after_fork_in_child);
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
