"""corten.fft (the Array API fft extension) against numpy.fft: random shapes, axes,
n/s, norms, strided inputs; the input's precision is kept."""

import corten as ct
import numpy as np
import pytest
from corten import fft
from hypothesis import given, settings
from hypothesis import strategies as st

NORMS = ["backward", "ortho", "forward"]
CDT = {np.float32: np.complex64, np.float64: np.complex128, np.complex64: np.complex64,
       np.complex128: np.complex128}
RDT = {np.complex64: np.float32, np.complex128: np.float64, np.float32: np.float32, np.float64: np.float64}


def rand(rng, shape, dtype, strided):
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    a = a.astype(dtype)
    if strided and a.ndim:
        big = np.zeros(tuple(2 * s for s in a.shape), a.dtype)
        v = big[tuple(slice(None, None, 2) for _ in a.shape)]
        v[...] = a
        return v
    return a


def close(got, want, single):
    assert got._a.dtype == want.dtype, (got._a.dtype, want.dtype)
    assert got.shape == want.shape
    tol = 1e-4 if single else 1e-10
    np.testing.assert_allclose(got._a, want, rtol=tol, atol=tol * max(1.0, float(np.abs(want).max(initial=0))))


shapes = st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple)


@settings(max_examples=60, deadline=None)
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.float64, np.complex64, np.complex128]),
       name=st.sampled_from(["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]), norm=st.sampled_from(NORMS),
       n=st.one_of(st.none(), st.integers(1, 9)), strided=st.booleans(), seed=st.integers(0, 2**31),
       data=st.data())
def test_one_dimensional(shape, dtype, name, norm, n, strided, seed, data):
    rng = np.random.default_rng(seed)
    real_in = name in ("rfft", "ihfft")
    if real_in and np.dtype(dtype).kind == "c":
        dtype = RDT[dtype]
    if name in ("irfft", "hfft") and n is None and shape[-1] == 1:
        n = 2  # the default 2 * (m - 1) would be 0 points
    a = rand(rng, shape, dtype, strided)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    if name in ("irfft", "hfft") and n is None and shape[axis] == 1:
        n = 2
    got = getattr(fft, name)(ct.from_numpy(a), n=n, axis=axis, norm=norm)
    src = a if real_in or np.dtype(dtype).kind == "c" else a.astype(CDT[dtype])
    want = getattr(np.fft, name)(src, n=n, axis=axis, norm=norm)
    single = np.dtype(dtype) in (np.float32, np.complex64)
    out_kind = "f" if name in ("irfft", "hfft") else "c"
    want = want.astype((RDT if out_kind == "f" else CDT)[dtype])
    close(got, want, single)


@settings(max_examples=40, deadline=None)
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.float64, np.complex64, np.complex128]),
       name=st.sampled_from(["fftn", "ifftn", "rfftn", "irfftn"]), norm=st.sampled_from(NORMS),
       strided=st.booleans(), seed=st.integers(0, 2**31), data=st.data())
def test_n_dimensional(shape, dtype, name, norm, strided, seed, data):
    rng = np.random.default_rng(seed)
    if name == "rfftn" and np.dtype(dtype).kind == "c":
        dtype = RDT[dtype]
    a = rand(rng, shape, dtype, strided)
    axes = data.draw(st.one_of(st.none(), st.permutations(range(len(shape))).flatmap(
        lambda p: st.integers(1, len(p)).map(lambda k: tuple(p[:k])))))
    nax = len(shape) if axes is None else len(axes)
    s = data.draw(st.one_of(st.none(), st.lists(st.integers(1, 7), min_size=nax, max_size=nax).map(tuple)))
    last = (len(shape) - 1) if axes is None else axes[-1]
    if name == "irfftn" and s is None and shape[last] == 1:
        return  # 2 * (1 - 1) = 0 points: NumPy refuses too
    np_axes = axes if axes is not None else (None if s is None else tuple(range(len(shape) - len(s), len(shape))))
    got = getattr(fft, name)(ct.from_numpy(a), s=s, axes=axes, norm=norm)
    src = a if name == "rfftn" or np.dtype(dtype).kind == "c" else a.astype(CDT[dtype])
    want = getattr(np.fft, name)(src, s=s, axes=np_axes, norm=norm)
    want = want.astype((RDT if name == "irfftn" else CDT)[dtype])
    close(got, want, np.dtype(dtype) in (np.float32, np.complex64))


def test_s_minus_one_keeps_the_axis_length():
    a = np.arange(12.0).reshape(3, 4) + 0j
    got = fft.fftn(ct.tensor(a), s=(-1, 6))
    np.testing.assert_allclose(got._a, np.fft.fftn(a, s=(3, 6), axes=(0, 1)))
    got = fft.irfftn(ct.tensor(a), s=(2, -1))
    np.testing.assert_allclose(got._a, np.fft.irfftn(a, s=(2, 6), axes=(0, 1)))


@pytest.mark.parametrize("fn", [fft.fftfreq, fft.rfftfreq])
def test_freqs(fn):
    for n in (1, 4, 7):
        got = fn(n, d=0.5)
        assert got.dtype == ct.float32
        np.testing.assert_allclose(got._a, getattr(np.fft, fn.__name__)(n, 0.5), rtol=1e-6)
        assert fn(n, dtype=ct.float64).dtype == ct.float64
    with pytest.raises(ValueError, match="device"):
        fn(4, device="gpu")
    with pytest.raises(TypeError, match="real floating"):
        fn(4, dtype=ct.int64)
    with pytest.raises(ValueError, match="positive"):
        fn(0)


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 5), min_size=1, max_size=3).map(tuple), seed=st.integers(0, 2**31),
       data=st.data())
def test_shifts(shape, seed, data):
    a = np.random.default_rng(seed).standard_normal(shape)
    axes = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                               st.lists(st.integers(0, len(shape) - 1), max_size=2, unique=True).map(tuple)))
    np.testing.assert_array_equal(fft.fftshift(ct.from_numpy(a), axes=axes)._a, np.fft.fftshift(a, axes=axes))
    np.testing.assert_array_equal(fft.ifftshift(ct.from_numpy(a), axes=axes)._a, np.fft.ifftshift(a, axes=axes))


def test_shift_is_differentiable():
    x = ct.tensor(np.arange(5.0), requires_grad=True)
    (fft.fftshift(x) * ct.tensor(np.arange(5.0))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.fft.ifftshift(np.arange(5.0)))


def test_bad_input():
    z = ct.tensor(np.ones(4) + 0j)
    with pytest.raises(ValueError, match="norm"):
        fft.fft(z, norm="none")
    with pytest.raises(ValueError, match="positive"):
        fft.fft(z, n=0)
    with pytest.raises(TypeError, match="real"):
        fft.rfft(z)
    with pytest.raises(ValueError, match="same length"):
        fft.fftn(z, s=(2, 2), axes=(0,))
    with pytest.raises(ValueError, match="repeated"):
        fft.fftn(ct.ones((2, 2)) + 0j, axes=(0, 0))
    with pytest.raises(RuntimeError, match="complex"):
        fft.rfft(ct.ones(4, requires_grad=True))
    with pytest.raises(RuntimeError, match="complex"):
        fft.fft(ct.ones(4, requires_grad=True))
    with ct.no_grad():
        assert fft.rfft(ct.ones(4, requires_grad=True)).dtype == ct.complex64
    assert ct.fft is fft
