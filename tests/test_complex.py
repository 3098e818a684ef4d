"""complex64/complex128: creation, promotion, repr, NumPy interop, element-wise
kernels, reductions and matmul against NumPy; clear errors for what is not supported."""

import math

import corten as ct
import numpy as np
import pytest
from corten._dtype import COMPLEX_DTYPES, REAL_DTYPES
from corten.ops.table import OPS
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

CDT = [ct.complex64, ct.complex128]
TOL = {ct.complex64: dict(rtol=2e-5, atol=2e-6), ct.complex128: dict(rtol=1e-12, atol=1e-13)}


def _rand(shape, d, rng, scale=3.0):
    a = rng.uniform(-scale, scale, shape) + 1j * rng.uniform(-scale, scale, shape)
    return a.astype(d.np)


def _layouts(a):
    """a itself, a transposed copy seen through a transpose, and a stepped slice."""
    yield a
    if a.ndim >= 2:
        yield np.ascontiguousarray(a.T).T
    big = np.repeat(a[..., None], 2, axis=-1)
    yield big[..., 0]


complex_arrays = st.sampled_from(CDT).flatmap(
    lambda d: hnp.arrays(d.np, hnp.array_shapes(min_dims=0, max_dims=3, max_side=5),
                         elements=st.complex_numbers(max_magnitude=1e3, allow_nan=False, allow_infinity=False,
                                                     width=64 if d is ct.complex64 else 128)))


# ---- creation, interop, repr ---------------------------------------------------------


def test_creation_and_defaults():
    z = ct.tensor([1 + 2j, 3])
    assert z.dtype is ct.complex64 and z.tolist() == [1 + 2j, 3 + 0j]
    assert ct.tensor(1j).dtype is ct.complex64 and ct.tensor(1j, dtype="complex128").dtype is ct.complex128
    assert ct.asarray([1j], dtype=ct.complex128).dtype is ct.complex128
    assert ct.zeros(2, 3, dtype=ct.complex64).numpy().tolist() == [[0j] * 3] * 2
    assert ct.ones(2, dtype=ct.complex128).numpy().tolist() == [1 + 0j] * 2
    f = ct.full((2,), 2 - 1j)
    assert f.dtype is ct.complex64 and f.tolist() == [2 - 1j, 2 - 1j]
    assert ct.full((2,), 1.5, dtype=ct.complex128).tolist() == [1.5 + 0j] * 2
    assert ct.empty(3, dtype=ct.complex64).shape == (3,)
    assert ct.zeros_like(z).dtype is ct.complex64
    assert complex(ct.tensor(2 - 3j)) == 2 - 3j and ct.tensor(1j).item() == 1j


def test_complex_data_is_not_silently_truncated():
    with pytest.raises(TypeError, match="cannot make a float32 tensor from complex data"):
        ct.tensor([1 + 1j], dtype=ct.float32)
    with pytest.raises(TypeError, match="full: cannot fill a int64 tensor with the complex value"):
        ct.full((2,), 1j, dtype=ct.int64)
    z = ct.tensor([1 + 1j])
    for to in ("float32", "float64", "int64", "uint8"):
        with pytest.raises(TypeError, match=f"cannot cast complex64 to {to}"):
            z.astype(to)
    assert z.astype("bool").tolist() == [True]
    assert z.astype("complex128").dtype is ct.complex128
    with pytest.raises(TypeError, match="cannot convert a complex64 tensor to float"):
        float(ct.tensor(1j))
    with pytest.raises(TypeError, match="cannot convert a complex64 tensor to int"):
        int(ct.tensor(1j))
    with pytest.raises(TypeError, match="integer tensors"):
        [0, 1][ct.tensor(1j)]


@pytest.mark.parametrize("d", CDT, ids=str)
def test_numpy_and_dlpack_interop(d):
    rng = np.random.default_rng(0)
    a = _rand((3, 4), d, rng)
    t = ct.from_numpy(a)
    assert t.dtype is d and np.shares_memory(t.numpy(), a)
    assert np.array_equal(np.asarray(t), a)
    back = np.from_dlpack(t)
    assert back.dtype == d.np and np.array_equal(back, a)
    assert np.array_equal(ct.from_dlpack(a).numpy(), a)
    assert np.array_equal(ct.tensor(a[:, ::2]).numpy(), a[:, ::2])


def test_repr():
    assert repr(ct.tensor([1 + 2j, 3 - 4j])) == "tensor([1.+2.j, 3.-4.j])"
    assert repr(ct.tensor([0.5 - 1j], dtype=ct.complex128)) == "tensor([0.5000-1.j], dtype=complex128)"
    assert repr(ct.tensor(1.25j)) == "tensor(0.+1.2500j)"
    assert "nan" in repr(ct.tensor([complex(math.nan, 1)]))


