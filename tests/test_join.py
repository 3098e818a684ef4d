"""concat/stack/split/chunk/roll/repeat/tile/pad/tril/triu against NumPy."""

from __future__ import annotations

import corten as ct
import numpy as np
import pytest
from corten.autograd import gradcheck
from hypothesis import given, settings
from hypothesis import strategies as st
from layouts import LAYOUTS, make, shapes

SET = settings(max_examples=40, deadline=None)


def same(r: ct.Tensor, expect: np.ndarray) -> None:
    assert r.shape == expect.shape, (r.shape, expect.shape)
    assert r.dtype.np == expect.dtype, (r.dtype, expect.dtype)
    np.testing.assert_array_equal(r.numpy(), expect)


def fresh(r: ct.Tensor, *bases: np.ndarray) -> None:
    """r is a copy: it shares memory with none of the inputs."""
    for b in bases:
        assert not (r.size and b.size and np.shares_memory(r.numpy(), b))


@st.composite
def like(draw, shape, dtype=np.float64):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return make(rng, shape, draw(st.sampled_from(LAYOUTS)), dtype)


@SET
@given(shapes(min_dims=1, max_dims=5), st.data())
def test_concat_and_stack(shape, data):
    ax = data.draw(st.integers(-len(shape), len(shape) - 1))
    k = data.draw(st.integers(1, 4))
    parts = []
    for _ in range(k):
        s = list(shape)
        s[ax] = data.draw(st.integers(0, 3))
        dt = data.draw(st.sampled_from([np.float64, np.float32, np.int32]))
        parts.append(data.draw(like(tuple(s), dt)))
    ts = [ct.from_numpy(p) for p in parts]
    r = ct.concat(ts, ax)
    same(r, np.concatenate(parts, ax))
    fresh(r, *parts)
    same(ct.cat(ts, axis=None), np.concatenate(parts, axis=None))
    eq = [data.draw(like(shape)) for _ in range(k)]
    sax = data.draw(st.integers(-len(shape) - 1, len(shape)))
    same(ct.stack([ct.from_numpy(e) for e in eq], sax), np.stack(eq, sax))


