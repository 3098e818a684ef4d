// Max and average pooling over NCHW arrays, forward and backward. Threads split the
// (n, c) planes, so every output (and every gx plane) has one writer.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "conv.h"
#include "parallel.h"

namespace corten {

namespace {

struct PoolGeometry {
  int64_t N, C, H, W, OH, OW;
};

std::string pair(int64_t a, int64_t b) { return "(" + std::to_string(a) + ", " + std::to_string(b) + ")"; }

PoolGeometry pool_geometry(const View& x, const View& out, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                           int64_t ph, int64_t pw, int64_t dh, int64_t dw, const char* op,
                           bool allow_ceil = false) {
  const std::string name(op);
  if (x.ndim != 4 || out.ndim != 4)
    throw std::invalid_argument(name + ": expected 4-D arrays, got " + shape_str(x) + " and " + shape_str(out));
  if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || ph < 0 || pw < 0)
    throw std::invalid_argument(name + ": kernel, stride and dilation must be positive and padding "
                                "non-negative, got kernel " + pair(kh, kw) + ", stride " + pair(sh, sw) +
                                ", padding " + pair(ph, pw) + ", dilation " + pair(dh, dw));
  if (2 * ph > kh || 2 * pw > kw)
    throw std::invalid_argument(name + ": padding " + pair(ph, pw) + " must be at most half the kernel " +
                                pair(kh, kw));
  PoolGeometry g{x.shape[0], x.shape[1], x.shape[2], x.shape[3], 0, 0};
  const int64_t eh = dh * (kh - 1) + 1, ew = dw * (kw - 1) + 1;
  if (eh > g.H + 2 * ph || ew > g.W + 2 * pw)
    throw std::invalid_argument(name + ": kernel " + pair(kh, kw) + " larger than the padded input " +
                                pair(g.H + 2 * ph, g.W + 2 * pw));
  g.OH = (g.H + 2 * ph - eh) / sh + 1;
  g.OW = (g.W + 2 * pw - ew) / sw + 1;
  // With allow_ceil (max pooling), ceil_mode sizes are accepted too: one more window per dim
  // when the last one would still start inside the input or its left padding (PyTorch's rule).
  auto ceil_size = [](int64_t in, int64_t e, int64_t s, int64_t p) {
    int64_t o = (in + 2 * p - e + s - 1) / s + 1;
    if ((o - 1) * s >= in + p) --o;
    return o;
  };
  const int64_t oh = out.shape[2], ow = out.shape[3];
  const bool h_ok = oh == g.OH || (allow_ceil && oh == ceil_size(g.H, eh, sh, ph));
  const bool w_ok = ow == g.OW || (allow_ceil && ow == ceil_size(g.W, ew, sw, pw));
  if (out.shape[0] != g.N || out.shape[1] != g.C || !h_ok || !w_ok)
    throw std::invalid_argument(name + ": output " + shape_str(out) + " does not match input " + shape_str(x) +
                                " (expected spatial size " + pair(g.OH, g.OW) +
                                (allow_ceil ? ", or " + pair(ceil_size(g.H, eh, sh, ph), ceil_size(g.W, ew, sw, pw)) +
                                                  " with ceil_mode)"
                                            : std::string(")")));
  g.OH = oh, g.OW = ow;
  if (x.dtype != out.dtype) throw std::invalid_argument(name + ": input and output dtypes differ");
  return g;
}

void require_contiguous(const View& v, const char* op, const char* what) {
  if (!v.is_contiguous())
    throw std::invalid_argument(std::string(op) + ": " + what + " " + shape_str(v) + " must be C-contiguous");
}

template <class F> void over_planes(int64_t planes, int64_t per_plane, F&& f) {
  parallel_ranges(planes, threads_for(planes * per_plane), [&](int64_t b, int64_t e) {
    for (int64_t q = b; q < e; ++q) f(q);
  });
}

}  // namespace

