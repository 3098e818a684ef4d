"""What the ops modules share: operand conversion, casting and copying, whether
to record a graph, `out=` and in-place writes, and running a Function's
forward without recording."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .. import _C
from .._dtype import _BY_NP, DType, as_dtype, promote_types, scalar_result_type
from .._shape import shape_str
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.views import copy_slices, rebase_views
from ..tensor import Tensor

# ---- operand conversion ---------------------------------------------------------


def contiguous_array(a: np.ndarray, dtype: Any = None) -> np.ndarray:
    """a itself when C-contiguous (and of dtype), else a C-contiguous copy made by
    the copy kernel: NumPy's would be invisible to corten.compile, which replays
    kernels only."""
    if a.flags.c_contiguous and (dtype is None or a.dtype == dtype):
        return a
    out = np.empty(a.shape, a.dtype if dtype is None else dtype)
    _C.copy(a, out)
    return out


def _scalar_array(value: Any, dtype: DType) -> Tensor:
    try:
        return Tensor._wrap(np.array(value, dtype=dtype.np))
    except OverflowError:
        raise OverflowError(f"Python integer {value} out of bounds for {dtype.name}") from None


def _as_tensor(x: Any) -> Tensor | None:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, np.generic)):
        from .._creation import from_numpy

        return from_numpy(np.asarray(x))
    if isinstance(x, (list, tuple)):
        from .._creation import tensor

        return tensor(x)
    return None


def _is_py_scalar(x: Any) -> bool:
    """A Python bool/int/float/complex (weak). NumPy scalars such as np.float64, although
    subclasses of float, keep their dtype as in NumPy 2."""
    return isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic)


def _operands(a: Any, b: Any) -> tuple[Tensor, Tensor, DType] | None:
    """Both operands as tensors plus their promoted dtype; Python scalars are weak."""
    if type(a) is Tensor and type(b) is Tensor:
        da, db = a.dtype, b.dtype
        return a, b, da if da is db else promote_types(da, db)
    if isinstance(a, Tensor) and _is_py_scalar(b):
        d = scalar_result_type(a.dtype, b)
        return a, _scalar_array(b, d), d
    if isinstance(b, Tensor) and _is_py_scalar(a):
        d = scalar_result_type(b.dtype, a)
        return _scalar_array(a, d), b, d
    ta, tb = _as_tensor(a), _as_tensor(b)
    if ta is None or tb is None:
        return None
    return _operands(ta, tb)


def refuse_complex(x: Any, op: str) -> None:
    """TypeError naming op and dtype when x is a complex tensor (ops without complex support)."""
    if isinstance(x, Tensor) and x._a.dtype.kind == "c":
        raise TypeError(f"{op} is not supported for complex tensors yet (got {x.dtype.name})")


def _cast(t: Tensor, d: DType) -> Tensor:
    return t if _BY_NP[t._a.dtype] is d else astype(t, d)


def takes_tensor(fn: Any) -> Any:
    """Let a function whose first argument is a tensor also take arrays, lists, scalars."""

    @functools.wraps(fn)
    def wrapper(x: Any, *args: Any, **kwargs: Any) -> Any:
        if type(x) is not Tensor:
            t = _as_tensor(x)
            if t is None:
                if not isinstance(x, (bool, int, float)):
                    raise TypeError(f"{fn.__name__}: expected a tensor, got {type(x).__name__}")
                from .._creation import tensor

                t = tensor(x)
            x = t
        return fn(x, *args, **kwargs)

    return wrapper


# ---- recording or not -------------------------------------------------------------


def _needs_graph(*ts: Tensor) -> bool:
    for t in ts:
        if t._rg:
            return is_grad_enabled()
    return False


def forward_only(fn: type[Function], *args: Any) -> Any:
    """Run a Function's forward outside the graph (no node, nothing saved)."""
    return fn.forward(fn(), *args)


# ---- copies and casts ----------------------------------------------------------------


class Cast(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dtype: DType) -> Tensor:
        ctx.src = x.dtype
        o = np.empty(x.shape, dtype.np)
        _C.copy(x._a, o)
        return Tensor._wrap(o)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        return astype(g, ctx.src), None


