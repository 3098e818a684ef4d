// dtype codes shared with Python (corten/_dtype.py uses the same numbers) and
// the one place where a runtime dtype code turns into a C++ type: every dtype
// switch in the kernels goes through a dispatch_* function below, and the
// binding maps NumPy dtypes to codes through dtype_kind/dtype_size.
#pragma once
#include <complex>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace corten {

enum class DType : int8_t {
  Bool = 0, UInt8 = 1, Int32 = 2, Int64 = 3, Float32 = 4, Float64 = 5, Complex64 = 6, Complex128 = 7
};
constexpr int kNumDTypes = 8;

inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::Bool: return "bool";
    case DType::UInt8: return "uint8";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Complex64: return "complex64";
    case DType::Complex128: return "complex128";
  }
  return "unknown";
}

// NumPy's kind character for d: 'b', 'u', 'i', 'f' or 'c'.
inline char dtype_kind(DType d) {
  switch (d) {
    case DType::Bool: return 'b';
    case DType::UInt8: return 'u';
    case DType::Int32: case DType::Int64: return 'i';
    case DType::Float32: case DType::Float64: return 'f';
    case DType::Complex64: case DType::Complex128: return 'c';
  }
  return '?';
}

inline int64_t dtype_size(DType d) {
  switch (d) {
    case DType::Bool: case DType::UInt8: return 1;
    case DType::Int32: case DType::Float32: return 4;
    case DType::Int64: case DType::Float64: case DType::Complex64: return 8;
    case DType::Complex128: return 16;
  }
  return 0;
}

template <class T> struct Tag { using type = T; };

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<bool>() { return DType::Bool; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::UInt8; }
template <> constexpr DType dtype_of<int32_t>() { return DType::Int32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }
template <> constexpr DType dtype_of<std::complex<float>>() { return DType::Complex64; }
template <> constexpr DType dtype_of<std::complex<double>>() { return DType::Complex128; }

// Complex dtypes go through their own switch (dispatch_complex): the real-valued
// kernels (ordering, reductions, scans, GEMM) are never instantiated for them.
inline bool is_complex_dtype(DType d) { return d == DType::Complex64 || d == DType::Complex128; }

[[noreturn]] inline void throw_complex_unsupported(DType d) {
  throw std::invalid_argument(std::string("this kernel does not support complex dtypes, got ") + dtype_name(d));
}

// Calls fn(Tag<T>{}) with T the C++ type of `d` (real dtypes and bool only;
// a complex dtype throws std::invalid_argument, a ValueError in Python).
template <class Fn>
decltype(auto) dispatch_dtype(DType d, Fn&& fn) {
  switch (d) {
    case DType::Bool: return fn(Tag<bool>{});
    case DType::UInt8: return fn(Tag<uint8_t>{});
    case DType::Int32: return fn(Tag<int32_t>{});
    case DType::Int64: return fn(Tag<int64_t>{});
    case DType::Float32: return fn(Tag<float>{});
    case DType::Float64: return fn(Tag<double>{});
    case DType::Complex64: case DType::Complex128: throw_complex_unsupported(d);
  }
  throw std::invalid_argument("unknown dtype code " + std::to_string(static_cast<int>(d)));
}

// dispatch_dtype plus the complex dtypes (T = std::complex<float/double>), for
// kernels whose loop only copies elements or adds them.
template <class Fn>
decltype(auto) dispatch_dtype_or_complex(DType d, Fn&& fn) {
  if (d == DType::Complex64) return fn(Tag<std::complex<float>>{});
  if (d == DType::Complex128) return fn(Tag<std::complex<double>>{});
  return dispatch_dtype(d, fn);
}

// Calls fn(Tag<T>{}) with T = float or double; any other dtype throws
// std::invalid_argument naming `op` and the dtype (a ValueError in Python).
template <class Fn>
decltype(auto) dispatch_float(DType d, const char* op, Fn&& fn) {
  if (d == DType::Float32) return fn(Tag<float>{});
  if (d != DType::Float64)
    throw std::invalid_argument(std::string(op) + ": expected float32 or float64, got " + dtype_name(d));
  return fn(Tag<double>{});
}

// 16-byte elements (complex128) for code that only moves them.
struct Bits128 { uint64_t lo, hi; };

// Calls fn(Tag<U>{}) with U the unsigned integer of d's item size, for code
// that only moves elements (gather, masked_select, copies): one copy per size.
template <class Fn>
decltype(auto) dispatch_bits(DType d, Fn&& fn) {
  switch (dtype_size(d)) {
    case 1: return fn(Tag<uint8_t>{});
    case 4: return fn(Tag<uint32_t>{});
    case 8: return fn(Tag<uint64_t>{});
    case 16: return fn(Tag<Bits128>{});
  }
  throw std::invalid_argument(std::string("unsupported dtype ") + dtype_name(d));
}

}  // namespace corten