void max_pool2d_forward(const View& x, const OutView& out, const OutView& idx, int64_t kh, int64_t kw,
                        int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
  const PoolGeometry g = pool_geometry(x, out, kh, kw, sh, sw, ph, pw, dh, dw, "max_pool2d", true);
  require_contiguous(out, "max_pool2d", "output");
  require_contiguous(idx, "max_pool2d", "indices");
  require_dtype(idx, DType::Int64, "max_pool2d", "indices");
  if (idx.ndim != 4 || idx.size() != out.size())
    throw std::invalid_argument("max_pool2d: indices " + shape_str(idx) + " must match output " + shape_str(out));
  if (out.size() == 0) return;
  dispatch_float(x.dtype, "max_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    // Strides and sizes in locals: the output stores could otherwise alias them for the compiler.
    const int64_t sH = x.strides[2], sW = x.strides[3], H = g.H, W = g.W, OH = g.OH, OW = g.OW;
    const bool two_by_two = kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && dh == 1 && dw == 1 &&
                            2 * OH <= H && 2 * OW <= W;  // no ceil_mode window past the edge
    over_planes(g.N * g.C, OH * OW * kh * kw, [&](int64_t q) {
      const int64_t n = q / g.C, c = q % g.C;
      const T* plane = x.ptr<T>() + n * x.strides[0] + c * x.strides[1];
      T* o = out.ptr<T>() + q * OH * OW;
      int64_t* ix = idx.ptr<int64_t>() + q * OH * OW;
      if (two_by_two) {
        // The convnet's pooling, without data-dependent branches (on random data the general
        // loop's compares mispredict about half the time): the maximum from max instructions,
        // the first position holding it from compare results used as integers. A window whose
        // sum is NaN (a NaN, or both infinities) takes the general rule: the first NaN wins.
        for (int64_t oh = 0; oh < OH; ++oh) {
          const T* r0 = plane + 2 * oh * sH;
          const T* r1 = r0 + sH;
          const int64_t i0 = 2 * oh * W;
          for (int64_t ow = 0; ow < OW; ++ow) {
            const int64_t w0 = 2 * ow * sW, w1 = w0 + sW, at = i0 + 2 * ow;
            const T a = r0[w0], b = r0[w1], c2 = r1[w0], d = r1[w1];
            const T sum = (a + b) + (c2 + d);
            T best;
            int64_t where;
            if (sum == sum) {
              best = std::max(std::max(a, b), std::max(c2, d));
              const int64_t na = !(a == best), nb = na & !(b == best), nc = nb & !(c2 == best);
              where = at + na + nb * (W - 1) + nc;
            } else {
              const T v[4] = {a, b, c2, d};
              const int64_t off[4] = {0, 1, W, W + 1};
              best = a, where = at;
              for (int k = 1; k < 4 && best == best; ++k)
                if (!(v[k] <= best)) best = v[k], where = at + off[k];
            }
            o[oh * OW + ow] = best;
            ix[oh * OW + ow] = where;
          }
        }
        return;
      }
      for (int64_t oh = 0; oh < OH; ++oh) {
        int64_t h0 = oh * sh - ph;
        const int64_t h1 = std::min(h0 + (kh - 1) * dh + 1, H);
        while (h0 < 0) h0 += dh;
        for (int64_t ow = 0; ow < OW; ++ow) {
          int64_t w0 = ow * sw - pw;
          const int64_t w1 = std::min(w0 + (kw - 1) * dw + 1, W);
          while (w0 < 0) w0 += dw;
          T best = -std::numeric_limits<T>::infinity();
          int64_t at = h0 * W + w0;
          bool nan = false;
          for (int64_t h = h0; h < h1 && !nan; h += dh) {
            const T* row = plane + h * sH;
            for (int64_t w = w0; w < w1; w += dw) {
              const T v = row[w * sW];
              if (!(v <= best)) {  // greater, or NaN: NaN wins and stops the search
                best = v, at = h * W + w;
                if (v != v) {
                  nan = true;
                  break;
                }
              }
            }
          }
          o[oh * OW + ow] = best;
          ix[oh * OW + ow] = at;
        }
      }
    });
  });
}

