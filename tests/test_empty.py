"""Zero-size tensors through every reduction, scan, sort and index op: the result's
shape and dtype are NumPy's (PyTorch's where NumPy lacks the op), an empty
reduction without an identity raises NumPy's ValueError, and nothing reaches a
kernel that could crash on it. Non-empty tensors indexed with empty index arrays
and masks are here too, with their gradients."""

from __future__ import annotations

import warnings

import corten as ct
import numpy as np
import pytest
from corten.nn import functional as F

SHAPES = [(0,), (0, 3), (3, 0), (2, 0, 4), (0, 0)]
DTYPES = [np.float32, np.float64, np.int32, np.int64, np.bool_, np.uint8]
E = np.zeros(0, np.int64)


def _axes(shape):
    return [None, *range(-len(shape), len(shape))]


def _np(fn, *args, **kw):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # mean of empty slice, degrees of freedom <= 0
        return fn(*args, **kw)


def _corten_dtype(want: np.ndarray, op: str, src: np.dtype) -> np.dtype:
    # Deliberate difference: corten has no uint64, so bool/uint8 sums and products
    # (and their scans) give int64 where NumPy gives uint64 for uint8.
    if op in ("sum", "prod", "cumsum", "cumprod") and src in (np.uint8, np.bool_):
        return np.dtype(np.int64)
    return want.dtype


def assert_like(got, want, op="", src=None):
    got_a = got.numpy() if isinstance(got, ct.Tensor) else np.asarray(got)
    want = np.asarray(want)
    assert got_a.shape == want.shape, (op, got_a.shape, want.shape)
    assert got_a.dtype == (_corten_dtype(want, op, np.dtype(src)) if src is not None else want.dtype), (
        op, got_a.dtype, want.dtype)
    np.testing.assert_array_equal(got_a, want.astype(got_a.dtype))


def _tensor(shape, dtype):
    return np.zeros(shape, dtype), ct.tensor(np.zeros(shape, dtype))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["sum", "mean", "prod", "max", "min", "argmax", "argmin", "any", "all", "var", "std"])
def test_reductions(shape, dtype, op):
    a, t = _tensor(shape, dtype)
    for axis in _axes(shape):
        for keepdims in (False, True):
            try:
                want = _np(getattr(np, op), a, axis=axis, keepdims=keepdims)
            except ValueError as e:  # max/min/argmax/argmin of an empty axis: no identity
                with pytest.raises(ValueError, match="empty|zero-size|identity"):
                    getattr(ct, op)(t, axis=axis, keepdims=keepdims)
                assert "empty" in str(e) or "zero-size" in str(e)
                continue
            assert_like(getattr(ct, op)(t, axis=axis, keepdims=keepdims), want, op, dtype)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_and_norm(shape, dtype):
    torch = pytest.importorskip("torch")
    a, t = _tensor(shape, dtype)
    for axis in _axes(shape):
        dims = tuple(range(len(shape))) if axis is None else axis
        assert_like(ct.logsumexp(t, axis=axis), torch.logsumexp(torch.from_numpy(a), dim=dims).numpy())
        assert_like(ct.vector_norm(t, axis=axis), torch.linalg.vector_norm(torch.from_numpy(a), dim=dims).numpy())
        for ord_ in (1, np.inf):
            want = torch.linalg.vector_norm(torch.from_numpy(a), ord=ord_, dim=dims) if ord_ == 1 or (
                axis is not None and shape[axis] != 0) else None
            if want is not None:
                assert_like(ct.vector_norm(t, ord=ord_, axis=axis), want.numpy())


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_scans(shape, dtype, op):
    a, t = _tensor(shape, dtype)
    for axis in _axes(shape):
        assert_like(getattr(ct, op)(t, axis=axis), getattr(np, op)(a, axis=axis), op, dtype)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sorting(shape, dtype):
    torch = pytest.importorskip("torch")
    a, t = _tensor(shape, dtype)
    for axis in range(-len(shape), len(shape)):
        assert_like(ct.sort(t, axis=axis), np.sort(a, axis=axis))
        assert_like(ct.argsort(t, axis=axis), np.argsort(a, axis=axis))
        assert_like(ct.argsort(t, axis=axis, descending=True), np.argsort(a, axis=axis))
        tv = torch.from_numpy(a.astype(np.int64) if dtype in (np.uint8, np.bool_, np.int32) else a)
        values, indices = ct.topk(t, 0, axis=axis)
        wv, wi = torch.topk(tv, 0, dim=axis)
        assert_like(values, wv.numpy().astype(dtype))
        assert_like(indices, wi.numpy())
        if shape[axis] == 0:
            with pytest.raises(ValueError, match=r"k \(1\)|out of range|larger"):
                ct.topk(t, 1, axis=axis)
    assert_like(ct.unique(t), np.unique(a))
    for got, want in zip(ct.unique(t, return_inverse=True, return_counts=True),
                         np.unique(a, return_inverse=True, return_counts=True), strict=True):
        assert_like(got, want)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_index_ops_on_empty_tensors(shape, dtype):
    a, t = _tensor(shape, dtype)
    zeros_idx = np.zeros(shape, np.int64)
    for axis in range(-len(shape), len(shape)):
        assert_like(ct.take_along_axis(t, ct.tensor(zeros_idx), axis=axis),
                    np.take_along_axis(a, zeros_idx, axis=axis))
        assert_like(ct.take(t, ct.tensor(E), axis=axis), np.take(a, E, axis=axis))
        assert_like(ct.index_select(t, axis, ct.tensor(E)), np.take(a, E, axis=axis))
        u, b = ct.tensor(a.copy()), a.copy()
        ct.put_along_axis(u, ct.tensor(zeros_idx), 1, axis=axis)
        np.put_along_axis(b, zeros_idx, 1, axis=axis)
        assert_like(u, b)
        src_shape = tuple(0 if i == axis % len(shape) else n for i, n in enumerate(shape))
        assert_like(ct.index_add(ct.tensor(a.copy()), axis, ct.tensor(E), ct.tensor(np.zeros(src_shape, dtype))), a)
    assert_like(ct.take(t, ct.tensor(E)), np.take(a, E))
    for got, want in zip(ct.nonzero(t), np.nonzero(a), strict=True):
        assert_like(got, want)
    mask = np.zeros(shape, bool)
    assert_like(ct.masked_fill(t, ct.tensor(mask), 1), np.where(mask, np.array(1, dtype), a))
    assert_like(t[ct.tensor(mask)], a[mask])
    assert_like(t[ct.tensor(E)], a[E])
    assert_like(t[[]], a[[]])
    assert_like(t[..., ct.tensor(E)], a[..., E])
    for key in (E, mask):
        u, b = ct.tensor(a.copy()), a.copy()
        u[ct.tensor(key)] = 1
        b[key] = 1
        assert_like(u, b)
    zero_axis = shape.index(0)
    with pytest.raises(IndexError, match=f"index 0 is out of bounds for axis {zero_axis} with size 0"):
        ct.take(t, ct.tensor([0]), axis=zero_axis)
    with pytest.raises(IndexError):
        np.take(a, [0], axis=zero_axis)
    key = (slice(None),) * zero_axis + (ct.tensor([-1]),)
    with pytest.raises(IndexError, match=f"index -1 is out of bounds for axis {zero_axis} with size 0"):
        t[key]


