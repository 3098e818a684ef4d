"""NumPy indexing. Basic indices (ints, slices, None, Ellipsis) give views by
layout math; advanced ones (integer arrays, boolean masks) give copies made by
the C++ gather kernel, and assignments go through the scatter kernel.

An index is parsed once into an `_Plan` that does not depend on the strides of
the tensor it came from, so backward can replay it on a gradient or on zeros.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _C, _shape
from .._dtype import bool_
from .._shape import shape_str
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import (
    _as_tensor,
    _inplace_graph,
    _needs_graph,
    _needs_inplace_graph,
    _scalar_array,
    astype,
    check_writable,
    forward_only,
)
from .elementwise import where
from .reduction import sum_to


def _axis_of(axis: Any, ndim: int) -> int:
    from .shape import axis_of

    return axis_of(axis, ndim)


_BAD_INDEX = (
    "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) "
    "and integer or boolean arrays are valid indices"
)


class _Mask:
    """A boolean array in an index; `arr.ndim == 0` for a Python bool."""

    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr


def _index_array(it: Any) -> np.ndarray | _Mask:
    if isinstance(it, Tensor):
        a = it._a
    elif isinstance(it, np.ndarray):
        a = it
    else:
        a = np.asarray(it)
        if a.size == 0 and a.dtype.kind == "f":  # an empty list indexes nothing
            a = a.astype(np.int64)
    if a.dtype == np.bool_:
        return _Mask(a)
    if a.dtype.kind not in "iu":
        raise IndexError("arrays used as indices must be of integer (or boolean) type")
    return a.astype(np.int64, copy=False)


def _items(index: Any) -> list:
    if not isinstance(index, tuple):
        index = (index,)
    out: list = []
    for it in index:
        if it is None or it is Ellipsis or isinstance(it, slice):
            out.append(it)
        elif isinstance(it, (bool, np.bool_)):
            out.append(_Mask(np.array(bool(it))))
        elif isinstance(it, (int, np.integer)):
            out.append(int(it))
        elif isinstance(it, (Tensor, np.ndarray, list, tuple)):
            out.append(_index_array(it))
        else:
            raise IndexError(_BAD_INDEX)
    return out


class _Plan:
    """A parsed index for tensors of shape `in_shape`.

    basic: one entry per view dim source: ("i", k) drops an input dim at k,
        ("s", start, step, length) slices one, ("n",) inserts a new dim.
    adv: [(view_dim, int64 array, input axis)], or None for a pure view.
    mask: a boolean array over all input dims (the fast selection path).
    """

    basic: list
    adv: list | None = None
    mask: np.ndarray | None = None
    adjacent = True
    first = 0  # view position of the first advanced dim (when adjacent)
    bshape: tuple = ()
    out_shape: tuple = ()

    def arrays(self) -> list:
        """The advanced part as (view_dim, array, axis), expanding a fast-path mask."""
        if self.adv is None and self.mask is not None:
            cols = _nonzero_array(self.mask)
            self.adv = [(d, cols[d], d) for d in range(self.mask.ndim)]
            self.bshape = (cols.shape[1],)
        return self.adv or []


def _parse(shape: tuple, index: Any) -> _Plan:
    items = _items(index)
    ndim = len(shape)
    consumed = 0
    n_ellipsis = 0
    for it in items:
        if it is Ellipsis:
            n_ellipsis += 1
        elif isinstance(it, _Mask):
            consumed += it.arr.ndim
        elif it is not None:
            consumed += 1
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(
            f"too many indices for tensor: tensor is {ndim}-dimensional, but {consumed} were indexed"
        )
    fill = [slice(None)] * (ndim - consumed)
    if n_ellipsis:
        k = next(i for i, it in enumerate(items) if it is Ellipsis)
        items = items[:k] + fill + items[k + 1 :]
    else:
        items = items + fill

    advanced = any(isinstance(it, (np.ndarray, _Mask)) for it in items)
    plan = _Plan()
    basic: list = []
    adv: list = []
    adv_items: list = []  # positions in `items` of advanced entries
    d = 0  # input axis
    for pos, it in enumerate(items):
        if it is None:
            basic.append(("n",))
        elif isinstance(it, slice):
            n = shape[d]
            start, stop, step = it.indices(n)
            basic.append(("s", start, step, len(range(start, stop, step))))
            d += 1
        elif isinstance(it, int) and not advanced:
            n = shape[d]
            if not -n <= it < n:
                raise IndexError(f"index {it} is out of bounds for axis {d} with size {n}")
            basic.append(("i", it % n))
            d += 1
        elif isinstance(it, _Mask):
            m = it.arr
            adv_items.append(pos)
            if m.ndim == 0:  # True/False: a new length-1 dim, selected or not
                basic.append(("n",))
                adv.append((len(basic) - 1, np.zeros(1 if m else 0, np.int64), d))
                continue
            for j in range(m.ndim):
                if m.shape[j] != shape[d + j]:
                    raise IndexError(
                        f"boolean index did not match indexed tensor along axis {d + j}; size of axis is "
                        f"{shape[d + j]} but size of corresponding boolean axis is {m.shape[j]}"
                    )
            if m.ndim == ndim and len(items) == 1:
                plan.mask = m
                plan.basic = [("s", 0, 1, n) for n in shape]
                plan.first = 0
                plan.bshape = (_C.count_nonzero(m),)
                plan.out_shape = plan.bshape
                return plan
            cols = _nonzero_array(m)
            for j in range(m.ndim):
                basic.append(("s", 0, 1, shape[d]))
                adv.append((len(basic) - 1, cols[j], d))
                d += 1
        else:  # an integer array, or an int among advanced indices
            arr = np.asarray(it, np.int64) if isinstance(it, int) else it
            adv_items.append(pos)
            basic.append(("s", 0, 1, shape[d]))
            adv.append((len(basic) - 1, arr, d))
            d += 1
    plan.basic = basic
    if not advanced:
        plan.out_shape = tuple(b[3] if b[0] == "s" else 1 for b in basic if b[0] != "i")
        return plan
    try:
        plan.bshape = _shape.broadcast_shape(*(a.shape for _, a, _ in adv))
    except ValueError:
        raise IndexError(
            "shape mismatch: indexing arrays could not be broadcast together with shapes "
            + " ".join(shape_str(a.shape) for _, a, _ in adv)
        ) from None
    plan.adv = adv
    plan.adjacent = adv_items == list(range(adv_items[0], adv_items[-1] + 1))
    view_shape = [b[3] if b[0] == "s" else 1 for b in basic]
    adv_dims = {v for v, _, _ in adv}
    rest = [n for i, n in enumerate(view_shape) if i not in adv_dims]
    plan.first = adv[0][0] if plan.adjacent else 0  # view dims before it are all basic
    plan.out_shape = tuple(rest[: plan.first]) + plan.bshape + tuple(rest[plan.first :])
    return plan


def _nonzero_array(m: np.ndarray) -> np.ndarray:
    """(ndim, n) int64 coordinates of the true elements, each row contiguous."""
    n = _C.count_nonzero(m)
    out = np.empty((m.ndim, n), np.int64)
    _C.nonzero(m, out.T)
    return out


# ---- applying a plan (no autograd) ---------------------------------------------


def _basic_view(t: Tensor, basic: list) -> Tensor:
    shape, strides = [], []
    off = t._storage()[1]
    st = t.strides
    d = 0
    for b in basic:
        if b[0] == "n":
            shape.append(1)
            strides.append(0)
        elif b[0] == "i":
            off += b[1] * st[d]
            d += 1
        else:
            _, start, step, length = b
            if length:
                off += start * st[d]
            shape.append(length)
            strides.append(step * st[d])
            d += 1
    if 0 in shape:  # nothing to address: keep the offset inside the buffer
        return t._make_view(shape, [0] * len(shape), t._storage()[1])
    return t._make_view(shape, strides, off)


def _kernel_operands(t: Tensor, plan: _Plan, out: np.ndarray) -> tuple:
    """(source view with the advanced dims first, index arrays, axes, `out` as B + rest)."""
    adv = plan.arrays()
    v = _basic_view(t, plan.basic)
    adv_dims = [vd for vd, _, _ in adv]
    rest = [i for i in range(v.ndim) if i not in set(adv_dims)]
    order = adv_dims + rest
    src = v._a.transpose(order)
    idx = [np.broadcast_to(a, plan.bshape) for _, a, _ in adv]
    nb, p = len(plan.bshape), plan.first
    out_order = list(range(p, p + nb)) + list(range(p)) + list(range(p + nb, out.ndim))
    return src, idx, [ax for _, _, ax in adv], out.transpose(out_order)


def _get(t: Tensor, plan: _Plan) -> Tensor:
    if plan.adv is None and plan.mask is None:
        return _basic_view(t, plan.basic)
    out = np.empty(plan.out_shape, t._a.dtype)
    if plan.mask is not None and plan.adv is None:
        _C.masked_select(t._a, plan.mask, out)
        return Tensor._wrap(out)
    src, idx, axes, o = _kernel_operands(t, plan, out)
    _C.gather(src, idx, o, axes)
    return Tensor._wrap(out)


def _broadcast_value(v: np.ndarray, shape: tuple, advanced: bool) -> np.ndarray:
    vs = v.shape
    while len(vs) > len(shape) and vs[0] == 1:  # NumPy drops leading 1s of the value
        vs = vs[1:]
    try:
        return np.broadcast_to(v.reshape(vs), shape)
    except ValueError:
        if advanced:
            raise ValueError(
                f"shape mismatch: value array of shape {shape_str(v.shape)} could not be broadcast to "
                f"indexing result of shape {shape_str(shape)}"
            ) from None
        raise ValueError(
            f"could not broadcast input array from shape {shape_str(v.shape)} into shape {shape_str(shape)}"
        ) from None


def _put(t: Tensor, plan: _Plan, value: Tensor, accumulate: bool) -> None:
    """Write (or add) value into t at the plan's positions; value has t's dtype."""
    check_writable(t)
    advanced = plan.adv is not None or plan.mask is not None
    # Element i of value goes to the plan's i-th position, not to i: any shared
    # memory could be overwritten before it is read, so copy first (NumPy's result).
    v = value._a.copy() if np.may_share_memory(value._a, t._a) else value._a
    vb = _broadcast_value(v, plan.out_shape, advanced)
    if not advanced:
        view = _basic_view(t, plan.basic)
        if accumulate:
            _C.add(view._a, vb, view._a)
        else:
            _C.copy(vb, view._a)
    else:
        src, idx, axes, vk = _kernel_operands(t, plan, vb)
        _C.scatter(src, idx, vk, accumulate, axes)
    t._bump_version()


# ---- autograd ---------------------------------------------------------------------


class GetItem(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, plan: _Plan) -> Tensor:
        ctx.in_shape, ctx.plan = x.shape, plan
        return _get(x, plan)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        z = Tensor._wrap(np.zeros(ctx.in_shape, g._a.dtype))
        return IndexPut.apply(z, g, ctx.plan, True), None


class IndexPut(Function):
    """x with value written (or added) at the plan's positions, out of place."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, value: Tensor, plan: _Plan, accumulate: bool) -> Tensor:
        ctx.plan, ctx.accumulate, ctx.vshape = plan, accumulate, value.shape
        o = np.empty(x.shape, x._a.dtype)
        _C.copy(x._a, o)
        out = Tensor._wrap(o)
        _put(out, plan, value, accumulate)
        return out

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        gx = gv = None
        if ctx.needs_input_grad[0]:
            zero = Tensor._wrap(np.zeros((), g._a.dtype))
            gx = g if ctx.accumulate else IndexPut.apply(g, zero, ctx.plan, False)
        if ctx.needs_input_grad[1]:
            gv = sum_to(GetItem.apply(g, ctx.plan), _value_target(ctx.vshape, ctx.plan.out_shape))
            if gv.shape != ctx.vshape:
                gv = gv.reshape(ctx.vshape)
        return gx, gv, None, None


