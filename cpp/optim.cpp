// Optimizer steps: one pass over a parameter, updating it and its state in
// place. The formulas follow PyTorch's documented algorithms (torch.optim);
// each element is independent, so the work is split into equal ranges.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nn.h"
#include "parallel.h"
#include "simd.h"

namespace corten {

namespace {

// Every array is the parameter's size (or empty when unused), contiguous, one dtype.
int64_t check_arrays(const char* op, const View& p, std::initializer_list<const View*> others) {
  if (p.dtype != DType::Float32 && p.dtype != DType::Float64)
    throw std::invalid_argument(std::string(op) + ": parameters must be float32 or float64, got " +
                                dtype_name(p.dtype));
  if (!p.is_contiguous()) throw std::invalid_argument(std::string(op) + ": parameter must be contiguous");
  const int64_t n = p.size();
  for (const View* v : others) {
    if (v->size() == 0 && n != 0) continue;
    if (v->size() != n || v->dtype != p.dtype || !v->is_contiguous())
      throw std::invalid_argument(std::string(op) + ": state/gradient array " + shape_str(*v) + " " +
                                  dtype_name(v->dtype) + " does not match the contiguous parameter " +
                                  shape_str(p) + " " + dtype_name(p.dtype));
  }
  return n;
}

// `grain`: elements per thread below which one thread does it all. SGD's update
// is a few adds per element (memory-bound, a second thread pays off only for large
// tensors); RMSprop's and Adam's take a square root and a division per element, so
// a second thread halves them from a few tens of thousands of elements up.
template <class Fn>
void for_range(int64_t n, int64_t grain, Fn&& fn) {
  parallel_ranges(n, threads_for(n, grain), fn);
}

// Calls fn with each runtime flag turned into a compile-time constant, so every
// combination gets its own branch-free loop the compiler can vectorise.
template <class Fn>
void with_flags(bool a, bool b, bool c, Fn&& fn) {
  auto pick = [](bool v, auto&& k) {
    if (v) k(std::true_type{});
    else k(std::false_type{});
  };
  pick(a, [&](auto A) { pick(b, [&](auto B) { pick(c, [&](auto C) { fn(A, B, C); }); }); });
}

// Each update loop (loop_body) is compiled three times, portable, for AVX2 and for
// AVX-512, and the SIMD level in force (simd.h: the CPU and CORTEN_SIMD) picks a copy
// per call. The file is built with -ffp-contract=off (CMakeLists.txt), so no copy
// fuses a multiply-add and all round identically: results do not depend on the CPU.
// The 16-wide copy matters for RMSprop and Adam, whose square root and division
// per element bound them (RMSprop over 407k floats: 101 -> 60 us on one thread,
// 54 -> 38 us on two).
// The body is forced inline into each copy, which is what compiles it for that
// copy's instruction set (GCC and clang alike).
#define CORTEN_LOOP_BODY inline __attribute__((always_inline))
#if defined(__x86_64__)
#define CORTEN_SIMD_COPIES(loop)                                                                     \
  template <class T, bool A, bool B, bool C, class... Args>                                          \
  __attribute__((target("avx2"))) void loop##_avx2(Args... args) {                                   \
    loop##_body<T, A, B, C>(args...);                                                                \
  }                                                                                                  \
  template <class T, bool A, bool B, bool C, class... Args>                                          \
  __attribute__((target("avx512f,avx2"))) void loop##_avx512(Args... args) {                         \
    loop##_body<T, A, B, C>(args...);                                                                \
  }                                                                                                  \
  template <class T, bool A, bool B, bool C, class... Args>                                          \
  void loop(Args... args) {                                                                          \
    if (simd_at_least(SimdLevel::avx512)) loop##_avx512<T, A, B, C>(args...);                        \
    else if (simd_at_least(SimdLevel::avx2)) loop##_avx2<T, A, B, C>(args...);                       \
    else loop##_body<T, A, B, C>(args...);                                                           \
  }
