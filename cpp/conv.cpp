// 2-D convolution (NCHW input, OIHW weights) on the blocked GEMM of gemm.h.
//
// Output columns are the (image, output pixel) pairs. They are cut into units
// of whole images (several small images per unit, so a GEMM sees at least a
// few hundred columns) and each unit into column tiles whose im2col block
// (K = Cg*KH*KW rows x Q columns) fits in L2: the patch matrix is never built
// for more than one tile per thread. Per tile and group:
//   forward        out_tile (Og x Q)  = W_g (Og x K) @ col (K x Q)      (+ bias)
//   input grad     dcol (K x Q)       = W_g^T @ gy_tile, added back into gx (col2im)
//   weight grad    gW_g (Og x K)     += gy_tile @ col^T
// Threads split units (a unit's gx pixels are its own, so col2im needs no
// locks); when there are fewer units than threads the units run in turn and
// the GEMM threads itself. The weight gradient sums a fixed number of partial
// results in order. Unit and tile sizes depend only on the shapes, so results
// do not depend on the thread count.
#include "conv.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "conv_depthwise.h"
#include "gemm.h"
#include "parallel.h"

namespace corten {

namespace {

// Bytes of one im2col tile: half of a 1 MiB L2 (a quarter gave 0.46x instead of 0.73x PyTorch's
// time on a 3x3 conv at 56x56x64, 1 thread).
constexpr int64_t kTileBytes = 512 * 1024;
// Columns per tile at most (small K would otherwise make huge tiles).
constexpr int64_t kMaxTileCols = 4096;
// Below this many units of several images each, the unit count is rounded up to a
// multiple of 4 so threads get equal shares.
constexpr int64_t kBalancedUnits = 16;
// Partial weight gradients summed in order (fixed: independent of threads).
constexpr int64_t kWeightParts = 8;

struct Geometry {
  int64_t N, C, H, W, O, KH, KW, OH, OW;
  int64_t sh, sw, ph, pw, dh, dw, groups;
  int64_t Cg, Og, K, P;  // channels per group in/out, patch length, output pixels
  int64_t tile_cols;     // Q
  int64_t images_per_unit;
  int64_t pixel_stride;
  int64_t units;
  bool pointwise;  // 1x1, stride 1, no padding: the image itself is the patch matrix
};

std::string dims(int64_t a, int64_t b) { return std::to_string(a) + "x" + std::to_string(b); }

int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
  return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

// Validates the arguments and the three arrays' shapes; `out` is the (N, O, OH, OW) array
// (the output, or the output gradient).
Geometry geometry(const View& x, const View& w, const View& out, int64_t sh, int64_t sw, int64_t ph,
                  int64_t pw, int64_t dh, int64_t dw, int64_t groups, const char* op) {
  const std::string name(op);
  if (x.ndim != 4 || w.ndim != 4 || out.ndim != 4)
    throw std::invalid_argument(name + ": expected 4-D input, weight and output, got " + shape_str(x) + ", " +
                                shape_str(w) + ", " + shape_str(out));
  if (sh < 1 || sw < 1 || dh < 1 || dw < 1 || ph < 0 || pw < 0 || groups < 1)
    throw std::invalid_argument(name + ": stride and dilation must be positive, padding non-negative and groups "
                                "positive, got stride " + dims(sh, sw) + ", padding " + dims(ph, pw) +
                                ", dilation " + dims(dh, dw) + ", groups " + std::to_string(groups));
  if (x.dtype != w.dtype || x.dtype != out.dtype)
    throw std::invalid_argument(name + ": input, weight and output must have one dtype");
  Geometry g{};
  g.N = x.shape[0], g.C = x.shape[1], g.H = x.shape[2], g.W = x.shape[3];
  g.O = w.shape[0], g.KH = w.shape[2], g.KW = w.shape[3];
  g.sh = sh, g.sw = sw, g.ph = ph, g.pw = pw, g.dh = dh, g.dw = dw, g.groups = groups;
  if (g.C % groups != 0 || g.O % groups != 0 || w.shape[1] * groups != g.C)
    throw std::invalid_argument(name + ": weight " + shape_str(w) + " with groups=" + std::to_string(groups) +
                                " does not fit input " + shape_str(x));
  const int64_t eh = dh * (g.KH - 1) + 1, ew = dw * (g.KW - 1) + 1;
  if (g.KH < 1 || g.KW < 1 || eh > g.H + 2 * ph || ew > g.W + 2 * pw)
    throw std::invalid_argument(name + ": kernel " + dims(g.KH, g.KW) + " (dilated " + dims(eh, ew) +
                                ") larger than the padded input " + dims(g.H + 2 * ph, g.W + 2 * pw));
  g.OH = out_size(g.H, g.KH, sh, ph, dh);
  g.OW = out_size(g.W, g.KW, sw, pw, dw);
  if (out.shape[0] != g.N || out.shape[1] != g.O || out.shape[2] != g.OH || out.shape[3] != g.OW)
    throw std::invalid_argument(name + ": output " + shape_str(out) + " does not match input " + shape_str(x) +
                                " and weight " + shape_str(w) + " (expected spatial size " +
                                dims(g.OH, g.OW) + ")");
  g.Cg = g.C / groups, g.Og = g.O / groups;
  g.K = g.Cg * g.KH * g.KW;
  g.P = g.OH * g.OW;
  const int64_t item = dtype_size(x.dtype);
  g.tile_cols = std::clamp<int64_t>(kTileBytes / std::max<int64_t>(1, g.K * item), 16, kMaxTileCols);
  g.images_per_unit = g.P >= g.tile_cols ? 1 : std::max<int64_t>(1, g.tile_cols / std::max<int64_t>(1, g.P));
  g.units = (g.N + g.images_per_unit - 1) / g.images_per_unit;
  if (g.images_per_unit > 1 && g.units < kBalancedUnits) {
    // Few units of many small images: threads would idle for a whole unit (3 units on 2
    // threads run at 2/3 speed). Cut a multiple of 4 units (even for 1, 2 or 4 threads),
    // from the shapes alone, so the result does not depend on the thread count.
    const int64_t want = std::min(g.N, (g.units + 3) / 4 * 4);
    g.images_per_unit = (g.N + want - 1) / want;
    g.units = (g.N + g.images_per_unit - 1) / g.images_per_unit;
  }
  // Pixels of a plane one stride apart (for pointwise convolutions, which read x in place).
  g.pixel_stride = g.H == 1 ? x.strides[3] : g.W == 1 ? x.strides[2] : x.strides[3];
  const bool flat = g.H == 1 || g.W == 1 || x.strides[2] == g.W * x.strides[3];
  g.pointwise = g.KH == 1 && g.KW == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && flat;
  return g;
}

// Weights are read as an O x K matrix: their (c, kh, kw) dims must be one stride apart
// (dims of size one may have any stride).
void require_weight_rows(const View& w, const char* op) {
  int64_t expect = 1;
  for (int d = 3; d >= 1; --d) {
    if (w.shape[d] != 1 && w.strides[d] != expect)
      throw std::invalid_argument(std::string(op) + ": weight " + shape_str(w) +
                                  " must be contiguous in its last three dims");
    expect *= w.shape[d];
  }
}

void require_contiguous(const View& v, const char* op, const char* what) {
  if (!v.is_contiguous())
    throw std::invalid_argument(std::string(op) + ": " + what + " " + shape_str(v) + " must be C-contiguous");
}

// A tile of columns: images [n0, n1) whole (when a unit holds several images),
// or pixels [p0, p1) of image n0 (n1 = n0 + 1).
struct Tile {
  int64_t n0, n1, p0, p1;
  int64_t cols() const { return (n1 - n0) * (p1 - p0); }
};

template <class F> void for_tiles(const Geometry& g, int64_t unit, F&& f) {
  const int64_t n0 = unit * g.images_per_unit, n1 = std::min(g.N, n0 + g.images_per_unit);
  if (n1 - n0 > 1 || g.P <= g.tile_cols) {
    f(Tile{n0, n1, 0, g.P});
    return;
  }
  for (int64_t p = 0; p < g.P; p += g.tile_cols) f(Tile{n0, n1, p, std::min(g.P, p + g.tile_cols)});
}

// Output columns ow whose input column ow * stride + off lies in [0, W): [valid_begin, valid_end).
int64_t valid_begin(int64_t off, int64_t stride) { return off >= 0 ? 0 : (-off + stride - 1) / stride; }
int64_t valid_end(int64_t off, int64_t stride, int64_t W) { return W - off <= 0 ? 0 : (W - off - 1) / stride + 1; }

// One kernel tap (i, j): the input offsets of output pixel (0, 0) and the output rows
// [oh_lo, oh_hi) and columns [ow_lo, ow_hi) whose input pixel lies inside the image.
// Computed once per tap, so the per-row work below is a few compares and one copy
// (small images have rows of 3..11 pixels, where per-row index arithmetic dominated).
struct Tap {
  int64_t off_h, off_w, oh_lo, oh_hi, ow_lo, ow_hi;
};

Tap tap(const Geometry& g, int64_t i, int64_t j) {
  Tap t{};
  t.off_h = i * g.dh - g.ph;
  t.off_w = j * g.dw - g.pw;
  t.oh_lo = std::min(g.OH, valid_begin(t.off_h, g.sh));
  t.oh_hi = std::clamp(valid_end(t.off_h, g.sh, g.H), t.oh_lo, g.OH);
  t.ow_lo = std::min(g.OW, valid_begin(t.off_w, g.sw));
  t.ow_hi = std::clamp(valid_end(t.off_w, g.sw, g.W), t.ow_lo, g.OW);
  return t;
}

// Calls f(oh, a, b, d) for the output rows of pixel range [p0, p1): columns [a, b) of row
// oh, whose first pixel (oh, 0) is at offset d from the range start (d may be negative).
template <class F> void for_rows(const Geometry& g, int64_t p0, int64_t p1, F&& f) {
  for (int64_t oh = p0 / g.OW, base = oh * g.OW; base < p1; ++oh, base += g.OW)
    f(oh, std::max(p0, base) - base, std::min(p1, base + g.OW) - base, base - p0);
}

// A tap that reads inside the image for every output pixel, over a whole image: OH rows of
// OW values, no bounds to test. Restrict pointers: no run-time overlap checks around rows
// of 3..11 values.
template <class T>
void copy_plane(const T* __restrict src, int64_t OH, int64_t OW, int64_t row_step, int64_t step, T* __restrict dst) {
  for (int64_t oh = 0; oh < OH; ++oh, src += row_step, dst += OW) {
    if (step == 1) {
      for (int64_t ow = 0; ow < OW; ++ow) dst[ow] = src[ow];
    } else {
      for (int64_t ow = 0; ow < OW; ++ow) dst[ow] = src[ow * step];
    }
  }
}

template <class T>
void add_plane(const T* __restrict src, int64_t OH, int64_t OW, int64_t row_step, int64_t step, T* __restrict dst) {
  for (int64_t oh = 0; oh < OH; ++oh, src += OW, dst += row_step) {
    if (step == 1) {
      for (int64_t ow = 0; ow < OW; ++ow) dst[ow] += src[ow];
    } else {
      for (int64_t ow = 0; ow < OW; ++ow) dst[ow * step] += src[ow];
    }
  }
}

// col (K x cols, row-major) = patches of group `grp` over the tile's columns.
template <class T> void im2col(const Geometry& g, const View& x, const Tile& t, int64_t grp, T* col) {
  const T* xp = x.ptr<T>();
  const int64_t cols = t.cols(), tp = t.p1 - t.p0;
  const int64_t sN = x.strides[0], sC = x.strides[1], sH = x.strides[2], sW = x.strides[3];
  const int64_t step = g.sw * sW;
  const bool whole = t.p0 == 0 && t.p1 == g.P;
  for (int64_t i = 0; i < g.KH; ++i)
    for (int64_t j = 0; j < g.KW; ++j) {
      const Tap k = tap(g, i, j);
      const bool interior = k.oh_lo == 0 && k.oh_hi == g.OH && k.ow_lo == 0 && k.ow_hi == g.OW;
      for (int64_t c = 0; c < g.Cg; ++c) {
        T* row = col + ((c * g.KH + i) * g.KW + j) * cols;
        for (int64_t n = t.n0; n < t.n1; ++n) {
          const int64_t plane = n * sN + (grp * g.Cg + c) * sC + k.off_w * sW;
          T* dst = row + (n - t.n0) * tp;
          if (interior && whole) {
            copy_plane(xp + (plane + k.off_h * sH), g.OH, g.OW, g.sh * sH, step, dst);
            continue;
          }
          for_rows(g, t.p0, t.p1, [&](int64_t oh, int64_t a, int64_t b, int64_t d) {
            if (oh < k.oh_lo || oh >= k.oh_hi) {
              for (int64_t ow = a; ow < b; ++ow) dst[d + ow] = T(0);
              return;
            }
            const int64_t lo = std::clamp(k.ow_lo, a, b), hi = std::clamp(k.ow_hi, lo, b);
            // Input of column lo (inside the image; off_w may make column 0's negative).
            const T* src = xp + (plane + (oh * g.sh + k.off_h) * sH + lo * step);
            for (int64_t ow = a; ow < lo; ++ow) dst[d + ow] = T(0);
            T* out = dst + (d + lo);
            if (step == 1) {
              for (int64_t q = 0; q < hi - lo; ++q) out[q] = src[q];
            } else {
              for (int64_t q = 0; q < hi - lo; ++q) out[q] = src[q * step];
            }
            for (int64_t ow = hi; ow < b; ++ow) dst[d + ow] = T(0);
          });
        }
      }
    }
}

// gx (group `grp`, the tile's images) += col2im(dcol).
template <class T> void col2im_add(const Geometry& g, const OutView& gx, const Tile& t, int64_t grp, const T* col) {
  T* xp = gx.ptr<T>();
  const int64_t cols = t.cols(), tp = t.p1 - t.p0;
  const int64_t sN = gx.strides[0], sC = gx.strides[1], sH = gx.strides[2], sW = gx.strides[3];
  const int64_t step = g.sw * sW;
  const bool whole = t.p0 == 0 && t.p1 == g.P;
  // Channel-major: all taps of one input plane in a row, while the plane is in L1.
  for (int64_t c = 0; c < g.Cg; ++c)
    for (int64_t i = 0; i < g.KH; ++i)
      for (int64_t j = 0; j < g.KW; ++j) {
        const Tap k = tap(g, i, j);
        const T* row = col + ((c * g.KH + i) * g.KW + j) * cols;
        const bool interior = k.oh_lo == 0 && k.oh_hi == g.OH && k.ow_lo == 0 && k.ow_hi == g.OW;
        for (int64_t n = t.n0; n < t.n1; ++n) {
          const int64_t plane = n * sN + (grp * g.Cg + c) * sC + k.off_w * sW;
          const T* srow = row + (n - t.n0) * tp;
          if (interior && whole) {
            add_plane(srow, g.OH, g.OW, g.sh * sH, step, xp + (plane + k.off_h * sH));
            continue;
          }
          for_rows(g, t.p0, t.p1, [&](int64_t oh, int64_t a, int64_t b, int64_t d) {
            if (oh < k.oh_lo || oh >= k.oh_hi) return;
            const int64_t lo = std::clamp(k.ow_lo, a, b), hi = std::clamp(k.ow_hi, lo, b);
            const T* s = srow + (d + lo);
            T* dst = xp + (plane + (oh * g.sh + k.off_h) * sH + lo * step);
            if (step == 1) {
              for (int64_t q = 0; q < hi - lo; ++q) dst[q] += s[q];
            } else {
              for (int64_t q = 0; q < hi - lo; ++q) dst[q * step] += s[q];
            }
          });
        }
      }
}

// Copies between an (N, O, P) contiguous array's columns of a multi-image tile and a
// dense Og x cols block (group grp).
template <class T> void gather_cols(const Geometry& g, const T* a, const Tile& t, int64_t grp, T* blk) {
  const int64_t cols = t.cols(), tp = t.p1 - t.p0;
  for (int64_t o = 0; o < g.Og; ++o)
    for (int64_t n = t.n0; n < t.n1; ++n)
      std::memcpy(blk + o * cols + (n - t.n0) * tp, a + (n * g.O + grp * g.Og + o) * g.P + t.p0,
                  sizeof(T) * tp);
}

template <class T>
void scatter_cols(const Geometry& g, const T* blk, const Tile& t, int64_t grp, const T* bias, T* a) {
  const int64_t cols = t.cols(), tp = t.p1 - t.p0;
  for (int64_t o = 0; o < g.Og; ++o) {
    const T b = bias ? bias[grp * g.Og + o] : T(0);
    for (int64_t n = t.n0; n < t.n1; ++n) {
      const T* s = blk + o * cols + (n - t.n0) * tp;
      T* d = a + (n * g.O + grp * g.Og + o) * g.P + t.p0;
      for (int64_t p = 0; p < tp; ++p) d[p] = s[p] + b;
    }
  }
}

// Runs f(unit) over all units: on threads when there are enough units, else in turn
// (each GEMM then threads itself).
template <class F> void over_units(const Geometry& g, int64_t flops, F&& f) {
  const int nt = threads_for(flops, int64_t(1) << 20);
  if (nt > 1 && g.units >= nt) {
    parallel_ranges(g.units, nt, [&](int64_t b, int64_t e) {
      for (int64_t u = b; u < e; ++u) f(u);
    });
  } else {
    for (int64_t u = 0; u < g.units; ++u) f(u);
  }
}

template <class T> struct Buffer {
  std::vector<T> v;
  T* get(int64_t n) {
    if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
    return v.data();
  }
};

// ---- Pixel-major patches, for tiles of whole small images with many channels --------------
// The patch matrix is built transposed, one row per output pixel with K in (i, j, c) order,
// from a channels-last copy of the tile's images: every tap is then one run of Cg contiguous
// values (64 floats for the convnet's third layer) instead of rows of 3..11 pixels, and the
// GEMM reads that matrix in place. Weights are reordered to match (a small copy per call).
bool pixel_major(const Geometry& g) { return g.Cg >= 8 && g.P <= g.tile_cols; }

// xt[((n - n0) * H + h) * W + w) * Cg + c] = x[n, grp * Cg + c, h, w]
template <class T> void to_channels_last(const Geometry& g, const View& x, int64_t n0, int64_t n1, int64_t grp, T* xt) {
  const T* xp = x.ptr<T>();
  const int64_t HW = g.H * g.W, Cg = g.Cg;
  for (int64_t n = n0; n < n1; ++n) {
    T* d = xt + (n - n0) * HW * Cg;
    for (int64_t c = 0; c < Cg; ++c) {
      const T* plane = xp + n * x.strides[0] + (grp * Cg + c) * x.strides[1];
      for (int64_t h = 0; h < g.H; ++h) {
        const T* src = plane + h * x.strides[2];
        T* dst = d + h * g.W * Cg + c;
        for (int64_t w = 0; w < g.W; ++w) dst[w * Cg] = src[w * x.strides[3]];
      }
    }
  }
}

// Calls f(q, tap, offset) for each output pixel q of `images` images and each tap whose input
// pixel lies inside the image, offset being that pixel's run in the channels-last images;
// taps in the padding call z(q, tap).
template <class F, class Z> void for_taps(const Geometry& g, int64_t images, F&& f, Z&& z) {
  const int64_t HW = g.H * g.W;
  for (int64_t n = 0; n < images; ++n)
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t q = n * g.P + oh * g.OW + ow;
        for (int64_t i = 0; i < g.KH; ++i) {
          const int64_t ih = oh * g.sh - g.ph + i * g.dh;
          for (int64_t j = 0; j < g.KW; ++j) {
            const int64_t iw = ow * g.sw - g.pw + j * g.dw;
            if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W)
              z(q, i * g.KW + j);
            else
              f(q, i * g.KW + j, (n * HW + ih * g.W + iw) * g.Cg);
          }
        }
      }
}