# ---- promotion ---------------------------------------------------------------------


@pytest.mark.parametrize("a", REAL_DTYPES + COMPLEX_DTYPES, ids=str)
@pytest.mark.parametrize("b", COMPLEX_DTYPES, ids=str)
def test_promotion_follows_numpy(a, b):
    expected = np.promote_types(a.np, b.np)
    assert ct.promote_types(a, b).np == expected and ct.result_type(a, b).np == expected
    r = ct.ones(2, dtype=a) + ct.ones(2, dtype=b)
    assert r.dtype.np == expected


def test_python_scalars_are_weak():
    assert (ct.ones(2, dtype=ct.float64) + 1j).dtype is ct.complex128
    assert (ct.ones(2, dtype=ct.float32) * 1j).dtype is ct.complex64
    assert (ct.ones(2, dtype=ct.int64) + 1j).dtype is ct.complex64
    assert (ct.ones(2, dtype=ct.complex64) + 2.5).dtype is ct.complex64
    assert (ct.ones(2, dtype=ct.complex128) * 3).dtype is ct.complex128
    assert ct.result_type(ct.float64, 1j) is ct.complex128


# ---- element-wise kernels ---------------------------------------------------------------

UNARY = {
    "negative": np.negative, "square": np.square, "sqrt": np.sqrt, "reciprocal": np.reciprocal,
    "exp": np.exp, "log": np.log, "isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite,
    "abs": np.abs, "conj": np.conj, "real": np.real, "imag": np.imag,
    **{name: getattr(np, name) for name in ("sin", "cos", "tan", "tanh", "asin", "acos", "atan", "sinh", "cosh",
                                            "asinh", "acosh", "atanh", "log2", "log10", "sign", "round", "expm1",
                                            "log1p")},
}
BINARY = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
          "equal": np.equal, "not_equal": np.not_equal}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("d", CDT, ids=str)
def test_unary_against_numpy(name, d):
    rng = np.random.default_rng(1)
    for a in _layouts(_rand((4, 5), d, rng)):
        got = getattr(ct, name)(ct.from_numpy(a)).numpy()
        want = UNARY[name](a)
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        np.testing.assert_allclose(got, want, **TOL[d])


@settings(max_examples=50, deadline=None)
@given(complex_arrays, st.sampled_from(sorted(BINARY)), st.data())
def test_binary_against_numpy_broadcast(a, name, data):
    d = ct.tensor(a).dtype
    shape = data.draw(hnp.broadcastable_shapes(a.shape, max_dims=3, max_side=5))
    b = np.asarray((np.random.default_rng(len(shape)).uniform(-3, 3, shape) + 0.5j).astype(a.dtype))
    got = getattr(ct, name)(ct.from_numpy(a), ct.from_numpy(b)).numpy()
    with np.errstate(all="ignore"):
        want = BINARY[name](a, b)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, **TOL[d])


def test_operators_and_inplace():
    z = ct.tensor([1 + 1j, 2 - 1j])
    w = ct.tensor([0.5j, 3 + 0j])
    zn, wn = z.numpy().copy(), w.numpy().copy()
    np.testing.assert_allclose((z + w).numpy(), zn + wn)
    np.testing.assert_allclose((z - w).numpy(), zn - wn)
    np.testing.assert_allclose((z * w).numpy(), zn * wn)
    np.testing.assert_allclose((z / w).numpy(), zn / wn, rtol=1e-6)
    np.testing.assert_allclose((-z).numpy(), -zn)
    assert (z == z).tolist() == [True, True] and (z != w).tolist() == [True, True]
    z += w
    np.testing.assert_allclose(z.numpy(), zn + wn)
    z *= 2j
    np.testing.assert_allclose(z.numpy(), (zn + wn) * 2j)


SPECIAL = [complex(0, 0), complex(-0.0, 0), complex(math.inf, 0), complex(-math.inf, 1), complex(1, math.inf),
           complex(math.nan, 0), complex(0, math.nan), complex(math.inf, math.nan), complex(-math.inf, math.nan),
           complex(math.nan, math.inf), complex(-1, 0), complex(-1, -0.0), complex(1e300, 1e300)]


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "abs", "isnan", "isinf", "isfinite", "square", "sin", "cos",
                                  "tan", "tanh", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
                                  "log2", "log10", "round"])