void max_pool2d_backward(const View& gy, const View& idx, const OutView& gx) {
  if (gy.ndim != 4 || idx.ndim != 4 || gx.ndim != 4 || gy.dtype != gx.dtype || idx.dtype != DType::Int64)
    throw std::invalid_argument("max_pool2d_backward: expected 4-D gradients of one dtype and int64 indices, got " +
                                shape_str(gy) + ", " + shape_str(idx) + ", " + shape_str(gx));
  for (int d = 0; d < 4; ++d)
    if (gy.shape[d] != idx.shape[d] || (d < 2 && gx.shape[d] != gy.shape[d]))
      throw std::invalid_argument("max_pool2d_backward: shapes " + shape_str(gy) + ", " + shape_str(idx) + ", " +
                                  shape_str(gx) + " do not match");
  require_contiguous(gy, "max_pool2d_backward", "output gradient");
  require_contiguous(idx, "max_pool2d_backward", "indices");
  require_contiguous(gx, "max_pool2d_backward", "input gradient");
  const int64_t planes = gx.shape[0] * gx.shape[1], in = gx.shape[2] * gx.shape[3];
  const int64_t outp = gy.shape[2] * gy.shape[3];
  if (gx.size() == 0) return;
  dispatch_float(gx.dtype, "max_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    bool bad = false;
    over_planes(planes, in + outp, [&](int64_t q) {
      T* d = gx.ptr<T>() + q * in;
      std::fill(d, d + in, T(0));
      const T* s = gy.ptr<T>() + q * outp;
      const int64_t* ix = idx.ptr<int64_t>() + q * outp;
      for (int64_t p = 0; p < outp; ++p) {
        if (ix[p] < 0 || ix[p] >= in) {
          bad = true;  // benign race: every writer stores true
          continue;
        }
        d[ix[p]] += s[p];
      }
    });
    if (bad) throw std::invalid_argument("max_pool2d_backward: index out of range for input " + shape_str(gx));
  });
}

template <class T, class F>
static void avg_windows(const PoolGeometry& g, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                        int64_t pw, bool count_include_pad, F&& f) {
  for (int64_t oh = 0; oh < g.OH; ++oh)
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const int64_t h0 = oh * sh - ph, w0 = ow * sw - pw;
      const int64_t a = std::max<int64_t>(h0, 0), b = std::min(h0 + kh, g.H);
      const int64_t c = std::max<int64_t>(w0, 0), d = std::min(w0 + kw, g.W);
      const int64_t count = count_include_pad ? kh * kw : (b - a) * (d - c);
      f(oh * g.OW + ow, a, b, c, d, T(1) / T(count));
    }
}

void avg_pool2d_forward(const View& x, const OutView& out, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                        int64_t ph, int64_t pw, bool count_include_pad) {
  const PoolGeometry g = pool_geometry(x, out, kh, kw, sh, sw, ph, pw, 1, 1, "avg_pool2d");
  require_contiguous(out, "avg_pool2d", "output");
  if (out.size() == 0) return;
  dispatch_float(x.dtype, "avg_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    over_planes(g.N * g.C, g.OH * g.OW * kh * kw, [&](int64_t q) {
      const int64_t n = q / g.C, c = q % g.C;
      const T* plane = x.ptr<T>() + n * x.strides[0] + c * x.strides[1];
      T* o = out.ptr<T>() + q * g.OH * g.OW;
      avg_windows<T>(g, kh, kw, sh, sw, ph, pw, count_include_pad,
                     [&](int64_t p, int64_t h0, int64_t h1, int64_t w0, int64_t w1, T scale) {
                       T s = 0;
                       for (int64_t h = h0; h < h1; ++h)
                         for (int64_t w = w0; w < w1; ++w) s += plane[h * x.strides[2] + w * x.strides[3]];
                       o[p] = s * scale;
                     });
    });
  });
}

void avg_pool2d_backward(const View& gy, const OutView& gx, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                         int64_t ph, int64_t pw, bool count_include_pad) {
  const PoolGeometry g = pool_geometry(gx, gy, kh, kw, sh, sw, ph, pw, 1, 1, "avg_pool2d_backward");
  require_contiguous(gy, "avg_pool2d_backward", "output gradient");
  require_contiguous(gx, "avg_pool2d_backward", "input gradient");
  if (gx.size() == 0) return;
  dispatch_float(gx.dtype, "avg_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    over_planes(g.N * g.C, g.OH * g.OW * kh * kw, [&](int64_t q) {
      T* d = gx.ptr<T>() + q * g.H * g.W;
      std::fill(d, d + g.H * g.W, T(0));
      const T* s = gy.ptr<T>() + q * g.OH * g.OW;
      avg_windows<T>(g, kh, kw, sh, sw, ph, pw, count_include_pad,
                     [&](int64_t p, int64_t h0, int64_t h1, int64_t w0, int64_t w1, T scale) {
                       const T v = s[p] * scale;
                       for (int64_t h = h0; h < h1; ++h)
                         for (int64_t w = w0; w < w1; ++w) d[h * g.W + w] += v;
                     });
    });
  });
}

}  // namespace corten