// colT (cols x K) = patches of the channels-last images xt.
template <class T> void patches_pixel_major(const Geometry& g, const T* xt, int64_t images, T* colT) {
  const int64_t K = g.K, Cg = g.Cg;
  for_taps(
      g, images,
      [&](int64_t q, int64_t tap, int64_t off) {
        std::memcpy(colT + q * K + tap * Cg, xt + off, sizeof(T) * static_cast<size_t>(Cg));
      },
      [&](int64_t q, int64_t tap) { std::fill(colT + q * K + tap * Cg, colT + q * K + (tap + 1) * Cg, T(0)); });
}

template <class T> void add_run(const T* __restrict s, int64_t n, T* __restrict d) {
  for (int64_t c = 0; c < n; ++c) d[c] += s[c];
}

// Weights as O x K with K in (i, j, c) order (transposed: K x O when `transposed`).
template <class T> std::vector<T> weights_pixel_major(const Geometry& g, const View& w, bool transposed) {
  std::vector<T> r(static_cast<size_t>(g.O * g.K));
  const T* wp = w.ptr<T>();
  const int64_t khw = g.KH * g.KW;
  for (int64_t o = 0; o < g.O; ++o)
    for (int64_t c = 0; c < g.Cg; ++c)
      for (int64_t t = 0; t < khw; ++t) {
        const int64_t k = t * g.Cg + c;
        r[static_cast<size_t>(transposed ? k * g.O + o : o * g.K + k)] = wp[o * w.strides[0] + c * khw + t];
      }
  return r;
}