def _value_target(vshape: tuple, out_shape: tuple) -> tuple:
    while len(vshape) > len(out_shape) and vshape[0] == 1:
        vshape = vshape[1:]
    return vshape


# ---- public API -------------------------------------------------------------------


def getitem(x: Tensor, index: Any) -> Tensor:
    if type(index) is int and x._a.ndim and not _needs_graph(x):  # x[i]: the common case, short
        n = x._a.shape[0]
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of bounds for axis 0 with size {n}")
        st = x.strides
        return x._make_view(x._a.shape[1:], st[1:], x._storage()[1] + (index % n) * st[0])
    plan = _parse(x.shape, index)
    if _needs_graph(x):
        return GetItem.apply(x, plan)
    return _get(x, plan)


def _value_tensor(value: Any, dtype: Any) -> Tensor:
    v = _as_tensor(value)
    if v is None:
        if not isinstance(value, (bool, int, float, complex)):
            raise TypeError(f"cannot assign a {type(value).__name__} to a tensor")
        if isinstance(value, complex) and dtype.kind != "c":
            raise TypeError(f"cannot assign the complex value {value!r} to a {dtype.name} tensor")
        return _scalar_array(value, dtype)
    if v.dtype is not dtype:
        v = astype(v, dtype)
    return v


def setitem(x: Tensor, index: Any, value: Any) -> None:
    plan = _parse(x.shape, index)
    v = _value_tensor(value, x.dtype)
    if _needs_inplace_graph(x, v):
        _inplace_graph(x, lambda base: IndexPut.apply(base, v, plan, False))
        return
    _put(x, plan, v, False)


