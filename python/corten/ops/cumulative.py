"""Cumulative sum and product along one axis (cpp/scan.cpp)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _C, _shape
from .._dtype import as_dtype, int64
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import _needs_graph, astype, refuse_complex, takes_tensor


def _scan(x: Tensor, axis: int, prod: bool, reverse: bool = False) -> Tensor:
    """The scan kernel along `axis` (moved last as a view; out keeps x's layout)."""
    refuse_complex(x, "cumprod" if prod else "cumsum")
    dt = x.dtype if x.dtype.kind == "f" else int64
    out = np.empty(x.shape, dt.np)
    if x.ndim == 0:
        _C.scan(x._a.reshape(1), out.reshape(1), prod, reverse)
    else:
        _C.scan(np.moveaxis(x._a, axis, -1), np.moveaxis(out, axis, -1), prod, reverse)
    return Tensor._wrap(out)


class Cumsum(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, axis: int, reverse: bool) -> Tensor:
        ctx.axis, ctx.reverse = axis, reverse
        return _scan(x, axis, False, reverse)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        # The gradient of a running sum is the running sum taken the other way.
        return _cumsum(g, ctx.axis, not ctx.reverse), None, None


def _cumsum(x: Tensor, axis: int, reverse: bool) -> Tensor:
    if _needs_graph(x) and x.dtype.kind == "f":
        return Cumsum.apply(x, axis, reverse)
    return _scan(x, axis, False, reverse)


class Cumprod(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, axis: int) -> Tensor:
        ctx.axis = axis
        ctx.save_for_backward(x)
        return _scan(x, axis, True)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        (x,) = ctx.saved_tensors
        if not (x._a == 0).any():
            # sum_{j>=i} g_j y_j / x_i, differentiable again.
            return _cumsum(g * cumprod(x, ctx.axis), ctx.axis, True) / x, None
        # With zeros: an exact kernel (this path is first-order only).
        out = np.empty(x.shape, x.dtype.np)
        gm = g._a
        if x.ndim == 0:
            _C.cumprod_grad(x._a.reshape(1), gm.reshape(1), out.reshape(1))
        else:
            mv = lambda a: np.moveaxis(a, ctx.axis, -1)  # noqa: E731
            _C.cumprod_grad(mv(x._a), mv(gm), mv(out))
        return Tensor._wrap(out), None


def _prepare(x: Tensor, axis: Any, dim: Any, dtype: Any) -> tuple[Tensor, int]:
    if dim is not None:
        axis = dim
    if dtype is not None:
        x = astype(x, as_dtype(dtype))
    if axis is None:  # NumPy: flatten
        return x.reshape(-1), 0
    return x, _shape.normalize_axis(axis, x.ndim)


@takes_tensor
def cumsum(x: Tensor, axis: Any = None, *, dim: Any = None, dtype: Any = None) -> Tensor:
    """Running sum along axis (None: over the flattened tensor). bool/int -> int64;
    floats accumulate in double."""
    x, axis = _prepare(x, axis, dim, dtype)
    return _cumsum(x, axis, False)


@takes_tensor
def cumprod(x: Tensor, axis: Any = None, *, dim: Any = None, dtype: Any = None) -> Tensor:
    """Running product along axis (None: flattened). The gradient is exact with
    zeros too, but only the zero-free case supports higher-order gradients."""
    x, axis = _prepare(x, axis, dim, dtype)
    if _needs_graph(x) and x.dtype.kind == "f":
        return Cumprod.apply(x, axis)
    return _scan(x, axis, True)


METHODS = {"cumsum": cumsum, "cumprod": cumprod}  # attached in ops/methods.py
