"""corten.linalg: the Python Array API standard's linear algebra extension (2025.12).

Products and norms are corten's own ops (the GEMM behind matmul, the reduction
kernels), differentiable wherever those are. Decompositions call LAPACK through
numpy.linalg on zero-copy views (ops/decomp.py); inv, solve, det, slogdet,
cholesky, eigh and eigvalsh have gradients for real tensors, the other
decompositions refuse an input that requires grad.

Singular input: inv and solve raise `LinAlgError` (a ValueError) naming the shape;
det gives 0 and slogdet (0, -inf); cholesky of a matrix that is not positive
definite raises LinAlgError. Only one triangle of the input is read by cholesky
(the lower one; the upper one with upper=True) and by eigh/eigvalsh (the lower one).
Bool and integer inputs of the float-only functions are computed in float64.
"""

from __future__ import annotations

import math
from typing import Any, Literal, NamedTuple

import numpy as np

from ._dtype import complex64, complex128, float32, float64, promote_types
from ._shape import broadcast_shape, shape_str
from .ops import decomp
from .ops._common import _as_tensor, _cast, _needs_graph, astype
from .ops.decomp import LinAlgError, as_matrix_operand, lapack, refuse_graph
from .ops.linalg import _Diagonal
from .ops.linalg import matmul as _matmul
from .ops.linalg import outer as _outer
from .ops.linalg import tensordot as _tensordot
from .ops.standard import matrix_transpose as _matrix_transpose
from .ops.standard import vecdot as _vecdot
from .tensor import Tensor

__all__ = [
    "EigResult", "EighResult", "LinAlgError", "QRResult", "SVDResult", "SlogdetResult",
    "cholesky", "cross", "det", "diagonal", "eig", "eigh", "eigvals", "eigvalsh", "inv", "matmul",
    "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv", "qr", "slogdet",
    "solve", "svd", "svdvals", "tensordot", "trace", "vecdot", "vector_norm",
]


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class EigResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class QRResult(NamedTuple):
    Q: Tensor
    R: Tensor


class SlogdetResult(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


class SVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


def _tensor(x: Any, op: str) -> Tensor:
    t = _as_tensor(x)
    if t is None:
        if not isinstance(x, (bool, int, float, complex)):
            raise TypeError(f"linalg.{op}: expected a tensor, got {type(x).__name__}")
        from ._creation import tensor

        t = tensor(x)
    return t


def _wrap(a: np.ndarray) -> Tensor:
    return Tensor._wrap(np.asarray(a, order="C"))


# ---- products (aliases of the main namespace's, with the standard's signatures) ---------------


def matmul(x1: Tensor, x2: Tensor, /) -> Tensor:
    """Matrix product (the main namespace's matmul)."""
    return _matmul(x1, x2)


def matrix_transpose(x: Tensor, /) -> Tensor:
    """Swap the last two dimensions (a view)."""
    return _matrix_transpose(x)


def vecdot(x1: Tensor, x2: Tensor, /, *, axis: int = -1) -> Tensor:
    """Dot products of vectors along axis; a complex x1 is conjugated."""
    return _vecdot(x1, x2, axis=axis)


def tensordot(x1: Tensor, x2: Tensor, /, *, axes: int | tuple[Any, Any] = 2) -> Tensor:
    """Sum of products over the given axes (an int N: the last N of x1 with the first N of x2)."""
    return _tensordot(x1, x2, axes)


def outer(x1: Tensor, x2: Tensor, /) -> Tensor:
    """Outer product of two 1-D tensors."""
    a, b = _tensor(x1, "outer"), _tensor(x2, "outer")
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"linalg.outer: expected two 1-D tensors, got shapes {shape_str(a.shape)} and "
                         f"{shape_str(b.shape)}")
    return _outer(a, b)


