// The element-wise op lists, as X-macros (python name, functor in ops.h).
// The binding file and the kernel tables are generated from these, so adding
// an op is one line here and one functor in ops.h.
#pragma once

#define CORTEN_BINARY_OPS(X)                                                         \
  X(add, Add) X(subtract, Subtract) X(multiply, Multiply) X(divide, Divide)            \
  X(floor_divide, FloorDivide) X(remainder, Remainder) X(pow, Pow)                     \
  X(maximum, Maximum) X(minimum, Minimum) X(equal, Equal) X(not_equal, NotEqual)       \
  X(less, Less) X(less_equal, LessEqual) X(greater, Greater)                           \
  X(greater_equal, GreaterEqual) X(logical_and, LogicalAnd) X(logical_or, LogicalOr)   \
  X(logical_xor, LogicalXor) X(bitwise_and, BitwiseAnd) X(bitwise_or, BitwiseOr)       \
  X(bitwise_xor, BitwiseXor)

#define CORTEN_UNARY_OPS(X)                                                          \
  X(negative, Negative) X(abs, Abs) X(sign, Sign) X(square, Square) X(sqrt, Sqrt)      \
  X(reciprocal, Reciprocal) X(exp, Exp) X(log, Log) X(log1p, Log1p) X(expm1, Expm1)    \
  X(sin, Sin) X(cos, Cos) X(tanh, Tanh) X(sigmoid, Sigmoid) X(relu, Relu)              \
  X(floor, Floor) X(ceil, Ceil) X(round, Round) X(logical_not, LogicalNot)             \
  X(bitwise_not, BitwiseNot) X(isnan, IsNan) X(isinf, IsInf) X(isfinite, IsFinite)
