// The math of every element-wise op, written once as a functor. The same
// functor serves every dtype and every memory layout; it is compiled twice
// (portable and AVX2/FMA) by being included into each kernel translation unit.
//
// Each functor says which input types it accepts (`ok<T>`) and what it returns
// (`out<T>`); the loops in elementwise_impl.h do the rest. Python decides the
// dtypes; kernels reject anything else.
//
// Included only inside an anonymous namespace (see elementwise_impl.h), so the
// standard headers it needs are included by the including file first.
#pragma once
#include "vecmath.h"

namespace ops {

template <class T> constexpr bool is_float = std::is_floating_point_v<T>;
template <class T> constexpr bool is_int = std::is_integral_v<T> && !std::is_same_v<T, bool>;
template <class T> constexpr bool is_num = !std::is_same_v<T, bool>;
template <class T> constexpr bool any_type = true;

// Integer +, - and * wrap around like NumPy's; done in the unsigned type because
// signed overflow is undefined behaviour in C++ (and int32 math promotes to int).
template <class T, bool = std::is_integral_v<T> && std::is_signed_v<T>> struct Wrap { using type = T; };
template <class T> struct Wrap<T, true> { using type = std::make_unsigned_t<T>; };
template <class T> using wrap_t = typename Wrap<T>::type;
template <class T> T wrap_add(T a, T b) { return static_cast<T>(static_cast<wrap_t<T>>(a) + static_cast<wrap_t<T>>(b)); }
template <class T> T wrap_sub(T a, T b) { return static_cast<T>(static_cast<wrap_t<T>>(a) - static_cast<wrap_t<T>>(b)); }
template <class T> T wrap_mul(T a, T b) { return static_cast<T>(static_cast<wrap_t<T>>(a) * static_cast<wrap_t<T>>(b)); }

// ---- binary ---------------------------------------------------------------
struct Same { template <class T> using out = T; };
struct ToBool { template <class T> using out = bool; };

struct Add : Same { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> T operator()(T a, T b) const { return wrap_add(a, b); } };
struct Subtract : Same { template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T a, T b) const { return wrap_sub(a, b); } };
struct Multiply : Same { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>) return a && b; else return wrap_mul(a, b); } };
struct Divide : Same { template <class T> static constexpr bool ok = is_float<T>;
  template <class T> T operator()(T a, T b) const { return a / b; } };

// Python's floor division and modulo: the remainder takes the divisor's sign.
// Integer division by zero gives 0, as NumPy does.
struct FloorDivide : Same { template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_float<T>) {
      if (b == 0) return a / b;
      T mod = std::fmod(a, b);
      T div = (a - mod) / b;
      if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;
      if (div == 0) return std::copysign(T(0), a / b);
      T fl = std::floor(div);
      return (div - fl > T(0.5)) ? fl + 1 : fl;
    } else {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return static_cast<T>(-static_cast<std::make_unsigned_t<T>>(a));  // no overflow trap
        T q = a / b;
        return ((a % b != 0) && ((a < 0) != (b < 0))) ? q - 1 : q;
      } else {
        return a / b;
      }
    }
  } };
struct Remainder : Same { template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_float<T>) {
      if (b == 0) return std::fmod(a, b);
      T mod = std::fmod(a, b);
      if (mod != 0 && ((b < 0) != (mod < 0))) mod += b;
      else if (mod == 0) mod = std::copysign(T(0), b);
      return mod;
    } else {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return 0;
        T m = a % b;
        return (m != 0 && ((m < 0) != (b < 0))) ? m + b : m;
      } else {
        return a % b;
      }
    }
  } };
// Integer powers by squaring (wrapping like NumPy); Python rejects negative
// integer exponents before the kernel runs.
struct Pow : Same { template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_float<T>) {
      return std::pow(a, b);
    } else {
      using U = std::make_unsigned_t<T>;
      U base = static_cast<U>(a), r = 1;
      int64_t e = static_cast<int64_t>(b);
      if (e < 0) return 0;
      while (e) { if (e & 1) r = static_cast<U>(r * base); base = static_cast<U>(base * base); e >>= 1; }
      return static_cast<T>(r);
    }
  } };
// NaN-propagating, as NumPy's maximum/minimum.
struct Maximum : Same { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> T operator()(T a, T b) const { return (a >= b || a != a) ? a : b; } };
struct Minimum : Same { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> T operator()(T a, T b) const { return (a <= b || a != a) ? a : b; } };

struct Equal : ToBool { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> bool operator()(T a, T b) const { return a == b; } };
struct NotEqual : ToBool { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> bool operator()(T a, T b) const { return a != b; } };
struct Less : ToBool { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> bool operator()(T a, T b) const { return a < b; } };
struct LessEqual : ToBool { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> bool operator()(T a, T b) const { return a <= b; } };
struct Greater : ToBool { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> bool operator()(T a, T b) const { return a > b; } };
struct GreaterEqual : ToBool { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> bool operator()(T a, T b) const { return a >= b; } };
struct LogicalAnd : ToBool { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> bool operator()(T a, T b) const { return (a != T(0)) && (b != T(0)); } };
struct LogicalOr : ToBool { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> bool operator()(T a, T b) const { return (a != T(0)) || (b != T(0)); } };
struct LogicalXor : ToBool { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> bool operator()(T a, T b) const { return (a != T(0)) != (b != T(0)); } };
struct BitwiseAnd : Same { template <class T> static constexpr bool ok = std::is_integral_v<T>;
  template <class T> T operator()(T a, T b) const { return static_cast<T>(a & b); } };