class Clone(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        o = np.empty(x.shape, x._a.dtype)
        _C.copy(x._a, o)
        return Tensor._wrap(o)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        return g


class Overwrite(Function):
    """`old` replaced by `value` (broadcast): old's gradient is zero, value's the
    incoming one summed back to its shape. copy_, fill_ and zero_ while recording."""

    @staticmethod
    def forward(ctx: Any, old: Tensor, value: Tensor) -> Tensor:
        ctx.vshape = value.shape
        o = np.empty(old.shape, old._a.dtype)
        _C.copy(value._a, o)
        return Tensor._wrap(o)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        from .reduction import sum_to  # reduction imports this module

        zero = Tensor._wrap(np.zeros(g.shape, g._a.dtype)) if ctx.needs_input_grad[0] else None
        return zero, sum_to(g, ctx.vshape) if ctx.needs_input_grad[1] else None


def astype(x: Tensor, dtype: Any, *, copy: bool = True, device: Any = None) -> Tensor:
    """A copy converted to dtype (gradients flow back between float dtypes);
    copy=False returns x itself when it already has that dtype."""
    d = as_dtype(dtype)
    if device is not None:
        from .._array_api import check_device

        check_device(device, "astype")
    if not copy and x._a.dtype == d.np:
        return x
    if d.kind == "f" and x.dtype.kind == "f" and _needs_graph(x):
        return Cast.apply(x, d)
    if d.kind == "c" and _needs_graph(x):
        raise RuntimeError(f"autograd does not support complex tensors yet (casting a tensor that requires grad "
                           f"to {d.name})")
    if x.dtype.kind == "c" and d.kind not in "cb":
        raise TypeError(f"cannot cast {x.dtype.name} to {d.name}: it would drop the imaginary part; "
                        "use real(), imag() or abs() first")
    o = np.empty(x.shape, d.np)
    _C.copy(x._a, o)
    return Tensor._wrap(o)


def clone(x: Tensor) -> Tensor:
    """A copy with the same dtype (differentiable)."""
    if _needs_graph(x):
        return Clone.apply(x)
    o = np.empty(x.shape, x._a.dtype)
    _C.copy(x._a, o)
    return Tensor._wrap(o)


# ---- out= and in-place writes ----------------------------------------------------------


def _result_array(shape: tuple, dtype: DType, out: Tensor | None, op: str) -> np.ndarray:
    if out is None:
        return np.empty(shape, dtype.np)
    if out.shape != shape:
        raise ValueError(
            f"{op}: output with shape {shape_str(out.shape)} doesn't match "
            f"the broadcast shape {shape_str(shape)}"
        )
    check_writable(out)
    return out._a


def _unalias(x: Tensor, out: Tensor | None) -> np.ndarray:
    """x's data, copied first if writing `out` element by element could clobber it
    before it is read (NumPy gives results as if inputs were copied)."""
    a = x._a
    if out is None:
        return a
    o = out._a
    if a is o or not np.may_share_memory(a, o):
        return a
    if a.shape == o.shape and a.strides == o.strides and a.ctypes.data == o.ctypes.data:
        return a
    return a.copy()


def _write_out(op: str, res: np.ndarray, out: Tensor) -> Tensor:
    """Cast-copy a result into out (NumPy's same_kind rule)."""
    if not np.can_cast(res.dtype, out._a.dtype, "same_kind"):
        raise TypeError(
            f"Cannot cast {op} output from dtype {res.dtype} to dtype {out._a.dtype} "
            "with casting rule 'same_kind'"
        )
    check_writable(out)
    _C.copy(res, out._a)
    out._bump_version()
    return out


def _needs_inplace_graph(target: Tensor, *inputs: Tensor) -> bool:
    """Whether writing into `target` must be recorded: an operand requires grad,
    or target is a view of memory whose root does."""
    if not is_grad_enabled():
        return False
    if target._rg or True in [t._rg for t in inputs]:
        return True
    root = target._view_src
    return root is not None and root._rg


def check_writable(target: Tensor) -> None:
    """Refuse writes through a layout where several elements share one address
    (an expanded tensor): the result would depend on the write order."""
    a = target._a
    if a.size > 1 and 0 in a.strides and any(n > 1 and s == 0 for n, s in zip(a.shape, a.strides, strict=True)):
        raise ValueError(
            "unsupported operation: more than one element of the written-to tensor refers to a single "
            "memory location. Please clone() the tensor before performing the operation."
        )


def _inplace_graph(target: Tensor, compute: Any) -> Tensor:
    """An in-place op while recording: compute out of place from a clone of the
    target, write the result into the target's memory, then bring the graph in
    step with that memory (autograd/views.py): the target (or, for a view, its
    root) moves onto the new node and every live view of the root is rebased."""
    if target._rg and target._grad_fn is None:
        raise RuntimeError("a leaf tensor that requires grad is being used in an in-place operation")
    check_writable(target)
    root = target._view_src
    if root is not None:
        if target._multi_view:
            raise RuntimeError(
                "this view is one of several returned by one call (split, chunk) and is being modified "
                "in place while recording; as in PyTorch this is not allowed: use an out-of-place op, or "
                "clone() the piece first"
            )
        if target._nograd_view:
            raise RuntimeError(
                "a view was created in no_grad mode and is being modified in place with grad mode enabled; "
                "create the view and do the in-place operation both inside or both outside no_grad"
            )
        # A leaf root: one that requires grad, or one detached in place after the view was made
        # (the view still records its old graph), cannot take the write's node.
        if (root._rg or target._rg) and root._grad_fn is None:
            raise RuntimeError(
                "a view of a leaf tensor that requires grad is being used in an in-place operation"
            )
    old = clone(target)
    res = compute(old)
    if old._rg and not res._rg:  # e.g. zero_(): the new value does not depend on the old one
        res = Overwrite.apply(old, res)
    if res.shape != target.shape:
        raise ValueError(
            f"output with shape {shape_str(target.shape)} doesn't match "
            f"the broadcast shape {shape_str(res.shape)}"
        )
    _write_out("in-place", res._a, target)
    if root is None:
        root = target
        if res._grad_fn is not None:
            target._attach(res._grad_fn, res._out_index)
    else:
        copy_slices(root, target, res)
    rebase_views(root)
    return target
