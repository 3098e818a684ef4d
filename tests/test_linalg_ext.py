"""corten.linalg (the Array API linalg extension) against numpy.linalg: random batch
shapes, memory layouts (transposed, stepped, negative strides) and the four
floating dtypes; decompositions whose factors are not unique are checked by
reconstruction."""

import math

import corten as ct
import numpy as np
import pytest
from corten import linalg as la
from hypothesis import given, settings
from hypothesis import strategies as st

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
TOL = {np.float32: 2e-4, np.float64: 1e-10, np.complex64: 2e-4, np.complex128: 1e-10}


def rand(rng, shape, dtype):
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def well_conditioned(rng, batch, n, dtype, layout):
    a = rand(rng, batch + (n, n), dtype)
    a = a + np.asarray(2 * n * np.eye(n), dtype)  # diagonally dominant: comfortably invertible
    return make_layout(a, layout)


def make_layout(a, layout):
    """The values of a in the given memory layout."""
    if layout == "transposed":
        return np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2)
    if layout == "stepped":
        big = np.zeros(tuple(2 * s for s in a.shape), a.dtype)
        v = big[tuple(slice(None, None, 2) for _ in a.shape)]
        v[...] = a
        return v
    return a


def spd(rng, batch, n, dtype, layout="contiguous"):
    b = rand(rng, batch + (n, n), dtype)
    a = b @ np.conj(np.swapaxes(b, -1, -2)) + np.asarray(n * np.eye(n), dtype)
    return make_layout(a.astype(dtype), layout)


def close(got, want, dtype, scale=1.0):
    got = np.asarray(got._a if isinstance(got, ct.Tensor) else got)
    assert got.shape == np.shape(want), (got.shape, np.shape(want))
    np.testing.assert_allclose(got, want, rtol=TOL[dtype] * 10, atol=TOL[dtype] * 10 * scale)


batches = st.sampled_from([(), (3,), (2, 1), (0,), (1, 2)])
sizes = st.integers(1, 5)
dtypes = st.sampled_from(DTYPES)
layouts = st.sampled_from(["contiguous", "transposed", "stepped"])


@settings(max_examples=40, deadline=None)
@given(batch=batches, n=sizes, dtype=dtypes, layout=layouts, seed=st.integers(0, 2**31))
def test_inv_det_slogdet_solve(batch, n, dtype, layout, seed):
    rng = np.random.default_rng(seed)
    a = well_conditioned(rng, batch, n, dtype, layout)
    x = ct.from_numpy(a)
    assert x.dtype == ct.tensor(a).dtype
    inv = la.inv(x)
    assert inv.dtype.name == np.dtype(dtype).name
    close(inv, np.linalg.inv(a), dtype)
    det = la.det(x)
    close(det, np.linalg.det(a), dtype, scale=float(np.abs(np.linalg.det(a)).max(initial=1)))
    sign, logabs = la.slogdet(x)
    ws, wl = np.linalg.slogdet(a)
    assert isinstance(la.slogdet(x), la.SlogdetResult)
    assert logabs.dtype.name == np.finfo(dtype).dtype.name
    close(sign, ws, dtype)
    close(logabs, wl, dtype, scale=10)
    b = rand(rng, batch + (n, 2), dtype)
    close(la.solve(x, ct.from_numpy(b)), np.linalg.solve(a, b), dtype, scale=10)
    v = rand(rng, (n,), dtype)
    got = la.solve(x, ct.from_numpy(v))
    assert got.shape == batch + (n,)
    close(got, np.linalg.solve(a, v[:, None])[..., 0] if batch else np.linalg.solve(a, v), dtype, scale=10)


def test_solve_broadcasts_batch_dims():
    rng = np.random.default_rng(1)
    a = well_conditioned(rng, (3, 1), 4, np.float64, "contiguous")
    b = rng.standard_normal((1, 2, 4, 5))
    got = la.solve(ct.tensor(a), ct.tensor(b))
    assert got.shape == (3, 2, 4, 5)
    close(got, np.linalg.solve(a, b), np.float64)