#else
#define CORTEN_SIMD_COPIES(loop)                       \
  template <class T, bool A, bool B, bool C, class... Args> \
  void loop(Args... args) {                            \
    loop##_body<T, A, B, C>(args...);                  \
  }
#endif

template <class T, bool WD, bool MOM, bool NESTEROV>
CORTEN_LOOP_BODY void sgd_loop_body(T* __restrict p, const T* __restrict g, T* __restrict buf, int64_t n, T lr,
                                    T mom, T damp, T wd, bool first) {
  for (int64_t i = 0; i < n; ++i) {
    T d = g[i];
    if constexpr (WD) d += wd * p[i];
    if constexpr (MOM) {
      const T b = first ? d : mom * buf[i] + damp * d;
      buf[i] = b;
      d = NESTEROV ? d + mom * b : b;
    }
    p[i] -= lr * d;
  }
}

template <class T, bool WD, bool CENTERED, bool MOM>
CORTEN_LOOP_BODY void rmsprop_loop_body(T* __restrict p, const T* __restrict g, T* __restrict sq,
                                        T* __restrict ga, T* __restrict buf, int64_t n, T lr, T a, T eps,
                                        T wd, T mom) {
  const T a1 = 1 - a;
  for (int64_t i = 0; i < n; ++i) {
    T d = g[i];
    if constexpr (WD) d += wd * p[i];
    const T v = a * sq[i] + a1 * d * d;
    sq[i] = v;
    T avg;
    if constexpr (CENTERED) {
      const T m = a * ga[i] + a1 * d;
      ga[i] = m;
      avg = std::sqrt(v - m * m) + eps;
    } else {
      avg = std::sqrt(v) + eps;
    }
    if constexpr (MOM) {
      const T b = mom * buf[i] + d / avg;
      buf[i] = b;
      p[i] -= lr * b;
    } else {
      p[i] -= lr * d / avg;
    }
  }
}

// m moves toward g by (1 - beta1) (PyTorch's lerp); p -= step * m / (sqrt(v) / bc2 + eps).
template <class T, bool DECOUPLED, bool WD, bool AMS>
CORTEN_LOOP_BODY void adam_loop_body(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                                     T* __restrict vmax, int64_t n, T b1c, T b2, T eps, T wd, T step_size,
                                     T bc2s, T shrink) {
  const T b2c = 1 - b2;
  for (int64_t i = 0; i < n; ++i) {
    T d = g[i];
    if constexpr (DECOUPLED) p[i] *= shrink;
    if constexpr (!DECOUPLED && WD) d += wd * p[i];
    const T mi = m[i] + b1c * (d - m[i]);
    const T vi = b2 * v[i] + b2c * d * d;
    m[i] = mi;
    v[i] = vi;
    T s = vi;
    if constexpr (AMS) {
      s = vmax[i] > vi ? vmax[i] : vi;
      vmax[i] = s;
    }
    p[i] -= step_size * mi / (std::sqrt(s) / bc2s + eps);
  }
}


CORTEN_SIMD_COPIES(sgd_loop)
CORTEN_SIMD_COPIES(rmsprop_loop)
CORTEN_SIMD_COPIES(adam_loop)

// ---- many parameters in one call -----------------------------------------------
// The lists hold one entry per parameter (state arrays a caller does not need are
// passed empty). Every parameter is checked as by the one-parameter steps, and no
// two arrays the step writes may share memory: the pieces run on different threads.
size_t check_lists(const char* op, const std::vector<OutView>& ps, const std::vector<View>& gs,
                   std::initializer_list<const std::vector<OutView>*> states) {
  const size_t n = ps.size();
  if (gs.size() != n)
    throw std::invalid_argument(std::string(op) + ": " + std::to_string(n) + " parameters but " +
                                std::to_string(gs.size()) + " gradients");
  for (const auto* s : states)
    if (s->size() != n)
      throw std::invalid_argument(std::string(op) + ": " + std::to_string(n) + " parameters but a state list of " +
                                  std::to_string(s->size()));
  std::vector<std::pair<uintptr_t, uintptr_t>> spans;
  for (size_t i = 0; i < n; ++i) {
    const int64_t es = dtype_size(ps[i].dtype);
    auto add = [&](const View& v) {
      if (v.size() == 0) return;
      const auto lo = reinterpret_cast<uintptr_t>(v.data);
      spans.emplace_back(lo, lo + static_cast<uintptr_t>(v.size() * es));
    };
    add(ps[i]);
    for (const auto* s : states) add((*s)[i]);
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].first < spans[i - 1].second)
      throw std::invalid_argument(std::string(op) + ": two parameters or state arrays share memory");
  return n;
}

