"""The training step's direct kernel paths (nn.Linear's products, ReLU's gradient)
give the same bits as the op-by-op formulas they replace, on any thread count."""

import corten as ct
import corten.nn.functional as F
import numpy as np
import pytest
from corten.ops.fused import relu_grad


def _leaf(a, dtype):
    return ct.tensor(a, dtype=dtype, requires_grad=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("shape", [(128, 784, 512), (3, 5, 2), (0, 4, 3), (70, 1, 33)])
def test_linear_gradients_equal_the_matmul_formula_bit_for_bit(dtype, threads, shape):
    n, k, m = shape
    rng = np.random.default_rng(n + k + m)
    xs, ws, bs = rng.normal(size=(n, k)), rng.normal(size=(m, k)), rng.normal(size=m)
    g = ct.tensor(rng.normal(size=(n, m)), dtype=dtype)
    old = ct.get_num_threads()
    ct.set_num_threads(threads)
    try:
        x1, w1, b1 = _leaf(xs, dtype), _leaf(ws, dtype), _leaf(bs, dtype)
        y1 = F.linear(x1, w1, b1)
        y1.backward(g)
        x2, w2, b2 = _leaf(xs, dtype), _leaf(ws, dtype), _leaf(bs, dtype)
        y2 = x2 @ w2.mT + b2
        y2.backward(g)
    finally:
        ct.set_num_threads(old)
    np.testing.assert_array_equal(y1.detach().numpy(), y2.detach().numpy())
    for a, b in ((x1, x2), (w1, w2), (b1, b2)):
        assert a.grad.dtype == dtype
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_linear_backward_with_transposed_and_strided_operands():
    rng = np.random.default_rng(1)
    base = ct.tensor(rng.normal(size=(6, 10)), dtype="float32", requires_grad=True)
    x = base[:, ::2]  # strided rows, a non-leaf
    w = ct.tensor(rng.normal(size=(5, 4)), dtype="float32", requires_grad=True)
    wt = w.mT  # (4, 5) view: transposed weight
    F.linear(x, wt).sum().backward()
    want_x = np.ones((6, 4), np.float32) @ wt.detach().numpy()
    np.testing.assert_allclose(base.grad.numpy()[:, ::2], want_x, rtol=1e-6)
    assert (base.grad.numpy()[:, 1::2] == 0).all()
    np.testing.assert_allclose(w.grad.numpy(), (np.ones((6, 4), np.float32).T @ x.detach().numpy()).T, rtol=1e-6)


def test_linear_second_derivative_still_differentiable():
    rng = np.random.default_rng(2)
    x = _leaf(rng.normal(size=(3, 4)), "float64")
    w = _leaf(rng.normal(size=(2, 4)), "float64")
    (gx,) = ct.autograd.grad(F.linear(x, w).square().sum(), [x], create_graph=True)
    gx.sum().backward()  # d/dw of sum(2 (x w^T) w)
    assert w.grad is not None and np.isfinite(w.grad.numpy()).all() and np.abs(w.grad.numpy()).sum() > 0


def test_linear_gradients_match_torch():
    th = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    xs, ws, bs = rng.normal(size=(9, 7)), rng.normal(size=(5, 7)), rng.normal(size=5)
    x, w, b = (_leaf(a, "float64") for a in (xs, ws, bs))
    F.linear(x, w, b).relu().sum().backward()
    tx, tw, tb = (th.tensor(a, requires_grad=True) for a in (xs, ws, bs))
    th.nn.functional.linear(tx, tw, tb).relu().sum().backward()
    for c, t in ((x, tx), (w, tw), (b, tb)):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_grad_equals_where_formula(dtype):
    rng = np.random.default_rng(4)
    ys = rng.normal(size=(37, 11))
    ys[0, :4] = [np.nan, -0.0, np.inf, -np.inf]
    ys[1, :2] = [0.0, 1e-310 if dtype == "float64" else 1e-40]
    y = ct.tensor(ys, dtype=dtype)
    g = ct.tensor(rng.normal(size=ys.shape), dtype=dtype)
    want = ct.where(y > 0, g, 0.0).numpy()
    got = relu_grad(y, g)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.numpy(), want)
    assert np.signbit(got.numpy()).sum() == np.signbit(want).sum()
    gt = ct.tensor(rng.normal(size=ys.shape[::-1]), dtype=dtype).mT  # a transposed gradient
    np.testing.assert_array_equal(relu_grad(y, gt).numpy(), ct.where(y > 0, gt, 0.0).numpy())
    g64 = ct.tensor(rng.normal(size=ys.shape), dtype="float64")  # other dtypes: through the ops
    np.testing.assert_array_equal(relu_grad(y, g64).numpy(), ct.where(y > 0, g64, 0.0).numpy())


