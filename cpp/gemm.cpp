// Blocked GEMM driver: operand packing, cache blocking, threading, batching,
// the portable kernels, the bias/ReLU epilogue and the integer fallback. The
// SIMD kernels live in gemm_avx2.cpp and gemm_avx512.cpp; see gemm_kernels.h for
// the kernel contracts. MR, NR, MC, KC and NC are those of the selected kernel
// (TileKernel): one packing and blocking code path serves every tile shape.
//
// Loop structure (BLIS order), for C(m x n) += A(m x k) B(k x n):
//   for jc in n step NC            B columns kept in L3
//     for pc in k step KC          pack B(pc:pc+KC, jc:jc+NC) -> NR-column panels
//       for ic in m step MC        A(ic:ic+MC, pc:pc+KC): packed into MR-row panels,
//                                  or read in place when its rows are contiguous
//         for jr in nc step NR     one KC x NR B panel stays in L1
//           for ir in mc step MR   micro-kernel: MR x NR tile of C in registers
// Packing reads any strides (transposed, sliced, broadcast operands need no
// copy) and zero-pads edge panels. Shapes that waste most of a tile take other
// routes: m or n == 1 -> matrix-vector kernels; n (or m) far below NR with
// contiguous rows -> k-vectorised dot kernels. The orientation (C or C^T =
// B^T A^T) is chosen by a rough cost model (gemm_float).
//
// Threads (see gemm_blocked) split n without any synchronisation, or split m
// with either private or one cooperatively packed, shared B block.
//
// Determinism: every element of C is produced by one thread, from a sum that
// starts at zero for each KC block and runs over k in increasing order, added
// to C block after block. KC blocks, kernels and code paths depend only on the
// shapes and strides, never on the thread count, so results are bit-identical
// for any number of threads.
#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "gemm_kernels.h"
#include "parallel.h"
#include "simd.h"

