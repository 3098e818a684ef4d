"""dtypes: spellings, equality, promotion (NumPy 2) and weak Python scalars."""

from __future__ import annotations

import pickle

import corten as ct
import numpy as np
import pytest
from corten._dtype import ALL_DTYPES, as_dtype, float_type_for, promote_types, scalar_result_type

NAMES = ["bool", "uint8", "int32", "int64", "float32", "float64", "complex64", "complex128"]


def test_public_dtypes():
    assert [d.name for d in ALL_DTYPES] == NAMES
    assert ct.bool is ct.bool_
    for name in NAMES:
        d = getattr(ct, name)
        assert d.name == name and d.np == np.dtype(name) and d.itemsize == np.dtype(name).itemsize
        assert repr(d) == f"corten.{name}"
        assert pickle.loads(pickle.dumps(d)) is d
    assert ct.float32.is_floating_point and not ct.int64.is_floating_point
    assert ct.int32.is_integer and ct.uint8.is_integer and not ct.bool.is_integer
    assert [d.kind for d in ALL_DTYPES] == ["b", "i", "i", "i", "f", "f", "c", "c"]
    assert ct.complex64.is_complex and not ct.float64.is_complex
    assert ct.complex64.real_dtype is ct.float32 and ct.complex128.real_dtype is ct.float64
    assert ct.float64.real_dtype is ct.float64


@pytest.mark.parametrize("name", NAMES)
def test_as_dtype_spellings(name):
    d = getattr(ct, name)
    assert as_dtype(d) is d
    assert as_dtype(name) is d
    assert as_dtype(np.dtype(name)) is d
    assert as_dtype(np.dtype(name).type) is d
    assert d == name and d == np.dtype(name) and d == np.dtype(name).type
    assert hash(d) == hash(as_dtype(name))


def test_as_dtype_aliases_and_errors():
    assert as_dtype(float) is ct.float32 and as_dtype(int) is ct.int64 and as_dtype(bool) is ct.bool
    assert as_dtype("double") is ct.float64 and as_dtype("long") is ct.int64
    assert as_dtype("float") is ct.float32
    assert as_dtype("bool_") is ct.bool and as_dtype("f4") is ct.float32 and as_dtype("<i8") is ct.int64
    assert as_dtype(complex) is ct.complex64 and as_dtype("c16") is ct.complex128
    for bad in ("float16", "int16", "complex256", np.int8, "nonsense", object, None.__class__):
        with pytest.raises(TypeError, match="unsupported dtype"):
            as_dtype(bad)
    assert (ct.float32 == "nonsense") is False
    assert ct.float32 != ct.float64


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("b", NAMES)
def test_promote_types_is_numpy2(a, b):
    want = np.promote_types(a, b)
    got = promote_types(as_dtype(a), as_dtype(b))
    assert got.np == want
    assert ct.promote_types(as_dtype(b), as_dtype(a)) is got
    ta, tb = ct.zeros(1, dtype=a), ct.zeros(1, dtype=b)
    assert ct.add(ta, tb).dtype is got  # ops use the same rule
    if got.kind != "c":
        assert ct.maximum(ta, tb).dtype is got


# (tensor dtype, Python scalar, result): the scalar changes the kind, never the precision.
# (A list, not a dict: True == 1 would merge keys.)
WEAK = [
    ("bool", True, "bool"), ("bool", 1, "int64"), ("bool", 1.5, "float32"),
    ("uint8", True, "uint8"), ("uint8", 1, "uint8"), ("uint8", 1.5, "float32"),
    ("int32", True, "int32"), ("int32", 1, "int32"), ("int32", 1.5, "float32"),
    ("int64", True, "int64"), ("int64", 1, "int64"), ("int64", 1.5, "float32"),
    ("float32", True, "float32"), ("float32", 1, "float32"), ("float32", 1.5, "float32"),
    ("float64", True, "float64"), ("float64", 1, "float64"), ("float64", 1.5, "float64"),
]


@pytest.mark.parametrize("name,value,want", WEAK)
def test_scalar_result_type(name, value, want):
    assert scalar_result_type(as_dtype(name), value).name == want
    assert (ct.zeros(2, dtype=name) * value).dtype.name == want
    assert (value * ct.zeros(2, dtype=name)).dtype.name == want
    with pytest.raises(TypeError):
        scalar_result_type(as_dtype(name), "x")


@pytest.mark.parametrize("name", NAMES)
def test_float_type_for(name):
    want = name if name.startswith(("float", "complex")) else "float32"
    assert float_type_for(as_dtype(name)).name == want
    assert ct.exp(ct.zeros(1, dtype=name)).dtype.name == want
    assert ct.divide(ct.ones(1, dtype=name), ct.ones(1, dtype=name)).dtype.name == want
