"""Functions named by the Array API standard (ops/standard.py, the new element-wise
rows, device= and copy= keywords) against NumPy."""

import math

import corten as ct
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

floats = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                    elements=st.floats(-100, 100, allow_nan=False))


def _t(a):
    return ct.tensor(a, dtype=ct.float64) if np.asarray(a).dtype.kind == "f" else ct.tensor(a)


# ---- element-wise rows ------------------------------------------------------------

UNARY = {"tan": (-1.2, 1.2), "asin": (-1, 1), "acos": (-1, 1), "atan": (-9, 9), "sinh": (-5, 5),
         "cosh": (-5, 5), "asinh": (-9, 9), "acosh": (1, 9), "atanh": (-0.99, 0.99), "log2": (0.01, 9),
         "log10": (0.01, 9), "trunc": (-9, 9), "signbit": (-9, 9)}
BINARY = ["atan2", "hypot", "copysign", "logaddexp", "nextafter"]
SPECIAL = [0.0, -0.0, math.inf, -math.inf, math.nan, 1.0, -1.0, 0.5, -2.5, 1e308]


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_new_unary_against_numpy(name, dtype):
    lo, hi = UNARY[name]
    a = np.random.default_rng(0).uniform(lo, hi, (4, 6)).astype(dtype)
    for view in (a, a.T, a[:, ::2]):
        got = getattr(ct, name)(ct.from_numpy(np.ascontiguousarray(view))[...]).numpy()
        want = getattr(np, name)(view)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=2e-6 if dtype == "float32" else 1e-14)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_new_unary_special_values(name):
    a = np.array(SPECIAL)
    with np.errstate(all="ignore"):
        want = getattr(np, name)(a)
    got = getattr(ct, name)(ct.from_numpy(a)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-15)  # NaN and infinities exactly; libm's last bit may differ
    if want.dtype.kind == "f":  # signed zeros and infinities (a NaN's sign is unspecified)
        ok = ~np.isnan(want)
        np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(want[ok]))


@pytest.mark.parametrize("name", BINARY)
def test_new_binary_special_values(name):
    a, b = np.meshgrid(np.array(SPECIAL), np.array(SPECIAL))
    with np.errstate(all="ignore"):
        want = getattr(np, name)(a, b)
    got = getattr(ct, name)(ct.from_numpy(a), ct.from_numpy(b)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-15)
    ok = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(want[ok]))


@settings(max_examples=40, deadline=None)
@given(floats, st.sampled_from(BINARY), st.sampled_from(["float32", "float64"]))
def test_new_binary_against_numpy(a, name, dtype):
    a = a.astype(dtype)
    b = np.flip(a, -1).copy()
    got = getattr(ct, name)(ct.from_numpy(a), ct.from_numpy(b)[..., :1]).numpy()
    want = getattr(np, name)(a, b[..., :1])
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=3e-6 if dtype == "float32" else 1e-14, atol=1e-300)


def test_integer_inputs_compute_in_float32_and_trunc_keeps_ints():
    assert ct.atan2(ct.tensor([1]), ct.tensor([2])).dtype is ct.float32
    assert ct.trunc(ct.tensor([3, -2])).dtype is ct.int64
    assert ct.signbit(ct.tensor([-3, 0, 2])).tolist() == [True, False, False]
    assert ct.signbit(ct.tensor([True])).tolist() == [False]


# ---- manipulation ------------------------------------------------------------------


def test_permute_dims_unstack_matrix_transpose():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = ct.from_numpy(a)
    np.testing.assert_array_equal(ct.permute_dims(t, (2, 0, 1)).numpy(), np.permute_dims(a, (2, 0, 1)))
    for ax in (0, 1, -1):
        parts = ct.unstack(t, axis=ax)
        assert isinstance(parts, tuple) and len(parts) == a.shape[ax]
        for p, q in zip(parts, np.unstack(a, axis=ax), strict=True):
            np.testing.assert_array_equal(p.numpy(), q)
    np.testing.assert_array_equal(ct.matrix_transpose(t).numpy(), np.matrix_transpose(a))
    with pytest.raises(ValueError, match="0-d"):
        ct.unstack(ct.tensor(1.0))
    with pytest.raises(ValueError, match="at least 2 dimensions, got 1"):
        ct.matrix_transpose(ct.ones(3))
    with pytest.raises(ct.AxisError):
        ct.unstack(t, axis=3)


def test_broadcast_shapes_and_meshgrid():
    assert ct.broadcast_shapes((2, 1), (3,), (1, 1, 1)) == (1, 2, 3)
    with pytest.raises(ValueError):
        ct.broadcast_shapes((2,), (3,))
    x, y, z = np.arange(3.0), np.arange(4.0), np.arange(2.0)
    for indexing in ("xy", "ij"):
        got = ct.meshgrid(ct.from_numpy(x), ct.from_numpy(y), ct.from_numpy(z), indexing=indexing)
        want = np.meshgrid(x, y, z, indexing=indexing)
        assert len(got) == 3
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g.numpy(), w)
    assert ct.meshgrid(ct.from_numpy(x))[0].tolist() == x.tolist()
    with pytest.raises(ValueError, match="indexing"):
        ct.meshgrid(ct.from_numpy(x), indexing="xx")
    with pytest.raises(TypeError, match="one dtype"):
        ct.meshgrid(ct.ones(2), ct.tensor([1, 2]))


