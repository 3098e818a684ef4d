"""Views: new (shape, strides, offset) over the same memory, computed by the
pure functions in _shape.py. Each is a Function whose backward maps the
gradient back to the input's layout."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _C, _shape
from ..autograd.function import Function
from ..tensor import Tensor
from .reduction import sum_to


def _shape_args(shape: tuple) -> tuple:
    if len(shape) == 1 and not isinstance(shape[0], int):
        return tuple(shape[0])
    return shape


def contiguous_copy(x: Tensor) -> Tensor:
    o = np.empty(x.shape, x._a.dtype)
    _C.copy_blocked(x._a, o)  # cache-blocked when x is a transposed layout
    return Tensor._wrap(o)


class Reshape(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, shape: tuple) -> Tensor:
        ctx.in_shape = x.shape
        strides = _shape.reshape_strides(x.shape, x.strides, shape)
        if strides is None:  # the layout does not allow a view: copy, as NumPy does (a new tensor)
            return Tensor._wrap(contiguous_copy(x)._a.reshape(shape))
        return x._make_view(shape, strides, x._storage()[1])

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return reshape(g, ctx.in_shape), None


class ReshapeResult(Reshape):
    """An op's own fresh result in another shape: its memory is seen by nothing
    else, so the output is a new tensor rather than a view (views of it could
    not be reached by the user, and `detach_()` of a view is refused)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, shape: tuple) -> Tensor:
        ctx.in_shape = x.shape
        return Tensor._wrap(x._a.reshape(shape))


def reshape_result(x: Tensor, shape: tuple) -> Tensor:
    return ReshapeResult.apply(x, tuple(shape))


def reshape(x: Tensor, shape: Any, *more: int, copy: bool | None = None) -> Tensor:
    """Same data in a new shape (-1 infers one size); a view when strides allow.
    `reshape(x, (2, 3))` (the standard) or `x.reshape(2, 3)` (PyTorch). copy=True
    always copies, copy=False raises ValueError when a view is impossible."""
    shape = _shape.infer_reshape(x.size, _shape_args((shape, *more)))
    if copy is False and _shape.reshape_strides(x.shape, x.strides, shape) is None:
        raise ValueError(
            f"reshape(copy=False): shape {_shape.shape_str(x.shape)} with strides {x.strides} "
            f"cannot be viewed as {_shape.shape_str(shape)} without a copy"
        )
    if copy:
        from ._common import clone

        x = clone(x)
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


def broadcast_to(x: Tensor, shape: Any, *more: int) -> Tensor:
    """A read-through view of x repeated (stride 0) to `shape` (a tuple, or sizes as
    more arguments)."""
    shape = tuple(int(s) for s in _shape_args((shape, *more)))
    if shape == x.shape:
        return x
    _shape.check_shape(shape)
    return Expand.apply(x, shape)


class Contiguous(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        return contiguous_copy(x)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return g


def contiguous(x: Tensor) -> Tensor:
    """x itself when already C-contiguous, else a contiguous copy."""
    if x._a.flags.c_contiguous:
        return x
    return Contiguous.apply(x)


def _T(x: Tensor) -> Tensor:
    return permute(x, tuple(range(x.ndim - 1, -1, -1)))


def _mT(x: Tensor) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"mT needs a tensor of at least 2 dimensions, got {x.ndim}")
    return swapaxes(x, -2, -1)


def view(x: Tensor, *shape: Any) -> Tensor:
    """reshape that never copies: RuntimeError when the strides do not allow a view."""
    shape = _shape.infer_reshape(x.size, _shape_args(shape))
    if _shape.reshape_strides(x.shape, x.strides, shape) is None:
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride; use reshape() instead "
            f"(shape {_shape.shape_str(x.shape)} -> {_shape.shape_str(shape)})"
        )
    return reshape(x, shape)


def axis_of(axis: Any, ndim: int) -> int:
    """NumPy's strict axis check: a 0-d tensor has no axis to name."""
    if ndim == 0 and isinstance(axis, int):
        raise _shape.AxisError(f"axis {axis} is out of bounds for tensor of dimension 0")
    return _shape.normalize_axis(axis, ndim)


def axes_of(axis: Any, ndim: int) -> tuple:
    if ndim == 0 and axis is not None and axis != ():
        first = axis if isinstance(axis, int) else next(iter(axis))
        raise _shape.AxisError(f"axis {first} is out of bounds for tensor of dimension 0")
    return _shape.normalize_axes(axis, ndim)


def is_contiguous(x: Tensor) -> bool:
    """True when x is laid out in C order without gaps."""
    return x.is_contiguous()


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one (a view when strides allow)."""
    if x.ndim == 0:
        return reshape(x, (1,))
    a, b = _shape.normalize_axis(start_dim, x.ndim), _shape.normalize_axis(end_dim, x.ndim)
    if a > b:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    sh = x.shape
    return reshape(x, sh[:a] + (_shape.size_of(sh[a : b + 1]),) + sh[b + 1 :])


def ravel(x: Tensor) -> Tensor:
    """The elements in C order as 1-D: a view when possible, else a copy (NumPy's ravel)."""
    return reshape(x, (x.size,))


def moveaxis(x: Tensor, source: Any, destination: Any) -> Tensor:
    """Move axes to new positions, the others keeping their order (a view)."""
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise ValueError("`source` and `destination` arguments must have the same number of elements")
    src = list(_normalize_unique(src, x.ndim, "source"))
    dst = list(_normalize_unique(dst, x.ndim, "destination"))
    order = [i for i in range(x.ndim) if i not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return permute(x, tuple(order))


def _normalize_unique(axes: Any, ndim: int, what: str) -> tuple:
    out = tuple(axis_of(a, ndim) for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in `{what}` argument")
    return out


def squeeze(x: Tensor, axis: Any = None) -> Tensor:
    """Drop size-1 dims (all, or the given ones, which must have size 1)."""
    if axis is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    else:
        axes = axes_of(axis, x.ndim)
        if any(x.shape[a] != 1 for a in axes):
            raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def expand_dims(x: Tensor, axis: Any) -> Tensor:
    """Insert size-1 dims at `axis` (int or tuple), counted in the result (a view)."""
    out_ndim = x.ndim + (len(axis) if isinstance(axis, (tuple, list)) else 1)
    axes = _shape.normalize_axes(axis, out_ndim)
    it = iter(x.shape)
    return reshape(x, tuple(1 if i in axes else next(it) for i in range(out_ndim)))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """PyTorch's unsqueeze: one size-1 dim at `dim` in [-ndim-1, ndim]."""
    return expand_dims(x, dim)


def broadcast_arrays(*tensors: Any) -> tuple:
    """Views of the tensors broadcast to their common shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = _shape.broadcast_shape(*(t.shape for t in tensors))
    return tuple(broadcast_to(t, shape) for t in tensors)


METHODS = {  # attached in ops/methods.py
    "flatten": flatten, "ravel": ravel, "moveaxis": moveaxis, "squeeze": squeeze,
    "unsqueeze": unsqueeze, "expand_dims": expand_dims,
    "reshape": reshape, "view": view, "permute": permute, "transpose": transpose,
    "swapaxes": swapaxes, "broadcast_to": broadcast_to, "expand": broadcast_to,
    "contiguous": contiguous, "T": property(_T), "mT": property(_mT),
}
