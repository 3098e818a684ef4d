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

using ::corten::is_complex;

// Complex: whether the op also has complex64/complex128 kernels (the `...C` kinds).
template <::corten::OpKind K, bool Complex = false> struct Kind {
  static constexpr ::corten::OpKind kind = K;
  template <class T>
  static constexpr bool ok = ::corten::kind_accepts<K, T> || (Complex && ::corten::kind_accepts_complex<K, T>);
  template <class T> using out = ::corten::kind_result<K, T>;
};
using Any = Kind<::corten::OpKind::Any>;
using Numeric = Kind<::corten::OpKind::Numeric>;
using Integral = Kind<::corten::OpKind::Integral>;
using Float = Kind<::corten::OpKind::Float>;
using ToBool = Kind<::corten::OpKind::ToBool>;
using Integer = Kind<::corten::OpKind::Integer>;
using AnyC = Kind<::corten::OpKind::Any, true>;
using NumericC = Kind<::corten::OpKind::Numeric, true>;
using FloatC = Kind<::corten::OpKind::Float, true>;
using ToBoolC = Kind<::corten::OpKind::ToBool, true>;

// ---- complex helpers --------------------------------------------------------
// log(1 + z): for small |z|, log|1 + z| = log1p(x (2 + x) + y^2) / 2 and the
// argument atan2(y, 1 + x), which keep the digits log(1 + z) loses; elsewhere
// (and for every infinity and NaN) clog(1 + z), whose Annex G cases are the
// standard's log1p table.
template <class T> T complex_log1p(T z) {
  using R = typename T::value_type;
  const R x = z.real(), y = z.imag();
  if (std::fabs(x) < R(0.5) && std::fabs(y) < R(0.5)) {
    return T(R(0.5) * std::log1p(x * (R(2) + x) + y * y), std::atan2(y, R(1) + x));
  }
  return std::log(T(R(1) + x, y));
}

// exp(z) - 1 = (expm1(x) cos y - 2 sin^2(y/2)) + i e^x sin y, accurate near 0;
// the standard's special cases: a zero imaginary part keeps expm1 of the real
// one (+0 for either zero), -inf gives -1 with a zero of sin(y)'s sign, +inf with a non-finite y
// gives inf + NaN j.
template <class T> T complex_expm1(T z) {
  using R = typename T::value_type;
  const R x = z.real(), y = z.imag();
  if (y == R(0)) return T(x == R(0) ? R(0) : std::expm1(x), y);  // ±0 + 0j gives +0 + 0j
  if (std::isinf(x) && x < R(0)) return T(R(-1), std::isfinite(y) ? std::copysign(R(0), std::sin(y)) : R(0));
  if (std::isinf(x) && !std::isfinite(y)) return T(x, std::numeric_limits<R>::quiet_NaN());
  const R h = std::sin(y / R(2));
  return T(std::expm1(x) * std::cos(y) - R(2) * h * h, std::exp(x) * std::sin(y));
}

// ---- binary ---------------------------------------------------------------
struct Add : AnyC {
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_complex<T>) return a + b; else return wrap_add(a, b); } };
struct Subtract : NumericC {
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_complex<T>) return a - b; else return wrap_sub(a, b); } };
// Complex products and quotients are std::complex's, which recover infinities
// from NaN results as C99 Annex G (and the Array API's special cases) ask.
struct Multiply : AnyC {
  template <class T> T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>) return a && b;
    else if constexpr (is_complex<T>) return a * b;
    else return wrap_mul(a, b); } };
struct Divide : FloatC {
  template <class T> T operator()(T a, T b) const { return a / b; } };

