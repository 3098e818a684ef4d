"""Hostile inputs: one test per row of the table in docs/reliability.md.

Every call either gives NumPy's answer or raises a Python exception; nothing
may crash, hang, or return a silently wrong value.
"""

import gc
import math
import warnings

import corten as ct
import numpy as np
import pytest
from corten import _C
from corten.ops.table import BINARY_OPS, UNARY_OPS

HUGE = 2**40  # two of these overflow a 64-bit element count
CREATORS = [
    ("zeros", lambda s: ct.zeros(s)),
    ("ones", lambda s: ct.ones(s)),
    ("empty", lambda s: ct.empty(s)),
    ("full", lambda s: ct.full(s, 2.0)),
    ("reshape", lambda s: ct.zeros(4).reshape(s)),
    ("broadcast_to", lambda s: ct.zeros(1).broadcast_to(s)),
]


@pytest.mark.parametrize("name,make", CREATORS, ids=[c[0] for c in CREATORS])
def test_negative_dimensions(name, make):
    with pytest.raises(ValueError):
        make((2, -2))


@pytest.mark.parametrize("name,make", CREATORS, ids=[c[0] for c in CREATORS])
def test_dimensions_overflowing_64_bits(name, make):
    with pytest.raises(ValueError):
        make((HUGE, HUGE))
    with pytest.raises(ValueError):
        make((2**63, 2))


def test_creation_with_bad_scalars():
    with pytest.raises(ValueError):
        ct.eye(-1)
    with pytest.raises(ValueError):
        ct.eye(HUGE)
    with pytest.raises(ValueError):
        ct.arange(0, 2**70)
    with pytest.raises(ValueError):
        ct.arange(0, 1, 0)
    with pytest.raises(ValueError):
        ct.arange(0, math.inf)
    with pytest.raises(ValueError):
        ct.linspace(0, 1, -1)
    with pytest.raises((ValueError, MemoryError)):
        ct.linspace(0, 1, 2**62)
    with pytest.raises(TypeError):
        ct.zeros(2.5)
    with pytest.raises(TypeError):
        ct.zeros("3")


def test_data_that_is_not_numbers():
    deep = [1.0]
    for _ in range(100):
        deep = [deep]
    loop = []
    loop.append(loop)
    for data in (deep, loop, [1, [2, 3]], (x for x in range(3)), {1: 2}, {1, 2}, b"abc", ["a"], [None]):
        with pytest.raises((ValueError, TypeError)):
            ct.tensor(data)
    x = ct.ones(2)
    for other in ("a", None, [1, "a"], np.array([object(), 1]), np.zeros(2, np.complex256)):
        with pytest.raises(TypeError):
            x + other
    with pytest.raises(OverflowError):
        ct.ones(2, dtype="int64") + 2**64


def test_more_than_64_dimensions():
    with pytest.raises(ValueError):
        ct.zeros((1,) * 65)
    with pytest.raises(ValueError):
        ct.zeros(1).reshape((1,) * 65)
    with pytest.raises(ValueError):
        ct.tensor(np.zeros((1,) * 64)).broadcast_to((1,) * 65)


def test_reshape_to_the_wrong_size():
    x = ct.zeros((2, 3))
    for shape in [(4,), (7,), (-1, 4), (-1, -1), (-2, -3), (0,), (2, 3, 0)]:
        with pytest.raises(ValueError):
            x.reshape(shape)
    with pytest.raises(ValueError):
        ct.zeros((0, 3)).reshape(-1, 0)  # 0-size: -1 is ambiguous


def test_axes_out_of_range():
    x = ct.zeros((2, 3))
    for bad in [
        lambda: x.permute(0, 2), lambda: x.permute(0, 0), lambda: x.permute(0),
        lambda: x.swapaxes(0, 5), lambda: x.swapaxes(-3, 0), lambda: x.transpose(1, 2, 0),
        lambda: x.sum(axis=2), lambda: x.sum(axis=-3), lambda: x.sum(axis=(0, 0)),
        lambda: ct.zeros(()).sum(axis=1),
    ]:
        with pytest.raises((ValueError, IndexError)):
            bad()
    with pytest.raises(TypeError):
        x.sum(axis=1.0)


