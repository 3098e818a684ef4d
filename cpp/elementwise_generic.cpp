// The element-wise kernel table compiled for any x86-64 (or other) CPU.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <tuple>
#include <type_traits>

#include "elementwise.h"
#include "elementwise_plan.h"

namespace {
#include "ops.h"
#include "elementwise_impl.h"
}  // namespace

namespace corten {
void fill_tables_generic(KernelTables& t) { fill_all(t); }
}  // namespace corten