struct BitwiseOr : Same { template <class T> static constexpr bool ok = std::is_integral_v<T>;
  template <class T> T operator()(T a, T b) const { return static_cast<T>(a | b); } };
struct BitwiseXor : Same { template <class T> static constexpr bool ok = std::is_integral_v<T>;
  template <class T> T operator()(T a, T b) const { return static_cast<T>(a ^ b); } };

// ---- unary ----------------------------------------------------------------
struct Negative : Same { template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T x) const {
    if constexpr (is_float<T>) return -x;
    else return static_cast<T>(-static_cast<std::make_unsigned_t<T>>(x)); } };
struct Abs : Same { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> T operator()(T x) const {
    if constexpr (is_float<T>) return std::fabs(x);
    else if constexpr (std::is_signed_v<T>) return x < 0 ? static_cast<T>(-static_cast<std::make_unsigned_t<T>>(x)) : x;
    else return x; } };
struct Sign : Same { template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T x) const {
    if constexpr (is_float<T>) return x > 0 ? T(1) : (x < 0 ? T(-1) : (x == 0 ? T(0) : x));
    else return static_cast<T>((T(0) < x) - (x < T(0))); } };
struct Square : Same { template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T x) const { return wrap_mul(x, x); } };
struct Sqrt : Same { template <class T> static constexpr bool ok = is_float<T>;
  template <class T> T operator()(T x) const { return std::sqrt(x); } };
struct Reciprocal : Same { template <class T> static constexpr bool ok = is_float<T>;
  template <class T> T operator()(T x) const { return T(1) / x; } };
struct Exp : Same { template <class T> static constexpr bool ok = is_float<T>;
  template <class T> T operator()(T x) const { return corten::vm::exp(x); } };
struct Log : Same { template <class T> static constexpr bool ok = is_float<T>;
  template <class T> T operator()(T x) const { return corten::vm::log(x); } };
struct Log1p : Same { template <class T> static constexpr bool ok = is_float<T>;
  template <class T> T operator()(T x) const { return corten::vm::log1p(x); } };
struct Expm1 : Same { template <class T> static constexpr bool ok = is_float<T>;
  template <class T> T operator()(T x) const { return corten::vm::expm1(x); } };
struct Sin : Same { template <class T> static constexpr bool ok = is_float<T>;
  template <class T> T operator()(T x) const { return corten::vm::sin(x); } };
struct Cos : Same { template <class T> static constexpr bool ok = is_float<T>;
  template <class T> T operator()(T x) const { return corten::vm::cos(x); } };
struct Tanh : Same { template <class T> static constexpr bool ok = is_float<T>;
  template <class T> T operator()(T x) const { return corten::vm::tanh(x); } };
struct Sigmoid : Same { template <class T> static constexpr bool ok = is_float<T>;
  template <class T> T operator()(T x) const { return corten::vm::sigmoid(x); } };
struct Relu : Same { template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T x) const { return x > T(0) ? x : (x != x ? x : T(0)); } };
struct Floor : Same { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> T operator()(T x) const { if constexpr (is_float<T>) return std::floor(x); else return x; } };
struct Ceil : Same { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> T operator()(T x) const { if constexpr (is_float<T>) return std::ceil(x); else return x; } };
// Round half to even, as NumPy and PyTorch do.
struct Round : Same { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> T operator()(T x) const { if constexpr (is_float<T>) return std::nearbyint(x); else return x; } };
struct LogicalNot : ToBool { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> bool operator()(T x) const { return x == T(0); } };
struct BitwiseNot : Same { template <class T> static constexpr bool ok = std::is_integral_v<T>;
  template <class T> T operator()(T x) const { if constexpr (std::is_same_v<T, bool>) return !x; else return static_cast<T>(~x); } };
struct IsNan : ToBool { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> bool operator()(T x) const { if constexpr (is_float<T>) return x != x; else return false; } };
struct IsInf : ToBool { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> bool operator()(T x) const {
    if constexpr (is_float<T>) return std::fabs(x) == std::numeric_limits<T>::infinity(); else return false; } };
struct IsFinite : ToBool { template <class T> static constexpr bool ok = any_type<T>;
  template <class T> bool operator()(T x) const {
    if constexpr (is_float<T>) return (x - x) == (x - x); else return true; } };

// ---- ternary --------------------------------------------------------------
// clip(x, lo, hi) = minimum(maximum(x, lo), hi), NaN in any operand propagates.
struct Clip : Same { template <class T> static constexpr bool ok = is_num<T>;
  template <class T> T operator()(T x, T lo, T hi) const { return Minimum{}(Maximum{}(x, lo), hi); } };

}  // namespace ops

