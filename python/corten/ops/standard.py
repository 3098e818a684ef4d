"""Functions the Python Array API standard names that corten builds from its
other ops: manipulation (permute_dims, unstack, matrix_transpose,
broadcast_shapes, meshgrid), statistics (cumulative_sum/prod with
include_initial, count_nonzero), utility (diff), linear algebra (vecdot),
searching (searchsorted) and the set functions (unique_all/counts/inverse/values).
Signatures follow the standard (positional-only and keyword-only parameters)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .. import _shape
from .._dtype import int64
from ..tensor import Tensor
from ._common import _as_tensor, clone, refuse_complex, takes_tensor


def _tensor(x: Any, fn: str) -> Tensor:
    t = _as_tensor(x)
    if t is None:
        if not isinstance(x, (bool, int, float, complex)):
            raise TypeError(f"{fn}: expected a tensor, got {type(x).__name__}")
        from .._creation import tensor

        t = tensor(x)
    return t


@takes_tensor
def permute_dims(x: Tensor, /, axes: tuple[int, ...]) -> Tensor:
    """The standard's name for permute: reorder the dimensions (a view)."""
    from .shape import permute

    return permute(x, tuple(axes))


@takes_tensor
def unstack(x: Tensor, /, *, axis: int = 0) -> tuple[Tensor, ...]:
    """The slices of x along `axis`, as a tuple of views (the inverse of stack)."""
    if x.ndim == 0:
        raise ValueError("unstack needs a tensor of at least 1 dimension, got a 0-d tensor")
    ax = _shape.normalize_axis(axis, x.ndim)
    index = (slice(None),) * ax
    return tuple(x[index + (i,)] for i in range(x.shape[ax]))


@takes_tensor
def matrix_transpose(x: Tensor, /) -> Tensor:
    """Swap the last two dimensions (a view)."""
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose needs a tensor of at least 2 dimensions, got {x.ndim}")
    return x.mT


