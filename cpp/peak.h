// The machine's measured floating-point peak, for the benchmark's `peak` column.
#pragma once

namespace corten {

// GFLOP/s of `threads` threads each running independent multiply-add chains for
// about `seconds` (float64 when `f64`): 512-bit FMAs at SIMD level avx512, 256-bit
// at avx2 (simd.h: the CPU's best, capped by CORTEN_SIMD), plain C++ loops at
// generic or when `portable`. Throws std::invalid_argument for
// threads outside [1, 1024] or seconds outside (0, 10].
double peak_gflops(bool f64, int threads, double seconds, bool portable);

}  // namespace corten
