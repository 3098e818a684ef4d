// dtype codes shared with Python (corten/_dtype.py uses the same numbers) and
// the one place where a runtime dtype code turns into a C++ type.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace corten {

enum class DType : int8_t { Bool = 0, UInt8 = 1, Int32 = 2, Int64 = 3, Float32 = 4, Float64 = 5 };
constexpr int kNumDTypes = 6;

inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::Bool: return "bool";
    case DType::UInt8: return "uint8";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "unknown";
}

inline int64_t dtype_size(DType d) {
  switch (d) {
    case DType::Bool: case DType::UInt8: return 1;
    case DType::Int32: case DType::Float32: return 4;
    case DType::Int64: case DType::Float64: return 8;
  }
  return 0;
}

template <class T> struct Tag { using type = T; };

// Calls fn(Tag<T>{}) with T the C++ type of `d`. Every kernel's dtype switch
// goes through here so the mapping lives in one place.
template <class Fn>
decltype(auto) dispatch_dtype(DType d, Fn&& fn) {
  switch (d) {
    case DType::Bool: return fn(Tag<bool>{});
    case DType::UInt8: return fn(Tag<uint8_t>{});
    case DType::Int32: return fn(Tag<int32_t>{});
    case DType::Int64: return fn(Tag<int64_t>{});
    case DType::Float32: return fn(Tag<float>{});
    case DType::Float64: return fn(Tag<double>{});
  }
  throw std::invalid_argument("unknown dtype code " + std::to_string(static_cast<int>(d)));
}

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<bool>() { return DType::Bool; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::UInt8; }
template <> constexpr DType dtype_of<int32_t>() { return DType::Int32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }

}  // namespace corten