KEYS = {
    "[[]]": [],
    "[:, []]": (slice(None), []),
    "[E]": E,
    "[:, E]": (slice(None), E),
    "[E, E]": (E, E),
    "[E2d]": np.zeros((0, 2), np.int64),
    "[E, :1]": (E, slice(1)),
    "[0, E]": (0, E),
    "[None, E]": (None, E),
    "[E, None, E]": (E, None, E),
    "[..., E]": (Ellipsis, E),
    "[false mask]": np.zeros((3, 4), bool),
    "[false row mask]": np.zeros(3, bool),
    "[:, false column mask]": (slice(None), np.zeros(4, bool)),
}


def _ct_key(key):
    if isinstance(key, tuple):
        return tuple(ct.tensor(k) if isinstance(k, np.ndarray) else k for k in key)
    return ct.tensor(key) if isinstance(key, np.ndarray) else key


@pytest.mark.parametrize("name", list(KEYS))
def test_empty_index_arrays_into_a_full_tensor(name):
    key = KEYS[name]
    a = np.arange(12.0).reshape(3, 4)
    assert_like(ct.tensor(a)[_ct_key(key)], a[key])
    for value in (5.0, a[key] * 2):
        u, b = ct.tensor(a.copy()), a.copy()
        u[_ct_key(key)] = value if isinstance(value, float) else ct.tensor(value)
        b[key] = value
        assert_like(u, b)
    x = ct.tensor(a, requires_grad=True)
    x[_ct_key(key)].sum().backward()
    assert_like(x.grad, np.zeros_like(a))
    x = ct.tensor(a, requires_grad=True)
    y = x * 1.0
    y[_ct_key(key)] = ct.tensor(np.asarray(a[key]), requires_grad=False)
    y.sum().backward()
    assert_like(x.grad, np.ones_like(a))  # nothing was overwritten