def cross(x1: Tensor, x2: Tensor, /, *, axis: int = -1) -> Tensor:
    """Cross products of 3-element vectors along axis (negative; the other axes broadcast)."""
    from .ops.join import stack
    from .ops.shape import moveaxis

    a, b = _tensor(x1, "cross"), _tensor(x2, "cross")
    if a.dtype.kind == "b" or b.dtype.kind == "b":
        raise TypeError("linalg.cross: expected numeric tensors, got bool")
    nd = min(a.ndim, b.ndim)
    if not -nd <= axis < 0:
        raise ValueError(f"linalg.cross: axis {axis} must be negative and within both tensors' {nd} dimensions "
                         f"(shapes {shape_str(a.shape)} and {shape_str(b.shape)})")
    if a.shape[axis] != 3 or b.shape[axis] != 3:
        raise ValueError(f"linalg.cross: axis {axis} must have size 3 in both tensors, got shapes "
                         f"{shape_str(a.shape)} and {shape_str(b.shape)}")
    d = promote_types(a.dtype, b.dtype)
    a, b = moveaxis(_cast(a, d), axis, -1), moveaxis(_cast(b, d), axis, -1)
    try:
        broadcast_shape(a.shape[:-1], b.shape[:-1])
    except ValueError:
        raise ValueError(f"linalg.cross: shapes {shape_str(x1.shape)} and {shape_str(x2.shape)} do not broadcast "
                         f"outside axis {axis}") from None
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    r = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], -1)
    return moveaxis(r, -1, axis)


def diagonal(x: Tensor, /, *, offset: int = 0) -> Tensor:
    """The diagonals of the last two dimensions (offset > 0: above the main one), as a view."""
    t = _tensor(x, "diagonal")
    if t.ndim < 2:
        raise ValueError(f"linalg.diagonal: expected shape (..., M, N), got {shape_str(t.shape)}")
    m, n = t.shape[-2:]
    r0, c0 = max(0, -offset), max(0, offset)
    k = max(0, min(m - r0, n - c0))
    t = t[..., r0:r0 + k, c0:c0 + k]
    return _Diagonal.apply(t, t.ndim - 2, t.ndim - 1)


def trace(x: Tensor, /, *, offset: int = 0, dtype: Any = None) -> Tensor:
    """Sum of each matrix's diagonal; dtype as sum's (integers sum into int64)."""
    from .ops.reduction import sum as _sum

    return _sum(diagonal(x, offset=offset), axis=-1, dtype=dtype)


# ---- norms ---------------------------------------------------------------------------


def vector_norm(x: Tensor, /, *, axis: int | tuple[int, ...] | None = None, keepdims: bool = False,
                ord: float = 2) -> Tensor:
    """Vector p-norm over axis (None: all elements); a real floating-point result."""
    from .ops.reduction import vector_norm as _vector_norm

    return _vector_norm(_tensor(x, "vector_norm"), ord, axis, keepdims)


def matrix_norm(x: Tensor, /, *, keepdims: bool = False, ord: Any = "fro") -> Tensor:
    """Matrix norm of the last two dimensions: 'fro', 'nuc', 1, -1, 2, -2, inf, -inf."""
    from .ops.reduction import max as _max
    from .ops.reduction import min as _min
    from .ops.reduction import sum as _sum
    from .ops.reduction import vector_norm as _vector_norm
    from .ops.shape import reshape

    t = as_matrix_operand(x, "matrix_norm")
    if ord is None or ord == "fro":
        return _vector_norm(t, 2, (-2, -1), keepdims)
    if ord in ("nuc", 2, -2):
        refuse_graph(f"matrix_norm(ord={ord!r})", t)
        s = svdvals(t)
        r = _sum(s, axis=-1) if ord == "nuc" else (_max if ord == 2 else _min)(s, axis=-1)
    elif ord in (1, -1, math.inf, -math.inf):
        a = t.abs()
        pick = _max if ord > 0 else _min
        r = pick(_sum(a, axis=-2 if abs(ord) == 1 else -1), axis=-1)
    else:
        raise ValueError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, got {ord!r}")
    return reshape(r, r.shape + (1, 1)) if keepdims else r


# ---- solvers and decompositions -------------------------------------------------------


def det(x: Tensor, /) -> Tensor:
    """Determinant of every square matrix (0 for a singular one)."""
    return decomp.det(as_matrix_operand(x, "det", square=True))


