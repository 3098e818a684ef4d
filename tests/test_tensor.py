"""Tensor attributes, conversions, repr, len/iteration and their errors."""

from __future__ import annotations

import copy
import operator
import pickle

import corten as ct
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


# ---- layout attributes -------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    arr=hnp.arrays(
        st.sampled_from([np.dtype(d) for d in DTYPES]),
        hnp.array_shapes(min_dims=0, max_dims=6, min_side=0, max_side=4),
    ),
    step=st.sampled_from([1, 2, -1]),
)
def test_layout_attributes_match_numpy(arr, step):
    view = arr[tuple(slice(None, None, step) for _ in arr.shape)] if arr.ndim else arr
    t = ct.from_numpy(view)
    assert t.shape == view.shape
    assert t.ndim == view.ndim == t.dim()
    assert t.size == view.size == t.numel()
    assert t.dtype == view.dtype and t.dtype.name == view.dtype.name
    assert t.itemsize == t.element_size() == view.itemsize
    assert t.nbytes == view.nbytes
    assert t.strides == tuple(s // view.itemsize for s in view.strides)  # elements, not bytes
    assert t.device == "cpu"
    assert t.is_contiguous() == view.flags.c_contiguous
    assert t.T.shape == view.T.shape
    np.testing.assert_array_equal(t.T.numpy(), view.T)
    if view.ndim >= 2:
        np.testing.assert_array_equal(t.mT.numpy(), np.swapaxes(view, -1, -2))
    np.testing.assert_array_equal(np.asarray(t.tolist()), np.asarray(view.tolist()))  # NaN == NaN here


def test_strides_in_elements():
    t = ct.zeros((2, 3, 4), dtype="float64")
    assert t.strides == (12, 4, 1)
    assert t.T.strides == (1, 4, 12)
    assert ct.from_numpy(np.zeros((4, 6), np.int32)[::2, ::-3]).strides == (12, -3)


def test_T_and_mT():
    t = ct.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert t.T.shape == (4, 3, 2)
    assert t.mT.shape == (2, 4, 3)
    np.testing.assert_array_equal(t.mT.numpy(), np.arange(24.0).reshape(2, 3, 4).swapaxes(1, 2))
    assert t.T.numpy().base is not None or np.shares_memory(t.T.numpy(), t.numpy())  # a view
    assert ct.tensor(5.0).T.shape == ()
    with pytest.raises(ValueError):
        _ = ct.tensor([1.0, 2.0]).mT


# ---- conversions -------------------------------------------------------------------------


def test_item():
    assert ct.tensor(2.5).item() == 2.5 and isinstance(ct.tensor(2.5).item(), float)
    assert ct.tensor([[7]]).item() == 7 and isinstance(ct.tensor([[7]]).item(), int)
    assert ct.tensor(True).item() is True
    assert ct.tensor([3], dtype="uint8").item() == 3
    with pytest.raises(ValueError, match="6 elements"):
        ct.zeros((2, 3)).item()
    with pytest.raises(ValueError):
        ct.zeros(0).item()


def test_tolist():
    assert ct.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert ct.tensor(1.5).tolist() == 1.5
    assert ct.zeros((2, 0)).tolist() == [[], []]
    assert ct.tensor([True]).tolist() == [True]
    assert isinstance(ct.tensor([1.5]).tolist()[0], float)


def test_numpy_shares_memory():
    t = ct.zeros(3)
    n = t.numpy()
    n[1] = 5.0
    assert t.tolist() == [0.0, 5.0, 0.0]
    t += 1
    assert n.tolist() == [1.0, 6.0, 1.0]
    assert np.asarray(t) is n
    r = ct.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        r.numpy()
    assert np.shares_memory(r.detach().numpy(), r.numpy(force=True))


def test_array_protocol():
    t = ct.tensor([1.0, 2.0])
    assert np.asarray(t).dtype == np.float32
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    c = np.array(t, copy=True)
    c[0] = 9
    assert t.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError):
        np.asarray(t, dtype=np.float64, copy=False)