namespace corten {

using detail::GemmKernels;
using detail::MicroKernel;
using detail::TileKernel;

namespace {

// ---------------------------------------------------------------------------
// Block-size overrides (set_gemm_blocking): 0 keeps the kernel's own.
struct Blocking {
  std::atomic<int64_t> mc, kc, nc;
};
Blocking g_blk_f32{{0}, {0}, {0}};
Blocking g_blk_f64{{0}, {0}, {0}};

template <class T> Blocking& blocking() {
  return sizeof(T) == 4 ? g_blk_f32 : g_blk_f64;
}

// Narrow products (narrow_product) are judged against this tile width, the
// AVX2 one, whatever tile the level uses: the k-vectorised dot kernels were
// measured against it.
template <class T> constexpr int kNarrowNR = 64 / int(sizeof(T));

// Problems below twice this many multiply-adds run on one thread; above it,
// each thread gets at least this much work. 2^18: a fork/join with a spinning
// worker costs a few microseconds, and the small layers of a training step
// (128x512x10 products, 655K multiply-adds, bound by writing C or reading B)
// ran 24-26 us on one thread and 15 us on two (the 784-512-10 step: -20 us).
// 2^20 kept them on one thread. A sleeping worker costs 35-55 us to wake, so a
// lone small product after a pause pays that once; a step's loop keeps it awake.
constexpr int64_t kMinFlopsPerThread = int64_t(1) << 18;

// ---------------------------------------------------------------------------
// Kernel selection.
std::atomic<int> g_force_fallback{-1};  // -1: not yet read from the environment

bool env_forces_fallback() {
  const char* e = std::getenv("CORTEN_GEMM_FALLBACK");
  return e && *e && std::strcmp(e, "0") != 0;
}

// Kernel levels in increasing order. The CPU sets the best one; the cap
// (CORTEN_GEMM_KERNEL, set_gemm_kernel) lets tests and benchmarks run a lower
// one on the same machine.
enum GemmLevel : int { kPortable = 0, kAvx2 = 1, kAvx512 = 2 };
constexpr const char* kLevelNames[] = {"portable", "avx2", "avx512"};
std::atomic<int> g_level_cap{-1};  // -1: not yet read from the environment

int cpu_gemm_level() {
#if defined(__x86_64__) || defined(_M_X64)
  static const int level = !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
                               ? kPortable
                           : __builtin_cpu_supports("avx512f") ? kAvx512
                                                               : kAvx2;
  return level;
#else
  return kPortable;
#endif
}

// -1 for an unknown name; "best" is the CPU's level.
int level_from_name(const char* name) {
  if (std::strcmp(name, "best") == 0) return cpu_gemm_level();
  for (int l = kPortable; l <= kAvx512; ++l)
    if (std::strcmp(name, kLevelNames[l]) == 0) return l;
  return -1;
}

int level_cap() {
  int v = g_level_cap.load(std::memory_order_relaxed);
  if (v < 0) {
    const char* e = std::getenv("CORTEN_GEMM_KERNEL");
    const int parsed = (e && *e) ? level_from_name(e) : -1;
    int expected = -1;
    g_level_cap.compare_exchange_strong(expected, parsed < 0 ? kAvx512 : parsed);
    v = g_level_cap.load(std::memory_order_relaxed);
  }
  return v;
}

// The gemm cap applies within the library-wide SIMD level (simd.h: the CPU's
// F+BW+DQ+VL check for avx512, and CORTEN_SIMD); the numbering is the same.
int active_gemm_level() {
  if (gemm_force_fallback()) return kPortable;
  return std::min({cpu_gemm_level(), level_cap(), static_cast<int>(simd_level())});
}

const GemmKernels* simd_kernels() { return gemm_kernel_for_level(active_gemm_level()); }

// Portable micro-kernel with the same contract (and summation order) as the
// SIMD ones: the tile sum starts at zero and runs over p in increasing order.
// One row of the tile at a time keeps its NR sums in registers (SSE2 has only
// 16 of them); rows past mr are not computed at all.
template <class T, int NR>
void portable_kernel(int64_t kc, const T* a, int64_t rsa, int64_t csa, const T* b, int64_t rsb,
                     T* c, int64_t rsc, int64_t csc, int mr, int nr, bool load_c) {
  for (int i = 0; i < mr; ++i) {
    T acc[NR] = {};
    const T* ai = a + i * rsa;
    for (int64_t p = 0; p < kc; ++p) {
      const T x = ai[p * csa];
      const T* bp = b + p * rsb;
      for (int j = 0; j < NR; ++j) acc[j] += x * bp[j];
    }
    T* ci = c + i * rsc;
    if (load_c) {
      for (int j = 0; j < nr; ++j) ci[j * csc] = ci[j * csc] + acc[j];
    } else {
      for (int j = 0; j < nr; ++j) ci[j * csc] = acc[j];
    }
  }
}

// The portable tile: 6 x 64 bytes (16 floats, 8 doubles), blocks as AVX2's.
template <class T> TileKernel<T> portable_tile() {
  constexpr int NR = 64 / int(sizeof(T));
  return {portable_kernel<T, NR>, 6, NR, 144, 256, 4080, true, nullptr, nullptr, 0};
}

inline int64_t round_up(int64_t x, int64_t unit) { return std::max(unit, (x + unit - 1) / unit * unit); }

// The tile kernel of the level in force, with its cache blocks (or the
// set_gemm_blocking overrides). Depends only on the level, never on the
// problem's size or the thread count.
template <class T> TileKernel<T> pick_tile() {
  const GemmKernels* k = simd_kernels();
  TileKernel<T> t;
  if constexpr (sizeof(T) == 4)
    t = k ? k->f32 : portable_tile<float>();
  else
    t = k ? k->f64 : portable_tile<double>();
  const Blocking& bl = blocking<T>();
  const int64_t mc = bl.mc.load(std::memory_order_relaxed), kc = bl.kc.load(std::memory_order_relaxed),
                nc = bl.nc.load(std::memory_order_relaxed);
  if (mc > 0) t.mc = round_up(mc, t.mr);
  if (kc > 0) t.kc = kc;
  if (nc > 0) t.nc = round_up(nc, t.nr);
  return t;
}

// The kernels' edge-tile write-back (detail::store_tile), in generic code.
template <class T>
void store_tile_any(const T* s, int lds, T* c, int64_t rsc, int64_t csc, int mr, int nr,
                    bool load_c) {
  for (int i = 0; i < mr; ++i) {
    T* ci = c + i * rsc;
    const T* si = s + i * lds;
    if (load_c) {
      for (int j = 0; j < nr; ++j) ci[j * csc] = ci[j * csc] + si[j];
    } else {
      for (int j = 0; j < nr; ++j) ci[j * csc] = si[j];
    }
  }
}

// ---------------------------------------------------------------------------
// 64-byte aligned scratch, one per thread, grown on demand and kept.
struct Scratch {
  void* p = nullptr;
  size_t cap = 0;
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { std::free(p); }
  template <class T> T* get(int64_t count) {
    const size_t bytes = static_cast<size_t>(count) * sizeof(T);
    if (bytes > cap) {
      std::free(p);
      p = nullptr;
      cap = 0;
      const size_t want = (bytes + 4095) & ~size_t(4095);
      p = std::aligned_alloc(64, want);
      if (!p) throw std::bad_alloc();
      cap = want;
    }
    return static_cast<T*>(p);
  }
};
thread_local Scratch tl_pack_a;
thread_local Scratch tl_pack_b;
thread_local Scratch tl_vec;

// ---------------------------------------------------------------------------
// Packing.
//
// A panel: rows [0, mr) of A (pointer at row 0, column 0 of the block), kc
// columns -> dst[p * MR + i], rows mr..MR-1 zero.
template <class T>
void pack_a_panel(int MR, int mr, int64_t kc, const T* a, int64_t rsa, int64_t csa, T* dst) {
  if (csa == 1) {
    // Rows contiguous: read each row once; the panel (MR * kc) stays in L1.
    for (int i = 0; i < mr; ++i) {
      const T* s = a + i * rsa;
      T* d = dst + i;
      for (int64_t p = 0; p < kc; ++p) d[p * MR] = s[p];
    }
    for (int i = mr; i < MR; ++i)
      for (int64_t p = 0; p < kc; ++p) dst[p * MR + i] = T(0);
    return;
  }
  for (int64_t p = 0; p < kc; ++p) {
    T* d = dst + p * MR;
    const T* s = a + p * csa;
    int i = 0;
    if (rsa == 1)
      for (; i < mr; ++i) d[i] = s[i];
    else
      for (; i < mr; ++i) d[i] = s[i * rsa];
    for (; i < MR; ++i) d[i] = T(0);
  }
}

// B panel: columns [0, nr) of B (pointer at row 0, column 0 of the block), kc
// rows -> dst[p * NR + j], columns nr..NR-1 zero.
template <class T>
void pack_b_panel(const TileKernel<T>& tk, int nr, int64_t kc, const T* b, int64_t rsb,
                  int64_t csb, T* dst) {
  const int NR = tk.nr;
  if (nr == NR && csb == 1) {
    for (int64_t p = 0; p < kc; ++p) std::memcpy(dst + p * NR, b + p * rsb, NR * sizeof(T));
    return;
  }
  if (rsb == 1 && tk.pack_b_cols && csb >= kc) {
    tk.pack_b_cols(nr, kc, b, csb, dst);
    return;
  }
  if (rsb == 1) {
    // Columns are contiguous: read each column once, in blocks of 8 rows so
    // the writes stay within a few cache lines.
    int64_t p0 = 0;
    for (; p0 + 8 <= kc; p0 += 8) {
      T* d = dst + p0 * NR;
      for (int j = 0; j < nr; ++j) {
        const T* s = b + j * csb + p0;
        for (int q = 0; q < 8; ++q) d[q * NR + j] = s[q];
      }
      for (int j = nr; j < NR; ++j)
        for (int q = 0; q < 8; ++q) d[q * NR + j] = T(0);
    }
    for (int64_t p = p0; p < kc; ++p) {
      T* d = dst + p * NR;
      int j = 0;
      for (; j < nr; ++j) d[j] = b[p + j * csb];
      for (; j < NR; ++j) d[j] = T(0);
    }
    return;
  }
  for (int64_t p = 0; p < kc; ++p) {
    T* d = dst + p * NR;
    const T* s = b + p * rsb;
    int j = 0;
    for (; j < nr; ++j) d[j] = s[j * csb];
    for (; j < NR; ++j) d[j] = T(0);
  }
}

// ---------------------------------------------------------------------------
// Blocked driver.

// The tile and cache blocks of the kernel in use (TileKernel without the function).
struct Tiling {
  int mr, nr;
  int64_t mc, kc, nc;
  int mr_short;  // edge tiles of at most this many rows run the short kernel (0: none)
};

struct Operands {
  Tiling tl;
  int64_t m, n, k;
  int64_t rsa, csa, rsb, csb, rsc, csc;
  bool accumulate;
  bool pack_a;  // false: the kernel reads A in place
  bool pack_b;  // false (only when csb == 1): full B panels are read in place
  double b_pack_cycles;  // estimated cost of packing one element of B
};

// Splits [0, count) into `parts` ranges at multiples of `unit`; returns part `t`.
inline void split_range(int64_t count, int64_t unit, int t, int parts, int64_t* lo,
                        int64_t* hi) {
  const int64_t units = (count + unit - 1) / unit;
  const int64_t u0 = units * t / parts, u1 = units * (t + 1) / parts;
  *lo = std::min(count, u0 * unit);
  *hi = std::min(count, u1 * unit);
}

// kc for k-block `pc`: blocks have equal size (up to rounding) so a k just above
// KC does not leave a tiny tail block. Depends only on k: same for any thread count.
inline int64_t k_block(int64_t k, int64_t KC, int64_t* nblocks) {
  const int64_t nb = std::max<int64_t>(1, (k + KC - 1) / KC);
  *nblocks = nb;
  return (k + nb - 1) / nb;
}

// A operand of a macro-kernel call: packed panels (rs = 1, cs = MR, next panel
// MR * kc further) or A read in place (rs, cs of A, next panel MR * rs further).
template <class T> struct AOperand {
  const T* p;
  int64_t rs, cs, panel_step;
};

// C(i, j) (i < m, j < n, C, bias and mask at the block's origin) += bias, then
// relu, then the mask: the epilogue on one block of C, right after the kernel
// wrote it. The loops run along C's unit stride (a C^T plan writes C by columns),
// so they vectorise; each element gets the same operations in either order.
template <class T>
void apply_epilogue(const GemmEpilogue<T>& e, const T* bias, const T* mask, int64_t m, int64_t n, T* c,
                    int64_t rsc, int64_t csc) {
  if (csc != 1 && rsc == 1) {
    const GemmEpilogue<T> t{e.bias, e.bias_cs, e.bias_rs, e.relu, e.mask, e.mask_cs, e.mask_rs};
    return apply_epilogue(t, bias, mask, n, m, c, csc, rsc);
  }
  for (int64_t i = 0; i < m; ++i) {
    T* ci = c + i * rsc;
    if (bias) {
      const T* bi = bias + i * e.bias_rs;
      if (csc == 1 && e.bias_cs == 1) {
        for (int64_t j = 0; j < n; ++j) ci[j] = ci[j] + bi[j];
      } else if (csc == 1 && e.bias_cs == 0) {
        const T b = *bi;
        for (int64_t j = 0; j < n; ++j) ci[j] = ci[j] + b;
      } else {
        for (int64_t j = 0; j < n; ++j) ci[j * csc] = ci[j * csc] + bi[j * e.bias_cs];
      }
    }
    if (e.relu) {
      // As the relu op: x > 0 ? x : (NaN ? x : 0).
      if (csc == 1)
        for (int64_t j = 0; j < n; ++j) ci[j] = ci[j] > T(0) ? ci[j] : (ci[j] != ci[j] ? ci[j] : T(0));
      else
        for (int64_t j = 0; j < n; ++j) {
          T& x = ci[j * csc];
          x = x > T(0) ? x : (x != x ? x : T(0));
        }
    }
    if (mask) {  // as relu_backward: y > 0 ? g : 0 (NaN y gives 0)
      const T* mi = mask + i * e.mask_rs;
      if (csc == 1 && e.mask_cs == 1)
        for (int64_t j = 0; j < n; ++j) ci[j] = mi[j] > T(0) ? ci[j] : T(0);
      else
        for (int64_t j = 0; j < n; ++j) ci[j * csc] = mi[j * e.mask_cs] > T(0) ? ci[j * csc] : T(0);
    }
  }
}

// The epilogue of a block, or none: bias and mask already moved to the block's origin.
template <class T> struct BlockEpilogue {
  const GemmEpilogue<T>* e = nullptr;
  const T* bias = nullptr;
  const T* mask = nullptr;
  BlockEpilogue at(int64_t i, int64_t j) const {
    return {e, bias ? bias + i * e->bias_rs + j * e->bias_cs : nullptr,
            mask ? mask + i * e->mask_rs + j * e->mask_cs : nullptr};
  }
};

template <class T>
void macro_kernel(const TileKernel<T>& tk, const Tiling& tl, int64_t mc, int64_t nc, int64_t kc,
                  AOperand<T> a, const T* pb, const T* b_direct, int64_t rsb, T* c, int64_t rsc,
                  int64_t csc, bool load_c, BlockEpilogue<T> epi) {
  const int MR = tl.mr, NR = tl.nr;
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int nr = static_cast<int>(std::min<int64_t>(NR, nc - jr));
    // Full panels of an unpacked B are read in place; edge panels are packed.
    const bool direct = b_direct && nr == NR;
    const T* b = direct ? b_direct + jr : pb + jr * kc;
    const int64_t bstride = direct ? rsb : NR;
    const T* ap = a.p;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int mr = static_cast<int>(std::min<int64_t>(MR, mc - ir));
      T* ct = c + ir * rsc + jr * csc;
      const MicroKernel<T> ukr = tk.run_short && mr <= tk.mr_short ? tk.run_short : tk.run;
      ukr(kc, ap, a.rs, a.cs, b, bstride, ct, rsc, csc, mr, nr, load_c);
      if (epi.e) {
        const BlockEpilogue<T> here = epi.at(ir, jr);
        apply_epilogue(*epi.e, here.bias, here.mask, mr, nr, ct, rsc, csc);
      }
      ap += a.panel_step;
    }
  }
}

