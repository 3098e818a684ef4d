// Row kernels: softmax / log_softmax and the fused softmax cross-entropy.
// Every row is shifted by its maximum before exponentiating, so logits of any
// finite magnitude give finite results. Sums accumulate in double. Rows are
// split across threads; each row is handled by one thread, so results do not
// depend on the thread count.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "nn.h"
#include "parallel.h"

namespace corten {

namespace {

struct Rows {
  int64_t n, c;
};

Rows check_rows(const View& x, const char* op) {
  if (x.ndim != 2) throw std::invalid_argument(std::string(op) + ": expected a 2-D input, got shape " + shape_str(x));
  if (x.dtype != DType::Float32 && x.dtype != DType::Float64)
    throw std::invalid_argument(std::string(op) + ": expected float32 or float64, got " + dtype_name(x.dtype));
  if (!x.is_contiguous()) throw std::invalid_argument(std::string(op) + ": input must be C-contiguous");
  return {x.shape[0], x.shape[1]};
}

void check_like(const View& a, const View& like, const char* op, const char* what) {
  bool same = a.ndim == like.ndim && a.dtype == like.dtype && a.is_contiguous();
  for (int i = 0; same && i < a.ndim; ++i) same = a.shape[i] == like.shape[i];
  if (!same)
    throw std::invalid_argument(std::string(op) + ": " + what + " must be a contiguous " + dtype_name(like.dtype) +
                                " array of shape " + shape_str(like) + ", got " + dtype_name(a.dtype) + " " +
                                shape_str(a));
}

void check_vec(const View& a, int64_t n, DType d, const char* op, const char* what) {
  if (a.ndim != 1 || a.shape[0] != n || a.dtype != d || !(a.strides[0] == 1 || n <= 1))
    throw std::invalid_argument(std::string(op) + ": " + what + " must be a contiguous 1-D " + dtype_name(d) +
                                " array of length " + std::to_string(n) + ", got " + dtype_name(a.dtype) + " " +
                                shape_str(a));
}

template <class Fn>
void for_rows(Rows r, Fn&& fn) {
  parallel_ranges(r.n, threads_for(r.n * r.c, 1 << 13), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) fn(i);
  });
}

// log(sum(exp(x))) of one row, shifted by its maximum.
template <class T>
double row_lse(const T* x, int64_t c) {
  T m = -INFINITY;
  for (int64_t j = 0; j < c; ++j) m = x[j] > m ? x[j] : m;
  if (!std::isfinite(static_cast<double>(m))) return m;  // all -inf, or +inf / nan present
  double s = 0;
  for (int64_t j = 0; j < c; ++j) s += std::exp(static_cast<double>(x[j] - m));
  return static_cast<double>(m) + std::log(s);
}

template <class T>
void softmax_impl(Tag<T>, const View& xv, const View& ov, bool log) {
  Rows r = check_rows(xv, "softmax");
  check_like(ov, xv, "softmax", "output");
  const T* x = xv.ptr<T>();
  T* o = ov.ptr<T>();
  for_rows(r, [&](int64_t i) {
    const T* xr = x + i * r.c;
    T* orow = o + i * r.c;
    double lse = row_lse(xr, r.c);
    for (int64_t j = 0; j < r.c; ++j) {
      double z = static_cast<double>(xr[j]) - lse;
      orow[j] = static_cast<T>(log ? z : std::exp(z));
    }
  });
}

template <class T>
void softmax_bwd_impl(Tag<T>, const View& yv, const View& gv, const View& giv, bool log) {
  Rows r = check_rows(yv, "softmax_backward");
  check_like(gv, yv, "softmax_backward", "gradient");
  check_like(giv, yv, "softmax_backward", "output");
  const T *y = yv.ptr<T>(), *g = gv.ptr<T>();
  T* gi = giv.ptr<T>();
  for_rows(r, [&](int64_t i) {
    const T *yr = y + i * r.c, *gr = g + i * r.c;
    T* out = gi + i * r.c;
    double s = 0;
    if (log) {
      for (int64_t j = 0; j < r.c; ++j) s += gr[j];
      for (int64_t j = 0; j < r.c; ++j) out[j] = static_cast<T>(gr[j] - std::exp(static_cast<double>(yr[j])) * s);
    } else {
      for (int64_t j = 0; j < r.c; ++j) s += static_cast<double>(gr[j]) * yr[j];
      for (int64_t j = 0; j < r.c; ++j) out[j] = static_cast<T>(yr[j] * (gr[j] - s));
    }
  });
}