def slogdet(x: Tensor, /) -> SlogdetResult:
    """(sign, log|det|) of every square matrix; (0, -inf) for a singular one. A complex
    input gives a complex sign of modulus 1 and a real log|det|."""
    return SlogdetResult(*decomp.slogdet(as_matrix_operand(x, "slogdet", square=True)))


def inv(x: Tensor, /) -> Tensor:
    """Inverse of every square matrix; LinAlgError when one is singular."""
    return decomp.inv(as_matrix_operand(x, "inv", square=True))


def solve(x1: Tensor, x2: Tensor, /) -> Tensor:
    """X with x1 @ X = x2: x1 (..., M, M), x2 (M,) or (..., M, K) (batch dims broadcast);
    LinAlgError when a matrix of x1 is singular."""
    from .ops.shape import reshape

    a = as_matrix_operand(x1, "solve", square=True)
    b = _tensor(x2, "solve")
    d = promote_types(a.dtype, b.dtype)
    d = d if d.kind in "fc" else float64
    a, b = _cast(a, d), _cast(b, d)
    m = a.shape[-1]
    vec = b.ndim == 1
    if b.ndim == 0 or b.shape[0 if vec else -2] != m:
        raise ValueError(f"linalg.solve: x2 must have shape ({m},) or (..., {m}, K) for x1 of shape "
                         f"{shape_str(a.shape)}, got {shape_str(b.shape)}")
    if vec:
        b = reshape(b, (m, 1))
    try:
        batch = broadcast_shape(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"linalg.solve: the batch dimensions of shapes {shape_str(a.shape)} and "
                         f"{shape_str(b.shape)} do not broadcast") from None
    r = decomp.solve(a, b)
    return reshape(r, tuple(batch) + (m,)) if vec else r


def cholesky(x: Tensor, /, *, upper: bool = False) -> Tensor:
    """Cholesky factor L (x = L L^H), or U (x = U^H U) with upper=True, of every symmetric
    (Hermitian) positive-definite matrix; LinAlgError when one is not positive definite."""
    return decomp.cholesky(as_matrix_operand(x, "cholesky", square=True), bool(upper))


def eigh(x: Tensor, /) -> EighResult:
    """Eigenvalues (ascending, real) and eigenvectors (columns) of symmetric/Hermitian matrices."""
    return EighResult(*decomp.eigh(as_matrix_operand(x, "eigh", square=True)))


def eigvalsh(x: Tensor, /) -> Tensor:
    """Eigenvalues (ascending, real) of symmetric/Hermitian matrices (differentiable like eigh's)."""
    t = as_matrix_operand(x, "eigvalsh", square=True)
    if _needs_graph(t):
        return decomp.eigh(t)[0]
    return _wrap(lapack("eigvalsh", np.linalg.eigvalsh, t._a))


def _complex_of(t: Tensor) -> Any:
    return complex64 if t.dtype in (float32, complex64) else complex128


def eig(x: Tensor, /) -> EigResult:
    """Eigenvalues and eigenvectors of general square matrices (always complex)."""
    t = as_matrix_operand(x, "eig", square=True)
    refuse_graph("eig", t)
    w, v = lapack("eig", np.linalg.eig, t._a)
    c = _complex_of(t).np
    return EigResult(_wrap(w.astype(c, copy=False)), _wrap(v.astype(c, copy=False)))


def eigvals(x: Tensor, /) -> Tensor:
    """Eigenvalues of general square matrices (always complex)."""
    t = as_matrix_operand(x, "eigvals", square=True)
    refuse_graph("eigvals", t)
    return _wrap(lapack("eigvals", np.linalg.eigvals, t._a).astype(_complex_of(t).np, copy=False))


def qr(x: Tensor, /, *, mode: Literal["reduced", "complete"] = "reduced") -> QRResult:
    """QR factorisation of every matrix: Q (..., M, K), R (..., K, N), K = min(M, N) when
    reduced, M when complete."""
    t = as_matrix_operand(x, "qr")
    if mode not in ("reduced", "complete"):
        raise ValueError(f"linalg.qr: mode must be 'reduced' or 'complete', got {mode!r}")
    refuse_graph("qr", t)
    q, r = lapack("qr", np.linalg.qr, t._a, mode=mode)
    return QRResult(_wrap(q), _wrap(r))


