// The reduction loops, included inside an anonymous namespace by
// reduce_generic.cpp and reduce_avx2.cpp (each compiled for its instruction
// set; reduce.cpp picks one at run time). See reduce.cpp for the strategy.
constexpr int64_t kChunk = 1 << 16;      // reduced elements per partial result (per output)
constexpr int64_t kBlock = 4096;         // outputs per unit when accumulating rows
constexpr int64_t kRowsWork = 1 << 20;   // elements per unit when accumulating rows

// Calls f(x_offset, count, stride, flat_index) for runs covering reduced
// elements [b, e) in C order.
template <class F>
void for_runs(const corten::Dims<1>& R, int64_t b, int64_t e, F&& f) {
  if (R.nd == 1) {  // the common case: one run, no walker (argmax along rows: 15% of its time)
    if (b < e) f(b * R.d[0].s[0], e - b, R.d[0].s[0], b);
    return;
  }
  int64_t flat = b;
  corten::for_each_run(R, b, e, [&](int64_t cnt, const int64_t* off, const int64_t* st) {
    f(off[0], cnt, st[0], flat);
    flat += cnt;
  });
}

template <class Op, class = void> constexpr bool kFloatRows = false;
template <class Op> constexpr bool kFloatRows<Op, std::void_t<decltype(Op::kFloatRows)>> = Op::kFloatRows;

template <class Op, class = void> constexpr bool kVecRows = false;
template <class Op> constexpr bool kVecRows<Op, std::void_t<decltype(Op::kVecRows)>> = Op::kVecRows;

// Sum rows into float accumulators `fa`, 64 rows at a time, then into the
// double states `st`: float-speed adds with double accuracy.
template <class S, class T>
void add_rows_blocked(S* st, T* fa, const T* row, int64_t rows, int64_t rs, int64_t n) {
  for (int64_t r0 = 0; r0 < rows; r0 += 64) {
    const int64_t r1 = std::min(rows, r0 + 64);
    for (int64_t j = 0; j < n; ++j) fa[j] = row[r0 * rs + j];
    int64_t r = r0 + 1;
    for (; r + 4 <= r1; r += 4) {  // four rows per pass over fa
      const T *p0 = row + r * rs, *p1 = p0 + rs, *p2 = p1 + rs, *p3 = p2 + rs;
      for (int64_t j = 0; j < n; ++j) fa[j] += (p0[j] + p1[j]) + (p2[j] + p3[j]);
    }
    for (; r < r1; ++r) {
      const T* p = row + r * rs;
      for (int64_t j = 0; j < n; ++j) fa[j] += p[j];
    }
    for (int64_t j = 0; j < n; ++j) st[j] += fa[j];
  }
}

