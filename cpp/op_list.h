// The element-wise op lists, as X-macros (python name, functor in ops.h), and
// the kinds an op can be. Each functor in ops.h declares its kind once (which
// dtypes it accepts, whether it returns bool); the kernel tables, the output
// dtype check, the bindings and `_C.op_kinds()` are all generated from these,
// so adding an op is one line here and one functor in ops.h.
#pragma once
#include <cstdint>

#include "numeric.h"

#define CORTEN_BINARY_OPS(X)                                                         \
  X(add, Add) X(subtract, Subtract) X(multiply, Multiply) X(divide, Divide)            \
  X(floor_divide, FloorDivide) X(remainder, Remainder) X(pow, Pow)                     \
  X(maximum, Maximum) X(minimum, Minimum) X(equal, Equal) X(not_equal, NotEqual)       \
  X(less, Less) X(less_equal, LessEqual) X(greater, Greater)                           \
  X(greater_equal, GreaterEqual) X(logical_and, LogicalAnd) X(logical_or, LogicalOr)   \
  X(logical_xor, LogicalXor) X(bitwise_and, BitwiseAnd) X(bitwise_or, BitwiseOr)       \
  X(bitwise_xor, BitwiseXor) X(atan2, Atan2) X(hypot, Hypot) X(copysign, Copysign) X(logaddexp, Logaddexp)   \
  X(nextafter, Nextafter) X(bitwise_left_shift, BitwiseLeftShift) X(bitwise_right_shift, BitwiseRightShift)

#define CORTEN_UNARY_OPS(X)                                                          \
  X(negative, Negative) X(abs, Abs) X(sign, Sign) X(square, Square) X(sqrt, Sqrt)      \
  X(reciprocal, Reciprocal) X(exp, Exp) X(log, Log) X(log1p, Log1p) X(expm1, Expm1)    \
  X(sin, Sin) X(cos, Cos) X(tanh, Tanh) X(sigmoid, Sigmoid) X(softplus, Softplus)      \
  X(relu, Relu)                                                                        \
  X(floor, Floor) X(ceil, Ceil) X(round, Round) X(logical_not, LogicalNot)             \
  X(bitwise_not, BitwiseNot) X(isnan, IsNan) X(isinf, IsInf) X(isfinite, IsFinite)             \
  X(tan, Tan) X(asin, Asin) X(acos, Acos) X(atan, Atan) X(sinh, Sinh) X(cosh, Cosh) X(asinh, Asinh)   \
  X(acosh, Acosh) X(atanh, Atanh) X(log2, Log2) X(log10, Log10) X(trunc, Trunc) X(signbit, Signbit)

namespace corten {

// What an element-wise op accepts and returns. All operands share one dtype;
// Python promotes them first (and computes Float ops of integers in float).
enum class OpKind : int8_t {
  Any,       // every dtype; result in the input dtype
  Numeric,   // every dtype but bool
  Integral,  // bool and the integers (the bitwise ops)
  Integer,   // the integers only (the shifts)
  Float,     // float32 and float64 only
  ToBool,    // every dtype; result bool (comparisons, logical ops, predicates)
};

// The names Python sees in `_C.op_kinds()`.
inline const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::Any: return "any";
    case OpKind::Numeric: return "numeric";
    case OpKind::Integral: return "integral";
    case OpKind::Integer: return "integer";
    case OpKind::Float: return "float";
    case OpKind::ToBool: return "to_bool";
  }
  return "unknown";
}

// Real dtypes an op of kind K accepts. Complex dtypes are opt-in per op (ops.h:
// a functor deriving from a kind with complex support), never implied by the kind.
template <OpKind K, class T>
constexpr bool kind_accepts = !is_complex<T> && (K == OpKind::Any || K == OpKind::ToBool || (K == OpKind::Numeric && !is_bool<T>) ||
                              (K == OpKind::Integral && std::is_integral_v<T>) ||
                              (K == OpKind::Integer && std::is_integral_v<T> && !is_bool<T>) || (K == OpKind::Float && is_float<T>));
template <OpKind K, class T>
constexpr bool kind_accepts_complex = is_complex<T> && K != OpKind::Integral && K != OpKind::Integer;

template <OpKind K, class T> using kind_result = std::conditional_t<K == OpKind::ToBool, bool, T>;

}  // namespace corten
