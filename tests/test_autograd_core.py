"""The autograd core: gradients of every element-wise op, grad modes, graph
lifetime, hooks, higher-order gradients and the error paths."""

from __future__ import annotations

import gc
import threading
import weakref

import corten as ct
import numpy as np
import pytest
from corten.autograd import Function, gradcheck
from corten.ops.table import BINARY_OPS, UNARY_OPS

# ---- gradients of every differentiable element-wise op -------------------------------------------

# Every differentiable op of the table, with the input domain its row declares.
UNARY_DOMAIN = {op.name: op.domain for op in UNARY_OPS if op.differentiable}
BINARY_DOMAIN = {op.name: op.domain for op in BINARY_OPS if op.differentiable}


def _leaf(rng, shape, lo, hi, flip=False):
    v = rng.uniform(lo, hi, shape)
    if flip:  # random signs keep magnitudes away from 0
        v = v * rng.choice([-1.0, 1.0], shape)
    return ct.tensor(v, dtype="float64", requires_grad=True)


@pytest.mark.parametrize("op", sorted(UNARY_DOMAIN))
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_unary_gradients(op, shape):
    rng = np.random.default_rng(0)
    lo, hi, flip = UNARY_DOMAIN[op]
    x = _leaf(rng, shape, lo, hi, flip=flip)
    assert gradcheck(getattr(ct, op), [x])


@pytest.mark.parametrize("op", sorted(BINARY_DOMAIN))
@pytest.mark.parametrize(
    "shapes", [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 3)), ((), (2, 2)), ((2, 1, 3), (3,))]
)
def test_binary_gradients_with_broadcasting(op, shapes):
    rng = np.random.default_rng(1)
    (la, ha, fa), (lb, hb, fb) = BINARY_DOMAIN[op]
    a = _leaf(rng, shapes[0], la, ha, fa)
    b = _leaf(rng, shapes[1], lb, hb, fb)
    if op in ("maximum", "minimum"):  # interleave which side wins
        sel = ct.tensor(rng.random(np.broadcast_shapes(shapes[0], shapes[1])) < 0.5)
        fn = getattr(ct, op)
        assert gradcheck(lambda x, y: fn(ct.where(sel, x, y), ct.where(sel, y, x)), [a, b])
    assert gradcheck(getattr(ct, op), [a, b])


def test_maximum_tie_splits_gradient():
    a = ct.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = ct.tensor([1.0, 5.0, 0.0], requires_grad=True)
    ct.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0, 1.0] and b.grad.tolist() == [0.5, 1.0, 0.0]


def test_scalar_operand_gradients():
    x = ct.tensor(np.linspace(0.5, 2, 6).reshape(2, 3), dtype="float64", requires_grad=True)
    for fn in (lambda t: 2.0 * t, lambda t: t - 1, lambda t: 3 - t, lambda t: t / 4, lambda t: 2 / t,
               lambda t: t**3, lambda t: 2.0**t, lambda t: -t, lambda t: abs(t) + t * t):
        assert gradcheck(fn, [x])


def test_where_clip_cast_clone_gradients():
    rng = np.random.default_rng(2)
    a = _leaf(rng, (2, 3), -3, 3)
    b = _leaf(rng, (3,), -3, 3)
    cond = ct.tensor(rng.random((2, 3)) < 0.5)
    assert gradcheck(lambda x, y: ct.where(cond, x, y), [a, b])
    assert gradcheck(lambda x: ct.where(cond, x, 0.0), [a])
    x = ct.tensor([-2.0, -0.5, 0.3, 0.9, 2.0], dtype="float64", requires_grad=True)
    lo = ct.tensor([-1.0, -1.0, -1.0, 0.95, -1.0], dtype="float64", requires_grad=True)
    hi = ct.tensor(1.0, dtype="float64", requires_grad=True)
    assert gradcheck(ct.clip, [x, lo, hi])
    assert gradcheck(lambda t: ct.clip(t, -1.0, 1.0), [x])
    assert gradcheck(lambda t: t.astype("float32").astype("float64") * 2, [x], eps=1e-3, atol=1e-3)
    assert gradcheck(lambda t: t.clone() * t, [x])
    y = ct.tensor([1.0, 2.0], requires_grad=True)
    (y.astype("float64") * 3).sum().backward()
    assert y.grad.dtype == ct.float32 and y.grad.tolist() == [3.0, 3.0]


