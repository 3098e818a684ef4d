"""Sorting: sort, argsort, topk, unique (cpp/sort.cpp), and the gather /
scatter-add pair along an axis that carries sort and topk gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _C, _shape
from .._dtype import int64
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import _needs_graph, refuse_complex, takes_tensor


def _last(a: np.ndarray, axis: int) -> np.ndarray:
    return a if axis == a.ndim - 1 else np.moveaxis(a, axis, -1)


def _axis(x: Tensor, axis: Any, dim: Any) -> int:
    if dim is not None:
        axis = dim
    return _shape.normalize_axis(axis, x.ndim)


class GatherAxis(Function):
    """out[..., j, ...] = x[..., idx[..., j, ...], ...] along one axis."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, idx: Tensor, axis: int) -> Tensor:
        ctx.axis, ctx.n, ctx.idx = axis, x.shape[axis], idx
        out = np.empty(idx.shape, x.dtype.np)
        _C.gather_last(_last(x._a, axis), _last(idx._a, axis), _last(out, axis))
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return ScatterAddAxis.apply(g, ctx.idx, ctx.axis, ctx.n), None, None


class ScatterAddAxis(Function):
    """zeros with axis of length n, then out[..., idx[..., j], ...] += src[..., j, ...]."""

    @staticmethod
    def forward(ctx: Any, src: Tensor, idx: Tensor, axis: int, n: int) -> Tensor:
        ctx.axis, ctx.idx = axis, idx
        shape = list(src.shape)
        shape[axis] = n
        out = np.zeros(tuple(shape), src.dtype.np)
        _C.scatter_add_last(_last(out, axis), _last(idx._a, axis), _last(src._a, axis))
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return GatherAxis.apply(g, ctx.idx, ctx.axis), None, None, None


def _sort_kernel(x: Tensor, axis: int, descending: bool, values: bool, indices: bool) -> tuple:
    refuse_complex(x, "sort")
    a = x._a if x.ndim else x._a.reshape(1)
    ax = axis if x.ndim else 0
    v = np.empty(a.shape, a.dtype) if values else np.empty(0, a.dtype)
    i = np.empty(a.shape, np.int64) if indices else np.empty(0, np.int64)
    if a.size:
        _C.sort_last(_last(a, ax), _last(v, ax) if values else v, _last(i, ax) if indices else i, descending)
    shape = x.shape
    vt = Tensor._wrap(v.reshape(shape)) if values else None
    return vt, Tensor._wrap(i.reshape(shape)) if indices else None


@takes_tensor
def argsort(x: Tensor, axis: Any = -1, descending: bool = False, stable: bool = True, *,
            dim: Any = None) -> Tensor:
    """int64 indices that sort x along axis. Always stable; NaN sorts last
    (first when descending, where NaN counts as the largest value)."""
    ax = _axis(x, axis, dim) if x.ndim else 0
    return _sort_kernel(x, ax, descending, False, True)[1]


@takes_tensor
def sort(x: Tensor, axis: Any = -1, descending: bool = False, stable: bool = True, *,
         dim: Any = None) -> Tensor:
    """Sorted values along axis (NumPy's sort; use argsort for the indices, or
    sort_with_indices for PyTorch's (values, indices)). Differentiable."""
    return sort_with_indices(x, axis, descending, stable, dim=dim)[0]


@takes_tensor
def sort_with_indices(x: Tensor, axis: Any = -1, descending: bool = False, stable: bool = True, *,
                      dim: Any = None) -> tuple[Tensor, Tensor]:
    """(values, indices) as torch.sort."""
    ax = _axis(x, axis, dim) if x.ndim else 0
    if _needs_graph(x) and x.ndim:
        idx = _sort_kernel(x, ax, descending, False, True)[1]
        return GatherAxis.apply(x, idx, ax), idx
    return _sort_kernel(x, ax, descending, True, True)


@takes_tensor
def topk(x: Tensor, k: int, axis: Any = -1, largest: bool = True, sorted: bool = True, *,
         dim: Any = None) -> tuple[Tensor, Tensor]:
    """(values, int64 indices) of the k largest (or smallest) along axis, always
    in sorted order; equal values keep the lower index first. NaN counts as the
    largest value. The values are differentiable."""
    refuse_complex(x, "topk")
    ax = _axis(x, axis, dim) if x.ndim else 0
    n = x.shape[ax] if x.ndim else 1
    k = int(k)
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for a dimension of size {n}")
    a = x._a if x.ndim else x._a.reshape(1)
    shape = list(a.shape)
    shape[ax] = k
    v = np.empty(tuple(shape), a.dtype)
    i = np.empty(tuple(shape), np.int64)
    _C.topk_last(_last(a, ax), _last(v, ax), _last(i, ax), bool(largest))
    out_shape = tuple(shape) if x.ndim else ()
    idx = Tensor._wrap(i.reshape(out_shape))
    if _needs_graph(x) and x.ndim:
        return GatherAxis.apply(x, idx, ax), idx
    return Tensor._wrap(v.reshape(out_shape)), idx


@takes_tensor
def unique(x: Tensor, return_inverse: bool = False, return_counts: bool = False) -> Any:
    """Sorted unique values of the flattened tensor, as NumPy 2's np.unique
    (all NaNs count as one value). With return_inverse/return_counts, a tuple;
    the inverse has x's shape (NumPy 2). Not differentiable."""
    refuse_complex(x, "unique")
    flat = x._a.reshape(-1)
    n = flat.size
    perm = np.empty(n, np.int64)
    srt = np.empty(n, flat.dtype)
    _C.sort_last(flat, srt, perm, False)
    vals, counts = np.empty(n, flat.dtype), np.empty(n, np.int64)
    inv = np.empty(n, np.int64) if return_inverse else np.empty(0, np.int64)
    k = _C.unique_sorted(srt, perm if return_inverse else np.empty(0, np.int64), vals, counts, inv)
    res = [Tensor._wrap(vals[:k].copy())]
    if return_inverse:
        res.append(Tensor._wrap(inv.reshape(x.shape)))
    if return_counts:
        res.append(Tensor._wrap(counts[:k].copy()))
    return res[0] if len(res) == 1 else tuple(res)


def _msort(self: Tensor, axis: Any = -1, descending: bool = False, stable: bool = True, *, dim: Any = None):
    return sort_with_indices(self, axis, descending, stable, dim=dim)


METHODS = {"sort": _msort, "argsort": argsort, "topk": topk, "unique": unique}  # attached in ops/methods.py

__all__ = ["sort", "argsort", "sort_with_indices", "topk", "unique", "int64"]
