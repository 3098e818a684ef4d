"""View functions against NumPy: values, which results share memory, writes
showing through, gradients and errors."""

from __future__ import annotations

import corten as ct
import numpy as np
import pytest
from corten.autograd import gradcheck
from hypothesis import given, settings
from hypothesis import strategies as st
from layouts import WRITABLE, arrays, make

SET = settings(max_examples=40, deadline=None)


def check(res: ct.Tensor, base: np.ndarray, expect: np.ndarray, view: bool | None) -> None:
    """Values match; `view` True/False: must/must not share base's memory."""
    assert res.shape == expect.shape
    assert res.dtype.np == expect.dtype
    np.testing.assert_array_equal(res.numpy(), expect)
    if view is not None and expect.size and base.size:
        assert np.shares_memory(res.numpy(), base) == view


def check_write_through(res: ct.Tensor, base: np.ndarray, np_op) -> None:
    """Writing into the corten view changes base exactly as the NumPy view would."""
    if not base.flags.writeable or res.size == 0:
        return
    expect = base.copy()
    np_op(expect)[...] = 7.5
    res[...] = 7.5
    np.testing.assert_array_equal(base, expect)


@SET
@given(arrays(), st.data())
def test_reshape_and_view(a, data):
    size = a.size
    target = data.draw(st.sampled_from([(size,), (1, size), (size, 1), (-1,)]))
    if a.ndim >= 2:
        target = data.draw(st.sampled_from([target, (a.shape[0], -1) if a.shape[0] else (0, -1)]))
    if -1 in target and size == 0:
        return
    t = ct.from_numpy(a)
    expect = a.reshape(target)
    shares = bool(np.shares_memory(expect, a)) if size else None
    check(ct.reshape(t, target), a, expect, shares)
    if shares or size == 0:
        v = t.view(target)
        check(v, a, expect, True)
        check_write_through(v, a, lambda b: b.reshape(target))
    elif shares is False and not (a.strides and 0 in a.strides):
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            t.view(target)


@SET
@given(arrays(), st.data())
def test_flatten_ravel(a, data):
    t = ct.from_numpy(a)
    r = a.reshape(-1) if a.size else a.reshape(a.size)
    check(ct.ravel(t), a, r, bool(np.shares_memory(r, a)) if a.size else None)
    check(t.flatten(), a, r if a.ndim else a.reshape(1), None)
    if a.ndim >= 1:
        s = data.draw(st.integers(-a.ndim, a.ndim - 1))
        e = data.draw(st.integers(s % a.ndim, a.ndim - 1))
        s_, e_ = s % a.ndim, e
        expect = a.reshape(a.shape[:s_] + (int(np.prod(a.shape[s_ : e_ + 1])),) + a.shape[e_ + 1 :])
        check(ct.flatten(t, s, e), a, expect, bool(np.shares_memory(expect, a)) if a.size else None)


@SET
@given(arrays(layouts=WRITABLE, min_dims=1), st.data())
def test_moveaxis_transpose_swapaxes(a, data):
    t = ct.from_numpy(a)
    n = a.ndim
    k = data.draw(st.integers(1, n))
    src = data.draw(st.lists(st.integers(-n, n - 1), min_size=k, max_size=k, unique_by=lambda v: v % n))
    dst = data.draw(st.lists(st.integers(-n, n - 1), min_size=k, max_size=k, unique_by=lambda v: v % n))
    r = ct.moveaxis(t, src, dst)
    check(r, a, np.moveaxis(a, src, dst), True)
    check_write_through(r, a, lambda b: np.moveaxis(b, src, dst))
    check(t.T, a, a.T, True)
    perm = data.draw(st.permutations(range(n)))
    check(ct.transpose(t, perm), a, a.transpose(perm), True)
    i, j = data.draw(st.integers(-n, n - 1)), data.draw(st.integers(-n, n - 1))
    check(ct.swapaxes(t, i, j), a, np.swapaxes(a, i, j), True)
    if n >= 2:
        check(t.mT, a, np.swapaxes(a, -1, -2), True)


@SET
@given(arrays(max_side=2), st.data())
def test_squeeze_expand_dims(a, data):
    t = ct.from_numpy(a)
    check(ct.squeeze(t), a, np.squeeze(a), True)
    ones = [i for i, s in enumerate(a.shape) if s == 1]
    if ones:
        ax = tuple(data.draw(st.lists(st.sampled_from(ones), unique=True, min_size=1)))
        r = t.squeeze(ax)
        check(r, a, np.squeeze(a, ax), True)
        check_write_through(r, a, lambda b: np.squeeze(b, ax))
    others = [i for i, s in enumerate(a.shape) if s != 1]
    if others:
        with pytest.raises(ValueError, match="cannot select an axis to squeeze out which has size not equal"):
            t.squeeze(others[0])
    n = a.ndim + 1
    ax = data.draw(st.integers(-n, n - 1))
    r = ct.expand_dims(t, ax)
    check(r, a, np.expand_dims(a, ax), True)
    check_write_through(r, a, lambda b: np.expand_dims(b, ax))
    check(t.unsqueeze(ax), a, np.expand_dims(a, ax), True)
    axes = (0, -1) if n > 1 else (0, 1)
    check(ct.expand_dims(t, axes), a, np.expand_dims(a, axes), True)