template <class T>
void forward_impl(const Geometry& g, const View& x, const View& w, const View* bias, const OutView& out) {
  const T* wp = w.ptr<T>();
  const T* bp = bias ? bias->ptr<T>() : nullptr;
  T* op = out.ptr<T>();
  const int64_t rsw = w.strides[0];
  over_units(g, g.N * g.O * g.P * g.K, [&](int64_t unit) {
    thread_local Buffer<T> colbuf, outbuf;
    for_tiles(g, unit, [&](const Tile& t) {
      const int64_t cols = t.cols();
      const bool direct = t.n1 - t.n0 == 1;  // the tile's output columns are one strided block
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        const T* wg = wp + grp * g.Og * rsw;
        const T* B;
        int64_t rsb, csb;
        if (g.pointwise && direct) {
          B = x.ptr<T>() + t.n0 * x.strides[0] + grp * g.Cg * x.strides[1] + t.p0 * g.pixel_stride;
          rsb = x.strides[1], csb = g.pixel_stride;
        } else {
          T* col = colbuf.get(g.K * cols);
          im2col<T>(g, x, t, grp, col);
          B = col, rsb = cols, csb = 1;
        }
        if (direct) {
          T* c = op + (t.n0 * g.O + grp * g.Og) * g.P + t.p0;
          gemm<T>(g.Og, cols, g.K, wg, rsw, 1, B, rsb, csb, c, g.P, 1, false);
          if (bp)
            for (int64_t o = 0; o < g.Og; ++o) {
              const T b = bp[grp * g.Og + o];
              T* row = c + o * g.P;
              for (int64_t p = 0; p < cols; ++p) row[p] += b;
            }
        } else {
          T* blk = outbuf.get(g.Og * cols);
          gemm<T>(g.Og, cols, g.K, wg, rsw, 1, B, rsb, csb, blk, cols, 1, false);
          scatter_cols<T>(g, blk, t, grp, bp, op);
        }
      }
    });
  });
}