def test_integer_results_are_not_attached():
    x = ct.tensor([1.0, 2.0], requires_grad=True)
    assert not (x > 1).requires_grad and (x > 1).grad_fn is None
    assert not ct.isnan(x).requires_grad
    assert ct.floor(x).requires_grad  # float result: zero gradient, still in the graph
    assert not x.astype("int64").requires_grad


# ---- grad modes ----------------------------------------------------------------------------------


def test_no_grad_enable_grad_set_grad_enabled():
    x = ct.tensor([1.0], requires_grad=True)
    with ct.no_grad():
        assert not ct.is_grad_enabled()
        y = x * 2
        with ct.enable_grad():
            assert ct.is_grad_enabled()
            z = x * 2
    assert ct.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad
    with ct.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ct.is_grad_enabled()
    ct.set_grad_enabled(False)  # as a plain call
    try:
        assert not ct.is_grad_enabled()
    finally:
        ct.set_grad_enabled(True)
    with pytest.raises(ZeroDivisionError):
        with ct.no_grad():
            raise ZeroDivisionError
    assert ct.is_grad_enabled()  # restored after an exception


def test_grad_mode_decorators():
    x = ct.tensor([1.0], requires_grad=True)

    @ct.no_grad()
    def f(t):
        return t * 2

    @ct.set_grad_enabled(False)
    def g(t):
        return t * 2

    assert ct.is_grad_enabled()  # the decorator's constructor leaves the mode alone
    assert not f(x).requires_grad and not g(x).requires_grad

    @ct.enable_grad()
    def h(t):
        return t * 2

    with ct.no_grad():
        assert h(x).requires_grad
        assert not ct.is_grad_enabled()
    assert f.__name__ == "f"


def test_grad_mode_is_thread_local():
    seen = {}
    ready, done = threading.Event(), threading.Event()

    def worker():
        ready.wait()
        seen["other"] = ct.is_grad_enabled()
        x = ct.tensor([1.0], requires_grad=True)
        seen["records"] = (x * 2).requires_grad
        done.set()

    th = threading.Thread(target=worker)
    th.start()
    with ct.no_grad():
        ready.set()
        done.wait(10)
    th.join()
    assert seen == {"other": True, "records": True}


# ---- accumulation, retain_graph, errors ----------------------------------------------------------


def test_gradients_accumulate():
    x = ct.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]
    x.grad = None
    (x + x).sum().backward()  # one tensor used twice in one graph
    assert x.grad.tolist() == [2.0, 2.0]


