// The math of every element-wise op, written once as a functor. The same
// functor serves every dtype and every memory layout; it is compiled twice
// (portable and AVX2/FMA) by being included into each kernel translation unit.
//
// Each functor derives from its kind (op_list.h): Any, Numeric, Integral, Float
// or ToBool. The kind alone says which input dtypes it accepts (`ok<T>`) and
// what it returns (`out<T>`); the loops in elementwise_impl.h, the output dtype
// check in elementwise.cpp and `_C.op_kinds()` all read it from there. Python
// decides the dtypes; kernels reject anything else.
//
// Included only inside an anonymous namespace (see elementwise_impl.h), so the
// standard headers it needs are included by the including file first.
#pragma once
#include "vecmath.h"

namespace ops {

using ::corten::is_float;
using ::corten::wrap_add;
using ::corten::wrap_mul;
using ::corten::wrap_neg;
using ::corten::wrap_sub;

template <::corten::OpKind K> struct Kind {
  static constexpr ::corten::OpKind kind = K;
  template <class T> static constexpr bool ok = ::corten::kind_accepts<K, T>;
  template <class T> using out = ::corten::kind_result<K, T>;
};
using Any = Kind<::corten::OpKind::Any>;
using Numeric = Kind<::corten::OpKind::Numeric>;
using Integral = Kind<::corten::OpKind::Integral>;
using Float = Kind<::corten::OpKind::Float>;
using ToBool = Kind<::corten::OpKind::ToBool>;

// ---- binary ---------------------------------------------------------------
struct Add : Any {
  template <class T> T operator()(T a, T b) const { return wrap_add(a, b); } };
struct Subtract : Numeric {
  template <class T> T operator()(T a, T b) const { return wrap_sub(a, b); } };
struct Multiply : Any {
  template <class T> T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>) return a && b; else return wrap_mul(a, b); } };
struct Divide : Float {
  template <class T> T operator()(T a, T b) const { return a / b; } };

// Python's floor division and modulo: the remainder takes the divisor's sign.
// Integer division by zero gives 0, as NumPy does.
struct FloorDivide : Numeric {
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
        if (b == -1) return wrap_neg(a);  // no overflow trap
        T q = a / b;
        return ((a % b != 0) && ((a < 0) != (b < 0))) ? q - 1 : q;
      } else {
        return a / b;
      }
    }
  } };
