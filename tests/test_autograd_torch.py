"""Gradients of random op compositions and second-order gradients, against PyTorch."""

import corten as ct
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

# (corten fn, torch fn) pairs; inputs are kept in safe domains by the ops themselves.
UNARY = {
    "tanh": (ct.tanh, torch.tanh),
    "sigmoid": (ct.sigmoid, torch.sigmoid),
    "exp_small": (lambda x: ct.exp(x * 0.1), lambda x: torch.exp(x * 0.1)),
    "softplus_log1p": (lambda x: ct.log1p(ct.exp(x * 0.5)), lambda x: torch.log1p(torch.exp(x * 0.5))),
    "square": (ct.square, torch.square),
    "sin": (ct.sin, torch.sin),
    "neg": (lambda x: -x, lambda x: -x),
    "sqrt_pos": (lambda x: ct.sqrt(x * x + 1), lambda x: torch.sqrt(x * x + 1)),
}
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div_safe": (lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
    "maximum": (ct.maximum, torch.maximum),
    "where": (lambda a, b: ct.where(a > b, a, b * 2), lambda a, b: torch.where(a > b, a, b * 2)),
}

shapes = st.sampled_from([((3, 4), (4,)), ((2, 1, 3), (5, 1)), ((), (3,)), ((4, 3), (4, 3)), ((1,), (2, 2))])


@settings(max_examples=40, deadline=None)
@given(
    shapes=shapes,
    program=st.lists(
        st.tuples(st.sampled_from(sorted(UNARY) + sorted(BINARY)), st.integers(0, 10), st.integers(0, 10)),
        min_size=1, max_size=8,
    ),
    seed=st.integers(0, 2**31 - 1),
)
def test_random_compositions_match_torch(shapes, program, seed):
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal(s) for s in shapes]
    c_in = [ct.tensor(d, dtype=ct.float64, requires_grad=True) for d in data]
    t_in = [torch.tensor(d, dtype=torch.float64, requires_grad=True) for d in data]
    c_vals, t_vals = list(c_in), list(t_in)
    for name, i, j in program:
        i, j = i % len(c_vals), j % len(c_vals)
        if name in UNARY:
            cf, tf = UNARY[name]
            c_vals.append(cf(c_vals[i]))
            t_vals.append(tf(t_vals[i]))
        else:
            cf, tf = BINARY[name]
            c_vals.append(cf(c_vals[i], c_vals[j]))
            t_vals.append(tf(t_vals[i], t_vals[j]))
    c_out, t_out = c_vals[-1], t_vals[-1]
    np.testing.assert_allclose(c_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    if not t_out.requires_grad:
        return
    weights = rng.standard_normal(tuple(t_out.shape))
    (c_out * ct.tensor(weights, dtype=ct.float64)).sum().backward()
    (t_out * torch.tensor(weights)).sum().backward()
    for c, t in zip(c_in, t_in, strict=False):
        if t.grad is None:
            assert c.grad is None or np.allclose(c.grad.numpy(), 0)
        else:
            np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11)


def _mlp_loss(lib, x, w1, b1, w2, b2, y):
    h = lib.tanh(x @ w1 + b1)
    out = h @ w2 + b2
    return ((out - y) ** 2).sum()


def test_hessian_vector_product_of_mlp_matches_torch():
    rng = np.random.default_rng(0)
    shapes = [(5, 4), (4, 6), (6,), (6, 3), (3,), (5, 3)]
    data = [rng.standard_normal(s) for s in shapes]
    vecs = [rng.standard_normal(s) for s in shapes[1:5]]
    results = []
    for lib, make in ((ct, lambda d, rg: ct.tensor(d, dtype=ct.float64, requires_grad=rg)),
                      (torch, lambda d, rg: torch.tensor(d, dtype=torch.float64, requires_grad=rg))):
        x, w1, b1, w2, b2, y = (make(d, 1 <= i <= 4) for i, d in enumerate(data))
        params = [w1, b1, w2, b2]
        loss = _mlp_loss(lib, x, w1, b1, w2, b2, y)
        grad_fn = ct.autograd.grad if lib is ct else torch.autograd.grad
        grads = grad_fn(loss, params, create_graph=True)
        dot = sum((g * make(v, False)).sum() for g, v in zip(grads, vecs, strict=False))
        hvp = grad_fn(dot, params)
        results.append([np.asarray(h.detach().numpy()) for h in hvp])
    for c, t in zip(*results, strict=False):
        np.testing.assert_allclose(c, t, rtol=1e-9, atol=1e-10)


def test_gradient_penalty_matches_torch():
    rng = np.random.default_rng(1)
    xd, wd = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    out = []
    for lib, make in ((ct, lambda d: ct.tensor(d, dtype=ct.float64, requires_grad=True)),
                      (torch, lambda d: torch.tensor(d, dtype=torch.float64, requires_grad=True))):
        x, w = make(xd), make(wd)
        y = lib.sigmoid(x @ w).sum()
        grad_fn = ct.autograd.grad if lib is ct else torch.autograd.grad
        (gx,) = grad_fn(y, [x], create_graph=True)
        penalty = (gx * gx).sum()
        penalty.backward()
        out.append(w.grad.detach().numpy().copy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-9, atol=1e-11)