@pytest.mark.parametrize("threads", [1, 2])
def test_relu_backward_kernel_on_a_split_array_and_bad_input(threads):
    rng = np.random.default_rng(5)
    y = np.maximum(rng.normal(size=(300, 513)), 0).astype(np.float32)  # 2 threads' worth
    y[::7, ::5] = np.nan
    g = rng.normal(size=y.shape).astype(np.float32)
    g[::11, ::3] = np.nan  # a NaN gradient passes where y > 0 and becomes 0 elsewhere
    old = ct.get_num_threads()
    ct.set_num_threads(threads)
    try:
        got = relu_grad(ct.tensor(y), ct.tensor(g)).numpy()
    finally:
        ct.set_num_threads(old)
    np.testing.assert_array_equal(got, np.where(y > 0, g, np.float32(0)))
    out = np.empty_like(g)
    shapes = r"shape \(300,513\), got float32 \(300,5\)"
    with pytest.raises(ValueError, match=r"relu_backward: gradient must be a contiguous float32 array of " + shapes):
        ct._C.relu_backward(y, g[:, :5], out)
    with pytest.raises(ValueError, match="relu_backward: gradient input must be"):
        ct._C.relu_backward(y, g, out[:, ::2])
    with pytest.raises((ValueError, TypeError), match="relu_backward"):
        ct._C.relu_backward(y.astype(np.int32), g.astype(np.int32), out.astype(np.int32))


def test_relu_backward_through_the_network_matches_torch():
    th = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    xs = rng.normal(size=(8, 6))
    x = _leaf(xs, "float32")
    (x * 2).relu().sum().backward()
    tx = th.tensor(xs, dtype=th.float32, requires_grad=True)
    (tx * 2).relu().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def _train_steps(threads, steps=4):
    from corten import nn, optim
    from corten.data import DataLoader, TensorDataset

    old = ct.get_num_threads()
    ct.set_num_threads(threads)
    try:
        ct.manual_seed(0)
        rng = np.random.default_rng(0)
        x = ct.from_numpy(rng.standard_normal((128 * steps, 784), dtype=np.float32))
        y = ct.from_numpy(rng.integers(0, 10, 128 * steps))
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
        opt = optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9)
        loss_fn = nn.CrossEntropyLoss()
        for xb, yb in DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True):
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        ct.set_num_threads(old)
    return [p.detach().numpy().copy() for p in model.parameters()]


def test_training_steps_give_the_same_weights_on_any_thread_count():
    want = _train_steps(1)
    for threads in (2, 3):
        for a, b in zip(_train_steps(threads), want, strict=True):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(want[0], _train_steps(1, steps=0)[0])  # the steps changed the weights


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_kernel_counts_and_sums_its_rows(dtype):
    """The index kernel writes the mean's divisor and numerator (the rows whose target
    is not ignored, the sum of the row losses in double); xent_reduce and
    xent_row_grads round what NumPy would from them, bit for bit."""
    rng = np.random.default_rng(5)
    n, c, ignore = 37, 7, -100
    x = rng.normal(size=(n, c)).astype(dtype)
    t = rng.integers(0, c, n).astype(np.int64)
    t[[0, 5, 6, 36]] = ignore
    rows, lse, stats = np.empty(n, dtype), np.empty(n, np.float64), np.empty(2, np.float64)
    ct._C.xent_index_forward(x, t, ignore, 0.1, rows, lse, stats)
    count, total = stats
    assert count == n - 4
    assert total == pytest.approx(rows.sum(dtype=np.float64), rel=1e-15)
    assert rows[[0, 5, 6, 36]].tolist() == [0, 0, 0, 0]
    for mean in (True, False):
        out = np.empty((), dtype)
        ct._C.xent_reduce(stats, out, mean)
        assert out.tobytes() == np.array(total / count if mean else total, dtype).tobytes()
        for g in (np.array(0.7, np.float32), np.array(1.3, np.float64)):
            gr = np.empty(n, dtype)
            ct._C.xent_row_grads(g, stats, mean, gr)
            assert gr.tobytes() == np.full(n, g.item() * (1.0 / count if mean else 1.0), dtype).tobytes()
    mean = F.cross_entropy(ct.tensor(x), ct.tensor(t), ignore_index=ignore, label_smoothing=0.1)
    assert mean.item() == pytest.approx(total / count, rel=1e-6)
    none_kept = F.cross_entropy(ct.tensor(x), ct.tensor(np.full(n, ignore)), ignore_index=ignore)
    assert np.isnan(none_kept.item())  # no row counted: 0/0, as PyTorch
    with pytest.raises(ValueError, match="stats must be a contiguous 1-D float64 array of length 2"):
        ct._C.xent_index_forward(x, t, ignore, 0.1, rows, lse, np.empty(3, np.float64))
    with pytest.raises(ValueError, match="must be a float32 or float64 array of one element"):
        ct._C.xent_row_grads(np.ones(2, np.float32), stats, True, np.empty(n, dtype))