template <class T> void input_grad_impl(const Geometry& g, const View& gy, const View& w, const OutView& gx) {
  const T* wp = w.ptr<T>();
  const T* gp = gy.ptr<T>();
  const int64_t rsw = w.strides[0];
  over_units(g, g.N * g.O * g.P * g.K, [&](int64_t unit) {
    thread_local Buffer<T> colbuf, gybuf;
    const int64_t n0 = unit * g.images_per_unit, n1 = std::min(g.N, n0 + g.images_per_unit);
    if (gx.is_contiguous()) {
      std::fill(gx.ptr<T>() + n0 * g.C * g.H * g.W, gx.ptr<T>() + n1 * g.C * g.H * g.W, T(0));
    } else {
      for (int64_t n = n0; n < n1; ++n)
        for (int64_t c = 0; c < g.C; ++c)
          for (int64_t h = 0; h < g.H; ++h) {
            T* row = gx.ptr<T>() + n * gx.strides[0] + c * gx.strides[1] + h * gx.strides[2];
            for (int64_t x = 0; x < g.W; ++x) row[x * gx.strides[3]] = T(0);
          }
    }
    for_tiles(g, unit, [&](const Tile& t) {
      const int64_t cols = t.cols();
      const bool direct = t.n1 - t.n0 == 1;
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        const T* wg = wp + grp * g.Og * rsw;
        const T* A;  // gy block, Og x cols
        int64_t rsa;
        if (direct) {
          A = gp + (t.n0 * g.O + grp * g.Og) * g.P + t.p0, rsa = g.P;
        } else {
          T* blk = gybuf.get(g.Og * cols);
          gather_cols<T>(g, gp, t, grp, blk);
          A = blk, rsa = cols;
        }
        if (g.pointwise && direct) {
          // gx[n, group] (Cg x cols) = W_g^T @ gy block, written straight into gx (zeroed above).
          T* c = gx.ptr<T>() + t.n0 * gx.strides[0] + grp * g.Cg * gx.strides[1] + t.p0 * g.pixel_stride;
          gemm<T>(g.K, cols, g.Og, wg, 1, rsw, A, rsa, 1, c, gx.strides[1], g.pixel_stride, true);
        } else {
          T* col = colbuf.get(g.K * cols);
          gemm<T>(g.K, cols, g.Og, wg, 1, rsw, A, rsa, 1, col, cols, 1, false);
          col2im_add<T>(g, gx, t, grp, col);
        }
      }
    });
  });
}