def _axis_key(axis: int, index: Any) -> tuple:
    return (slice(None),) * axis + (index,)


def _int_index(index: Any, name: str) -> np.ndarray:
    a = _index_array(index)
    if isinstance(a, _Mask):
        raise IndexError(f"{name}: indices must be integers, got bool")
    return a


def take(x: Tensor, indices: Any, axis: int | None = None) -> Tensor:
    """Elements along an axis (the flattened tensor when axis is None), NumPy's take."""
    idx = _int_index(indices, "take")
    if axis is None:
        from .shape import ravel

        return getitem(ravel(x), idx)
    return getitem(x, _axis_key(_axis_of(axis, x.ndim), idx))


def index_select(x: Tensor, axis: int, index: Any) -> Tensor:
    """PyTorch's index_select: x along `axis` at a 1-D integer index."""
    idx = _int_index(index, "index_select")
    if idx.ndim != 1:
        raise IndexError(f"index_select: index must be 1-D, got {idx.ndim}-D")
    return getitem(x, _axis_key(_axis_of(axis, x.ndim), idx))


def _along_key(shape: tuple, idx: np.ndarray, axis: int) -> tuple:
    if idx.ndim != len(shape):
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    key = []
    for i, n in enumerate(shape):
        if i == axis:
            key.append(idx)
        else:
            s = [1] * len(shape)
            s[i] = n
            key.append(np.arange(n, dtype=np.int64).reshape(s))
    return tuple(key)