def test_integers_and_booleans_where_floats_are_needed():
    with pytest.raises(RuntimeError):
        ct.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError):
        ct.tensor([True]).requires_grad = True
    for op in (ct.bitwise_and, ct.bitwise_or, ct.bitwise_xor):
        with pytest.raises(TypeError):
            op(ct.tensor([1.0]), ct.tensor([2.0]))
    with pytest.raises(TypeError):
        ct.tensor([True]) - ct.tensor([False])
    with pytest.raises(TypeError):
        -ct.tensor([True])
    with pytest.raises(ValueError):
        ct.tensor([2]) ** ct.tensor([-1])
    assert (ct.zeros(0, dtype="int32") ** ct.tensor(-1, dtype="int32")).shape == (0,)  # nothing to raise for
    # float-valued functions of ints and bools give floats
    assert ct.sqrt(ct.tensor([4])).tolist() == [2.0]
    assert ct.exp(ct.tensor([False])).tolist() == [1.0]


UNARY = [op.name for op in UNARY_OPS if op.kind not in ("integral", "integer")]  # every op of the table
BINARY = [op.name for op in BINARY_OPS if op.kind not in ("integral", "integer")]
SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e300, -1e-310, 3.5]


def _specials(dtype):
    with np.errstate(over="ignore"):
        return np.array(SPECIALS, dtype)


def _np_unary(name, a):
    if name == "relu":
        return np.where(np.isnan(a), a, np.maximum(a, 0))
    if name == "sigmoid":
        return 1 / (1 + np.exp(-a))
    if name == "softplus":
        return np.logaddexp(0, a)
    return getattr(np, name)(a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", UNARY)
def test_nan_and_inf_through_unary_ops(name, dtype):
    a = _specials(dtype)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = _np_unary(name, a)
        got = getattr(ct, name)(ct.tensor(a)).numpy()
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", BINARY)
def test_nan_and_inf_through_binary_ops(name, dtype):
    a = _specials(dtype)
    x, y = np.meshgrid(a, a)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = getattr(np, name)(x, y)
        if name == "floor_divide":  # the standard's infinities, where NumPy keeps Python's floor(-1 / inf) = -1
            want = np.where(np.isinf(x) | np.isinf(y), x / y, want)
        got = getattr(ct, name)(ct.tensor(x), ct.tensor(y)).numpy()
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=0)


def test_nan_and_inf_through_clip_and_where():
    a = np.array(SPECIALS)
    np.testing.assert_array_equal(ct.clip(ct.tensor(a), -1.0, 2.0).numpy(), np.clip(a, -1.0, 2.0))
    got = ct.where(ct.tensor(a > 0), ct.tensor(a), 0.0).numpy()
    np.testing.assert_array_equal(got, np.where(a > 0, a, 0.0))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8])
def test_integer_overflow_wraps_like_numpy(dtype):
    info = np.iinfo(dtype)
    a = np.array([info.min, info.max, info.max, -1 if info.min < 0 else 7, 0], dtype)
    b = np.array([-1 if info.min < 0 else 3, 1, info.max, info.min, 0], dtype)
    with np.errstate(all="ignore"):
        for name in ["add", "subtract", "multiply", "floor_divide", "remainder", "maximum", "minimum"]:
            got = getattr(ct, name)(ct.tensor(a), ct.tensor(b)).numpy()
            np.testing.assert_array_equal(got, getattr(np, name)(a, b), err_msg=name)
        for name in ["negative", "abs", "square", "sign"]:
            np.testing.assert_array_equal(getattr(ct, name)(ct.tensor(a)).numpy(), getattr(np, name)(a), name)
        np.testing.assert_array_equal((ct.tensor(a) ** ct.tensor(np.full(5, 63, dtype))).numpy(), a ** 63)


