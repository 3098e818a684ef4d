"""Joining, splitting and rearranging data: concat/stack, split/chunk, flip,
roll, repeat/tile, pad, tril/triu. Copies write slices of the output with the
strided copy kernel; splits and flips are views (as NumPy's)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _C
from .._dtype import promote_types
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import _as_tensor, _needs_graph, astype, clone, forward_only
from .indexing import getitem, take
from .shape import axes_of as normalize_axes
from .shape import axis_of as normalize_axis
from .shape import broadcast_to, expand_dims, ravel, reshape


def _tensors(seq: Any, op: str) -> list:
    if isinstance(seq, Tensor) or not isinstance(seq, (list, tuple)):
        raise TypeError(f"{op}: expected a sequence of tensors")
    out = []
    for t in seq:
        tt = _as_tensor(t)
        if tt is None:
            raise TypeError(f"{op}: expected tensors, got {type(t).__name__}")
        out.append(tt)
    if not out:
        raise ValueError("need at least one array to concatenate")
    return out


def _axis_slice(axis: int, sl: slice) -> tuple:
    return (slice(None),) * axis + (sl,)


class Concat(Function):
    @staticmethod
    def forward(ctx: Any, *args: Any) -> Tensor:
        *ts, axis = args
        ctx.axis, ctx.sizes = axis, [t.shape[axis] for t in ts]
        shape = list(ts[0].shape)
        shape[axis] = sum(ctx.sizes)
        out = np.empty(shape, ts[0]._a.dtype)
        pos = 0
        for t in ts:
            n = t.shape[axis]
            _C.copy(t._a, out[_axis_slice(axis, slice(pos, pos + n))])
            pos += n
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        grads, pos = [], 0
        for n, need in zip(ctx.sizes, ctx.needs_input_grad, strict=False):
            grads.append(getitem(g, _axis_slice(ctx.axis, slice(pos, pos + n))) if need else None)
            pos += n
        return (*grads, None)


def concat(tensors: Any, axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis (None: flatten them first); dtypes promote."""
    ts = _tensors(tensors, "concat")
    if axis is None:
        ts, axis = [ravel(t) for t in ts], 0
    nd = ts[0].ndim
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    axis = normalize_axis(axis, nd)
    for i, t in enumerate(ts[1:], 1):
        if t.ndim != nd:
            raise ValueError(
                "all the input arrays must have same number of dimensions, but the array at index 0 has "
                f"{nd} dimension(s) and the array at index {i} has {t.ndim} dimension(s)"
            )
        for d in range(nd):
            if d != axis and t.shape[d] != ts[0].shape[d]:
                raise ValueError(
                    "all the input array dimensions except for the concatenation axis must match exactly, "
                    f"but along dimension {d}, the array at index 0 has size {ts[0].shape[d]} and the array "
                    f"at index {i} has size {t.shape[d]}"
                )
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = promote_types(dt, t.dtype)
    ts = [t if t.dtype is dt else astype(t, dt) for t in ts]
    return Concat.apply(*ts, axis)


cat = concat