def take_along_axis(x: Tensor, indices: Any, axis: int | None) -> Tensor:
    """out[..., i, ...] = x[..., indices[..., i, ...], ...] (NumPy's take_along_axis)."""
    idx = _int_index(indices, "take_along_axis")
    if axis is None:
        from .shape import ravel

        x, axis = ravel(x), 0
    axis = _axis_of(axis, x.ndim)
    return getitem(x, _along_key(x.shape, idx, axis))


def put_along_axis(x: Tensor, indices: Any, values: Any, axis: int | None) -> None:
    """x[..., indices[..., i, ...], ...] = values, in place (NumPy's put_along_axis)."""
    idx = _int_index(indices, "put_along_axis")
    if axis is None:
        if x.ndim != 1:
            from .shape import ravel

            flat = ravel(x)
            if x.size and not np.shares_memory(flat._a, x._a):
                raise ValueError("put_along_axis: axis=None needs a tensor that can be flattened as a view")
            setitem(flat, _along_key(flat.shape, idx, 0), values)
            return
        axis = 0
    axis = _axis_of(axis, x.ndim)
    setitem(x, _along_key(x.shape, idx, axis), values)


def index_add(x: Tensor, axis: int, index: Any, source: Any) -> Tensor:
    """A copy of x with source added along `axis` at `index`; repeated indices accumulate."""
    idx = _int_index(index, "index_add")
    axis = _axis_of(axis, x.ndim)
    plan = _parse(x.shape, _axis_key(axis, idx))
    src = _value_tensor(source, x.dtype)
    if _needs_graph(x, src):
        return IndexPut.apply(x, src, plan, True)
    return forward_only(IndexPut, x, src, plan, True)


