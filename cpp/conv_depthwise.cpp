// Depthwise convolution as direct loops (see conv_depthwise.h).
//
// Output channel o reads input channel o / m (m = O / C outputs per channel). Every
// kernel tap (i, j) adds w[o, i, j] times a shifted input row to each output row; the
// rows a tap reaches inside the image are computed once per tap (Span), so the inner
// loops carry no bounds checks. Work is split by planes that one thread owns whole:
//   forward        per (n, o) output plane, taps in order
//   input grad     per (n, c) input plane, its m output channels and their taps in order
//   weight grad    per output channel o, images in order, one running row per tap
// so results do not depend on the thread count. The plane loops are compiled twice,
// portable and for AVX2 (no FMA in either, so both round alike), and the SIMD level in
// force picks one per call, as the optimizer loops do (optim.cpp).
#include "conv_depthwise.h"

#include <algorithm>
#include <vector>

#include "dtype.h"
#include "parallel.h"
#include "simd.h"

namespace corten {

namespace {

// Output positions k whose input position k * stride + off lies in [0, size): [lo, hi).
struct Span {
  int64_t lo, hi;
};

Span span(int64_t off, int64_t stride, int64_t size, int64_t out) {
  const int64_t lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  const int64_t hi = size - off <= 0 ? 0 : (size - off - 1) / stride + 1;
  return {std::min(lo, out), std::clamp(hi, std::min(lo, out), out)};
}

// One tap's offsets into the input and the output rows and columns it reaches.
struct DwTap {
  int64_t off_h, off_w;
  Span rows, cols;
};

std::vector<DwTap> taps(const DepthwiseShape& s) {
  std::vector<DwTap> t;
  for (int64_t i = 0; i < s.KH; ++i)
    for (int64_t j = 0; j < s.KW; ++j) {
      const int64_t oh = i * s.dh - s.ph, ow = j * s.dw - s.pw;
      t.push_back({oh, ow, span(oh, s.sh, s.H, s.OH), span(ow, s.sw, s.W, s.OW)});
    }
  return t;
}

#define CORTEN_LOOP_BODY inline __attribute__((always_inline))

// o[k * os] += w * x[k * xs] for k < n. Compilers vectorise the constant steps (stride 2
// as even lanes of two loads); other steps run scalar.
template <class T>
CORTEN_LOOP_BODY void axpy(T* __restrict o, int64_t os, const T* __restrict x, int64_t xs, T w, int64_t n) {
  if (os == 1 && xs == 1) {
    for (int64_t k = 0; k < n; ++k) o[k] += w * x[k];
  } else if (os == 1 && xs == 2) {
    for (int64_t k = 0; k < n; ++k) o[k] += w * x[2 * k];
  } else {
    for (int64_t k = 0; k < n; ++k) o[k * os] += w * x[k * xs];
  }
}

// acc[k] += a[k] * x[k * xs] for k < n.
template <class T>
CORTEN_LOOP_BODY void fma_rows(T* __restrict acc, const T* __restrict a, const T* __restrict x, int64_t xs, int64_t n) {
  if (xs == 1) {
    for (int64_t k = 0; k < n; ++k) acc[k] += a[k] * x[k];
  } else if (xs == 2) {
    for (int64_t k = 0; k < n; ++k) acc[k] += a[k] * x[2 * k];
  } else {
    for (int64_t k = 0; k < n; ++k) acc[k] += a[k] * x[k * xs];
  }
}

// Everything a plane loop reads: the arrays as pointers and element strides.
template <class T> struct Job {
  const DepthwiseShape* s;
  const DwTap* taps;
  const T* x;   // input (forward, weight grad) or output gradient (input grad)
  int64_t xn, xc, xh, xw;
  const T* w;   // weights (forward, input grad) or output gradient (weight grad)
  int64_t wo, wh, ww;
  T* out;
  int64_t on, oc, oh, ow;
  const T* bias;
  T* scratch;  // weight grad: one row of OW per tap, per thread
};

template <class T> CORTEN_LOOP_BODY void forward_planes_body(const Job<T>& j, int64_t b, int64_t e) {
  const DepthwiseShape& s = *j.s;
  const int64_t m = s.O / s.C, ntaps = s.KH * s.KW;
  for (int64_t plane = b; plane < e; ++plane) {
    const int64_t n = plane / s.O, o = plane % s.O;
    const T* xs = j.x + n * j.xn + (o / m) * j.xc;
    T* dst = j.out + n * j.on + o * j.oc;  // C-contiguous: rows of OW
    const T init = j.bias ? j.bias[o] : T(0);
    std::fill(dst, dst + s.OH * s.OW, init);
    for (int64_t t = 0; t < ntaps; ++t) {
      const DwTap& tp = j.taps[t];
      const T wv = j.w[o * j.wo + (t / s.KW) * j.wh + (t % s.KW) * j.ww];
      const int64_t cols = tp.cols.hi - tp.cols.lo;
      for (int64_t r = tp.rows.lo; r < tp.rows.hi; ++r) {
        const T* xr = xs + (r * s.sh + tp.off_h) * j.xh + (tp.cols.lo * s.sw + tp.off_w) * j.xw;
        axpy(dst + r * s.OW + tp.cols.lo, 1, xr, s.sw * j.xw, wv, cols);
      }
    }
  }
}

// x here is gy (N, O, OH, OW), out is gx (N, C, H, W).
template <class T> CORTEN_LOOP_BODY void input_grad_planes_body(const Job<T>& j, int64_t b, int64_t e) {
  const DepthwiseShape& s = *j.s;
  const int64_t m = s.O / s.C, ntaps = s.KH * s.KW;
  for (int64_t plane = b; plane < e; ++plane) {
    const int64_t n = plane / s.C, c = plane % s.C;
    T* gx = j.out + n * j.on + c * j.oc;
    for (int64_t h = 0; h < s.H; ++h)
      for (int64_t x = 0; x < s.W; ++x) gx[h * j.oh + x * j.ow] = T(0);
    for (int64_t o = c * m; o < (c + 1) * m; ++o) {
      const T* gy = j.x + n * j.xn + o * j.xc;
      for (int64_t t = 0; t < ntaps; ++t) {
        const DwTap& tp = j.taps[t];
        const T wv = j.w[o * j.wo + (t / s.KW) * j.wh + (t % s.KW) * j.ww];
        const int64_t cols = tp.cols.hi - tp.cols.lo;
        for (int64_t r = tp.rows.lo; r < tp.rows.hi; ++r) {
          T* gr = gx + (r * s.sh + tp.off_h) * j.oh + (tp.cols.lo * s.sw + tp.off_w) * j.ow;
          axpy(gr, s.sw * j.ow, gy + r * j.xh + tp.cols.lo * j.xw, j.xw, wv, cols);
        }
      }
    }
  }
}

// x is the input, w here is gy (N, O, OH, OW), out is gw (O, 1, KH, KW) C-contiguous.
template <class T> CORTEN_LOOP_BODY void weight_grad_planes_body(const Job<T>& j, int64_t b, int64_t e, T* acc) {
  const DepthwiseShape& s = *j.s;
  const int64_t m = s.O / s.C, ntaps = s.KH * s.KW;
  for (int64_t o = b; o < e; ++o) {
    std::fill(acc, acc + ntaps * s.OW, T(0));
    for (int64_t n = 0; n < s.N; ++n) {
      const T* xs = j.x + n * j.xn + (o / m) * j.xc;
      const T* gy = j.w + n * j.wo + o * j.wh;
      for (int64_t t = 0; t < ntaps; ++t) {
        const DwTap& tp = j.taps[t];
        const int64_t cols = tp.cols.hi - tp.cols.lo;
        for (int64_t r = tp.rows.lo; r < tp.rows.hi; ++r) {
          const T* xr = xs + (r * s.sh + tp.off_h) * j.xh + (tp.cols.lo * s.sw + tp.off_w) * j.xw;
          fma_rows(acc + t * s.OW + tp.cols.lo, gy + r * s.OW + tp.cols.lo, xr, s.sw * j.xw, cols);
        }
      }
    }
    for (int64_t t = 0; t < ntaps; ++t) {
      T sum = T(0);
      for (int64_t k = 0; k < s.OW; ++k) sum += acc[t * s.OW + k];
      j.out[o * ntaps + t] = sum;
    }
  }
}

// Each plane loop twice: `loop(avx2, ...)` runs the AVX2 copy or the portable one. The body
// is forced inline into each copy, which is what compiles it for that copy's instructions.
#if defined(__x86_64__)
#define CORTEN_AVX2_COPY __attribute__((target("avx2")))
#else
#define CORTEN_AVX2_COPY
#endif
#define CORTEN_TWO_COPIES(loop)                                                         \
  template <class T, class... A> CORTEN_AVX2_COPY void loop##_avx2(const Job<T>& j, A... a) { \
    loop##_body(j, a...);                                                               \
  }                                                                                     \
  template <class T, class... A> void loop(bool avx2, const Job<T>& j, A... a) {        \
    if (avx2) loop##_avx2(j, a...);                                                     \
    else loop##_body(j, a...);                                                          \
  }
CORTEN_TWO_COPIES(forward_planes)
CORTEN_TWO_COPIES(input_grad_planes)
CORTEN_TWO_COPIES(weight_grad_planes)

bool use_avx2() { return simd_at_least(SimdLevel::avx2); }

// Threads for `planes` planes of `per_plane` multiply-adds each.
int plane_threads(int64_t planes, int64_t per_plane) {
  return static_cast<int>(std::min<int64_t>(threads_for(planes * per_plane, int64_t(1) << 16), planes));
}

template <class T> Job<T> job(const DepthwiseShape& s, const std::vector<DwTap>& t, const View& x, const View& w,
                              const OutView& out) {
  Job<T> j{};
  j.s = &s;
  j.taps = t.data();
  j.x = x.ptr<T>(), j.xn = x.strides[0], j.xc = x.strides[1], j.xh = x.strides[2], j.xw = x.strides[3];
  j.w = w.ptr<T>(), j.wo = w.strides[0], j.wh = w.strides[2], j.ww = w.strides[3];
  j.out = out.ptr<T>(), j.on = out.strides[0], j.oc = out.strides[1], j.oh = out.strides[2], j.ow = out.strides[3];
  return j;
}

}  // namespace

