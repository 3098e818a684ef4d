// Loop bodies for the element-wise kernels. Included inside an anonymous
// namespace by elementwise_generic.cpp and elementwise_avx2.cpp, so each
// translation unit gets its own copy compiled for its instruction set and
// nothing built for AVX2 can be linked into the portable path.

// Item size as a signed number: byte strides may be negative, and dividing one
// by an unsigned sizeof would turn -4 / 4 into 2^62 - 1.
template <class T> constexpr int64_t isz = static_cast<int64_t>(sizeof(T));

// Casts defined for each (from, to) pair: complex sources only to complex or
// bool (Python refuses complex -> real; the table entry stays empty).
template <class From, class To>
constexpr bool castable = !::corten::is_complex<From> || ::corten::is_complex<To> || std::is_same_v<To, bool>;

template <class T> struct Caster {
  // float -> int conversions out of range are undefined in C++; map them to
  // the wrap of the int64 value (NaN/out of range -> INT64_MIN, as x86 does).
  template <class S> static T from(S v) {
    if constexpr (std::is_same_v<T, bool>) return v != S(0);
    else if constexpr (std::is_floating_point_v<S> && std::is_integral_v<T>) {
      int64_t i = (v == v && v >= S(-9.2233720368547758e18) && v < S(9.2233720368547758e18))
                      ? static_cast<int64_t>(v) : std::numeric_limits<int64_t>::min();
      return static_cast<T>(i);
    } else return static_cast<T>(v);
  }
};

// ---- Non-temporal output ------------------------------------------------------
// A contiguous output run of at least kStreamMinBytes (one thread's share) goes
// around the caches: results are made in an L1-sized block, then written with
// streaming stores, which skip the read of each output line a normal store does
// first (a 16M-float scale on one core: 8.3 ms -> 5.4 ms). Shorter outputs stay in
// cache for the op that reads them next. Results are the same bits either way.
constexpr int64_t kStreamMinBytes = int64_t(8) << 20;
constexpr int64_t kStreamBlock = 4096;

#if (defined(__x86_64__) || defined(_M_X64)) && defined(CORTEN_STREAM_WIDTH)
// dst 64-byte aligned, bytes a multiple of 64.
inline void stream_lines(char* dst, const char* src, int64_t bytes) {
  for (int64_t i = 0; i < bytes; i += CORTEN_STREAM_WIDTH) {
#if CORTEN_STREAM_WIDTH == 64
    _mm512_stream_si512(reinterpret_cast<__m512i*>(dst + i), _mm512_load_si512(src + i));
#elif CORTEN_STREAM_WIDTH == 32
    _mm256_stream_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_load_si256(reinterpret_cast<const __m256i*>(src + i)));
#else
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i), _mm_load_si128(reinterpret_cast<const __m128i*>(src + i)));
#endif
  }
}

// Writes results [0, n) of a contiguous run through fill(dst, i0, count), which
// puts results i0 .. i0 + count - 1 at dst[0 .. count). False, with nothing
// written, when the run is too short or its alignment does not allow it.
// (Software prefetch of the inputs a few blocks ahead was measured slower.)
template <class Out, class Fill>
bool stream_run(Out* o, int64_t n, Fill&& fill) {
  const auto addr = reinterpret_cast<uintptr_t>(o);
  if (n * isz<Out> < kStreamMinBytes || kStreamBlock % isz<Out> != 0 || addr % sizeof(Out) != 0) return false;
  const int64_t head_bytes = static_cast<int64_t>((64 - addr % 64) % 64);
  if (head_bytes % isz<Out> != 0) return false;
  const int64_t head = head_bytes / isz<Out>, per = kStreamBlock / isz<Out>;
  if (head) fill(o, 0, head);  // ordinary stores up to the first whole line
  alignas(64) unsigned char raw[kStreamBlock];
  Out* buf = reinterpret_cast<Out*>(raw);
  int64_t i = head;
  for (; i + per <= n; i += per) {
    fill(buf, i, per);
    stream_lines(reinterpret_cast<char*>(o + i), reinterpret_cast<const char*>(raw), kStreamBlock);
  }
  if (i < n) fill(o + i, i, n - i);
  _mm_sfence();  // streamed lines are visible before the kernel returns
  return true;
}
#else
template <class Out, class Fill>
bool stream_run(Out*, int64_t, Fill&&) { return false; }
#endif

