"""The C++ kernels called directly with random, often wrong, arguments: random
dtypes, shapes, strides (negative, zero, read-only), index values far out of
range and garbage axes. Each call either raises ValueError/TypeError/IndexError
with a message that says what is wrong, or writes NumPy's result. Where the
rules are simple enough to restate here (gather, scatter, nonzero,
masked_select, count_nonzero, matmul) the test also predicts which of the two
must happen. Any out-of-bounds access is a crash here and an ASan report under
`make sanitize`.

Half of the draws build operands that fit together (the output shape the index
implies, a mask of the source's shape, the exact number of selected elements),
in every memory layout, so the success paths are exercised as often as the
error paths."""

import math
import os
import re
import warnings

import numpy as np
from corten import _C
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

N = {"ci": 300, "fuzz": 5000, "asan": 40}[os.environ.get("CORTEN_HYPOTHESIS_PROFILE", "ci")]
ERRORS = (ValueError, TypeError, IndexError, OverflowError)
DTYPES = [np.bool_, np.uint8, np.int32, np.int64, np.float32, np.float64]
LAYOUTS = ["plain", "plain", "reversed", "stepped", "transposed", "broadcast", "readonly"]
# True about one time in ten (st.integers(0, 9) == 0 would be far more often: hypothesis
# favours the ends of a range).
RARELY = st.sampled_from([False] * 9 + [True])
OUT_OF_BOUNDS = re.compile(r"index (-?\d+) is out of bounds for axis (-?\d+) with size (\d+)")


def _elements(dtype):
    if dtype.kind == "i":
        info = np.iinfo(dtype)
        return st.integers(int(info.min), int(info.max)) | st.integers(-6, 6)
    return None


def _laid_out(draw, shape, dtype, elements=None):
    """An array of `shape` and `dtype` in a random memory layout: C order, reversed,
    every other element, transposed memory, a broadcast view (repeated memory), or
    read-only."""
    dtype = np.dtype(dtype)
    elements = elements if elements is not None else _elements(dtype)
    how = draw(st.sampled_from(LAYOUTS))
    if how == "transposed":
        return draw(hnp.arrays(dtype, shape[::-1], elements=elements)).T
    if how == "reversed" and shape:
        return draw(hnp.arrays(dtype, shape, elements=elements))[::-1]
    if how == "stepped" and shape:
        return draw(hnp.arrays(dtype, shape[:-1] + (2 * shape[-1],), elements=elements))[..., ::2]
    if how == "broadcast" and shape:
        return np.broadcast_to(draw(hnp.arrays(dtype, (1,) + shape[1:], elements=elements)), shape)
    a = draw(hnp.arrays(dtype, shape, elements=elements))
    if how == "readonly":
        a.flags.writeable = False
    return a


@st.composite
def arrays(draw, dtype=None, max_dims=3, shape=None, min_dims=0):
    dtype = np.dtype(dtype or draw(st.sampled_from(DTYPES)))
    if shape is None:
        shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=4))
    return _laid_out(draw, shape, dtype)


def writable(a: np.ndarray) -> bool:
    """What the binding accepts as an output: writeable, and no two elements in one place."""
    repeats = a.size > 1 and any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape, strict=True))
    return a.flags.writeable and not repeats


def _assert_clear(e: BaseException) -> None:
    msg = str(e)
    assert isinstance(e, ERRORS), f"{type(e).__name__}: {msg}"
    assert len(msg) >= 15, f"unhelpful message: {type(e).__name__}({msg!r})"
    for junk in ("std::", "Unknown", "basic_string", "bad_alloc", "vector::"):
        assert junk not in msg, f"C++ internals leak into the message: {msg!r}"


FAILED = object()


def outcome(fn, *args, valid=None):
    """fn(*args); a raised error must be one of ERRORS with a clear message. With
    `valid` given, the call must succeed exactly when it is True. Returns the result,
    or FAILED."""
    try:
        r = fn(*args)
    except ERRORS as e:
        _assert_clear(e)
        assert valid is not True, f"a valid call raised {type(e).__name__}: {e}"
        event(f"raised {type(e).__name__}")
        return FAILED
    assert valid is not False, "an invalid call did not raise"
    event("result checked")
    return r


def _index_arrays(draw, shape_b, sizes):
    """One int64 index array of shape B per indexed axis: mostly in range, sometimes
    anywhere in int64."""
    out = []
    for n in sizes:
        near = st.integers(-(2**63), 2**63 - 1) if draw(RARELY) else st.integers(-n - 1, n)
        out.append(_laid_out(draw, shape_b, np.int64, elements=near))
    return out


def _in_range(idx, sizes) -> bool:
    return all(((i >= -n) & (i < n)).all() for i, n in zip(idx, sizes, strict=False))


