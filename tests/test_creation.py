"""Making tensors: tensor(), asarray, from_numpy, filled tensors, ranges, eye."""

from __future__ import annotations

import corten as ct
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]
DTYPE_SPELLINGS = [
    (ct.float32, ct.float32), ("float32", ct.float32), (np.float32, ct.float32),
    (np.dtype("float64"), ct.float64),
    ("float64", ct.float64), ("double", ct.float64), (float, ct.float32), (int, ct.int64), (bool, ct.bool),
    ("int32", ct.int32), (np.int32, ct.int32), ("uint8", ct.uint8), (np.uint8, ct.uint8), ("bool", ct.bool),
    (np.bool_, ct.bool), ("int64", ct.int64), ("long", ct.int64), (ct.int64, ct.int64),
]


# ---- tensor() -------------------------------------------------------------------------------


def test_tensor_from_python_scalars_and_lists():
    assert ct.tensor(1.5).dtype == ct.float32 and ct.tensor(1.5).shape == ()
    assert ct.tensor(3).dtype == ct.int64
    assert ct.tensor(True).dtype == ct.bool
    assert ct.tensor([1, 2.5]).dtype == ct.float32
    assert ct.tensor([True, 2]).dtype == ct.int64
    assert ct.tensor([[1, 2], [3, 4]]).shape == (2, 2)
    assert ct.tensor((1, 2)).tolist() == [1, 2]
    assert ct.tensor(range(3)).tolist() == [0, 1, 2]
    assert ct.tensor([]).shape == (0,) and ct.tensor([]).dtype == ct.float32
    assert ct.tensor([[]]).shape == (1, 0)
    assert ct.tensor([ct.tensor(1.0), ct.tensor(2.0)]).tolist() == [1.0, 2.0]
    assert ct.tensor([ct.tensor([1, 2]), ct.tensor([3, 4])]).shape == (2, 2)
    assert ct.tensor([1e300]).tolist() == [float("inf")]  # Python floats become float32


@settings(max_examples=50, deadline=None)
@given(arr=hnp.arrays(st.sampled_from([np.dtype(d) for d in DTYPES]),
                      hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=4)))
def test_tensor_from_numpy_keeps_dtype_and_copies(arr):
    t = ct.tensor(arr)
    assert t.dtype == arr.dtype and t.shape == arr.shape
    np.testing.assert_array_equal(t.numpy(), arr)
    assert not np.shares_memory(t.numpy(), arr) or arr.size == 0
    np.testing.assert_array_equal(ct.tensor(arr.T).numpy(), arr.T)  # non-contiguous source


def test_tensor_from_numpy_scalars_and_tensors():
    assert ct.tensor(np.float64(1.5)).dtype == ct.float64
    assert ct.tensor(np.int32(3)).dtype == ct.int32
    assert ct.tensor(np.array([1, 2], ">i4")).dtype == ct.int32  # byte-swapped input is converted
    src = ct.tensor([1.0, 2.0])
    cp = ct.tensor(src)
    cp += 1
    assert src.tolist() == [1.0, 2.0]
    assert ct.tensor(src, dtype="int32").dtype == ct.int32
    assert ct.tensor([1.0], requires_grad=True).requires_grad


@pytest.mark.parametrize("spelling,want", DTYPE_SPELLINGS)
def test_dtype_arguments(spelling, want):
    assert ct.tensor([1, 0], dtype=spelling).dtype is want
    assert ct.zeros(2, dtype=spelling).dtype is want
    assert ct.ones(2, dtype=spelling).dtype is want
    assert ct.full(2, 1, dtype=spelling).dtype is want
    assert ct.empty(2, dtype=spelling).dtype is want
    assert ct.arange(2, dtype=spelling).dtype is want
    assert ct.eye(2, dtype=spelling).dtype is want


def test_tensor_errors():
    with pytest.raises(ValueError, match="ragged"):
        ct.tensor([[1, 2], [3]])
    with pytest.raises(TypeError):
        ct.tensor(["a", "b"])
    with pytest.raises(TypeError):
        ct.tensor([1, "a"])
    with pytest.raises(TypeError):
        ct.tensor(None)
    with pytest.raises(TypeError, match="complex data"):
        ct.tensor([1 + 2j], dtype="float64")
    with pytest.raises(TypeError, match="int16"):
        ct.tensor(np.array([1, 2], np.int16))
    with pytest.raises(TypeError):
        ct.tensor([1.0], dtype="float16")
    with pytest.raises(TypeError):
        ct.tensor([1.0], dtype="complex256")
    with pytest.raises(OverflowError):
        ct.tensor(2**63)
    with pytest.raises(OverflowError):
        ct.tensor([1, 2**64])
    with pytest.raises(OverflowError):
        ct.tensor([300], dtype="uint8")
    with pytest.raises(OverflowError):
        ct.tensor([-1], dtype="uint8")
    with pytest.raises(OverflowError):
        ct.tensor([2**31], dtype="int32")
    # an explicit dtype converts
    assert ct.tensor(np.array([1, 2], np.int16), dtype="int32").dtype == ct.int32


