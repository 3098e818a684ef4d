"""Reductions and cumulative ops against NumPy, threads, errors and gradients."""

import math

import corten as ct
import numpy as np
import pytest
from corten.autograd import gradcheck
from hypothesis import given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=40, deadline=None)
DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


@st.composite
def arrays(draw, dtypes=DTYPES, min_dims=0, max_dims=6, max_side=4, layout=True):
    """A NumPy array of random shape/dtype, sometimes transposed or stepped."""
    shape = tuple(draw(st.lists(st.integers(0, max_side), min_size=min_dims, max_size=max_dims)))
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if dtype == np.bool_:
        a = rng.random(shape) > 0.5
    elif dtype.kind in "iu":
        a = rng.integers(0, 7, shape).astype(dtype)
    else:
        a = rng.standard_normal(shape).astype(dtype)
    a = np.asarray(a)
    kind = draw(st.sampled_from(["plain", "transposed", "stepped"])) if layout else "plain"
    if kind == "transposed" and a.ndim > 1:
        a = np.ascontiguousarray(a.T).T
    elif kind == "stepped" and a.ndim > 0:
        big = np.repeat(a, 2, axis=0)
        a = big[::2] if big.shape[0] else a
    return a


@st.composite
def array_axes(draw, **kw):
    a = draw(arrays(**kw))
    choice = draw(st.sampled_from(["none", "int", "tuple"]))
    if choice == "none" or a.ndim == 0:
        return a, None
    if choice == "int":
        return a, draw(st.integers(-a.ndim, a.ndim - 1))
    axes = draw(st.lists(st.integers(0, a.ndim - 1), unique=True, max_size=a.ndim))
    return a, tuple(ax - a.ndim if draw(st.booleans()) else ax for ax in axes)


def expected_sum_dtype(d):
    return d if d.kind == "f" else np.dtype(np.int64)


def close(got, want, rtol=1e-5, atol=1e-6):
    got = np.asarray(got._a if isinstance(got, ct.Tensor) else got)
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol, atol=atol)


# ---- values and dtypes against NumPy -----------------------------------------------


@SETTINGS
@given(array_axes(), st.booleans())
def test_sum_prod_mean(aa, keep):
    a, axis = aa
    t = ct.from_numpy(a)
    for name in ("sum", "prod"):
        r = getattr(ct, name)(t, axis=axis, keepdims=keep)
        ref = getattr(np, name)(a, axis=axis, keepdims=keep)
        assert r.dtype == expected_sum_dtype(a.dtype)
        close(r, ref, rtol=1e-4)
    with np.errstate(all="ignore"):
        ref = np.mean(a, axis=axis, keepdims=keep)
    m = ct.mean(t, axis=axis, keepdims=keep)
    assert m.dtype == (a.dtype if a.dtype.kind == "f" else np.float64)
    close(m, ref, rtol=1e-5)


@SETTINGS
@given(array_axes(), st.booleans())
def test_max_min(aa, keep):
    a, axis = aa
    t = ct.from_numpy(a)
    for name in ("max", "min"):
        try:
            ref = getattr(np, name)(a, axis=axis, keepdims=keep)
        except ValueError as e:
            with pytest.raises(ValueError, match="zero-size array"):
                getattr(ct, name)(t, axis=axis, keepdims=keep)
            assert "no identity" in str(e)
            continue
        r = getattr(ct, name)(t, axis=axis, keepdims=keep)
        assert r.dtype == a.dtype
        np.testing.assert_array_equal(r._a, ref)


@SETTINGS
@given(arrays(), st.data(), st.booleans())
def test_argmax_argmin(a, data, keep):
    t = ct.from_numpy(a)
    axis = None if a.ndim == 0 else data.draw(st.one_of(st.none(), st.integers(-a.ndim, a.ndim - 1)))
    for name in ("argmax", "argmin"):
        try:
            ref = getattr(np, name)(a, axis=axis, keepdims=keep)
        except ValueError:
            with pytest.raises(ValueError, match="empty sequence"):
                getattr(ct, name)(t, axis=axis, keepdims=keep)
            continue
        r = getattr(ct, name)(t, axis=axis, keepdims=keep)
        assert r.dtype == ct.int64
        np.testing.assert_array_equal(r._a, ref)


@SETTINGS
@given(array_axes(), st.booleans())
def test_any_all(aa, keep):
    a, axis = aa
    t = ct.from_numpy(a)
    for name in ("any", "all"):
        r = getattr(ct, name)(t, axis=axis, keepdims=keep)
        assert r.dtype == ct.bool
        np.testing.assert_array_equal(r._a, getattr(np, name)(a, axis=axis, keepdims=keep))