template <class Op, class In>
void unary_kernel(const ::corten::View& out, const ::corten::View* const* ins, const char* name) {
  using Out = typename Op::template out<In>;
  auto plan = ::corten::make_plan<2>(out, ins, name);
  ::corten::run_plan(plan, [](int64_t n, char* const* p, const int64_t* s) {
    Out* o = reinterpret_cast<Out*>(p[0]);
    const In* x = reinterpret_cast<const In*>(p[1]);
    const Op op{};
    if (s[0] == sizeof(Out) && s[1] == sizeof(In)) {
      auto fill = [&](Out* d, int64_t i0, int64_t c) {
        for (int64_t i = 0; i < c; ++i) d[i] = op(x[i0 + i]);
      };
      if (!stream_run(o, n, fill)) fill(o, 0, n);
    } else if (s[1] == 0) {
      const Out v = op(x[0]);
      const int64_t so = s[0] / isz<Out>;
      for (int64_t i = 0; i < n; ++i) o[i * so] = v;
    } else {
      const int64_t so = s[0] / isz<Out>, sx = s[1] / isz<In>;
      for (int64_t i = 0; i < n; ++i) o[i * so] = op(x[i * sx]);
    }
  });
}

template <class Op, class In>
void binary_kernel(const ::corten::View& out, const ::corten::View* const* ins, const char* name) {
  using Out = typename Op::template out<In>;
  auto plan = ::corten::make_plan<3>(out, ins, name);
  ::corten::run_plan(plan, [](int64_t n, char* const* p, const int64_t* s) {
    Out* o = reinterpret_cast<Out*>(p[0]);
    const In* a = reinterpret_cast<const In*>(p[1]);
    const In* b = reinterpret_cast<const In*>(p[2]);
    const Op op{};
    constexpr int64_t so1 = sizeof(Out), si1 = sizeof(In);
    if (s[0] == so1 && s[1] == si1 && s[2] == si1) {
      auto fill = [&](Out* d, int64_t i0, int64_t c) {
        for (int64_t i = 0; i < c; ++i) d[i] = op(a[i0 + i], b[i0 + i]);
      };
      if (!stream_run(o, n, fill)) fill(o, 0, n);
    } else if (s[0] == so1 && s[1] == 0 && s[2] == si1) {
      const In av = a[0];
      auto fill = [&](Out* d, int64_t i0, int64_t c) {
        for (int64_t i = 0; i < c; ++i) d[i] = op(av, b[i0 + i]);
      };
      if (!stream_run(o, n, fill)) fill(o, 0, n);
    } else if (s[0] == so1 && s[1] == si1 && s[2] == 0) {
      const In bv = b[0];
      auto fill = [&](Out* d, int64_t i0, int64_t c) {
        for (int64_t i = 0; i < c; ++i) d[i] = op(a[i0 + i], bv);
      };
      if (!stream_run(o, n, fill)) fill(o, 0, n);
    } else {
      const int64_t so = s[0] / so1, sa = s[1] / si1, sb = s[2] / si1;
      for (int64_t i = 0; i < n; ++i) o[i * so] = op(a[i * sa], b[i * sb]);
    }
  });
}

template <class From, class To>
void cast_kernel(const ::corten::View& out, const ::corten::View* const* ins, const char* name) {
  auto plan = ::corten::make_plan<2>(out, ins, name);
  ::corten::run_plan(plan, [](int64_t n, char* const* p, const int64_t* s) {
    To* o = reinterpret_cast<To*>(p[0]);
    const From* x = reinterpret_cast<const From*>(p[1]);
    if (s[0] == sizeof(To) && s[1] == sizeof(From)) {
      for (int64_t i = 0; i < n; ++i) o[i] = Caster<To>::from(x[i]);
    } else {
      const int64_t so = s[0] / isz<To>, sx = s[1] / isz<From>;
      for (int64_t i = 0; i < n; ++i) o[i * so] = Caster<To>::from(x[i * sx]);
    }
  });
}

template <size_t N> struct UintOfSize;
template <> struct UintOfSize<1> { using type = uint8_t; };
template <> struct UintOfSize<4> { using type = uint32_t; };
template <> struct UintOfSize<8> { using type = uint64_t; };

// c ? x : y as bit masks: the compiler turns this into vector and/or, where a
// plain ?: on a byte condition stays a scalar loop (or a branch that mispredicts
// on random masks, a ReLU gradient's for one).
template <class T> inline T select_bits(uint8_t c, T x, T y) {
  if constexpr (::corten::is_complex<T>) {  // not a trivial type for memcpy; a plain ?: instead
    return c ? x : y;
  } else {
  using U = typename UintOfSize<sizeof(T)>::type;
  U xb, yb;
  std::memcpy(&xb, &x, sizeof(T));
  std::memcpy(&yb, &y, sizeof(T));
  const U m = U(0) - U(c != 0);
  const U r = static_cast<U>((xb & m) | (yb & static_cast<U>(~m)));
  T out;
  std::memcpy(&out, &r, sizeof(T));
  return out;
  }
}