def test_float_to_int_casts_of_nan_and_inf_do_not_crash():
    x = ct.tensor([np.nan, np.inf, -np.inf, 1e30, -1e30, 2.9])
    for d in ("int32", "int64", "uint8", "bool"):
        y = x.astype(d)
        assert y.dtype == d and y.tolist()[-1] == (True if d == "bool" else 2)


def test_reductions_of_empty_tensors():
    assert ct.zeros((0,)).sum().item() == 0.0
    assert ct.zeros((0, 3)).sum(axis=0).tolist() == [0.0, 0.0, 0.0]
    assert ct.zeros((3, 0)).sum(axis=1).tolist() == [0.0, 0.0, 0.0]
    assert ct.zeros((0, 3), dtype="int32").sum().dtype == np.sum(np.zeros((0, 3), np.int32)).dtype


def test_python_floats_keep_their_precision_for_a_requested_dtype():
    assert ct.tensor([0.1], dtype="float64").tolist() == [0.1]
    assert ct.tensor(0.1, dtype=ct.float64).item() == 0.1
    assert ct.tensor([16777217.0], dtype="int64").tolist() == [16777217]
    assert ct.tensor([0.1]).dtype == "float32"  # the default stays float32


def test_numpy_scalars_of_types_corten_lacks():
    # inside Python lists they become the nearest corten dtype...
    assert ct.tensor([False, np.float16(1.5)]).dtype == "float32"
    assert ct.tensor([np.int8(-3), 1]).dtype == "int64" and ct.tensor([np.uint16(7)]).tolist() == [7]
    assert ct.tensor([np.uint64(5)]).tolist() == [5]
    with pytest.raises(OverflowError):
        ct.tensor([np.uint64(2**64 - 1)])
    # ...on their own they are arrays of an unsupported dtype
    for x in (np.float16(2.5), np.int8(3), np.uint64(5)):
        with pytest.raises(TypeError):
            ct.tensor(x)


def test_sum_of_small_integer_types_stays_a_corten_dtype():
    assert ct.tensor([200, 100], dtype="uint8").sum().item() == 300
    assert ct.tensor([True, True]).sum().dtype == "int64"
    assert ct.zeros((2, 0), dtype="uint8").sum(axis=0).dtype == "int64"


def test_zero_size_through_elementwise_and_views():
    x = ct.zeros((0, 3))
    assert (x + ct.ones(3)).shape == (0, 3)
    assert ct.exp(x.T).shape == (3, 0)
    assert x.reshape(3, 0, 5).shape == (3, 0, 5)
    assert ct.zeros((2, 0)).broadcast_to((4, 2, 0)).shape == (4, 2, 0)


def test_inplace_with_output_overlapping_input():
    a = np.arange(16, dtype=np.float64).reshape(4, 4)
    t = ct.tensor(a)
    t += t.T
    a += a.T
    np.testing.assert_array_equal(t.numpy(), a)
    # a[1:] += a[:-1] through views of one buffer
    b = np.arange(10, dtype=np.float32)
    u = ct.tensor(b)
    hi, lo = u._make_view((9,), (1,), 1), u._make_view((9,), (1,), 0)
    hi += lo
    b[1:] += b[:-1]
    np.testing.assert_array_equal(u.numpy(), b)
    # reversed view written into its own memory
    c = np.arange(7, dtype=np.int64)
    w = ct.tensor(c)
    ct.add(w._make_view((7,), (-1,), 6), 1, out=w)
    c[:] = c[::-1] + 1
    np.testing.assert_array_equal(w.numpy(), c)