def test_special_values_match_numpy(name):
    """NumPy's complex exp/log/sqrt/abs follow C99 Annex G, as the standard's special cases do."""
    a = np.array(SPECIAL, np.complex128)
    with np.errstate(all="ignore"):
        want = UNARY.get(name, getattr(np, name))(a)
        got = getattr(ct, name)(ct.from_numpy(a)).numpy()
    if name == "square":
        # An overflowing square is a complex infinity (C99 Annex G); which part comes out
        # NaN depends on whether a*a - b*b is contracted to an FMA (NumPy's build or
        # corten's SIMD level), so only "infinite" is asserted there.
        over = np.isinf(want.real) | np.isinf(want.imag)
        assert (np.isinf(got.real) | np.isinf(got.imag))[over].all(), got[over]
        got, want = got[~over], want[~over]
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = ~np.isnan(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-14)
    if got.dtype.kind == "c":  # signed zeros and the sign of infinities
        for part in ("real", "imag"):
            g, w = getattr(got, part)[finite], getattr(want, part)[finite]
            np.testing.assert_array_equal(np.signbit(g[g == 0]), np.signbit(w[g == 0]))


def test_multiply_divide_recover_infinities():
    inf = math.inf
    a = ct.tensor([complex(inf, inf)], dtype=ct.complex128)
    b = ct.tensor([complex(1, 0)], dtype=ct.complex128)
    assert math.isinf(abs((a * b).item()))
    assert (ct.tensor([1 + 1j], dtype=ct.complex128) / ct.tensor([0j], dtype=ct.complex128)).isinf().item()


def test_real_inputs_to_complex_functions():
    x = ct.tensor([1.5, -2.0])
    assert ct.real(x).tolist() == [1.5, -2.0] and ct.imag(x).tolist() == [0, 0] and ct.conj(x).tolist() == [1.5, -2]
    assert ct.real(x) is not x


# ---- reductions and matmul ---------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(complex_arrays, st.data())
def test_sum_mean_prod_against_numpy(a, data):
    d = ct.tensor(a).dtype
    axis = data.draw(st.none() | st.integers(-a.ndim, a.ndim - 1) if a.ndim else st.none())
    keep = data.draw(st.booleans())
    t = ct.from_numpy(a)
    for name in ("sum", "mean", "prod"):
        with np.errstate(all="ignore"):
            want = getattr(np, name)(a, axis=axis, keepdims=keep)
            got = getattr(ct, name)(t, axis=axis, keepdims=keep).numpy()
        assert got.dtype == want.dtype and got.shape == np.shape(want)
        if name == "prod":  # overflowing products may differ in NaN parts: compare where finite
            fin = np.isfinite(want)
            got, want = np.asarray(got)[fin], np.asarray(want)[fin]  # pairwise order: relative terms
            np.testing.assert_allclose(got, want, rtol=1e-4 if d is ct.complex64 else 1e-10, atol=1e-30)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-5 if d is ct.complex64 else 1e-12, atol=1e-3)


def test_reductions_edge_cases():
    e = ct.zeros((0, 3), dtype=ct.complex64)
    assert ct.prod(e, axis=0).tolist() == [1 + 0j] * 3 and ct.sum(e, axis=0).tolist() == [0j] * 3
    assert ct.sum(ct.tensor([1, 2]), dtype=ct.complex128).dtype is ct.complex128


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(CDT), st.integers(1, 7), st.integers(1, 7), st.integers(1, 7), st.integers(0, 2),
       st.booleans())
def test_matmul_against_numpy(d, m, k, n, batch, transposed):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a = _rand((batch + 1, m, k) if batch else (m, k), d, rng)
    b = _rand((k, n), d, rng)
    if transposed:
        a = np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2)
    got = (ct.from_numpy(a) @ ct.from_numpy(b)).numpy()
    want = a @ b
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-4 if d is ct.complex64 else 1e-12, atol=1e-4)


def test_matmul_mixed_and_vectors():
    a = ct.tensor([[1.0, 2.0]], dtype=ct.float64)
    z = ct.tensor([1j, 2 + 0j], dtype=ct.complex128)
    np.testing.assert_allclose((a @ z).numpy(), a.numpy() @ z.numpy())
    assert (a @ z).dtype is ct.complex128
    np.testing.assert_allclose(ct.matmul(z, z).numpy(), z.numpy() @ z.numpy())
    out = ct.zeros(1, dtype=ct.complex128)
    ct.matmul(a, z, out=out)
    np.testing.assert_allclose(out.numpy(), a.numpy() @ z.numpy())


# ---- what complex tensors do not support yet ----------------------------------------


