"""Fuzzing the paths that read outside data: tensor() from nested Python data,
from_numpy/from_dlpack of odd arrays, and raw bytes reinterpreted as arrays.
Each input either raises a Python exception or gives a tensor equal to it."""

import os
import warnings

import corten as ct
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

N = {"ci": 300, "fuzz": 5000, "asan": 30}[os.environ.get("CORTEN_HYPOTHESIS_PROFILE", "ci")]
ERRORS = (ValueError, TypeError, IndexError, RuntimeError, OverflowError)
CORTEN_DTYPES = {np.dtype(d) for d in (np.bool_, np.uint8, np.int32, np.int64, np.float32, np.float64, np.complex64,
                                        np.complex128)}

leaf = st.one_of(
    st.booleans(), st.integers(-(2**65), 2**65), st.floats(allow_nan=True, allow_infinity=True),
    st.none(), st.text(max_size=2), st.complex_numbers(max_magnitude=10),
    st.sampled_from([np.int8(3), np.uint16(7), np.float16(1.5), np.float32(2.5), np.int64(-4)]),
)


def nested(max_leaves=30):
    """Nested lists and tuples, regular or ragged, of mixed leaves."""
    regular = st.integers(0, 3).flatmap(
        lambda d: hnp.array_shapes(min_dims=d, max_dims=d, min_side=0, max_side=3).flatmap(
            lambda shape: _filled(shape)))
    ragged = st.recursive(leaf, lambda kids: st.lists(kids, max_size=3) | st.tuples(kids, kids),
                          max_leaves=max_leaves)
    return st.one_of(regular, ragged)


def _filled(shape):
    kind = st.sampled_from([st.booleans(), st.integers(-100, 100), st.floats(width=32), leaf])
    n = int(np.prod(shape))

    def build(flat):
        return np.array(flat, dtype=object).reshape(shape).tolist() if shape else flat[0]

    return kind.flatmap(lambda el: st.lists(el, min_size=max(n, 1), max_size=max(n, 1)).map(
        lambda flat: build(flat[:n] if shape else flat)))


def _quiet(fn):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn()


@settings(max_examples=N)
@given(data=nested(), dtype=st.sampled_from([None, "bool", "uint8", "int32", "int64", "float32", "float64"]))
def test_tensor_from_nested_python_data(data, dtype):
    try:
        t = _quiet(lambda: ct.tensor(data, dtype=dtype))
    except ERRORS:
        return
    assert t.dtype.np in CORTEN_DTYPES
    want = _quiet(lambda: np.array(data).astype(t.dtype.np))  # NumPy must agree it is an array of numbers
    assert t.shape == want.shape
    got = t.numpy()
    if got.dtype.kind == "f":
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)])
    else:
        np.testing.assert_array_equal(got, want)
    (t + t).numpy()  # and the kernels can use it


ODD_DTYPES = ["<f4", ">f4", ">i8", "<i8", "f2", "i1", "u2", "c8", "?", "u1", "<i4", ">f8", "<f8", "u8",
              "M8[s]"]


