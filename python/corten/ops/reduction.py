"""Reductions."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _shape
from ..autograd.function import Function
from ..tensor import Tensor
from .elementwise import _needs_graph


class Sum(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, axes: tuple, keepdims: bool) -> Tensor:
        ctx.in_shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        # bool and uint8 sum to int64 (NumPy would give uint64, which corten lacks)
        acc = np.int64 if x._a.dtype.kind in "bu" else None
        return Tensor._wrap(np.asarray(np.sum(x._a, axis=axes, keepdims=keepdims, dtype=acc)))

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        if not ctx.keepdims:
            shape = list(ctx.in_shape)
            for a in ctx.axes:
                shape[a] = 1
            g = g.reshape(tuple(shape))
        return g.broadcast_to(ctx.in_shape), None, None


def sum(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None):
    if dim is not None:
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    axes = _shape.normalize_axes(axis, x.ndim)
    return Sum.apply(x, axes, keepdims)


Tensor.sum = sum