def test_autograd_refuses_complex():
    with pytest.raises(RuntimeError, match="autograd does not support complex tensors yet"):
        ct.tensor([1j], requires_grad=True)
    with pytest.raises(RuntimeError, match="autograd does not support complex tensors yet"):
        ct.zeros(2, dtype=ct.complex64).requires_grad_()
    x = ct.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="autograd does not support complex tensors yet"):
        x * ct.tensor([1j, 1j])
    with pytest.raises(RuntimeError, match="autograd does not support complex tensors yet"):
        x + 1j
    with ct.no_grad():
        assert (x * ct.tensor([1j, 1j])).dtype is ct.complex64


@pytest.mark.parametrize("op", [op for op in OPS if not op.complex and op.name != "abs"], ids=lambda o: o.name)
def test_table_ops_without_complex_kernels_refuse(op):
    z = ct.tensor([1 + 1j])
    with pytest.raises(TypeError, match=f"{op.name} is not supported for complex tensors yet"):
        getattr(ct, op.name)(*([z] * op.arity))


@pytest.mark.parametrize("fn", ["max", "min", "argmax", "argmin", "var", "std"])
def test_reductions_without_complex_support_refuse(fn):
    with pytest.raises(TypeError, match="is not supported for complex tensors yet"):
        getattr(ct, fn)(ct.tensor([1j, 2j]))


def test_indexing_reads_complex():
    a = _rand((4, 3), ct.complex128, np.random.default_rng(3))
    t = ct.from_numpy(a)
    np.testing.assert_array_equal(t[1:, ::2].numpy(), a[1:, ::2])
    np.testing.assert_array_equal(t[ct.tensor([2, 0])].numpy(), a[[2, 0]])
    np.testing.assert_array_equal(t[t.real > 0].numpy(), a[a.real > 0])
    np.testing.assert_array_equal(ct.where(t.real > 0, t, 0).numpy(), np.where(a.real > 0, a, 0))


@pytest.mark.parametrize("call", [
    ("sort", lambda z: ct.sort(z)), ("sort", lambda z: ct.argsort(z)), ("topk", lambda z: ct.topk(z, 1)),
    ("unique", lambda z: ct.unique(z)), ("cumsum", lambda z: ct.cumsum(z)), ("cumprod", lambda z: ct.cumprod(z)),
    ("clip", lambda z: ct.clip(z, 0, 1)), ("logsumexp", lambda z: ct.logsumexp(z)),
], ids=lambda c: c[0] if isinstance(c, tuple) else "")
def test_other_ops_refuse_complex(call):
    name, fn = call
    with pytest.raises(TypeError, match="not supported for complex tensors"):
        fn(ct.tensor([1j, 2 + 0j]))


def test_products_built_on_matmul_and_nonzero():
    rng = np.random.default_rng(5)
    a, b = _rand(6, ct.complex128, rng), _rand(6, ct.complex128, rng)
    ta, tb = ct.from_numpy(a), ct.from_numpy(b)
    np.testing.assert_allclose(ct.vdot(ta, tb).numpy(), np.vdot(a, b), rtol=1e-12)
    np.testing.assert_allclose(ct.dot(ta, tb).numpy(), np.dot(a, b), rtol=1e-12)
    np.testing.assert_allclose(ct.outer(ta, tb).numpy(), np.outer(a, b), rtol=1e-12)
    np.testing.assert_allclose(ct.vector_norm(ta).numpy(), np.linalg.norm(a), rtol=1e-12)
    z = ct.tensor([0j, 1j, 0j, 2 + 0j])
    assert ct.nonzero(z)[0].tolist() == [1, 3]


def test_indexing_writes_complex():
    a = np.zeros((3, 4), np.complex128)
    t = ct.from_numpy(a.copy())
    t[1] = 1 + 2j
    a[1] = 1 + 2j
    t[ct.tensor([0, 2]), 1] = ct.tensor([3j, -1 + 0j], dtype=ct.complex128)
    a[[0, 2], 1] = [3j, -1]
    t[t.real == 0] = 5
    a[a.real == 0] = 5
    np.testing.assert_array_equal(t.numpy(), a)
    with pytest.raises(TypeError, match="cannot assign the complex value 1j to a float32 tensor"):
        ct.zeros(2)[0] = 1j
    with pytest.raises(TypeError, match="cannot cast complex64 to float32"):
        ct.zeros(2)[0] = ct.tensor(1j)


# ---- expm1, log1p: accuracy near 0 and the standard's special cases ---------------------


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(CDT), st.integers(-300, 1), *[st.one_of(st.just(0.0), st.floats(0.01, 1),
                                                                st.floats(-1, -0.01))] * 2)
