// The register-tile micro-kernel, written once for every SIMD level. Included
// only by the kernel TUs (gemm_avx2.cpp, gemm_avx512.cpp), inside their
// anonymous namespace and after their vector-ops structs, so each TU gets its
// own internal copy built for its own instruction set: no instantiation here
// has external linkage, and none can be picked up by generic code.
//
// O supplies the vector type V of O::L lanes of O::T (zero, load, bcast, fma,
// add, store). The tile is MR rows x NV vectors: MR * NV accumulators, NV
// registers of B and one broadcast of A per k step, so MR * NV + NV + 1 must
// not exceed the register file (16 for AVX2, 32 for AVX-512).
//
// Each element of the tile is one chain of fused multiply-adds over p in
// increasing order, starting from zero (the contract in gemm_kernels.h), so the
// result depends on kc alone, never on how the caller splits m, n or threads.
//
// Needs: <cstdint>, gemm_kernels.h (store_tile), and O with the members above.

#define CORTEN_UNROLL _Pragma("GCC unroll 32")

template <class O, int MR, int NV>
struct Tile {
  using T = typename O::T;
  using V = typename O::V;
  static constexpr int NR = NV * O::L;
  V acc[MR][NV];

  Tile() {
    CORTEN_UNROLL for (int i = 0; i < MR; ++i) CORTEN_UNROLL for (int v = 0; v < NV; ++v) acc[i][v] = O::zero();
  }
  // One k step: a(i) at rows[i] for packed panels rows[i] = a + i.
  template <class RowPtr>
  void step(RowPtr row, const T* bp) {
    V b[NV];
    CORTEN_UNROLL for (int v = 0; v < NV; ++v) b[v] = O::load(bp + v * O::L);
    CORTEN_UNROLL for (int i = 0; i < MR; ++i) {
      const V x = O::bcast(row(i));
      CORTEN_UNROLL for (int v = 0; v < NV; ++v) acc[i][v] = O::fma(x, b[v], acc[i][v]);
    }
  }
};

template <class O, int MR, int NV>
void tile_kernel(int64_t kc, const typename O::T* a, int64_t rsa, int64_t csa,
                 const typename O::T* b, int64_t rsb, typename O::T* c, int64_t rsc,
                 int64_t csc, int mr, int nr, bool load_c) {
  using T = typename O::T;
  using Acc = Tile<O, MR, NV>;
  constexpr int NR = Acc::NR;
  Acc t;

  // Warm the destination rows while the k loop runs: with k split into KC
  // blocks, C is read back once per block on large problems.
  if (csc == 1) {
    for (int i = 0; i < mr; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(c + i * rsc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * rsc + NR - 1), _MM_HINT_T0);
    }
  }

  if (rsa == 1 && csa == MR) {
    // Packed A panel: MR consecutive values per k step.
    for (int64_t p = 0; p < kc; ++p) {
      t.step([a](int i) { return a + i; }, b);
      a += MR;
      b += rsb;
    }
  } else if (mr == MR) {
    // A read in place: row i at a + i * rsa (address arithmetic, no pointer per row).
    for (int64_t p = 0; p < kc; ++p) {
      t.step([a, rsa](int i) { return a + i * rsa; }, b);
      a += csa;
      b += rsb;
    }
  } else {
    // Edge panel read in place; rows past mr repeat row mr - 1 (see the contract).
    const T* r[MR];
    for (int i = 0; i < MR; ++i) r[i] = a + (i < mr ? i : mr - 1) * rsa;
    int64_t off = 0;
    for (int64_t p = 0; p < kc; ++p) {
      t.step([&r, off](int i) { return r[i] + off; }, b);
      off += csa;
      b += rsb;
    }
  }

  if (mr == MR && nr == NR && csc == 1) {
    CORTEN_UNROLL for (int i = 0; i < MR; ++i) {
      T* d = c + i * rsc;
      CORTEN_UNROLL for (int v = 0; v < NV; ++v) {
        T* dv = d + v * O::L;
        O::store(dv, load_c ? O::add(O::load(dv), t.acc[i][v]) : t.acc[i][v]);
      }
    }
    return;
  }
  // Edge tile or non-unit column stride: spill the tile, then write what exists.
  alignas(64) T s[MR * NR];
  CORTEN_UNROLL for (int i = 0; i < MR; ++i)
    CORTEN_UNROLL for (int v = 0; v < NV; ++v) O::store(s + i * NR + v * O::L, t.acc[i][v]);
  store_tile(s, NR, c, rsc, csc, mr, nr, load_c);
}

#undef CORTEN_UNROLL