// Rows [r0, r1) of C for all columns, with the packed B block shared by `nt`
// threads of the enclosing team (thread `t` packs its share of each B block).
// Called with nt == 1 outside any parallel region for the serial case.
// The epilogue (when any) is applied to each tile after its last KC block.
template <class T>
void blocked_rows(const TileKernel<T>& tk, const Operands& o, const T* A, const T* B, T* C,
                  int64_t r0, int64_t r1, T* pb, int t, int nt, BlockEpilogue<T> epi) {
  const int MR = o.tl.mr, NR = o.tl.nr;
  const int64_t MC = o.tl.mc, NC = o.tl.nc;
  int64_t nkb = 1;
  const int64_t KC = k_block(o.k, o.tl.kc, &nkb);
  T* pa = o.pack_a ? tl_pack_a.get<T>(MC * KC) : nullptr;
  for (int64_t jc = 0; jc < o.n; jc += NC) {
    const int64_t nc = std::min(NC, o.n - jc);
    const int64_t npanels = (nc + NR - 1) / NR;
    for (int64_t kb = 0; kb < nkb; ++kb) {
      const int64_t pc = kb * KC;
      const int64_t kc = std::min(KC, o.k - pc);
      // With a single MC block and no team to share with, each B panel is used
      // by one sweep over the rows only: pack it right before that sweep so it
      // never leaves L1, instead of packing the whole KC x NC block first.
      const bool fused = nt == 1 && r1 - r0 <= MC;
      if (nt > 1) {
#pragma omp barrier
      }
      const int64_t p0 = fused ? 0 : npanels * t / nt, p1 = fused ? 0 : npanels * (t + 1) / nt;
      for (int64_t jp = p0; jp < p1; ++jp) {
        const int64_t j = jp * NR;
        const int nr = static_cast<int>(std::min<int64_t>(NR, nc - j));
        if (o.pack_b || nr < NR)
          pack_b_panel<T>(tk, nr, kc, B + pc * o.rsb + (jc + j) * o.csb, o.rsb, o.csb, pb + j * kc);
      }
      if (nt > 1) {
#pragma omp barrier
      }
      const T* b_direct = o.pack_b ? nullptr : B + pc * o.rsb + jc;
      const bool load_c = o.accumulate || kb > 0;
      const BlockEpilogue<T> last = kb + 1 == nkb ? epi : BlockEpilogue<T>{};
      for (int64_t ic = r0; ic < r1; ic += MC) {
        const int64_t mc = std::min(MC, r1 - ic);
        AOperand<T> a;
        if (o.pack_a) {
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int mr = static_cast<int>(std::min<int64_t>(MR, mc - ir));
            pack_a_panel<T>(MR, mr, kc, A + (ic + ir) * o.rsa + pc * o.csa, o.rsa, o.csa,
                            pa + ir * kc);
          }
          a = {pa, 1, MR, MR * kc};
        } else {
          a = {A + ic * o.rsa + pc * o.csa, o.rsa, o.csa, MR * o.rsa};
        }
        if (fused) {
          for (int64_t j = 0; j < nc; j += NR) {
            const int nr = static_cast<int>(std::min<int64_t>(NR, nc - j));
            const bool direct = b_direct && nr == NR;
            if (!direct)
              pack_b_panel<T>(tk, nr, kc, B + pc * o.rsb + (jc + j) * o.csb, o.rsb, o.csb, pb);
            macro_kernel<T>(tk, o.tl, mc, nr, kc, a, pb, direct ? b_direct + j : nullptr, o.rsb,
                            C + ic * o.rsc + (jc + j) * o.csc, o.rsc, o.csc, load_c,
                            last.at(ic, jc + j));
          }
        } else {
          macro_kernel<T>(tk, o.tl, mc, nc, kc, a, pb, b_direct, o.rsb,
                          C + ic * o.rsc + jc * o.csc, o.rsc, o.csc, load_c, last.at(ic, jc));
        }
      }
    }
  }
}

