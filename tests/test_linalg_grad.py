"""Gradients of corten.linalg's inv, solve, det, slogdet, cholesky and eigh (and what
is built from products and norms): finite differences in float64 (gradcheck) and
PyTorch's gradients."""

import corten as ct
import numpy as np
import pytest
from corten import linalg as la
from corten.autograd import gradcheck
from hypothesis import given, settings
from hypothesis import strategies as st


def wc(rng, shape):
    """Well-conditioned square matrices of `shape`."""
    n = shape[-1]
    return rng.standard_normal(shape) + 2 * n * np.eye(n)


def sym(x):
    """A symmetric positive-definite function of x: what cholesky and eigh are given, so
    that finite differences see the same (symmetric) perturbations as the formula."""
    n = x.shape[-1]
    return ct.matmul(x, x.mT) + ct.tensor(n * np.eye(n))


def leaf(a):
    return ct.tensor(a, dtype=ct.float64, requires_grad=True)


# ---- finite differences ------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [(), (2,)])
def test_gradcheck_inv_det_slogdet(batch):
    rng = np.random.default_rng(0)
    a = leaf(wc(rng, batch + (3, 3)))
    assert gradcheck(la.inv, [a])
    assert gradcheck(la.det, [a])
    assert gradcheck(lambda x: la.slogdet(x).logabsdet, [a])
    neg = leaf(-wc(rng, batch + (3, 3)))  # a negative determinant
    assert gradcheck(la.det, [neg])
    assert gradcheck(lambda x: la.slogdet(x)[1], [neg])


@pytest.mark.parametrize("bshape", [(3, 2), (2, 3, 1), (3,)])
def test_gradcheck_solve(bshape):
    rng = np.random.default_rng(1)
    a = leaf(wc(rng, (3, 3)))
    b = leaf(rng.standard_normal(bshape))
    assert gradcheck(la.solve, [a, b])


def test_gradcheck_solve_broadcast_batch():
    rng = np.random.default_rng(2)
    a = leaf(wc(rng, (2, 1, 3, 3)))
    b = leaf(rng.standard_normal((1, 2, 3, 2)))
    assert gradcheck(la.solve, [a, b])


@pytest.mark.parametrize("upper", [False, True])
def test_gradcheck_cholesky(upper):
    rng = np.random.default_rng(3)
    x = leaf(rng.standard_normal((2, 3, 3)))
    assert gradcheck(lambda t: la.cholesky(sym(t), upper=upper), [x])


def test_gradcheck_eigh():
    rng = np.random.default_rng(4)
    x = leaf(rng.standard_normal((2, 4, 4)))
    # eigenvectors up to sign: check their squares, and the eigenvalues
    assert gradcheck(lambda t: la.eigh(sym(t)).eigenvalues, [x])
    assert gradcheck(lambda t: la.eigh(sym(t)).eigenvectors ** 2, [x])
    assert gradcheck(lambda t: la.eigvalsh(sym(t)), [x])


def test_gradcheck_det_singular():
    a = leaf(np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 5.0]]))  # rank 2
    assert gradcheck(la.det, [a])


def test_gradcheck_products_and_norms():
    rng = np.random.default_rng(5)
    x = leaf(rng.standard_normal((2, 3, 3)))
    y = leaf(rng.standard_normal((2, 3, 3)))
    assert gradcheck(lambda t: la.matrix_power(t * 0.5, 3), [x])
    assert gradcheck(lambda t: la.matrix_power(t + ct.tensor(6 * np.eye(3)), -2), [x])
    assert gradcheck(lambda t: la.trace(t, offset=1), [x])
    assert gradcheck(lambda t, u: la.cross(t, u, axis=-2), [x, y])
    assert gradcheck(lambda t: la.matrix_norm(t), [x])
    assert gradcheck(lambda t: la.matrix_norm(t, ord=1), [x])
    assert gradcheck(lambda t: la.vector_norm(t, axis=(0, 2), ord=3), [x])