@st.composite
def odd_arrays(draw):
    dtype = np.dtype(draw(st.sampled_from(ODD_DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    a = draw(hnp.arrays(dtype, shape)) if dtype.kind != "M" else np.zeros(shape, dtype)
    how = draw(st.sampled_from(["plain", "reversed", "broadcast", "readonly", "stepped", "unaligned",
                                "bytes"]))
    if how == "reversed" and a.ndim:
        a = a[::-1]
    elif how == "broadcast":
        a = np.broadcast_to(a, (draw(st.integers(0, 3)),) + a.shape)
    elif how == "readonly":
        a.flags.writeable = False
    elif how == "stepped" and a.ndim:
        a = a[..., ::2]
    elif how == "unaligned" and a.itemsize > 1:
        buf = np.zeros(a.nbytes + a.itemsize, np.uint8)
        a = buf[1: 1 + a.nbytes].view(a.dtype).reshape(a.shape)
    elif how == "bytes":  # random bytes reinterpreted: NaN payloads, bool bytes other than 0/1
        raw = draw(st.binary(min_size=a.nbytes, max_size=a.nbytes))
        a = np.frombuffer(raw, dtype=a.dtype).reshape(a.shape) if a.nbytes else a
    return a


def _equal(t, a):
    got, want = t.numpy(force=True), np.asarray(a)
    if want.dtype.kind == "b" and want.size:
        want = want.view(np.uint8) != 0
    np.testing.assert_array_equal(got.astype(want.dtype) if got.dtype != want.dtype else got, want)


@settings(max_examples=N)
@given(a=odd_arrays(), how=st.sampled_from(["from_dlpack", "from_numpy", "tensor", "asarray"]))
def test_importing_odd_numpy_arrays(a, how):
    fn = {"from_dlpack": ct.from_dlpack, "from_numpy": ct.from_numpy, "tensor": ct.tensor,
          "asarray": ct.asarray}[how]
    try:
        t = _quiet(lambda: fn(a))
    except (*ERRORS, BufferError):
        return
    assert t.dtype.np in CORTEN_DTYPES
    _equal(t, a)
    wide = "complex128" if t.dtype.kind == "c" else "float64"
    r = _quiet(lambda: ct.exp(t.astype(wide)) if t.size else t)  # the kernels read it safely
    assert r.shape == t.shape
    if how in ("from_dlpack", "from_numpy") and t.size:
        assert np.shares_memory(t.numpy(force=True), a)
        if not t.numpy(force=True).flags.writeable:
            try:
                t += t
            except ERRORS:
                pass
            else:
                raise AssertionError("wrote into read-only memory")


@settings(max_examples=N)
@given(raw=st.binary(max_size=64), dtype=st.sampled_from(sorted(str(d) for d in CORTEN_DTYPES)),
       op=st.sampled_from(["logical_not", "isnan", "negative", "abs", "sign", "astype_f", "astype_b", "sum"]))
def test_raw_bytes_through_kernels(raw, dtype, op):
    d = np.dtype(dtype)
    n = len(raw) // d.itemsize
    a = np.frombuffer(raw[: n * d.itemsize], dtype=d).copy()
    t = ct.tensor(a)  # copies, normalising bool bytes
    fns = {"logical_not": ct.logical_not, "isnan": ct.isnan, "negative": ct.negative, "abs": ct.abs,
           "sign": ct.sign, "astype_f": lambda x: x.astype("float64"), "astype_b": lambda x: x.astype("bool"),
           "sum": lambda x: x.sum()}
    try:
        r = _quiet(lambda: fns[op](t))
    except ERRORS:
        return
    if r.dtype == "bool":  # every bool a kernel writes is a proper 0 or 1
        assert set(np.unique(r.numpy().view(np.uint8)).tolist()) <= {0, 1}


# ---- files: IDX datasets and checkpoints ----------------------------------------------


@st.composite
def idx_bytes(draw):
    """Mostly well-formed IDX headers over random, often wrong-sized, payloads."""
    code = draw(st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0x07, 0xFF]))
    dims = draw(st.lists(st.integers(0, 6) | st.integers(0, 2**32 - 1), max_size=4))
    head = bytes([0, 0, code, len(dims)]) + b"".join(int(d).to_bytes(4, "big") for d in dims)
    payload = draw(st.binary(max_size=200))
    return draw(st.sampled_from([head + payload, head[: draw(st.integers(0, len(head)))], payload]))


@settings(max_examples=N)
@given(data=idx_bytes(), gz=st.booleans())
def test_idx_reader_on_random_files(tmp_path_factory, data, gz):
    import gzip

    from corten.datasets import DatasetError, read_idx

    p = tmp_path_factory.mktemp("idx") / "f"
    p.write_bytes(gzip.compress(data) if gz else data)
    try:
        a = read_idx(p)
    except DatasetError:
        return
    assert a.dtype.isnative and a.nbytes == len(data) - 4 - 4 * a.ndim


@settings(max_examples=N)
@given(cut=st.integers(0, 400),
       flip=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=4))
def test_checkpoint_loader_on_damaged_files(tmp_path_factory, cut, flip):
    import pytest

    pytest.importorskip("safetensors")
    d = tmp_path_factory.mktemp("ckpt")
    good = d / "good.safetensors"
    ct.save({"w": ct.ones((3, 4)), "b": ct.zeros(4, dtype="int64"), "s": ct.tensor(2.5)}, good)
    raw = bytearray(good.read_bytes())
    for pos, val in flip:
        if pos < len(raw):
            raw[pos] = val
    bad = d / "bad.safetensors"
    bad.write_bytes(bytes(raw[: len(raw) - cut] if cut else raw))
    try:
        loaded = ct.load(bad)
    except (ValueError, RuntimeError):
        return
    for t in loaded.values():  # whatever loads is a usable tensor
        assert t.dtype.np in CORTEN_DTYPES
        _quiet(lambda t=t: (t + t).numpy())