int64_t packed_b_elems(const Operands& o) {
  const int NR = o.tl.nr;
  int64_t nkb = 1;
  const int64_t KC = k_block(o.k, o.tl.kc, &nkb);
  const int64_t ncmax = std::min(o.tl.nc, (o.n + NR - 1) / NR * NR);
  return KC * ncmax;
}

template <class T>
void gemm_blocked(const TileKernel<T>& tk, const Operands& o, const T* A, const T* B, T* C, int nt,
                  BlockEpilogue<T> epi) {
  const int MR = o.tl.mr, NR = o.tl.nr;
  if (nt <= 1) {
    T* pb = tl_pack_b.get<T>(packed_b_elems(o));
    blocked_rows<T>(tk, o, A, B, C, 0, o.m, pb, 0, 1, epi);
    return;
  }
  // Splitting n needs no synchronisation at all: each thread packs its own B
  // columns and reads A in place (or packs its own copy of the A block), so a
  // preempted thread never stalls the others. Splitting m is used when n is too
  // narrow to split evenly, when A must be packed and is the larger operand, and
  // when k fits one KC block (B is packed once, so the split costs little, and each
  // thread then owns whole rows of C, as the element-wise and optimizer loops that
  // read C next split it: a weight gradient's RMSprop update ran several times
  // slower with half of every row in the other core's cache). Large m splits share
  // one B block, packed cooperatively (two barriers per KC step, so the packed B
  // is read from L3 by every thread); when each thread's share of a KC step is
  // short (under ~2^22 multiply-adds, a few hundred microseconds) the threads pack
  // private copies instead and never wait for each other.
  const int64_t tm = (o.m + MR - 1) / MR, tn = (o.n + NR - 1) / NR;
  const double imb_m = double((tm + nt - 1) / nt * nt) / double(tm);
  const double imb_n = double((tn + nt - 1) / nt * nt) / double(tn);
  const int64_t kc_block = o.tl.kc;
  const int64_t kc_max = std::min<int64_t>(o.k, kc_block);
  bool split_m;
  if (tn < 2 * nt)
    split_m = tm >= 2 * nt;
  else if (tm < 2 * nt)
    split_m = false;
  else if ((o.pack_a && o.m > o.n) || o.k <= kc_block)
    split_m = true;
  else
    split_m = imb_n > 1.15 * imb_m;
  const bool shared_b = split_m && o.pack_b &&
                        (o.m / nt) * std::min<int64_t>(o.n, o.tl.nc) * kc_max >=
                            (int64_t(1) << 22);
  if (shared_b) {
    T* pb = tl_pack_b.get<T>(packed_b_elems(o));
#pragma omp parallel num_threads(nt)
    {
#ifdef _OPENMP
      const int t = omp_get_thread_num(), team = omp_get_num_threads();
#else
      const int t = 0, team = 1;
#endif
      int64_t r0, r1;
      split_range(o.m, MR, t, team, &r0, &r1);
      blocked_rows<T>(tk, o, A, B, C, r0, r1, pb, t, team, epi);
    }
  } else if (split_m) {
#pragma omp parallel num_threads(nt)
    {
#ifdef _OPENMP
      const int t = omp_get_thread_num(), team = omp_get_num_threads();
#else
      const int t = 0, team = 1;
#endif
      int64_t r0, r1;
      split_range(o.m, MR, t, team, &r0, &r1);
      if (r1 > r0) {
        T* pb = tl_pack_b.get<T>(packed_b_elems(o));
        blocked_rows<T>(tk, o, A, B, C, r0, r1, pb, 0, 1, epi);
      }
    }
  } else {
#pragma omp parallel num_threads(nt)
    {
#ifdef _OPENMP
      const int t = omp_get_thread_num(), team = omp_get_num_threads();
#else
      const int t = 0, team = 1;
#endif
      int64_t c0, c1;
      split_range(o.n, NR, t, team, &c0, &c1);
      if (c1 > c0) {
        Operands s = o;
        s.n = c1 - c0;
        T* pb = tl_pack_b.get<T>(packed_b_elems(s));
        blocked_rows<T>(tk, s, A, B + c0 * o.csb, C + c0 * o.csc, 0, o.m, pb, 0, 1, epi.at(0, c0));
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Matrix-vector: y(m) = A(m x k) x(k) (or +=). Summation order per element is
// fixed by the code path, which depends only on shapes and strides.

template <class T, int R>
void dot_rows(int64_t k, const T* a, int64_t rsa, const T* x, T* y, int64_t incy, bool acc) {
  T s[R][8] = {};
  int64_t p = 0;
  for (; p + 8 <= k; p += 8)
    for (int r = 0; r < R; ++r)
      for (int q = 0; q < 8; ++q) s[r][q] += a[r * rsa + p + q] * x[p + q];
  for (int r = 0; r < R; ++r) {
    T t = ((s[r][0] + s[r][4]) + (s[r][1] + s[r][5])) + ((s[r][2] + s[r][6]) + (s[r][3] + s[r][7]));
    for (int64_t q = p; q < k; ++q) t += a[r * rsa + q] * x[q];
    T& d = y[r * incy];
    d = acc ? d + t : t;
  }
}

template <class T> struct GemvPair {
  detail::GemvKernel<T> dot = nullptr, axpy = nullptr;
};

template <class T> GemvPair<T> pick_gemv() {
  GemvPair<T> g;
  const GemmKernels* k = simd_kernels();
  if (!k) return g;
  if constexpr (sizeof(T) == 4) {
    g.dot = k->gemv_dot_f32;
    g.axpy = k->gemv_axpy_f32;
  } else {
    g.dot = k->gemv_dot_f64;
    g.axpy = k->gemv_axpy_f64;
  }
  return g;
}

template <class T>
void gemv_range(const GemvPair<T>& g, int64_t i0, int64_t i1, int64_t k, const T* A, int64_t rsa,
                int64_t csa, const T* x, T* y, int64_t incy, bool acc) {
  if (csa == 1 && g.dot) {
    g.dot(i1 - i0, k, A + i0 * rsa, rsa, x, y + i0 * incy, incy, acc);
    return;
  }
  if (rsa == 1 && g.axpy) {
    g.axpy(i1 - i0, k, A + i0, csa, x, y + i0 * incy, incy, acc);
    return;
  }
  if (csa == 1) {
    int64_t i = i0;
    for (; i + 4 <= i1; i += 4) dot_rows<T, 4>(k, A + i * rsa, rsa, x, y + i * incy, incy, acc);
    for (; i < i1; ++i) dot_rows<T, 1>(k, A + i * rsa, rsa, x, y + i * incy, incy, acc);
    return;
  }
  if (rsa == 1) {
    // Columns contiguous: axpy over columns into a block of sums.
    constexpr int64_t BLK = 512;
    T s[BLK];
    for (int64_t b0 = i0; b0 < i1; b0 += BLK) {
      const int64_t bn = std::min(BLK, i1 - b0);
      for (int64_t i = 0; i < bn; ++i) s[i] = T(0);
      for (int64_t p = 0; p < k; ++p) {
        const T* col = A + p * csa + b0;
        const T xp = x[p];
        for (int64_t i = 0; i < bn; ++i) s[i] += col[i] * xp;
      }
      for (int64_t i = 0; i < bn; ++i) {
        T& d = y[(b0 + i) * incy];
        d = acc ? d + s[i] : s[i];
      }
    }
    return;
  }
  for (int64_t i = i0; i < i1; ++i) {
    const T* r = A + i * rsa;
    T t = T(0);
    for (int64_t p = 0; p < k; ++p) t += r[p * csa] * x[p];
    T& d = y[i * incy];
    d = acc ? d + t : t;
  }
}

template <class T>
void gemv(int64_t m, int64_t k, const T* A, int64_t rsa, int64_t csa, const T* x, int64_t incx,
          T* y, int64_t incy, bool acc, int nt) {
  if (incx != 1) {
    T* xc = tl_vec.get<T>(k);
    for (int64_t p = 0; p < k; ++p) xc[p] = x[p * incx];
    x = xc;
  }
  const GemvPair<T> g = pick_gemv<T>();
  const int64_t work = m * k;
  int use = static_cast<int>(std::min<int64_t>(nt, std::max<int64_t>(1, work / kMinFlopsPerThread)));
  if (use <= 1) {
    gemv_range<T>(g, 0, m, k, A, rsa, csa, x, y, incy, acc);
    return;
  }
#pragma omp parallel num_threads(use)
  {
#ifdef _OPENMP
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
#else
    const int t = 0, team = 1;
#endif
    int64_t i0, i1;
    split_range(m, 512, t, team, &i0, &i1);
    if (i1 > i0) gemv_range<T>(g, i0, i1, k, A, rsa, csa, x, y, incy, acc);
  }
}

// ---------------------------------------------------------------------------
// Checks.

int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw std::overflow_error(std::string("gemm: ") + what + " overflows int64");
  return r;
}

// a * b for a, b >= 0, clamped to INT64_MAX (work estimates only).
int64_t saturating_mul(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

// Largest |offset| reached by an (r x c) operand with strides (rs, cs).
void check_extent(int64_t r, int64_t c, int64_t rs, int64_t cs, const char* what) {
  if (r == 0 || c == 0) return;
  int64_t x, y, s;
  if (__builtin_mul_overflow(r - 1, rs < 0 ? -rs : rs, &x) ||
      __builtin_mul_overflow(c - 1, cs < 0 ? -cs : cs, &y) || __builtin_add_overflow(x, y, &s) ||
      s > INT64_MAX / 8)
    throw std::overflow_error(std::string("gemm: extent of ") + what + " overflows int64");
}

template <class T>
void zero_or_keep(int64_t m, int64_t n, T* C, int64_t rsc, int64_t csc, bool accumulate) {
  if (accumulate) return;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) C[i * rsc + j * csc] = T(0);
}

template <class T>
int threads_for(int64_t m, int64_t n, int64_t k, int nt) {
  if (nt <= 1) return 1;
#ifdef _OPENMP
  if (omp_in_parallel()) return 1;
#endif
  const int64_t work = saturating_mul(saturating_mul(m, n), k);
  if (work < 2 * kMinFlopsPerThread) return 1;
  return static_cast<int>(std::min<int64_t>(nt, work / kMinFlopsPerThread));
}

// Which operands get packed (measured on Zen4 against packing everything).
// The micro-kernel streams a row-major A in place as fast as a packed panel,
// so A is packed only when its rows are not contiguous. B is read in place
// (full panels; edge panels are still packed) when it has unit column stride
// and either fits in L1, or is swept by at most two row panels, or by a few
// and its row stride does not alias in L1 (multiples of 512 bytes do).
template <class T>
Operands make_plan(const TileKernel<T>& tk, int64_t m, int64_t n, int64_t k, int64_t rsa,
                   int64_t csa, int64_t rsb, int64_t csb, int64_t rsc, int64_t csc,
                   bool accumulate) {
  const Tiling tl{tk.mr, tk.nr, tk.mc, tk.kc, tk.nc, tk.run_short ? tk.mr_short : 0};
  const int MR = tl.mr;
  Operands o{tl, m, n, k, rsa, csa, rsb, csb, rsc, csc, accumulate, true, true, 1.5};
  // Row-major B panels are copies; column-major ones a transpose (in registers
  // when the kernel has pack_b_cols); any other stride a gather.
  if (csb == 1)
    o.b_pack_cycles = 0.15;
  else if (rsb == 1)
    o.b_pack_cycles = tk.pack_b_cols ? 0.3 : 1.0;
  o.pack_a = csa != 1 || !tk.a_in_place;
  const int64_t b_bytes = k * n * int64_t(sizeof(T));
  const bool b_stride_ok = (rsb * int64_t(sizeof(T))) % 512 != 0;
  o.pack_b = !(csb == 1 &&
               (b_bytes <= 32 * 1024 || m <= 2 * MR || (m <= 8 * MR && b_stride_ok)));
  return o;
}

// Rough cycle count of a plan, only used to choose between C and C^T.
template <class T>
double plan_cost(const Operands& o) {
  const int MR = o.tl.mr, NR = o.tl.nr;
  // Two FMA pipes as wide as half a tile row (the tiles are two vectors wide).
  const double madds_per_cycle = NR / 2.0;
  const double tm = double((o.m + MR - 1) / MR), tn = double((o.n + NR - 1) / NR);
  const double kb = double((o.k + 255) / 256);
  const int64_t edge = o.m % MR;  // rows of the last tile, computed as a short or a full tile
  const double rows = double(o.m - edge + (edge == 0 ? 0 : edge <= o.tl.mr_short ? o.tl.mr_short : MR));
  double cost = rows * tn * NR * double(o.k) / madds_per_cycle;
  if (o.pack_a) cost += double(o.m) * double(o.k) * (o.rsa == 1 ? 0.3 : 1.0);
  if (o.pack_b) cost += double(o.k) * double(o.n) * o.b_pack_cycles;
  // C write-back per tile and KC block: vector stores, or (non-unit column stride)
  // one scalar read-modify-write per element, each on its own cache line.
  cost += tm * tn * kb * (o.csc == 1 ? 4.0 : 40.0 + 1.5 * MR * NR);
  return cost;
}

template <class T> detail::DotKernel<T> pick_dot() {
  const GemmKernels* k = simd_kernels();
  if (!k) return nullptr;
  if constexpr (sizeof(T) == 4)
    return k->dot_f32;
  else
    return k->dot_f64;
}

// C (m x n) for n much narrower than the register tile (most of every tile
// would be padding), when rows of A are contiguous: sums run along k instead
// (DotKernel), over B^T gathered once into a contiguous n x k block. Also
// applied to C^T = B^T A^T when m is the narrow side. Returns false when the
// shape does not qualify; the choice depends only on shapes and strides.
template <class T>
bool narrow_product(int64_t m, int64_t n, int64_t k, const T* A, int64_t rsa, int64_t csa,
                    const T* B, int64_t rsb, int64_t csb, T* C, int64_t rsc, int64_t csc,
                    bool accumulate, int nt) {
  constexpr int NR = kNarrowNR<T>;
  const detail::DotKernel<T> dk = pick_dot<T>();
  if (!dk || k < 32) return false;
  auto narrow = [](int64_t w) {
    const int64_t padded = (w + NR - 1) / NR * NR;
    return w < 2 * NR && w * 10 < padded * 7;
  };
  if (narrow(n) && csa == 1) {
    // keep
  } else if (narrow(m) && rsb == 1) {
    std::swap(m, n);
    std::swap(A, B);
    const int64_t ra = rsa, ca = csa;
    rsa = csb;
    csa = rsb;
    rsb = ca;
    csb = ra;
    std::swap(rsc, csc);
  } else {
    return false;
  }
  // B^T rows: B's columns, contiguous along k.
  const T* bt = B;
  int64_t ldb = csb;
  if (rsb != 1) {
    // Row pitch padded off multiples of 512 bytes so the rows do not share L1 sets.
    ldb = (k * int64_t(sizeof(T))) % 512 == 0 ? k + 64 / int64_t(sizeof(T)) : k;
    T* buf = tl_pack_b.get<T>(n * ldb);
    for (int64_t p = 0; p < k; ++p)
      for (int64_t j = 0; j < n; ++j) buf[j * ldb + p] = B[p * rsb + j * csb];
    bt = buf;
  }
  if (nt <= 1 || m < 8) {
    dk(m, n, k, A, rsa, bt, ldb, C, rsc, csc, accumulate);
    return true;
  }
#pragma omp parallel num_threads(nt)
  {
#ifdef _OPENMP
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
#else
    const int t = 0, team = 1;
#endif
    int64_t r0, r1;
    split_range(m, 4, t, team, &r0, &r1);
    if (r1 > r0) dk(r1 - r0, n, k, A + r0 * rsa, rsa, bt, ldb, C + r0 * rsc, rsc, csc, accumulate);
  }
  return true;
}

// The epilogue over all of C, for the routes that do not go through tiles.
template <class T>
void finish(const GemmEpilogue<T>* epi, int64_t m, int64_t n, T* C, int64_t rsc, int64_t csc) {
  if (epi) apply_epilogue(*epi, epi->bias, epi->mask, m, n, C, rsc, csc);
}

template <class T>
void gemm_float(int64_t m, int64_t n, int64_t k, const T* A, int64_t rsa, int64_t csa,
                const T* B, int64_t rsb, int64_t csb, T* C, int64_t rsc, int64_t csc,
                bool accumulate, int nt, const GemmEpilogue<T>* epi) {
  if (m < 0 || n < 0 || k < 0) throw std::invalid_argument("gemm: negative dimension");
  checked_mul(m, n, "m*n");
  checked_mul(m, k, "m*k");
  checked_mul(k, n, "k*n");
  check_extent(m, k, rsa, csa, "A");
  check_extent(k, n, rsb, csb, "B");
  check_extent(m, n, rsc, csc, "C");
  if (m == 0 || n == 0) return;
  if (k == 0) {
    zero_or_keep(m, n, C, rsc, csc, accumulate);
    finish(epi, m, n, C, rsc, csc);
    return;
  }
  nt = threads_for<T>(m, n, k, nt);
  if (n == 1) {
    gemv<T>(m, k, A, rsa, csa, B, rsb, C, rsc, accumulate, nt);
    finish(epi, m, n, C, rsc, csc);
    return;
  }
  if (m == 1) {
    // C^T(n x 1) = B^T(n x k) a^T.
    gemv<T>(n, k, B, csb, rsb, A, csa, C, csc, accumulate, nt);
    finish(epi, m, n, C, rsc, csc);
    return;
  }
  if (narrow_product<T>(m, n, k, A, rsa, csa, B, rsb, csb, C, rsc, csc, accumulate, nt)) {
    finish(epi, m, n, C, rsc, csc);
    return;
  }
  // Orientation: C^T = B^T A^T swaps the roles of (m, A) and (n, B), and of the
  // bias's strides. Take the one with the lower estimated cost (tile padding,
  // packing, C write-back).
  const TileKernel<T> tk = pick_tile<T>();
  const Operands keep = make_plan<T>(tk, m, n, k, rsa, csa, rsb, csb, rsc, csc, accumulate);
  const Operands swap = make_plan<T>(tk, n, m, k, csb, rsb, csa, rsa, csc, rsc, accumulate);
  GemmEpilogue<T> swapped;
  if (epi) swapped = {epi->bias, epi->bias_cs, epi->bias_rs, epi->relu, epi->mask, epi->mask_cs, epi->mask_rs};
  if (plan_cost<T>(swap) < 0.97 * plan_cost<T>(keep))
    gemm_blocked<T>(tk, swap, B, A, C, nt, {epi ? &swapped : nullptr, swapped.bias, swapped.mask});
  else
    gemm_blocked<T>(tk, keep, A, B, C, nt, {epi, epi ? epi->bias : nullptr, epi ? epi->mask : nullptr});
}

// Integer / bool fallback: plain loops, wrapping arithmetic.
template <class T>
void gemm_plain(int64_t m, int64_t n, int64_t k, const T* A, int64_t rsa, int64_t csa,
                const T* B, int64_t rsb, int64_t csb, T* C, int64_t rsc, int64_t csc,
                bool accumulate) {
  if (m < 0 || n < 0 || k < 0) throw std::invalid_argument("gemm: negative dimension");
  checked_mul(m, n, "m*n");
  checked_mul(m, k, "m*k");
  checked_mul(k, n, "k*n");
  check_extent(m, k, rsa, csa, "A");
  check_extent(k, n, rsb, csb, "B");
  check_extent(m, n, rsc, csc, "C");
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      if constexpr (std::is_same<T, bool>::value) {
        bool s = accumulate && C[i * rsc + j * csc];
        for (int64_t p = 0; p < k && !s; ++p) s = A[i * rsa + p * csa] && B[p * rsb + j * csb];
        C[i * rsc + j * csc] = s;
      } else {
        using U = typename std::make_unsigned<T>::type;
        using W = typename std::conditional<(sizeof(U) < sizeof(unsigned)), unsigned, U>::type;
        W s = accumulate ? W(U(C[i * rsc + j * csc])) : W(0);
        for (int64_t p = 0; p < k; ++p)
          s += W(U(A[i * rsa + p * csa])) * W(U(B[p * rsb + j * csb]));
        C[i * rsc + j * csc] = static_cast<T>(static_cast<U>(s));
      }
    }
  }
}

template <class T>
void gemm_any(int64_t m, int64_t n, int64_t k, const T* A, int64_t rsa, int64_t csa, const T* B,
              int64_t rsb, int64_t csb, T* C, int64_t rsc, int64_t csc, bool accumulate,
              int nt) {
  if constexpr (std::is_floating_point<T>::value) {
    gemm_float<T>(m, n, k, A, rsa, csa, B, rsb, csb, C, rsc, csc, accumulate, nt, nullptr);
  } else {
    (void)nt;
    gemm_plain<T>(m, n, k, A, rsa, csa, B, rsb, csb, C, rsc, csc, accumulate);
  }
}

// ---------------------------------------------------------------------------
// Batched matmul over Views.

const char* kSig = "(n?,k),(k,m?)->(n?,m?)";

[[noreturn]] void core_mismatch(const char* operand, int dim, int64_t got, int64_t want) {
  throw std::invalid_argument(std::string("matmul: ") + operand +
                              " has a mismatch in its core dimension " + std::to_string(dim) +
                              ", with gufunc signature " + kSig + " (size " +
                              std::to_string(got) + " is different from " + std::to_string(want) +
                              ")");
}

// Can dims [0, nd] of v (batch dims then the row dim nd) be walked with one
// stride? Returns that stride in *stride.
bool rows_collapse(const View& v, int nd, int64_t* stride) {
  int64_t s = v.strides[nd];
  int64_t span = v.shape[nd];
  for (int d = nd - 1; d >= 0; --d) {
    if (v.shape[d] == 1) continue;
    if (span == 1) {
      s = v.strides[d];
      span = v.shape[d];
      continue;
    }
    if (v.strides[d] != s * span) return false;
    span *= v.shape[d];
  }
  *stride = s;
  return true;
}

template <class T>
void matmul_typed(const View& a, const View& b, const View& out, bool accumulate) {
  const int nd = out.ndim, nb = nd - 2;
  const int64_t m = a.shape[nd - 2], k = a.shape[nd - 1], n = b.shape[nd - 1];
  const int64_t rsa = a.strides[nd - 2], csa = a.strides[nd - 1];
  const int64_t rsb = b.strides[nd - 2], csb = b.strides[nd - 1];
  const int64_t rsc = out.strides[nd - 2], csc = out.strides[nd - 1];
  int64_t batch = 1;
  for (int d = 0; d < nb; ++d) batch = checked_mul(batch, out.shape[d], "batch size");
  if (batch == 0 || m == 0 || n == 0) return;
  const T* A = a.ptr<T>();
  const T* B = b.ptr<T>();
  T* C = out.ptr<T>();
  const int nt = num_threads();

  // Effective batch strides (0 where a/b are broadcast).
  int64_t sa[kMaxDims], sb[kMaxDims];
  bool b_fixed = true, a_full = true;
  for (int d = 0; d < nb; ++d) {
    sa[d] = a.shape[d] == 1 ? 0 : a.strides[d];
    sb[d] = b.shape[d] == 1 ? 0 : b.strides[d];
    if (sb[d] != 0 && out.shape[d] != 1) b_fixed = false;
    if (a.shape[d] != out.shape[d]) a_full = false;
  }
  if (batch == 1 || nb == 0) {
    gemm_any<T>(m, n, k, A, rsa, csa, B, rsb, csb, C, rsc, csc, accumulate, nt);
    return;
  }
  // One B for every batch entry and A/out stacked with a single row stride:
  // the whole batch is one (batch*m x k) @ (k x n) product.
  int64_t fa, fc;
  if (b_fixed && a_full && rows_collapse(a, nd - 2, &fa) && rows_collapse(out, nd - 2, &fc)) {
    gemm_any<T>(batch * m, n, k, A, fa, csa, B, rsb, csb, C, fc, csc, accumulate, nt);
    return;
  }
  auto entry = [&](int64_t idx, int inner_threads) {
    int64_t oa = 0, ob = 0, oc = 0, rem = idx;
    for (int d = nb - 1; d >= 0; --d) {
      const int64_t i = rem % out.shape[d];
      rem /= out.shape[d];
      oa += i * sa[d];
      ob += i * sb[d];
      oc += i * out.strides[d];
    }
    gemm_any<T>(m, n, k, A + oa, rsa, csa, B + ob, rsb, csb, C + oc, rsc, csc, accumulate,
                inner_threads);
  };
  const int64_t per = saturating_mul(saturating_mul(m, n), std::max<int64_t>(k, 1));
  const bool outer = std::is_floating_point<T>::value ? per < 8 * kMinFlopsPerThread : true;
  int use = 1;
#ifdef _OPENMP
  if (nt > 1 && outer && !omp_in_parallel()) {
    const int64_t total = saturating_mul(per, batch);
    use = static_cast<int>(std::min<int64_t>({int64_t(nt), batch,
                                              std::max<int64_t>(1, total / kMinFlopsPerThread)}));
  }
#endif
  if (use > 1) {
#pragma omp parallel for num_threads(use) schedule(static)
    for (int64_t idx = 0; idx < batch; ++idx) entry(idx, 1);
  } else {
    for (int64_t idx = 0; idx < batch; ++idx) entry(idx, nt);
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Public API.

namespace detail {
void set_gemm_blocking(int elem_bytes, int64_t mc, int64_t kc, int64_t nc) {
  Blocking& bl = elem_bytes == 4 ? g_blk_f32 : g_blk_f64;
  if (mc >= 0) bl.mc = mc;
  if (kc >= 0) bl.kc = kc;
  if (nc >= 0) bl.nc = nc;
}
void get_gemm_blocking(int elem_bytes, int64_t* mc, int64_t* kc, int64_t* nc) {
  int64_t v[3];
  auto get = [&](auto t) {
    const auto tk = pick_tile<decltype(t)>();
    v[0] = tk.mc;
    v[1] = tk.kc;
    v[2] = tk.nc;
  };
  if (elem_bytes == 4)
    get(float{});
  else
    get(double{});
  *mc = v[0];
  *kc = v[1];
  *nc = v[2];
}

void store_tile(const float* s, int lds, float* c, int64_t rsc, int64_t csc, int mr, int nr,
                bool load_c) {
  store_tile_any(s, lds, c, rsc, csc, mr, nr, load_c);
}
void store_tile(const double* s, int lds, double* c, int64_t rsc, int64_t csc, int mr, int nr,
                bool load_c) {
  store_tile_any(s, lds, c, rsc, csc, mr, nr, load_c);
}
}  // namespace detail

template <class T>
void gemm(int64_t m, int64_t n, int64_t k, const T* A, int64_t rsa, int64_t csa, const T* B,
          int64_t rsb, int64_t csb, T* C, int64_t rsc, int64_t csc, bool accumulate) {
  gemm_any<T>(m, n, k, A, rsa, csa, B, rsb, csb, C, rsc, csc, accumulate, num_threads());
}

template <class T>
void gemm(int64_t m, int64_t n, int64_t k, const T* A, int64_t rsa, int64_t csa, const T* B,
          int64_t rsb, int64_t csb, T* C, int64_t rsc, int64_t csc, bool accumulate,
          const GemmEpilogue<T>& epi) {
  gemm_float<T>(m, n, k, A, rsa, csa, B, rsb, csb, C, rsc, csc, accumulate, num_threads(), &epi);
}

template void gemm<float>(int64_t, int64_t, int64_t, const float*, int64_t, int64_t, const float*,
                          int64_t, int64_t, float*, int64_t, int64_t, bool,
                          const GemmEpilogue<float>&);
template void gemm<double>(int64_t, int64_t, int64_t, const double*, int64_t, int64_t,
                           const double*, int64_t, int64_t, double*, int64_t, int64_t, bool,
                           const GemmEpilogue<double>&);
template void gemm<float>(int64_t, int64_t, int64_t, const float*, int64_t, int64_t,
                          const float*, int64_t, int64_t, float*, int64_t, int64_t, bool);
template void gemm<double>(int64_t, int64_t, int64_t, const double*, int64_t, int64_t,
                           const double*, int64_t, int64_t, double*, int64_t, int64_t, bool);
template void gemm<int32_t>(int64_t, int64_t, int64_t, const int32_t*, int64_t, int64_t,
                            const int32_t*, int64_t, int64_t, int32_t*, int64_t, int64_t, bool);
template void gemm<int64_t>(int64_t, int64_t, int64_t, const int64_t*, int64_t, int64_t,
                            const int64_t*, int64_t, int64_t, int64_t*, int64_t, int64_t, bool);
template void gemm<uint8_t>(int64_t, int64_t, int64_t, const uint8_t*, int64_t, int64_t,
                            const uint8_t*, int64_t, int64_t, uint8_t*, int64_t, int64_t, bool);
template void gemm<bool>(int64_t, int64_t, int64_t, const bool*, int64_t, int64_t, const bool*,
                         int64_t, int64_t, bool*, int64_t, int64_t, bool);

void matmul(const View& a, const View& b, const OutView& out, bool accumulate) {
  if (a.ndim < 2 || a.ndim != b.ndim || a.ndim != out.ndim)
    throw std::invalid_argument("matmul: operands must have the same number of dimensions (>= 2), got " +
                                shape_str(a) + ", " + shape_str(b) + " -> " + shape_str(out));
  if (a.dtype != b.dtype || a.dtype != out.dtype)
    throw std::invalid_argument(std::string("matmul: dtype mismatch: ") + dtype_name(a.dtype) +
                                ", " + dtype_name(b.dtype) + " -> " + dtype_name(out.dtype));
  const int nd = a.ndim;
  if (b.shape[nd - 2] != a.shape[nd - 1])
    core_mismatch("Input operand 1", 0, b.shape[nd - 2], a.shape[nd - 1]);
  if (out.shape[nd - 2] != a.shape[nd - 2])
    core_mismatch("Output operand 0", 0, out.shape[nd - 2], a.shape[nd - 2]);
  if (out.shape[nd - 1] != b.shape[nd - 1])
    core_mismatch("Output operand 0", 1, out.shape[nd - 1], b.shape[nd - 1]);
  for (int d = 0; d < nd - 2; ++d) {
    const bool ok_a = a.shape[d] == out.shape[d] || a.shape[d] == 1;
    const bool ok_b = b.shape[d] == out.shape[d] || b.shape[d] == 1;
    if (!ok_a || !ok_b)
      throw std::invalid_argument("matmul: operands could not be broadcast together with shapes " +
                                  shape_str(a) + " " + shape_str(b) + " -> " + shape_str(out));
  }
  for (int d = 0; d < nd; ++d)
    if (a.shape[d] < 0 || b.shape[d] < 0 || out.shape[d] < 0)
      throw std::invalid_argument("matmul: negative dimension");
  dispatch_dtype(a.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    matmul_typed<T>(a, b, out, accumulate);
  });
}

void matmul_epilogue(const View& a, const View& b, const OutView& out, const std::optional<View>& bias,
                     bool relu, const std::optional<View>& mask) {
  auto shapes = [&] {
    std::string s = shape_str(a) + " @ " + shape_str(b) + " -> " + shape_str(out);
    s = bias ? s + " + bias " + shape_str(*bias) : s;
    return mask ? s + " masked by " + shape_str(*mask) : s;
  };
  // A 1-D bias of length n is added to every row (a 2-D one may broadcast by strides).
  if (a.ndim != 2 || b.ndim != 2 || out.ndim != 2 || (bias && bias->ndim != 2 && bias->ndim != 1))
    throw std::invalid_argument("matmul_epilogue: operands must be 2-D (bias 1-D or 2-D), got " + shapes());
  if (a.dtype != b.dtype || a.dtype != out.dtype || (bias && bias->dtype != a.dtype))
    throw std::invalid_argument(std::string("matmul_epilogue: dtype mismatch: ") + dtype_name(a.dtype) +
                                ", " + dtype_name(b.dtype) + " -> " + dtype_name(out.dtype) +
                                (bias ? std::string(", bias ") + dtype_name(bias->dtype) : ""));
  if (a.dtype != DType::Float32 && a.dtype != DType::Float64)
    throw std::invalid_argument(std::string("matmul_epilogue: needs float32 or float64, got ") +
                                dtype_name(a.dtype));
  const int64_t m = a.shape[0], k = a.shape[1], n = b.shape[1];
  if (b.shape[0] != k || out.shape[0] != m || out.shape[1] != n ||
      (bias && bias->ndim == 2 && (bias->shape[0] != m || bias->shape[1] != n)) ||
      (bias && bias->ndim == 1 && bias->shape[0] != n))
    throw std::invalid_argument("matmul_epilogue: shapes do not match: " + shapes());
  if (mask && (mask->ndim != 2 || mask->shape[0] != out.shape[0] || mask->shape[1] != out.shape[1]))
    throw std::invalid_argument("matmul_epilogue: the mask must have the output's shape, got " + shapes());
  if (mask && mask->dtype != a.dtype)
    throw std::invalid_argument(std::string("matmul_epilogue: the mask must be ") + dtype_name(a.dtype) +
                                ", got " + dtype_name(mask->dtype));
  auto run = [&](auto zero) {
    using T = decltype(zero);
    GemmEpilogue<T> e;
    if (bias && bias->ndim == 1)
      e = {bias->ptr<T>(), 0, bias->strides[0], relu};
    else if (bias)
      e = {bias->ptr<T>(), bias->strides[0], bias->strides[1], relu};
    e.relu = relu;
    if (mask) {
      e.mask = mask->ptr<T>();
      e.mask_rs = mask->strides[0];
      e.mask_cs = mask->strides[1];
    }
    gemm<T>(m, n, k, a.ptr<T>(), a.strides[0], a.strides[1], b.ptr<T>(), b.strides[0], b.strides[1],
            out.ptr<T>(), out.strides[0], out.strides[1], false, e);
  };
  if (a.dtype == DType::Float32)
    run(float{});
  else
    run(double{});
}

void set_gemm_force_fallback(bool on) { g_force_fallback.store(on ? 1 : 0); }

bool gemm_force_fallback() {
  int v = g_force_fallback.load(std::memory_order_relaxed);
  if (v < 0) {
    const int e = env_forces_fallback() ? 1 : 0;
    int expected = -1;
    g_force_fallback.compare_exchange_strong(expected, e);
    v = g_force_fallback.load(std::memory_order_relaxed);
  }
  return v == 1;
}

const GemmKernels* gemm_kernel_for_level(int level) {
#if defined(__x86_64__) || defined(_M_X64)
  if (level >= kAvx512) {
    // AVX-512 micro-kernels; matrix-vector and dot kernels stay AVX2 (memory-bound).
    static const GemmKernels k = [] {
      GemmKernels r = *detail::gemm_avx2_kernels();
      const detail::TileKernels t = detail::gemm_avx512_tile_kernels();
      r.f32 = t.f32;
      r.f64 = t.f64;
      return r;
    }();
    return &k;
  }
  if (level == kAvx2) return detail::gemm_avx2_kernels();
#else
  (void)level;
#endif
  return nullptr;
}

void set_gemm_kernel(const std::string& name) {
  const int level = level_from_name(name.c_str());
  if (level < 0)
    throw std::invalid_argument("set_gemm_kernel: unknown kernel '" + name +
                                "' (expected 'portable', 'avx2', 'avx512' or 'best')");
  if (level > cpu_gemm_level())
    throw std::invalid_argument("set_gemm_kernel: this CPU cannot run '" + name +
                                "'; the best it runs is '" + kLevelNames[cpu_gemm_level()] +
                                "'");
  g_level_cap.store(level);
}

const char* gemm_kernel_name() {
  static constexpr const char* kShown[] = {"portable", "avx2-fma", "avx512"};
  return kShown[active_gemm_level()];
}

}  // namespace corten
