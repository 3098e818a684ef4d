// How this module was built, for `python -m corten info`.
#pragma once
#include <map>
#include <string>

namespace corten {

// build_type, compiler, compiler_banner, cxx_flags, openmp_flags, openmp_libs,
// openmp_version, processor.
std::map<std::string, std::string> build_info();

}  // namespace corten
