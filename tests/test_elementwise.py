"""Element-wise ops against NumPy: every op, every dtype pair, broadcasting,
non-contiguous inputs, Python scalars, out=, in-place forms and their errors.

Where corten deliberately differs from NumPy the expected value encodes
corten's rule (see `expected_binary_dtype` / `expected_unary_dtype`):
  * float-valued functions (divide, sqrt, exp, ...) of integer or bool inputs
    give float32 (NumPy gives float64, or float16 for bool/uint8);
  * a Python float with an integer/bool tensor gives float32 (NumPy: float64);
  * subtract/floor_divide/remainder/pow on bool, and negative/sign/square/relu
    on bool, raise TypeError (NumPy computes some of them in int8);
  * floor/ceil/round of integers keep the integer dtype.
"""

from __future__ import annotations

import warnings

import corten as ct
import numpy as np
import pytest
from corten.ops.table import BINARY_OPS, UNARY_OPS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The op lists come from the op table (corten/ops/table.py): a new row is tested here.
BINARY = [op.name for op in BINARY_OPS]
ARITH = [op.name for op in BINARY_OPS if op.kind in ("any", "numeric", "float")]
FLOAT_BINARY = [op.name for op in BINARY_OPS if op.kind == "float"]  # divide, atan2, hypot, ...
INEXACT_BINARY = (*FLOAT_BINARY, "pow", "floor_divide", "remainder")
COMPARE = [op.name for op in BINARY_OPS if op.kind == "to_bool" and not op.name.startswith("logical_")]
LOGICAL = [op.name for op in BINARY_OPS if op.kind == "to_bool" and op.name.startswith("logical_")]
BITWISE = [op.name for op in BINARY_OPS if op.kind == "integral"]
SHIFTS = [op.name for op in BINARY_OPS if op.kind == "integer"]

FLOAT_UNARY = [op.name for op in UNARY_OPS if op.kind == "float"]
PREDICATES = [op.name for op in UNARY_OPS if op.kind == "to_bool"]
NO_BOOL_UNARY = [op.name for op in UNARY_OPS if op.kind == "numeric"]
UNARY = [op.name for op in UNARY_OPS if op.kind != "integral"]


# ---- reference implementations and dtype rules ---------------------------------------


def np_sigmoid(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def np_relu(x):
    return np.where(np.isnan(x), x, np.maximum(x, 0)).astype(x.dtype)


NP_UNARY = {"sigmoid": np_sigmoid, "relu": np_relu, "softplus": lambda x: np.logaddexp(0, x)}


def np_fn(name):
    return NP_UNARY.get(name) or getattr(np, name)


def promoted(da: str, db: str) -> np.dtype:
    return np.promote_types(np.dtype(da), np.dtype(db))


def expected_binary_dtype(op: str, d: np.dtype) -> np.dtype | type:
    """Result dtype for two tensors whose promoted dtype is d (TypeError: rejected)."""
    if op in COMPARE or op in LOGICAL:
        return np.dtype(bool)
    if op in FLOAT_BINARY:
        return d if d.kind == "f" else np.dtype(np.float32)
    if op in BITWISE and d.kind == "f":
        return TypeError
    if op in SHIFTS and d.kind in "bf":
        return TypeError
    if d == np.bool_ and op in [o.name for o in BINARY_OPS if o.kind == "numeric"]:
        return TypeError
    return d


def expected_unary_dtype(op: str, d: np.dtype) -> np.dtype | type:
    if op in FLOAT_UNARY:
        return d if d.kind == "f" else np.dtype(np.float32)
    if op in PREDICATES:
        return np.dtype(bool)
    if d == np.bool_ and op in NO_BOOL_UNARY:
        return TypeError
    return d


def reference_binary(op: str, a: np.ndarray, b: np.ndarray, out_dtype: np.dtype) -> np.ndarray:
    """NumPy's answer computed in corten's compute dtype."""
    compute = out_dtype if op in FLOAT_BINARY else promoted(a.dtype.name, b.dtype.name)
    a, b = a.astype(compute), b.astype(compute)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if op == "pow" and compute.kind in "iu":
            b = np.abs(b) % 8  # caller ensured non-negative exponents; keep it exact
        # at least 1-D: NumPy's 0-d float32 power takes a scalar path that gives
        # pow(-inf, 0.5) = nan, where its array path (and C99) gives inf
        shape = np.broadcast_shapes(a.shape, b.shape)
        r = getattr(np, op)(np.atleast_1d(a), np.atleast_1d(b)).reshape(shape)
        if op == "floor_divide" and compute.kind == "f":
            # the standard's special cases where NumPy keeps Python's: inf // finite is a
            # signed inf (NumPy: NaN), finite // inf a signed zero (NumPy: -1 for -1 // inf)
            r = np.where(np.isinf(a) | np.isinf(b), np.divide(a, b), r)
    return np.asarray(r).astype(out_dtype)


def reference_unary(op: str, x: np.ndarray, out_dtype: np.dtype) -> np.ndarray:
    if op in FLOAT_UNARY:
        x64 = x.astype(out_dtype).astype(np.float64)  # corten converts to the float dtype first
        with np.errstate(all="ignore"):
            return np.asarray(np_fn(op)(x64)).astype(out_dtype)
    if op in ("floor", "ceil", "round") and x.dtype.kind != "f":
        return x.copy()
    with np.errstate(all="ignore"):
        return np.asarray(np_fn(op)(x)).astype(out_dtype)


TOLERANCE = {
    # (rtol, atol) per float dtype for float-valued functions; exact ops use 0.
    np.dtype(np.float32): (1e-6, 1e-37),
    np.dtype(np.float64): (1e-13, 1e-300),
}
PERIODIC = {"sin", "cos"}  # relative error is meaningless near their zeros


def assert_same(got: ct.Tensor, want: np.ndarray, op: str = "", exact: bool = False) -> None:
    assert isinstance(got, ct.Tensor), type(got)
    assert got.dtype == want.dtype, (op, got.dtype, want.dtype)
    assert got.shape == want.shape, (op, got.shape, want.shape)
    g = got.numpy()
    if want.dtype.kind != "f":
        np.testing.assert_array_equal(g, want, err_msg=op)
        return
    # special values exactly, finite values within the dtype's tolerance
    np.testing.assert_array_equal(np.isnan(g), np.isnan(want), err_msg=f"{op}: NaN positions")
    inf = np.isinf(want)
    np.testing.assert_array_equal(g[inf], want[inf], err_msg=f"{op}: infinities")
    fin = np.isfinite(want)
    if exact:
        np.testing.assert_array_equal(g[fin], want[fin], err_msg=op)
        return
    rtol, atol = TOLERANCE[want.dtype]
    if op in PERIODIC:
        atol = 1e-6 if want.dtype == np.float32 else 1e-14
    np.testing.assert_allclose(g[fin], want[fin], rtol=rtol, atol=atol, err_msg=op)


# ---- data and layouts ----------------------------------------------------------------

SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.5])