@pytest.mark.parametrize("dtype", ["int32", "float64", "bool"])
def test_reversed_inputs_through_every_kernel_family(dtype):
    # negative byte strides once met an unsigned sizeof in the kernels (UB caught by UBSan)
    a = np.arange(1, 9).astype(dtype).reshape(2, 4)[::-1, ::-1]
    t = ct.from_numpy(a)
    np.testing.assert_array_equal(t.astype("float64").numpy(), a.astype(np.float64))
    np.testing.assert_array_equal(ct.isfinite(t).numpy(), np.isfinite(a))
    np.testing.assert_array_equal(ct.where(ct.from_numpy(a > 2), t, t).numpy(), a)
    if dtype != "bool":
        np.testing.assert_array_equal(ct.clip(t, 2, 5).numpy(), np.clip(a, 2, 5))
        np.testing.assert_array_equal(ct.negative(t).numpy(), -a)
    out = ct.zeros(16, dtype=dtype)._make_view((2, 4), (-8, -2), 15)
    ct.logical_not(t, out=out) if dtype == "bool" else ct.abs(t, out=out)
    np.testing.assert_array_equal(out.numpy(), np.logical_not(a) if dtype == "bool" else np.abs(a))


def test_out_that_is_not_contiguous():
    base = ct.zeros((4, 6))
    out = base._make_view((4, 3), (6, 2), 0)
    ct.add(ct.ones((4, 3)), 2.0, out=out)
    assert base.numpy()[:, ::2].tolist() == [[3.0] * 3] * 4 and base.numpy()[:, 1::2].sum() == 0


def test_out_of_the_wrong_shape_or_dtype():
    x = ct.ones((2, 3))
    with pytest.raises(ValueError):
        ct.add(x, x, out=ct.zeros((3, 2)))
    with pytest.raises(ValueError):
        ct.add(x, x, out=ct.zeros((1, 3)))
    with pytest.raises(TypeError):
        ct.add(x, x, out=ct.zeros((2, 3), dtype="int32"))
    with pytest.raises(TypeError):
        ct.exp(x, out=ct.zeros((2, 3), dtype="int64"))
    o64 = ct.zeros((2, 3), dtype="float64")  # same_kind cast is allowed, as in NumPy
    assert ct.add(x, x, out=o64).tolist() == [[2.0] * 3] * 2


def test_out_that_is_a_broadcast_view_raises():
    target = ct.zeros(3).broadcast_to((4, 3))
    with pytest.raises(ValueError):
        ct.add(ct.ones((4, 3)), 1.0, out=target)
    with pytest.raises(ValueError):
        target += 1
    with pytest.raises(ValueError):
        ct.exp(ct.ones((4, 3)), out=target)


def test_out_that_overlaps_itself_raises():
    buf = np.zeros(10, np.float32)
    out = ct.from_numpy(np.lib.stride_tricks.as_strided(buf, (3, 3), (4, 4)))
    with pytest.raises(ValueError):
        ct.add(ct.ones((3, 3)), 1.0, out=out)
    assert buf.sum() == 0


def test_matmul_into_a_broadcast_or_overlapping_view_raises():
    target = ct.zeros(2).broadcast_to((3, 2))
    with pytest.raises(ValueError):
        ct.matmul(ct.ones((3, 4)), ct.ones((4, 2)), out=target)
    assert target.tolist() == [[0.0, 0.0]] * 3
    buf = np.zeros(8)
    with pytest.raises(ValueError):
        ct.matmul(ct.ones((3, 3), dtype="float64"), ct.ones((3, 3), dtype="float64"),
                  out=ct.from_numpy(np.lib.stride_tricks.as_strided(buf, (3, 3), (16, 8))))
    assert buf.sum() == 0