@settings(max_examples=30, deadline=None)
@given(batch=batches, n=sizes, dtype=dtypes, layout=layouts, upper=st.booleans(), seed=st.integers(0, 2**31))
def test_cholesky_eigh(batch, n, dtype, layout, upper, seed):
    rng = np.random.default_rng(seed)
    a = spd(rng, batch, n, dtype, layout)
    x = ct.from_numpy(a)
    c = la.cholesky(x, upper=upper)
    close(c, np.linalg.cholesky(a, upper=upper), dtype, scale=10)
    w, v = la.eigh(x)
    assert isinstance(la.eigh(x), la.EighResult)
    assert w.dtype.name == np.finfo(dtype).dtype.name and v.dtype.name == np.dtype(dtype).name
    close(w, np.linalg.eigvalsh(a), dtype, scale=100)
    close(la.eigvalsh(x), np.linalg.eigvalsh(a), dtype, scale=100)
    recon = (v._a * w._a[..., None, :]) @ np.conj(np.swapaxes(v._a, -1, -2))
    close(recon, a, dtype, scale=100)


@settings(max_examples=30, deadline=None)
@given(batch=batches, m=sizes, n=sizes, dtype=dtypes, layout=layouts, full=st.booleans(),
       seed=st.integers(0, 2**31))
def test_qr_svd_pinv_rank_norms(batch, m, n, dtype, layout, full, seed):
    rng = np.random.default_rng(seed)
    a = make_layout(rand(rng, batch + (m, n), dtype), layout)
    x = ct.from_numpy(a)
    q, r = la.qr(x, mode="complete" if full else "reduced")
    k = m if full else min(m, n)
    assert q.shape == batch + (m, k) and r.shape == batch + (k, n)
    close(q._a @ r._a, a, dtype, scale=10)
    u, s, vh = la.svd(x, full_matrices=full)
    nu, ns, nvh = np.linalg.svd(a, full_matrices=full)
    assert u.shape == nu.shape and vh.shape == nvh.shape
    close(s, ns, dtype, scale=10)
    close(la.svdvals(x), ns, dtype, scale=10)
    kk = min(m, n)
    close((u._a[..., :kk] * s._a[..., None, :]) @ vh._a[..., :kk, :], a, dtype, scale=10)
    close(la.pinv(x), np.linalg.pinv(a), dtype, scale=100)
    assert la.matrix_rank(x).dtype == ct.int64
    np.testing.assert_array_equal(la.matrix_rank(x)._a, np.linalg.matrix_rank(a))
    for ord in ["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf]:
        if min(m, n) == 0:
            continue
        got = la.matrix_norm(x, ord=ord)
        assert got.dtype.name == np.finfo(dtype).dtype.name
        close(got, np.linalg.norm(a, ord=ord, axis=(-2, -1)), dtype, scale=100)
        assert la.matrix_norm(x, ord=ord, keepdims=True).shape == batch + (1, 1)


def test_matrix_rank_of_rank_deficient_and_rtol():
    a = np.outer(np.arange(1.0, 5.0), np.arange(1.0, 4.0))  # rank 1
    assert int(la.matrix_rank(ct.tensor(a))) == 1
    b = np.diag([1.0, 1e-3, 1e-9])
    assert int(la.matrix_rank(ct.tensor(b))) == 3
    assert int(la.matrix_rank(ct.tensor(b), rtol=1e-6)) == 2
    np.testing.assert_allclose(la.pinv(ct.tensor(b), rtol=1e-6)._a, np.diag([1.0, 1e3, 0.0]))


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=4).map(tuple), dtype=dtypes,
       ord=st.sampled_from([2, 1, 0, 3, 0.5, math.inf, -math.inf, -1]), keepdims=st.booleans(),
       seed=st.integers(0, 2**31), data=st.data())
def test_vector_norm(shape, dtype, ord, keepdims, seed, data):
    rng = np.random.default_rng(seed)
    a = rand(rng, shape, dtype)
    axis = data.draw(st.sampled_from([None, -1, 0, tuple(range(len(shape)))]))
    if (ord in (-math.inf, -1) or ord == math.inf) and (
        (0 in shape and axis is None) or (axis is not None and 0 in np.take(shape, np.atleast_1d(axis)))
    ):
        return  # NumPy's max/min of nothing raises
    got = la.vector_norm(ct.from_numpy(a), axis=axis, keepdims=keepdims, ord=ord)
    want = np.linalg.vector_norm(a, axis=axis, keepdims=keepdims, ord=ord)
    assert got.dtype.name == np.asarray(want).dtype.name
    close(got, want, dtype, scale=10)