// Runs fn(i, lo, hi) over elements [lo, hi) of parameter i, the parameters' elements
// taken as one index space in fixed ranges: small parameters share a thread, large
// ones are split, and one parallel region serves them all. Each element is updated
// by the same formula wherever the cuts fall, so results do not depend on the
// thread count.
template <class Fn>
void for_pieces(const std::vector<int64_t>& sizes, int64_t grain, Fn&& fn) {
  std::vector<int64_t> start(sizes.size() + 1, 0);
  for (size_t i = 0; i < sizes.size(); ++i) start[i + 1] = start[i] + sizes[i];
  const int64_t total = start.back();
  parallel_ranges(total, threads_for(total, grain), [&](int64_t lo, int64_t hi) {
    size_t i = static_cast<size_t>(std::upper_bound(start.begin(), start.end(), lo) - start.begin()) - 1;
    for (; i < sizes.size() && start[i] < hi; ++i) {
      const int64_t a = std::max(lo, start[i]) - start[i], b = std::min(hi, start[i + 1]) - start[i];
      if (b > a) fn(i, a, b);
    }
  });
}

}  // namespace

void sgd_step(const OutView& pv, const View& gv, const OutView& bv, double lr, double momentum, double dampening,
              bool nesterov, double weight_decay, bool first) {
  const int64_t n = check_arrays("sgd", pv, {&gv, &bv});
  if (momentum != 0 && bv.size() != n) throw std::invalid_argument("sgd: momentum needs a buffer");
  dispatch_float(pv.dtype, "sgd", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T *p = pv.ptr<T>(), *buf = bv.ptr<T>();
    const T* g = gv.ptr<T>();
    with_flags(weight_decay != 0, momentum != 0, nesterov, [&](auto WD, auto MOM, auto NEST) {
      for_range(n, int64_t{1} << 18, [&](int64_t lo, int64_t hi) {
        sgd_loop<T, WD(), MOM(), NEST()>(p + lo, g + lo, MOM() ? buf + lo : buf, hi - lo, T(lr), T(momentum),
                                         T(1 - dampening), T(weight_decay), first);
      });
    });
  });
}

void rmsprop_step(const OutView& pv, const View& gv, const OutView& sqv, const OutView& gav, const OutView& bv,
                  double lr, double alpha, double eps, double weight_decay, double momentum, bool centered) {
  const int64_t n = check_arrays("rmsprop", pv, {&gv, &sqv, &gav, &bv});
  if (sqv.size() != n || (centered && gav.size() != n) || (momentum > 0 && bv.size() != n))
    throw std::invalid_argument("rmsprop: missing state array");
  dispatch_float(pv.dtype, "rmsprop", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T *p = pv.ptr<T>(), *sq = sqv.ptr<T>(), *ga = gav.ptr<T>(), *buf = bv.ptr<T>();
    const T* g = gv.ptr<T>();
    with_flags(weight_decay != 0, centered, momentum > 0, [&](auto WD, auto CEN, auto MOM) {
      for_range(n, int64_t{1} << 15, [&](int64_t lo, int64_t hi) {
        rmsprop_loop<T, WD(), CEN(), MOM()>(p + lo, g + lo, sq + lo, CEN() ? ga + lo : ga, MOM() ? buf + lo : buf,
                                            hi - lo, T(lr), T(alpha), T(eps), T(weight_decay), T(momentum));
      });
    });
  });
}