template <class T> void weight_grad_impl(const Geometry& g, const View& x, const View& gy, const OutView& gw) {
  const T* gp = gy.ptr<T>();
  const int64_t wsize = g.O * g.K;
  const int64_t parts = std::min(g.units, kWeightParts);
  std::vector<T> partial(static_cast<size_t>(parts * wsize), T(0));
  const int nt = threads_for(g.N * g.O * g.P * g.K, int64_t(1) << 20);
  auto run_part = [&](int64_t part) {
    thread_local Buffer<T> colbuf, gybuf;
    T* acc = partial.data() + part * wsize;
    const int64_t u0 = g.units * part / parts, u1 = g.units * (part + 1) / parts;
    for (int64_t unit = u0; unit < u1; ++unit)
      for_tiles(g, unit, [&](const Tile& t) {
        const int64_t cols = t.cols();
        const bool direct = t.n1 - t.n0 == 1;
        for (int64_t grp = 0; grp < g.groups; ++grp) {
          const T* A;
          int64_t rsa;
          if (direct) {
            A = gp + (t.n0 * g.O + grp * g.Og) * g.P + t.p0, rsa = g.P;
          } else {
            T* blk = gybuf.get(g.Og * cols);
            gather_cols<T>(g, gp, t, grp, blk);
            A = blk, rsa = cols;
          }
          const T* B;  // patches, read transposed: cols x K
          int64_t rsb, csb;
          if (g.pointwise && direct) {
            B = x.ptr<T>() + t.n0 * x.strides[0] + grp * g.Cg * x.strides[1] + t.p0 * g.pixel_stride;
            rsb = g.pixel_stride, csb = x.strides[1];
          } else {
            T* col = colbuf.get(g.K * cols);
            im2col<T>(g, x, t, grp, col);
            B = col, rsb = 1, csb = cols;
          }
          gemm<T>(g.Og, g.K, cols, A, rsa, 1, B, rsb, csb, acc + grp * g.Og * g.K, g.K, 1, true);
        }
      });
  };
  if (nt > 1 && parts >= nt) {
    parallel_ranges(parts, nt, [&](int64_t b, int64_t e) {
      for (int64_t q = b; q < e; ++q) run_part(q);
    });
  } else {
    for (int64_t q = 0; q < parts; ++q) run_part(q);
  }
  T* out = gw.ptr<T>();
  for (int64_t i = 0; i < wsize; ++i) {
    T s = partial[static_cast<size_t>(i)];
    for (int64_t q = 1; q < parts; ++q) s += partial[static_cast<size_t>(q * wsize + i)];
    out[i] = s;
  }
}