def test_relu_mask_in_the_next_linears_gemm_gives_the_separate_ops_bits(monkeypatch):
    """Linear's backward masks the gradient of a LinearReLU's output in its GEMM's
    epilogue (no relu_backward pass); the gradients equal matmul, add, relu, matmul, add
    bit for bit. A hook, retain_grad or autograd.grad on that output still sees the
    unmasked gradient (the fusion steps aside)."""
    rng = np.random.default_rng(8)
    xa = rng.normal(size=(64, 20)).astype(np.float32)
    arrays = [rng.normal(size=s).astype(np.float32) for s in [(30, 20), (30,), (5, 30), (5,)]]
    t = ct.tensor(rng.integers(0, 5, 64))
    calls = []
    relu_backward = ct._C.relu_backward
    monkeypatch.setattr(ct._C, "relu_backward", lambda *a: calls.append(1) or relu_backward(*a))

    def run(fused: bool, watch: str = ""):
        x = ct.tensor(xa, requires_grad=True)
        w1, b1, w2, b2 = (ct.tensor(a, requires_grad=True) for a in arrays)
        h = F._linear(x, w1, b1, True) if fused else (x @ w1.T + b1).relu()
        seen = []
        if watch == "hook":
            h.register_hook(lambda g: seen.append(g.numpy().copy()))
        if watch == "retain":
            h.retain_grad()
        loss = F.cross_entropy(F.linear(h, w2, b2) if fused else h @ w2.T + b2, t)
        if watch == "grad":
            (gh,) = ct.autograd.grad(loss, [h], retain_graph=True)
            seen.append(gh.numpy().copy())
        loss.backward()
        if watch == "retain":
            seen.append(h.grad.numpy().copy())
        return [p.grad.numpy().tobytes() for p in (x, w1, b1, w2, b2)], seen

    want, _ = run(False)
    calls.clear()
    got, _ = run(True)
    assert got == want and calls == []  # masked in the GEMM: no ReLU backward pass
    for watch in ("hook", "retain", "grad"):
        want, seen_want = run(False, watch)
        calls.clear()
        got, seen_got = run(True, watch)
        assert got == want and calls, watch  # the ReLU backward ran after the hook
        assert [s.tobytes() for s in seen_got] == [s.tobytes() for s in seen_want], watch
        assert (seen_got[0] != 0).mean() > 0.9, watch  # the gradient seen is the unmasked one


@pytest.mark.parametrize("seed_grad", [np.float64(2.0), np.int64(2)])
def test_cross_entropy_row_gradients_take_a_seed_of_another_dtype(seed_grad):
    """The upstream gradient of a reduced loss may arrive as float64 or an integer (a
    hook's or a caller's choice): the rows get g / count, as for a float32 seed."""
    rng = np.random.default_rng(9)
    xa = rng.normal(size=(6, 4)).astype(np.float32)
    t = ct.tensor(rng.integers(0, 4, 6))
    grads = []
    for g in (ct.tensor(np.float32(2.0)), ct.tensor(seed_grad)):
        x = ct.tensor(xa, requires_grad=True)
        F.cross_entropy(x, t).backward(g)
        grads.append(x.grad.numpy())
    assert grads[0].dtype == grads[1].dtype == np.float32
    assert grads[0].tobytes() == grads[1].tobytes() and np.abs(grads[0]).sum() > 0