void adam_step(const OutView& pv, const View& gv, const OutView& mv, const OutView& vv, const OutView& vmaxv, double lr,
               double beta1, double beta2, double eps, double weight_decay, bool decoupled, int64_t step) {
  const int64_t n = check_arrays("adam", pv, {&gv, &mv, &vv, &vmaxv});
  if (mv.size() != n || vv.size() != n) throw std::invalid_argument("adam: missing state array");
  if (step < 1) throw std::invalid_argument("adam: step must be at least 1");
  const bool ams = vmaxv.size() == n && n > 0;
  const double bc1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bc2_sqrt = std::sqrt(1 - std::pow(beta2, static_cast<double>(step)));
  dispatch_float(pv.dtype, "adam", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T *p = pv.ptr<T>(), *m = mv.ptr<T>(), *v = vv.ptr<T>(), *vmax = vmaxv.ptr<T>();
    const T* g = gv.ptr<T>();
    with_flags(decoupled, weight_decay != 0, ams, [&](auto DEC, auto WD, auto AMS) {
      for_range(n, int64_t{1} << 15, [&](int64_t lo, int64_t hi) {
        adam_loop<T, DEC(), WD(), AMS()>(p + lo, g + lo, m + lo, v + lo, AMS() ? vmax + lo : vmax, hi - lo,
                                         T(1 - beta1), T(beta2), T(eps), T(weight_decay), T(lr / bc1),
                                         T(bc2_sqrt), T(1 - lr * weight_decay));
      });
    });
  });
}

// The multi-parameter steps: validate everything first, then one pass per piece.
void sgd_steps(const std::vector<OutView>& ps, const std::vector<View>& gs, const std::vector<OutView>& bufs,
               double lr, double momentum, double dampening, bool nesterov, double weight_decay,
               const std::vector<bool>& first) {
  const size_t n = check_lists("sgd", ps, gs, {&bufs});
  if (first.size() != n) throw std::invalid_argument("sgd: one 'first' flag per parameter is needed");
  std::vector<int64_t> sizes(n);
  for (size_t i = 0; i < n; ++i) {
    sizes[i] = check_arrays("sgd", ps[i], {&gs[i], &bufs[i]});
    if (momentum != 0 && bufs[i].size() != sizes[i]) throw std::invalid_argument("sgd: momentum needs a buffer");
  }
  with_flags(weight_decay != 0, momentum != 0, nesterov, [&](auto WD, auto MOM, auto NEST) {
    for_pieces(sizes, int64_t{1} << 18, [&](size_t i, int64_t lo, int64_t hi) {
      dispatch_float(ps[i].dtype, "sgd", [&](auto tag) {
        using T = typename decltype(tag)::type;
        T *p = ps[i].ptr<T>(), *buf = bufs[i].ptr<T>();
        sgd_loop<T, WD(), MOM(), NEST()>(p + lo, gs[i].ptr<T>() + lo, MOM() ? buf + lo : buf, hi - lo, T(lr),
                                         T(momentum), T(1 - dampening), T(weight_decay), first[i]);
      });
    });
  });
}

