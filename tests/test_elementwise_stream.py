"""Long contiguous outputs are written with streaming stores (cpp/elementwise_impl.h,
stream_run: one thread's run of at least 8 MiB). The results must be the bits the
ordinary path gives: the same op on pieces too short to stream."""

import corten as ct
import numpy as np
import pytest

N = 5_000_003  # float32: 20 MB, so each of two threads' runs streams; odd, so there is a tail
PIECE = 1 << 20  # 4 MB of float32: below the threshold


def _pieces(fn, *arrays: np.ndarray) -> np.ndarray:
    """fn on slices short enough for ordinary stores, concatenated."""
    n = arrays[0].shape[0]
    return np.concatenate([fn(*(a[i : i + PIECE] for a in arrays)) for i in range(0, n, PIECE)])


@pytest.fixture(params=[1, 2], ids=["1-thread", "2-threads"])
def threads(request):
    old = ct.get_num_threads()
    ct.set_num_threads(request.param)
    yield request.param
    ct.set_num_threads(old)


@pytest.mark.parametrize("offset", [0, 1, 5], ids=["aligned", "off-by-4-bytes", "off-by-20-bytes"])
def test_streamed_unary_and_binary_results_are_the_ordinary_bits(threads, offset):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(N + offset).astype(np.float32)[offset:]  # the output follows the input's alignment
    y = rng.standard_normal(N + offset).astype(np.float32)[offset:]
    y[::97] = np.nan
    cx, cy = ct.from_numpy(x), ct.from_numpy(y)

    def on(f):
        return lambda *a: f(*(ct.from_numpy(np.ascontiguousarray(v)) for v in a)).numpy()

    for name in ("exp", "tanh", "negative", "sqrt"):
        f = getattr(ct, name)
        got = f(cx).numpy()
        assert got.tobytes() == _pieces(on(f), x).tobytes(), name
    np.testing.assert_array_equal((cx + cy).numpy(), x + y)  # IEEE add: NumPy's bits exactly
    assert (cx * cy).numpy().tobytes() == _pieces(on(lambda a, b: a * b), x, y).tobytes()
    assert (cx * 3.0).numpy().tobytes() == (x * np.float32(3.0)).tobytes()  # scalar on the right
    assert (2.0 - cx).numpy().tobytes() == (np.float32(2.0) - x).tobytes()  # and on the left


def test_streamed_in_place_update(threads):
    rng = np.random.default_rng(4)
    x = rng.standard_normal(N).astype(np.float32)
    want = x * np.float32(0.5) + np.float32(1.0)
    t = ct.from_numpy(x.copy())
    t *= 0.5
    t += 1.0
    assert t.numpy().tobytes() == want.tobytes()


def test_streamed_float64_and_bool_outputs(threads):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(N // 2 + 1)  # float64: 20 MB
    cx = ct.from_numpy(x)
    assert ct.exp(cx).numpy().tobytes() == _pieces(lambda a: ct.exp(ct.from_numpy(a)).numpy(), x).tobytes()
    b = rng.standard_normal(4 * N).astype(np.float32)  # bool output: 20 MB of bytes
    np.testing.assert_array_equal((ct.from_numpy(b) > 0).numpy(), b > 0)