def svd(x: Tensor, /, *, full_matrices: bool = True) -> SVDResult:
    """x = U diag(S) Vh for every matrix; S real and descending."""
    t = as_matrix_operand(x, "svd")
    refuse_graph("svd", t)
    u, s, vh = lapack("svd", np.linalg.svd, t._a, full_matrices=bool(full_matrices))
    return SVDResult(_wrap(u), _wrap(s), _wrap(vh))


def svdvals(x: Tensor, /) -> Tensor:
    """Singular values (real, descending) of every matrix."""
    t = as_matrix_operand(x, "svdvals")
    refuse_graph("svdvals", t)
    return _wrap(lapack("svdvals", np.linalg.svd, t._a, compute_uv=False))


def _cutoff(s: Tensor, rtol: Any, shape: tuple, op: str) -> Tensor:
    """rtol * (largest singular value) per matrix; default rtol = max(M, N) * eps."""
    from .ops.reduction import max as _max
    from .ops.shape import reshape

    if rtol is None:
        rtol = max(shape[-2:]) * float(np.finfo(s._a.dtype).eps)
    r = _tensor(rtol, op)
    if r.dtype.kind == "c":
        raise TypeError(f"linalg.{op}: rtol must be real, got {r.dtype.name}")
    big = _max(s, axis=-1) if s.shape[-1] else s.sum(axis=-1)
    cut = big * (r if r.dtype.kind == "f" else astype(r, s.dtype))
    return reshape(cut, cut.shape + (1,))


def pinv(x: Tensor, /, *, rtol: float | Tensor | None = None) -> Tensor:
    """Moore-Penrose pseudo-inverse: singular values up to rtol * (the largest) count as zero."""
    from .ops.complex import conj
    from .ops.elementwise import where

    t = as_matrix_operand(x, "pinv")
    refuse_graph("pinv", t)
    u, s, vh = lapack("pinv", np.linalg.svd, t._a, full_matrices=False)
    ut, st, vht = _wrap(u), _wrap(s), _wrap(vh)
    keep = st > _cutoff(st, rtol, t.shape, "pinv")
    sinv = where(keep, 1.0 / where(keep, st, 1.0), 0.0)
    v = vht.mT
    if v.dtype.kind == "c":
        v, ut = conj(v), conj(ut)
        sinv = astype(sinv, v.dtype)
    from .ops.shape import reshape

    return _matmul(v * reshape(sinv, sinv.shape[:-1] + (1, sinv.shape[-1])), ut.mT)


def matrix_rank(x: Tensor, /, *, rtol: float | Tensor | None = None) -> Tensor:
    """Number of singular values above rtol * (the largest), per matrix (int64)."""
    from .ops.reduction import sum as _sum

    t = as_matrix_operand(x, "matrix_rank")
    s = _wrap(lapack("matrix_rank", np.linalg.svd, t._a, compute_uv=False))
    return _sum(s > _cutoff(s, rtol, t.shape, "matrix_rank"), axis=-1)


def matrix_power(x: Tensor, n: int, /) -> Tensor:
    """x multiplied by itself n times (n < 0: the inverse's power; n = 0: identities), by squaring."""
    from .ops.shape import broadcast_to

    t = _tensor(x, "matrix_power")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"linalg.matrix_power: n must be an integer, got {type(n).__name__}")
    if t.ndim < 2 or t.shape[-1] != t.shape[-2]:
        raise ValueError(f"linalg.matrix_power: expected square matrices (..., M, M), got shape "
                         f"{shape_str(t.shape)}")
    n = int(n)
    if n == 0:
        eye = Tensor._wrap(np.eye(t.shape[-1], dtype=t._a.dtype))
        return broadcast_to(eye, t.shape) * 1
    if n < 0:
        t, n = inv(t), -n
    result = None
    base = t
    while True:
        if n & 1:
            result = base if result is None else _matmul(result, base)
        n >>= 1
        if not n:
            break
        base = _matmul(base, base)
    assert result is not None
    return result if result is not t else result * 1
