"""The Array API standard's namespace pieces: version, inspection, dtype functions, device."""

import math

import corten as ct
import numpy as np
import pytest
from corten._dtype import ALL_DTYPES
from hypothesis import given, settings
from hypothesis import strategies as st

KIND_NAMES = ("bool", "signed integer", "unsigned integer", "integral", "real floating", "complex floating",
              "numeric")


def _np_isdtype(d, kind):
    return np.isdtype(d.np, kind) if isinstance(kind, str) else d.np == kind.np


def test_version_and_namespace():
    assert ct.__array_api_version__ == "2025.12"
    x = ct.zeros(3)
    assert x.__array_namespace__() is ct
    for v in ("2021.12", "2022.12", "2023.12", "2024.12", "2025.12"):
        assert x.__array_namespace__(api_version=v) is ct
    with pytest.raises(ValueError, match="unsupported Array API version '2019.01'"):
        x.__array_namespace__(api_version="2019.01")


def test_constants():
    assert ct.e == math.e and ct.pi == math.pi and ct.inf == math.inf and math.isnan(ct.nan)
    assert ct.newaxis is None
    assert ct.zeros(2, 3)[:, ct.newaxis].shape == (2, 1, 3)


def test_device():
    x = ct.ones(2)
    assert x.device == "cpu"
    assert x.to_device("cpu") is x
    assert x.to_device(x.device) is x
    with pytest.raises(ValueError, match="not 'cuda'"):
        x.to_device("cuda")
    with pytest.raises(ValueError, match="stream"):
        x.to_device("cpu", stream=1)


def test_namespace_info():
    info = ct.__array_namespace_info__()
    caps = info.capabilities()
    assert caps["boolean indexing"] is True and caps["data-dependent shapes"] is True
    assert isinstance(caps["max dimensions"], int)
    assert info.default_device() == "cpu" and info.devices() == ("cpu",)
    dd = info.default_dtypes()
    assert dd["real floating"] is ct.float32 and dd["integral"] is ct.int64 and dd["indexing"] is ct.int64
    assert dd["complex floating"] is ct.complex64
    assert info.default_dtypes(device="cpu") == dd
    with pytest.raises(ValueError, match="not 'gpu'"):
        info.default_dtypes(device="gpu")
    assert set(info.dtypes()) == {d.name for d in ALL_DTYPES}
    assert info.dtypes(kind="real floating") == {"float32": ct.float32, "float64": ct.float64}
    assert info.dtypes(kind="bool") == {"bool": ct.bool_}
    assert set(info.dtypes(kind=("bool", "unsigned integer"))) == {"bool", "uint8"}
    for name, d in info.dtypes(kind="numeric").items():
        assert d.name == name and d.kind != "b"


def test_dtype_objects_equality_and_hash():
    for a in ALL_DTYPES:
        for b in ALL_DTYPES:
            assert (a == b) is (a is b)
            assert (a != b) is (a is not b)
        assert hash(a) == hash(ct.zeros(1, dtype=a.name).dtype)
        assert {a: 1}[ct.zeros(1, dtype=a).dtype] == 1
        assert a == a.np and a == a.name


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(ALL_DTYPES),
       st.one_of(st.sampled_from(KIND_NAMES), st.sampled_from(ALL_DTYPES),
                 st.lists(st.one_of(st.sampled_from(KIND_NAMES), st.sampled_from(ALL_DTYPES)), min_size=1,
                          max_size=3).map(tuple)))
def test_isdtype_against_numpy(d, kind):
    kinds = kind if isinstance(kind, tuple) else (kind,)
    expected = any(_np_isdtype(d, k) for k in kinds)
    out = ct.isdtype(d, kind)
    assert type(out) is bool and out == expected


def test_isdtype_errors():
    with pytest.raises(ValueError, match="unknown kind 'floating'"):
        ct.isdtype(ct.float32, "floating")
    with pytest.raises(TypeError, match="expected a corten dtype"):
        ct.isdtype("float32", "numeric")
    with pytest.raises(TypeError, match="kind must be"):
        ct.isdtype(ct.float32, 3)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(ALL_DTYPES), min_size=1, max_size=4), st.booleans())
def test_result_type_against_numpy(dtypes, as_tensors):
    args = [ct.zeros(2, dtype=d) if as_tensors else d for d in dtypes]
    expected = np.result_type(*[d.np for d in dtypes])
    assert ct.result_type(*args).np == expected


def test_result_type_scalars_are_weak():
    assert ct.result_type(ct.float32, 1.5) is ct.float32
    assert ct.result_type(ct.int32, 3) is ct.int32
    assert ct.result_type(ct.bool_, 3) is ct.int64
    assert ct.result_type(ct.int32, 1.0) is ct.float32
    assert ct.result_type(ct.uint8, True, ct.int32) is ct.int32
    with pytest.raises(ValueError, match="at least one tensor or dtype"):
        ct.result_type(1, 2.0)
    with pytest.raises(ValueError, match="at least one tensor or dtype"):
        ct.result_type()
    with pytest.raises(TypeError, match="unsupported dtype"):
        ct.result_type("float16")


@pytest.mark.parametrize("a", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("b", ALL_DTYPES, ids=str)
def test_can_cast_follows_promotion(a, b):
    assert ct.can_cast(a, b) is (np.promote_types(a.np, b.np) == b.np)
    assert ct.can_cast(ct.zeros(1, dtype=a), b) is ct.can_cast(a, b)


@pytest.mark.parametrize("d", [ct.float32, ct.float64], ids=str)
def test_finfo(d):
    for arg in (d, ct.ones(1, dtype=d), "float32" if d is ct.float32 else np.float64):
        fi = ct.finfo(arg)
        ref = np.finfo(d.np)
        assert fi.bits == ref.bits and fi.eps == float(ref.eps) and fi.max == float(ref.max)
        assert fi.min == float(ref.min) and fi.smallest_normal == float(ref.smallest_normal)
        assert fi.dtype is d and all(type(v) is float for v in (fi.eps, fi.max, fi.min, fi.smallest_normal))
    with pytest.raises(TypeError, match="finfo: expected a floating-point dtype, got int32"):
        ct.finfo(ct.int32)


@pytest.mark.parametrize("d", [ct.uint8, ct.int32, ct.int64], ids=str)
def test_iinfo(d):
    for arg in (d, ct.ones(1, dtype=d)):
        ii = ct.iinfo(arg)
        ref = np.iinfo(d.np)
        assert (ii.bits, ii.min, ii.max) == (ref.bits, ref.min, ref.max) and ii.dtype is d
        assert type(ii.max) is int and type(ii.min) is int
    with pytest.raises(TypeError, match="iinfo: expected an integer dtype, got float32"):
        ct.iinfo(ct.float32)
    with pytest.raises(TypeError, match="iinfo: expected an integer dtype, got bool"):
        ct.iinfo(ct.bool_)


def test_dtype_equality_with_other_objects_is_false():
    class Stub:
        def __getattr__(self, name):
            raise AssertionError("never looked at")

    for other in (object(), None, 3, Stub(), "a, b: c", "1 passing example, 0 failing"):
        assert (ct.float32 == other) is False and (ct.float32 != other) is True
    assert ct.float32 in [ct.int32, ct.float32] and Stub() not in [ct.int32, ct.float32]