template <class Op>
void reduce_loops(const Op& op, const corten::View& x, const corten::OutView& out, int nred) {
  using T = typename Op::In;
  using S = typename Op::State;
  using O = typename Op::Out;
  corten::require_dtype(out, corten::dtype_of<O>(), "reduce", "output");
  const int nk = x.ndim - nred;
  corten::Dims<2> K;  // kept dims: strides of x and out
  corten::Dims<1> R;  // reduced dims: strides of x
  for (int i = 0; i < nk; ++i) {
    const int64_t s[2] = {x.strides[i], out.strides[i]};
    K.push(x.shape[i], s);
  }
  int order[corten::kMaxDims];
  for (int i = 0; i < nred; ++i) order[i] = nk + i;
  if (!Op::kArg)  // any order sums the same set; the smallest stride goes innermost
    std::stable_sort(order, order + nred,
                     [&](int a, int b) { return std::abs(x.strides[a]) > std::abs(x.strides[b]); });
  for (int i = 0; i < nred; ++i) R.push(x.shape[order[i]], &x.strides[order[i]]);
  const int64_t M = K.total, N = R.total;
  corten::collapse_dims(K);
  corten::collapse_dims(R);
  if (M == 0) return;
  const int64_t r_stride = R.nd ? R.inner().s[0] : 0;
  const T* xp = x.ptr<T>();
  O* op_ = out.ptr<O>();

  if (N == 0) {  // empty reduction: the identity (Python rejects ops without one)
    corten::parallel_ranges(M, 1, [&](int64_t b, int64_t e) {
      corten::Walker<2> w(K);
      w.seek(b);
      for (int64_t m = b; m < e; ++m, w.next()) op_[w.off[1]] = op.finish(op.init(), 0);
    });
    return;
  }

  const bool rows = K.nd > 0 && std::abs(K.inner().s[0]) < std::abs(r_stride);
  // Rows: whole rows of up to kBlock outputs are read in order, ~kRowsWork
  // elements per unit, so chunks count rows (a multiple of 64).
  const int64_t chunk =
      rows ? (std::max<int64_t>(64, kRowsWork / std::min(K.inner().n, kBlock)) + 63) / 64 * 64 : kChunk;
  const int64_t nchunks = (N + chunk - 1) / chunk;
  std::unique_ptr<S[]> part(new S[nchunks > 1 ? M * nchunks : 0]);  // not vector<bool>
  const int nt = corten::threads_for(M * N);

  if (!rows) {
    corten::parallel_ranges(M * nchunks, nt, [&](int64_t ub, int64_t ue) {
      corten::Walker<2> w(K);
      int64_t c = ub % nchunks;
      w.seek(ub / nchunks);
      for (int64_t u = ub; u < ue; ++u) {
        S s = op.init();
        const int64_t xo = w.off[0];
        for_runs(R, c * chunk, std::min(N, (c + 1) * chunk),
                 [&](int64_t off, int64_t cnt, int64_t st, int64_t flat) { op.run(s, xp + xo + off, cnt, st, flat); });
        if (nchunks == 1) op_[w.off[1]] = op.finish(s, N);
        else part[u] = s;
        if (++c == nchunks) {
          c = 0;
          w.next();
        }
      }
    });
  } else {
    const corten::Dim<2> kin = K.inner();
    const int64_t nb = (kin.n + kBlock - 1) / kBlock, Mo = M / kin.n;
    corten::parallel_ranges(Mo * nb * nchunks, nt, [&](int64_t ub, int64_t ue) {
      corten::Walker<2> w(K, K.nd - 1);
      std::unique_ptr<S[]> st(new S[kBlock]);
      std::unique_ptr<T[]> fa(new T[kBlock]);
      for (int64_t u = ub; u < ue; ++u) {
        const int64_t c = u % nchunks, cb = (u / nchunks) % nb, mo = u / nchunks / nb;
        w.seek(mo);
        const int64_t j0 = cb * kBlock, jn = std::min(kBlock, kin.n - j0), xs = kin.s[0];
        for (int64_t j = 0; j < jn; ++j) st[j] = op.init();
        S* sp = st.get();
        const T* base = xp + w.off[0] + j0 * xs;
        for_runs(R, c * chunk, std::min(N, (c + 1) * chunk), [&](int64_t off, int64_t cnt, int64_t rs, int64_t flat) {
          if constexpr (kFloatRows<Op>) {
            if (xs == 1) return add_rows_blocked(sp, fa.get(), base + off, cnt, rs, jn);
          }
          if constexpr (kVecRows<Op>) {
            if (xs == 1) {
              for (int64_t r = 0; r < cnt; ++r) Op::add_row(sp, base + off + r * rs, jn);
              return;
            }
          }
          for (int64_t r = 0; r < cnt; ++r) {
            const T* row = base + off + r * rs;
            if (xs == 1)
              for (int64_t j = 0; j < jn; ++j) op.add(sp[j], row[j], flat + r);
            else
              for (int64_t j = 0; j < jn; ++j) op.add(sp[j], row[j * xs], flat + r);
          }
        });
        if (nchunks == 1) {
          for (int64_t j = 0; j < jn; ++j) op_[w.off[1] + (j0 + j) * kin.s[1]] = op.finish(sp[j], N);
        } else {
          for (int64_t j = 0; j < jn; ++j) part[(mo * kin.n + j0 + j) * nchunks + c] = sp[j];
        }
      }
    });
  }
  if (nchunks > 1) {  // merge the chunks of each output in order
    corten::parallel_ranges(M, corten::threads_for(M * nchunks), [&](int64_t b, int64_t e) {
      corten::Walker<2> w(K);
      w.seek(b);
      for (int64_t m = b; m < e; ++m, w.next()) {
        S s = part[m * nchunks];
        for (int64_t c = 1; c < nchunks; ++c) op.merge(s, part[m * nchunks + c]);
        op_[w.off[1]] = op.finish(s, N);
      }
    });
  }
}


[[noreturn]] void bad_dtype(const char* op, corten::DType d) {
  throw std::invalid_argument(std::string(op) + ": not supported for dtype " + corten::dtype_name(d));
}

void reduce_any(corten::ReduceOp op, const corten::View& x, const corten::OutView& out, int nred) {
  using corten::ReduceOp;
  corten::dispatch_dtype(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    switch (op) {
      case ReduceOp::Sum: return reduce_loops(rops::Sum<T>{}, x, out, nred);
      case ReduceOp::Prod: return reduce_loops(rops::Prod<T>{}, x, out, nred);
      case ReduceOp::Max: return reduce_loops(rops::Extreme<T, true>{}, x, out, nred);
      case ReduceOp::Min: return reduce_loops(rops::Extreme<T, false>{}, x, out, nred);
      case ReduceOp::ArgMax: return reduce_loops(rops::ArgExtreme<T, true>{}, x, out, nred);
      case ReduceOp::ArgMin: return reduce_loops(rops::ArgExtreme<T, false>{}, x, out, nred);
      case ReduceOp::Mean:
        if constexpr (rops::is_float<T>) return reduce_loops(rops::Mean<T>{}, x, out, nred);
        else bad_dtype("mean", x.dtype);
    }
  });
}
