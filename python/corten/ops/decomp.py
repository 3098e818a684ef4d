"""Matrix decompositions and solvers behind corten.linalg. LAPACK runs through
numpy.linalg on zero-copy NumPy views of the tensors (NumPy copies a strided view
into LAPACK's layout itself); the results are wrapped as tensors. inv, solve, det,
slogdet, cholesky and eigh are graph nodes whose backward formulas use corten's
own differentiable ops (matmul, solve, tril, ...), so they can be differentiated
again; the other decompositions refuse inputs that require grad rather than
return results with a silently missing gradient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._dtype import float64
from .._shape import shape_str
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import _as_tensor, _needs_graph, astype


class LinAlgError(ValueError):
    """A matrix LAPACK cannot factor as asked: singular (inv, solve), not
    positive definite (cholesky), or an iteration that did not converge."""


def as_matrix_operand(x: Any, op: str, square: bool = False) -> Tensor:
    """x as a floating-point tensor of shape (..., M, N) (bool and integer tensors
    become float64, corten's rule for float-only functions); ValueError naming the
    shape when it has fewer than 2 dimensions or, with `square`, M != N."""
    t = _as_tensor(x)
    if t is None:
        raise TypeError(f"linalg.{op}: expected a tensor, got {type(x).__name__}")
    if t.ndim < 2:
        raise ValueError(f"linalg.{op}: expected a matrix or a stack of matrices (..., M, N), "
                         f"got shape {shape_str(t.shape)}")
    if square and t.shape[-1] != t.shape[-2]:
        raise ValueError(f"linalg.{op}: expected square matrices (..., M, M), got shape {shape_str(t.shape)}")
    return t if t.dtype.kind in "fc" else astype(t, float64)


def refuse_graph(op: str, *ts: Tensor) -> None:
    """No gradient formula here: refuse rather than return an untracked result."""
    if _needs_graph(*ts):
        raise RuntimeError(f"linalg.{op} does not support autograd yet; call it on x.detach() or under "
                           f"corten.no_grad()")


def lapack(op: str, fn: Callable[..., Any], *arrays: np.ndarray, **kwargs: Any) -> Any:
    """Call a numpy.linalg function; its LinAlgError becomes ours, naming the shapes."""
    try:
        return fn(*arrays, **kwargs)
    except np.linalg.LinAlgError as e:
        shapes = " and ".join(shape_str(a.shape) for a in arrays)
        raise LinAlgError(f"linalg.{op}: {e} (input shape {shapes})") from None


def _wrap(a: np.ndarray) -> Tensor:
    return Tensor._wrap(np.asarray(a, order="C"))


def _unsq2(t: Tensor) -> Tensor:
    """(...) -> (..., 1, 1), to scale a stack of matrices by one value each."""
    from .shape import reshape

    return reshape(t, t.shape + (1, 1))


def _cofactor(a: np.ndarray) -> np.ndarray:
    """The cofactor matrix (d det / dA) of every matrix in a, singular ones too:
    with A = U diag(s) Vh, cof(A) = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh."""
    u, s, vh = np.linalg.svd(a)
    n = s.shape[-1]
    others = np.ones_like(s)
    for i in range(n):
        others[..., i] = np.prod(np.delete(s, i, axis=-1), axis=-1)
    scale = np.linalg.det(u) * np.linalg.det(vh)
    return scale[..., None, None] * (u * others[..., None, :]) @ vh


def _det_grad(a: Tensor, d: Tensor) -> Tensor:
    """d det(a) / d a = det(a) a^-T, or the cofactor matrix where a is singular."""
    try:
        return _unsq2(d) * inv(a).mT
    except LinAlgError:
        return Tensor._wrap(_cofactor(a._a))


# ---- inv ------------------------------------------------------------------------------


class Inv(Function):
    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        y = _wrap(lapack("inv", np.linalg.inv, a._a))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        from .linalg import matmul

        (y,) = ctx.saved_tensors
        yt = y.mT
        return -matmul(matmul(yt, g), yt)


def inv(a: Tensor) -> Tensor:
    """Inverse of every square matrix in a (float tensor)."""
    if _needs_graph(a) and a.dtype.kind == "f":
        return Inv.apply(a)
    return Inv.forward(Inv(), a)


# ---- solve ----------------------------------------------------------------------------


class Solve(Function):
    """X = A^-1 B for A (..., M, M) and B (..., M, K), batch dims broadcast."""

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        x = _wrap(lapack("solve", np.linalg.solve, a._a, b._a))
        ctx.shapes = a.shape, b.shape
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        from .linalg import matmul
        from .reduction import sum_to

        a, x = ctx.saved_tensors
        gb = solve(a.mT, g)
        ga = -matmul(gb, x.mT) if ctx.needs_input_grad[0] else None
        return (None if ga is None else sum_to(ga, ctx.shapes[0]),
                sum_to(gb, ctx.shapes[1]) if ctx.needs_input_grad[1] else None)


def solve(a: Tensor, b: Tensor) -> Tensor:
    """Solve for stacks of matrices: a (..., M, M), b (..., M, K), same dtype."""
    if _needs_graph(a, b) and a.dtype.kind == "f":
        return Solve.apply(a, b)
    return Solve.forward(Solve(), a, b)


# ---- det, slogdet ---------------------------------------------------------------------


class Det(Function):
    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        d = _wrap(np.asarray(lapack("det", np.linalg.det, a._a), a._a.dtype))
        ctx.save_for_backward(a, d)
        return d

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        a, d = ctx.saved_tensors
        return _unsq2(g) * _det_grad(a, d)


def det(a: Tensor) -> Tensor:
    if _needs_graph(a) and a.dtype.kind == "f":
        return Det.apply(a)
    return Det.forward(Det(), a)


class Slogdet(Function):
    @staticmethod
    def forward(ctx: Any, a: Tensor) -> tuple[Tensor, Tensor]:
        sign, logabs = lapack("slogdet", np.linalg.slogdet, a._a)
        s = _wrap(np.asarray(sign, a._a.dtype))
        ctx.mark_non_differentiable(s)
        ctx.save_for_backward(a)
        return s, _wrap(np.asarray(logabs))

    @staticmethod
    def backward(ctx: Any, gsign: Any, glog: Any) -> Any:
        if glog is None:
            return None
        (a,) = ctx.saved_tensors
        try:
            ginv = inv(a).mT
        except LinAlgError:  # log|det| is -inf there; its gradient is unbounded
            from .. import _creation

            ginv = _creation.full(a.shape, float("nan"), dtype=a.dtype)
        return _unsq2(glog) * ginv


def slogdet(a: Tensor) -> tuple[Tensor, Tensor]:
    if _needs_graph(a) and a.dtype.kind == "f":
        return Slogdet.apply(a)
    return Slogdet.forward(Slogdet(), a)


# ---- cholesky -------------------------------------------------------------------------


def _phi(x: Tensor) -> Tensor:
    """The lower triangle of x with its diagonal halved."""
    from .join import tril

    n = x.shape[-1]
    w = np.tril(np.ones((n, n), x._a.dtype))
    np.fill_diagonal(w, 0.5)
    return tril(x) * Tensor._wrap(w)


class Cholesky(Function):
    @staticmethod
    def forward(ctx: Any, a: Tensor, upper: bool) -> Tensor:
        c = _wrap(lapack("cholesky", np.linalg.cholesky, a._a, upper=upper))
        ctx.upper = upper
        ctx.save_for_backward(c)
        return c

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        # With A = L L^T: dA = L^-T phi(L^T dL) L^-1, symmetrised (A is symmetric).
        from .join import tril
        from .linalg import matmul

        (c,) = ctx.saved_tensors
        lo, gl = (c.mT, g.mT) if ctx.upper else (c, g)
        p = _phi(matmul(lo.mT, tril(gl)))
        s = solve(lo.mT, p)  # L^-T P
        s = solve(lo.mT, s.mT).mT  # (L^-T P) L^-1
        return 0.5 * (s + s.mT), None


def cholesky(a: Tensor, upper: bool = False) -> Tensor:
    if _needs_graph(a) and a.dtype.kind == "f":
        return Cholesky.apply(a, upper)
    return Cholesky.forward(Cholesky(), a, upper)


# ---- eigh -----------------------------------------------------------------------------


class Eigh(Function):
    @staticmethod
    def forward(ctx: Any, a: Tensor) -> tuple[Tensor, Tensor]:
        w, v = lapack("eigh", np.linalg.eigh, a._a)
        wt, vt = _wrap(w), _wrap(v)
        ctx.save_for_backward(wt, vt)
        return wt, vt

    @staticmethod
    def backward(ctx: Any, gw: Any, gv: Any) -> Any:
        # A = V diag(w) V^T: dA = V (diag(dw) + (V^T dV) / E) V^T, E_ij = w_j - w_i
        # (off the diagonal; repeated eigenvalues make the eigenvector gradient unbounded).
        from .linalg import matmul

        w, v = ctx.saved_tensors
        inner = None
        if gv is not None:
            wa = w._a
            e = wa[..., None, :] - wa[..., :, None]
            n = e.shape[-1]
            e[..., np.arange(n), np.arange(n)] = np.inf
            inner = matmul(v.mT, gv) / Tensor._wrap(e)
        if gw is not None:
            from .shape import reshape

            eye = Tensor._wrap(np.eye(w.shape[-1], dtype=w._a.dtype))
            d = reshape(gw, gw.shape[:-1] + (1, gw.shape[-1])) * eye  # diag(gw)
            inner = d if inner is None else inner + d
        if inner is None:
            return None
        return matmul(matmul(v, inner), v.mT)


def eigh(a: Tensor) -> tuple[Tensor, Tensor]:
    if _needs_graph(a) and a.dtype.kind == "f":
        return Eigh.apply(a)
    return Eigh.forward(Eigh(), a)
