"""matmul and the products built on it, against NumPy with a float64 reference."""

from __future__ import annotations

import itertools
import os

import corten as ct
import numpy as np
import pytest
from corten.autograd import gradcheck
from hypothesis import given, settings
from hypothesis import strategies as st

RNG = np.random.default_rng(1234)


def rand(shape, dtype=np.float64):
    if np.dtype(dtype).kind == "f":
        return RNG.standard_normal(shape).astype(dtype)
    if np.dtype(dtype) == np.bool_:
        return RNG.random(shape) > 0.5
    return RNG.integers(0, 50, shape).astype(dtype)


def reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.matmul(a.astype(np.float64), b.astype(np.float64))


def assert_close(got, a, b, extra=None):
    """|got - ref| within a few ulps of sum |a||b| (per element), the bound for
    any summation order."""
    got = np.asarray(got)
    ref = reference(a, b)
    scale = np.matmul(np.abs(a).astype(np.float64), np.abs(b).astype(np.float64))
    if extra is not None:
        ref = ref + extra
        scale = scale + np.abs(extra)
    k = a.shape[-1]
    eps = np.finfo(got.dtype).eps
    tol = 4 * eps * max(k, 1) ** 0.5 * scale + np.finfo(got.dtype).tiny
    assert got.shape == ref.shape
    assert np.all(np.abs(got - ref) <= tol), np.max(np.abs(got - ref) / (scale + 1e-300))


def mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ct.matmul(ct.from_numpy(a), ct.from_numpy(b)).numpy()