@settings(max_examples=30, deadline=None)
@given(shape=st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(0, 5)), offset=st.integers(-6, 6),
       dtype=st.sampled_from(DTYPES + [np.int64, np.int32]), seed=st.integers(0, 2**31))
def test_diagonal_trace(shape, offset, dtype, seed):
    rng = np.random.default_rng(seed)
    a = rand(rng, shape, dtype) if np.dtype(dtype).kind in "fc" else rng.integers(-9, 9, shape).astype(dtype)
    x = ct.from_numpy(a)
    d = la.diagonal(x, offset=offset)
    np.testing.assert_array_equal(d._a, np.diagonal(a, offset, -2, -1))
    assert np.shares_memory(d._a, a) or d.size == 0
    t = la.trace(x, offset=offset)
    want = np.trace(a, offset, -2, -1)
    assert t.dtype.name == (np.dtype(dtype).name if np.dtype(dtype).kind in "fc" else "int64")
    close(t, want, dtype if np.dtype(dtype).kind in "fc" else np.float64)
    if np.dtype(dtype).kind != "c":
        assert la.trace(x, dtype=ct.float64).dtype == ct.float64


@settings(max_examples=30, deadline=None)
@given(bx=st.sampled_from([(), (2,), (1, 3)]), by=st.sampled_from([(), (2,), (4, 1)]),
       dtype=st.sampled_from(DTYPES + [np.int64]), seed=st.integers(0, 2**31), moved=st.booleans())
def test_cross(bx, by, dtype, seed, moved):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "i":
        a, b = rng.integers(-9, 9, bx + (3,)), rng.integers(-9, 9, by + (3,))
    else:
        a, b = rand(rng, bx + (3,), dtype), rand(rng, by + (3,), dtype)
    try:
        np.broadcast_shapes(bx, by)
    except ValueError:
        with pytest.raises(ValueError, match="broadcast"):
            la.cross(ct.from_numpy(a), ct.from_numpy(b))
        return
    if moved and a.ndim == b.ndim == 2:
        got = la.cross(ct.from_numpy(a.T.copy()), ct.from_numpy(b.T.copy()), axis=-2)
        close(got, np.cross(a.T, b.T, axis=-2), dtype if np.dtype(dtype).kind != "i" else np.float64)
    else:
        got = la.cross(ct.from_numpy(a), ct.from_numpy(b))
        close(got, np.cross(a, b), dtype if np.dtype(dtype).kind != "i" else np.float64)


@settings(max_examples=30, deadline=None)
@given(batch=batches, n=sizes, p=st.integers(-4, 6), dtype=dtypes, seed=st.integers(0, 2**31))
def test_matrix_power(batch, n, p, dtype, seed):
    rng = np.random.default_rng(seed)
    a = well_conditioned(rng, batch, n, dtype, "contiguous") / (2 * n)
    got = la.matrix_power(ct.from_numpy(a), p)
    close(got, np.linalg.matrix_power(a, p), dtype, scale=10)
    assert not np.shares_memory(got._a, a)


def test_products_and_named_results():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5))
    close(la.matmul(ct.tensor(a), ct.tensor(b)), a @ b, np.float64)
    close(la.matrix_transpose(ct.tensor(a)), np.swapaxes(a, -1, -2), np.float64)
    close(la.tensordot(ct.tensor(a), ct.tensor(b), axes=([0, 2], [0, 1])),
          np.tensordot(a, b, axes=([0, 2], [0, 1])), np.float64)
    close(la.vecdot(ct.tensor(a), ct.tensor(a), axis=-1), (a * a).sum(-1), np.float64)
    u, v = rng.standard_normal(3), rng.standard_normal(4)
    close(la.outer(ct.tensor(u), ct.tensor(v)), np.outer(u, v), np.float64)
    assert la.SVDResult._fields == ("U", "S", "Vh") and la.QRResult._fields == ("Q", "R")
    assert la.EighResult._fields == ("eigenvalues", "eigenvectors")
    assert la.SlogdetResult._fields == ("sign", "logabsdet")
    assert ct.linalg is la and "linalg" in dir(ct)


