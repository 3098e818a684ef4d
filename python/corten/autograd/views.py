"""Views and in-place writes: keeping every view's gradient in step with its memory.

A view shares memory with its *root* (the tensor it was cut from, through any
chain of views). When an in-place op changes that memory while recording, the
graph must say so for every tensor that sees it:

- the root gets a new node: the op's own node when the root itself was written,
  or `CopySlices` when a view was written (the root is its old self everywhere
  but the view's elements, which come from the op's result);
- every live view of the root is *rebased*: its node becomes `AsStrided`, "the
  root's current value, read through this view's layout", so an op recorded
  later differentiates through the write.

Ops recorded before the write keep their edges to the old nodes, which is what
they computed with. This is PyTorch's rule for views and in-place ops.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from .function import Function, _edge


def register_view(root: Any, view: Any) -> None:
    """Remember `view` so an in-place write to its root's memory can rebase it."""
    views = root._views
    if views is None:
        views = root._views = []
    elif len(views) >= 2 * root._views_live + 16:  # drop dead references, amortised
        views[:] = [r for r in views if r() is not None]
        root._views_live = len(views)
    views.append(weakref.ref(view))


def live_views(root: Any) -> list:
    views = root._views
    if not views:
        return []
    alive = [v for v in (r() for r in views) if v is not None]
    root._views[:] = [weakref.ref(v) for v in alive]
    root._views_live = len(alive)
    return alive


def rebase_views(root: Any) -> None:
    """After the root's memory changed while recording: every live view now reads
    the root's current value through its own layout."""
    if not root._rg:
        return
    for view in live_views(root):
        if view._nograd_view or view._multi_view:  # ambiguous, and PyTorch refuses too
            stale = StaleView()
            stale.why = (
                "a view was created in no_grad mode" if view._nograd_view
                else "a view is one of several returned by one call (split, chunk)"
            )
            view._grad_fn, view._out_index, view._rg = stale, 0, True
            continue
        node = AsStrided()
        node.needs_input_grad = (True,)
        node.next_edges = (_edge(root),)
        node.root_layout, node.view_layout = _layout(root), _layout(view)
        view._attach(node, 0)


def _layout(t: Any) -> tuple:
    """(1-D storage, shape, strides in elements, offset): where t's elements live."""
    base, offset = t._storage()
    return base, t.shape, t.strides, offset


def positions(root_layout: tuple, view_layout: tuple) -> np.ndarray:
    """For each element of the view, the flat (C-order) index of the root element
    at the same address; int64 with the view's shape."""
    base, shape, strides, offset = root_layout
    address = np.arange(base.shape[0], dtype=np.int64)
    flat_of_address = np.full(base.shape[0], -1, np.int64)
    flat_of_address[_strided(address, shape, strides, offset).ravel()] = np.arange(
        int(np.prod(shape, dtype=np.int64)), dtype=np.int64
    )
    _, vshape, vstrides, voffset = view_layout
    pos = flat_of_address[_strided(address, vshape, vstrides, voffset)]
    if pos.size and pos.min() < 0:
        raise RuntimeError("internal error: a view addresses memory outside its root tensor")
    return pos


def _strided(address: np.ndarray, shape: tuple, strides: tuple, offset: int) -> np.ndarray:
    isz = address.itemsize
    return np.lib.stride_tricks.as_strided(
        address[offset:], shape, tuple(s * isz for s in strides), writeable=False
    )


class AsStrided(Function):
    """view = the root's elements at `positions` (a rebased view's node)."""

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        from .._creation import zeros
        from ..ops.indexing import index_add

        shape = ctx.root_layout[1]
        pos = positions(ctx.root_layout, ctx.view_layout)
        flat = zeros(int(np.prod(shape, dtype=np.int64)), dtype=g.dtype)
        return (index_add(flat, 0, pos.ravel(), g.reshape(-1)).reshape(shape),)


class StaleView(Function):
    """The node of a view made in no_grad mode, or by a multi-view call (split,
    chunk), whose memory was then written while recording: PyTorch refuses to
    differentiate through it, and so does corten."""

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        raise RuntimeError(
            f"{ctx.why} and its base or another view of its base has been modified in place with grad "
            "mode enabled; create the view and do the in-place operation both inside or both outside "
            "no_grad, or clone() the view"
        )


class CopySlices(Function):
    """root after writing `value` into the view at `positions`: the old root's
    gradient is the incoming one with the view's elements zeroed; the value's
    gradient is the incoming one read at the view's elements."""

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        from .._creation import ones, zeros
        from ..ops.elementwise import where
        from ..ops.indexing import take

        g_old = g_value = None
        if ctx.needs_input_grad[0]:
            keep = ones(g.shape, dtype="bool")
            keep._a.reshape(-1)[ctx.pos.ravel()] = False
            g_old = where(keep, g, zeros((), dtype=g.dtype))
        if ctx.needs_input_grad[1]:
            g_value = take(g.reshape(-1), ctx.pos)
        return g_old, g_value


def copy_slices(root: Any, view: Any, value: Any) -> None:
    """Make `root` the node "old root with `value` written through `view`"."""
    node = CopySlices()
    node.pos = positions(_layout(root), _layout(view))
    old_rg, value_rg = root._rg, value._rg
    node.needs_input_grad = (old_rg, value_rg)
    node.next_edges = (_edge(root) if old_rg else None, _edge(value) if value_rg else None)
    root._attach(node, 0)