def _check_out_of_bounds(e_msg, axes, base):
    """The message names a bad value, the caller's label of an indexed axis and its size."""
    m = OUT_OF_BOUNDS.search(e_msg)
    assert m, f"expected an out-of-bounds message, got {e_msg!r}"
    v, label, n = (int(g) for g in m.groups())
    assert (label, n) in {(a, base.shape[j]) for j, a in enumerate(axes)} and not -n <= v < n, e_msg


@st.composite
def index_case(draw):
    """(base, idx, axes, k, shape_b): base is the gathered-from / scattered-into array."""
    base = draw(arrays(min_dims=0 if draw(RARELY) else 1))
    if draw(RARELY):
        k = draw(st.integers(0, base.ndim + 1))  # maybe no index, or more than the dimensions
    else:
        k = draw(st.integers(1, max(base.ndim, 1)))
    shape_b = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4))
    sizes = [base.shape[j] if j < base.ndim else 3 for j in range(k)]
    idx = _index_arrays(draw, shape_b, sizes)
    if idx and draw(RARELY):  # one index of another shape
        idx[-1] = draw(arrays(dtype=np.int64, max_dims=2))
    if draw(RARELY):
        axes = draw(st.lists(st.integers(-70, 70) | st.integers(-(2**62), 2**62), max_size=3))
    else:
        axes = [int(a) for a in draw(st.permutations(range(k)))]
    return base, idx, axes, k, idx[0].shape if idx else shape_b


def _index_valid(base, idx, axes, k, shape_b, other, what_shape):
    return (
        1 <= k <= base.ndim
        and len(axes) == k
        and all(i.shape == shape_b for i in idx)
        and other.dtype == base.dtype
        and other.shape == what_shape
    )


@settings(max_examples=N)
@given(case=index_case(), data=st.data())
def test_gather(case, data):
    src, idx, axes, k, shape_b = case
    want_shape = shape_b + src.shape[k:]
    out = data.draw(arrays(dtype=src.dtype, shape=want_shape) if data.draw(st.booleans()) else arrays())
    shapes_ok = _index_valid(src, idx, axes, k, shape_b, out, want_shape) and writable(out)
    in_range = math.prod(shape_b) == 0 or _in_range(idx, src.shape[:k])
    try:
        _C.gather(src, idx, out, axes)
    except ERRORS as e:
        _assert_clear(e)
        assert not (shapes_ok and in_range), f"a valid gather raised {type(e).__name__}: {e}"
        event(f"raised {type(e).__name__}")
        if shapes_ok:
            assert isinstance(e, IndexError), e
            _check_out_of_bounds(str(e), axes, src)
        return
    assert shapes_ok and in_range, "an invalid gather did not raise"
    event("result checked")
    np.testing.assert_array_equal(out, src[tuple(idx)])


@settings(max_examples=N)
@given(case=index_case(), acc=st.booleans(), data=st.data())
def test_scatter(case, acc, data):
    dst, idx, axes, k, shape_b = case
    want_shape = shape_b + dst.shape[k:]
    values = data.draw(arrays(dtype=dst.dtype, shape=want_shape) if data.draw(st.booleans()) else arrays())
    shapes_ok = _index_valid(dst, idx, axes, k, shape_b, values, want_shape) and writable(dst)
    in_range = math.prod(shape_b) == 0 or _in_range(idx, dst.shape[:k])
    before = np.array(dst)
    try:
        _C.scatter(dst, idx, values, acc, axes)
    except ERRORS as e:
        _assert_clear(e)
        assert not (shapes_ok and in_range), f"a valid scatter raised {type(e).__name__}: {e}"
        event(f"raised {type(e).__name__}")
        if shapes_ok:
            assert isinstance(e, IndexError), e
            _check_out_of_bounds(str(e), axes, dst)
        np.testing.assert_array_equal(dst, before)  # every index is checked before anything is written
        return
    assert shapes_ok and in_range, "an invalid scatter did not raise"
    event("result checked")
    # In C order of the index: a repeated index keeps the last value, or the sum.
    want = before
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # integer wrap-around, inf - inf
        for b in np.ndindex(*shape_b):
            pos = tuple(int(i[b]) for i in idx)
            want[pos] = want[pos] + values[b] if acc else values[b]
    np.testing.assert_array_equal(dst, want)


def _maybe_off_by_one(draw, n):
    return max(0, n + draw(st.sampled_from([0, 0, 0, 1, -1])))


@settings(max_examples=N)
@given(x=arrays(), data=st.data())
def test_nonzero_and_count(x, data):
    count = int(np.count_nonzero(x))
    assert _C.count_nonzero(x) == count
    if data.draw(st.booleans()):
        out = data.draw(arrays(dtype=np.int64, shape=(_maybe_off_by_one(data.draw, count), x.ndim)))
    else:
        out = data.draw(arrays())
    valid = out.dtype == np.int64 and out.shape == (count, x.ndim) and writable(out)
    if outcome(_C.nonzero, x, out, valid=valid) is not FAILED:
        np.testing.assert_array_equal(out, np.argwhere(x).reshape(count, x.ndim))