def test_eig_eigvals_are_complex():
    a = np.array([[0.0, -1.0], [1.0, 0.0]], np.float32)  # eigenvalues +-i
    w = la.eigvals(ct.tensor(a))
    assert w.dtype == ct.complex64
    np.testing.assert_allclose(np.sort_complex(w._a), [-1j, 1j], atol=1e-6)
    w, v = la.eig(ct.tensor(np.diag([1.0, 2.0])))
    assert w.dtype == ct.complex128 and v.dtype == ct.complex128
    np.testing.assert_allclose(w._a, [1, 2])


def test_integer_input_is_computed_in_float64():
    x = ct.tensor([[2, 0], [0, 4]])
    assert la.inv(x).dtype == ct.float64
    np.testing.assert_allclose(la.inv(x)._a, [[0.5, 0], [0, 0.25]])
    assert float(la.det(x)) == pytest.approx(8.0)


# ---- bad input -------------------------------------------------------------------------


def test_non_square_and_too_few_dims_name_the_shape():
    for fn in (la.inv, la.det, la.slogdet, la.cholesky, la.eigh, la.eigvalsh):
        with pytest.raises(ValueError, match=r"square.*\(2,3\)"):
            fn(ct.zeros((2, 3)))
        with pytest.raises(ValueError, match=r"\(3,\)"):
            fn(ct.zeros(3))
    with pytest.raises(ValueError, match=r"\(2,3\)"):
        la.matrix_power(ct.zeros((2, 3)), 2)
    with pytest.raises(ValueError, match=r"x2 must have shape \(3,\) or \(\.\.\., 3, K\).*\(4,2\)"):
        la.solve(ct.eye(3), ct.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"\(2,3,3\) and \(4,3,1\) do not broadcast"):
        la.solve(ct.zeros((2, 3, 3)), ct.zeros((4, 3, 1)))
    with pytest.raises(ValueError, match="size 3"):
        la.cross(ct.zeros(4), ct.zeros(4))
    with pytest.raises(ValueError, match="negative"):
        la.cross(ct.zeros(3), ct.zeros(3), axis=0)
    with pytest.raises(ValueError, match="1-D"):
        la.outer(ct.zeros((2, 2)), ct.zeros(2))
    with pytest.raises(ValueError, match="ord"):
        la.matrix_norm(ct.zeros((2, 2)), ord=3)
    with pytest.raises(ValueError, match="mode"):
        la.qr(ct.zeros((2, 2)), mode="r")


def test_singular_matrices():
    s = ct.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(la.LinAlgError, match=r"[Ss]ingular.*\(2,2\)"):
        la.inv(s)
    with pytest.raises(la.LinAlgError, match=r"\(2,2\)"):
        la.solve(s, ct.ones(2))
    assert float(la.det(s)) == 0.0
    sign, logabs = la.slogdet(s)
    assert float(sign) == 0.0 and float(logabs) == -math.inf
    with pytest.raises(la.LinAlgError, match="definite"):
        la.cholesky(ct.tensor([[1.0, 2.0], [2.0, 1.0]]))
    assert issubclass(la.LinAlgError, ValueError)


def test_decompositions_without_gradients_refuse_graph_inputs():
    x = ct.eye(3).requires_grad_()
    for fn in (la.qr, la.svd, la.svdvals, la.pinv, la.eig, la.eigvals):
        with pytest.raises(RuntimeError, match="does not support autograd"):
            fn(x)
    with pytest.raises(RuntimeError, match="autograd"):
        la.matrix_norm(x, ord="nuc")
    with ct.no_grad():
        assert la.svdvals(x).shape == (3,)
    assert la.svdvals(x.detach()).shape == (3,)
    assert int(la.matrix_rank(x)) == 3  # an integer result: nothing to differentiate


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int64])
def test_vecdot_keeps_the_integer_dtype(dtype):
    a = np.array([[200, 100, 7], [3, 4, 5]], dtype)
    for fn in (ct.vecdot, la.vecdot):
        got = fn(ct.tensor(a), ct.tensor(a))
        assert got._a.dtype == dtype
        np.testing.assert_array_equal(got._a, np.vecdot(a, a))