@SETTINGS
@given(array_axes(dtypes=["int32", "float32", "float64"]), st.booleans(), st.sampled_from([0, 1]))
def test_var_std(aa, keep, ddof):
    a, axis = aa
    t = ct.from_numpy(a)
    with np.errstate(all="ignore"):
        for name in ("var", "std"):
            ref = getattr(np, name)(a, axis=axis, keepdims=keep, ddof=ddof)
            r = getattr(ct, name)(t, axis=axis, keepdims=keep, ddof=ddof)
            assert r.dtype == ref.dtype
            close(r, ref, rtol=1e-4, atol=1e-5)
    r = ct.var(t, axis=axis, keepdims=keep, correction=ddof)
    close(r, ct.var(t, axis=axis, keepdims=keep, ddof=ddof)._a)


def np_logsumexp(a, axis, keep):
    a = a.astype(np.float64)
    m = np.max(a, axis=axis, keepdims=True) if a.size else np.zeros([1] * a.ndim)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        r = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return r if keep else np.squeeze(r, axis=axis if axis is not None else tuple(range(a.ndim)))


@SETTINGS
@given(array_axes(dtypes=["float32", "float64", "int64"]), st.booleans())
def test_logsumexp(aa, keep):
    a, axis = aa
    if a.size == 0 and np.sum(a, axis=axis).size:
        return  # an empty row: log(0) = -inf, checked separately below
    r = ct.logsumexp(ct.from_numpy(a), axis=axis, keepdims=keep)
    assert r.dtype == (a.dtype if a.dtype.kind == "f" else np.float64)
    close(r, np_logsumexp(a, axis, keep), rtol=1e-5)


def test_logsumexp_stable_and_empty():
    x = ct.tensor([[1e4, 1e4 - 1, -1e4], [-1e4, -1e4, -1e4]], dtype="float32")
    r = ct.logsumexp(x, axis=1)
    assert np.isfinite(r._a).all()
    close(r, [1e4 + math.log1p(math.exp(-1)), -1e4 + math.log(3)], rtol=1e-6)
    assert ct.logsumexp(ct.tensor([-math.inf, -math.inf])).item() == -math.inf
    assert ct.logsumexp(ct.zeros((0,))).item() == -math.inf


@SETTINGS
@given(array_axes(dtypes=["float32", "float64", "int32"]), st.booleans(),
       st.sampled_from([None, 1, 2, math.inf, -math.inf, 0, 3, 0.5]))
def test_norm(aa, keep, ord):
    a, axis = aa
    if a.size == 0 and ord in (math.inf, -math.inf):
        return
    r = ct.norm(ct.from_numpy(a), ord, axis=axis, keepdims=keep)
    absx = np.abs(a.astype(np.float64))
    p = 2 if ord is None else ord
    if p == math.inf:
        ref = np.max(absx, axis=axis, keepdims=keep)
    elif p == -math.inf:
        ref = np.min(absx, axis=axis, keepdims=keep)
    elif p == 0:
        ref = np.sum(absx != 0, axis=axis, keepdims=keep)
    else:
        ref = np.sum(absx**p, axis=axis, keepdims=keep) ** (1 / p)
    assert r.dtype == (a.dtype if a.dtype.kind == "f" else np.float64)
    close(r, ref, rtol=1e-4, atol=1e-6)


@SETTINGS
@given(arrays(), st.data())
def test_cumsum_cumprod(a, data):
    axis = None if a.ndim == 0 else data.draw(st.one_of(st.none(), st.integers(-a.ndim, a.ndim - 1)))
    t = ct.from_numpy(a)
    for name in ("cumsum", "cumprod"):
        r = getattr(ct, name)(t, axis=axis)
        ref = getattr(np, name)(a, axis=axis)
        assert r.dtype == expected_sum_dtype(a.dtype)
        if name == "cumsum" and a.dtype.kind == "f":
            # A running sum may cancel: its error is bounded by n eps times the running sum of |a|.
            ref = np.cumsum(a.astype(np.float64), axis=axis)
            bound = np.cumsum(np.abs(a).astype(np.float64), axis=axis) * a.size * np.finfo(a.dtype).eps
            got = np.asarray(r._a, np.float64)
            assert got.shape == ref.shape and (np.abs(got - ref) <= bound + 1e-30).all()
        else:
            close(r, ref, rtol=1e-4)


# ---- accuracy, threads, special values ----------------------------------------------