// Class-index cross-entropy with label smoothing e over C classes:
//   loss_i = lse_i - (1 - e) x[i, t_i] - (e / C) sum_j x[i, j]
template <class T>
void xent_index_fwd_impl(Tag<T>, const View& xv, const View& tv, int64_t ignore, double e, const View& lv,
                         const View& sv) {
  const char* op = "cross_entropy";
  Rows r = check_rows(xv, op);
  check_vec(tv, r.n, DType::Int64, op, "target");
  check_vec(lv, r.n, xv.dtype, op, "loss output");
  check_vec(sv, r.n, DType::Float64, op, "log-sum-exp output");
  const T* x = xv.ptr<T>();
  const int64_t* t = tv.ptr<int64_t>();
  T* loss = lv.ptr<T>();
  double* lse = sv.ptr<double>();
  int64_t bad = -1;
  for_rows(r, [&](int64_t i) {
    const T* xr = x + i * r.c;
    const int64_t ti = t[i];
    if (ti == ignore) {
      loss[i] = 0;
      lse[i] = 0;
      return;
    }
    if (ti < 0 || ti >= r.c) {
#pragma omp atomic write
      bad = i;
      loss[i] = 0;
      return;
    }
    double s = row_lse(xr, r.c);
    lse[i] = s;
    double l = s - (1 - e) * static_cast<double>(xr[ti]);
    if (e != 0) {
      double sx = 0;
      for (int64_t j = 0; j < r.c; ++j) sx += xr[j];
      l -= e / static_cast<double>(r.c) * sx;
    }
    loss[i] = static_cast<T>(l);
  });
  if (bad >= 0)
    throw std::invalid_argument("cross_entropy: target " + std::to_string(t[bad]) + " at row " +
                                std::to_string(bad) + " is out of bounds for " + std::to_string(r.c) +
                                " classes");
}

template <class T>
void xent_index_bwd_impl(Tag<T>, const View& xv, const View& tv, const View& sv, const View& gv, int64_t ignore,
                         double e, const View& gxv) {
  const char* op = "cross_entropy_backward";
  Rows r = check_rows(xv, op);
  check_vec(tv, r.n, DType::Int64, op, "target");
  check_vec(sv, r.n, DType::Float64, op, "log-sum-exp");
  check_vec(gv, r.n, xv.dtype, op, "gradient");
  check_like(gxv, xv, op, "output");
  const T* x = xv.ptr<T>();
  const int64_t* t = tv.ptr<int64_t>();
  const double* lse = sv.ptr<double>();
  const T* g = gv.ptr<T>();
  T* gx = gxv.ptr<T>();
  const double off = e / static_cast<double>(r.c);
  for_rows(r, [&](int64_t i) {
    const T* xr = x + i * r.c;
    T* out = gx + i * r.c;
    const int64_t ti = t[i];
    if (ti == ignore || ti < 0 || ti >= r.c) {
      std::fill(out, out + r.c, T(0));
      return;
    }
    const double gi = g[i], s = lse[i];
    for (int64_t j = 0; j < r.c; ++j) out[j] = static_cast<T>(gi * (std::exp(xr[j] - s) - off));
    out[ti] = static_cast<T>(out[ti] - gi * (1 - e));
  });
}

// Probability targets p (smoothed to (1 - e) p + e / C):
//   loss_i = sum_j p'_ij (lse_i - x_ij)
template <class T>
void xent_prob_fwd_impl(Tag<T>, const View& xv, const View& pv, double e, const View& lv, const View& sv) {
  const char* op = "cross_entropy";
  Rows r = check_rows(xv, op);
  check_like(pv, xv, op, "target");
  check_vec(lv, r.n, xv.dtype, op, "loss output");
  check_vec(sv, r.n, DType::Float64, op, "log-sum-exp output");
  const T *x = xv.ptr<T>(), *p = pv.ptr<T>();
  T* loss = lv.ptr<T>();
  double* lse = sv.ptr<double>();
  const double off = e / static_cast<double>(r.c);
  for_rows(r, [&](int64_t i) {
    const T *xr = x + i * r.c, *pr = p + i * r.c;
    double s = row_lse(xr, r.c), l = 0;
    for (int64_t j = 0; j < r.c; ++j) {
      double pj = (1 - e) * pr[j] + off;
      if (pj != 0) l += pj * (s - xr[j]);
    }
    lse[i] = s;
    loss[i] = static_cast<T>(l);
  });
}