# ---- statistics and utility -----------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(floats, st.data())
def test_cumulative_sum_prod_include_initial(a, data):
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1))
    inc = data.draw(st.booleans())
    t = ct.from_numpy(a)
    for fn in ("cumulative_sum", "cumulative_prod"):
        got = getattr(ct, fn)(t, axis=axis, include_initial=inc).numpy()
        want = getattr(np, fn)(a, axis=axis, include_initial=inc)
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_cumulative_axis_rules_and_dtype():
    assert ct.cumulative_sum(ct.tensor([1, 2, 3])).tolist() == [1, 3, 6]
    assert ct.cumulative_sum(ct.tensor([1, 2]), include_initial=True).tolist() == [0, 1, 3]
    assert ct.cumulative_prod(ct.tensor([2, 3]), dtype=ct.float64).dtype is ct.float64
    with pytest.raises(ValueError, match="axis is required"):
        ct.cumulative_sum(ct.ones((2, 2)))


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), elements=st.integers(-2, 2)),
       st.data())
def test_count_nonzero_and_diff(a, data):
    axis = data.draw(st.none() | st.integers(-a.ndim, a.ndim - 1))
    keep = data.draw(st.booleans())
    got = ct.count_nonzero(ct.from_numpy(a), axis=axis, keepdims=keep)
    assert got.dtype is ct.int64
    np.testing.assert_array_equal(got.numpy(), np.count_nonzero(a, axis=axis, keepdims=keep))
    ax = -1 if axis is None else axis
    n = data.draw(st.integers(0, 3))
    np.testing.assert_array_equal(ct.diff(ct.from_numpy(a), axis=ax, n=n).numpy(), np.diff(a, axis=ax, n=n))


def test_diff_prepend_append():
    a = np.array([[1.0, 4.0, 9.0]])
    got = ct.diff(ct.from_numpy(a), prepend=ct.zeros((1, 1), dtype=ct.float64), append=ct.ones((1, 2),
                                                                                                dtype=ct.float64))
    np.testing.assert_array_equal(got.numpy(), np.diff(a, prepend=np.zeros((1, 1)), append=np.ones((1, 2))))
    with pytest.raises(ValueError, match="non-negative"):
        ct.diff(ct.ones(3), n=-1)


# ---- linear algebra, searching, sets ------------------------------------------------


def test_vecdot():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 1, 4))
    np.testing.assert_allclose(ct.vecdot(ct.from_numpy(a), ct.from_numpy(b)).numpy(), np.vecdot(a, b))
    z = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    np.testing.assert_allclose(ct.vecdot(ct.from_numpy(z), ct.from_numpy(z)).numpy(), np.vecdot(z, z))
    np.testing.assert_allclose(ct.vecdot(ct.from_numpy(a), ct.from_numpy(a), axis=-2).numpy(),
                               np.vecdot(a, a, axis=-2))
    with pytest.raises(ValueError, match="differ along axis -1"):
        ct.vecdot(ct.ones(3), ct.ones(4))
    with pytest.raises(ValueError, match="axis 0 must be negative"):
        ct.vecdot(ct.ones(3), ct.ones(3), axis=0)


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, st.integers(0, 8), elements=st.floats(-5, 5)),
       hnp.arrays(np.float64, st.integers(0, 6), elements=st.floats(-6, 6)), st.sampled_from(["left", "right"]))
def test_searchsorted(a, v, side):
    a = np.sort(a)
    got = ct.searchsorted(ct.from_numpy(a), ct.from_numpy(v), side=side)
    assert got.dtype is ct.int64
    np.testing.assert_array_equal(got.numpy(), np.searchsorted(a, v, side=side))
    with pytest.raises(ValueError, match="side"):
        ct.searchsorted(ct.from_numpy(a), ct.from_numpy(v), side="middle")


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=6), elements=st.integers(-3, 3)))
def test_unique_functions(a):
    t = ct.from_numpy(a)
    ua, na = ct.unique_all(t), np.unique_all(a)
    for field in ("values", "indices", "inverse_indices", "counts"):
        np.testing.assert_array_equal(getattr(ua, field).numpy(), getattr(na, field))
    uc = ct.unique_counts(t)
    np.testing.assert_array_equal(uc.counts.numpy(), np.unique_counts(a).counts)
    ui = ct.unique_inverse(t)
    np.testing.assert_array_equal(ui.inverse_indices.numpy(), np.unique_inverse(a).inverse_indices)
    np.testing.assert_array_equal(ct.unique_values(t).numpy(), np.sort(np.unique_values(a)))  # NumPy: any order


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=6),
                  elements=st.sampled_from([np.nan, -1.5, 0.0, 2.0, np.inf])))
