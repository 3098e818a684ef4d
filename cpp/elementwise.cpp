// Validation and instruction-set dispatch for the element-wise kernels.
#include "elementwise.h"

#include <atomic>
#include <cstdlib>
#include <string>

namespace corten {

namespace {

bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

struct Tables {
  KernelTables generic, avx2;
  bool have_avx2 = false;
  Tables() {
    fill_tables_generic(generic);
    have_avx2 = cpu_has_avx2();
    if (have_avx2) fill_tables_avx2(avx2);
  }
};

const Tables& all_tables() {
  static const Tables t;
  return t;
}

std::atomic<bool> g_force_generic{std::getenv("CORTEN_SIMD") && std::string(std::getenv("CORTEN_SIMD")) == "generic"};

const KernelTables& tables() {
  const Tables& t = all_tables();
  return (t.have_avx2 && !g_force_generic.load(std::memory_order_relaxed)) ? t.avx2 : t.generic;
}

const char* const kUnaryNames[] = {
#define CORTEN_NAME(name, F) #name,
    CORTEN_UNARY_OPS(CORTEN_NAME)};
const char* const kBinaryNames[] = {CORTEN_BINARY_OPS(CORTEN_NAME)
#undef CORTEN_NAME
};

void same_dtype(const View& a, const View& b, const char* op) {
  if (a.dtype != b.dtype)
    throw std::invalid_argument(std::string(op) + ": operands have dtypes " + dtype_name(a.dtype) + " and " +
                                dtype_name(b.dtype) + "; the kernel needs one dtype");
}

[[noreturn]] void unsupported(const char* op, DType d) {
  throw std::invalid_argument(std::string(op) + ": not supported for dtype " + dtype_name(d));
}

// Output dtype an op produces: comparisons and predicates give bool.
DType out_dtype_of(Kernel probe_bool_out, DType in) { return probe_bool_out ? DType::Bool : in; }

}  // namespace

const char* simd_level() {
  const Tables& t = all_tables();
  return (t.have_avx2 && !g_force_generic.load()) ? "avx2" : "generic";
}
void set_simd_generic(bool on) { g_force_generic.store(on); }

static bool unary_gives_bool(UnaryOp op) {
  return op == UnaryOp::logical_not || op == UnaryOp::isnan || op == UnaryOp::isinf || op == UnaryOp::isfinite;
}
static bool binary_gives_bool(BinaryOp op) {
  switch (op) {
    case BinaryOp::equal: case BinaryOp::not_equal: case BinaryOp::less: case BinaryOp::less_equal:
    case BinaryOp::greater: case BinaryOp::greater_equal: case BinaryOp::logical_and:
    case BinaryOp::logical_or: case BinaryOp::logical_xor: return true;
    default: return false;
  }
}

void unary(UnaryOp op, const View& x, const View& out) {
  const char* name = kUnaryNames[static_cast<int>(op)];
  Kernel k = tables().unary[static_cast<int>(op)][static_cast<int>(x.dtype)];
  if (!k) unsupported(name, x.dtype);
  require_dtype(out, out_dtype_of(unary_gives_bool(op) ? k : nullptr, x.dtype), name, "output");
  const View* ins[] = {&x};
  k(out, ins, name);
}

void binary(BinaryOp op, const View& a, const View& b, const View& out) {
  const char* name = kBinaryNames[static_cast<int>(op)];
  same_dtype(a, b, name);
  Kernel k = tables().binary[static_cast<int>(op)][static_cast<int>(a.dtype)];
  if (!k) unsupported(name, a.dtype);
  require_dtype(out, out_dtype_of(binary_gives_bool(op) ? k : nullptr, a.dtype), name, "output");
  const View* ins[] = {&a, &b};
  k(out, ins, name);
}

void cast(const View& x, const View& out) {
  const View* ins[] = {&x};
  tables().cast[static_cast<int>(x.dtype)][static_cast<int>(out.dtype)](out, ins, "copy");
}

void where(const View& cond, const View& a, const View& b, const View& out) {
  require_dtype(cond, DType::Bool, "where", "condition");
  same_dtype(a, b, "where");
  require_dtype(out, a.dtype, "where", "output");
  const View* ins[] = {&cond, &a, &b};
  tables().where[static_cast<int>(a.dtype)](out, ins, "where");
}

void clip(const View& x, const View& lo, const View& hi, const View& out) {
  same_dtype(x, lo, "clip");
  same_dtype(x, hi, "clip");
  require_dtype(out, x.dtype, "clip", "output");
  Kernel k = tables().clip[static_cast<int>(x.dtype)];
  if (!k) unsupported("clip", x.dtype);
  const View* ins[] = {&x, &lo, &hi};
  k(out, ins, "clip");
}

}  // namespace corten