def test_matmul_edge_values():
    big = ct.full((2, 2), 2**62, dtype="int64")
    want = np.full((2, 2), 2**62, np.int64) @ np.full((2, 2), 4, np.int64)
    np.testing.assert_array_equal((big @ ct.full((2, 2), 4, dtype="int64")).numpy(), want)  # wraps
    nan = (ct.tensor([[np.nan, 1.0]]) @ ct.tensor([[0.0], [np.inf]])).numpy()
    assert np.isnan(nan).all()
    assert (ct.ones((2, 0)) @ ct.ones((0, 3))).tolist() == [[0.0] * 3] * 2
    for a, b in [((3, 4), (5, 2)), ((), (3, 3)), ((2, 3, 4), (3, 4, 2))]:
        with pytest.raises(ValueError):
            ct.ones(a) @ ct.ones(b)
    x = ct.arange(9.0).reshape(3, 3)
    ct.matmul(x, x, out=x)  # output is an input: as if the inputs were copied
    np.testing.assert_array_equal(x.numpy(), np.arange(9.0).reshape(3, 3) @ np.arange(9.0).reshape(3, 3))


def test_indexing_out_of_range_and_garbage():
    a = ct.ones((3, 4))
    for idx in (3, -4, 2**63, (0, 0, 0), (..., ...), "a", 1.0, ct.tensor([0, 5]), ct.tensor([True, False])):
        with pytest.raises(IndexError):
            a[idx]
    with pytest.raises(ValueError):
        a[::0]
    with pytest.raises(IndexError):
        a[5] = 1.0
    with pytest.raises(ValueError):
        a[0] = ct.ones(5)
    assert a[2**70:].shape == (0, 4)
    y = ct.arange(5.0)
    y[1:] = y[:-1]  # overlapping assignment reads before it writes, as NumPy
    assert y.tolist() == [0.0, 0.0, 1.0, 2.0, 3.0]
    w = ct.arange(5.0)
    w[1:] += w[:-1]
    assert w.tolist() == [0.0, 1.0, 3.0, 5.0, 7.0]


def test_read_only_memory_is_never_written():
    a = np.arange(4.0)
    a.flags.writeable = False
    t = ct.from_numpy(a)
    with pytest.raises(ValueError):
        t += 1
    with pytest.raises(ValueError):
        ct.exp(t, out=t)
    assert a.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_dlpack_export_outlives_the_tensor():
    t = ct.arange(1000, dtype="float64")
    a = np.from_dlpack(t)
    del t
    gc.collect()
    big = [np.ones(1000) for _ in range(100)]  # reuse freed memory if it was freed
    assert a[999] == 999.0 and len(big) == 100


def test_dlpack_source_cannot_be_resized_under_a_tensor():
    a = np.arange(8.0)
    t = ct.from_dlpack(a)
    with pytest.raises(ValueError):
        a.resize(1000)  # refcheck sees the export
    del a
    gc.collect()
    assert t.sum().item() == 28.0
    b = np.arange(8.0)
    u = ct.from_numpy(b)
    with pytest.raises(ValueError):
        b.resize(1000)
    assert u.tolist() == list(range(8))


def test_backward_twice():
    x = ct.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError):
        y.backward()
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert x.grad.tolist() == [2.0 + 4.0, 4.0 + 8.0]


def test_bool_bytes_other_than_0_and_1():
    raw = np.array([0, 1, 2, 255], np.uint8).view(bool)
    with pytest.raises(ValueError):
        ct.from_numpy(raw)
    t = ct.tensor(raw)  # a copy is normalised
    assert t.numpy().view(np.uint8).tolist() == [0, 1, 1, 1]
    assert ct.logical_not(t).tolist() == [True, False, False, False]
    zero_d = ct.tensor(np.array(2, np.uint8).view(bool))
    assert zero_d.shape == () and zero_d.astype("float64").item() == 1.0


def test_unaligned_and_odd_strided_numpy_arrays():
    buf = np.zeros(41, np.uint8)
    unaligned = buf[1:41].view(np.float64)
    with pytest.raises(ValueError):
        ct.from_numpy(unaligned)
    assert ct.tensor(unaligned).tolist() == [0.0] * 5  # a copy is aligned
    rec = np.zeros(3, dtype=[("x", "<f4"), ("y", "u1")])["x"]
    with pytest.raises(ValueError):
        ct.from_numpy(rec)
    with pytest.raises(TypeError):
        ct.from_numpy(np.zeros(3, ">f4"))
    with pytest.raises(TypeError):
        ct.from_numpy(np.zeros(3, np.float16))


