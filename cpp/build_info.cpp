// How this module was built (CMake writes build_config.h from the build's
// settings) and which OpenMP version it was compiled against.
#include "build_info.h"

#include "build_config.h"

namespace corten {

std::map<std::string, std::string> build_info() {
  std::map<std::string, std::string> r;
  r["build_type"] = CORTEN_BUILD_TYPE;
  r["compiler"] = std::string(CORTEN_COMPILER_ID) + " " + CORTEN_COMPILER_VERSION;
  r["compiler_banner"] = __VERSION__;
  r["cxx_flags"] = CORTEN_CXX_FLAGS;
  r["openmp_flags"] = CORTEN_OPENMP_FLAGS;
  r["openmp_libs"] = CORTEN_OPENMP_LIBS;
  r["processor"] = CORTEN_SYSTEM_PROCESSOR;
#ifdef _OPENMP
  r["openmp_version"] = std::to_string(_OPENMP);  // the spec's date, e.g. 201511 for OpenMP 4.5
#else
  r["openmp_version"] = "none";
#endif
  return r;
}

}  // namespace corten