def stack(tensors: Any, axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new axis."""
    ts = _tensors(tensors, "stack")
    if any(t.shape != ts[0].shape for t in ts[1:]):
        raise ValueError("all input arrays must have the same shape")
    axis = normalize_axis(axis, ts[0].ndim + 1)
    return concat([expand_dims(t, axis) for t in ts], axis)


def _split_at(x: Tensor, points: list, axis: int) -> list:
    pieces = [getitem(x, _axis_slice(axis, slice(a, b))) for a, b in zip(points[:-1], points[1:], strict=True)]
    for piece in pieces:  # as PyTorch's multi-output views: no in-place writes while recording,
        piece._multi_view = True  # and no use in a recorded op once their memory was written
        piece._multi_version = piece._bump_version(0)
    return pieces


def array_split(x: Tensor, indices_or_sections: Any, axis: int = 0) -> list:
    """Split into sections (int, sizes may differ by one) or at indices (views)."""
    axis = normalize_axis(axis, x.ndim)
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError("number sections must be larger than 0.")
        each, extra = divmod(n, k)
        sizes = [each + 1] * extra + [each] * (k - extra)
        points = [0]
        for s in sizes:
            points.append(points[-1] + s)
    else:
        points = [0] + [int(i) for i in indices_or_sections] + [n]
    return _split_at(x, points, axis)


def split(x: Tensor, indices_or_sections: Any, axis: int = 0) -> list:
    """NumPy's split: an int must divide the axis equally; a list gives split points."""
    if isinstance(indices_or_sections, (int, np.integer)):
        n = x.shape[normalize_axis(axis, x.ndim)]
        if indices_or_sections > 0 and n % int(indices_or_sections):
            raise ValueError("array split does not result in an equal division")
    return array_split(x, indices_or_sections, axis)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> list:
    """PyTorch's chunk: pieces of ceil(n / chunks) along dim, the last may be smaller."""
    if int(chunks) <= 0:
        raise ValueError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = normalize_axis(dim, x.ndim)
    n = x.shape[dim]
    size = max(-(-n // int(chunks)), 1)
    points = list(range(0, n, size)) + [n]
    if n == 0:  # as PyTorch: `chunks` empty pieces
        points = [0] * (int(chunks) + 1)
    return _split_at(x, points, dim)


def flip(x: Tensor, axis: Any = None) -> Tensor:
    """Reverse the order along the given axes (all by default): a view, as NumPy's."""
    axes = normalize_axes(axis, x.ndim)
    return getitem(x, tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim)))


def roll(x: Tensor, shift: Any, axis: Any = None) -> Tensor:
    """Shift elements along axes, wrapping around (the flattened tensor when axis is None)."""
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), x.shape)
    shifts = np.broadcast_to(np.asarray(shift, dtype=np.int64), np.shape(axis))
    axes = np.broadcast_to(np.asarray(axis), shifts.shape)
    total = [0] * x.ndim
    for s, a in zip(shifts.reshape(-1).tolist(), axes.reshape(-1).tolist(), strict=True):
        total[normalize_axis(a, x.ndim)] += s
    out = x
    for a, s in enumerate(total):
        n = x.shape[a]
        if n and s % n:
            k = n - s % n
            head, tail = _axis_slice(a, slice(k, None)), _axis_slice(a, slice(0, k))
            out = concat([getitem(out, head), getitem(out, tail)], a)
    return out if out is not x else clone(x)


def repeat(x: Tensor, repeats: Any, axis: int | None = None) -> Tensor:
    """NumPy's repeat: each element `repeats` times (an int, or one count per element)."""
    if axis is None:
        x, axis = ravel(x), 0
    axis = normalize_axis(axis, x.ndim)
    n = x.shape[axis]
    counts = np.asarray(repeats._a if isinstance(repeats, Tensor) else repeats)
    if counts.size == 0:
        counts = counts.astype(np.int64)
    if counts.dtype.kind not in "iub":
        raise TypeError(f"repeat: repeats must be integers, got {counts.dtype}")
    counts = counts.astype(np.int64)
    if (counts < 0).any():
        raise ValueError("repeats may not contain negative values.")
    if counts.ndim == 0 or counts.size == 1:
        r = int(counts.reshape(-1)[0])
        shape = x.shape[: axis + 1] + (r,) + x.shape[axis + 1 :]
        y = broadcast_to(expand_dims(x, axis + 1), shape)
        return _fresh(reshape(y, x.shape[:axis] + (n * r,) + x.shape[axis + 1 :]), x)
    if counts.ndim != 1 or counts.size != n:
        raise ValueError(f"operands could not be broadcast together with shape ({n},) ({counts.size},)")
    ends = np.cumsum(counts)
    idx = np.searchsorted(ends, np.arange(int(ends[-1]) if n else 0), side="right")
    return take(x, idx, axis)