def random_values(rng: np.random.Generator, shape: tuple, dtype: str, op: str = "") -> np.ndarray:
    n = int(np.prod(shape, dtype=np.int64))
    if dtype == "bool":
        v = rng.random(n) < 0.5
    elif dtype == "uint8":
        v = rng.integers(0, 256, n)
    elif dtype in ("int32", "int64"):
        info = np.iinfo(dtype)
        v = rng.integers(-50, 50, n)
        extreme = rng.random(n) < 0.05  # occasional extremes for wrap-around
        v = np.where(extreme, rng.choice([info.min, info.max, -1, 0, 1], n), v)
    else:
        v = rng.standard_normal(n) * rng.choice([1.0, 4.0, 30.0], n)
        special = rng.random(n) < 0.1
        v = np.where(special, rng.choice(SPECIAL, n), v)
    return np.asarray(v).astype(dtype).reshape(shape)


LAYOUTS = ["contiguous", "transposed", "stepped", "reversed", "broadcast"]


def make_layout(values: np.ndarray, layout: str) -> np.ndarray:
    """An array equal to `values` (except 'broadcast') with the requested memory layout."""
    if layout == "contiguous" or values.ndim == 0:
        return values
    if layout == "transposed":
        return np.ascontiguousarray(values.T).T
    if layout == "stepped":
        big = np.zeros(tuple(2 * n for n in values.shape), values.dtype)
        view = big[tuple(slice(None, None, 2) for _ in values.shape)]
        view[...] = values
        return view
    if layout == "reversed":
        big = np.ascontiguousarray(values[tuple(slice(None, None, -1) for _ in values.shape)])
        return big[tuple(slice(None, None, -1) for _ in values.shape)]
    if layout == "broadcast":  # first dimension repeated from a single row (stride 0)
        row = values[:1] if values.shape[0] else values
        return np.broadcast_to(row, values.shape)
    raise AssertionError(layout)


@st.composite
def binary_case(draw, dtypes=DTYPES):
    shapes = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=6, min_side=0, max_side=4)
    )
    da, db = draw(st.sampled_from(dtypes)), draw(st.sampled_from(dtypes))
    la, lb = draw(st.sampled_from(LAYOUTS)), draw(st.sampled_from(LAYOUTS))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = make_layout(random_values(rng, shapes.input_shapes[0], da), la)
    b = make_layout(random_values(rng, shapes.input_shapes[1], db), lb)
    return a, b


def check_binary(op: str, a: np.ndarray, b: np.ndarray) -> None:
    d = promoted(a.dtype.name, b.dtype.name)
    want_dtype = expected_binary_dtype(op, d)
    if op == "pow" and d.kind in "iu" and want_dtype is not TypeError:
        b = np.asarray(np.abs(b.astype(np.int64)) % 8).astype(b.dtype)  # non-negative exponents only
    ta, tb = ct.from_numpy(a), ct.from_numpy(b)
    fn = getattr(ct, op)
    if want_dtype is TypeError:
        with pytest.raises(TypeError):
            fn(ta, tb)
        return
    got = fn(ta, tb)
    want = reference_binary(op, a, b, want_dtype)
    assert_same(got, want, op, exact=op not in INEXACT_BINARY)


# ---- binary ops ------------------------------------------------------------------------


@pytest.mark.parametrize("op", BINARY)
@SETTINGS
@given(case=binary_case())
def test_binary_matches_numpy(op, case):
    check_binary(op, *case)