# ---- shapes -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_small_m_n(dtype):
    # every (m, n) in 1..70, k cycling through 0..70
    ks = itertools.cycle(range(71))
    for m in range(1, 71):
        for n in range(1, 71):
            k = next(ks)
            a, b = rand((m, k), dtype), rand((k, n), dtype)
            assert_close(mm(a, b), a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_k(dtype):
    for k in range(0, 71):
        for m, n in [(1, 1), (5, 17), (13, 70), (70, 3)]:
            a, b = rand((m, k), dtype), rand((k, n), dtype)
            assert_close(mm(a, b), a, b)


PRIMES = [1, 2, 3, 5, 7, 13, 31, 61, 97, 127, 131, 257, 263, 509, 521, 599]


def _layout(x: np.ndarray, kind: str) -> np.ndarray:
    if kind == "c":
        return x
    if kind == "f":  # transposed storage
        return np.asfortranarray(x)
    if kind == "step":  # stepped slice of a bigger array
        big = np.zeros((x.shape[0] * 2, x.shape[1] * 3), x.dtype)
        big[::2, ::3] = x
        return big[::2, ::3]
    if kind == "neg":  # negative strides
        return np.ascontiguousarray(x[::-1, ::-1])[::-1, ::-1]
    raise AssertionError(kind)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_prime_sizes_and_layouts(dtype):
    rng = np.random.default_rng(7)
    kinds = ["c", "f", "step", "neg"]
    for _ in range(24):
        m, n, k = (int(x) for x in rng.choice(PRIMES, 3))
        ka, kb = rng.choice(kinds, 2)
        a, b = rand((m, k), dtype), rand((k, n), dtype)
        assert_close(mm(_layout(a, ka), _layout(b, kb)), a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_broadcast_zero_stride_operands(dtype):
    for m, n, k in [(5, 7, 9), (64, 65, 300), (300, 2, 513), (1, 300, 40), (300, 1, 40)]:
        a = np.broadcast_to(rand((1, k), dtype), (m, k))
        b = np.broadcast_to(rand((k, 1), dtype), (k, n))
        assert_close(mm(a, b), a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_layouts_and_accumulate(dtype):
    for m, n, k in [(7, 9, 11), (130, 70, 257), (1, 33, 40), (45, 1, 300)]:
        a, b = rand((m, k), dtype), rand((k, n), dtype)
        for kind in ("c", "f", "step", "neg"):
            init = rand((m, n), dtype)
            out = ct.from_numpy(_layout(init.copy(), kind))
            r = ct.matmul(ct.from_numpy(a), ct.from_numpy(b), out=out)
            assert r is out
            assert_close(out.numpy(), a, b)
            out2 = ct.from_numpy(_layout(init.copy(), kind))
            ct.matmul(ct.from_numpy(a), ct.from_numpy(b), out=out2, accumulate=True)
            assert_close(out2.numpy(), a, b, extra=init.astype(np.float64))


def test_k_zero_and_empty():
    a, b = np.zeros((3, 0)), np.zeros((0, 4))
    np.testing.assert_array_equal(mm(a, b), np.zeros((3, 4)))
    out = ct.from_numpy(np.ones((3, 4)))
    ct.matmul(ct.from_numpy(a), ct.from_numpy(b), out=out, accumulate=True)
    np.testing.assert_array_equal(out.numpy(), np.ones((3, 4)))
    for sa, sb in [((0, 3), (3, 4)), ((2, 3), (3, 0)), ((0, 2, 3), (3, 4)), ((5, 0, 3), (5, 3, 0))]:
        r = mm(np.ones(sa), np.ones(sb))
        assert r.shape == np.matmul(np.ones(sa), np.ones(sb)).shape


@pytest.mark.parametrize(
    "sa, sb",
    [
        ((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((2, 3, 4), (4,)), ((4,), (2, 4, 5)),
        ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (1, 5, 4, 6)), ((3, 4), (7, 4, 2)), ((7, 3, 4), (4, 2)),
        ((1, 3, 4), (6, 4, 2)), ((50, 8, 8), (50, 8, 8)), ((200, 20, 64), (64, 70)),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_semantics(sa, sb, dtype):
    a, b = rand(sa, dtype), rand(sb, dtype)
    r = ct.matmul(ct.from_numpy(a), ct.from_numpy(b))
    expect = np.matmul(a, b)
    assert r.shape == expect.shape
    assert r.dtype == expect.dtype
    np.testing.assert_allclose(r.numpy(), expect, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-4)
    r2 = ct.from_numpy(a) @ ct.from_numpy(b)
    np.testing.assert_array_equal(r2.numpy(), r.numpy())


def test_batched_transposed_views():
    a = rand((6, 5, 4))
    b = rand((6, 3, 5))
    ta = ct.from_numpy(a).permute(0, 2, 1)  # (6, 4, 5)
    tb = ct.from_numpy(b).permute(0, 2, 1)  # (6, 5, 3)
    np.testing.assert_allclose((ta @ tb).numpy(), np.matmul(a.transpose(0, 2, 1), b.transpose(0, 2, 1)))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.bool_])
def test_integer_and_bool(dtype):
    for sa, sb in [((3, 4), (4, 5)), ((2, 3, 4), (4,)), ((17, 33), (33, 1)), ((3, 0), (0, 2))]:
        a, b = rand(sa, dtype), rand(sb, dtype)
        r = ct.matmul(ct.from_numpy(a), ct.from_numpy(b))
        expect = np.matmul(a, b)
        assert r.dtype == expect.dtype
        np.testing.assert_array_equal(r.numpy(), expect)


def test_mixed_dtypes_promote():
    a, b = rand((3, 4), np.float32), rand((4, 2), np.float64)
    r = ct.matmul(ct.from_numpy(a), ct.from_numpy(b))
    assert r.dtype == ct.float64
    i = rand((4, 2), np.int64)
    assert ct.matmul(ct.from_numpy(a), ct.from_numpy(i)).dtype == np.matmul(a, i).dtype


# ---- errors ---------------------------------------------------------------------------


def test_errors():
    x = ct.from_numpy
    msg = r"core dimension 0.*size 3 is different from 4.*\(2,4\) and \(3,5\)"
    with pytest.raises(ValueError, match=msg):
        ct.matmul(x(np.ones((2, 4))), x(np.ones((3, 5))))
    with pytest.raises(ValueError, match=r"could not be broadcast.*\(2,3,4\) \(3,4,5\)"):
        ct.matmul(x(np.ones((2, 3, 4))), x(np.ones((3, 4, 5))))
    with pytest.raises(ValueError, match="does not have enough dimensions"):
        ct.matmul(x(np.ones((2, 2))), 3.0)
    with pytest.raises(ValueError, match=r"size 2 is different from 3.*\(3,\) and \(2,\)"):
        ct.matmul(x(np.ones(3)), x(np.ones(2)))
    with pytest.raises(ValueError, match=r"output with shape \(2,2\)"):
        ct.matmul(x(np.ones((2, 3))), x(np.ones((3, 4))), out=x(np.zeros((2, 2))))
    with pytest.raises(TypeError):
        ct.matmul(x(np.ones((2, 3))), "abc")
    with pytest.raises(ValueError, match="not aligned"):
        ct.dot(x(np.ones((2, 3))), x(np.ones((2, 3))))
    with pytest.raises(ValueError, match="shape-mismatch"):
        ct.tensordot(x(np.ones((2, 3))), x(np.ones((2, 3))), axes=1)
    with pytest.raises(ValueError, match="label 'j'"):
        ct.einsum("ij,jk->ik", x(np.ones((2, 3))), x(np.ones((4, 5))))
    with pytest.raises(ValueError):
        ct.einsum("ij,jk->ik", x(np.ones((2, 3))))
    with pytest.raises(ValueError, match="vdot"):
        ct.vdot(x(np.ones(3)), x(np.ones(4)))


def test_kernel_rejects_bad_views():
    # The C++ entry point validates on its own too (NumPy-style messages).
    msg = r"Input operand 1 has a mismatch in its core dimension 0.*size 3 is different from 4"
    with pytest.raises(ValueError, match=msg):
        ct._C.matmul(np.ones((2, 4)), np.ones((3, 5)), np.empty((2, 5)), False)
    with pytest.raises(ValueError, match=r"Output operand 0 has a mismatch in its core dimension 1"):
        ct._C.matmul(np.ones((2, 4)), np.ones((4, 5)), np.empty((2, 6)), False)
    with pytest.raises(ValueError, match="dtype"):
        ct._C.matmul(np.ones((2, 4)), np.ones((4, 5), np.float32), np.empty((2, 5)), False)
    with pytest.raises(ValueError, match="same number of dimensions"):
        ct._C.matmul(np.ones((2, 4)), np.ones((1, 4, 5)), np.empty((1, 2, 5)), False)


def test_out_aliasing_input():
    a = rand((5, 5))
    b = rand((5, 5))
    t = ct.from_numpy(a.copy())
    ct.matmul(t, ct.from_numpy(b), out=t)
    np.testing.assert_allclose(t.numpy(), a @ b)
    t = ct.from_numpy(a.copy())
    t @= ct.from_numpy(b)
    np.testing.assert_allclose(t.numpy(), a @ b)


# ---- threads and kernels --------------------------------------------------------------


@pytest.fixture
def restore_threads():
    n = ct.get_num_threads()
    yield
    ct.set_num_threads(n)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_thread_count_does_not_change_results(dtype, restore_threads):
    shapes = [(600, 599, 521), (1000, 64, 300), (64, 1000, 300), (7, 2000, 600), (2000, 7, 600),
              (1, 5000, 300), (5000, 1, 300), (130, 130, 1000), (33, 45, 57), (128, 10, 512)]
    for m, n, k in shapes:
        a, b = rand((m, k), dtype), rand((k, n), dtype)
        res = {}
        for t in (1, 2, 3, 8):
            ct.set_num_threads(t)
            res[t] = (mm(a, b), mm(np.asfortranarray(a), b))
        for t in (2, 3, 8):
            assert res[t][0].tobytes() == res[1][0].tobytes(), ((m, n, k), t)
            assert res[t][1].tobytes() == res[1][1].tobytes(), ((m, n, k), t, "F-order A")
    a, b = rand((40, 30, 20), dtype), rand((40, 20, 10), dtype)
    ct.set_num_threads(1)
    r1 = mm(a, b)
    for t in (2, 3, 8):
        ct.set_num_threads(t)
        assert mm(a, b).tobytes() == r1.tobytes(), t


@pytest.fixture
def fallback():
    ct.set_gemm_fallback(True)
    yield
    ct.set_gemm_fallback(False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_portable_kernel(dtype, fallback):
    assert ct.gemm_kernel() == "portable"
    for m, n, k in [(1, 1, 1), (6, 16, 8), (7, 17, 9), (37, 41, 300), (130, 70, 257), (3, 200, 5)]:
        for ka, kb in [("c", "c"), ("f", "step"), ("neg", "f")]:
            a, b = rand((m, k), dtype), rand((k, n), dtype)
            assert_close(mm(_layout(a, ka), _layout(b, kb)), a, b)


def test_kernel_name():
    assert ct.gemm_kernel() in ("avx512", "avx2-fma", "portable")


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


_LEVELS = {"portable": "portable", "avx2": "avx2-fma", "avx512": "avx512"}


@pytest.fixture(params=list(_LEVELS))
def gemm_level(request):
    """Runs the test once per micro-kernel this CPU has, then restores the level in force."""
    before = {v: k for k, v in _LEVELS.items()}[ct.gemm_kernel()]
    try:
        ct.set_gemm_kernel(request.param)
    except ValueError:
        pytest.skip(f"this CPU has no {request.param} kernel")
    if ct.gemm_kernel() != _LEVELS[request.param]:  # held lower by another setting (forced fallback)
        ct.set_gemm_kernel(before)
        pytest.skip(f"another setting holds the kernel below {request.param}")
    yield request.param
    ct.set_gemm_kernel(before)


def test_best_kernel_matches_cpu():
    flags = _cpu_flags()
    if not flags:
        pytest.skip("no /proc/cpuinfo")
    capped = [v for v in ("CORTEN_GEMM_FALLBACK", "CORTEN_GEMM_KERNEL", "CORTEN_SIMD") if os.environ.get(v)]
    if capped:
        pytest.skip(f"{capped[0]} caps the kernel")
    want = "avx512" if "avx512f" in flags else "avx2-fma" if {"avx2", "fma"} <= flags else "portable"
    assert ct.gemm_kernel() == want


def test_set_gemm_kernel_rejects_bad_names():
    with pytest.raises(ValueError, match="unknown kernel 'sse9'"):
        ct.set_gemm_kernel("sse9")
    assert ct.gemm_kernel() in ("avx512", "avx2-fma", "portable")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_kernel_matches_numpy(dtype, gemm_level, restore_threads):
    assert ct.gemm_kernel() == _LEVELS[gemm_level]
    # Tile edges of every level (AVX2 6 x 16/8, AVX-512 14 x 32/16): the tile, one less, one more.
    shapes = [(1, 1, 1), (6, 16, 8), (7, 17, 9), (5, 15, 1), (6, 8, 2), (37, 41, 300), (130, 70, 257),
              (3, 200, 5), (64, 48, 513), (300, 301, 302), (14, 32, 7), (13, 31, 256), (15, 33, 257),
              (14, 16, 3), (13, 15, 40), (29, 65, 129), (112, 96, 300)]
    for m, n, k in shapes:
        for ka, kb in [("c", "c"), ("f", "step"), ("neg", "f"), ("step", "neg")]:
            a, b = rand((m, k), dtype), rand((k, n), dtype)
            assert_close(mm(_layout(a, ka), _layout(b, kb)), a, b)
            c0 = rand((m, n), dtype)
            out = ct.from_numpy(c0.copy())
            ct.matmul(ct.from_numpy(_layout(a, ka)), ct.from_numpy(_layout(b, kb)), out=out, accumulate=True)
            assert_close(out.numpy(), a, b, extra=c0)
    # Several KC, MC and NC blocks.
    a, b = rand((700, 600), dtype), rand((600, 650), dtype)
    assert_close(mm(a, b), a, b)
    a, b = rand((300, 257), dtype), rand((257, 190), dtype)
    ct.set_num_threads(1)
    r1 = mm(a, b)
    for t in (2, 3):
        ct.set_num_threads(t)
        assert mm(a, b).tobytes() == r1.tobytes(), t


# ---- the fused epilogue (bias, ReLU) ---------------------------------------------------------


def _separate(a: np.ndarray, b: np.ndarray, bias: np.ndarray | None, relu: bool) -> np.ndarray:
    """matmul, then add, then relu: corten's separate ops, the bits the epilogue must give."""
    y = ct.matmul(ct.from_numpy(a), ct.from_numpy(b))
    if bias is not None:
        y = y + ct.from_numpy(np.ascontiguousarray(bias))
    return (ct.relu(y) if relu else y).numpy()


def _fused(a: np.ndarray, b: np.ndarray, bias: np.ndarray | None, relu: bool) -> np.ndarray:
    out = np.empty((a.shape[0], b.shape[1]), a.dtype)
    ct._C.matmul_epilogue(a, b, out, None if bias is None else np.broadcast_to(bias, out.shape), relu)
    if bias is not None and bias.ndim == 1:  # a 1-D bias is also taken as it is (nn.Linear's)
        flat = np.empty_like(out)
        ct._C.matmul_epilogue(a, b, flat, bias, relu)
        assert flat.tobytes() == out.tobytes()
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_epilogue_is_the_separate_ops(dtype, gemm_level, restore_threads):
    """Bias (row vector, column vector, full matrix, none) and ReLU in the GEMM give the bits of
    matmul + add + relu, on every kernel level, for tile edges, the matrix-vector and narrow
    routes, transposed and strided operands (which may flip the product to C^T = B^T A^T), and
    any thread count; and NumPy's values within the GEMM's tolerance."""
    shapes = [(1, 1, 1), (14, 32, 7), (13, 31, 256), (15, 33, 257), (7, 17, 9), (37, 1, 40), (1, 45, 40),
              (64, 3, 300), (3, 64, 300), (130, 70, 600), (0, 5, 3), (4, 5, 0)]
    for m, n, k in shapes:
        a, b = rand((m, k), dtype), rand((k, n), dtype)
        biases = [None, rand((n,), dtype), rand((m, 1), dtype), rand((m, n), dtype)]
        for ka, kb in [("c", "c"), ("f", "step"), ("neg", "f")]:
            la, lb = _layout(a, ka), _layout(b, kb)
            for bias in biases:
                for relu in (False, True):
                    for t in (1, 2):
                        ct.set_num_threads(t)
                        got = _fused(la, lb, bias, relu)
                        assert got.tobytes() == _separate(la, lb, bias, relu).tobytes(), (m, n, k, ka, kb, relu)
                    want = reference(a, b) + (0 if bias is None else bias)
                    if relu:
                        assert (got[want < -1e-3] == 0).all() and (got >= 0).all()
                    else:
                        assert_close(got, a, b, extra=None if bias is None else np.broadcast_to(bias, got.shape))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_epilogue_mask_is_matmul_then_relu_backward(dtype, gemm_level, restore_threads):
    """A mask (ReLU's output) in the epilogue gives the bits of matmul, then relu_backward
    (y > 0 ? g : 0, NaN y giving 0), for tile edges, the narrow and matrix-vector routes,
    transposed and strided operands and masks, and 1 or 2 threads."""
    for m, n, k in [(1, 1, 1), (14, 32, 7), (128, 512, 10), (15, 33, 257), (37, 1, 40), (1, 45, 40),
                    (64, 3, 300), (130, 70, 600), (0, 5, 3), (4, 5, 0)]:
        a, b = rand((m, k), dtype), rand((k, n), dtype)
        mask = rand((m, n), dtype)
        if mask.size:
            mask.flat[:: 7] = np.nan
            mask.flat[1:: 11] = 0.0
        for ka, kb, km in [("c", "c", "c"), ("f", "step", "f"), ("neg", "f", "c")]:
            la, lb, lm = _layout(a, ka), _layout(b, kb), _layout(mask, km)
            want_g = ct.matmul(ct.from_numpy(la), ct.from_numpy(lb)).numpy()
            want = np.empty_like(want_g)
            ct._C.relu_backward(np.ascontiguousarray(lm), want_g, want)
            for t in (1, 2):
                ct.set_num_threads(t)
                got = np.empty((m, n), dtype)
                ct._C.matmul_epilogue(la, lb, got, None, False, lm)
                assert got.tobytes() == want.tobytes(), (m, n, k, ka, kb, km, t)


def test_epilogue_relu_keeps_nan_and_clears_negative_zero():
    a = np.array([[np.nan, 1.0], [0.0, 0.0], [-1.0, 0.0]], np.float32)
    b = np.array([[1.0], [1.0]], np.float32)
    got = _fused(a, b, np.array([-0.0], np.float32), True)
    assert np.isnan(got[0, 0]) and got[1, 0] == 0 and not np.signbit(got[1, 0]) and got[2, 0] == 0
    assert got.tobytes() == _separate(a, b, np.array([-0.0], np.float32), True).tobytes()


def test_epilogue_rejects_bad_operands():
    a, b = np.ones((3, 4), np.float32), np.ones((4, 5), np.float32)
    out = np.empty((3, 5), np.float32)
    with pytest.raises(ValueError, match=r"shapes do not match: \(3,4\) @ \(5,5\)"):
        ct._C.matmul_epilogue(a, np.ones((5, 5), np.float32), out, None, False)
    with pytest.raises(ValueError, match="shapes do not match"):
        ct._C.matmul_epilogue(a, b, out, np.ones((3, 4), np.float32), False)
    with pytest.raises(ValueError, match=r"shapes do not match: \(3,4\) @ \(4,5\) -> \(3,5\) \+ bias \(3,\)"):
        ct._C.matmul_epilogue(a, b, out, np.ones(3, np.float32), False)
    with pytest.raises(ValueError, match="dtype mismatch"):
        ct._C.matmul_epilogue(a, b, out, np.ones((3, 5), np.float64), True)
    with pytest.raises(ValueError, match="float32 or float64"):
        ct._C.matmul_epilogue(a.astype(np.int32), b.astype(np.int32), out.astype(np.int32), None, True)
    with pytest.raises(ValueError, match="2-D"):
        ct._C.matmul_epilogue(a[None], b[None], out[None], None, False)
    with pytest.raises(ValueError, match=r"the mask must have the output's shape, got .* masked by \(5,3\)"):
        ct._C.matmul_epilogue(a, b, out, None, False, np.ones((5, 3), np.float32))
    with pytest.raises(ValueError, match="the mask must be float32, got float64"):
        ct._C.matmul_epilogue(a, b, out, None, False, np.ones((3, 5), np.float64))


# ---- products built on matmul -----------------------------------------------------------


def test_dot_vdot_inner_outer_tensordot():
    x = ct.from_numpy
    a3, b3 = rand((2, 3, 4)), rand((5, 4, 6))
    np.testing.assert_allclose(ct.dot(x(a3), x(b3)).numpy(), np.dot(a3, b3))
    for sa, sb in [((4,), (4,)), ((3, 4), (4,)), ((3, 4), (4, 2)), ((2, 3, 4), (4, 5)), ((), (3, 2))]:
        a, b = rand(sa), rand(sb)
        np.testing.assert_allclose(ct.dot(x(a), x(b)).numpy(), np.dot(a, b))
    a, b = rand((3, 4)), rand((2, 6))
    np.testing.assert_allclose(ct.vdot(x(a), x(b)).numpy(), np.vdot(a, b))
    for sa, sb in [((4,), (4,)), ((3, 4), (5, 4)), ((2, 3, 4), (4,)), ((), (2, 3))]:
        a, b = rand(sa), rand(sb)
        np.testing.assert_allclose(ct.inner(x(a), x(b)).numpy(), np.inner(a, b))
    a, b = rand((3, 2)), rand((4,))
    np.testing.assert_allclose(ct.outer(x(a), x(b)).numpy(), np.outer(a, b))
    a, b = rand((3, 4, 5)), rand((4, 5, 6))
    np.testing.assert_allclose(ct.tensordot(x(a), x(b)).numpy(), np.tensordot(a, b))
    c = rand((5, 2))
    np.testing.assert_allclose(ct.tensordot(x(a), x(c), axes=1).numpy(), np.tensordot(a, c, 1))
    a2, b2 = rand((3, 4, 5)), rand((5, 3, 2))
    np.testing.assert_allclose(ct.tensordot(x(a2), x(b2), axes=([0, 2], [1, 0])).numpy(),
                               np.tensordot(a2, b2, axes=([0, 2], [1, 0])))
    np.testing.assert_allclose(ct.tensordot(x(a2), x(rand((7,))), axes=0).numpy().shape, (3, 4, 5, 7))


EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,kj->ik", [(3, 4), (5, 4)]),
    ("i,i->", [(6,), (6,)]),
    ("ij->ji", [(3, 4)]),
    ("bi,bi->b", [(5, 7), (5, 7)]),
    ("ij,j->i", [(3, 4), (4,)]),
    ("ij->", [(3, 4)]),
    ("ij->i", [(3, 4)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("ijk,ik->j", [(2, 3, 4), (2, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("i,j->ij", [(3,), (4,)]),
    ("abc,cd->dba", [(2, 3, 4), (4, 5)]),
    ("ij,k->ik", [(3, 4), (5,)]),
]


@pytest.mark.parametrize("spec, shapes", EINSUM_CASES)
def test_einsum(spec, shapes):
    arrs = [rand(s) for s in shapes]
    r = ct.einsum(spec, *[ct.from_numpy(a) for a in arrs])
    np.testing.assert_allclose(r.numpy(), np.einsum(spec, *arrs), rtol=1e-12, atol=1e-12)


# Ellipsis broadcasting and repeated subscripts (diagonals), against np.einsum.
EINSUM_EXTENDED = [
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("ii->", [(3, 3)]),
    ("iij->ij", [(3, 3, 2)]),
    ("iij", [(3, 3, 2)]),
    ("iii->i", [(3, 3, 3)]),
    ("ijij->ij", [(2, 3, 2, 3)]),
    ("jii->ij", [(2, 3, 3)]),
    ("ii,i->i", [(3, 3), (3,)]),
    ("ij,jj->i", [(2, 3), (3, 3)]),
    ("...ij->...ji", [(2, 3, 4, 5)]),
    ("...ij->...ji", [(3, 4)]),
    ("...ij,...jk->...ik", [(5, 1, 2, 3), (4, 3, 2)]),
    ("...ij,...jk", [(2, 2, 3), (3, 4)]),
    ("...i,...i->...", [(2, 1, 3), (4, 3)]),
    ("i...->...", [(3, 4, 5)]),
    ("ij...", [(2, 3, 4)]),
    ("i...", [(3, 4, 2)]),
    ("...", [(2, 3)]),
    ("...,...", [(3,), (2, 1)]),
    ("i...i->i...", [(2, 5, 2)]),
    ("i...i", [(2, 5, 2)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("ba...,a->...b", [(2, 3, 4), (3,)]),
    ("ij,j->i...", [(2, 3), (3,)]),
    ("i,i->...", [(3,), (3,)]),
    ("i,i->i", [(1,), (3,)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),
    ("ii->i", [(0, 0)]),
    ("ii", [(0, 0)]),
    ("...ij,jk->...ik", [(0, 2, 3), (3, 4)]),
    ("i,i->i", [(1,), (0,)]),
    ("Ab,bA", [(2, 3), (3, 2)]),
    ("bA", [(2, 3)]),
]


@pytest.mark.parametrize("spec, shapes", EINSUM_EXTENDED)
def test_einsum_ellipsis_and_diagonals(spec, shapes):
    arrs = [rand(s) for s in shapes]
    r = ct.einsum(spec, *[ct.from_numpy(a) for a in arrs])
    want = np.einsum(spec, *arrs)
    assert r.shape == want.shape and r.dtype == ct.float64
    np.testing.assert_allclose(r.numpy(), want, rtol=1e-12, atol=1e-12)


def test_einsum_dtypes_and_layouts():
    a = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    t = ct.tensor(a)
    for spec, ops in [("...ij->...ji", [a]), ("iij->ij", [a[:, :2, :2].transpose(1, 2, 0)]),
                      ("ij,ij->i", [a[0], a[1]])]:
        want = np.einsum(spec, *ops)
        got = ct.einsum(spec, *[ct.tensor(o) for o in ops])
        assert got.dtype == ct.int64
        np.testing.assert_array_equal(got.numpy(), want)
    # strided, transposed and reversed views as operands
    b = rand((4, 6, 6))
    for v in (b[:, ::2, ::2], b.transpose(1, 2, 0)[:4, :4], b[::-1, 1:5, 1:5]):
        np.testing.assert_allclose(ct.einsum("...ii->...i", ct.from_numpy(v)).numpy(), np.einsum("...ii->...i", v))
    # float32 with int operands promote as NumPy does
    f = rand((3, 3), np.float32)
    assert ct.einsum("ii,i->i", ct.tensor(f), ct.tensor(np.arange(3, dtype=np.int32))).dtype == ct.float64
    assert ct.einsum("ii", t[0, :2, :2]).dtype == ct.int64
    # the diagonal of one operand is a view of it, as in NumPy
    d = ct.einsum("ii->i", ct.tensor(np.eye(3)))
    assert d.shape == (3,) and d.numpy().tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "spec, shapes, match",
    [
        ("ii", [(2, 3)], r"collapsing index 'i' don't match \(2 != 3\)"),
        ("ii,i->i", [(1, 3), (3,)], r"collapsing index 'i'"),
        ("...i,...i", [(2, 3), (3, 3)], r"label '\.\.\.' \(dimension 0\) for operand 1 \(3\).*\(2\)"),
        ("...->", [(2, 3)], r"no '\.\.\.'"),
        ("i...", [()], r"operand 0 has 0 dimensions"),
        ("ij", [(2,)], r"operand 0 has 1 dimensions but subscripts 'ij' name 2 \(use '\.\.\.'"),
        ("i.j", [(2, 2)], r"'\.' that is not part of one ellipsis"),
        ("...i...", [(2, 2)], r"'\.' that is not part of one ellipsis"),
        ("..i", [(2, 3)], r"'\.' that is not part of one ellipsis"),
        ("i->..i", [(2,)], r"'\.' that is not part of one ellipsis"),
        ("i->ii", [(3,)], r"output subscript repeated"),
        ("i->j", [(3,)], r"output subscript 'j' does not appear"),
        ("i1", [(3, 3)], r"invalid subscript '1'"),
        ("i->i->i", [(3,)], r"invalid subscripts"),
        ("ij,jk", [(2, 3)], r"2 operand subscripts for 1 operands"),
    ],
)
def test_einsum_bad_subscripts(spec, shapes, match):
    with pytest.raises(ValueError, match=match):
        ct.einsum(spec, *[ct.from_numpy(rand(s)) for s in shapes])
    with pytest.raises(ValueError):  # NumPy refuses them too
        np.einsum(spec, *[rand(s) for s in shapes])


# ---- gradients ------------------------------------------------------------------------


def _leaf(shape):
    return ct.tensor(rand(shape), requires_grad=True)


@pytest.mark.parametrize(
    "sa, sb",
    [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 2)),
     ((2, 1, 3, 4), (3, 4, 2)), ((3, 0), (0, 2))],
)
def test_matmul_grad(sa, sb):
    assert gradcheck(lambda a, b: a @ b, [_leaf(sa), _leaf(sb)])


def test_products_grad():
    assert gradcheck(lambda a, b: ct.dot(a, b), [_leaf((2, 3, 4)), _leaf((3, 4, 2))])
    assert gradcheck(lambda a, b: ct.vdot(a, b), [_leaf((2, 3)), _leaf((3, 2))])
    assert gradcheck(lambda a, b: ct.inner(a, b), [_leaf((2, 3)), _leaf((4, 3))])
    assert gradcheck(lambda a, b: ct.outer(a, b), [_leaf((3,)), _leaf((2, 2))])
    assert gradcheck(
        lambda a, b: ct.tensordot(a, b, axes=([0, 2], [1, 0])), [_leaf((3, 2, 4)), _leaf((4, 3, 2))]
    )


@pytest.mark.parametrize("spec, shapes", EINSUM_CASES + [c for c in EINSUM_EXTENDED if 0 not in sum(c[1], ())])
def test_einsum_grad(spec, shapes):
    assert gradcheck(lambda *ts: ct.einsum(spec, *ts), [_leaf(s) for s in shapes])


@pytest.mark.parametrize("spec, shapes", [
    ("ii->i", [(4, 4)]), ("ii", [(3, 3)]), ("iij->ij", [(3, 3, 2)]), ("...ij,...jk->...ik", [(5, 1, 2, 3), (4, 3, 2)]),
    ("i...i->i...", [(2, 5, 2)]), ("ij,jj->i", [(2, 3), (3, 3)]), ("...i,...i->...", [(2, 1, 3), (4, 3)]),
    ("i,i->i", [(1,), (3,)]), ("iii->i", [(3, 3, 3)]),
])
def test_einsum_grad_against_torch(spec, shapes):
    torch = pytest.importorskip("torch")
    arrs = [rand(s) for s in shapes]
    xs = [ct.tensor(a, requires_grad=True) for a in arrs]
    ts = [torch.tensor(a, requires_grad=True) for a in arrs]
    out, tout = ct.einsum(spec, *xs), torch.einsum(spec, *ts)
    g = rand(tuple(tout.shape))
    (out * ct.tensor(g)).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    for x, t in zip(xs, ts, strict=True):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_einsum_diagonal_double_backward():
    # d/dx of sum(diag(x)^3) is 3 diag(x)^2 on the diagonal; its gradient again is 6 diag(x).
    a = rand((3, 3))
    x = ct.tensor(a, requires_grad=True)
    (g,) = ct.autograd.grad((ct.einsum("ii->i", x) ** 3).sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), np.diag(3 * np.diag(a) ** 2), rtol=1e-12)
    (gg,) = ct.autograd.grad(ct.einsum("ii", g), [x])
    np.testing.assert_allclose(gg.numpy(), np.diag(6 * np.diag(a)), rtol=1e-12)
    assert gradcheck(lambda t: ct.einsum("iij->j", t) * ct.einsum("ii", t[..., 0]), [_leaf((3, 3, 2))])


def test_matmul_double_backward():
    a, b = _leaf((3, 4)), _leaf((4, 2))
    (ga,) = ct.autograd.grad((a @ b).sum(), [a], create_graph=True)
    (gb,) = ct.autograd.grad((ga * ga).sum(), [b])
    # ga = 1 @ b^T, d(sum ga^2)/db = 2 * (1^T ga) per column
    ones = np.ones((3, 2))
    expect = 2 * (ones.T @ (ones @ b.detach().numpy().T)).T
    np.testing.assert_allclose(gb.numpy(), expect, rtol=1e-12)


def test_matmul_out_with_grad():
    a, b = _leaf((3, 4)), _leaf((4, 2))
    out = ct.zeros((3, 2), dtype=ct.float64)
    r = ct.matmul(a, b, out=out)
    r.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.ones((3, 2)) @ b.detach().numpy().T)


# ---- property test ----------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    m=st.integers(0, 40), n=st.integers(0, 40), k=st.integers(0, 40),
    batch=st.sampled_from([(), (1,), (3,), (2, 1)]),
    ta=st.booleans(), tb=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_matmul_property(m, n, k, batch, ta, tb, dtype):
    a = rand(batch + (m, k), dtype)
    b = rand((k, n), dtype)
    xa = ct.from_numpy(a)
    if ta:
        xa = ct.from_numpy(np.ascontiguousarray(np.swapaxes(a, -1, -2))).mT
    xb = ct.from_numpy(np.asfortranarray(b)) if tb else ct.from_numpy(b)
    r = (xa @ xb).numpy()
    assert r.shape == np.matmul(a, b).shape
    for idx in np.ndindex(*batch):
        assert_close(r[idx], a[idx], b)