@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_astype_matches_numpy(src, dst):
    vals = np.array([0, 1, 2, 7, 100, 200, 255], np.int64)
    if src.startswith("float"):
        vals = np.array([-2.5, -1.0, -0.0, 0.0, 0.7, 1.0, 3.9, 250.0])
    a = vals.astype(src)
    view = a[::-2]
    t = ct.from_numpy(view)
    r = t.astype(dst)
    assert r.dtype == dst
    if src.startswith("float") and dst in ("uint8",):
        # float -> uint8 for negatives is undefined in C; corten wraps through int64
        expected = view.astype(np.int64).astype(np.uint8)
    else:
        expected = view.astype(dst)
    np.testing.assert_array_equal(r.numpy(), expected)
    assert r.is_contiguous()
    assert not np.shares_memory(r.numpy(), view)


def test_astype_aliases_and_copy():
    t = ct.tensor([1.5, -2.5])
    assert t.astype(ct.int32).dtype == ct.int32
    assert t.astype(np.float64).dtype == ct.float64
    assert t.astype("int64").tolist() == [1, -2]
    assert t.to("float64").dtype == ct.float64
    assert t.float().dtype == ct.float32 and t.double().dtype == ct.float64
    assert t.long().dtype == ct.int64 and t.int().dtype == ct.int32 and t.bool().dtype == ct.bool
    c = t.copy()
    assert c is not t and c.tolist() == t.tolist()
    c += 1
    assert t.tolist() == [1.5, -2.5]
    v = ct.from_numpy(np.arange(6.0).reshape(2, 3).T)
    assert v.clone().is_contiguous() and v.clone().tolist() == v.tolist()
    assert t.astype("complex64").tolist() == [1.5 + 0j, -2.5 + 0j]
    with pytest.raises(TypeError, match="imaginary part"):
        t.astype("complex64").astype("float32")


def test_bool_float_int_index():
    assert bool(ct.tensor([1.0])) is True
    assert bool(ct.tensor(0)) is False
    assert float(ct.tensor([[2.5]])) == 2.5
    assert int(ct.tensor(3.9)) == 3
    assert operator.index(ct.tensor(4)) == 4
    assert [10, 20, 30][ct.tensor(1)] == 20
    with pytest.raises(ValueError, match="ambiguous"):
        bool(ct.tensor([1, 2]))
    with pytest.raises(ValueError):
        bool(ct.zeros(0))
    with pytest.raises(ValueError):
        float(ct.tensor([1.0, 2.0]))
    with pytest.raises(ValueError):
        int(ct.tensor([1, 2]))
    with pytest.raises(TypeError):
        operator.index(ct.tensor(1.0))
    with pytest.raises(TypeError):
        operator.index(ct.tensor([1, 2]))


def test_len_and_iteration():
    base = np.arange(12.0).reshape(3, 4)
    t = ct.from_numpy(base[::-1, ::2])
    assert len(t) == 3
    rows = list(t)
    assert [r.tolist() for r in rows] == base[::-1, ::2].tolist()
    assert all(r.shape == (2,) and r.dtype == ct.float64 for r in rows)
    rows[0] += 100  # rows are views
    assert base[2, 0] == 108.0
    assert list(ct.zeros((0, 3))) == []
    assert [x.item() for x in ct.tensor([1, 2, 3])] == [1, 2, 3]
    assert len(ct.zeros((5, 0))) == 5
    with pytest.raises(TypeError, match="0-d"):
        len(ct.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(ct.tensor(1.0)).__next__()


def test_pickle_and_deepcopy():
    t = ct.tensor([[1.0, 2.0]], dtype="float64", requires_grad=True)
    p = pickle.loads(pickle.dumps(t))
    assert p.tolist() == t.tolist() and p.dtype == ct.float64 and p.requires_grad
    d = copy.deepcopy(t)
    assert d is not t and d.requires_grad and not np.shares_memory(d.numpy(force=True), t.numpy(force=True))


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="floating point"):
        ct.tensor([1, 2]).requires_grad_()
    t = ct.tensor([1.0], requires_grad=True)
    y = t * 2
    assert not y.is_leaf and y.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False
    assert t.is_leaf


