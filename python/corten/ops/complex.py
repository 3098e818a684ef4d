"""Complex tensors beyond the element-wise table: real, imag, conj, |z|, and
complex sum/mean/prod and matmul built from the real kernels.

A complex64/complex128 array's real and imaginary parts are float32/float64
views with twice the item stride (NumPy's `.real`/`.imag`), so a complex sum is
two real reductions and a complex matrix product is four real GEMMs on the
split parts. Autograd does not support complex tensors: they never require
grad, and a tensor that does cannot be cast to complex (ops/_common.astype)."""

from __future__ import annotations

import numpy as np

from .. import _C
from .._dtype import DType
from ..tensor import Tensor
from ._common import _write_out, takes_tensor


def _parts(x: Tensor) -> tuple[np.ndarray, np.ndarray]:
    a = x._a
    return a.real, a.imag


def _join(re: np.ndarray, im: np.ndarray, d: DType) -> Tensor:
    o = np.empty(re.shape, d.np)
    _C.copy(re, o.real)
    _C.copy(im, o.imag)
    return Tensor._wrap(o)


def complex_abs(x: Tensor, out: Tensor | None = None) -> Tensor:
    """|z| (a float tensor of the parts' dtype), without overflow for large parts."""
    o = np.empty(x.shape, x.dtype.real_dtype.np)
    _C.complex_abs(x._a, o)
    return Tensor._wrap(o) if out is None else _write_out("abs", o, out)


@takes_tensor
def real(x: Tensor) -> Tensor:
    """The real part (a copy; for a real tensor, the tensor's values)."""
    if x.dtype.kind != "c":
        return x.clone()
    o = np.empty(x.shape, x.dtype.real_dtype.np)
    _C.copy(x._a.real, o)
    return Tensor._wrap(o)


@takes_tensor
def imag(x: Tensor) -> Tensor:
    """The imaginary part (zeros for a real tensor)."""
    if x.dtype.kind != "c":
        from .._creation import zeros

        return zeros(x.shape, dtype=x.dtype)
    o = np.empty(x.shape, x.dtype.real_dtype.np)
    _C.copy(x._a.imag, o)
    return Tensor._wrap(o)


@takes_tensor
def conj(x: Tensor) -> Tensor:
    """The complex conjugate (the tensor's values for a real tensor)."""
    if x.dtype.kind != "c":
        return x.clone()
    o = np.empty(x.shape, x._a.dtype)
    _C.copy(x._a.real, o.real)
    _C.negative(x._a.imag, o.imag)
    return Tensor._wrap(o)


# ---- reductions ------------------------------------------------------------------------


def complex_sum(x: Tensor, axes: tuple, keepdims: bool, mean: bool = False) -> Tensor:
    """sum (or mean) of a complex tensor: the real reduction on each part."""
    from .reduction import _run

    kernel = "reduce_mean" if mean else "reduce_sum"
    rd = x.dtype.real_dtype
    re, im = _parts(x)
    r = _run(kernel, Tensor._wrap(re), axes, keepdims, rd)
    i = _run(kernel, Tensor._wrap(im), axes, keepdims, rd)
    return _join(r._a, i._a, x.dtype)


def complex_prod(x: Tensor, axes: tuple, keepdims: bool) -> Tensor:
    """Product over axes by pairwise halving with the complex multiply kernel
    (log2(n) passes; empty gives 1)."""
    a = x._a
    kept = [i for i in range(a.ndim) if i not in axes]
    kept_shape = tuple(a.shape[i] for i in kept)
    n = int(np.prod([a.shape[i] for i in axes], dtype=np.int64))
    a = np.ascontiguousarray(a.transpose(kept + list(axes))).reshape(kept_shape + (n,))
    if n == 0:
        a = np.ones(kept_shape + (1,), a.dtype)
    while a.shape[-1] > 1:
        m = a.shape[-1]
        h = m // 2
        p = np.empty(kept_shape + (h + m % 2,), a.dtype)
        _C.multiply(a[..., :h], a[..., h : 2 * h], p[..., :h])
        if m % 2:
            _C.copy(a[..., 2 * h :], p[..., h:])
        a = p
    r = a.reshape(kept_shape)
    if keepdims:
        r = r.reshape(tuple(1 if i in axes else s for i, s in enumerate(x.shape)))
    return Tensor._wrap(r)


# ---- matmul ---------------------------------------------------------------------------


def complex_matmul(a: Tensor, b: Tensor, shape: tuple) -> Tensor:
    """(ar + i ai)(br + i bi) = (ar br - ai bi) + i (ar bi + ai br): four real
    GEMMs on the split parts (strided float views, which the GEMM packs)."""
    from .linalg import _run_matmul

    d = a.dtype
    ar, ai = (Tensor._wrap(p) for p in _parts(a))
    br, bi = (Tensor._wrap(p) for p in _parts(b))
    re = _run_matmul(ar, br, shape)
    _C.subtract(re, _run_matmul(ai, bi, shape), re)
    im = _run_matmul(ar, bi, shape)
    _run_matmul(ai, br, shape, im, accumulate=True)
    return _join(re, im, d)


METHODS = {"conj": conj, "real": property(real), "imag": property(imag)}
__all__ = ["conj", "imag", "real"]