# ---- asarray / from_numpy ------------------------------------------------------------------------


def test_asarray_avoids_copies():
    t = ct.tensor([1.0, 2.0])
    assert ct.asarray(t) is t
    assert ct.asarray(t, dtype="float32") is t
    c = ct.asarray(t, copy=True)
    assert c is not t and not np.shares_memory(c.numpy(), t.numpy())
    a = np.arange(6.0).reshape(2, 3)[:, ::2]
    v = ct.asarray(a)
    assert np.shares_memory(v.numpy(), a)
    a[0, 0] = 42
    assert v.tolist()[0][0] == 42
    assert not np.shares_memory(ct.asarray(a, copy=True).numpy(), a)
    d = ct.asarray(a, dtype="float32")
    assert d.dtype == ct.float32 and not np.shares_memory(d.numpy(), a)
    assert ct.asarray(t, dtype="float64").dtype == ct.float64
    assert ct.asarray([1, 2]).dtype == ct.int64
    with pytest.raises(ValueError):
        ct.asarray(a, dtype="float32", copy=False)
    with pytest.raises(ValueError):
        ct.asarray([1, 2], copy=False)


def test_from_numpy_shares_memory():
    a = np.zeros((3, 4), np.int32)
    t = ct.from_numpy(a)
    a[1, 2] = 7
    assert t.tolist()[1][2] == 7
    t += 1
    assert a[0, 0] == 1
    assert t.numpy() is a
    r = ct.from_numpy(a[::-1, 1::2])
    assert r.strides == (-4, 2) and r.tolist() == a[::-1, 1::2].tolist()
    with pytest.raises(TypeError):
        ct.from_numpy([1, 2])
    with pytest.raises(TypeError):
        ct.from_numpy(np.zeros(2, np.float16))
    with pytest.raises(TypeError):
        ct.from_numpy(np.zeros(2, ">f4"))
    with pytest.raises(ValueError, match="multiple of the item size"):
        ct.from_numpy(np.lib.stride_tricks.as_strided(np.zeros(8, np.float64), (3,), (4,)))


# ---- filled tensors ---------------------------------------------------------------------------


@pytest.mark.parametrize("fn,value", [(ct.zeros, 0), (ct.ones, 1), (ct.empty, None)])
def test_filled(fn, value):
    for args, shape in [((2, 3), (2, 3)), (((2, 3),), (2, 3)), (([4],), (4,)), ((5,), (5,)), (((),), ()),
                        ((0, 3), (0, 3))]:
        t = fn(*args)
        assert t.shape == shape and t.dtype == ct.float32
        if value is not None:
            assert (t.numpy() == value).all()
    assert fn(2, dtype="int32").dtype == ct.int32
    assert fn(2, requires_grad=True).requires_grad
    assert fn(ct.tensor([2, 3])).shape == (2, 3)
    assert fn(shape=(2, 1)).shape == (2, 1)  # the standard's keyword
    with pytest.raises(TypeError):
        fn()  # the standard has no default shape


def test_full():
    assert ct.full((2, 2), 1.5).dtype == ct.float32
    assert ct.full((2,), 7).dtype == ct.int64
    assert ct.full(3, True).dtype == ct.bool
    assert ct.full(3, 2.5, dtype="float64").tolist() == [2.5] * 3
    assert ct.full((2,), 1.9, dtype="int32").tolist() == [1, 1]
    assert ct.full((2,), np.float64(1)).dtype == ct.float64
    assert ct.full((2, 2), ct.tensor(3.0)).tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert ct.full((), 4).shape == ()
    with pytest.raises(OverflowError):
        ct.full((2,), 2**40, dtype="int32")
    with pytest.raises(OverflowError):
        ct.full((2,), 256, dtype="uint8")


@pytest.mark.parametrize("fn", [ct.zeros_like, ct.ones_like, ct.empty_like])
def test_like(fn):
    src = ct.from_numpy(np.zeros((3, 4), np.int32).T)
    t = fn(src)
    assert t.shape == (4, 3) and t.dtype == ct.int32 and t.is_contiguous()
    assert fn(src, dtype="float64").dtype == ct.float64
    assert fn(ct.zeros(2), requires_grad=True).requires_grad
    assert ct.full_like(src, 5).tolist() == [[5] * 3] * 4
    assert ct.full_like(src, 2.5, dtype="float32").tolist() == [[2.5] * 3] * 4
    assert ct.zeros_like(ct.tensor(1.5)).shape == ()