template <class T>
void xent_prob_bwd_impl(Tag<T>, const View& xv, const View& pv, const View& sv, const View& gv, double e,
                        const View& gxv) {
  const char* op = "cross_entropy_backward";
  Rows r = check_rows(xv, op);
  check_like(pv, xv, op, "target");
  check_vec(sv, r.n, DType::Float64, op, "log-sum-exp");
  check_vec(gv, r.n, xv.dtype, op, "gradient");
  check_like(gxv, xv, op, "output");
  const T *x = xv.ptr<T>(), *p = pv.ptr<T>(), *g = gv.ptr<T>();
  const double* lse = sv.ptr<double>();
  T* gx = gxv.ptr<T>();
  const double off = e / static_cast<double>(r.c);
  for_rows(r, [&](int64_t i) {
    const T *xr = x + i * r.c, *pr = p + i * r.c;
    T* out = gx + i * r.c;
    double psum = 0;
    for (int64_t j = 0; j < r.c; ++j) psum += (1 - e) * pr[j] + off;
    const double gi = g[i], s = lse[i];
    for (int64_t j = 0; j < r.c; ++j)
      out[j] = static_cast<T>(gi * (std::exp(xr[j] - s) * psum - ((1 - e) * pr[j] + off)));
  });
}

constexpr double kSqrt2OverPi = 0.7978845608028654, kGeluC = 0.044715;

template <class T>
void gelu_impl(Tag<T>, const View& xv, const View& gv, const View& ov, bool approx, bool backward) {
  const char* op = backward ? "gelu_backward" : "gelu";
  if (!xv.is_contiguous()) throw std::invalid_argument(std::string(op) + ": input must be contiguous");
  check_like(ov, xv, op, "output");
  if (backward) check_like(gv, xv, op, "gradient");
  const int64_t n = xv.size();
  const T* x = xv.ptr<T>();
  const T* g = backward ? gv.ptr<T>() : nullptr;
  T* o = ov.ptr<T>();
  for_rows({n, 1}, [&](int64_t i) {
    const double v = x[i];
    double f, d;
    if (approx) {
      const double t = std::tanh(kSqrt2OverPi * (v + kGeluC * v * v * v));
      f = 0.5 * v * (1 + t);
      d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * kSqrt2OverPi * (1 + 3 * kGeluC * v * v);
    } else {
      const double cdf = 0.5 * (1 + std::erf(v * 0.7071067811865476));
      f = v * cdf;
      d = cdf + v * std::exp(-0.5 * v * v) * 0.3989422804014327;
    }
    o[i] = static_cast<T>(backward ? g[i] * d : f);
  });
}

// ReLU's derivative from its output, in one pass: y > 0 ? g : 0 (what
// where(y > 0, g, 0) gives, NaN y included, without the bool mask in between).
template <class T>
void relu_backward_impl(Tag<T>, const View& yv, const View& gv, const View& ov) {
  if (!yv.is_contiguous()) throw std::invalid_argument("relu_backward: output must be contiguous");
  check_like(gv, yv, "relu_backward", "gradient");
  check_like(ov, yv, "relu_backward", "gradient input");
  const int64_t n = yv.size();
  const T* y = yv.ptr<T>();
  const T* g = gv.ptr<T>();
  T* o = ov.ptr<T>();
  parallel_ranges(n, threads_for(n), [&](int64_t b, int64_t e) {
    // g is read unconditionally so the compiler may select instead of branch
    // (a branch on the sign of y mispredicts half the time).
    for (int64_t i = b; i < e; ++i) {
      const T gi = g[i];
      o[i] = y[i] > T(0) ? gi : T(0);
    }
  });
}

}  // namespace

void relu_backward(const View& y, const View& g, const OutView& grad_in) {
  dispatch_float(y.dtype, "relu_backward", [&](auto t) { relu_backward_impl(t, y, g, grad_in); });
}

// Each entry point runs its float32 or float64 copy (dispatch_float throws,
// naming the op, for any other dtype).
void gelu(const View& x, const OutView& out, bool tanh) {
  dispatch_float(x.dtype, "gelu", [&](auto t) { gelu_impl(t, x, x, out, tanh, false); });
}

void gelu_backward(const View& x, const View& g, const OutView& grad_in, bool tanh) {
  dispatch_float(x.dtype, "gelu_backward", [&](auto t) { gelu_impl(t, x, g, grad_in, tanh, true); });
}

