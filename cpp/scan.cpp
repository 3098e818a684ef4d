// Along-the-last-axis kernels: cumulative sum/product, the cumprod gradient,
// and the gather / scatter-add pair that sort and topk gradients use.
// Rows are independent, so they run in parallel with identical results.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "numeric.h"
#include "parallel.h"
#include "reduce.h"
#include "strided.h"

namespace {
#include "reduce_ops.h"
}  // namespace

namespace corten {

namespace {

struct Rows {
  Dims<3> d;  // the leading dims, element strides; d.total rows
  int64_t n = 0;
  int64_t last[3] = {0, 0, 0};  // last-axis strides per operand
};

Rows make_rows(const View* const* vs, int nv, const char* op) {
  Rows r;
  r.d = row_dims(vs, nv, op);
  r.n = vs[0]->shape[vs[0]->ndim - 1];
  for (int k = 0; k < nv; ++k) r.last[k] = vs[k]->strides[vs[k]->ndim - 1];
  return r;
}

// f(offsets[3]) for every row, rows split across threads.
template <class F>
void each_row(const Rows& r, int64_t work_per_row, F&& f) {
  parallel_ranges(r.d.total, threads_for(r.d.total * work_per_row), [&](int64_t b, int64_t e) {
    Walker<3> w(r.d);
    w.seek(b);
    for (int64_t i = b; i < e; ++i, w.next()) f(w.off);
  });
}

void need_ndim(const View& v, const char* op) {
  if (v.ndim < 1) throw std::invalid_argument(std::string(op) + ": needs at least one dimension");
}

void same_shape(const View& a, const View& b, const char* op) {
  bool ok = a.ndim == b.ndim;
  for (int i = 0; ok && i < a.ndim; ++i) ok = a.shape[i] == b.shape[i];
  if (!ok) throw std::invalid_argument(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) + " differ");
}

}  // namespace

void scan(const View& x, const OutView& out, bool prod, bool reverse) {
  need_ndim(x, "scan");
  same_shape(x, out, "scan");
  require_writable_layout(out, "scan");
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using O = rops::SumOut<T>;
    using W = rops::Wide<T>;
    require_dtype(out, dtype_of<O>(), "scan", "output");
    const View* vs[] = {&x, &out};
    Rows r = make_rows(vs, 2, "scan");
    const T* xp = x.ptr<T>();
    O* op_ = out.ptr<O>();
    const int64_t n = r.n, sx = r.last[0], so = r.last[1];
    each_row(r, n, [&](const int64_t* off) {
      const T* xr = xp + off[0];
      O* orow = op_ + off[1];
      W acc = prod ? W(1) : W(0);
      for (int64_t k = 0; k < n; ++k) {
        const int64_t i = reverse ? n - 1 - k : k;
        const W v = static_cast<W>(xr[i * sx]);
        acc = prod ? wrap_mul(acc, v) : wrap_add(acc, v);
        orow[i * so] = static_cast<O>(acc);
      }
    });
  });
}