def test_second_order_through_inv():
    rng = np.random.default_rng(6)
    a = leaf(wc(rng, (3, 3)))

    def first_grad(x):
        if not x.requires_grad:  # the finite-difference evaluations: values only
            x = x.detach().requires_grad_()
        return ct.autograd.grad((la.inv(x) ** 2).sum(), [x], create_graph=True)[0]

    assert first_grad(a).requires_grad
    assert gradcheck(first_grad, [a])


def test_complex_inputs_stay_refused():
    with pytest.raises(RuntimeError, match="complex"):
        ct.tensor(np.eye(2) + 0j, requires_grad=True)
    with ct.no_grad():
        z = la.inv(ct.tensor(np.eye(2) * (1 + 1j)))
    assert z.dtype == ct.complex128 and not z.requires_grad


# ---- PyTorch ------------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(batch=st.sampled_from([(), (2,), (2, 1)]), n=st.integers(1, 4), seed=st.integers(0, 2**31),
       dtype=st.sampled_from(["float32", "float64"]))
def test_gradients_match_torch(batch, n, seed, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    a = wc(rng, batch + (n, n)).astype(dtype)
    x = rng.standard_normal(batch + (n, n)).astype(dtype)
    b = rng.standard_normal((n, 2)).astype(dtype)
    g = rng.standard_normal(batch + (n, n)).astype(dtype)
    tol = dict(rtol=1e-3, atol=1e-3) if dtype == "float32" else dict(rtol=1e-8, atol=1e-8)

    cases = {
        "inv": (lambda t, _: la.inv(t), lambda t, _: torch.linalg.inv(t), a),
        "det": (lambda t, _: la.det(t) * 1.0, lambda t, _: torch.linalg.det(t), a),
        "slogdet": (lambda t, _: la.slogdet(t)[1], lambda t, _: torch.linalg.slogdet(t)[1], a),
        "solve": (lambda t, u: la.solve(t, u), lambda t, u: torch.linalg.solve(t, u), a),
        "cholesky": (lambda t, _: la.cholesky(ct.matmul(t, t.mT) + ct.tensor(np.eye(n) * n, dtype=t.dtype)),
                     lambda t, _: torch.linalg.cholesky(t @ t.mT + torch.eye(n, dtype=t.dtype) * n), x),
        "cholesky_upper": (
            lambda t, _: la.cholesky(ct.matmul(t, t.mT) + ct.tensor(np.eye(n) * n, dtype=t.dtype), upper=True),
            lambda t, _: torch.linalg.cholesky(t @ t.mT + torch.eye(n, dtype=t.dtype) * n, upper=True), x),
        "eigvalsh": (lambda t, _: la.eigh(t + t.mT)[0], lambda t, _: torch.linalg.eigh(t + t.mT)[0], x),
        "eigh_vectors": (lambda t, _: la.eigh(t + t.mT)[1] ** 2, lambda t, _: torch.linalg.eigh(t + t.mT)[1] ** 2,
                         x),
    }
    for name, (cfn, tfn, data) in cases.items():
        ca, cb = ct.tensor(data, requires_grad=True), ct.tensor(b, requires_grad=True)
        ta, tb = torch.tensor(data, requires_grad=True), torch.tensor(b, requires_grad=True)
        cy, ty = cfn(ca, cb), tfn(ta, tb)
        np.testing.assert_allclose(cy.detach().numpy(), ty.detach().numpy(), **tol, err_msg=name)
        gy = rng.standard_normal(tuple(ty.shape)).astype(dtype)
        cy.backward(ct.tensor(gy))
        ty.backward(torch.tensor(gy))
        np.testing.assert_allclose(ca.grad.numpy(), ta.grad.numpy(), **tol, err_msg=name)
        if name == "solve":
            np.testing.assert_allclose(cb.grad.numpy(), tb.grad.numpy(), **tol, err_msg=name)
        assert ca.grad.dtype.name == dtype
    # the raw (unsymmetrised) input of inv: gradients for every entry
    ca = ct.tensor(a, requires_grad=True)
    ta = torch.tensor(a, requires_grad=True)
    (la.inv(ca) * ct.tensor(g)).sum().backward()
    (torch.linalg.inv(ta) * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ca.grad.numpy(), ta.grad.numpy(), **tol)