@SET
@given(shapes(min_dims=1, max_dims=4, max_side=7), st.data())
def test_split_family_gives_views(shape, data):
    a = data.draw(like(shape))
    t = ct.from_numpy(a)
    ax = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[ax]
    sections = data.draw(st.integers(1, 5))
    for got, exp in zip(ct.array_split(t, sections, ax), np.array_split(a, sections, ax), strict=True):
        same(got, exp)
        if exp.size:
            assert np.shares_memory(got.numpy(), a)
    if n % sections == 0:
        for got, exp in zip(ct.split(t, sections, ax), np.split(a, sections, ax), strict=True):
            same(got, exp)
    else:
        with pytest.raises(ValueError, match="does not result in an equal division"):
            ct.split(t, sections, ax)
    points = sorted(data.draw(st.lists(st.integers(-n - 2, n + 2), max_size=3)))
    for got, exp in zip(t.split(points, ax), np.split(a, points, ax), strict=True):
        same(got, exp)
    pieces = ct.chunk(t, sections, ax)
    size = max(-(-n // sections), 1)
    assert len(pieces) == (-(-n // size) if n else sections)
    same(ct.concat(pieces, ax), a)
    assert all(p.shape[ax] == (size if n else 0) for p in pieces[:-1])


@SET
@given(shapes(max_dims=4), st.data())
def test_roll(shape, data):
    a = data.draw(like(shape))
    t = ct.from_numpy(a)
    shift = data.draw(st.integers(-7, 7))
    same(ct.roll(t, shift), np.roll(a, shift))
    if shape:
        nd = len(shape)
        axes = tuple(data.draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=3)))
        shifts = tuple(data.draw(st.integers(-5, 5)) for _ in axes)
        r = t.roll(shifts, axes)
        same(r, np.roll(a, shifts, axes))
        fresh(r, a)


@SET
@given(shapes(max_dims=4), st.data())
def test_repeat_and_tile(shape, data):
    a = data.draw(like(shape, np.int64))
    t = ct.from_numpy(a)
    r = data.draw(st.integers(0, 3))
    same(ct.repeat(t, r), np.repeat(a, r))
    if shape:
        ax = data.draw(st.integers(-len(shape), len(shape) - 1))
        same(t.repeat(r, ax), np.repeat(a, r, ax))
        counts = data.draw(st.lists(st.integers(0, 3), min_size=shape[ax], max_size=shape[ax]))
        got = ct.repeat(t, counts, axis=ax)
        same(got, np.repeat(a, counts, ax))
        fresh(got, a)
    reps = tuple(data.draw(st.lists(st.integers(0, 3), max_size=5)))
    got = ct.tile(t, reps)
    same(got, np.tile(a, reps))
    fresh(got, a)


@SET
@given(shapes(max_dims=4), st.data())
def test_pad(shape, data):
    a = data.draw(like(shape, data.draw(st.sampled_from([np.float32, np.int32]))))
    nd = len(shape)
    form = data.draw(st.sampled_from(["int", "pair", "single", "full"]))
    w = lambda: data.draw(st.integers(0, 3))  # noqa: E731
    pw = {
        "int": w(), "pair": (w(), w()), "single": ((w(), w()),),
        "full": tuple((w(), w()) for _ in range(nd)),
    }[form]
    cv = data.draw(st.sampled_from([0, 2.5, (1, 2), tuple((i, -i) for i in range(nd))]))
    if nd == 0 and form == "full":
        pw = 0
    if nd == 0 and isinstance(cv, tuple) and not cv:
        cv = 0
    expect = np.pad(a, pw, constant_values=cv)
    got = ct.pad(ct.from_numpy(a), pw, constant_values=cv)
    same(got, expect)
    fresh(got, a)


@SET
@given(shapes(min_dims=2, max_dims=4, max_side=5), st.integers(-5, 5), st.data())
def test_tril_triu(shape, k, data):
    a = data.draw(like(shape))
    t = ct.from_numpy(a)
    same(ct.tril(t, k), np.tril(a, k))
    same(t.triu(k), np.triu(a, k))


GRADS = [
    lambda x, y: ct.concat([x, y * 2, x], axis=1),
    lambda x, y: ct.stack([x, y], axis=-1),
    lambda x, y: ct.array_split(x, 2, 1)[1] * ct.chunk(y, 3, 1)[0],
    lambda x, y: ct.roll(x, (1, -1), (0, 1)) + y,
    lambda x, y: ct.repeat(x, [2, 0, 1], axis=1) * 1.5,
    lambda x, y: ct.tile(y, (2, 1, 2)),
    lambda x, y: ct.pad(x, ((1, 0), (2, 1)), constant_values=3.0),
    lambda x, y: ct.tril(x, -1) + ct.triu(y, 1),
]


@pytest.mark.parametrize("fn", GRADS)
def test_gradients(fn):
    rng = np.random.default_rng(5)
    x = ct.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    y = ct.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert gradcheck(fn, [x, y])


def test_dtype_promotion_and_errors():
    i = ct.tensor([1, 2])
    f = ct.tensor([0.5], dtype="float32")
    assert ct.concat([i, f]).dtype is ct.float64  # as NumPy: int64 with float32 -> float64
    assert ct.concat([ct.tensor([True]), i]).dtype is ct.int64
    t = ct.zeros((2, 3))
    with pytest.raises(ValueError, match="need at least one array"):
        ct.concat([])
    with pytest.raises(ValueError, match="zero-dimensional arrays cannot be concatenated"):
        ct.concat([ct.tensor(1.0), ct.tensor(2.0)])
    with pytest.raises(ValueError, match="along dimension 1, the array at index 0 has size 3"):
        ct.concat([t, ct.zeros((2, 4))])
    with pytest.raises(ValueError, match="must have same number of dimensions"):
        ct.concat([t, ct.zeros(3)])
    with pytest.raises(ct.AxisError):
        ct.concat([t, t], 2)
    with pytest.raises(ValueError, match="must have the same shape"):
        ct.stack([t, ct.zeros((3, 2))])
    with pytest.raises(ct.AxisError):
        ct.stack([t, t], 3)
    with pytest.raises(TypeError):
        ct.concat(t)
    with pytest.raises(ValueError, match="number sections must be larger than 0"):
        ct.array_split(t, 0)
    with pytest.raises(ValueError, match="greater than 0"):
        ct.chunk(t, 0)
    with pytest.raises(ValueError, match="negative values"):
        ct.repeat(t, -1)
    with pytest.raises(ValueError, match="could not be broadcast"):
        ct.repeat(t, [1, 2], axis=1)
    with pytest.raises(ValueError, match="negative"):
        ct.tile(t, (-1,))
    with pytest.raises(ValueError, match="negative values"):
        ct.pad(t, -1)
    with pytest.raises(ValueError, match="could not be broadcast"):
        ct.pad(t, ((1, 2, 3),))
    with pytest.raises(NotImplementedError):
        ct.pad(t, 1, mode="reflect")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        ct.tril(ct.zeros(3))
    with pytest.raises(ct.AxisError):
        ct.roll(t, 1, 2)