def test_expm1_log1p_keep_their_digits_near_zero(d, exponent, u, v):
    """Against 50-digit mpmath: exp(z) - 1 and log(1 + z) would lose them all for tiny z."""
    mpmath = pytest.importorskip("mpmath")
    scale = 10.0 ** max(exponent, -30 if d is ct.complex64 else -300)
    z = np.asarray([complex(u * scale, v * scale)], d.np)
    zc = complex(z[0])
    with mpmath.workdps(50):
        want = {"expm1": complex(mpmath.expm1(mpmath.mpc(zc.real, zc.imag))),
                "log1p": complex(mpmath.log1p(mpmath.mpc(zc.real, zc.imag)))}
    eps = np.finfo(d.np).eps
    for name, w in want.items():
        got = complex(getattr(ct, name)(ct.from_numpy(z)).numpy()[0])
        # componentwise relative error, tiny parts judged against |w|
        assert abs(got - w) <= 16 * eps * abs(w) + 1e-300, (name, zc, got, w)


INF, NAN = math.inf, math.nan
PI = math.pi
# (z, (real, imag)) from the standard's special-case tables; None: the standard leaves that part's
# sign unspecified (not compared).
EXPM1_CASES = [
    (complex(0.0, 0.0), (0.0, 0.0)), (complex(-0.0, 0.0), (0.0, 0.0)), (complex(1.0, INF), (NAN, NAN)),
    (complex(1.0, NAN), (NAN, NAN)),
    (complex(INF, 0.0), (INF, 0.0)), (complex(-INF, 1.0), (-1.0, 0.0)), (complex(INF, 1.0), (INF, INF)),
    (complex(-INF, INF), (-1.0, None)), (complex(INF, INF), (None, NAN)), (complex(-INF, NAN), (-1.0, None)),
    (complex(INF, NAN), (None, NAN)), (complex(NAN, 0.0), (NAN, 0.0)), (complex(NAN, 1.0), (NAN, NAN)),
    (complex(NAN, NAN), (NAN, NAN)),
]
LOG1P_CASES = [
    (complex(-1.0, 0.0), (-INF, 0.0)), (complex(1.0, INF), (INF, PI / 2)), (complex(1.0, NAN), (NAN, NAN)),
    (complex(-INF, 1.0), (INF, PI)), (complex(INF, 1.0), (INF, 0.0)), (complex(-INF, INF), (INF, 3 * PI / 4)),
    (complex(INF, INF), (INF, PI / 4)), (complex(INF, NAN), (INF, NAN)), (complex(-INF, NAN), (INF, NAN)),
    (complex(NAN, 1.0), (NAN, NAN)), (complex(NAN, INF), (INF, NAN)), (complex(NAN, NAN), (NAN, NAN)),
]


@pytest.mark.parametrize("d", CDT, ids=str)
@pytest.mark.parametrize("name,cases", [("expm1", EXPM1_CASES), ("log1p", LOG1P_CASES)])
def test_expm1_log1p_special_cases_follow_the_standard(name, cases, d):
    for z, w in cases:
        for conj in (False, True):  # the tables hold for conj(z) -> conj(result) too
            zz = z.conjugate() if conj else z
            got = complex(getattr(ct, name)(ct.from_numpy(np.asarray([zz], d.np))).numpy()[0])
            for g, e, part in ((got.real, w[0], "real"), (got.imag, w[1], "imag")):
                if conj and part == "imag" and e is not None:
                    e = -e
                if e is None:
                    continue
                if math.isnan(e):
                    assert math.isnan(g), (name, zz, got, w)
                elif math.isinf(e) or e == 0:
                    assert g == e and math.copysign(1, g) == math.copysign(1, e), (name, zz, got, w, part)
                else:
                    assert g == pytest.approx(e, rel=1e-6), (name, zz, got, w, part)


def test_tanh_at_infinity_keeps_the_sign_of_the_imaginary_zero():
    """The standard's table: tanh(+inf + iy) = 1 + 0j for finite y > 0 (glibc's ctanh gives
    the zero sin(2y)'s sign); conj and odd symmetry give the other quadrants."""
    for d in CDT:
        z = np.array([complex(math.inf, 2.0), complex(math.inf, -2.0), complex(-math.inf, 2.0),
                      complex(-math.inf, -2.0), complex(math.inf, 0.0)], d.np)
        got = ct.tanh(ct.from_numpy(z)).numpy()
        np.testing.assert_array_equal(got.real, [1, 1, -1, -1, 1])
        assert got.imag.tolist() == [0, 0, 0, 0, 0]
        np.testing.assert_array_equal(np.signbit(got.imag), [False, True, False, True, False])
