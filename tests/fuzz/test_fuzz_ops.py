"""Random op sequences on random shapes, dtypes and strides, with NumPy as the oracle.

Two worlds are built from the same data: NumPy arrays, and corten tensors over a
separate copy of the same memory layout (strided, reversed, zero-size views).
Each step applies one op in both worlds: either both raise, or corten gives
NumPy's values and dtype. In-place ops run in both worlds too, so aliasing
between views is checked as well. Known, deliberate differences from NumPy
are listed in STRICTER and in the reference functions below.
"""

import os
import warnings

import corten as ct
import numpy as np
from corten.ops.table import BINARY_OPS, UNARY_OPS
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

N = {"ci": 250, "fuzz": 5000, "asan": 25}[os.environ.get("CORTEN_HYPOTHESIS_PROFILE", "ci")]
ERRORS = (ValueError, TypeError, IndexError, RuntimeError, OverflowError)
DTYPES = [np.bool_, np.uint8, np.int32, np.int64, np.float32, np.float64]
F32 = np.dtype(np.float32)

FLOAT_UNARY = [op.name for op in UNARY_OPS if op.kind == "float"]  # from the op table
OTHER_UNARY = [op.name for op in UNARY_OPS if op.kind != "float"]
BINARY = [op.name for op in BINARY_OPS]
# Corten rejects these for bool where NumPy computes something (int8 results, float16 ...).
STRICTER = {("floor_divide", "b"), ("remainder", "b"), ("pow", "b"), ("square", "b"), ("round", "b"),
            ("relu", "b")}
# The shifts take integers only (the Array API's rule), where NumPy shifts bools as int8.
STRICTER |= {(op.name, "b") for op in BINARY_OPS if op.kind == "integer"}


# ---- NumPy references (corten's dtype rules: int -> float gives float32) -----------

def ref_unary(name, a):
    if name in FLOAT_UNARY and a.dtype.kind in "biu":
        a = a.astype(F32)
    if name == "sigmoid":
        return (1 / (1 + np.exp(-a))).astype(a.dtype)
    if name == "softplus":
        return np.logaddexp(a.dtype.type(0), a)
    if name == "relu":
        if a.dtype.kind == "b":
            raise TypeError("relu of bool")
        return np.where(a != a, a, np.maximum(a, a.dtype.type(0)))
    if name == "round" and a.dtype.kind == "b":
        return a.copy()  # NumPy gives float16, which corten does not have
    if name == "bitwise_not" and a.dtype.kind == "b":
        return np.logical_not(a)
    return getattr(np, name)(a)


def ref_binary(name, a, b):
    d = np.promote_types(a.dtype, b.dtype)
    if name in ("divide", "atan2", "hypot", "copysign", "logaddexp", "nextafter") and d.kind in "biu":
        d = F32
    return getattr(np, name)(a.astype(d), b.astype(d))


# ---- building the two worlds ----------------------------------------------------