def test_float32_sum_16m_accurate():
    rng = np.random.default_rng(1)
    a = (rng.random(1 << 24, dtype=np.float32) + 1).astype(np.float32)
    ref = a.astype(np.float64).sum()
    got = float(ct.from_numpy(a).sum().item())
    assert abs(got - ref) / ref < 1e-6
    ones = np.ones(1 << 24, np.float32)  # float32 running sums would stop at 2**24
    assert ct.from_numpy(ones).sum().item() == 2**24
    assert ct.from_numpy(ones).mean().item() == 1.0


@pytest.mark.parametrize("shape,axis", [((4096, 512), 0), ((4096, 512), 1), ((4096, 512), None),
                                         ((3, 300000), 1), ((300000, 3), 0), ((64, 64, 64), (0, 2))])
def test_threads_bitwise_identical(shape, axis):
    a = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    t = ct.from_numpy(a)
    old = ct.get_num_threads()
    res = []
    try:
        for n in (1, 2, 3, 8):
            ct.set_num_threads(n)
            res.append([f(t, axis=axis)._a.tobytes() for f in (ct.sum, ct.mean, ct.max, ct.prod)]
                       + [ct.argmax(t, axis=axis if not isinstance(axis, tuple) else None)._a.tobytes(),
                          ct.sum(t.T, axis=axis)._a.tobytes() if not isinstance(axis, tuple) else b""])
    finally:
        ct.set_num_threads(old)
    assert res[1] == res[0] and res[2] == res[0] and res[3] == res[0]


def test_nan_propagation_and_ties():
    a = np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 5.0, 5.0, 1.0]], np.float32)
    t = ct.from_numpy(a)
    np.testing.assert_array_equal(ct.max(t, 1)._a, np.max(a, 1))
    np.testing.assert_array_equal(ct.min(t, 1)._a, np.min(a, 1))
    np.testing.assert_array_equal(ct.argmax(t, 1)._a, np.argmax(a, 1))
    np.testing.assert_array_equal(ct.argmin(t, 1)._a, np.argmin(a, 1))
    long = np.zeros(5000, np.float32)
    long[[700, 4000]] = np.nan
    long[[10, 3000]] = 9
    assert ct.argmax(ct.from_numpy(long)).item() == 700
    assert math.isnan(ct.max(ct.from_numpy(long)).item())
    long[[700, 4000]] = 0
    assert ct.argmax(ct.from_numpy(long)).item() == 10
    ninf = np.full(3000, -np.inf, np.float32)
    assert ct.argmax(ct.from_numpy(ninf)).item() == 0
    assert ct.max(ct.from_numpy(ninf)).item() == -np.inf


def test_empty_reductions():
    z = ct.zeros((0, 3))
    assert ct.sum(z).item() == 0 and ct.prod(z).item() == 1
    assert math.isnan(ct.mean(z).item())
    np.testing.assert_array_equal(ct.sum(z, 0)._a, np.zeros(3))
    assert ct.max(z, 1).shape == (0,)
    for f in (ct.max, ct.min):
        with pytest.raises(ValueError, match="zero-size array to reduction operation"):
            f(z, 0)
    msg = "zero-size array to reduction operation maximum which has no identity"
    with pytest.raises(ValueError, match=msg):
        ct.max(z)
    with pytest.raises(ValueError, match="attempt to get argmax of an empty sequence"):
        ct.argmax(z)
    assert ct.any(z).item() is False and ct.all(z).item() is True


def test_errors_and_aliases():
    t = ct.ones((2, 3))
    with pytest.raises(ct.AxisError, match="axis 2 is out of bounds for tensor of dimension 2"):
        ct.sum(t, axis=2)
    with pytest.raises(ct.AxisError):
        t.max(-3)
    with pytest.raises(ValueError, match="duplicate value in 'axis'"):
        ct.sum(t, axis=(0, -2))
    with pytest.raises(TypeError):
        ct.argmax(t, axis=(0, 1))
    assert t.sum(dim=1, keepdim=True).shape == (2, 1)
    assert t.sum(dtype="float64").dtype == ct.float64
    assert ct.sum(ct.tensor(5.0), axis=0).item() == 5.0
    assert t.amax(0).shape == (3,) and t.mean(dim=(0, 1)).item() == 1.0


# ---- gradients ------------------------------------------------------------------------


def rnd(*shape, seed=0):
    return ct.tensor(np.random.default_rng(seed).standard_normal(shape), dtype="float64", requires_grad=True)