void softmax_rows(const View& x, const OutView& out, bool log) {
  dispatch_float(x.dtype, "softmax", [&](auto t) { softmax_impl(t, x, out, log); });
}

void softmax_rows_backward(const View& y, const View& g, const OutView& grad_in, bool log) {
  dispatch_float(y.dtype, "softmax_backward", [&](auto t) { softmax_bwd_impl(t, y, g, grad_in, log); });
}

void xent_index_forward(const View& x, const View& target, int64_t ignore_index, double smoothing,
                        const OutView& loss, const OutView& lse, const OutView& stats) {
  check_vec(stats, 2, DType::Float64, "cross_entropy", "stats");
  dispatch_float(x.dtype, "cross_entropy", [&](auto t) {
    using T = typename decltype(t)::type;
    xent_index_fwd_impl(t, x, target, ignore_index, smoothing, loss, lse);
    const int64_t* tg = target.ptr<int64_t>();
    const T* rows = loss.ptr<T>();
    int64_t counted = 0;
    double total = 0.0;
    for (int64_t i = 0; i < x.shape[0]; ++i) {  // ignored rows hold 0
      counted += tg[i] != ignore_index;
      total += static_cast<double>(rows[i]);
    }
    double* st = stats.ptr<double>();
    st[0] = static_cast<double>(counted);
    st[1] = total;
  });
}

namespace {

double stat_scale(const double* st, bool mean) {
  if (!mean) return 1.0;
  return st[0] != 0 ? 1.0 / st[0] : std::nan("");
}

template <class T>
T read_scalar(const View& v) {
  return v.dtype == DType::Float32 ? static_cast<T>(*v.ptr<float>()) : static_cast<T>(*v.ptr<double>());
}

void check_scalar(const View& v, const char* op, const char* what) {
  if (v.size() != 1 || (v.dtype != DType::Float32 && v.dtype != DType::Float64))
    throw std::invalid_argument(std::string(op) + ": " + what + " must be a float32 or float64 array of one " +
                                "element, got " + dtype_name(v.dtype) + " " + shape_str(v));
}

}  // namespace

void xent_reduce(const View& stats, const OutView& out, bool mean) {
  check_vec(stats, 2, DType::Float64, "cross_entropy", "stats");
  check_scalar(out, "cross_entropy", "out");
  const double* st = stats.ptr<double>();
  const double v = mean ? (st[0] != 0 ? st[1] / st[0] : std::nan("")) : st[1];
  if (out.dtype == DType::Float32)
    *out.ptr<float>() = static_cast<float>(v);
  else
    *out.ptr<double>() = v;
}

void xent_row_grads(const View& g, const View& stats, bool mean, const OutView& rows) {
  check_scalar(g, "cross_entropy_backward", "gradient");
  check_vec(stats, 2, DType::Float64, "cross_entropy_backward", "stats");
  if (rows.dtype != DType::Float32 && rows.dtype != DType::Float64)
    throw std::invalid_argument("cross_entropy_backward: row gradients must be float32 or float64, got " +
                                std::string(dtype_name(rows.dtype)));
  check_vec(rows, rows.size(), rows.dtype, "cross_entropy_backward", "row gradients");
  const double v = read_scalar<double>(g) * stat_scale(stats.ptr<double>(), mean);
  const int64_t n = rows.size();
  if (rows.dtype == DType::Float32)
    std::fill(rows.ptr<float>(), rows.ptr<float>() + n, static_cast<float>(v));
  else
    std::fill(rows.ptr<double>(), rows.ptr<double>() + n, v);
}

void xent_index_backward(const View& x, const View& target, const View& lse, const View& g,
                         int64_t ignore_index, double smoothing, const OutView& grad_x) {
  dispatch_float(x.dtype, "cross_entropy_backward",
                 [&](auto t) { xent_index_bwd_impl(t, x, target, lse, g, ignore_index, smoothing, grad_x); });
}

void xent_prob_forward(const View& x, const View& p, double smoothing, const OutView& loss, const OutView& lse) {
  dispatch_float(x.dtype, "cross_entropy", [&](auto t) { xent_prob_fwd_impl(t, x, p, smoothing, loss, lse); });
}

void xent_prob_backward(const View& x, const View& p, const View& lse, const View& g, double smoothing,
                        const OutView& grad_x) {
  dispatch_float(x.dtype, "cross_entropy_backward",
                 [&](auto t) { xent_prob_bwd_impl(t, x, p, lse, g, smoothing, grad_x); });
}

}  // namespace corten