@st.composite
def strided_pair(draw):
    """(numpy view, corten view) with the same layout over separate memory."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
    if dtype.kind == "f":
        elements = st.floats(allow_nan=True, allow_infinity=True, width=dtype.itemsize * 8)
    else:
        elements = None
    base = draw(hnp.arrays(dtype, shape, elements=elements))
    view = base
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["slice", "transpose", "none"]))
        if kind == "slice" and view.ndim:
            idx = tuple(slice(draw(st.integers(-6, 6)), draw(st.integers(-6, 6)),
                              draw(st.sampled_from([1, 2, -1, -2, 3]))) for _ in range(view.ndim))
            view = view[idx]
        elif kind == "transpose":
            view = view.transpose(draw(st.permutations(range(view.ndim))))
    twin = base.copy()
    offset = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    if view.size:
        t_view = np.ndarray(view.shape, dtype, buffer=twin, offset=offset, strides=view.strides)
    else:
        t_view = np.empty(view.shape, dtype)
    return view, ct.from_numpy(t_view)


def scalar(draw_from):
    return draw_from(st.one_of(st.booleans(), st.integers(-300, 300), st.integers(-(2**70), 2**70),
                               st.floats(allow_nan=True, allow_infinity=True)))


# ---- comparing ----------------------------------------------------------------


def run(fn, *args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return fn(*args), None
        except ERRORS as e:
            return None, e


def check_same(got, want, what):
    got = np.asarray(got.numpy(force=True)) if isinstance(got, ct.Tensor) else np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    if want.dtype.kind == "f":
        tol = 2e-5 if want.dtype == F32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def compare(what, ct_fn, np_fn, stricter=False):
    got, ct_err = run(ct_fn)
    want, np_err = run(lambda: np.asarray(np_fn()))
    if np_err is not None:
        assert ct_err is not None, f"{what}: NumPy raised {np_err!r}, corten returned {got!r}"
        return None
    if ct_err is not None:
        assert stricter, f"{what}: corten raised {ct_err!r}, NumPy gave {want!r}"
        return None
    check_same(got, want, what)
    return got, want


def _kind(d):
    return np.dtype(d).kind if np.dtype(d).kind != "u" else "i"


# ---- the fuzz targets -------------------------------------------------------------


@settings(max_examples=N)
@given(pair=strided_pair(), name=st.sampled_from(FLOAT_UNARY + OTHER_UNARY))
def test_unary_on_strided_views(pair, name):
    a, t = pair
    compare(f"{name} {a.dtype}{a.shape}{a.strides}", lambda: getattr(ct, name)(t),
            lambda: ref_unary(name, a), (name, _kind(a.dtype)) in STRICTER)


@settings(max_examples=N)
@given(x=strided_pair(), y=strided_pair(), name=st.sampled_from(BINARY), data=st.data())
def test_binary_broadcasting_and_scalars(x, y, name, data):
    (a, t), (b, u) = x, y
    if data.draw(st.booleans()):  # make the shapes broadcast more often
        b = b.reshape(-1)[: a.shape[-1] if a.ndim else 1]
        u = ct.tensor(b)
    if data.draw(st.integers(0, 3)) == 0:
        s = scalar(data.draw)
        d = ct._dtype.scalar_result_type(t.dtype, s).np  # Python scalars are weak
        compare(f"{name} {a.dtype}{a.shape} scalar {s!r}", lambda: getattr(ct, name)(t, s),
                lambda: ref_binary(name, a.astype(d), np.array(s, d)), (name, _kind(d)) in STRICTER)
        return
    d = np.promote_types(a.dtype, b.dtype)
    compare(f"{name} {a.dtype}{a.shape}{a.strides} {b.dtype}{b.shape}{b.strides}",
            lambda: getattr(ct, name)(t, u), lambda: ref_binary(name, a, b), (name, _kind(d)) in STRICTER)


VIEW_OPS = ["T", "reshape_flat", "reshape_split", "broadcast", "permute"]
INPLACE = ["add", "subtract", "multiply", "divide", "maximum"]


@settings(max_examples=N)
@given(first=strided_pair(), data=st.data())
def test_op_sequences_with_views_and_inplace(first, data):
    """Views of views and in-place ops: after each step every live tensor in the
    pool still equals its NumPy twin, so aliasing is exercised too."""
    pool = [first]
    for step in range(data.draw(st.integers(1, 6))):
        kind = data.draw(st.sampled_from(["view", "unary", "binary", "inplace"]))
        res = one_step(kind, pool, data)
        if res is not None:
            pool.append((res[1], res[0]))
        for b, u in pool:  # nothing else changed behind our back
            check_same(u, b, f"pool after step {step} ({kind})")


def one_step(kind, pool, data):
    a, t = data.draw(st.sampled_from(pool))
    if kind == "view":
        op = data.draw(st.sampled_from(VIEW_OPS))
        if op == "T":
            return compare("T", lambda: t.T, lambda: a.T)
        if op == "reshape_flat":
            return compare("reshape(-1)", lambda: t.reshape(-1), lambda: a.reshape(-1))
        if op == "reshape_split":
            n = data.draw(st.sampled_from([1, 2, 3]))
            return compare("reshape(n,-1)", lambda: t.reshape(n, -1), lambda: a.reshape(n, -1))
        if op == "permute":
            perm = data.draw(st.permutations(range(a.ndim)))
            return compare("permute", lambda: t.permute(perm), lambda: a.transpose(perm))
        shape = (data.draw(st.integers(0, 3)),) + a.shape
        return compare("broadcast_to", lambda: t.broadcast_to(shape),
                       lambda: np.lib.stride_tricks.as_strided(a, shape, (0,) + a.strides))
    if kind == "unary":
        name = data.draw(st.sampled_from(FLOAT_UNARY + OTHER_UNARY))
        return compare(name, lambda: getattr(ct, name)(t), lambda: ref_unary(name, a),
                       (name, _kind(a.dtype)) in STRICTER)
    b, u = data.draw(st.sampled_from(pool))
    if kind == "binary":
        name = data.draw(st.sampled_from(BINARY))
        d = np.promote_types(a.dtype, b.dtype)
        return compare(name, lambda: getattr(ct, name)(t, u), lambda: ref_binary(name, a, b),
                       (name, _kind(d)) in STRICTER)
    inplace_step(data.draw(st.sampled_from(INPLACE)), a, t, b, u)
    return None


def inplace_step(name, a, t, b, u):
    """t op= u against a op= b, NumPy's same_kind casting; outputs that repeat
    memory (stride 0) must raise in corten (NumPy would write them racily)."""
    repeats = any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape, strict=True)) and a.size > 0
    got, ct_err = run(lambda: getattr(ct, name)(t, u, out=t))
    if repeats:
        assert ct_err is not None, f"in-place {name} into a broadcast view did not raise"
        return
    want, np_err = run(lambda: _np_inplace(name, a, b))
    if np_err is not None or ct_err is not None:
        assert (np_err is None) == (ct_err is None) or (name, _kind(a.dtype)) in STRICTER, \
            f"in-place {name}: numpy {np_err!r} corten {ct_err!r}"
        return
    check_same(t, a, f"in-place {name}")


def _np_inplace(name, a, b):
    r = ref_binary(name, a, b)
    if r.shape != a.shape:
        raise ValueError("output shape")
    if not np.can_cast(r.dtype, a.dtype, "same_kind"):
        raise TypeError("same_kind")
    a[...] = r