@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("db", DTYPES)
@pytest.mark.parametrize("op", BINARY)
def test_binary_every_dtype_pair(op, da, db):
    rng = np.random.default_rng(hash((op, da, db)) % 2**32)
    a = random_values(rng, (3, 1, 5), da)
    b = make_layout(random_values(rng, (4, 5), db), "transposed")
    check_binary(op, a, b)


@pytest.mark.parametrize(
    "op,dtype",
    [(op, d) for op in ("divide", "floor_divide", "remainder")
     for d in ("float32", "float64", "int32", "int64")],
)
def test_division_edge_cases(op, dtype):
    if dtype.startswith("float"):
        vals = np.array([-7.5, -3.0, -0.0, 0.0, 2.0, 5.5, np.inf, -np.inf, np.nan], dtype)
    else:
        info = np.iinfo(dtype)
        vals = np.array([info.min, -7, -3, -1, 0, 1, 2, 5, info.max], dtype)
    a, b = np.meshgrid(vals, vals, indexing="ij")
    d = np.dtype(dtype)
    out_dtype = expected_binary_dtype(op, d)
    want = reference_binary(op, a, b, out_dtype)
    assert_same(getattr(ct, op)(ct.from_numpy(a), ct.from_numpy(b)), want, op, exact=True)


def test_pow_float_special_values():
    v = np.array([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, np.inf, -np.inf, np.nan], np.float64)
    a, b = np.meshgrid(v, v, indexing="ij")
    assert_same(ct.pow(ct.from_numpy(a), ct.from_numpy(b)), np.power(a, b), "pow")


def test_pow_integer_wraps_like_numpy():
    a = np.array([3, -3, 7, 2, -1], np.int32)
    b = np.array([40, 41, 30, 31, 1001], np.int32)
    assert_same(ct.pow(ct.from_numpy(a), ct.from_numpy(b)), np.power(a, b), "pow")
    u = np.arange(256, dtype=np.uint8)
    assert_same(ct.from_numpy(u) ** 3, u**3, "pow")


def test_maximum_minimum_propagate_nan():
    a = np.array([np.nan, 1.0, np.nan, -np.inf], np.float32)
    b = np.array([1.0, np.nan, np.nan, np.inf], np.float32)
    for op in ("maximum", "minimum"):
        got = getattr(ct, op)(ct.from_numpy(a), ct.from_numpy(b))
        assert_same(got, getattr(np, op)(a, b), op, exact=True)


# ---- unary ops ---------------------------------------------------------------------------


@st.composite
def unary_case(draw, dtypes=DTYPES):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=6, min_side=0, max_side=4))
    d = draw(st.sampled_from(dtypes))
    layout = draw(st.sampled_from(LAYOUTS))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return make_layout(random_values(rng, shape, d), layout)


def check_unary(op: str, x: np.ndarray) -> None:
    want_dtype = expected_unary_dtype(op, x.dtype)
    fn = getattr(ct, op)
    t = ct.from_numpy(x)
    if want_dtype is TypeError:
        with pytest.raises(TypeError):
            fn(t)
        return
    got = fn(t)
    want = reference_unary(op, x, want_dtype)
    assert_same(got, want, op, exact=op not in FLOAT_UNARY)


@pytest.mark.parametrize("op", UNARY)
@SETTINGS
@given(x=unary_case())
def test_unary_matches_numpy(op, x):
    check_unary(op, x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", UNARY)
def test_unary_every_dtype(op, dtype):
    rng = np.random.default_rng(7)
    x = make_layout(random_values(rng, (5, 7), dtype), "transposed")
    check_unary(op, x)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", FLOAT_UNARY + ["round", "floor", "ceil", "abs", "sign", "relu"])
def test_unary_special_values(op, dtype):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 0.5, 1.5, 2.5, -0.5, -2.5, 88.0, 89.0,
                  -88.0, -104.0, 710.0, -745.0, 1e30, -1e30], dtype)
    check_unary(op, x)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", FLOAT_UNARY)
def test_float_unary_dense_range(op, dtype):
    """Many points over the useful range: the (vectorised) math must stay accurate."""
    lo, hi = {"log": (1e-6, 1e6), "sqrt": (0, 1e6), "log1p": (-0.999, 1e4), "reciprocal": (0.01, 1e4)}.get(
        op, (-80.0, 80.0) if op not in ("sin", "cos") else (-100.0, 100.0))
    x = np.linspace(lo, hi, 20011).astype(dtype)
    check_unary(op, x)
    check_unary(op, x[::-3])  # strided input


def test_round_half_to_even():
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5], np.float32)
    assert ct.round(ct.from_numpy(x)).tolist() == [-2.0, -2.0, -0.0, 0.0, 2.0, 2.0, 4.0]


# ---- where and clip ----------------------------------------------------------------------------


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=5, min_side=0, max_side=3),
    da=st.sampled_from(DTYPES), db=st.sampled_from(DTYPES), layout=st.sampled_from(LAYOUTS),
    seed=st.integers(0, 2**32 - 1),
)
def test_where_matches_numpy(shapes, da, db, layout, seed):
    rng = np.random.default_rng(seed)
    sc, sa, sb = shapes.input_shapes
    c = make_layout(np.asarray(rng.random(sc) < 0.5), layout)
    a = random_values(rng, sa, da)
    b = make_layout(random_values(rng, sb, db), layout)
    got = ct.where(ct.from_numpy(c), ct.from_numpy(a), ct.from_numpy(b))
    assert_same(got, np.where(c, a, b), "where", exact=True)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "bool"])