def test_set_num_threads_bounds():
    old = ct.get_num_threads()
    try:
        for bad in (0, -1):
            with pytest.raises(ValueError):
                ct.set_num_threads(bad)
        ct.set_num_threads(10**6)  # capped, not an attempt to start a million threads
        assert ct.get_num_threads() <= 1024
        assert (ct.ones(100_000) + 1).sum().item() == 200_000
    finally:
        ct.set_num_threads(old)


# ---- the C++ kernels called directly with garbage --------------------------------

F32 = np.zeros((3, 3), np.float32)


def _ro():
    a = np.zeros((3, 3), np.float32)
    a.flags.writeable = False
    return a


def _unaligned():
    return np.zeros(40, np.uint8)[1:37].view(np.float32)


GARBAGE = {
    "mixed input dtypes": lambda: _C.add(F32, F32.astype(np.float64), F32.copy()),
    "wrong output dtype": lambda: _C.add(F32, F32, np.zeros((3, 3))),
    "predicate into float": lambda: _C.isnan(F32, F32.copy()),
    "unsupported dtype for op": lambda: _C.sqrt(np.zeros(3, np.int64), np.zeros(3, np.int64)),
    "input does not broadcast": lambda: _C.add(F32, np.zeros(4, np.float32), F32.copy()),
    "input has more dims": lambda: _C.add(np.zeros((2, 3, 3), np.float32), F32, F32.copy()),
    "read-only output": lambda: _C.exp(F32, _ro()),
    "broadcast output": lambda: _C.exp(F32, np.broadcast_to(np.zeros(3, np.float32), (3, 3))),
    "writable stride-0 output": lambda: _C.exp(
        F32, np.lib.stride_tricks.as_strided(np.zeros(3, np.float32), (3, 3), (0, 4), writeable=True)),
    "self-overlapping output": lambda: _C.add(
        F32, F32, np.lib.stride_tricks.as_strided(np.zeros(9, np.float32), (3, 3), (4, 4))),
    "unaligned input": lambda: _C.exp(_unaligned(), np.zeros(9, np.float32)),
    "unaligned output": lambda: _C.exp(np.zeros(9, np.float32), _unaligned()),
    "strides not a multiple": lambda: _C.copy(np.zeros(3, "f4,u1")["f0"], np.zeros(3, np.float32)),
    "big-endian": lambda: _C.copy(np.zeros(3, ">f8"), np.zeros(3)),
    "float16": lambda: _C.copy(np.zeros(3, np.float16), np.zeros(3)),
    "complex": lambda: _C.copy(np.zeros(3, np.complex128), np.zeros(3)),
    "strings": lambda: _C.copy(np.array(["ab"]), np.zeros(1)),
    "objects": lambda: _C.copy(np.array([object()]), np.zeros(1)),
    "None": lambda: _C.add(None, F32, F32.copy()),
    "too few arguments": lambda: _C.add(F32, F32),
    "where with float condition": lambda: _C.where(F32, F32, F32, F32.copy()),
    "where with mixed values": lambda: _C.where(F32 > 0, F32, F32.astype(np.float64), F32.copy()),
    "clip of bools": lambda: _C.clip(*(np.zeros(3, bool),) * 4),
    "clip with mixed bounds": lambda: _C.clip(F32, np.float64(0.0) * np.ones(1), F32, F32.copy()),
    "matmul into a broadcast view": lambda: _C.matmul(
        F32, F32, np.lib.stride_tricks.as_strided(np.zeros(3, np.float32), (3, 3), (0, 4), writeable=True),
        False),
    "matmul of 1-d": lambda: _C.matmul(np.zeros(3, np.float32), F32, F32.copy(), False),
    "matmul mixed dtypes": lambda: _C.matmul(F32, F32.astype(np.float64), F32.copy(), False),
    "gather with an out-of-range index": lambda: _C.gather(
        F32, [np.array([5])], np.zeros((1, 3), np.float32), [0]),
    "gather with more index arrays than dims": lambda: _C.gather(
        F32, [np.array([0])] * 3, np.zeros((1,), np.float32), [0, 1, 2]),
    "gather with float indices": lambda: _C.gather(F32, [np.array([0.0])], np.zeros((1, 3), np.float32), [0]),
    "scatter with a negative index": lambda: _C.scatter(F32.copy(), [np.array([-9])], np.zeros(3, np.float32),
                                                        False, [0]),
    "scatter into a broadcast view": lambda: _C.scatter(
        np.lib.stride_tricks.as_strided(np.zeros(3, np.float32), (3, 3), (0, 4), writeable=True),
        [np.array([0])], np.zeros(3, np.float32), False, [0]),
    "nonzero into a too small output": lambda: _C.nonzero(np.ones(4, bool), np.zeros((1, 1), np.int64)),
    "masked_select with a wrong mask": lambda: _C.masked_select(
        F32, np.ones(2, bool), np.zeros(9, np.float32)),
    "thread count overflow": lambda: _C.set_num_threads(2**40),
}