def test_empty_index_along_a_full_axis():
    torch = pytest.importorskip("torch")
    a = np.arange(12.0).reshape(3, 4)
    for axis, ishape in ((0, (0, 4)), (1, (3, 0))):
        idx = np.zeros(ishape, np.int64)
        assert_like(ct.take_along_axis(ct.tensor(a), ct.tensor(idx), axis=axis), np.take_along_axis(a, idx, axis))
        u, b = ct.tensor(a.copy()), a.copy()
        ct.put_along_axis(u, ct.tensor(idx), ct.tensor(np.zeros(ishape)), axis=axis)
        np.put_along_axis(b, idx, np.zeros(ishape), axis)
        assert_like(u, b)
        src = np.zeros((0, 4) if axis == 0 else (3, 0))
        assert_like(ct.index_add(ct.tensor(a.copy()), axis, ct.tensor(E), ct.tensor(src)), a)
        values, indices = ct.topk(ct.tensor(a), 0, axis=axis)
        wv, wi = torch.topk(torch.from_numpy(a), 0, dim=axis)
        assert_like(values, wv.numpy())
        assert_like(indices, wi.numpy())
        for fn in (lambda x, i=idx, ax=axis: ct.take_along_axis(x, ct.tensor(i), axis=ax),
                   lambda x, ax=axis: ct.topk(x, 0, axis=ax)[0],
                   lambda x, ax=axis: ct.index_select(x, ax, ct.tensor(E))):
            x = ct.tensor(a, requires_grad=True)
            fn(x).sum().backward()
            assert_like(x.grad, np.zeros_like(a))
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        ct.take(ct.tensor(a), ct.tensor([3]), axis=0)


def test_one_hot_of_no_labels():
    assert_like(ct.one_hot(ct.tensor(E), 3), np.zeros((0, 3), np.int64))


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4)])
@pytest.mark.parametrize("op", ["sum", "mean", "prod", "var", "std", "logsumexp", "vector_norm", "cumsum",
                                "cumprod", "sort", "amax"])
def test_gradients_through_empty_tensors(shape, op):
    torch = pytest.importorskip("torch")
    a = np.zeros(shape)
    axis = -1
    if op == "amax" and shape[axis] == 0:
        return  # no identity: raises, tested above
    x, tx = ct.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    tfn = {"sum": torch.sum, "mean": torch.mean, "prod": torch.prod, "var": lambda v, dim: torch.var(v, dim,
           correction=0), "std": lambda v, dim: torch.std(v, dim, correction=0), "logsumexp": torch.logsumexp,
           "vector_norm": lambda v, dim: torch.linalg.vector_norm(v, dim=dim), "cumsum": torch.cumsum,
           "cumprod": torch.cumprod, "sort": lambda v, dim: torch.sort(v, dim)[0], "amax": torch.amax}[op]
    out = getattr(ct, op)(x, axis=axis)
    out = out[0] if isinstance(out, tuple) else out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch: degrees of freedom <= 0
        want = tfn(tx, axis)
        assert out.shape == tuple(want.shape)
        out.sum().backward()
        want.sum().backward()
    assert_like(x.grad, tx.grad.numpy())


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4)])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_of_empty_tensors(shape, log):
    torch = pytest.importorskip("torch")
    a = np.zeros(shape, np.float32)
    for dim in range(-len(shape), len(shape)):
        x, tx = ct.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        out = (F.log_softmax if log else F.softmax)(x, dim)
        want = (torch.log_softmax if log else torch.softmax)(tx, dim)
        assert_like(out.detach(), want.detach().numpy())
        out.sum().backward()
        want.sum().backward()
        assert_like(x.grad, tx.grad.numpy())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("probs", [False, True])
def test_cross_entropy_of_an_empty_batch(reduction, probs):
    torch = pytest.importorskip("torch")
    a = np.zeros((0, 5), np.float32)
    target = np.zeros((0, 5), np.float32) if probs else E
    x, tx = ct.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    loss = F.cross_entropy(x, ct.tensor(target), reduction=reduction)
    want = torch.nn.functional.cross_entropy(tx, torch.from_numpy(target), reduction=reduction)
    got = loss.detach().numpy()
    assert got.shape == tuple(want.shape) and got.dtype == np.float32
    np.testing.assert_array_equal(got, want.detach().numpy())  # mean of nothing: NaN in both
    loss.sum().backward()
    want.sum().backward()
    assert_like(x.grad, tx.grad.numpy())


def test_random_fills_and_optimizers_with_empty_tensors():
    for fn in (ct.rand, ct.randn):
        assert_like(fn(0, 5), np.zeros((0, 5), np.float32))
    assert_like(ct.randint(0, 3, (2, 0)), np.zeros((2, 0), np.int64))
    p = ct.nn.Parameter(ct.zeros((0, 3)))
    for opt in (ct.optim.SGD([p], lr=0.1, momentum=0.9), ct.optim.Adam([p]), ct.optim.RMSprop([p]),
                ct.optim.AdamW([p])):
        p.grad = ct.zeros((0, 3))
        opt.step()
        assert p.shape == (0, 3)
