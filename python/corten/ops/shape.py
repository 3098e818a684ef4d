"""Views: new (shape, strides, offset) over the same memory, computed by the
pure functions in _shape.py. Each is a Function whose backward maps the
gradient back to the input's layout."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _C, _shape
from ..autograd.function import Function
from ..tensor import Tensor
from .elementwise import _needs_graph, sum_to


def _shape_args(shape: tuple) -> tuple:
    if len(shape) == 1 and not isinstance(shape[0], int):
        return tuple(shape[0])
    return shape


def contiguous_copy(x: Tensor) -> Tensor:
    o = np.empty(x.shape, x._a.dtype)
    _C.copy(x._a, o)
    return Tensor._wrap(o)


class Reshape(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, shape: tuple) -> Tensor:
        ctx.in_shape = x.shape
        strides = _shape.reshape_strides(x.shape, x.strides, shape)
        if strides is None:  # the layout does not allow a view: copy, as NumPy does
            y = contiguous_copy(x)
            return y._make_view(shape, _shape.contiguous_strides(shape), 0)
        return x._make_view(shape, strides, x._storage()[1])

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return reshape(g, ctx.in_shape), None


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """Same data in a new shape (-1 infers one size); a view when strides allow."""
    shape = _shape.infer_reshape(x.size, _shape_args(shape))
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape)


class Permute(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, axes: tuple) -> Tensor:
        ctx.axes = axes
        sh, st = x.shape, x.strides
        return x._make_view([sh[a] for a in axes], [st[a] for a in axes], x._storage()[1])

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return permute(g, tuple(np.argsort(ctx.axes).tolist())), None


def permute(x: Tensor, *axes: Any) -> Tensor:
    """Reorder the dimensions (a view)."""
    axes = _shape_args(axes)
    if len(axes) != x.ndim:
        raise ValueError(f"axes don't match tensor: got {len(axes)} axes for a tensor of dimension {x.ndim}")
    axes = tuple(_shape.normalize_axis(a, x.ndim) for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError("repeated axis in permute")
    return Permute.apply(x, axes)


def transpose(x: Tensor, *axes: Any) -> Tensor:
    """Reverse the dimensions, or (NumPy) permute by `axes`, or (PyTorch) swap two dims."""
    if not axes or axes == (None,):
        return permute(x, tuple(range(x.ndim - 1, -1, -1)))
    if len(axes) == 2 and all(isinstance(a, int) for a in axes) and x.ndim != 2:
        return swapaxes(x, axes[0], axes[1])  # PyTorch's transpose(dim0, dim1)
    return permute(x, *axes)


def swapaxes(x: Tensor, a: int, b: int) -> Tensor:
    a, b = _shape.normalize_axis(a, x.ndim), _shape.normalize_axis(b, x.ndim)
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return permute(x, tuple(order))


class Expand(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, shape: tuple) -> Tensor:
        ctx.in_shape = x.shape
        strides = _shape.broadcast_strides(x.shape, x.strides, shape)
        return x._make_view(shape, strides, x._storage()[1])

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return sum_to(g, ctx.in_shape), None


def broadcast_to(x: Tensor, *shape: Any) -> Tensor:
    """A read-through view of x repeated (stride 0) to `shape`."""
    shape = tuple(int(s) for s in _shape_args(shape))
    if shape == x.shape:
        return x
    _shape.check_shape(shape)
    return Expand.apply(x, shape)


def contiguous(x: Tensor) -> Tensor:
    """x itself when already C-contiguous, else a contiguous copy."""
    if x._a.flags.c_contiguous:
        return x
    from .elementwise import clone

    return clone(x)


def _T(x: Tensor) -> Tensor:
    return permute(x, tuple(range(x.ndim - 1, -1, -1)))


def _mT(x: Tensor) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"mT needs a tensor of at least 2 dimensions, got {x.ndim}")
    return swapaxes(x, -2, -1)


def _view(x: Tensor, *shape: Any) -> Tensor:
    shape = _shape.infer_reshape(x.size, _shape_args(shape))
    if _shape.reshape_strides(x.shape, x.strides, shape) is None:
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride; use reshape() instead "
            f"(shape {_shape.shape_str(x.shape)} -> {_shape.shape_str(shape)})"
        )
    return reshape(x, shape)


for _name, _fn in {
    "reshape": reshape, "view": _view, "permute": permute, "transpose": transpose,
    "swapaxes": swapaxes, "broadcast_to": broadcast_to, "expand": broadcast_to,
    "contiguous": contiguous, "T": property(_T), "mT": property(_mT),
}.items():
    setattr(Tensor, _name, _fn)