def test_unique_functions_count_each_nan_apart(a):
    """The standard (and NumPy 2's unique_*): NaNs are distinct values."""
    t = ct.from_numpy(a)
    ua, na = ct.unique_all(t), np.unique_all(a)
    for field in ("values", "indices", "inverse_indices", "counts"):
        np.testing.assert_array_equal(getattr(ua, field).numpy(), getattr(na, field))
    np.testing.assert_array_equal(ct.unique_counts(t).counts.numpy(), np.unique_counts(a).counts)
    # which NaN gets which index is unspecified (NumPy's unique_inverse is not stable): the
    # inverse must rebuild x and give each NaN an index of its own
    ui = ct.unique_inverse(t)
    inv, vals = ui.inverse_indices.numpy(), ui.values.numpy()
    np.testing.assert_array_equal(vals[inv], a)
    assert len(set(inv[np.isnan(a)].tolist())) == int(np.isnan(a).sum())
    assert int(ct.unique_values(t).isnan().sum()) == int(np.isnan(a).sum())


# ---- keywords -----------------------------------------------------------------------


def test_device_keywords_and_astype_copy():
    for make in (lambda **k: ct.zeros(2, **k), lambda **k: ct.ones(2, **k), lambda **k: ct.empty(2, **k),
                 lambda **k: ct.full(2, 1.0, **k), lambda **k: ct.arange(3, **k), lambda **k: ct.eye(2, **k),
                 lambda **k: ct.linspace(0, 1, 3, **k), lambda **k: ct.asarray([1], **k),
                 lambda **k: ct.zeros_like(ct.ones(2), **k), lambda **k: ct.full_like(ct.ones(2), 2, **k)):
        assert make(device="cpu").device == "cpu"
        with pytest.raises(ValueError, match="not 'cuda'"):
            make(device="cuda")
    x = ct.ones(3)
    assert ct.astype(x, ct.float32, copy=False) is x
    assert ct.astype(x, ct.float32) is not x
    assert ct.astype(x, ct.float64, copy=False).dtype is ct.float64
    with pytest.raises(ValueError, match="not 'gpu'"):
        ct.astype(x, ct.float64, device="gpu")
    assert ct.positive(x) is not x and ct.positive(x).tolist() == [1, 1, 1]
    with pytest.raises(TypeError, match="bool"):
        ct.positive(ct.tensor([True]))


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=5), elements=st.integers(-4, 4)),
       hnp.arrays(np.int64, st.integers(0, 6), elements=st.integers(-4, 4)), st.booleans())
def test_isin(a, b, invert):
    got = ct.isin(ct.from_numpy(a), ct.from_numpy(b), invert=invert)
    assert got.dtype is ct.bool_ and got.shape == a.shape
    np.testing.assert_array_equal(got.numpy(), np.isin(a, b, invert=invert))


def test_isin_scalars_floats_and_errors():
    assert ct.isin(2, ct.tensor([1, 2])).item() is True
    assert ct.isin(ct.tensor([1.5, math.nan]), ct.tensor([math.nan, 1.5])).tolist() == [True, False]
    assert ct.isin(ct.tensor([1, 2]), 2).tolist() == [False, True]
    with pytest.raises(TypeError, match="at least one"):
        ct.isin(1, 2)


def test_standard_signature_details():
    x = ct.tensor([1.0, -2.0])
    c = ct.clip(x)
    assert c is not x and c.tolist() == x.tolist()
    assert isinstance(ct.meshgrid(x, x), tuple)
    a = np.arange(3.0)
    assert np.shares_memory(ct.from_dlpack(a).numpy(), a)
    assert not np.shares_memory(ct.from_dlpack(a, copy=True).numpy(), a)
    assert ct.from_dlpack(a, device="cpu").tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="not 'cuda'"):
        ct.from_dlpack(a, device="cuda")


def test_integer_sum_prod_dtype_and_vecdot_keep_the_dtype_asked():
    """sum/prod(dtype=uint8) return uint8 (the total wraps, as NumPy's); vecdot keeps the
    promoted dtype."""
    a = np.array([[200, 100, 7], [255, 1, 3]], np.uint8)
    t = ct.from_numpy(a)
    for fn in ("sum", "prod"):
        for dt in ("uint8", "int32"):
            got = getattr(ct, fn)(t, axis=1, dtype=dt)
            assert got.dtype == dt
            np.testing.assert_array_equal(got.numpy(), getattr(np, fn)(a, axis=1, dtype=dt))
    assert ct.sum(t).dtype is ct.int64  # no dtype: the default integer
    got = ct.vecdot(t, ct.from_numpy(a[::-1].copy()))
    assert got.dtype is ct.uint8
    np.testing.assert_array_equal(got.numpy(), np.vecdot(a, a[::-1]))
