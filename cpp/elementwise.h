// Element-wise kernels: out = op(inputs...) over any strides, inputs broadcast
// to out's shape. Dtype rules are decided in Python; these validate and loop.
#pragma once
#include <map>
#include <string>

#include "op_list.h"
#include "view.h"

namespace corten {

#define CORTEN_ENUM(name, F) name,
enum class UnaryOp { CORTEN_UNARY_OPS(CORTEN_ENUM) Count };
enum class BinaryOp { CORTEN_BINARY_OPS(CORTEN_ENUM) Count };
#undef CORTEN_ENUM

using Kernel = void (*)(const View& out, const View* const* ins, const char* name);

// One table per instruction set; elementwise.cpp picks one at run time (simd.h).
struct KernelTables {
  Kernel unary[static_cast<int>(UnaryOp::Count)][kNumDTypes] = {};
  Kernel binary[static_cast<int>(BinaryOp::Count)][kNumDTypes] = {};
  OpKind unary_kind[static_cast<int>(UnaryOp::Count)] = {};  // each functor's kind (ops.h)
  OpKind binary_kind[static_cast<int>(BinaryOp::Count)] = {};
  Kernel cast[kNumDTypes][kNumDTypes] = {};  // [from][to]
  Kernel where[kNumDTypes] = {};
  Kernel clip[kNumDTypes] = {};
  Kernel complex_abs[kNumDTypes] = {};  // complex dtypes only; writes the real dtype
};
void fill_tables_generic(KernelTables& t);
void fill_tables_avx2(KernelTables& t);
void fill_tables_avx512(KernelTables& t);

void unary(UnaryOp op, const View& x, const OutView& out);
void binary(BinaryOp op, const View& a, const View& b, const OutView& out);
void cast(const View& x, const OutView& out);  // converts dtype; also plain strided copy
void where(const View& cond, const View& a, const View& b, const OutView& out);
void clip(const View& x, const View& lo, const View& hi, const OutView& out);
void complex_abs(const View& x, const OutView& out);  // |z| of complex64/complex128 into float32/float64

// {"unary": {name: kind}, "binary": {name: kind}}, kinds named by op_kind_name,
// and "complex": {name: "unary"/"binary"} for the ops with complex kernels.
std::map<std::string, std::map<std::string, std::string>> op_kinds();
// "avx2" or "generic": the table the next call uses (reductions follow the same level).
const char* elementwise_kernel_name();

}  // namespace corten
