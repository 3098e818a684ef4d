"""The pure index math in corten._shape against NumPy."""

from __future__ import annotations

import corten as ct
import numpy as np
import pytest
from corten import _shape
from hypothesis import given, settings
from hypothesis import strategies as st
from layouts import arrays, shapes

SET = settings(max_examples=50, deadline=None)


def el_strides(a: np.ndarray) -> tuple:
    return tuple(s // a.itemsize for s in a.strides)


@SET
@given(st.lists(shapes(max_dims=4, max_side=3), min_size=1, max_size=4))
def test_broadcast_shape_matches_numpy(shs):
    try:
        expect = np.broadcast_shapes(*shs)
    except ValueError:
        with pytest.raises(ValueError, match="could not be broadcast together with shapes"):
            _shape.broadcast_shape(*shs)
        return
    assert _shape.broadcast_shape(*shs) == expect


def test_broadcast_shape_message():
    with pytest.raises(ValueError, match=r"shapes \(2,3\) \(4,\)"):
        _shape.broadcast_shape((2, 3), (4,))
    assert _shape.broadcast_shape() == ()


@SET
@given(arrays(max_dims=4), shapes(max_dims=2, max_side=3))
def test_broadcast_strides_matches_numpy(a, lead):
    target = lead + tuple(n if n != 1 else 3 for n in a.shape)
    b = np.broadcast_to(a, target)
    got = _shape.broadcast_strides(a.shape, el_strides(a), target)
    for n, g, e in zip(target, got, el_strides(b), strict=True):
        if n > 1:
            assert g == e
    with pytest.raises(ValueError, match="cannot broadcast"):
        _shape.broadcast_strides(a.shape + (2,), el_strides(a) + (1,), target + (5,))
    with pytest.raises(ValueError, match="cannot broadcast"):
        _shape.broadcast_strides((1, 2), (2, 1), (2,))


def _factorings(size: int) -> st.SearchStrategy:
    """Shapes with `size` elements: the prime factors grouped at random, 1s sprinkled in."""
    primes, n, p = [], size, 2
    while n > 1:
        while n % p == 0:
            primes.append(p)
            n //= p
        p += 1

    @st.composite
    def build(draw):
        fs = draw(st.permutations(primes)) if primes else []
        cuts = sorted(draw(st.sets(st.integers(1, max(len(fs) - 1, 1)), max_size=4))) if len(fs) > 1 else []
        groups, prev = [], 0
        for c in cuts + [len(fs)]:
            if c > prev:
                groups.append(int(np.prod(fs[prev:c])))
                prev = c
        for _ in range(draw(st.integers(0, 2))):
            groups.insert(draw(st.integers(0, len(groups))), 1)
        return tuple(groups)

    return build()


@settings(max_examples=80, deadline=None)
@given(arrays(layouts=("contiguous", "transposed", "stepped", "negative"), min_side=1, max_dims=5), st.data())
def test_reshape_strides_agrees_with_numpy(a, data):
    """A view exactly when NumPy's reshape gives one, and the same elements."""
    axes = data.draw(st.permutations(range(a.ndim)))
    a = a.transpose(axes)  # random stride patterns
    new = data.draw(_factorings(a.size))
    st_ = _shape.reshape_strides(a.shape, el_strides(a), new)
    r = a.reshape(new)
    assert (st_ is not None) == np.shares_memory(r, a)
    if st_ is not None:
        t = ct.from_numpy(a)
        v = t._make_view(new, st_, t._storage()[1])
        np.testing.assert_array_equal(v.numpy(), r)


def test_reshape_strides_cases():
    assert _shape.reshape_strides((2, 3), (3, 1), (3, 2)) == (2, 1)
    assert _shape.reshape_strides((2, 3), (1, 2), (6,)) is None  # transposed
    assert _shape.reshape_strides((2, 3), (1, 2), (2, 3, 1)) is not None
    assert _shape.reshape_strides((4, 3), (6, 2), (2, 2, 3)) == (12, 6, 2)  # stepped rows split
    assert _shape.reshape_strides((0, 3), (3, 1), (3, 0)) == _shape.contiguous_strides((3, 0))


@given(st.integers(-8, 8), st.integers(0, 5))
@SET
def test_normalize_axis(axis, ndim):
    if -ndim <= axis < ndim or (ndim == 0 and axis in (0, -1)):
        assert _shape.normalize_axis(axis, ndim) == (axis % ndim if ndim else 0)
    else:
        msg = f"axis {axis} is out of bounds for tensor of dimension {ndim}"
        with pytest.raises(ct.AxisError, match=msg):
            _shape.normalize_axis(axis, ndim)


def test_normalize_axis_errors():
    with pytest.raises(TypeError, match="axis must be an integer"):
        _shape.normalize_axis(1.0, 2)
    assert issubclass(ct.AxisError, IndexError) and issubclass(ct.AxisError, ValueError)
    assert _shape.normalize_axes(None, 3) == (0, 1, 2)
    assert _shape.normalize_axes((-1, 0), 3) == (0, 2)
    with pytest.raises(ValueError, match="repeated axis"):
        _shape.normalize_axes((1, -2), 3)


@SET
@given(arrays(layouts=("contiguous", "transposed", "stepped", "negative"), min_side=1, max_dims=5), st.data())
def test_index_to_offset(a, data):
    idx = tuple(data.draw(st.integers(0, n - 1)) for n in a.shape)
    t = ct.from_numpy(a)
    base, off = t._storage()
    assert base[_shape.index_to_offset(idx, t.strides, off)] == a[idx]


def test_infer_reshape_and_contiguity():
    assert _shape.infer_reshape(6, (-1, 2)) == (3, 2)
    with pytest.raises(ValueError, match="only specify one unknown dimension"):
        _shape.infer_reshape(6, (-1, -1))
    with pytest.raises(ValueError, match=r"cannot reshape tensor of size 6 into shape \(4,\)"):
        _shape.infer_reshape(6, (4,))
    with pytest.raises(ValueError, match="cannot reshape"):
        _shape.infer_reshape(0, (-1, 0))
    assert _shape.is_contiguous((2, 3), (3, 1)) and not _shape.is_contiguous((2, 3), (1, 2))
    assert _shape.is_contiguous((2, 1, 3), (3, 7, 1)) and _shape.is_contiguous((0, 3), (5, 9))
    assert _shape.contiguous_strides((2, 0, 3)) == (3, 3, 1)