def test_leaf_keeps_a_fresh_gradient_without_aliasing_anything():
    # A leaf may keep a new gradient buffer as .grad instead of copying it; nothing
    # else may see that buffer, since later backward calls add into it in place.
    x = ct.tensor([[1.0, 2.0], [3.0, -1.0]], requires_grad=True)
    w = ct.tensor([[0.5], [2.0]], requires_grad=True)
    for _ in range(2):
        (x @ w).relu().sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[2.0], [4.0]])  # x^T [1, 0] twice
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 4.0], [0.0, 0.0]])

    # Passed through unchanged (add): the user's seed must not become .grad.
    a = ct.ones(3, requires_grad=True)
    b = ct.ones(3, requires_grad=True)
    seed = ct.tensor([1.0, 2.0, 3.0])
    (a + b).backward(seed)
    (a + b).backward(seed)
    np.testing.assert_array_equal(seed.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 4.0, 6.0])
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())

    # A hook that keeps the gradient it is shown: .grad must not be that tensor.
    seen = []
    c = ct.ones(2, requires_grad=True)
    c.register_hook(lambda g: seen.append(g))
    (c * 3).sum().backward()
    (c * 3).sum().backward()
    np.testing.assert_array_equal(seen[0].numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(c.grad.numpy(), [6.0, 6.0])

    # A retained intermediate gradient and the leaf's must stay separate.
    d = ct.ones(2, requires_grad=True)
    e = d * 2
    e.retain_grad()
    (e * 5).sum().backward()
    (d * 2).sum().backward()
    np.testing.assert_array_equal(e.grad.numpy(), [5.0, 5.0])
    np.testing.assert_array_equal(d.grad.numpy(), [12.0, 12.0])


def test_second_backward_needs_retain_graph():
    x = ct.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()  # multiply saved its inputs
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_backward_errors():
    x = ct.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(ct.tensor([1.0, 1.0]))
    assert x.grad.tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(ct.tensor([1.0, 1.0, 1.0]))
    with pytest.raises(RuntimeError, match="does not require grad"):
        ct.tensor(1.0).backward()


def test_inplace_change_of_saved_tensor_is_detected():
    x = ct.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1  # a non-leaf
    z = (y * y).sum()  # saves y
    y += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()
    a = ct.tensor([1.0, 2.0], requires_grad=True)
    s = ct.log(a).sum()  # log saved the leaf a (exp differentiates through its output, as PyTorch)
    a.detach().add_(1)  # detach() shares memory and the version counter
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.backward()
    b = ct.tensor([1.0, 2.0], requires_grad=True)
    s = ct.exp(b).sum()
    ct.tensor([1.0]).add_(1)  # unrelated tensors do not matter
    s.backward()
    assert b.grad is not None


def test_inplace_on_leaf_requiring_grad_is_an_error():
    x = ct.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x += 1
    with pytest.raises(RuntimeError, match="leaf"):
        x.mul_(2)
    with ct.no_grad():
        x += 1  # allowed without recording (an optimizer step)
    assert x.detach().tolist() == [2.0, 3.0]


def test_inplace_on_nonleaf_is_recorded():
    x = ct.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y += x
    y *= 3
    y.sum().backward()
    assert x.grad.tolist() == [9.0, 9.0]
    a = ct.tensor([0.5, -1.0], dtype="float64", requires_grad=True)

    def f(t):
        u = t * 1
        u.exp_()
        u.mul_(t)
        return u

    assert gradcheck(f, [a])


# ---- retain_grad, hooks, detach ------------------------------------------------------------------


def test_retain_grad_and_hooks():
    x = ct.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    assert y.retains_grad
    seen = []
    h = y.register_hook(lambda g: seen.append(g.tolist()))
    x.register_hook(lambda g: g * 10)  # replaces the leaf's gradient
    (y * y).sum().backward()
    assert y.grad.tolist() == [6.0, 12.0]
    assert seen == [[6.0, 12.0]]
    assert x.grad.tolist() == [180.0, 360.0]
    h.remove()
    with pytest.raises(RuntimeError):
        ct.tensor([1.0]).register_hook(lambda g: g)
    z = x * 1
    z.register_hook(lambda g: g * 0)
    x.grad = None
    z.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_detach():
    x = ct.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.numpy(), y.numpy(force=True))
    (y * d).sum().backward()  # d is a constant
    assert x.grad.tolist() == [4.0, 8.0]
    y2 = x * 2
    y2.detach_()
    assert not y2.requires_grad and y2.is_leaf


# ---- autograd.grad and higher order --------------------------------------------------------------


def test_autograd_grad():
    x = ct.tensor([1.0, 2.0], requires_grad=True)
    y = ct.tensor([3.0], requires_grad=True)
    z = (x * y).sum()
    gx, gy = ct.autograd.grad(z, [x, y])
    assert gx.tolist() == [3.0, 3.0] and gy.tolist() == [3.0]
    assert x.grad is None  # grad() does not accumulate
    w = ct.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        ct.autograd.grad((x * 2).sum(), [x, w])
    gx, gw = ct.autograd.grad((x * 2).sum(), [x, w], allow_unused=True)
    assert gw is None and gx.tolist() == [2.0, 2.0]
    v = x * 2
    (gv,) = ct.autograd.grad((v * v).sum(), v)  # an intermediate as input
    assert gv.tolist() == [4.0, 8.0]