template <class T>
void forward_pixel_major(const Geometry& g, const View& x, const View& w, const View* bias, const OutView& out) {
  const std::vector<T> wt = weights_pixel_major<T>(g, w, true);  // K x O
  const T* bp = bias ? bias->ptr<T>() : nullptr;
  T* op = out.ptr<T>();
  over_units(g, g.N * g.O * g.P * g.K, [&](int64_t unit) {
    thread_local Buffer<T> xtbuf, colbuf, outbuf;
    const int64_t n0 = unit * g.images_per_unit, n1 = std::min(g.N, n0 + g.images_per_unit);
    const int64_t images = n1 - n0, cols = images * g.P;
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      T* xt = xtbuf.get(images * g.H * g.W * g.Cg);
      to_channels_last<T>(g, x, n0, n1, grp, xt);
      T* colT = colbuf.get(cols * g.K);
      patches_pixel_major<T>(g, xt, images, colT);
      // blk (cols x Og) = colT (cols x K) @ W_g^T (K x Og), then out[n, o, p] = blk[(n, p), o] + bias.
      T* blk = outbuf.get(cols * g.Og);
      gemm<T>(cols, g.Og, g.K, colT, g.K, 1, wt.data() + grp * g.Og, g.O, 1, blk, g.Og, 1, false);
      for (int64_t n = n0; n < n1; ++n)
        for (int64_t o = 0; o < g.Og; ++o) {
          const T b = bp ? bp[grp * g.Og + o] : T(0);
          const T* s = blk + (n - n0) * g.P * g.Og + o;
          T* d = op + (n * g.O + grp * g.Og + o) * g.P;
          for (int64_t p = 0; p < g.P; ++p) d[p] = s[p * g.Og] + b;
        }
    }
  });
}

