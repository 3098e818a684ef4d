// Validation and instruction-set dispatch for the element-wise kernels.
#include "elementwise.h"

#include <string>

#include "simd.h"

namespace corten {

namespace {

// The tables the CPU can run are filled once; the SIMD level in force (simd.h) picks
// one per call.
struct Tables {
  KernelTables generic, avx2, avx512;
  Tables() {
    fill_tables_generic(generic);
    if (simd_cpu_level() >= SimdLevel::avx2) fill_tables_avx2(avx2);
    if (simd_cpu_level() >= SimdLevel::avx512) fill_tables_avx512(avx512);
  }
};

const Tables& all_tables() {
  static const Tables t;
  return t;
}

const KernelTables& tables() {
  const Tables& t = all_tables();
  // simd_level() never exceeds the CPU's, so the table it names was filled.
  if (simd_at_least(SimdLevel::avx512)) return t.avx512;
  return simd_at_least(SimdLevel::avx2) ? t.avx2 : t.generic;
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

// The dtype an op of kind k writes for inputs of dtype `in`.
DType result_dtype(OpKind k, DType in) { return k == OpKind::ToBool ? DType::Bool : in; }

}  // namespace

const char* elementwise_kernel_name() {
  const KernelTables& t = tables();
  return &t == &all_tables().avx512 ? "avx512" : &t == &all_tables().avx2 ? "avx2" : "generic";
}

void unary(UnaryOp op, const View& x, const OutView& out) {
  const int i = static_cast<int>(op);
  const KernelTables& t = tables();
  Kernel k = t.unary[i][static_cast<int>(x.dtype)];
  if (!k) unsupported(kUnaryNames[i], x.dtype);
  require_dtype(out, result_dtype(t.unary_kind[i], x.dtype), kUnaryNames[i], "output");
  const View* ins[] = {&x};
  k(out, ins, kUnaryNames[i]);
}

void binary(BinaryOp op, const View& a, const View& b, const OutView& out) {
  const int i = static_cast<int>(op);
  same_dtype(a, b, kBinaryNames[i]);
  const KernelTables& t = tables();
  Kernel k = t.binary[i][static_cast<int>(a.dtype)];
  if (!k) unsupported(kBinaryNames[i], a.dtype);
  require_dtype(out, result_dtype(t.binary_kind[i], a.dtype), kBinaryNames[i], "output");
  const View* ins[] = {&a, &b};
  k(out, ins, kBinaryNames[i]);
}

std::map<std::string, std::map<std::string, std::string>> op_kinds() {
  const KernelTables& t = all_tables().generic;
  std::map<std::string, std::map<std::string, std::string>> r;
  for (int i = 0; i < static_cast<int>(UnaryOp::Count); ++i) r["unary"][kUnaryNames[i]] = op_kind_name(t.unary_kind[i]);
  for (int i = 0; i < static_cast<int>(BinaryOp::Count); ++i)
    r["binary"][kBinaryNames[i]] = op_kind_name(t.binary_kind[i]);
  const int c64 = static_cast<int>(DType::Complex64);
  for (int i = 0; i < static_cast<int>(UnaryOp::Count); ++i)
    if (t.unary[i][c64]) r["complex"][kUnaryNames[i]] = "unary";
  for (int i = 0; i < static_cast<int>(BinaryOp::Count); ++i)
    if (t.binary[i][c64]) r["complex"][kBinaryNames[i]] = "binary";
  return r;
}

void cast(const View& x, const OutView& out) {
  Kernel k = tables().cast[static_cast<int>(x.dtype)][static_cast<int>(out.dtype)];
  if (!k)
    throw std::invalid_argument(std::string("copy: cannot convert ") + dtype_name(x.dtype) + " to " +
                                dtype_name(out.dtype));
  const View* ins[] = {&x};
  k(out, ins, "copy");
}

void complex_abs(const View& x, const OutView& out) {
  Kernel k = tables().complex_abs[static_cast<int>(x.dtype)];
  if (!k) unsupported("complex_abs", x.dtype);
  require_dtype(out, x.dtype == DType::Complex64 ? DType::Float32 : DType::Float64, "complex_abs", "output");
  const View* ins[] = {&x};
  k(out, ins, "complex_abs");
}

void where(const View& cond, const View& a, const View& b, const OutView& out) {
  require_dtype(cond, DType::Bool, "where", "condition");
  same_dtype(a, b, "where");
  require_dtype(out, a.dtype, "where", "output");
  const View* ins[] = {&cond, &a, &b};
  tables().where[static_cast<int>(a.dtype)](out, ins, "where");
}

void clip(const View& x, const View& lo, const View& hi, const OutView& out) {
  same_dtype(x, lo, "clip");
  same_dtype(x, hi, "clip");
  require_dtype(out, x.dtype, "clip", "output");
  Kernel k = tables().clip[static_cast<int>(x.dtype)];
  if (!k) unsupported("clip", x.dtype);
  const View* ins[] = {&x, &lo, &hi};
  k(out, ins, "clip");
}

}  // namespace corten
