// The machine's measured floating-point peak, for the benchmark's `peak` column.
#pragma once

namespace corten {

// GFLOP/s of `threads` threads each running independent multiply-add chains for
// about `seconds` (float64 when `f64`): AVX2/FMA when the CPU has it and
// `portable` is false, else plain C++ loops. Throws std::invalid_argument for
// threads outside [1, 1024] or seconds outside (0, 10].
double peak_gflops(bool f64, int threads, double seconds, bool portable);

}  // namespace corten