def test_where_fast_paths_select_bits_exactly(dtype):
    # Long enough for the vector loops of the contiguous and scalar-side paths; NaN
    # payloads and -0.0 must come through bit for bit.
    rng = np.random.default_rng(7)
    n = 1027
    a = random_values(rng, (n,), dtype)
    b = random_values(rng, (n,), dtype)
    if a.dtype.kind == "f":
        a[:4] = [np.nan, -0.0, np.inf, -np.inf]
        b[4:8] = [-np.nan, -0.0, 0.0, np.nan]
    c = rng.random(n) < 0.5
    cases = [(a, b), (a, b[:1].reshape(())), (a[:1].reshape(()), b), (a[::2], b[::2])]
    for x, y in cases:
        cc = c if x.ndim == 0 or x.shape[0] == n else c[::2]
        got = ct.where(ct.from_numpy(cc), ct.from_numpy(x), ct.from_numpy(y)).numpy()
        want = np.where(cc, x, y)
        assert got.dtype == want.dtype
        assert got.tobytes() == want.tobytes(), (x.shape, y.shape)


def test_where_scalars_and_nonbool_condition():
    x = ct.tensor([1.0, -2.0, 3.0])
    r = ct.where(x > 0, x, 0.0)
    assert r.dtype == ct.float32 and r.tolist() == [1.0, 0.0, 3.0]
    r = ct.where(ct.tensor([1, 0, 2]), 1, 2)  # int condition: nonzero is true
    assert r.dtype == ct.int64 and r.tolist() == [1, 2, 1]
    r = ct.where(ct.tensor([True, False]), ct.tensor([1, 2], dtype="int32"), 0.5)
    assert r.dtype == ct.float32 and r.tolist() == [1.0, 0.5]
    with pytest.raises(ValueError, match="could not be broadcast"):
        ct.where(ct.tensor([True, False, True]), ct.tensor([1.0, 2.0]), 0.0)


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=5, min_side=0, max_side=3),
    d=st.sampled_from(DTYPES[1:]), layout=st.sampled_from(LAYOUTS), seed=st.integers(0, 2**32 - 1),
)
def test_clip_matches_numpy(shapes, d, layout, seed):
    rng = np.random.default_rng(seed)
    sx, sl, sh = shapes.input_shapes
    x = make_layout(random_values(rng, sx, d), layout)
    lo, hi = random_values(rng, sl, d), random_values(rng, sh, d)
    got = ct.clip(ct.from_numpy(x), ct.from_numpy(lo), ct.from_numpy(hi))
    want = np.minimum(np.maximum(x, lo), hi)  # np.clip's definition, NaN propagating
    assert_same(got, want, "clip", exact=True)


def test_clip_scalar_bounds_and_errors():
    x = ct.tensor([-3.0, 0.5, 7.0, float("nan")])
    assert ct.clip(x, -1.0, 1.0).tolist()[:3] == [-1.0, 0.5, 1.0]
    assert np.isnan(ct.clip(x, -1.0, 1.0).tolist()[3])
    assert ct.clip(x, min=0.0).tolist()[:3] == [0.0, 0.5, 7.0]
    assert ct.clip(x, max=0.0).tolist()[:3] == [-3.0, 0.0, 0.0]
    i = ct.tensor([-5, 0, 5], dtype="int32")
    r = ct.clip(i, -2, 2)
    assert r.dtype == ct.int32 and r.tolist() == [-2, 0, 2]
    r = ct.clip(i, max=3)
    assert r.dtype == ct.int32 and r.tolist() == [-5, 0, 3]
    assert ct.clip(i, -2.5, 2.5).dtype == ct.float32  # a Python float makes integers float32
    assert ct.tensor([1, 2]).clamp(0, 1).tolist() == [1, 1]
    c = ct.clip(x)  # the Array API: no bounds gives a copy
    assert c is not x and np.array_equal(c.numpy(), x.numpy(), equal_nan=True)
    with pytest.raises(TypeError):
        ct.clip(ct.tensor([True, False]), 0, 1)


# ---- Python scalars and NumPy operands ------------------------------------------------------------


def scalar_result(dtype: str, value) -> np.dtype:
    """corten's weak-scalar rule: the scalar only changes the kind, never the precision."""
    d = np.dtype(dtype)
    if isinstance(value, bool):
        return d
    if isinstance(value, int):
        return np.dtype(np.int64) if d == np.bool_ else d
    return d if d.kind == "f" else np.dtype(np.float32)