@settings(max_examples=N)
@given(x=arrays(), data=st.data())
def test_masked_select(x, data):
    mask = data.draw(arrays(dtype=np.bool_, shape=x.shape) if data.draw(st.booleans()) else arrays())
    count = int(np.count_nonzero(mask)) if mask.dtype == np.bool_ else 0
    if data.draw(st.booleans()):
        out = data.draw(arrays(dtype=x.dtype, shape=(_maybe_off_by_one(data.draw, count),)))
    else:
        out = data.draw(arrays())
    valid = (mask.dtype == np.bool_ and mask.shape == x.shape and out.dtype == x.dtype
             and out.shape == (count,) and writable(out))
    if outcome(_C.masked_select, x, mask, out, valid=valid) is not FAILED:
        np.testing.assert_array_equal(out, x[mask])


def _cast_reference(x: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """x cast to dtype as C++ static_cast does, and where that is defined (float to
    integer of NaN, inf or out-of-range values is not)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = x.astype(dtype)
    defined = np.ones(x.shape, bool)
    if x.dtype.kind == "f" and dtype.kind in "iu":
        info = np.iinfo(dtype)
        with np.errstate(invalid="ignore"):
            defined = (x > float(info.min) - 1) & (x < float(info.max) + 1)
    return want, defined


@settings(max_examples=N)
@given(x=arrays(), data=st.data())
def test_copy_blocked(x, data):
    shape = x.shape if data.draw(st.booleans()) else data.draw(hnp.array_shapes(min_dims=0, max_dims=3,
                                                                                min_side=0, max_side=4))
    out = data.draw(arrays(shape=shape))
    try:
        np.broadcast_to(x, out.shape)
        valid = writable(out)
    except ValueError:
        valid = False
    if outcome(_C.copy_blocked, x, out, valid=valid) is not FAILED:
        want, defined = _cast_reference(np.broadcast_to(x, out.shape), out.dtype)
        np.testing.assert_array_equal(out[defined], want[defined])


@st.composite
def matmul_case(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    nd = draw(st.integers(2, 4))
    m, k, n = (draw(st.integers(0, 5)) for _ in range(3))
    batch = draw(hnp.array_shapes(min_dims=nd - 2, max_dims=nd - 2, min_side=0, max_side=3))
    a_batch = tuple(d if draw(st.booleans()) else 1 for d in batch)
    b_batch = tuple(d if draw(st.booleans()) else 1 for d in batch)
    small = st.floats(-100, 100, width=32) if dtype.kind == "f" else None
    elements = draw(st.sampled_from([small, None])) if dtype.kind == "f" else None
    a = _laid_out(draw, a_batch + (m, k), dtype, elements)
    b = _laid_out(draw, b_batch + (k, n), dtype, elements)
    out = _laid_out(draw, batch + (m, n), dtype, elements)
    return a, b, out


@settings(max_examples=N)
@given(case=matmul_case() | st.tuples(arrays(max_dims=4), arrays(max_dims=4), arrays(max_dims=4)),
       acc=st.booleans())
def test_matmul(case, acc):
    a, b, out = case
    nd = out.ndim
    valid = (
        a.ndim == b.ndim == nd >= 2
        and a.dtype == b.dtype == out.dtype
        and b.shape[-2] == a.shape[-1]
        and out.shape[-2:] == (a.shape[-2], b.shape[-1])
        and all(x in (o, 1) and y in (o, 1) for x, y, o in zip(a.shape[:-2], b.shape[:-2], out.shape[:-2],
                                                                 strict=True))
        and writable(out)
    )
    before = np.array(out)
    if outcome(_C.matmul, a, b, out, acc, valid=valid) is FAILED:
        return
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if out.dtype.kind != "f":
            want = np.matmul(a, b)  # integers wrap, bools are or-of-ands, as in C++
            want = np.broadcast_to(want + before if acc else want, out.shape)
            np.testing.assert_array_equal(out, want)
            return
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        want = np.broadcast_to(np.matmul(a64, b64) + (before if acc else 0), out.shape)
        bound = np.broadcast_to(np.matmul(np.abs(a64), np.abs(b64)) + (np.abs(before) if acc else 0), out.shape)
    eps = np.finfo(out.dtype).eps
    finite = np.isfinite(bound) & (bound < np.finfo(out.dtype).max / 16)
    err = np.abs(out.astype(np.float64) - want)
    ok = err <= 2 * (a.shape[-1] + 2) * eps * bound + np.finfo(out.dtype).tiny
    assert ok[finite].all(), (out[~ok & finite], want[~ok & finite])


# ---- element-wise and random kernels ------------------------------------------------

def _elementwise_reference(name, x, y, z, out):
    """(NumPy's result broadcast to out, the elements to compare, relative tolerance),
    or None when the call has no defined result to check."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if name == "copy":
            want, defined = _cast_reference(np.broadcast_to(x, out.shape), out.dtype)
            return want, defined, 0
        if name in ("where", "clip"):
            assert (name == "clip" or x.dtype == np.bool_) and y.dtype == z.dtype == out.dtype
            if name == "where":
                want = np.where(x, y, z)
            else:
                assert x.dtype == out.dtype
                want = np.minimum(np.maximum(x, y), z)
            return np.broadcast_to(want, out.shape), np.ones(out.shape, bool), 0
        if name in ("exp", "logical_not"):
            want = np.exp(x) if name == "exp" else np.logical_not(x)
            assert want.dtype == out.dtype, (name, x.dtype, out.dtype)
            return np.broadcast_to(want, out.shape), np.ones(out.shape, bool), 2e-6 if x.dtype == np.float32 else 0
        assert x.dtype == y.dtype, (name, x.dtype, y.dtype)
        if name == "pow" and x.dtype.kind in "iu":
            # NumPy refuses negative integer powers; corten's are left unchecked
            want = np.power(x, np.maximum(y, y.dtype.type(0)))
            defined = np.broadcast_to(np.broadcast_to(y, want.shape) >= 0, out.shape)
            return np.broadcast_to(want, out.shape), defined, 0
        want = getattr(np, name)(x, y)
        if name in ("floor_divide", "remainder") and x.dtype.kind in "iu":
            want = np.where(np.broadcast_to(y, want.shape) == 0, 0, want)  # NumPy's 0 for x // 0 and x % 0
        assert want.dtype == out.dtype, (name, x.dtype, out.dtype)
        tol = {"pow": 1e-5, "floor_divide": 1e-6, "remainder": 1e-6}.get(name, 0) if x.dtype.kind == "f" else 0
        return np.broadcast_to(want, out.shape), np.ones(out.shape, bool), tol


def _assert_close(got, want, defined, rtol):
    got, want = np.asarray(got)[defined], np.asarray(want)[defined]
    if rtol == 0 or got.dtype.kind != "f":
        np.testing.assert_array_equal(got, want)
    else:
        tiny = np.finfo(got.dtype).tiny
        np.testing.assert_allclose(got, want, rtol=rtol, atol=tiny * 4, equal_nan=True)


def _random_reference(name, out, lo, hi):
    o = np.asarray(out)
    if name == "random_uniform":
        assert o.dtype.kind == "f" and ((o >= lo) & (o < hi)).all()
    elif name == "random_integers":
        assert ((o >= lo) & (o < hi)).all() and (o == np.trunc(o)).all()
    else:
        assert ((o == 0) | (o == 1)).all()


@st.composite
def elementwise_case(draw):
    """Operands that mostly fit: one dtype and one shape (or a broadcastable part of
    it), each in a random layout; sometimes anything at all."""
    if draw(st.sampled_from([False, False, False, True])):
        return tuple(draw(arrays()) for _ in range(4))
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    ops = []
    for _ in range(3):
        sub = shape[draw(st.integers(0, len(shape))):]
        ops.append(draw(arrays(dtype=draw(st.sampled_from([dtype] * 3 + [np.bool_])), shape=sub)))
    out_dtype = draw(st.sampled_from([dtype] * 3 + DTYPES))
    return (*ops, draw(arrays(dtype=out_dtype, shape=shape)))


@settings(max_examples=N)
@given(case=elementwise_case(),
       name=st.sampled_from(["add", "pow", "floor_divide", "remainder", "equal", "exp", "logical_not", "copy",
                             "where", "clip", "random_uniform", "random_integers", "random_bernoulli"]))
def test_elementwise_and_random(case, name):
    x, y, z, out = case
    fn = getattr(_C, name)
    if name.startswith("random_"):
        lo, hi = {"random_uniform": (0.0, 1.0), "random_integers": (-5, 5), "random_bernoulli": (0, 2)}[name]
        args = (1, 2, 0.5) if name == "random_bernoulli" else (1, 2, lo, hi)
        if outcome(fn, out, *args) is not FAILED:
            first = np.array(out)
            _random_reference(name, out, lo, hi)
            fn(out, *args)  # the same stream position gives the same values
            np.testing.assert_array_equal(out, first)
        return
    if name in ("exp", "logical_not", "copy"):
        args = (x, out)
    elif name in ("where", "clip"):
        args = (x, y, z, out)
    else:
        args = (x, y, out)
    if outcome(fn, *args) is not FAILED:
        want, defined, rtol = _elementwise_reference(name, x, y, z, out)
        _assert_close(out, want, defined, rtol)