@SET
@given(arrays(max_dims=3), arrays(max_dims=3))
def test_broadcast_arrays_and_to(a, b):
    ta, tb = ct.from_numpy(a), ct.from_numpy(b)
    try:
        expect = np.broadcast_arrays(a, b)
    except ValueError:
        with pytest.raises(ValueError, match="could not be broadcast together"):
            ct.broadcast_arrays(ta, tb)
        return
    ra, rb = ct.broadcast_arrays(ta, tb)
    check(ra, a, expect[0], True)
    check(rb, b, expect[1], True)
    check(ct.broadcast_to(ta, (2,) + a.shape), a, np.broadcast_to(a, (2,) + a.shape), True)


@SET
@given(arrays())
def test_is_contiguous_and_contiguous(a):
    t = ct.from_numpy(a)
    assert ct.is_contiguous(t) == a.flags.c_contiguous == t.is_contiguous()
    c = ct.contiguous(t)
    assert c.is_contiguous()
    check(c, a, a, a.flags.c_contiguous)


@SET
@given(arrays(layouts=WRITABLE), st.data())
def test_flip_is_a_view(a, data):
    t = ct.from_numpy(a)
    check(ct.flip(t), a, np.flip(a), True)
    if a.ndim:
        ax = data.draw(st.integers(-a.ndim, a.ndim - 1))
        r = t.flip(ax)
        check(r, a, np.flip(a, ax), True)
        check_write_through(r, a, lambda b: np.flip(b, ax))


def test_blocked_transpose_copy():
    rng = np.random.default_rng(0)
    for shape, axes in [((67, 130), (1, 0)), ((3, 40, 50), (2, 0, 1)), ((33, 9, 64), (2, 1, 0))]:
        for dt in (np.float32, np.float64, np.int32, np.uint8, np.bool_):
            a = make(rng, shape, "contiguous", dt).transpose(axes)
            c = ct.contiguous(ct.from_numpy(a))
            np.testing.assert_array_equal(c.numpy(), a)
            r = ct.from_numpy(a[::-1]).contiguous()
            np.testing.assert_array_equal(r.numpy(), a[::-1])


VIEW_GRADS = [
    lambda x: ct.flatten(x, 1, 2),
    lambda x: ct.ravel(x.mT),
    lambda x: ct.moveaxis(x, 0, -1),
    lambda x: ct.expand_dims(x, (0, 2)).squeeze(0),
    lambda x: x.view(6, 4),
    lambda x: ct.broadcast_arrays(x, ct.zeros((5, 1, 1, 1), dtype="float64"))[0],
    lambda x: ct.flip(x, (0, 2)),
    lambda x: ct.contiguous(x.transpose(2, 0, 1)) * 2,
]


@pytest.mark.parametrize("fn", VIEW_GRADS)
def test_view_gradients(fn):
    x = ct.tensor(np.random.default_rng(1).standard_normal((2, 3, 4)), requires_grad=True)
    assert gradcheck(fn, [x])


def test_view_errors():
    t = ct.zeros((2, 3))
    with pytest.raises(ValueError, match=r"cannot reshape tensor of size 6 into shape \(4,\)"):
        t.reshape(4)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        t.T.view(6)
    with pytest.raises(ct.AxisError, match="axis 2 is out of bounds for tensor of dimension 2"):
        ct.moveaxis(t, 2, 0)
    with pytest.raises(ValueError, match="same number of elements"):
        ct.moveaxis(t, (0, 1), 0)
    with pytest.raises(ct.AxisError):
        ct.squeeze(t, 3)
    with pytest.raises(ct.AxisError):
        ct.squeeze(ct.zeros(()), 0)
    with pytest.raises(ct.AxisError):
        ct.expand_dims(t, 3)
    with pytest.raises(ValueError, match="repeated axis"):
        ct.expand_dims(t, (0, 0))
    with pytest.raises(ValueError, match="start_dim"):
        ct.flatten(t, 1, 0)
    with pytest.raises(ValueError, match="cannot broadcast"):
        ct.broadcast_to(t, (3, 3))
