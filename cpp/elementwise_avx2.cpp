// The element-wise kernel table compiled for AVX2/FMA. Only the code between
// CORTEN_BEGIN_AVX2 and CORTEN_END_AVX2 (simd.h) is built for AVX2: shared inline helpers from the headers
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
#include "simd.h"

CORTEN_BEGIN_AVX2
namespace {
#include "ops.h"
#include "elementwise_impl.h"
}  // namespace

namespace corten {
void fill_tables_avx2(KernelTables& t) { fill_all(t); }
}  // namespace corten
CORTEN_END_AVX2
