// Numeric helpers every kernel shares: type predicates, and integer
// arithmetic that wraps around like NumPy's (done in the unsigned type, since
// signed overflow is undefined behaviour in C++ and int32 math promotes to int).
#pragma once
#include <complex>
#include <cstdint>
#include <type_traits>

namespace corten {

template <class T> constexpr bool is_bool = std::is_same_v<T, bool>;
template <class T> constexpr bool is_float = std::is_floating_point_v<T>;
template <class T> constexpr bool is_int = std::is_integral_v<T> && !is_bool<T>;
template <class T> constexpr bool is_complex = false;
template <class T> constexpr bool is_complex<std::complex<T>> = true;

template <class T, bool = std::is_integral_v<T> && std::is_signed_v<T>> struct Wrap { using type = T; };
template <class T> struct Wrap<T, true> { using type = std::make_unsigned_t<T>; };
template <class T> using wrap_t = typename Wrap<T>::type;

template <class T> inline T wrap_add(T a, T b) {
  return static_cast<T>(static_cast<wrap_t<T>>(a) + static_cast<wrap_t<T>>(b));
}
template <class T> inline T wrap_sub(T a, T b) {
  return static_cast<T>(static_cast<wrap_t<T>>(a) - static_cast<wrap_t<T>>(b));
}
template <class T> inline T wrap_mul(T a, T b) {
  return static_cast<T>(static_cast<wrap_t<T>>(a) * static_cast<wrap_t<T>>(b));
}
template <class T> inline T wrap_neg(T a) { return static_cast<T>(-static_cast<std::make_unsigned_t<T>>(a)); }

// NaN test that is false for every non-float type.
template <class T> inline bool is_nan(T v) {
  if constexpr (is_float<T>) return v != v;
  else return false;
}

}  // namespace corten