# ---- repr (PyTorch's formatting) ------------------------------------------------------------

REPRS = [
    (ct.tensor([1.0, 2.0, 3.0]), "tensor([1., 2., 3.])"),
    (ct.tensor([0.5, 1.0]), "tensor([0.5000, 1.0000])"),
    (ct.tensor(2.5), "tensor(2.5000)"),
    (ct.tensor(2.0), "tensor(2.)"),
    (ct.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (ct.tensor([1e10, 1.0]), "tensor([1.0000e+10, 1.0000e+00])"),
    (ct.tensor([float("nan"), float("inf"), 1.5]), "tensor([   nan,    inf, 1.5000])"),
    (ct.tensor([1.0, float("inf")]), "tensor([1., inf])"),
    (ct.tensor([-1.5, 2.25]), "tensor([-1.5000,  2.2500])"),
    (ct.tensor([100.0, 2.0]), "tensor([100.,   2.])"),
    (ct.tensor([-0.0, 1.0]), "tensor([-0., 1.])"),
    (ct.tensor([[1.5, 2], [3, 4]]), "tensor([[1.5000, 2.0000],\n        [3.0000, 4.0000]])"),
    (ct.tensor([1, -22, 3]), "tensor([  1, -22,   3])"),
    (ct.tensor(3), "tensor(3)"),
    (ct.tensor([True, False]), "tensor([ True, False])"),
    (ct.tensor(True), "tensor(True)"),
    (ct.tensor([1.0, 2.0], dtype="float64"), "tensor([1., 2.], dtype=float64)"),
    (ct.tensor(2.5, dtype="float64"), "tensor(2.5000, dtype=float64)"),
    (ct.tensor([1, 2], dtype="int32"), "tensor([1, 2], dtype=int32)"),
    (ct.tensor([1, 2], dtype="uint8"), "tensor([1, 2], dtype=uint8)"),
    (ct.zeros(0), "tensor([])"),
    (ct.zeros(0, dtype="int64"), "tensor([], dtype=int64)"),
    (ct.zeros(0, dtype="bool"), "tensor([], dtype=bool)"),
    (ct.zeros((2, 0)), "tensor([], size=(2, 0))"),
    (ct.zeros((2, 0), dtype="float64"), "tensor([], size=(2, 0), dtype=float64)"),
    (ct.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
    (ct.arange(8.0).reshape(2, 2, 2),
     "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])"),
    (ct.arange(2000).reshape(2, 1000),
     "tensor([[   0,    1,    2,  ...,  997,  998,  999],\n"
     "        [1000, 1001, 1002,  ..., 1997, 1998, 1999]])"),
    (ct.arange(2000.0),
     "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])"),
]


@pytest.mark.parametrize("t,want", REPRS, ids=[w for _, w in REPRS])
def test_repr_matches_pytorch_conventions(t, want):
    assert repr(t) == want
    assert str(t) == want


def test_repr_grad_fn_suffix():
    x = ct.tensor([1.0, 2.0], requires_grad=True)
    r = repr(x * 2)
    assert r.startswith("tensor([2., 4.], grad_fn=<") and r.endswith("Backward>)")


def test_repr_wraps_at_80_columns():
    r = repr(ct.arange(30.0))
    assert r == (
        "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
        "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n"
        "        28., 29.])"
    )


@pytest.mark.parametrize("seed", range(6))
def test_repr_matches_torch(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    shapes = [(5,), (3, 4), (2, 3, 4), (40, 40), (7, 200), (1001,), (2, 2, 2, 2)]
    for shape in shapes:
        arrays = [(rng.standard_normal(shape) * s).astype(np.float32) for s in (1, 1e-6, 1e6, 1e9)]
        arrays += [rng.integers(-1000, 1000, shape), rng.random(shape) < 0.5]
        arrays += [rng.standard_normal(shape).round()]
        for a in arrays:
            want = repr(torch.from_numpy(a)).replace("torch.", "")
            assert repr(ct.tensor(a)) == want
