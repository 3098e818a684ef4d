"""sort, argsort, topk, unique against NumPy / PyTorch, and their gradients."""

import corten as ct
import numpy as np
import pytest
from corten.autograd import gradcheck
from hypothesis import given, settings
from hypothesis import strategies as st
from test_reduction import arrays

SETTINGS = settings(max_examples=40, deadline=None)


def with_nans(a, seed):
    if a.dtype.kind == "f" and a.size:
        rng = np.random.default_rng(seed)
        a = a.copy()
        a[rng.random(a.shape) < 0.2] = np.nan
        a[rng.random(a.shape) < 0.2] = 1.0  # ties
    return a


@SETTINGS
@given(arrays(min_dims=1), st.data())
def test_sort_argsort_match_numpy(a, data):
    a = with_nans(a, data.draw(st.integers(0, 100)))
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1))
    t = ct.from_numpy(a)
    v = ct.sort(t, axis=axis)
    assert v.dtype == a.dtype and v.shape == a.shape
    np.testing.assert_array_equal(v._a, np.sort(a, axis=axis, kind="stable"))
    i = ct.argsort(t, axis=axis)
    assert i.dtype == ct.int64
    np.testing.assert_array_equal(i._a, np.argsort(a, axis=axis, kind="stable"))
    vs, idx = t.sort(axis)
    np.testing.assert_array_equal(idx._a, i._a)


@SETTINGS
@given(arrays(min_dims=1, dtypes=["int32", "float32", "float64"]), st.data())
def test_descending_and_topk_match_torch(a, data):
    torch = pytest.importorskip("torch")
    a = with_nans(a, data.draw(st.integers(0, 100)))
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1))
    ta = torch.from_numpy(a.copy())
    v, i = ct.sort_with_indices(ct.from_numpy(a), axis, descending=True)
    tv, ti = torch.sort(ta, dim=axis, descending=True, stable=True)
    np.testing.assert_array_equal(v._a, tv.numpy())
    np.testing.assert_array_equal(i._a, ti.numpy())
    n = a.shape[axis]
    k = data.draw(st.integers(0, n))
    for largest in (True, False):
        v, i = ct.topk(ct.from_numpy(a), k, axis=axis, largest=largest)
        tv, ti = torch.topk(ta, k, dim=axis, largest=largest, sorted=True)
        np.testing.assert_array_equal(v._a, tv.numpy())
        assert i.dtype == ct.int64
        np.testing.assert_array_equal(np.take_along_axis(a, i._a, axis), v._a)


def test_topk_ties_and_errors():
    x = ct.tensor([3.0, 1.0, 3.0, 2.0, 3.0])
    v, i = ct.topk(x, 2)
    assert v.tolist() == [3.0, 3.0] and i.tolist() == [0, 2]
    with pytest.raises(ValueError, match="k=6"):
        ct.topk(x, 6)
    with pytest.raises(ct.AxisError, match="axis 1 is out of bounds for tensor of dimension 1"):
        ct.sort(x, axis=1)


@SETTINGS
@given(arrays(), st.integers(0, 100))
def test_unique(a, seed):
    a = with_nans(a, seed)
    t = ct.from_numpy(a)
    np.testing.assert_array_equal(ct.unique(t)._a, np.unique(a))
    u, inv, cnt = ct.unique(t, return_inverse=True, return_counts=True)
    ru, rinv, rcnt = np.unique(a, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(u._a, ru)
    np.testing.assert_array_equal(inv._a, rinv)
    np.testing.assert_array_equal(cnt._a, rcnt)
    assert u.dtype == a.dtype and inv.dtype == ct.int64 and cnt.dtype == ct.int64


def test_sort_threads_and_large_rows():
    a = np.random.default_rng(0).standard_normal((64, 5000)).astype(np.float32)
    old = ct.get_num_threads()
    try:
        res = []
        for n in (1, 2, 3, 8):
            ct.set_num_threads(n)
            t = ct.from_numpy(a)
            res.append((ct.argsort(t, 1)._a.tobytes(), ct.topk(t, 7, 0)[1]._a.tobytes()))
    finally:
        ct.set_num_threads(old)
    assert res[1] == res[0] and res[2] == res[0] and res[3] == res[0]
    np.testing.assert_array_equal(ct.sort(ct.from_numpy(a.T), 0)._a, np.sort(a.T, 0))


def rnd(*shape):
    return ct.tensor(np.random.default_rng(5).standard_normal(shape), dtype="float64", requires_grad=True)


@pytest.mark.parametrize("fn", [
    lambda x: ct.sort(x, axis=1),
    lambda x: ct.sort(x, axis=0, descending=True),
    lambda x: ct.topk(x, 2, axis=1)[0],
    lambda x: ct.topk(x, 3, axis=0, largest=False)[0],
])
def test_gradcheck(fn):
    assert gradcheck(fn, [rnd(4, 5)])


def test_grads_match_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(6).standard_normal((3, 6))
    w = np.random.default_rng(7).standard_normal((3, 2))
    x, xt = ct.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (ct.topk(x, 2, axis=1)[0] * ct.tensor(w)).sum().backward()
    (torch.topk(xt, 2, dim=1)[0] * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad._a, xt.grad.numpy())
    x, xt = ct.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (ct.sort(x, axis=0) * ct.tensor(a)).sum().backward()
    (torch.sort(xt, dim=0)[0] * torch.tensor(a)).sum().backward()
    np.testing.assert_allclose(x.grad._a, xt.grad.numpy())
    # indices are never attached to the graph
    assert ct.topk(x, 2)[1].grad_fn is None and ct.argsort(x).requires_grad is False


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "bool"])
def test_long_rows_match_numpy_stable(dtype):
    """Rows long enough for the radix path: ties, NaN, -0.0, negative numbers."""
    rng = np.random.default_rng(8)
    a = rng.integers(-50, 50, (3, 1000)).astype(dtype)
    if a.dtype.kind == "f":
        a[:, ::7] = np.nan
        a[:, 1::9] = -0.0
        a[0] *= 1e30
    t = ct.from_numpy(a[:, ::-1])  # non-contiguous rows too
    ref = a[:, ::-1]
    np.testing.assert_array_equal(ct.argsort(t, 1)._a, np.argsort(ref, 1, kind="stable"))
    np.testing.assert_array_equal(ct.sort(t, 1)._a, np.sort(ref, 1))
    np.testing.assert_array_equal(ct.argsort(t.T, 0)._a, np.argsort(ref.T, 0, kind="stable"))
    torch = pytest.importorskip("torch")
    if dtype in ("uint8", "bool"):
        return
    tv, ti = torch.sort(torch.from_numpy(ref.copy()), dim=1, descending=True, stable=True)
    v, i = ct.sort_with_indices(t, 1, descending=True)
    np.testing.assert_array_equal(i._a, ti.numpy())
    np.testing.assert_array_equal(v._a, tv.numpy())