@pytest.mark.parametrize("name", list(GARBAGE))
def test_kernels_called_directly_with_garbage(name):
    with pytest.raises((ValueError, TypeError, IndexError)):
        GARBAGE[name]()


def test_kernel_with_65_dimensional_views_through_as_strided():
    # NumPy caps arrays at 64 dimensions; the kernels' own limit matches it.
    a = np.zeros((1,) * 64, np.float32)
    out = np.empty_like(a)
    _C.exp(a, out)
    assert out.reshape(-1)[0] == 1.0


# ---- random -------------------------------------------------------------------------


def test_random_with_hostile_arguments():
    from corten import random as cr

    for bad in (lambda: cr.rand(2, -1), lambda: cr.randn(HUGE, HUGE), lambda: cr.randint(0, 5, (-1,)),
                lambda: cr.randint(5, 5), lambda: cr.randint(0, 300, (2,), dtype="uint8"),
                lambda: cr.bernoulli_mask((2,), float("nan")), lambda: cr.bernoulli_mask((2,), 1.5),
                lambda: cr.manual_seed(2**64), lambda: cr.randperm(-1),
                lambda: cr.uniform_(ct.zeros(3), float("nan"), 1.0),
                lambda: cr.normal_(ct.zeros(3), 0.0, -1.0)):
        with pytest.raises(ValueError):
            bad()
    for bad in (lambda: cr.rand(3, dtype="int32"), lambda: cr.randint(0, 5, dtype="float32")):
        with pytest.raises(TypeError):
            bad()


def test_random_fills_into_hostile_outputs():
    from corten import random as cr

    with pytest.raises(ValueError):
        cr.uniform_(ct.zeros(3).broadcast_to((4, 3)))
    a = np.zeros(4)
    a.flags.writeable = False
    with pytest.raises(ValueError):
        cr.normal_(ct.from_numpy(a))
    assert a.tolist() == [0.0] * 4
    with pytest.raises((ValueError, TypeError)):
        cr.uniform_(ct.zeros(3, dtype="int32"))
    strided = ct.zeros(8, dtype="float64")._make_view((4,), (-2,), 7)
    cr.uniform_(strided, 2.0, 3.0)
    assert all(2.0 <= v < 3.0 for v in strided.tolist())


def test_random_full_int64_range():
    from corten import random as cr

    x = cr.randint(-(2**63), 2**63 - 1, (1000,))
    assert x.dtype == "int64" and len(set(x.tolist())) == 1000
    with pytest.raises((ValueError, TypeError, OverflowError)):
        cr.randint(-(2**63), 2**63, (4,))  # high - 1 fits, high does not: refused, not wrapped