struct Remainder : Numeric {
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
struct Pow : Numeric {
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
struct Maximum : Any {
  template <class T> T operator()(T a, T b) const { return (a >= b || a != a) ? a : b; } };
struct Minimum : Any {
  template <class T> T operator()(T a, T b) const { return (a <= b || a != a) ? a : b; } };

struct Equal : ToBool {
  template <class T> bool operator()(T a, T b) const { return a == b; } };
struct NotEqual : ToBool {
  template <class T> bool operator()(T a, T b) const { return a != b; } };
struct Less : ToBool {
  template <class T> bool operator()(T a, T b) const { return a < b; } };
struct LessEqual : ToBool {
  template <class T> bool operator()(T a, T b) const { return a <= b; } };
struct Greater : ToBool {
  template <class T> bool operator()(T a, T b) const { return a > b; } };
struct GreaterEqual : ToBool {
  template <class T> bool operator()(T a, T b) const { return a >= b; } };
struct LogicalAnd : ToBool {
  template <class T> bool operator()(T a, T b) const { return (a != T(0)) && (b != T(0)); } };
struct LogicalOr : ToBool {
  template <class T> bool operator()(T a, T b) const { return (a != T(0)) || (b != T(0)); } };
struct LogicalXor : ToBool {
  template <class T> bool operator()(T a, T b) const { return (a != T(0)) != (b != T(0)); } };
struct BitwiseAnd : Integral {
  template <class T> T operator()(T a, T b) const { return static_cast<T>(a & b); } };
struct BitwiseOr : Integral {
  template <class T> T operator()(T a, T b) const { return static_cast<T>(a | b); } };
struct BitwiseXor : Integral {
  template <class T> T operator()(T a, T b) const { return static_cast<T>(a ^ b); } };

// ---- unary ----------------------------------------------------------------
struct Negative : Numeric {
  template <class T> T operator()(T x) const {
    if constexpr (is_float<T>) return -x;
    else return wrap_neg(x); } };
struct Abs : Any {
  template <class T> T operator()(T x) const {
    if constexpr (is_float<T>) return std::fabs(x);
    else if constexpr (std::is_signed_v<T>) return x < 0 ? wrap_neg(x) : x;
    else return x; } };
struct Sign : Numeric {
  template <class T> T operator()(T x) const {
    if constexpr (is_float<T>) return x > 0 ? T(1) : (x < 0 ? T(-1) : (x == 0 ? T(0) : x));
    else return static_cast<T>((T(0) < x) - (x < T(0))); } };
struct Square : Numeric {
  template <class T> T operator()(T x) const { return wrap_mul(x, x); } };
struct Sqrt : Float {
  template <class T> T operator()(T x) const { return std::sqrt(x); } };
struct Reciprocal : Float {
  template <class T> T operator()(T x) const { return T(1) / x; } };
struct Exp : Float {
  template <class T> T operator()(T x) const { return corten::vm::exp(x); } };
struct Log : Float {
  template <class T> T operator()(T x) const { return corten::vm::log(x); } };
struct Log1p : Float {
  template <class T> T operator()(T x) const { return corten::vm::log1p(x); } };
struct Expm1 : Float {
  template <class T> T operator()(T x) const { return corten::vm::expm1(x); } };
struct Sin : Float {
  template <class T> T operator()(T x) const { return corten::vm::sin(x); } };
struct Cos : Float {
  template <class T> T operator()(T x) const { return corten::vm::cos(x); } };
struct Tanh : Float {
  template <class T> T operator()(T x) const { return corten::vm::tanh(x); } };
struct Sigmoid : Float {
  template <class T> T operator()(T x) const { return corten::vm::sigmoid(x); } };
// log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|); NaN stays NaN.
struct Softplus : Float {
  template <class T> T operator()(T x) const {
    const T a = x < T(0) ? -x : x;
    return (x > T(0) ? x : T(0)) + corten::vm::log1p(corten::vm::exp(-a)); } };
struct Relu : Numeric {
  template <class T> T operator()(T x) const { return x > T(0) ? x : (x != x ? x : T(0)); } };
struct Floor : Any {
  template <class T> T operator()(T x) const { if constexpr (is_float<T>) return std::floor(x); else return x; } };
struct Ceil : Any {
  template <class T> T operator()(T x) const { if constexpr (is_float<T>) return std::ceil(x); else return x; } };
// Round half to even, as NumPy and PyTorch do.
struct Round : Any {
  template <class T> T operator()(T x) const { if constexpr (is_float<T>) return std::nearbyint(x); else return x; } };
struct LogicalNot : ToBool {
  template <class T> bool operator()(T x) const { return x == T(0); } };
struct BitwiseNot : Integral {
  template <class T> T operator()(T x) const { if constexpr (std::is_same_v<T, bool>) return !x; else return static_cast<T>(~x); } };
struct IsNan : ToBool {
  template <class T> bool operator()(T x) const { if constexpr (is_float<T>) return x != x; else return false; } };
struct IsInf : ToBool {
  template <class T> bool operator()(T x) const {
    if constexpr (is_float<T>) return std::fabs(x) == std::numeric_limits<T>::infinity(); else return false; } };
struct IsFinite : ToBool {
  template <class T> bool operator()(T x) const {
    if constexpr (is_float<T>) return (x - x) == (x - x); else return true; } };

// ---- ternary --------------------------------------------------------------
// clip(x, lo, hi) = minimum(maximum(x, lo), hi), NaN in any operand propagates.
struct Clip : Numeric {
  template <class T> T operator()(T x, T lo, T hi) const { return Minimum{}(Maximum{}(x, lo), hi); } };

}  // namespace ops

