"""__getitem__/__setitem__ and the index functions against NumPy."""

from __future__ import annotations

import corten as ct
import numpy as np
import pytest
from corten.autograd import gradcheck
from hypothesis import given, settings
from hypothesis import strategies as st
from layouts import WRITABLE, arrays, shapes

SET = settings(max_examples=50, deadline=None)


# ---- index strategies ---------------------------------------------------------------


def _slice(draw, n):
    b = st.one_of(st.none(), st.integers(-n - 2, n + 2))
    step = draw(st.one_of(st.none(), st.sampled_from([1, 2, 3, -1, -2, -3])))
    return slice(draw(b), draw(b), step)


@st.composite
def basic_index(draw, shape):
    items = []
    for n in shape[: draw(st.integers(0, len(shape)))]:
        if n and draw(st.booleans()):
            items.append(draw(st.integers(-n, n - 1)))
        else:
            items.append(_slice(draw, n))
    for _ in range(draw(st.integers(0, 2))):
        items.insert(draw(st.integers(0, len(items))), None)
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), Ellipsis)
    return tuple(items)


def _as_kind(draw, arr):
    kind = draw(st.sampled_from(["numpy", "tensor", "list"]))
    if kind == "tensor":
        return ct.tensor(arr)
    if kind == "list" and arr.ndim and arr.size:  # an empty list loses the dtype
        return arr.tolist()
    return arr