// Python's floor division and modulo: the remainder takes the divisor's sign.
// Integer division by zero gives 0, as NumPy does. Float infinities follow the
// standard's special cases rather than Python's: inf // finite is a signed inf
// and finite // inf the signed zero of the quotient (-1 // inf is -0, not -1).
struct FloorDivide : Numeric {
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_float<T>) {
      if (b == 0 || std::isinf(a) || std::isinf(b)) return a / b;  // inf/inf and NaN give NaN
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

struct Equal : ToBoolC {
  template <class T> bool operator()(T a, T b) const { return a == b; } };
struct NotEqual : ToBoolC {
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
// Shifts by a count outside [0, bits) are defined, as NumPy defines them: a left
// shift gives 0, a right shift gives the sign fill (0, or -1 for a negative signed
// value); a negative count counts as too large. Left shifts wrap through the
// unsigned type (shifting a negative signed value is not UB that way).
struct BitwiseLeftShift : Integer {
  template <class T> T operator()(T a, T b) const {
    using U = std::make_unsigned_t<T>;
    constexpr U bits = sizeof(T) * 8;
    if (static_cast<U>(b) >= bits) return T(0);
    return static_cast<T>(static_cast<U>(static_cast<U>(a) << static_cast<U>(b))); } };
struct BitwiseRightShift : Integer {
  template <class T> T operator()(T a, T b) const {
    using U = std::make_unsigned_t<T>;
    constexpr U bits = sizeof(T) * 8;
    if (static_cast<U>(b) >= bits) {
      if constexpr (std::is_signed_v<T>) return a < T(0) ? T(-1) : T(0); else return T(0);
    }
    return static_cast<T>(a >> static_cast<U>(b)); } };

// ---- unary ----------------------------------------------------------------
struct Negative : NumericC {
  template <class T> T operator()(T x) const {
    if constexpr (is_float<T> || is_complex<T>) return -x;
    else return wrap_neg(x); } };
struct Abs : Any {
  template <class T> T operator()(T x) const {
    if constexpr (is_float<T>) return std::fabs(x);
    else if constexpr (std::is_signed_v<T>) return x < 0 ? wrap_neg(x) : x;
    else return x; } };
// Complex: z / |z| (the standard's definition), 0 for 0; a NaN part gives NaN + NaN j.
struct Sign : NumericC {
  template <class T> T operator()(T x) const {
    if constexpr (is_complex<T>) {
      using R = typename T::value_type;
      if (x.real() == R(0) && x.imag() == R(0)) return T(R(0), R(0));
      const R m = std::hypot(x.real(), x.imag());
      return T(x.real() / m, x.imag() / m);
    } else if constexpr (is_float<T>) return x > 0 ? T(1) : (x < 0 ? T(-1) : (x == 0 ? T(0) : x));
    else return static_cast<T>((T(0) < x) - (x < T(0))); } };
struct Square : NumericC {
  template <class T> T operator()(T x) const {
    if constexpr (is_complex<T>) return x * x; else return wrap_mul(x, x); } };
// Complex exp/log/sqrt are libstdc++'s (glibc's cexp/clog/csqrt, which follow
// C99 Annex G: the branch cuts, signed zeros and infinities the standard lists).
struct Sqrt : FloatC {
  template <class T> T operator()(T x) const { return std::sqrt(x); } };
struct Reciprocal : FloatC {
  template <class T> T operator()(T x) const { return T(1) / x; } };
struct Exp : FloatC {
  template <class T> T operator()(T x) const {
    if constexpr (is_complex<T>) return std::exp(x); else return corten::vm::exp(x); } };
struct Log : FloatC {
  template <class T> T operator()(T x) const {
    if constexpr (is_complex<T>) return std::log(x); else return corten::vm::log(x); } };
// Complex log1p and expm1 keep their accuracy near 0 (where log(1 + z) and
// exp(z) - 1 cancel) and give the standard's special cases (the log1p ones are
// clog's at 1 + z; see complex_log1p/complex_expm1 below).
struct Log1p : FloatC {
  template <class T> T operator()(T x) const {
    if constexpr (is_complex<T>) return complex_log1p(x); else return corten::vm::log1p(x); } };
struct Expm1 : FloatC {
  template <class T> T operator()(T x) const {
    if constexpr (is_complex<T>) return complex_expm1(x); else return corten::vm::expm1(x); } };
struct Sin : FloatC {
  template <class T> T operator()(T x) const {
    if constexpr (is_complex<T>) return std::sin(x); else return corten::vm::sin(x); } };
struct Cos : FloatC {
  template <class T> T operator()(T x) const {
    if constexpr (is_complex<T>) return std::cos(x); else return corten::vm::cos(x); } };
// Complex tanh(±inf + iy), y finite, is ±1 with the zero of y's sign (the standard's
// table; glibc's ctanh takes the zero's sign from sin(2y)).
struct Tanh : FloatC {
  template <class T> T operator()(T x) const {
    if constexpr (is_complex<T>) {
      using R = typename T::value_type;
      if (std::isinf(x.real()) && std::isfinite(x.imag()))
        return T(std::copysign(R(1), x.real()), std::copysign(R(0), x.imag()));
      return std::tanh(x);
    } else {
      return corten::vm::tanh(x);
    } } };
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
// Round half to even, as NumPy and PyTorch do; complex: each part.
struct Round : AnyC {
  template <class T> T operator()(T x) const {
    if constexpr (is_complex<T>) return T(std::nearbyint(x.real()), std::nearbyint(x.imag()));
    else if constexpr (is_float<T>) return std::nearbyint(x);
    else return x; } };
struct LogicalNot : ToBool {
  template <class T> bool operator()(T x) const { return x == T(0); } };
struct BitwiseNot : Integral {
  template <class T> T operator()(T x) const { if constexpr (std::is_same_v<T, bool>) return !x; else return static_cast<T>(~x); } };
struct IsNan : ToBoolC {
  template <class T> bool operator()(T x) const {
    if constexpr (is_complex<T>) return x.real() != x.real() || x.imag() != x.imag();
    else if constexpr (is_float<T>) return x != x;
    else return false; } };
struct IsInf : ToBoolC {
  template <class T> bool operator()(T x) const {
    if constexpr (is_complex<T>) return std::isinf(x.real()) || std::isinf(x.imag());
    else if constexpr (is_float<T>) return std::fabs(x) == std::numeric_limits<T>::infinity();
    else return false; } };
struct IsFinite : ToBoolC {
  template <class T> bool operator()(T x) const {
    if constexpr (is_complex<T>) return std::isfinite(x.real()) && std::isfinite(x.imag());
    else if constexpr (is_float<T>) return (x - x) == (x - x);
    else return true; } };

// libm's functions (correctly signed zeros, infinities and NaN as C99 Annex F
// and the standard's special cases ask; for complex inputs glibc's c* functions,
// Annex G); not vectorised.
struct Tan : FloatC { template <class T> T operator()(T x) const { return std::tan(x); } };
struct Asin : FloatC { template <class T> T operator()(T x) const { return std::asin(x); } };
struct Acos : FloatC { template <class T> T operator()(T x) const { return std::acos(x); } };
struct Atan : FloatC { template <class T> T operator()(T x) const { return std::atan(x); } };
struct Sinh : FloatC { template <class T> T operator()(T x) const { return std::sinh(x); } };
struct Cosh : FloatC { template <class T> T operator()(T x) const { return std::cosh(x); } };
struct Asinh : FloatC { template <class T> T operator()(T x) const { return std::asinh(x); } };
struct Acosh : FloatC { template <class T> T operator()(T x) const { return std::acosh(x); } };
struct Atanh : FloatC { template <class T> T operator()(T x) const { return std::atanh(x); } };
// Complex: log(z) with both parts scaled by log2(e) or log10(e), as NumPy does (a
// positive constant keeps the special values of log's table).
template <class T> T complex_log_scaled(T x, typename T::value_type scale) {
  const T l = std::log(x);
  return T(l.real() * scale, l.imag() * scale);
}
struct Log2 : FloatC {
  template <class T> T operator()(T x) const {
    if constexpr (is_complex<T>) return complex_log_scaled(x, typename T::value_type(1.442695040888963407359924681001892137));
    else return std::log2(x); } };
struct Log10 : FloatC {
  template <class T> T operator()(T x) const {
    if constexpr (is_complex<T>) return complex_log_scaled(x, typename T::value_type(0.434294481903251827651128918916605082));
    else return std::log10(x); } };
struct Trunc : Any {
  template <class T> T operator()(T x) const { if constexpr (is_float<T>) return std::trunc(x); else return x; } };
struct Signbit : ToBool {
  template <class T> bool operator()(T x) const {
    if constexpr (is_float<T>) return std::signbit(x);
    else if constexpr (std::is_signed_v<T>) return x < 0;
    else return false; } };
struct Atan2 : Float { template <class T> T operator()(T a, T b) const { return std::atan2(a, b); } };
struct Hypot : Float { template <class T> T operator()(T a, T b) const { return std::hypot(a, b); } };
struct Copysign : Float { template <class T> T operator()(T a, T b) const { return std::copysign(a, b); } };
struct Nextafter : Float { template <class T> T operator()(T a, T b) const { return std::nextafter(a, b); } };
// log(e^a + e^b) = max + log1p(e^-|a - b|); equal infinities give that infinity.
struct Logaddexp : Float {
  template <class T> T operator()(T a, T b) const {
    if (a == b) return a + std::log(T(2));  // also inf + log 2 = inf, -inf stays -inf
    const T m = a > b ? a : b, d = a > b ? b - a : a - b;
    if (d != d) return d;  // NaN in either
    return m + std::log1p(std::exp(d)); } };

// |z| of a complex z, a real result (hypot: no overflow for large parts; an
// infinite part gives inf even with a NaN other part). Not a table op: its
// result dtype is the input's real dtype, which no kind expresses.
struct ComplexAbs {
  template <class T> using out = typename T::value_type;
  template <class T> typename T::value_type operator()(T x) const { return std::hypot(x.real(), x.imag()); } };

// ---- ternary --------------------------------------------------------------
// clip(x, lo, hi) = minimum(maximum(x, lo), hi), NaN in any operand propagates.
struct Clip : Numeric {
  template <class T> T operator()(T x, T lo, T hi) const { return Minimum{}(Maximum{}(x, lo), hi); } };

}  // namespace ops