SCALAR_OPS = BINARY


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("value", [True, 3, -2, 1.5, -0.25])
@pytest.mark.parametrize("op", SCALAR_OPS)
def test_scalar_operands_are_weak(op, dtype, value):
    rng = np.random.default_rng(3)
    x = random_values(rng, (2, 3), dtype)
    if dtype == "uint8" and isinstance(value, int) and not isinstance(value, bool) and value < 0:
        with pytest.raises(OverflowError):
            ct.add(ct.from_numpy(x), value)
        return
    d = scalar_result(dtype, value)
    if op == "pow" and d.kind in "iu":
        if not isinstance(value, bool) and value < 0:
            with pytest.raises(ValueError, match="negative integer powers"):
                ct.pow(ct.from_numpy(x), value)
            return
        x = np.abs(x.astype(np.int64) % 5).astype(dtype)
    for reflected in (False, True):
        s = np.asarray(value, d)
        xa = x.astype(d)
        if reflected:
            args, np_args = (value, ct.from_numpy(x)), (s, xa)
        else:
            args, np_args = (ct.from_numpy(x), value), (xa, s)
        want_dtype = expected_binary_dtype(op, d)
        if op == "pow" and reflected and d.kind in "iu":
            continue  # scalar ** int tensor: exponents may be negative; covered elsewhere
        if want_dtype is TypeError:
            with pytest.raises(TypeError):
                getattr(ct, op)(*args)
            continue
        got = getattr(ct, op)(*args)
        want = reference_binary(op, np_args[0], np_args[1], want_dtype)
        assert_same(got, want, op, exact=op not in INEXACT_BINARY)


def test_weak_scalar_dtype_examples():
    f32 = ct.tensor([1.0, 2.0])
    assert (f32 + 1.5).dtype == ct.float32
    assert (1.5 * f32).dtype == ct.float32
    assert (ct.tensor([1, 2]) + 1.5).dtype == ct.float32  # int + float -> default float
    assert (ct.tensor([1, 2], dtype="int32") + 7).dtype == ct.int32
    assert (ct.tensor([1, 2], dtype="uint8") + 200).dtype == ct.uint8
    assert (ct.tensor([True]) + 1).dtype == ct.int64
    assert (ct.tensor([True]) + True).dtype == ct.bool
    assert (ct.tensor([1, 2]) / 2).dtype == ct.float32
    assert (ct.tensor([1, 2]) / ct.tensor([2, 4])).dtype == ct.float32  # int/int -> float32
    assert (ct.tensor([1.0], dtype="float64") / 2).dtype == ct.float64
    assert (ct.tensor([1, 2], dtype="int32") * ct.tensor([1.0])).dtype == ct.float64  # NumPy 2 promotion
    assert (ct.tensor([1, 2], dtype="uint8") + ct.tensor([1], dtype="int32")).dtype == ct.int32


def test_python_int_out_of_range():
    u = ct.tensor([1, 2], dtype="uint8")
    with pytest.raises(OverflowError, match="out of bounds for uint8"):
        u + 300
    with pytest.raises(OverflowError):
        u * -1
    with pytest.raises(OverflowError):
        ct.tensor([1], dtype="int32") + 2**31
    with pytest.raises(OverflowError):
        ct.tensor([1]) + 2**63


@pytest.mark.parametrize("op,sym", [("add", "+"), ("subtract", "-"), ("multiply", "*"), ("divide", "/"),
                                    ("floor_divide", "//"), ("remainder", "%"), ("pow", "**"),
                                    ("bitwise_and", "&"), ("bitwise_or", "|"), ("bitwise_xor", "^"),
                                    ("equal", "=="), ("not_equal", "!="), ("less", "<"), ("less_equal", "<="),
                                    ("greater", ">"), ("greater_equal", ">=")])
@pytest.mark.parametrize("kind", ["int", "float"])
def test_operators_and_reflected(op, sym, kind):
    if kind == "float" and op.startswith("bitwise"):
        pytest.skip("bitwise needs integers")
    x = np.array([[1, 2, 3], [4, 5, 6]], "int32" if kind == "int" else "float32")
    y = np.array([2, 1, 3], x.dtype)
    t, u = ct.from_numpy(x), ct.from_numpy(y)
    env = {"t": t, "u": u, "x": x, "y": y, "s": 2}
    for expr, ref in [("t {} u", "x {} y"), ("t {} s", "x {} s"), ("s {} t", "s {} x"),
                      ("x {} u", "x {} y"), ("t {} y", "x {} y")]:
        got = eval(expr.format(sym), env)
        want = eval(ref.format(sym), env)
        assert isinstance(got, ct.Tensor), expr  # also when a NumPy array is on the left
        if op == "divide" and kind == "int":
            want = want.astype(np.float32)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
        assert got.shape == want.shape


def test_unary_operators():
    t = ct.tensor([1, -2, 3], dtype="int32")
    assert (-t).tolist() == [-1, 2, -3]
    assert abs(t).tolist() == [1, 2, 3]
    assert (+t) is t
    assert (~t).tolist() == [-2, 1, -4]
    assert (~ct.tensor([True, False])).tolist() == [False, True]
    with pytest.raises(TypeError):
        -ct.tensor([True, False])
    with pytest.raises(TypeError):
        ~ct.tensor([1.0])


def test_unsupported_operands_give_type_error():
    t = ct.tensor([1.0, 2.0])
    with pytest.raises(TypeError):
        t + "a"
    with pytest.raises(TypeError):
        "a" + t
    with pytest.raises(TypeError):
        t + None
    with pytest.raises(TypeError):
        ct.add(t, object())
    assert (t == "a") is False  # == falls back to identity like any Python object
    with pytest.raises(TypeError, match="bitwise_and"):
        ct.bitwise_and(t, t)
    with pytest.raises(TypeError):
        t & 1
    with pytest.raises(TypeError):
        ct.subtract(ct.tensor([True]), ct.tensor([False]))
    with pytest.raises(TypeError):
        ct.tensor([True]) - True
    with pytest.raises(TypeError):
        ct.negative(ct.tensor([True]))


