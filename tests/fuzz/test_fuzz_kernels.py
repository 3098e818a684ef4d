"""The C++ kernels called directly with random, mostly wrong, arguments: random
dtypes, shapes, strides (negative, zero, read-only), index values far out of
range and garbage axes. The binding and kernels must validate everything and
raise ValueError/TypeError/IndexError; any out-of-bounds access is a crash here
and an ASan report under `make sanitize`."""

import os

import numpy as np
from corten import _C
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

N = {"ci": 300, "fuzz": 5000, "asan": 40}[os.environ.get("CORTEN_HYPOTHESIS_PROFILE", "ci")]
ERRORS = (ValueError, TypeError, IndexError, OverflowError)
DTYPES = [np.bool_, np.uint8, np.int32, np.int64, np.float32, np.float64]


@st.composite
def arrays(draw, dtype=None, max_dims=3):
    dtype = np.dtype(dtype or draw(st.sampled_from(DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=4))
    if dtype.kind == "i":
        elements = st.integers(-(2**31) if dtype.itemsize == 4 else -(2**63),
                               2**31 - 1 if dtype.itemsize == 4 else 2**63 - 1) | st.integers(-6, 6)
    else:
        elements = None
    a = draw(hnp.arrays(dtype, shape, elements=elements))
    how = draw(st.sampled_from(["plain", "plain", "reversed", "stepped", "transposed", "broadcast",
                                "readonly"]))
    if how == "reversed" and a.ndim:
        a = a[::-1]
    elif how == "stepped" and a.ndim:
        a = np.concatenate([a, a], axis=-1)[..., ::2]
    elif how == "transposed":
        a = a.T
    elif how == "broadcast":
        a = np.broadcast_to(a, (draw(st.integers(0, 3)),) + a.shape)
    elif how == "readonly":
        a.flags.writeable = False
    return a


def call(fn, *args):
    try:
        fn(*args)
    except ERRORS:
        pass


axes_lists = st.lists(st.integers(-70, 70) | st.integers(-(2**62), 2**62), max_size=3)


@settings(max_examples=N)
@given(src=arrays(), idx=st.lists(arrays(dtype=np.int64, max_dims=2), max_size=3), out=arrays(),
       axes=axes_lists)
def test_gather(src, idx, out, axes):
    call(_C.gather, src, idx, out, axes)


@settings(max_examples=N)
@given(dst=arrays(), idx=st.lists(arrays(dtype=np.int64, max_dims=2), max_size=3), values=arrays(),
       acc=st.booleans(), axes=axes_lists)
def test_scatter(dst, idx, values, acc, axes):
    call(_C.scatter, dst, idx, values, acc, axes)


@settings(max_examples=N)
@given(x=arrays(), mask=arrays(), out=arrays(), which=st.sampled_from(["nonzero", "masked_select", "count",
                                                                        "copy_blocked"]))
def test_selection_kernels(x, mask, out, which):
    if which == "nonzero":
        call(_C.nonzero, x, out)
    elif which == "masked_select":
        call(_C.masked_select, x, mask, out)
    elif which == "count":
        call(_C.count_nonzero, x)
    else:
        call(_C.copy_blocked, x, out)


@settings(max_examples=N)
@given(a=arrays(), b=arrays(), out=arrays(), acc=st.booleans())
def test_matmul(a, b, out, acc):
    call(_C.matmul, a, b, out, acc)


@settings(max_examples=N)
@given(x=arrays(), y=arrays(), z=arrays(), out=arrays(),
       name=st.sampled_from(["add", "pow", "floor_divide", "remainder", "equal", "exp", "logical_not", "copy",
                             "where", "clip", "random_uniform", "random_integers", "random_bernoulli"]))
def test_elementwise_and_random(x, y, z, out, name):
    fn = getattr(_C, name)
    if name in ("exp", "logical_not", "copy"):
        call(fn, x, out)
    elif name in ("where", "clip"):
        call(fn, x, y, z, out)
    elif name == "random_uniform":
        call(fn, out, 1, 2, 0.0, 1.0)
    elif name == "random_integers":
        call(fn, out, 1, 2, -5, 5)
    elif name == "random_bernoulli":
        call(fn, out, 1, 2, 0.5)
    else:
        call(fn, x, y, out)
