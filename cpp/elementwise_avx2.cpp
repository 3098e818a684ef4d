// The element-wise kernel table compiled for AVX2/FMA. Only the code between
// the target pragmas is built for AVX2: shared inline helpers from the headers
// above stay portable, so the linker can never hand AVX2 code to a caller on a
// CPU without it. elementwise.cpp calls this only when the CPU has AVX2 and FMA.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <tuple>
#include <type_traits>

#include "elementwise.h"
#include "elementwise_plan.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace {
#include "ops.h"
#include "elementwise_impl.h"
}  // namespace

namespace corten {
void fill_tables_avx2(KernelTables& t) { fill_all(t); }
}  // namespace corten
#pragma GCC pop_options