def test_integer_negative_power_is_value_error():
    with pytest.raises(ValueError, match="Integers to negative integer powers are not allowed."):
        ct.tensor([2, 3]) ** -1
    with pytest.raises(ValueError):
        ct.pow(ct.tensor([2, 3]), ct.tensor([1, -2]))
    assert (ct.tensor([2, 4]) ** 0.5).dtype == ct.float32
    assert (ct.tensor([2.0, 4.0]) ** -1).tolist() == [0.5, 0.25]


def test_broadcast_error_message():
    a, b = ct.zeros((2, 3)), ct.zeros(4)
    with pytest.raises(ValueError) as e:
        a + b
    assert str(e.value) == "operands could not be broadcast together with shapes (2,3) (4,)"
    with pytest.raises(ValueError, match=r"shapes \(2,3\) \(4,\)"):
        ct.multiply(a, b)
    with pytest.raises(ValueError, match="could not be broadcast"):
        ct.less(ct.zeros((0, 2)), ct.zeros(3))


def test_list_operands():
    t = ct.tensor([1.0, 2.0])
    assert (t + [1.0, 1.0]).tolist() == [2.0, 3.0]
    assert ct.add([1, 2], [3, 4]).tolist() == [4, 6]
    assert ct.exp(0.0).item() == 1.0
    assert ct.add(np.float32(1.5), t).dtype == ct.float32
    assert ct.add(np.float64(1.5), t).dtype == ct.float64  # NumPy scalars are strong


# ---- out= -------------------------------------------------------------------------------------


def test_out_argument():
    a, b = ct.tensor([[1.0, 2.0], [3.0, 4.0]]), ct.tensor([10.0, 20.0])
    out = ct.empty((2, 2))
    r = ct.add(a, b, out=out)
    assert r is out and out.tolist() == [[11.0, 22.0], [13.0, 24.0]]
    out64 = ct.zeros((2, 2), dtype="float64")  # same_kind cast float32 -> float64
    ct.multiply(a, b, out=out64)
    assert out64.dtype == ct.float64 and out64.tolist() == [[10.0, 40.0], [30.0, 80.0]]
    out32 = ct.zeros((2, 2))
    ct.add(ct.tensor([[1, 2], [3, 4]]), 1, out=out32)  # int -> float: same_kind allows it
    assert out32.tolist() == [[2.0, 3.0], [4.0, 5.0]]
    with pytest.raises(TypeError, match="same_kind"):
        ct.add(a, b, out=ct.zeros((2, 2), dtype="int64"))  # float -> int is not same_kind
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        ct.add(a, b, out=ct.zeros(3))
    with pytest.raises(ValueError):
        ct.add(a, b, out=ct.zeros((2, 2, 1)))
    o = ct.zeros(2, dtype="bool")
    ct.less(ct.tensor([1, 5]), 3, out=o)
    assert o.tolist() == [True, False]
    u = ct.zeros(3)
    ct.exp(ct.zeros(3), out=u)
    assert u.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError):
        ct.exp(ct.zeros(3), out=ct.zeros(4))
    with pytest.raises(TypeError):
        ct.sqrt(ct.zeros(3), out=ct.zeros(3, dtype="int32"))


def test_out_is_a_view_and_overlaps_inputs():
    base = np.arange(12.0).reshape(3, 4)
    t = ct.from_numpy(base)
    view = ct.from_numpy(base[:, 1::2])  # non-contiguous output
    ct.multiply(view, 10.0, out=view)
    np.testing.assert_array_equal(base[:, 1::2], np.arange(12.0).reshape(3, 4)[:, 1::2] * 10)
    assert t.numpy() is base
    x = np.arange(5.0)
    ref = x.copy()
    ct.add(ct.from_numpy(x[1:]), ct.from_numpy(x[:-1]), out=ct.from_numpy(x[1:]))
    np.add(ref[1:], ref[:-1], out=ref[1:])
    np.testing.assert_array_equal(x, ref)


# ---- in-place ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("sym,method", [("+=", "add_"), ("-=", "sub_"), ("*=", "mul_"), ("/=", "div_")])
def test_inplace_on_views_writes_to_base(sym, method):
    base = np.arange(1.0, 13.0).reshape(3, 4)
    ref = base.copy()
    t = ct.from_numpy(base)
    v = t._make_view((3, 2), (4, 2), 1)  # columns 1 and 3
    before = id(v)
    exec(f"v {sym} 2.0", {"v": v})
    exec(f"ref[:, 1::2] {sym} 2.0", {"ref": ref})
    np.testing.assert_array_equal(base, ref)
    assert id(v) == before
    w = ct.from_numpy(base[::-1, ::2])
    r = getattr(w, method)(ct.tensor([1.0, 2.0]))
    assert r is w
    exec(f"ref[::-1, ::2] {sym} np.array([1.0, 2.0])", {"ref": ref, "np": np})
    np.testing.assert_array_equal(base, ref)