template <class T>
void where_kernel(const ::corten::View& out, const ::corten::View* const* ins, const char* name) {
  auto plan = ::corten::make_plan<4>(out, ins, name);
  ::corten::run_plan(plan, [](int64_t n, char* const* p, const int64_t* s) {
    const int64_t so = s[0] / isz<T>, sc = s[1], sa = s[2] / isz<T>, sb = s[3] / isz<T>;
    T* __restrict o = reinterpret_cast<T*>(p[0]);
    const uint8_t* __restrict c = reinterpret_cast<const uint8_t*>(p[1]);  // bool bytes
    const T* a = reinterpret_cast<const T*>(p[2]);
    const T* b = reinterpret_cast<const T*>(p[3]);
    if (so == 1 && sc == 1 && sa == 1 && sb == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = select_bits(c[i], a[i], b[i]);
    } else if (so == 1 && sc == 1 && sa == 1 && sb == 0) {
      const T y = b[0];
      for (int64_t i = 0; i < n; ++i) o[i] = select_bits(c[i], a[i], y);
    } else if (so == 1 && sc == 1 && sa == 0 && sb == 1) {
      const T x = a[0];
      for (int64_t i = 0; i < n; ++i) o[i] = select_bits(c[i], x, b[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * so] = select_bits(c[i * sc], a[i * sa], b[i * sb]);
    }
  });
}

template <class T>
void clip_kernel(const ::corten::View& out, const ::corten::View* const* ins, const char* name) {
  auto plan = ::corten::make_plan<4>(out, ins, name);
  ::corten::run_plan(plan, [](int64_t n, char* const* p, const int64_t* s) {
    const int64_t so = s[0] / isz<T>, sx = s[1] / isz<T>, sl = s[2] / isz<T>, sh = s[3] / isz<T>;
    T* o = reinterpret_cast<T*>(p[0]);
    const T* x = reinterpret_cast<const T*>(p[1]);
    const T* lo = reinterpret_cast<const T*>(p[2]);
    const T* hi = reinterpret_cast<const T*>(p[3]);
    const ops::Clip op{};
    if (so == 1 && sx == 1 && sl == 0 && sh == 0) {
      const T l = lo[0], h = hi[0];
      for (int64_t i = 0; i < n; ++i) o[i] = op(x[i], l, h);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * so] = op(x[i * sx], lo[i * sl], hi[i * sh]);
    }
  });
}

using AllTypes =
    std::tuple<bool, uint8_t, int32_t, int64_t, float, double, std::complex<float>, std::complex<double>>;

template <class Op, class Fn>
void for_each_type(Fn&& fn) {
  std::apply([&](auto... tags) { (fn(tags), ...); }, AllTypes{});
}

template <class Op>
void fill_unary(::corten::Kernel* row) {
  for_each_type<Op>([&](auto tag) {
    using T = decltype(tag);
    if constexpr (Op::template ok<T>) row[static_cast<int>(::corten::dtype_of<T>())] = &unary_kernel<Op, T>;
  });
}

template <class Op>
void fill_binary(::corten::Kernel* row) {
  for_each_type<Op>([&](auto tag) {
    using T = decltype(tag);
    if constexpr (Op::template ok<T>) row[static_cast<int>(::corten::dtype_of<T>())] = &binary_kernel<Op, T>;
  });
}

void fill_all(::corten::KernelTables& t) {
#define CORTEN_FILL_U(name, F)                                             \
  fill_unary<ops::F>(t.unary[static_cast<int>(::corten::UnaryOp::name)]); \
  t.unary_kind[static_cast<int>(::corten::UnaryOp::name)] = ops::F::kind;
#define CORTEN_FILL_B(name, F)                                                \
  fill_binary<ops::F>(t.binary[static_cast<int>(::corten::BinaryOp::name)]); \
  t.binary_kind[static_cast<int>(::corten::BinaryOp::name)] = ops::F::kind;
  CORTEN_UNARY_OPS(CORTEN_FILL_U)
  CORTEN_BINARY_OPS(CORTEN_FILL_B)
#undef CORTEN_FILL_U
#undef CORTEN_FILL_B
  for_each_type<void>([&](auto from) {
    using F = decltype(from);
    for_each_type<void>([&](auto to) {
      using T = decltype(to);
      if constexpr (castable<F, T>)
        t.cast[static_cast<int>(::corten::dtype_of<F>())][static_cast<int>(::corten::dtype_of<T>())] =
            &cast_kernel<F, T>;
    });
    t.where[static_cast<int>(::corten::dtype_of<F>())] = &where_kernel<F>;
    if constexpr (ops::Clip::ok<F>) t.clip[static_cast<int>(::corten::dtype_of<F>())] = &clip_kernel<F>;
    if constexpr (::corten::is_complex<F>)
      t.complex_abs[static_cast<int>(::corten::dtype_of<F>())] = &unary_kernel<ops::ComplexAbs, F>;
  });
}