@pytest.mark.parametrize("fn", [
    lambda x: ct.sum(x, axis=1),
    lambda x: ct.sum(x.T, axis=(0, 2), keepdims=True),
    lambda x: ct.mean(x, axis=(-1, 0)),
    lambda x: ct.prod(x, axis=1),
    lambda x: ct.prod(x),
    lambda x: ct.var(x, axis=1, ddof=1),
    lambda x: ct.std(x, axis=(0, 2)),
    lambda x: ct.logsumexp(x, axis=2),
    lambda x: ct.logsumexp(x * 1000),
    lambda x: ct.norm(x, 2, axis=1),
    lambda x: ct.norm(x, 3),
    lambda x: ct.norm(x, 1, axis=0),
    lambda x: ct.norm(x, math.inf, axis=2),
    lambda x: ct.max(x, axis=1),
    lambda x: ct.min(x, axis=(0, 2), keepdims=True),
    lambda x: ct.cumsum(x, axis=1),
    lambda x: ct.cumprod(x, axis=2),
    lambda x: ct.cumprod(x),
])
def test_gradcheck(fn):
    assert gradcheck(fn, [rnd(3, 4, 5)])


def test_gradcheck_with_zeros_and_ties():
    a = np.array([[0.0, 2.0, 3.0, -1.0], [0.0, 0.0, 2.0, 1.5], [1.0, 2.0, 3.0, 4.0]])
    x = ct.tensor(a, requires_grad=True)
    assert gradcheck(lambda t: ct.prod(t, axis=1), [x])
    assert gradcheck(lambda t: ct.cumprod(t, axis=1), [x])
    assert gradcheck(lambda t: ct.cumprod(t, axis=0), [x])
    tie = ct.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    ct.max(tie, axis=1).sum().backward()
    np.testing.assert_allclose(tie.grad._a, [[0, 0.5, 0.5], [1 / 3] * 3])
    z = ct.zeros(4, dtype="float64", requires_grad=True)
    ct.norm(z).backward()
    np.testing.assert_array_equal(z.grad._a, np.zeros(4))


def _first_grad(f):
    def g(t):
        if not t.requires_grad:  # gradcheck's perturbed copies
            t = t.detach().requires_grad_()
        return ct.autograd.grad(f(t), t, create_graph=True)[0]
    return g


@pytest.mark.parametrize("f", [
    lambda t: ct.logsumexp(t, 1).sum(),
    lambda t: (ct.var(t, 0).sum() * ct.prod(t, 1).sum()),
    lambda t: (ct.cumprod(t, 1) * ct.cumsum(t, 0)).sum(),
    lambda t: ct.norm(t, 3, axis=1).sum() + ct.norm(t),
    lambda t: (ct.max(t, 1) * ct.mean(t)).sum(),
])
def test_second_order(f):
    assert gradcheck(_first_grad(f), [rnd(3, 4)])


def test_grads_match_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(3).standard_normal((4, 5, 6))
    a[1, 2, :2] = 0
    a[0, 0, 3] = a[0, 0, 4] = 9  # a tie for max
    cases = [
        (lambda m, x: m.sum(x, 1) if m is ct else x.sum(1)),
        (lambda m, x: ct.prod(x, axis=2) if m is ct else x.prod(2)),
        (lambda m, x: ct.max(x, axis=2) if m is ct else x.amax(2)),
        (lambda m, x: ct.max(x) if m is ct else x.max()),
        (lambda m, x: ct.var(x, axis=(0, 1), ddof=1) if m is ct else x.var((0, 1), correction=1)),
        (lambda m, x: ct.std(x, axis=1) if m is ct else x.std(1, correction=0)),
        (lambda m, x: ct.logsumexp(x, axis=0) if m is ct else x.logsumexp(0)),
        (lambda m, x: ct.norm(x, 2, axis=2) if m is ct else torch.linalg.vector_norm(x, 2, dim=2)),
        (lambda m, x: ct.norm(x, math.inf) if m is ct else torch.linalg.vector_norm(x, math.inf)),
        (lambda m, x: ct.norm(x, 3, axis=0) if m is ct else torch.linalg.vector_norm(x, 3, dim=0)),
        (lambda m, x: ct.cumsum(x, axis=1) if m is ct else x.cumsum(1)),
        (lambda m, x: ct.cumprod(x, axis=2) if m is ct else x.cumprod(2)),
    ]
    g = np.random.default_rng(4)
    for f in cases:
        x = ct.tensor(a, requires_grad=True)
        xt = torch.tensor(a, requires_grad=True)
        y, yt = f(ct, x), f(torch, xt)
        close(y, yt.detach().numpy(), rtol=1e-10)
        w = g.standard_normal(tuple(yt.shape))
        (y * ct.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        close(x.grad, xt.grad.numpy(), rtol=1e-8, atol=1e-12)
