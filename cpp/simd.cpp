// CPU detection and the CORTEN_SIMD cap (see simd.h).
#include "simd.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace corten {
namespace {

constexpr int kNoCap = -1;
constexpr const char* kAllowed = "generic, avx2, avx512 (or unset for the CPU's best)";

SimdLevel detect() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  if (avx512) return SimdLevel::avx512;
  if (avx2) return SimdLevel::avx2;
#endif
  return SimdLevel::generic;
}

// -1 when the name is not a level.
int parse_level(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (s == "generic") return static_cast<int>(SimdLevel::generic);
  if (s == "avx2") return static_cast<int>(SimdLevel::avx2);
  if (s == "avx512") return static_cast<int>(SimdLevel::avx512);
  return -1;
}

struct EnvCap {
  int cap = kNoCap;
  std::string problem;
  EnvCap() {
    const char* e = std::getenv("CORTEN_SIMD");
    if (!e || !*e) return;
    cap = parse_level(e);
    if (cap < 0) {
      cap = kNoCap;
      problem = std::string("CORTEN_SIMD=") + e + " is not a SIMD level; allowed: " + kAllowed +
                ". Using the CPU's best level.";
    }
  }
};

const EnvCap& env_cap() {
  static const EnvCap e;
  return e;
}

std::atomic<int>& cap_now() {
  static std::atomic<int> cap{env_cap().cap};
  return cap;
}

}  // namespace

SimdLevel simd_cpu_level() {
  static const SimdLevel level = detect();
  return level;
}

SimdLevel simd_level() {
  const int cpu = static_cast<int>(simd_cpu_level());
  const int cap = cap_now().load(std::memory_order_relaxed);
  return static_cast<SimdLevel>(cap == kNoCap ? cpu : std::min(cpu, cap));
}

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::avx2: return "avx2";
    case SimdLevel::avx512: return "avx512";
    default: return "generic";
  }
}

std::string simd_level_str() { return simd_level_name(simd_level()); }

std::vector<std::string> simd_available() {
  std::vector<std::string> r;
  for (int l = 0; l <= static_cast<int>(simd_cpu_level()); ++l) r.push_back(simd_level_name(static_cast<SimdLevel>(l)));
  return r;
}

std::vector<std::string> cpu_features() {
  std::vector<std::string> r;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
#define CORTEN_FEATURE(name) \
  if (__builtin_cpu_supports(name)) r.push_back(name);
  CORTEN_FEATURE("sse2")
  CORTEN_FEATURE("sse4.2")
  CORTEN_FEATURE("avx")
  CORTEN_FEATURE("avx2")
  CORTEN_FEATURE("fma")
  CORTEN_FEATURE("avx512f")
  CORTEN_FEATURE("avx512bw")
  CORTEN_FEATURE("avx512dq")
  CORTEN_FEATURE("avx512vl")
  CORTEN_FEATURE("avx512vnni")
#undef CORTEN_FEATURE
#endif
  return r;
}

void set_simd_cap(const std::string& cap) {
  if (cap.empty()) {
    cap_now().store(env_cap().cap);
    return;
  }
  const int level = parse_level(cap);
  if (level < 0) throw std::invalid_argument("SIMD level '" + cap + "' is not one of " + kAllowed);
  cap_now().store(level);
}

std::string simd_cap() {
  const int cap = cap_now().load();
  return cap == kNoCap ? "" : simd_level_name(static_cast<SimdLevel>(cap));
}

std::string simd_env_problem() { return env_cap().problem; }

}  // namespace corten