template <class T>
void input_grad_pixel_major(const Geometry& g, const View& gy, const View& w, const OutView& gx) {
  const std::vector<T> wk = weights_pixel_major<T>(g, w, false);  // O x K
  const T* gp = gy.ptr<T>();
  const int64_t HW = g.H * g.W;
  over_units(g, g.N * g.O * g.P * g.K, [&](int64_t unit) {
    thread_local Buffer<T> xtbuf, colbuf, gybuf;
    const int64_t n0 = unit * g.images_per_unit, n1 = std::min(g.N, n0 + g.images_per_unit);
    const int64_t images = n1 - n0, cols = images * g.P;
    const Tile t{n0, n1, 0, g.P};
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      T* blk = gybuf.get(g.Og * cols);
      gather_cols<T>(g, gp, t, grp, blk);
      // dcolT (cols x K) = gy_g^T (cols x Og) @ W_g (Og x K), added back into channels-last images.
      T* dcol = colbuf.get(cols * g.K);
      gemm<T>(cols, g.K, g.Og, blk, 1, cols, wk.data() + grp * g.Og * g.K, g.K, 1, dcol, g.K, 1, false);
      T* gxt = xtbuf.get(images * HW * g.Cg);
      std::fill(gxt, gxt + images * HW * g.Cg, T(0));
      for_taps(
          g, images,
          [&](int64_t q, int64_t tap, int64_t off) { add_run(dcol + q * g.K + tap * g.Cg, g.Cg, gxt + off); },
          [](int64_t, int64_t) {});
      T* gxp = gx.ptr<T>();
      for (int64_t n = n0; n < n1; ++n)
        for (int64_t c = 0; c < g.Cg; ++c) {
          const T* src = gxt + (n - n0) * HW * g.Cg + c;
          T* plane = gxp + n * gx.strides[0] + (grp * g.Cg + c) * gx.strides[1];
          for (int64_t h = 0; h < g.H; ++h)
            for (int64_t x = 0; x < g.W; ++x) plane[h * gx.strides[2] + x * gx.strides[3]] = src[(h * g.W + x) * g.Cg];
        }
    }
  });
}

template <class T> void weight_grad_pixel_major(const Geometry& g, const View& x, const View& gy, const OutView& gw) {
  const T* gp = gy.ptr<T>();
  const int64_t wsize = g.O * g.K;
  const int64_t parts = std::min(g.units, kWeightParts);
  std::vector<T> partial(static_cast<size_t>(parts * wsize), T(0));
  const int nt = threads_for(g.N * g.O * g.P * g.K, int64_t(1) << 20);
  auto run_part = [&](int64_t part) {
    thread_local Buffer<T> xtbuf, colbuf, gybuf;
    T* acc = partial.data() + part * wsize;
    const int64_t u0 = g.units * part / parts, u1 = g.units * (part + 1) / parts;
    for (int64_t unit = u0; unit < u1; ++unit) {
      const int64_t n0 = unit * g.images_per_unit, n1 = std::min(g.N, n0 + g.images_per_unit);
      const int64_t images = n1 - n0, cols = images * g.P;
      const Tile t{n0, n1, 0, g.P};
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        T* blk = gybuf.get(g.Og * cols);
        gather_cols<T>(g, gp, t, grp, blk);
        T* xt = xtbuf.get(images * g.H * g.W * g.Cg);
        to_channels_last<T>(g, x, n0, n1, grp, xt);
        T* colT = colbuf.get(cols * g.K);
        patches_pixel_major<T>(g, xt, images, colT);
        // gW_g (Og x K, K in (i, j, c) order) += gy_g (Og x cols) @ colT (cols x K)
        gemm<T>(g.Og, g.K, cols, blk, cols, 1, colT, g.K, 1, acc + grp * g.Og * g.K, g.K, 1, true);
      }
    }
  };
  if (nt > 1 && parts >= nt) {
    parallel_ranges(parts, nt, [&](int64_t b, int64_t e) {
      for (int64_t q = b; q < e; ++q) run_part(q);
    });
  } else {
    for (int64_t q = 0; q < parts; ++q) run_part(q);
  }
  T* out = gw.ptr<T>();
  const int64_t khw = g.KH * g.KW;
  for (int64_t o = 0; o < g.O; ++o)
    for (int64_t c = 0; c < g.Cg; ++c)
      for (int64_t tp = 0; tp < khw; ++tp) {
        const int64_t i = o * g.K + tp * g.Cg + c;
        T s = partial[static_cast<size_t>(i)];
        for (int64_t q = 1; q < parts; ++q) s += partial[static_cast<size_t>(q * wsize + i)];
        out[(o * g.Cg + c) * khw + tp] = s;
      }
}

// With stride 1, gx is the correlation of gy (padded by the dilated kernel's extent less the
// forward padding) with the kernels flipped in space and transposed (C x Og per group):
// a forward convolution, which writes each gx element once from one GEMM sum instead of
// scattering K partial columns back through col2im. Used when gy is nearly as large as x
// (same-padded layers); for small valid convolutions (3x3 outputs of 5x5 inputs) most of
// the padded products would be zeros, and the col2im path does less work. Returns false
// when it does not apply.
template <class T> bool input_grad_as_forward(const Geometry& g, const View& gy, const View& w, const OutView& gx) {
  const int64_t eh = g.dh * (g.KH - 1), ew = g.dw * (g.KW - 1);
  if (g.sh != 1 || g.sw != 1 || g.ph > eh || g.pw > ew || !gx.is_contiguous()) return false;
  if (8 * g.H * g.W > 9 * g.P) return false;  // more than 12.5% extra (zero) products
  std::vector<T> flipped(static_cast<size_t>(g.O * g.K));
  const T* wp = w.ptr<T>();
  const int64_t khw = g.KH * g.KW;
  for (int64_t grp = 0; grp < g.groups; ++grp)
    for (int64_t o = 0; o < g.Og; ++o)
      for (int64_t c = 0; c < g.Cg; ++c) {
        const T* src = wp + (grp * g.Og + o) * w.strides[0] + c * khw;
        T* dst = flipped.data() + ((grp * g.Cg + c) * g.Og + o) * khw;
        for (int64_t q = 0; q < khw; ++q) dst[q] = src[khw - 1 - q];
      }
  View wf;
  wf.data = reinterpret_cast<char*>(flipped.data());
  wf.dtype = w.dtype;
  wf.ndim = 4;
  const int64_t shape[4] = {g.C, g.Og, g.KH, g.KW}, strides[4] = {g.Og * khw, khw, g.KW, 1};
  for (int d = 0; d < 4; ++d) wf.shape[d] = shape[d], wf.strides[d] = strides[d];
  const Geometry t = geometry(gy, wf, gx, 1, 1, eh - g.ph, ew - g.pw, g.dh, g.dw, g.groups, "conv2d_input_grad");
  forward_impl<T>(t, gy, wf, nullptr, gx);
  return true;
}