def test_inplace_overlap_matches_numpy():
    a = np.arange(9.0).reshape(3, 3)
    ref = a.copy()
    t = ct.from_numpy(a)
    t += t.T
    ref += ref.T
    np.testing.assert_array_equal(a, ref)

    b = np.arange(10.0)
    ref = b.copy()
    tb = ct.from_numpy(b)
    head = tb._make_view((9,), (1,), 1)  # b[1:]
    tail = tb._make_view((9,), (1,), 0)  # b[:-1]
    head += tail
    ref[1:] += ref[:-1]
    np.testing.assert_array_equal(b, ref)

    c = np.arange(10.0)
    ref = c.copy()
    tc = ct.from_numpy(c)
    tc._make_view((9,), (1,), 0).__imul__(tc._make_view((9,), (1,), 1))  # c[:-1] *= c[1:]
    ref[:-1] *= ref[1:]
    np.testing.assert_array_equal(c, ref)

    d = np.arange(16.0).reshape(4, 4)
    ref = d.copy()
    td = ct.from_numpy(d)
    td -= ct.from_numpy(d[::-1, ::-1])
    ref -= ref[::-1, ::-1].copy()
    np.testing.assert_array_equal(d, ref)


def test_inplace_dtype_rules():
    t = ct.tensor([1, 2, 3])
    t += 2
    assert t.dtype == ct.int64 and t.tolist() == [3, 4, 5]
    with pytest.raises(TypeError, match="same_kind"):
        t += 1.5  # the float result cannot be cast back to int64
    with pytest.raises(TypeError):
        t /= 2
    f = ct.tensor([1.0, 2.0])
    f += ct.tensor([1, 1])
    assert f.dtype == ct.float32 and f.tolist() == [2.0, 3.0]
    f64 = ct.tensor([1.0], dtype="float64")
    f64 *= ct.tensor([2.0])
    assert f64.dtype == ct.float64
    u = ct.tensor([250], dtype="uint8")
    u += 10
    assert u.tolist() == [4]  # wraps like NumPy


def test_inplace_shape_mismatch_is_clear():
    t = ct.zeros(3)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,3\)|\(2,3\).*\(3,\)"):
        t += ct.zeros((2, 3))
    assert t.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError):
        t.add_(ct.zeros(4))


def test_inplace_bumps_version_and_keeps_identity():
    t = ct.zeros(3)
    v0 = t._bump_version(0)
    t2 = t
    t2 += 1
    assert t2 is t and t._bump_version(0) > v0
    t.exp_()
    t.relu_()
    t.zero_()
    assert t.tolist() == [0.0, 0.0, 0.0]
    t.fill_(2.5)
    assert t.tolist() == [2.5, 2.5, 2.5]
    t.copy_(ct.tensor([1.0, 2.0, 3.0]))
    assert t.tolist() == [1.0, 2.0, 3.0]
    t.clamp_(1.5, 2.5)
    assert t.tolist() == [1.5, 2.0, 2.5]


def test_broadcast_output_cannot_be_written():
    b = ct.from_numpy(np.broadcast_to(np.zeros(3), (2, 3)).copy())
    ro = ct.from_numpy(np.broadcast_to(np.zeros(3), (2, 3)))
    with pytest.raises(ValueError):
        ct.add(b, 1.0, out=ro)


# ---- threads and kernels ---------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["add", "multiply", "maximum", "less"])
def test_results_do_not_depend_on_thread_count(op):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 1001)).astype(np.float32)
    b = rng.standard_normal((1001,)).astype(np.float32)
    old = ct.get_num_threads()
    try:
        ct.set_num_threads(1)
        one = getattr(ct, op)(ct.from_numpy(a.T), ct.from_numpy(b[:300])).numpy().copy()
        ct.set_num_threads(max(2, old))
        many = getattr(ct, op)(ct.from_numpy(a.T), ct.from_numpy(b[:300])).numpy()
    finally:
        ct.set_num_threads(old)
    np.testing.assert_array_equal(one, many)
    np.testing.assert_array_equal(one, getattr(np, op)(a.T, b[:300]))


@pytest.mark.parametrize("op", ["add", "exp", "tanh", "less"])
def test_generic_and_simd_kernels_agree(op):
    x = np.linspace(-20, 20, 4099).astype(np.float32)
    t = ct.from_numpy(x)
    run = (lambda: getattr(ct, op)(t, t)) if op in ("add", "less") else (lambda: getattr(ct, op)(t))
    fast = run().numpy().copy()
    ct.set_simd_level("generic")
    try:
        slow = run().numpy()
    finally:
        ct.set_simd_level(None)
    np.testing.assert_allclose(fast, slow, rtol=2e-6, atol=1e-37)


def test_large_transposed_and_broadcast():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((513, 700)).astype(np.float32)
    b = rng.standard_normal((700, 513)).astype(np.float32)
    assert_same(ct.from_numpy(a) + ct.from_numpy(b).T, a + b.T, "add", exact=True)
    assert_same(ct.from_numpy(a).T + ct.from_numpy(b), a.T + b, "add", exact=True)
    assert_same(ct.from_numpy(a) - ct.from_numpy(a[0]), a - a[0], "subtract", exact=True)
    assert_same(ct.from_numpy(a[:, :1]) * ct.from_numpy(a[0]), a[:, :1] * a[0], "multiply", exact=True)
    assert_same(ct.from_numpy(a[::-1, ::3]) + ct.from_numpy(b.T[::-1, ::3]), a[::-1, ::3] + b.T[::-1, ::3],
                "add", exact=True)