@st.composite
def advanced_index(draw, shape):
    """A mix of basic items, integer arrays (broadcastable) and at most one mask."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    bshape = draw(shapes(max_dims=2, max_side=3))
    items, d = [], 0
    used_mask = False
    while d < len(shape) and draw(st.integers(0, 4)):
        n = shape[d]
        choice = draw(st.sampled_from(["array", "array", "int", "slice", "mask", "none"]))
        if choice == "mask" and not used_mask:
            k = draw(st.integers(1, len(shape) - d))
            items.append(rng.random(shape[d : d + k]) < 0.5)
            used_mask, d = True, d + k
            continue
        if choice == "none":
            items.append(None)
            continue
        if choice == "slice" or (n == 0 and choice != "array"):
            items.append(_slice(draw, n))
        elif choice == "int":
            items.append(int(rng.integers(-n, n)))
        else:
            sub = tuple(s if draw(st.booleans()) else 1 for s in bshape)[draw(st.integers(0, len(bshape))) :]
            if n == 0 and 0 not in sub:
                sub = sub + (0,)
                bshape = bshape + (0,) if len(bshape) < len(sub) else bshape
            items.append(rng.integers(-n, max(n, 1), sub) if n else np.zeros(sub, np.int64))
        d += 1
    if not any(isinstance(i, np.ndarray) for i in items):
        items.append(rng.random(shape[d : d + 1]) < 0.5 if d < len(shape) else np.zeros((0,), np.int64))
    return tuple(items)


def to_corten(index, draw):
    return tuple(_as_kind(draw, i) if isinstance(i, np.ndarray) else i for i in index)


def np_result(a, idx):
    try:
        return a[idx], None
    except (IndexError, ValueError) as e:
        return None, e


# ---- getitem ----------------------------------------------------------------------------


@SET
@given(arrays(), st.data())
def test_basic_getitem_is_a_view(a, data):
    idx = data.draw(basic_index(a.shape))
    t = ct.from_numpy(a)
    expect, err = np_result(a, idx)
    if err is not None:
        with pytest.raises(type(err)):
            t[idx]
        return
    r = t[idx]
    assert r.shape == expect.shape and r.dtype.np == a.dtype
    np.testing.assert_array_equal(r.numpy(), expect)
    if expect.size:
        assert np.shares_memory(r.numpy(), a)
    if a.flags.writeable and expect.size:
        ref = a.copy()
        ref[idx] = -3.0
        r[...] = -3.0  # writes show through
        np.testing.assert_array_equal(a, ref)


@SET
@given(arrays(dtype=np.float32), st.data())
def test_advanced_getitem(a, data):
    idx = data.draw(advanced_index(a.shape))
    expect, err = np_result(a, idx)
    t = ct.from_numpy(a)
    if err is not None:
        with pytest.raises(type(err)):
            t[to_corten(idx, data.draw)]
        return
    r = t[to_corten(idx, data.draw)]
    assert r.shape == expect.shape and r.dtype.np == a.dtype
    np.testing.assert_array_equal(r.numpy(), expect)
    if expect.size:
        assert not np.shares_memory(r.numpy(), a)


@SET
@given(arrays(dtype=np.int64, min_dims=1), st.data())
def test_mask_selection(a, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    k = data.draw(st.integers(1, a.ndim))
    m = rng.random(a.shape[:k]) < 0.4
    t = ct.from_numpy(a)
    np.testing.assert_array_equal(t[m].numpy(), a[m])
    np.testing.assert_array_equal(t[ct.tensor(m)].numpy(), a[m])
    full = rng.random(a.shape) < 0.5
    np.testing.assert_array_equal(t[full].numpy(), a[full])
    np.testing.assert_array_equal(t[t > 0].numpy(), a[a > 0])


def test_numpy_placement_of_advanced_dims():
    a = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    t = ct.tensor(a)
    cases = [
        (0, slice(None), [1, 2]),  # int and array separated by a slice: advanced first
        (slice(None), [0, 1], [1, 2]),  # adjacent: stay in place
        (slice(None), [0, 1], slice(None), [1, 2]),
        ([[0], [1]], slice(None), slice(None), [[1, 2, 3]]),
        (Ellipsis, [0, 2]),
        (None, [1], None, [2]),
        (True,),
        (False, 0),
        (slice(None), True, [0, 2]),
        (np.array(1),),
        (slice(1, None), np.array([[True, False, True, True], [False, False, True, False], [True] * 4])),
        (np.array([], dtype=np.int64),),
        ([],),
        (1, [-1, -2], slice(None, None, -2)),
    ]
    for idx in cases:
        np.testing.assert_array_equal(t[idx].numpy(), a[idx], err_msg=str(idx))
        assert t[idx].shape == a[idx].shape


def test_scalar_results_and_iteration():
    t = ct.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t[1, 0].shape == () and t[1, 0].item() == 3.0
    assert [r.tolist() for r in t] == [[1.0, 2.0], [3.0, 4.0]]
    z = ct.tensor(5.0)
    assert z[()].item() == 5.0 and z[...].shape == () and z[None].shape == (1,)
    assert t[ct.tensor(1)].tolist() == [3.0, 4.0]


# ---- setitem --------------------------------------------------------------------------


def _targets_unique(shape, idx) -> bool:
    pos = np.arange(int(np.prod(shape))).reshape(shape)[idx]
    return np.unique(pos).size == pos.size


@SET
@given(arrays(layouts=WRITABLE), st.data())
def test_setitem_matches_numpy(a, data):
    advanced = data.draw(st.booleans())
    idx = data.draw(advanced_index(a.shape) if advanced else basic_index(a.shape))
    target, err = np_result(a, idx)
    if err is not None:
        return
    rng = np.random.default_rng(0)
    if _targets_unique(a.shape, idx) or not advanced:
        vshape = tuple(s if data.draw(st.booleans()) else 1 for s in target.shape)
        vshape = vshape[data.draw(st.integers(0, len(vshape))) :]
        value = rng.standard_normal(vshape)
    else:  # repeated targets: every write of one element carries the same value
        value = np.float64(2.5)
    ref = a.copy()
    ref[idx] = value
    t = ct.from_numpy(a)
    t[to_corten(idx, data.draw)] = ct.tensor(value) if data.draw(st.booleans()) else value
    np.testing.assert_array_equal(a, ref)


def test_setitem_repeated_indices_last_write_wins():
    t = ct.zeros(5)
    t[[1, 3, 1, 1]] = ct.tensor([10.0, 20.0, 30.0, 40.0])
    assert t.tolist() == [0.0, 40.0, 0.0, 20.0, 0.0]
    m = ct.zeros((3, 2), dtype="int64")
    m[[0, 0, 2]] = ct.tensor([[1, 2], [3, 4], [5, 6]])
    assert m.tolist() == [[3, 4], [0, 0], [5, 6]]


def test_setitem_casts_broadcasts_and_unaliases():
    t = ct.zeros((3, 4), dtype="int32")
    t[:, 1] = 2.7  # cast as NumPy's unsafe setitem
    t[0] = ct.tensor([1, 2, 3, 4])
    t[t > 2] = -1
    ref = np.zeros((3, 4), np.int32)
    ref[:, 1] = 2.7
    ref[0] = [1, 2, 3, 4]
    ref[ref > 2] = -1
    np.testing.assert_array_equal(t.numpy(), ref)
    a = ct.tensor(np.arange(6.0))
    a[1:] = a[:-1]  # overlapping source and target
    assert a.tolist() == [0.0, 0.0, 1.0, 2.0, 3.0, 4.0]
    b = ct.tensor(np.arange(6.0))
    b[[5, 4, 3]] = b[:3]
    assert b.tolist() == [0.0, 1.0, 2.0, 2.0, 1.0, 0.0]


def test_setitem_bumps_version():
    t = ct.zeros(4)
    v = t._bump_version(0)
    t[1] = 1.0
    t[[2]] = 1.0
    assert t._bump_version(0) == v + 2


# ---- index functions ------------------------------------------------------------------


@SET
@given(arrays(min_dims=1, min_side=1, max_dims=4), st.data())
def test_take_and_along_axis(a, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    t = ct.from_numpy(a)
    ax = data.draw(st.integers(-a.ndim, a.ndim - 1))
    n = a.shape[ax]
    idx = rng.integers(-n, n, data.draw(shapes(max_dims=2, max_side=3)))
    np.testing.assert_array_equal(ct.take(t, idx, ax).numpy(), np.take(a, idx, ax))
    flat = rng.integers(0, max(a.size, 1), 5)
    np.testing.assert_array_equal(t.take(flat).numpy(), np.take(a, flat))
    ishape = list(a.shape)
    ishape[ax] = data.draw(st.integers(0, 4))
    ishape = [s if data.draw(st.booleans()) else 1 for s in ishape]
    along = rng.integers(0, n, ishape)
    np.testing.assert_array_equal(ct.take_along_axis(t, along, ax).numpy(), np.take_along_axis(a, along, ax))
    if a.flags.writeable:
        ref = a.copy()
        vals = rng.standard_normal(1)
        np.put_along_axis(ref, along, vals, ax)
        ct.put_along_axis(t, ct.tensor(along), vals, ax)
        np.testing.assert_array_equal(a, ref)


@SET
@given(arrays(layouts=WRITABLE, min_dims=1, min_side=1, max_dims=4), st.data())
def test_index_add_accumulates(a, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    ax = data.draw(st.integers(0, a.ndim - 1))
    idx = rng.integers(0, a.shape[ax], data.draw(st.integers(0, 6)))
    sshape = list(a.shape)
    sshape[ax] = idx.size
    src = rng.standard_normal(sshape)
    ref = a.copy()
    np.add.at(ref, (slice(None),) * ax + (idx,), src)
    out = ct.index_add(ct.from_numpy(a), ax, idx, ct.tensor(src))
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)


@SET
@given(arrays(dtype=np.int32, min_dims=1))
def test_nonzero(a):
    got = ct.nonzero(ct.from_numpy(a))
    expect = np.nonzero(a)
    assert len(got) == len(expect)
    for g, e in zip(got, expect, strict=True):
        assert g.dtype is ct.int64
        np.testing.assert_array_equal(g.numpy(), e)


@SET
@given(arrays(max_dims=4), st.data())
def test_masked_fill(a, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    mshape = tuple(s if data.draw(st.booleans()) else 1 for s in a.shape)[data.draw(st.integers(0, a.ndim)) :]
    m = rng.random(mshape) < 0.5
    r = ct.masked_fill(ct.from_numpy(a), ct.tensor(m), -7.0)
    np.testing.assert_array_equal(r.numpy(), np.where(m, -7.0, a))
    assert r.dtype.np == a.dtype


def test_masked_fill_inplace_and_one_hot():
    t = ct.tensor([1, 2, 3])
    t.masked_fill_(ct.tensor([True, False, True]), 0)
    assert t.tolist() == [0, 2, 0]
    oh = ct.one_hot(ct.tensor([[0, 2], [1, 1]]), 4)
    assert oh.dtype is ct.int64 and oh.shape == (2, 2, 4)
    np.testing.assert_array_equal(oh.numpy(), np.eye(4, dtype=np.int64)[[[0, 2], [1, 1]]])
    assert ct.one_hot(ct.tensor([3, 0])).shape == (2, 4)
    with pytest.raises(ValueError, match="smaller than num_classes"):
        ct.one_hot(ct.tensor([3]), 3)
    with pytest.raises(ValueError, match="non-negative"):
        ct.one_hot(ct.tensor([-1]), 3)
    with pytest.raises(TypeError):
        ct.one_hot(ct.tensor([1.0]), 3)


# ---- gradients ------------------------------------------------------------------------

GET_GRADS = [
    (1, slice(None, None, -2)),
    (Ellipsis, None, 1),
    ([0, 1, 1, 0],),
    (slice(None), [2, 2, 0], [-1, 0, 0]),
    (np.array([[True, False, True], [False, True, True]]),),
    (0, slice(1, None), [3, 3]),
]


@pytest.mark.parametrize("idx", GET_GRADS, ids=str)
def test_getitem_gradient(idx):
    x = ct.tensor(np.random.default_rng(2).standard_normal((2, 3, 4)), requires_grad=True)
    assert gradcheck(lambda x: x[idx] * 3, [x])


@pytest.mark.parametrize("idx", GET_GRADS, ids=str)
def test_setitem_gradient(idx):
    rng = np.random.default_rng(3)
    x = ct.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    shape = np.zeros((2, 3, 4))[idx].shape
    v = ct.tensor(rng.standard_normal(shape[-1:]), requires_grad=True)

    def fn(x, v):
        y = x * 1.0
        y[idx] = v * 2.0
        return y

    if not _targets_unique((2, 3, 4), idx):  # overwritten values get no gradient
        assert gradcheck(lambda x: fn(x, v.detach()), [x])
    else:
        assert gradcheck(fn, [x, v])


def test_index_function_gradients():
    rng = np.random.default_rng(4)
    x = ct.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    s = ct.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    idx = np.array([0, 3, 3, 1, 0])
    assert gradcheck(lambda x, s: ct.index_add(x, 1, idx, s), [x, s])
    assert gradcheck(lambda x: ct.take(x, idx, 1), [x])
    assert gradcheck(lambda x: ct.take_along_axis(x, np.array([[2], [0], [1]]), 1), [x])
    assert gradcheck(lambda x: ct.masked_fill(x, ct.tensor(x.detach().numpy() > 0), 0.0), [x])
    y = x[1:, ::2]  # second order through getitem
    (g,) = ct.autograd.grad((y * y).sum(), [x], create_graph=True)
    (gg,) = ct.autograd.grad(g.sum(), [x])
    expect = np.zeros((3, 4))
    expect[1:, ::2] = 2.0
    np.testing.assert_array_equal(gg.numpy(), expect)


# ---- errors ---------------------------------------------------------------------------


def test_index_errors():
    t = ct.zeros((3, 4))
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 3"):
        t[5]
    with pytest.raises(IndexError, match="index -5 is out of bounds for axis 1 with size 4"):
        t[0, -5]
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 3"):
        t[[0, 5]]
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 1 with size 4"):
        t[[0, 1], [1, 4]]
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        t[[3]] = 1.0
    with pytest.raises(IndexError, match="too many indices for tensor: tensor is 2-dimensional, but 3 were"):
        t[0, 0, 0]
    with pytest.raises(IndexError, match=(
        "boolean index did not match indexed tensor along axis 0; size of axis is 3 but size of "
        "corresponding boolean axis is 4"
    )):
        t[np.ones(4, bool)]
    with pytest.raises(IndexError, match="arrays used as indices must be of integer"):
        t[ct.tensor([0.0, 1.0])]
    with pytest.raises(IndexError, match="only integers, slices"):
        t[1.0]
    with pytest.raises(IndexError, match="only integers, slices"):
        t["a"]
    with pytest.raises(IndexError, match="single ellipsis"):
        t[..., ...]
    with pytest.raises(IndexError, match="could not be broadcast together with shapes"):
        t[[0, 1], [0, 1, 2]]
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        t[::0]
    with pytest.raises(ValueError, match=r"could not broadcast input array from shape \(3,\) into"):
        t[:2] = np.ones(3)
    with pytest.raises(ValueError, match="shape mismatch: value array of shape"):
        t[[0]] = np.ones((2, 4))
    with pytest.raises(ct.AxisError):
        ct.take(t, [0], axis=2)
    with pytest.raises(ValueError, match="same number of dimensions"):
        ct.take_along_axis(t, np.zeros(2, np.int64), 0)
    with pytest.raises(ValueError, match="0d"):
        ct.nonzero(ct.tensor(1))
    with pytest.raises(TypeError, match="bool"):
        ct.masked_fill(t, ct.zeros((3, 4)), 1.0)
    with pytest.raises(RuntimeError, match="leaf tensor"):
        ct.zeros(3, dtype="float64").requires_grad_()[0] = 1.0


def test_kernel_checks_bounds_itself():
    src = np.arange(4.0)
    with pytest.raises(IndexError, match="index 9 is out of bounds for axis 0 with size 4"):
        ct._C.gather(src, [np.array([1, 9])], np.empty(2), [0])
    with pytest.raises(IndexError):
        ct._C.scatter(src.copy(), [np.array([-5])], np.ones(1), False, [0])
    with pytest.raises(ValueError, match="index array has dtype int32"):
        ct._C.gather(src, [np.array([1], np.int32)], np.empty(1), [0])
    with pytest.raises(ValueError):
        ct._C.gather(src, [np.array([1])], np.empty(2), [0])
    with pytest.raises(ValueError):
        ct._C.masked_select(src, np.ones(4, bool), np.empty(3))


def test_large_inputs_same_for_any_thread_count():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((300, 1000)).astype(np.float32)[:, ::-1]
    m = x > 0.3
    idx = rng.integers(-300, 300, (500, 300))
    before = ct.get_num_threads()
    results = []
    try:
        for n in (1, 2, 3):
            ct.set_num_threads(n)
            t = ct.from_numpy(x)
            results.append((t[m].numpy(), t[idx, 5].numpy(), [c.numpy() for c in ct.nonzero(ct.tensor(m))],
                            t.T.contiguous().numpy()))
    finally:
        ct.set_num_threads(before)
    for sel, gat, nz, tr in results:
        np.testing.assert_array_equal(sel, x[m])
        np.testing.assert_array_equal(gat, x[idx, 5])
        for g, e in zip(nz, np.nonzero(m), strict=True):
            np.testing.assert_array_equal(g, e)
        np.testing.assert_array_equal(tr, x.T)
    with pytest.raises(IndexError, match="index 300 is out of bounds for axis 0 with size 300"):
        ct.from_numpy(x)[np.r_[np.zeros(200000, np.int64), 300]]


@pytest.mark.parametrize("dtype", [np.bool_, np.int32, np.int64, np.float32, np.float64, np.complex128])
def test_whole_rows_gathered_for_any_thread_count(dtype):
    """Rows that are contiguous in source and result are copied whole (one memcpy
    each); rows that are not (a transposed source) take the element walk."""
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((400, 6, 7)) * 5).astype(dtype)
    idx = rng.integers(-400, 400, 333)
    before = ct.get_num_threads()
    try:
        for n in (1, 2, 3):
            ct.set_num_threads(n)
            t = ct.from_numpy(x)
            np.testing.assert_array_equal(t[idx].numpy(), x[idx])
            np.testing.assert_array_equal(t.permute(0, 2, 1)[idx].numpy(), x.transpose(0, 2, 1)[idx])
            np.testing.assert_array_equal(t[:, 1:5][idx].numpy(), x[:, 1:5][idx])  # rows with a gap
            with pytest.raises(IndexError, match="index 400 is out of bounds for axis 0 with size 400"):
                t[np.r_[idx, 400]]
            # rows are requested a few ahead of the copy: the first bad index is still the one named
            with pytest.raises(IndexError, match="index 401 is out of bounds"):
                t[np.r_[idx[:100], 401, 3, -500, idx[:50]]]
            np.testing.assert_array_equal(t[idx[:2]].numpy(), x[idx[:2]])  # fewer rows than the look-ahead
            wide = (rng.standard_normal((50, 2000)) * 5).astype(dtype)  # rows longer than what is requested ahead
            np.testing.assert_array_equal(ct.from_numpy(wide)[idx % 50].numpy(), wide[idx % 50])
    finally:
        ct.set_num_threads(before)


def test_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    a = rng.standard_normal((4, 5))
    for n, k in [(6, 4), (5, 5), (7, 3), (0, 3), (1, 4)]:
        got = [p.shape for p in ct.chunk(ct.zeros((n, 2)), k)]
        exp = [tuple(p.shape) for p in torch.zeros((n, 2)).chunk(k)]
        assert got == exp, (n, k)
    idx = np.array([[0, 3, 3], [1, 0, 2]])
    x = ct.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    (x[idx, 1:] * ct.tensor(np.arange(24.0).reshape(2, 3, 4))).sum().backward()
    (tx[torch.tensor(idx), 1:] * torch.arange(24.0, dtype=torch.float64).reshape(2, 3, 4)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    lab = np.array([2, 0, 1])
    np.testing.assert_array_equal(ct.one_hot(ct.tensor(lab), 4).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(lab), 4).numpy())
    s = rng.standard_normal((4, 3))
    np.testing.assert_allclose(
        ct.index_add(ct.tensor(a), 1, np.array([4, 4, 0]), ct.tensor(s)).numpy(),
        torch.tensor(a).index_add(1, torch.tensor([4, 4, 0]), torch.tensor(s)).numpy(),
    )
    np.testing.assert_array_equal(ct.tril(ct.tensor(a), 1).numpy(), torch.tril(torch.tensor(a), 1).numpy())