void rmsprop_steps(const std::vector<OutView>& ps, const std::vector<View>& gs, const std::vector<OutView>& sqs,
                   const std::vector<OutView>& gas, const std::vector<OutView>& bufs, double lr, double alpha,
                   double eps, double weight_decay, double momentum, bool centered) {
  const size_t n = check_lists("rmsprop", ps, gs, {&sqs, &gas, &bufs});
  std::vector<int64_t> sizes(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t k = sizes[i] = check_arrays("rmsprop", ps[i], {&gs[i], &sqs[i], &gas[i], &bufs[i]});
    if (sqs[i].size() != k || (centered && gas[i].size() != k) || (momentum > 0 && bufs[i].size() != k))
      throw std::invalid_argument("rmsprop: missing state array");
  }
  with_flags(weight_decay != 0, centered, momentum > 0, [&](auto WD, auto CEN, auto MOM) {
    for_pieces(sizes, int64_t{1} << 15, [&](size_t i, int64_t lo, int64_t hi) {
      dispatch_float(ps[i].dtype, "rmsprop", [&](auto tag) {
        using T = typename decltype(tag)::type;
        T *p = ps[i].ptr<T>(), *sq = sqs[i].ptr<T>(), *ga = gas[i].ptr<T>(), *buf = bufs[i].ptr<T>();
        rmsprop_loop<T, WD(), CEN(), MOM()>(p + lo, gs[i].ptr<T>() + lo, sq + lo, CEN() ? ga + lo : ga,
                                            MOM() ? buf + lo : buf, hi - lo, T(lr), T(alpha), T(eps),
                                            T(weight_decay), T(momentum));
      });
    });
  });
}

void adam_steps(const std::vector<OutView>& ps, const std::vector<View>& gs, const std::vector<OutView>& ms,
                const std::vector<OutView>& vs, const std::vector<OutView>& vmaxs, double lr, double beta1,
                double beta2, double eps, double weight_decay, bool decoupled, const std::vector<OutView>& steps) {
  const size_t n = check_lists("adam", ps, gs, {&ms, &vs, &vmaxs});
  if (steps.size() != n) throw std::invalid_argument("adam: one step count per parameter is needed");
  std::vector<int64_t> sizes(n);
  bool ams = false;
  for (size_t i = 0; i < n; ++i) {
    const int64_t k = sizes[i] = check_arrays("adam", ps[i], {&gs[i], &ms[i], &vs[i], &vmaxs[i]});
    if (ms[i].size() != k || vs[i].size() != k) throw std::invalid_argument("adam: missing state array");
    if (steps[i].ndim != 0 || steps[i].dtype != DType::Float64)
      throw std::invalid_argument("adam: each step count must be a 0-d float64 array, got " +
                                  std::string(dtype_name(steps[i].dtype)) + " " + shape_str(steps[i]));
    const double done = *steps[i].ptr<double>();  // whole, below 2^53: counted exactly
    if (!(done >= 0 && done < 9007199254740992.0 && done == std::floor(done)))
      throw std::invalid_argument("adam: step count must be a non-negative whole number, got " +
                                  std::to_string(done));
    ams = ams || (vmaxs[i].size() == k && k > 0);
  }
  for (size_t i = 0; i < n; ++i)
    if (ams && sizes[i] > 0 && vmaxs[i].size() != sizes[i])
      throw std::invalid_argument("adam: amsgrad needs a max_exp_avg_sq array for every parameter");
  std::vector<double> bc1(n), bc2_sqrt(n);
  for (size_t i = 0; i < n; ++i) {  // checked above: advance every count, then update
    const double step = *steps[i].ptr<double>() += 1;
    bc1[i] = 1 - std::pow(beta1, step);
    bc2_sqrt[i] = std::sqrt(1 - std::pow(beta2, step));
  }
  with_flags(decoupled, weight_decay != 0, ams, [&](auto DEC, auto WD, auto AMS) {
    for_pieces(sizes, int64_t{1} << 15, [&](size_t i, int64_t lo, int64_t hi) {
      dispatch_float(ps[i].dtype, "adam", [&](auto tag) {
        using T = typename decltype(tag)::type;
        T *p = ps[i].ptr<T>(), *m = ms[i].ptr<T>(), *v = vs[i].ptr<T>(), *vmax = vmaxs[i].ptr<T>();
        adam_loop<T, DEC(), WD(), AMS()>(p + lo, gs[i].ptr<T>() + lo, m + lo, v + lo, AMS() ? vmax + lo : vmax,
                                         hi - lo, T(1 - beta1), T(beta2), T(eps), T(weight_decay),
                                         T(lr / bc1[i]), T(bc2_sqrt[i]), T(1 - lr * weight_decay));
      });
    });
  });
}

}  // namespace corten