// Depthwise layers (one input channel per group) go to the direct kernels of
// conv_depthwise.cpp: as GEMMs they are 1 x KH*KW products per channel.
bool depthwise(const Geometry& g) { return g.Cg == 1 && g.groups > 1; }

DepthwiseShape depthwise_shape(const Geometry& g) {
  return {g.N, g.C, g.H, g.W, g.O, g.KH, g.KW, g.OH, g.OW, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw};
}

}  // namespace

void conv2d_forward(const View& x, const View& w, const View& bias, const OutView& out, int64_t sh, int64_t sw,
                    int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t groups) {
  const Geometry g = geometry(x, w, out, sh, sw, ph, pw, dh, dw, groups, "conv2d");
  require_weight_rows(w, "conv2d");
  require_contiguous(out, "conv2d", "output");
  const bool has_bias = bias.ndim != 1 || bias.shape[0] != 0;
  if (has_bias && (bias.ndim != 1 || bias.shape[0] != g.O || bias.strides[0] != 1 || bias.dtype != x.dtype))
    throw std::invalid_argument("conv2d: bias " + shape_str(bias) + " must be contiguous, of shape (" +
                                std::to_string(g.O) + ",) and the input's dtype (or empty for none)");
  if (out.size() == 0) return;
  if (depthwise(g)) return depthwise_forward(depthwise_shape(g), x, w, has_bias ? &bias : nullptr, out);
  dispatch_float(x.dtype, "conv2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (pixel_major(g) && !g.pointwise)
      forward_pixel_major<T>(g, x, w, has_bias ? &bias : nullptr, out);
    else
      forward_impl<T>(g, x, w, has_bias ? &bias : nullptr, out);
  });
}

void conv2d_input_grad(const View& gy, const View& w, const OutView& gx, int64_t sh, int64_t sw, int64_t ph,
                       int64_t pw, int64_t dh, int64_t dw, int64_t groups) {
  const Geometry g = geometry(gx, w, gy, sh, sw, ph, pw, dh, dw, groups, "conv2d_input_grad");
  require_weight_rows(w, "conv2d_input_grad");
  require_contiguous(gy, "conv2d_input_grad", "output gradient");
  if (gx.size() == 0) return;
  dispatch_float(gx.dtype, "conv2d_input_grad", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (gy.size() == 0 || g.K == 0) {
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t c = 0; c < g.C; ++c)
          for (int64_t h = 0; h < g.H; ++h)
            for (int64_t x = 0; x < g.W; ++x)
              gx.ptr<T>()[n * gx.strides[0] + c * gx.strides[1] + h * gx.strides[2] + x * gx.strides[3]] = T(0);
      return;
    }
    if (depthwise(g)) return depthwise_input_grad(depthwise_shape(g), gy, w, gx);
    if (input_grad_as_forward<T>(g, gy, w, gx)) return;
    if (pixel_major(g) && !g.pointwise)
      input_grad_pixel_major<T>(g, gy, w, gx);
    else
      input_grad_impl<T>(g, gy, w, gx);
  });
}

void conv2d_weight_grad(const View& x, const View& gy, const OutView& gw, int64_t sh, int64_t sw, int64_t ph,
                        int64_t pw, int64_t dh, int64_t dw, int64_t groups) {
  const Geometry g = geometry(x, gw, gy, sh, sw, ph, pw, dh, dw, groups, "conv2d_weight_grad");
  require_contiguous(gw, "conv2d_weight_grad", "weight gradient");
  require_contiguous(gy, "conv2d_weight_grad", "output gradient");
  if (gw.size() == 0) return;
  dispatch_float(x.dtype, "conv2d_weight_grad", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (g.N == 0 || g.P == 0) {
      std::fill(gw.ptr<T>(), gw.ptr<T>() + gw.size(), T(0));
      return;
    }
    if (depthwise(g)) return depthwise_weight_grad(depthwise_shape(g), x, gy, gw);
    if (pixel_major(g) && !g.pointwise)
      weight_grad_pixel_major<T>(g, x, gy, gw);
    else
      weight_grad_impl<T>(g, x, gy, gw);
  });
}

}  // namespace corten