def test_second_derivative_of_cube():
    x = ct.tensor([1.0, 2.0, -3.0], dtype="float64", requires_grad=True)
    y = (x * x * x).sum()
    (g,) = ct.autograd.grad(y, x, create_graph=True)
    assert g.tolist() == [3.0, 12.0, 27.0]  # 3x^2
    assert g.requires_grad
    (h,) = ct.autograd.grad(g.sum(), x)
    assert h.tolist() == [6.0, 12.0, -18.0]  # 6x
    x3 = ct.tensor([0.7], dtype="float64", requires_grad=True)
    (g1,) = ct.autograd.grad((x3**3).sum(), x3, create_graph=True)
    (g2,) = ct.autograd.grad(g1.sum(), x3, create_graph=True)
    (g3,) = ct.autograd.grad(g2.sum(), x3)
    assert np.allclose([g1.item(), g2.item(), g3.item()], [3 * 0.49, 6 * 0.7, 6.0])


@pytest.mark.parametrize("op", ["exp", "sin", "tanh", "sigmoid", "log", "sqrt", "reciprocal"])
def test_second_derivatives_by_gradcheck(op):
    x = ct.tensor([0.3, 0.9, 1.7], dtype="float64", requires_grad=True)
    fn = getattr(ct, op)

    def first(t):
        if not t.requires_grad:  # gradcheck's perturbed copies are plain tensors
            t = t.detach().requires_grad_()
        (g,) = ct.autograd.grad(fn(t).sum(), t, create_graph=True)
        return g

    assert gradcheck(first, [x])


def test_backward_create_graph():
    x = ct.tensor([2.0], dtype="float64", requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.item() == 12.0
    x.grad = None
    g.sum().backward()
    assert x.grad.item() == 12.0  # d/dx 3x^2 at 2


# ---- graph size and lifetime ---------------------------------------------------------------------


def test_long_chain_has_no_recursion_limit():
    x = ct.tensor(1.0, dtype="float64", requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    del y
    gc.collect()


def test_graph_is_freed_after_backward():
    x = ct.tensor([1.0, 2.0], requires_grad=True)
    mid = ct.exp(x)
    out = (mid * 2).sum()
    ref = weakref.ref(mid)
    node = weakref.ref(mid.grad_fn)
    del mid
    gc.disable()
    try:
        out.backward()
        del out
        assert ref() is None  # freed by reference counting alone (no cycles)
        assert node() is None
    finally:
        gc.enable()


def test_saved_tensors_released_after_backward():
    x = ct.tensor([1.0, 2.0], requires_grad=True)
    big = x * 1
    y = (big * big).sum()
    fn = y.grad_fn
    ref = weakref.ref(big)
    del big
    assert ref() is not None  # kept alive by the graph
    y.backward()
    assert ref() is None
    assert fn is not None


# ---- custom Function -----------------------------------------------------------------------------


class Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale  # grad recording is off in forward

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x * ctx.scale, None


class SplitSign(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        pos = ct.relu(x)
        return pos, pos - x

    @staticmethod
    def backward(ctx, g_pos, g_neg):
        (x,) = ctx.saved_tensors
        mask = (x > 0).astype(x.dtype)
        gp = 0.0 if g_pos is None else g_pos * mask
        gn = 0.0 if g_neg is None else g_neg * (mask - 1)
        return gp + gn


def test_custom_function():
    x = ct.tensor([1.0, -2.0, 0.5], dtype="float64", requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.requires_grad and "Cube" in repr(y.grad_fn)
    assert gradcheck(lambda t: Cube.apply(t, 2.0), [x])
    with ct.no_grad():
        assert not Cube.apply(x, 2.0).requires_grad
    assert gradcheck(lambda t: SplitSign.apply(t), [x])
    p, n = SplitSign.apply(x)
    (p.sum() * 2).backward()  # only one output used
    assert x.grad.tolist() == [2.0, 0.0, 2.0]


def test_custom_function_with_too_few_gradients():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return (g,)

    a = ct.tensor([1.0], requires_grad=True)
    b = ct.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="gradients"):
        Bad.apply(a, b).sum().backward()