def tile(x: Tensor, reps: Any) -> Tensor:
    """NumPy's tile: x repeated reps[i] times along each axis."""
    reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    if any(r < 0 for r in reps):
        raise ValueError("negative dimensions are not allowed")
    d = max(len(reps), x.ndim)
    reps = (1,) * (d - len(reps)) + reps
    sh = (1,) * (d - x.ndim) + x.shape
    inter = tuple(v for s in sh for v in (1, s))
    big = tuple(v for r, s in zip(reps, sh, strict=True) for v in (r, s))
    y = broadcast_to(reshape(x, inter), big)
    return _fresh(reshape(y, tuple(r * s for r, s in zip(reps, sh, strict=True))), x)


def _fresh(out: Tensor, x: Tensor) -> Tensor:
    """out, copied if it still shares x's memory (NumPy's repeat and tile always copy)."""
    return clone(out) if out is x or (x.size and np.shares_memory(out._a, x._a)) else out


def _pairs(v: Any, ndim: int, what: str) -> list:
    a = np.asarray(v._a if isinstance(v, Tensor) else v)
    try:
        b = np.broadcast_to(a, (ndim, 2))
    except ValueError:
        raise ValueError(f"{what}: could not be broadcast to shape ({ndim},2)") from None
    return b.tolist()


class Pad(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, widths: list, values: list) -> Tensor:
        ctx.inner = (Ellipsis,) + tuple(slice(b, b + n) for (b, _), n in zip(widths, x.shape, strict=True))
        shape = [b + n + a for (b, a), n in zip(widths, x.shape, strict=True)]
        out = np.empty(shape, x._a.dtype)
        for i, ((b, a), (vb, va)) in enumerate(zip(widths, values, strict=True)):
            lead = tuple(slice(None) for _ in range(i))
            tail = ctx.inner[i + 2 :]
            for sl, val in ((slice(0, b), vb), (slice(shape[i] - a, shape[i]), va)):
                _C.copy(np.array(val).astype(x._a.dtype), out[lead + (sl,) + tail])
        _C.copy(x._a, out[ctx.inner])
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return getitem(g, ctx.inner), None, None


def pad(x: Tensor, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Tensor:
    """NumPy's pad in constant mode: pad_width as n, (before, after) or one pair per axis."""
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported (only 'constant')")
    widths = _pairs(pad_width, x.ndim, "pad_width")
    if any(not float(w).is_integer() for p in widths for w in p):
        raise TypeError("`pad_width` must be of integral type.")
    widths = [(int(b), int(a)) for b, a in widths]
    if any(w < 0 for p in widths for w in p):
        raise ValueError("index can't contain negative values")
    values = _pairs(constant_values, x.ndim, "constant_values")
    return Pad.apply(x, widths, values)


class Tri(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, k: int, lower: bool) -> Tensor:
        ctx.k, ctx.lower = k, lower
        n, m = x.shape[-2:]
        diff = np.arange(m)[None, :] - np.arange(n)[:, None]
        mask = diff <= k if lower else diff >= k
        out = np.empty(x.shape, x._a.dtype)
        _C.where(mask, x._a, np.zeros((), x._a.dtype), out)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return Tri.apply(g, ctx.k, ctx.lower), None, None


def _tri(x: Tensor, k: int, lower: bool, name: str) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"{name}: input tensor must have at least 2 dimensions, got {x.ndim}")
    k = int(k)
    if _needs_graph(x):
        return Tri.apply(x, k, lower)
    return forward_only(Tri, x, k, lower)


def tril(x: Tensor, k: int = 0) -> Tensor:
    """The lower triangle of the last two dims (j - i <= k), zeros above."""
    return _tri(x, k, True, "tril")


def triu(x: Tensor, k: int = 0) -> Tensor:
    """The upper triangle of the last two dims (j - i >= k), zeros below."""
    return _tri(x, k, False, "triu")


METHODS = {  # attached in ops/methods.py
    "split": split, "array_split": array_split, "chunk": chunk, "flip": flip, "roll": roll,
    "repeat": repeat, "tile": tile, "tril": tril, "triu": triu,
}