void depthwise_forward(const DepthwiseShape& s, const View& x, const View& w, const View* bias, const OutView& out) {
  const std::vector<DwTap> t = taps(s);
  dispatch_float(x.dtype, "conv2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    Job<T> j = job<T>(s, t, x, w, out);
    j.bias = bias ? bias->ptr<T>() : nullptr;
    const bool avx2 = use_avx2();
    parallel_ranges(s.N * s.O, plane_threads(s.N * s.O, s.OH * s.OW * s.KH * s.KW), [&](int64_t b, int64_t e) {
      forward_planes(avx2, j, b, e);
    });
  });
}

void depthwise_input_grad(const DepthwiseShape& s, const View& gy, const View& w, const OutView& gx) {
  const std::vector<DwTap> t = taps(s);
  dispatch_float(gx.dtype, "conv2d_input_grad", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const Job<T> j = job<T>(s, t, gy, w, gx);
    const bool avx2 = use_avx2();
    const int64_t per_plane = (s.O / s.C) * s.OH * s.OW * s.KH * s.KW;
    parallel_ranges(s.N * s.C, plane_threads(s.N * s.C, per_plane), [&](int64_t b, int64_t e) {
      input_grad_planes(avx2, j, b, e);
    });
  });
}

void depthwise_weight_grad(const DepthwiseShape& s, const View& x, const View& gy, const OutView& gw) {
  const std::vector<DwTap> t = taps(s);
  dispatch_float(x.dtype, "conv2d_weight_grad", [&](auto tag) {
    using T = typename decltype(tag)::type;
    // job() reads gy through the weight slots: strides (n, o) as (wo, wh).
    Job<T> j = job<T>(s, t, x, gy, gw);
    j.wo = gy.strides[0], j.wh = gy.strides[1];
    const bool avx2 = use_avx2();
    const int64_t per_plane = s.N * s.OH * s.OW * s.KH * s.KW;
    parallel_ranges(s.O, plane_threads(s.O, per_plane), [&](int64_t b, int64_t e) {
      std::vector<T> acc(static_cast<size_t>(s.KH * s.KW * s.OW));
      weight_grad_planes(avx2, j, b, e, acc.data());
    });
  });
}

}  // namespace corten
