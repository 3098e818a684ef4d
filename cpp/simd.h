// The one place that decides which instruction set the kernels use.
//
// Levels are ordered: a kernel family built for level L runs when
// simd_level() >= L, so adding a level (or a kernel for one) is a new enum
// value, its CPU check in simd.cpp and one more branch where a family picks.
// The CPU's best level is detected once; the environment variable CORTEN_SIMD
// (generic | avx2 | avx512) caps it, read once when the level is first asked
// for; tests may change the cap at run time (set_simd_cap).
#pragma once
#include <string>
#include <vector>

namespace corten {

enum class SimdLevel : int {
  generic = 0,  // any x86-64 (SSE2) or other CPU: the portable copies
  avx2 = 1,     // AVX2 + FMA
  avx512 = 2,   // AVX-512 F + BW + DQ + VL (with AVX2 + FMA)
};

SimdLevel simd_level();          // the level kernels use now: min(CPU's best, cap)
SimdLevel simd_cpu_level();      // the best level this CPU supports
const char* simd_level_name(SimdLevel level);
std::string simd_level_str();    // simd_level() by name
std::vector<std::string> simd_available();  // the levels this CPU can run, lowest first
std::vector<std::string> cpu_features();    // instruction-set extensions the CPU reports (those the kernels care about)
// The cap: "generic", "avx2", "avx512", or "" for CORTEN_SIMD's (none when unset). Throws
// std::invalid_argument naming the allowed values for anything else.
void set_simd_cap(const std::string& cap);
std::string simd_cap();          // the cap in force ("" when none)
// Non-empty when CORTEN_SIMD holds a value that is not a level: the message
// (naming the allowed values) that Python shows as a warning; the cap is then none.
std::string simd_env_problem();

// A region of a file compiled for AVX2 + FMA, for GCC and clang alike: GCC's
// target pragma, and clang's attribute pragma (clang ignores GCC's, and would
// build the region for the baseline). A file includes every header before the
// region, so the inline functions and templates it shares with other files stay
// portable, and the linker cannot hand AVX2 code to a caller on an older CPU.
#if defined(__x86_64__) && defined(__clang__)
#define CORTEN_BEGIN_AVX2 _Pragma("clang attribute push(__attribute__((target(\"avx2,fma\"))), apply_to = function)")
#define CORTEN_END_AVX2 _Pragma("clang attribute pop")
#elif defined(__x86_64__) && defined(__GNUC__)
#define CORTEN_BEGIN_AVX2 _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma\")")
#define CORTEN_END_AVX2 _Pragma("GCC pop_options")
#else
#define CORTEN_BEGIN_AVX2
#define CORTEN_END_AVX2
#endif

// The same for AVX-512 F/BW/DQ/VL (SimdLevel::avx512). GCC also gets
// prefer-vector-width=512: its vectoriser otherwise may stay at 256-bit vectors.
#if defined(__x86_64__) && defined(__clang__)
#define CORTEN_BEGIN_AVX512                                                                               \
  _Pragma("clang attribute push(__attribute__((target(\"avx512f,avx512bw,avx512dq,avx512vl,avx2,fma\"))), \
          apply_to = function)")
#define CORTEN_END_AVX512 _Pragma("clang attribute pop")
#elif defined(__x86_64__) && defined(__GNUC__)
#define CORTEN_BEGIN_AVX512 \
  _Pragma("GCC push_options") \
  _Pragma("GCC target(\"avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,prefer-vector-width=512\")")
#define CORTEN_END_AVX512 _Pragma("GCC pop_options")
#else
#define CORTEN_BEGIN_AVX512
#define CORTEN_END_AVX512
#endif

// A region for the level named by a macro (CORTEN_LEVEL_generic/avx2/avx512), for the
// files that build one body once per level (elementwise_kernels.inc, reduce_kernels.inc).
#define CORTEN_BEGIN_LEVEL_generic
#define CORTEN_END_LEVEL_generic
#define CORTEN_BEGIN_LEVEL_avx2 CORTEN_BEGIN_AVX2
#define CORTEN_END_LEVEL_avx2 CORTEN_END_AVX2
#define CORTEN_BEGIN_LEVEL_avx512 CORTEN_BEGIN_AVX512
#define CORTEN_END_LEVEL_avx512 CORTEN_END_AVX512
#define CORTEN_CAT_(a, b) a##b
#define CORTEN_CAT(a, b) CORTEN_CAT_(a, b)
#define CORTEN_BEGIN_LEVEL(level) CORTEN_CAT(CORTEN_BEGIN_LEVEL_, level)
#define CORTEN_END_LEVEL(level) CORTEN_CAT(CORTEN_END_LEVEL_, level)

// Is the level in force at least `level`? The test each kernel family makes.
inline bool simd_at_least(SimdLevel level) { return static_cast<int>(simd_level()) >= static_cast<int>(level); }

}  // namespace corten