def broadcast_shapes(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape the given shapes broadcast to."""
    return _shape.broadcast_shape(*(tuple(s) for s in shapes))


def meshgrid(*arrays: Tensor, indexing: str = "xy") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors ('xy': Cartesian, 'ij': matrix indexing)."""
    from .shape import broadcast_to, reshape

    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    ts = [_tensor(a, "meshgrid") for a in arrays]
    for i, t in enumerate(ts):
        if t.ndim != 1:
            raise ValueError(f"meshgrid: input {i} has shape {_shape.shape_str(t.shape)}; expected 1-D tensors")
    if len({t.dtype for t in ts}) > 1:
        raise TypeError(f"meshgrid: inputs must share one dtype, got {', '.join(t.dtype.name for t in ts)}")
    n = len(ts)
    sizes = [t.shape[0] for t in ts]
    if indexing == "xy" and n >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, t in enumerate(ts):
        at = i if not (indexing == "xy" and n >= 2 and i < 2) else 1 - i
        shape = [1] * n
        shape[at] = t.shape[0]
        out.append(clone(broadcast_to(reshape(t, tuple(shape)), tuple(sizes))))
    return tuple(out)


# ---- statistics and utility -------------------------------------------------------------


def _cumulative(x: Tensor, axis: int | None, dtype: Any, include_initial: bool, prod: bool) -> Tensor:
    from .cumulative import cumprod, cumsum
    from .join import concat

    name = "cumulative_prod" if prod else "cumulative_sum"
    if axis is None:
        if x.ndim > 1:
            raise ValueError(f"{name}: axis is required for a tensor of {x.ndim} dimensions")
        axis = 0
    if x.ndim == 0:
        raise ValueError(f"{name} needs a tensor of at least 1 dimension, got a 0-d tensor")
    ax = _shape.normalize_axis(axis, x.ndim)
    r = (cumprod if prod else cumsum)(x, ax, dtype=dtype)
    if not include_initial:
        return r
    from .._creation import full

    shape = list(x.shape)
    shape[ax] = 1
    return concat([full(tuple(shape), 1 if prod else 0, dtype=r.dtype), r], axis=ax)


@takes_tensor
def cumulative_sum(x: Tensor, /, *, axis: int | None = None, dtype: Any = None,
                   include_initial: bool = False) -> Tensor:
    """Running sum along axis (may be omitted for a 1-D tensor); include_initial
    puts the empty sum (0) first, so the axis grows by one."""
    return _cumulative(x, axis, dtype, include_initial, False)


@takes_tensor
def cumulative_prod(x: Tensor, /, *, axis: int | None = None, dtype: Any = None,
                    include_initial: bool = False) -> Tensor:
    """Running product along axis; include_initial puts the empty product (1) first."""
    return _cumulative(x, axis, dtype, include_initial, True)


@takes_tensor
def count_nonzero(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Number of nonzero elements over axis (None: all), as int64."""
    from .reduction import sum

    return sum((x != 0).astype(int64), axis=axis, keepdims=keepdims)


@takes_tensor
def diff(x: Tensor, /, *, axis: int = -1, n: int = 1, prepend: Any = None, append: Any = None) -> Tensor:
    """n-th discrete difference along axis, after joining prepend/append to x."""
    from .join import concat

    if x.ndim == 0:
        raise ValueError("diff needs a tensor of at least 1 dimension, got a 0-d tensor")
    if int(n) < 0:
        raise ValueError(f"diff: order n must be non-negative, got {n}")
    ax = _shape.normalize_axis(axis, x.ndim)
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = concat(parts, axis=ax)
    lead = (slice(None),) * ax
    for _ in range(int(n)):
        if x.shape[ax] == 0:
            break
        x = x[lead + (slice(1, None),)] - x[lead + (slice(None, -1),)]
    return x


# ---- linear algebra -------------------------------------------------------------------


def vecdot(x1: Tensor, x2: Tensor, /, *, axis: int = -1) -> Tensor:
    """Dot products of vectors along axis (broadcast over the others); a complex
    x1 is conjugated."""
    from .complex import conj
    from .elementwise import multiply
    from .reduction import sum

    a, b = _tensor(x1, "vecdot"), _tensor(x2, "vecdot")
    nd = min(a.ndim, b.ndim)
    if not -nd <= axis < 0:
        raise ValueError(f"vecdot: axis {axis} must be negative and within both tensors' {nd} dimensions")
    if a.shape[axis] != b.shape[axis]:
        raise ValueError(f"vecdot: shapes {_shape.shape_str(a.shape)} and {_shape.shape_str(b.shape)} differ "
                         f"along axis {axis}")
    if a.dtype.kind == "c":
        a = conj(a)
    prod = multiply(a, b)
    # the standard: the promoted dtype (a uint8 vecdot stays uint8, wrapping as the products do)
    return sum(prod, axis=axis, dtype=prod.dtype)


# ---- searching and sets ---------------------------------------------------------------


def searchsorted(x1: Tensor, x2: Tensor, /, *, side: str = "left", sorter: Tensor | None = None) -> Tensor:
    """Insertion indices of x2's elements into the sorted 1-D x1 (int64)."""
    a, v = _tensor(x1, "searchsorted"), _tensor(x2, "searchsorted")
    refuse_complex(a, "searchsorted")
    if a.ndim != 1:
        raise ValueError(f"searchsorted: x1 must be 1-D, got shape {_shape.shape_str(a.shape)}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    s = None if sorter is None else _tensor(sorter, "searchsorted")._a
    return Tensor._wrap(np.asarray(np.searchsorted(a._a, v._a, side=side, sorter=s), np.int64))  # type: ignore


def isin(x1: Any, x2: Any, /, *, invert: bool = False) -> Tensor:
    """Whether each element of x1 equals some element of x2 (bool, x1's shape;
    invert=True: is not in x2). Searches x2's sorted unique values."""
    from .elementwise import _operands, equal, logical_not
    from .sorting import unique

    if not isinstance(x1, Tensor) and not isinstance(x2, Tensor):
        raise TypeError("isin: at least one of x1 and x2 must be a tensor")
    ops = _operands(x1, x2)
    if ops is None:
        raise TypeError(f"isin: unsupported operand types {type(x1).__name__} and {type(x2).__name__}")
    a, b, d = ops
    refuse_complex(a.astype(d, copy=False), "isin")
    a, b = a.astype(d, copy=False), b.astype(d, copy=False)
    values = unique(b)
    if values.size == 0:
        from .._creation import full

        found = full(a.shape, False, dtype="bool")
    else:
        pos = np.asarray(searchsorted(values, a).numpy().clip(0, values.size - 1))
        found = equal(values[Tensor._wrap(pos)], a)
    return logical_not(found) if invert else found


class UniqueAllResult(NamedTuple):
    values: Tensor
    indices: Tensor
    inverse_indices: Tensor
    counts: Tensor


class UniqueCountsResult(NamedTuple):
    values: Tensor
    counts: Tensor


class UniqueInverseResult(NamedTuple):
    values: Tensor
    inverse_indices: Tensor


def _unique(x: Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, inverse, counts) as the standard wants them: every NaN is a value of
    its own (corten's `unique`, like NumPy 2's, merges them into one, sorted last)."""
    from .sorting import unique

    values, inverse, counts = (t._a for t in unique(x, return_inverse=True, return_counts=True))
    if values.dtype.kind != "f" or not values.size or values[-1] == values[-1]:
        return values, inverse, counts
    nan_at = np.isnan(x._a)  # the merged NaN is the last value: give each NaN its own
    n_nan = int(counts[-1])
    k = values.size - 1
    values = np.concatenate([values[:k], np.full(n_nan, np.nan, values.dtype)])
    counts = np.concatenate([counts[:k], np.ones(n_nan, counts.dtype)])
    inverse = inverse.copy()
    inverse[nan_at] = k + np.arange(n_nan, dtype=inverse.dtype)  # in x's row-major order
    return values, inverse, counts


@takes_tensor
def unique_all(x: Tensor, /) -> UniqueAllResult:
    """Sorted unique values (NaNs distinct), the index of each one's first occurrence
    in the flattened x, the inverse (x's shape) and the counts."""
    values, inverse, counts = _unique(x)
    order = np.argsort(inverse.reshape(-1), kind="stable")
    starts = np.cumsum(counts) - counts
    indices = order[starts].astype(np.int64)
    w = Tensor._wrap
    return UniqueAllResult(w(values), w(indices), w(inverse), w(counts))


@takes_tensor
def unique_counts(x: Tensor, /) -> UniqueCountsResult:
    values, _, counts = _unique(x)
    return UniqueCountsResult(Tensor._wrap(values), Tensor._wrap(counts))


@takes_tensor
def unique_inverse(x: Tensor, /) -> UniqueInverseResult:
    values, inverse, _ = _unique(x)
    return UniqueInverseResult(Tensor._wrap(values), Tensor._wrap(inverse))


@takes_tensor
def unique_values(x: Tensor, /) -> Tensor:
    return Tensor._wrap(_unique(x)[0])


@takes_tensor
def positive(x: Tensor, /) -> Tensor:
    """+x (a copy)."""
    if x.dtype.name == "bool":
        raise TypeError("positive is not supported for bool tensors")
    return clone(x)


__all__ = [
    "UniqueAllResult", "UniqueCountsResult", "UniqueInverseResult", "broadcast_shapes", "count_nonzero",
    "cumulative_prod", "cumulative_sum", "diff", "isin", "matrix_transpose", "meshgrid", "permute_dims", "positive",
    "searchsorted", "unique_all", "unique_counts", "unique_inverse", "unique_values", "unstack", "vecdot",
]