def nonzero(x: Any) -> tuple:
    """Indices of the nonzero elements, one int64 tensor per dimension (NumPy's nonzero)."""
    t = _as_tensor(x)
    if t is None:
        raise TypeError(f"nonzero: expected a tensor, got {type(x).__name__}")
    if t.ndim == 0:
        raise ValueError("Calling nonzero on 0d tensors is not allowed. Use atleast_1d / reshape(1) first.")
    cols = _nonzero_array(t._a if t._a.dtype.kind != "c" else t._a != 0)
    return tuple(Tensor._wrap(c) for c in cols)


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """x with value where mask is true (mask broadcasts to x's shape)."""
    m = _as_tensor(mask)
    if m is None or m.dtype is not bool_:
        raise TypeError("masked_fill: mask must be a bool tensor")
    if _shape.broadcast_shape(x.shape, m.shape) != x.shape:
        raise ValueError(
            f"masked_fill: mask of shape {shape_str(m.shape)} does not broadcast to {shape_str(x.shape)}"
        )
    return where(m, _value_tensor(value, x.dtype), x)


def _masked_fill_(x: Tensor, mask: Any, value: Any) -> Tensor:
    from .elementwise import _copy_into

    return _copy_into(x, masked_fill(x, mask, value))


def one_hot(indices: Any, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape indices.shape + (num_classes,) with a 1 at each index."""
    t = _as_tensor(indices)
    if t is None or t.dtype.kind not in "iu" or t.dtype is bool_:
        raise TypeError("one_hot: indices must be an integer tensor")
    a = t._a.astype(np.int64, copy=False).reshape(-1)
    if a.size and a.min() < 0:
        raise ValueError("one_hot: class values must be non-negative")
    if num_classes == -1:
        num_classes = int(a.max()) + 1 if a.size else 0
    out = np.zeros((a.size, num_classes), np.int64)
    ones = np.broadcast_to(np.ones((), np.int64), (a.size,))
    try:
        _C.scatter(out, [np.arange(a.size, dtype=np.int64), a], ones, False, [0, t.ndim])
    except IndexError:
        raise ValueError(f"one_hot: class values must be smaller than num_classes ({num_classes})") from None
    return Tensor._wrap(out.reshape(t.shape + (num_classes,)))


METHODS = {  # attached in ops/methods.py
    "__getitem__": getitem, "__setitem__": setitem, "take": take, "index_select": index_select,
    "take_along_axis": take_along_axis, "put_along_axis": put_along_axis, "index_add": index_add,
    "nonzero": nonzero, "masked_fill": masked_fill, "masked_fill_": _masked_fill_,
}