void cumprod_grad(const View& x, const View& g, const OutView& out) {
  need_ndim(x, "cumprod_grad");
  same_shape(x, g, "cumprod_grad");
  same_shape(x, out, "cumprod_grad");
  require_dtype(g, x.dtype, "cumprod_grad", "gradient");
  require_dtype(out, x.dtype, "cumprod_grad", "output");
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!is_float<T>) {
      throw std::invalid_argument("cumprod_grad: needs a float dtype");
    } else {
      const View* vs[] = {&x, &g, &out};
      Rows r = make_rows(vs, 3, "cumprod_grad");
      const int64_t n = r.n, sx = r.last[0], sg = r.last[1], so = r.last[2];
      const T *xp = x.ptr<T>(), *gp = g.ptr<T>();
      T* op_ = out.ptr<T>();
      each_row(r, 4 * n, [&](const int64_t* off) {
        const T *xr = xp + off[0], *gr = gp + off[1];
        T* orow = op_ + off[2];
        int64_t z = 0;  // first zero
        while (z < n && xr[z * sx] != 0) ++z;
        // Before the first zero: sum_{j>=i} g_j y_j / x_i (later y_j are 0).
        std::vector<double> y(z);
        double p = 1;
        for (int64_t j = 0; j < z; ++j) y[j] = p *= double(xr[j * sx]);
        double acc = 0;
        for (int64_t i = z - 1; i >= 0; --i) {
          acc += double(gr[i * sg]) * y[i];
          orow[i * so] = static_cast<T>(acc / double(xr[i * sx]));
        }
        if (z == n) return;
        // At the first zero: prod_{k<z} x_k * sum_{j>=z} g_j prod_{z<k<=j} x_k.
        double s = double(gr[(n - 1) * sg]);
        for (int64_t j = n - 2; j >= z; --j) s = double(gr[j * sg]) + double(xr[(j + 1) * sx]) * s;
        orow[z * so] = static_cast<T>((z ? y[z - 1] : 1.0) * s);
        for (int64_t i = z + 1; i < n; ++i) orow[i * so] = T(0);
      });
    }
  });
}

void scatter_add_last(const OutView& out, const View& idx, const View& src) {
  need_ndim(out, "scatter_add");
  require_dtype(idx, DType::Int64, "scatter_add", "index");
  require_dtype(src, out.dtype, "scatter_add", "source");
  same_shape(idx, src, "scatter_add");
  require_writable_layout(out, "scatter_add");
  const View* vs[] = {&out, &idx, &src};
  Rows r = make_rows(vs, 3, "scatter_add");
  const int64_t n = out.shape[out.ndim - 1], k = idx.shape[idx.ndim - 1];
  const int64_t so = r.last[0], si = r.last[1], ss = r.last[2];
  const int64_t* ip = idx.ptr<int64_t>();
  {  // validate every index before writing anything
    Walker<3> w(r.d);
    w.reset();
    for (int64_t i = 0; i < r.d.total; ++i, w.next())
      for (int64_t j = 0; j < k; ++j) {
        const int64_t v = ip[w.off[1] + j * si];
        if (v < 0 || v >= n)
          throw std::invalid_argument("scatter_add: index " + std::to_string(v) + " is out of bounds for axis with size " +
                                      std::to_string(n));
      }
  }
  dispatch_dtype(out.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* op_ = out.ptr<T>();
    const T* sp = src.ptr<T>();
    each_row(r, k, [&](const int64_t* off) {
      for (int64_t j = 0; j < k; ++j) {
        T& o = op_[off[0] + ip[off[1] + j * si] * so];
        if constexpr (std::is_same_v<T, bool>) o = o || sp[off[2] + j * ss];
        else o = static_cast<T>(o + sp[off[2] + j * ss]);
      }
    });
  });
}

void gather_last(const View& x, const View& idx, const OutView& out) {
  need_ndim(x, "gather");
  require_dtype(idx, DType::Int64, "gather", "index");
  require_dtype(out, x.dtype, "gather", "output");
  same_shape(idx, out, "gather");
  require_writable_layout(out, "gather");
  const View* vs[] = {&x, &idx, &out};
  Rows r = make_rows(vs, 3, "gather");
  const int64_t n = x.shape[x.ndim - 1], k = idx.shape[idx.ndim - 1];
  const int64_t sx = r.last[0], si = r.last[1], so = r.last[2];
  const int64_t* ip = idx.ptr<int64_t>();
  if (n == 0 && out.size() != 0) throw std::invalid_argument("gather: cannot index an axis of size 0");
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x.ptr<T>();
    T* op_ = out.ptr<T>();
    each_row(r, k, [&](const int64_t* off) {
      for (int64_t j = 0; j < k; ++j) {
        int64_t v = ip[off[1] + j * si];
        v = v < 0 ? 0 : (v >= n ? n - 1 : v);  // Python validates; never read out of bounds
        op_[off[2] + j * so] = xp[off[0] + v * sx];
      }
    });
  });
}

}  // namespace corten
