// Thread count used by the multi-threaded kernels.
#pragma once

namespace corten {

// Number of threads kernels may use. Defaults to omp_get_max_threads()
// (which honours OMP_NUM_THREADS).
int num_threads();
// n >= 1 sets the count; n <= 0 restores the default.
void set_num_threads(int n);

}  // namespace corten