def test_shape_errors():
    with pytest.raises(ValueError, match="too big"):
        ct.zeros((2**40, 2**40))
    with pytest.raises(ValueError, match="too big"):
        ct.empty(2**40, 2**40)
    with pytest.raises(ValueError, match="too big"):
        ct.ones((2**62, 4))
    with pytest.raises(ValueError, match="too big"):
        ct.full((2**32, 2**32), 1)
    with pytest.raises(ValueError, match="negative"):
        ct.zeros(-1)
    with pytest.raises(ValueError, match="negative"):
        ct.ones((2, -3))
    with pytest.raises(ValueError, match="negative"):
        ct.empty(3, -1)
    with pytest.raises(TypeError):
        ct.zeros(2.5)
    with pytest.raises(TypeError):
        ct.zeros((2, "3"))


# ---- ranges ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [(5,), (0,), (-3,), (2, 7), (7, 2), (7, 2, -1), (10, -10, -3), (0, 10, 3),
                                  (-5, 5, 2), (3, 3)])
def test_arange_int(args):
    t = ct.arange(*args)
    assert t.dtype == ct.int64
    np.testing.assert_array_equal(t.numpy(), np.arange(*args))


@pytest.mark.parametrize("args", [(5.0,), (0.0, 1.0, 0.1), (1, 2, 0.25), (2.5, -1.0, -0.5), (0, 1.3, 0.1),
                                  (1.0, 1.0), (-1e3, 1e3, 7.5), (0.5, 3)])
def test_arange_float(args):
    t = ct.arange(*args)
    assert t.dtype == ct.float32
    want = np.arange(*args, dtype=np.float64).astype(np.float32)
    assert t.shape == want.shape
    np.testing.assert_allclose(t.numpy(), want, rtol=1e-6, atol=1e-6)


def test_arange_dtypes_and_errors():
    assert ct.arange(4, dtype="float64").tolist() == [0.0, 1.0, 2.0, 3.0]
    assert ct.arange(4, dtype="uint8").dtype == ct.uint8
    assert ct.arange(0, 1, 0.25, dtype="float64").tolist() == [0.0, 0.25, 0.5, 0.75]
    assert ct.arange(np.int32(3)).dtype == ct.int64
    assert ct.arange(3.0, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="step"):
        ct.arange(0, 5, 0)
    with pytest.raises(ValueError):
        ct.arange(0, float("inf"))
    with pytest.raises(ValueError):
        ct.arange(float("nan"))
    with pytest.raises(ValueError, match="too big"):
        ct.arange(0, 2**62, 1e-10)


@pytest.mark.parametrize("args", [(0, 1, 5), (0, 1, 1), (0, 1, 0), (-3, 7, 11), (5, -5, 4), (0, 1e-3, 100)])
def test_linspace(args):
    t = ct.linspace(*args)
    assert t.dtype == ct.float32
    np.testing.assert_allclose(t.numpy(), np.linspace(*args).astype(np.float32), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ct.linspace(*args, endpoint=False).numpy(), np.linspace(*args, endpoint=False),
                               rtol=1e-6, atol=1e-9)


def test_linspace_dtype_and_errors():
    t = ct.linspace(0, 1, 3, dtype="float64")
    assert t.dtype == ct.float64 and t.tolist() == [0.0, 0.5, 1.0]
    assert ct.linspace(0, 10, 5, dtype="int64").tolist() == [0, 2, 5, 7, 10]
    with pytest.raises(ValueError):
        ct.linspace(0, 1, -1)


@pytest.mark.parametrize("n,m,k", [(3, None, 0), (3, None, 1), (3, None, -1), (2, 4, 1), (4, 2, -1),
                                   (3, None, 5), (3, 2, -5), (0, None, 0), (1, 3, 2), (4, 6, -2)])
def test_eye(n, m, k):
    t = ct.eye(n, m, k=k)
    assert t.dtype == ct.float32
    np.testing.assert_array_equal(t.numpy(), np.eye(n, m, k=k))
    assert ct.eye(n, m, k=k, dtype="int32").tolist() == np.eye(n, m, k=k, dtype=np.int32).tolist()


@pytest.mark.parametrize("k", [2**63, -(2**63), 2**100, 7])
def test_eye_with_a_diagonal_beyond_the_matrix_is_zeros(k):
    for n, m in [(0, 0), (3, 2), (2, 5)]:
        t = ct.eye(n, m, k=k)
        assert t.shape == (n, m) and not t.numpy().any()