@pytest.mark.parametrize("threads", [1, 2])
def test_tiled_transposed_paths(threads):
    """Operands walked across their rows (transposed views) take the tiled loop:
    odd sizes, batch dimensions, negative strides, every kernel family."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 97, 130))
    b = rng.standard_normal((3, 130, 97))
    old = ct.get_num_threads()
    try:
        ct.set_num_threads(threads)
        bt = np.swapaxes(b, 1, 2)
        assert_same(ct.from_numpy(a) * ct.from_numpy(bt), a * bt, "multiply", exact=True)
        assert_same(ct.exp(ct.from_numpy(bt[:, ::-1])), np.exp(bt[:, ::-1]), "exp")
        assert_same(ct.from_numpy(bt).astype("float32"), bt.astype(np.float32), "copy", exact=True)
        assert_same(ct.where(ct.from_numpy(bt > 0), ct.from_numpy(a), 0.0), np.where(bt > 0, a, 0.0), "where",
                    exact=True)
        assert_same(ct.clip(ct.from_numpy(bt), -0.5, 0.5), np.clip(bt, -0.5, 0.5), "clip", exact=True)
        out = np.zeros((3, 130, 97))
        ct.add(ct.from_numpy(b), ct.from_numpy(np.swapaxes(a, 1, 2)), out=ct.from_numpy(out))
        np.testing.assert_array_equal(out, b + np.swapaxes(a, 1, 2))
    finally:
        ct.set_num_threads(old)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_floor_divide_follows_the_standards_special_cases(dtype):
    inf, nan = np.inf, np.nan
    cases = [  # (x1, x2, expected) from the standard's floor_divide table
        (inf, inf, nan), (-inf, inf, nan), (0.0, 0.0, nan), (-0.0, 0.0, nan), (nan, 1.0, nan), (1.0, nan, nan),
        (0.0, 2.0, 0.0), (-0.0, 2.0, -0.0), (0.0, -2.0, -0.0), (-0.0, -2.0, 0.0),
        (2.0, 0.0, inf), (2.0, -0.0, -inf), (-2.0, 0.0, -inf), (-2.0, -0.0, inf),
        (inf, 2.0, inf), (inf, -2.0, -inf), (-inf, 2.0, -inf), (-inf, -2.0, inf),
        (2.0, inf, 0.0), (2.0, -inf, -0.0), (-2.0, inf, -0.0), (-2.0, -inf, 0.0),
        (7.0, 2.0, 3.0), (-7.0, 2.0, -4.0), (7.0, -2.0, -4.0), (-7.0, -2.0, 3.0),
    ]
    a, b, want = (np.array(c, dtype) for c in zip(*cases, strict=True))
    # a non-contiguous view, and the operator spelling
    got = (ct.from_numpy(np.repeat(a, 2)[::2]) // ct.from_numpy(b)).numpy()
    np.testing.assert_array_equal(got, want)
    num = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got[num]), np.signbit(want[num]))


@pytest.mark.parametrize("dtype", ["uint8", "int32", "int64"])
def test_shifts_by_counts_outside_the_width_follow_numpy(dtype):
    bits = np.iinfo(dtype).bits
    info = np.iinfo(dtype)
    a = np.array([5, 1, info.max, info.min, 0, 3], dtype)
    counts = [0, 1, bits - 1, bits, bits + 1, 255] + ([-1, -bits] if info.min < 0 else [])
    for c in counts:
        b = np.full(a.shape, c).astype(dtype)
        for op in SHIFTS:
            want = getattr(np, op)(a, b)
            np.testing.assert_array_equal(getattr(ct, op)(ct.from_numpy(a), ct.from_numpy(b)).numpy(), want,
                                          err_msg=f"{op} by {c}")


def test_shift_operators_and_dtypes():
    t = ct.tensor([1, 2, -8], dtype="int32")
    assert (t << 2).tolist() == [4, 8, -32] and (t << 2).dtype is ct.int32
    assert (t >> 1).tolist() == [0, 1, -4]
    assert (1 << ct.tensor([0, 3], dtype="uint8")).tolist() == [1, 8]
    assert (16 >> ct.tensor([1, 2])).tolist() == [8, 4]
    u = ct.tensor([1, 2], dtype="uint8")
    u <<= 3
    assert u.tolist() == [8, 16] and u.dtype is ct.uint8
    u >>= ct.tensor([1, 2], dtype="uint8")
    assert u.tolist() == [4, 4]
    assert ct.bitwise_left_shift(ct.tensor([1], dtype="uint8"), ct.tensor([2], dtype="int32")).dtype is ct.int32
    assert (ct.tensor([True]) << 1).dtype is ct.int64  # a Python int promotes bool, as NumPy
    for bad in (ct.tensor([True]), ct.tensor([1.0])):
        with pytest.raises(TypeError, match="integer"):
            bad << bad
        with pytest.raises(TypeError, match="integer"):
            ct.bitwise_right_shift(bad, bad)
    with pytest.raises(TypeError, match="integer"):
        ct.tensor([1.0]) >> 1
