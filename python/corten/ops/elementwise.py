"""Element-wise ops: dtype rules, broadcasting, out=/in-place handling, and the
derivative of every op in two tables (UNARY_GRADS, BINARY_GRADS).

Dtype rules: NumPy 2 promotion between tensors (and NumPy arrays/scalars);
Python bool/int/float operands are weak and only change the kind. Where corten
deliberately differs from NumPy:
  * float-valued functions (divide, sqrt, exp, sigmoid, ...) of bool/integer
    inputs give float32, the default float (NumPy: float64, or float16 for
    bool/uint8); a Python float with a bool/integer tensor also gives float32;
  * subtract, floor_divide, remainder, pow on bool, and negative, sign,
    square, relu on bool raise TypeError (NumPy computes some in int8);
  * floor, ceil and round of integers keep the integer dtype.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from .. import _C
from .._dtype import (
    _BY_NP,
    ALL_DTYPES,
    DType,
    as_dtype,
    bool_,
    float_type_for,
    promote_types,
    scalar_result_type,
)
from .._shape import broadcast_shape, shape_str
from ..autograd.function import Function, _edge
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.views import copy_slices, rebase_views
from ..tensor import Tensor, _object_new

# ---- operand conversion ---------------------------------------------------------


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
    """A Python bool/int/float (weak). NumPy scalars such as np.float64, although
    subclasses of float, keep their dtype as in NumPy 2."""
    return isinstance(x, (bool, int, float)) and not isinstance(x, np.generic)


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


def _cast(t: Tensor, d: DType) -> Tensor:
    return t if _BY_NP[t._a.dtype] is d else astype(t, d)


# ---- running kernels (no autograd) ----------------------------------------------

_KERNELS = {name: getattr(_C, name) for name in dir(_C) if not name.startswith("_")}


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


def run_binary(op: str, a: Tensor, b: Tensor, out_dtype: DType, out: Tensor | None = None) -> Tensor:
    """out = op(a, b) with a, b of one dtype, broadcast; no autograd."""
    aa, ba = a._a, b._a
    sa, sb = aa.shape, ba.shape
    shape = sa if sa == sb else broadcast_shape(sa, sb)
    if out is None:  # the common case, kept short: small ops are dominated by Python
        o = np.empty(shape, out_dtype.np)
        _KERNELS[op](aa, ba, o)
        return Tensor._wrap(o)
    if out is not None and out.dtype is not out_dtype:
        if out.shape != shape:
            _result_array(shape, out_dtype, out, op)
        return _write_out(op, run_binary(op, a, b, out_dtype)._a, out)
    o = _result_array(shape, out_dtype, out, op)
    _KERNELS[op](_unalias(a, out), _unalias(b, out), o)
    if out is not None:
        out._bump_version()
        return out
    return Tensor._wrap(o)


def run_unary(op: str, x: Tensor, out_dtype: DType, out: Tensor | None = None) -> Tensor:
    if out is None:
        xa = x._a
        o = np.empty(xa.shape, out_dtype.np)
        _KERNELS[op](xa, o)
        return Tensor._wrap(o)
    if out is not None and out.dtype is not out_dtype:
        _result_array(x.shape, out_dtype, out, op)
        return _write_out(op, run_unary(op, x, out_dtype)._a, out)
    o = _result_array(x._a.shape, out_dtype, out, op)
    _KERNELS[op](_unalias(x, out), o)
    if out is not None:
        out._bump_version()
        return out
    return Tensor._wrap(o)


# ---- dtype rules --------------------------------------------------------------

_COMPARE = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"}
_LOGICAL = {"logical_and", "logical_or", "logical_xor"}
_BITWISE = {"bitwise_and", "bitwise_or", "bitwise_xor"}
_NO_BOOL = {"subtract", "floor_divide", "remainder", "pow"}
_FLOAT_UNARY = {"sqrt", "reciprocal", "exp", "log", "log1p", "expm1", "sin", "cos", "tanh", "sigmoid"}
_PREDICATE = {"logical_not", "isnan", "isinf", "isfinite"}
_NO_BOOL_UNARY = {"negative", "sign", "square", "relu"}


@cache
def _binary_dtypes(op: str, d: DType) -> tuple[DType, DType]:
    """(dtype the kernel computes in, dtype it returns) for promoted input dtype d."""
    if op == "divide":
        f = float_type_for(d)
        return f, f
    if op in _COMPARE or op in _LOGICAL:
        return d, bool_
    if op in _BITWISE and d.kind == "f":
        raise TypeError(f"{op} is only supported for integer and bool tensors, got {d.name}")
    if d is bool_ and op in _NO_BOOL:
        raise TypeError(f"{op} is not supported for bool tensors; cast to an integer dtype first")
    return d, d


# (compute dtype, result dtype) for each op and supported promoted input dtype,
# precomputed: the lookup is on every call.
def _supported_rules(op: str) -> dict:
    rules = {}
    for d in ALL_DTYPES:
        try:
            rules[d] = _binary_dtypes(op, d)
        except TypeError:
            pass
    return rules


_BINARY_OPS = ("add", "subtract", "multiply", "divide", "floor_divide", "remainder", "pow", "maximum",
               "minimum", *sorted(_COMPARE), *sorted(_LOGICAL), *sorted(_BITWISE))
_BINARY_RULES = {op: _supported_rules(op) for op in _BINARY_OPS}


@cache
def _unary_dtypes(op: str, d: DType) -> tuple[DType, DType]:
    if op in _FLOAT_UNARY:
        f = float_type_for(d)
        return f, f
    if op in _PREDICATE:
        return d, bool_
    if d is bool_ and op in _NO_BOOL_UNARY:
        raise TypeError(f"{op} is not supported for bool tensors")
    if op == "bitwise_not" and d.kind == "f":
        raise TypeError(f"bitwise_not is only supported for integer and bool tensors, got {d.name}")
    return d, d


# ---- the derivative tables ----------------------------------------------------
# Each rule maps the saved inputs and the incoming gradient g to the gradient of
# the input, using differentiable ops so higher-order gradients work.


def _zero(x: Tensor, g: Tensor) -> Tensor:
    return zeros_like_g(g)


UNARY_GRADS = {
    "negative": lambda x, g: -g,
    "abs": lambda x, g: g * sign(x),
    "sqrt": lambda x, g: g / (2 * sqrt(x)),
    "square": lambda x, g: g * (2 * x),
    "reciprocal": lambda x, g: -g / square(x),
    "exp": lambda x, g: g * exp(x),
    "log": lambda x, g: g / x,
    "log1p": lambda x, g: g / (1 + x),
    "expm1": lambda x, g: g * exp(x),
    "sin": lambda x, g: g * cos(x),
    "cos": lambda x, g: -g * sin(x),
    "tanh": lambda x, g: g * (1 - square(tanh(x))),
    "sigmoid": lambda x, g: g * sigmoid(x) * (1 - sigmoid(x)),
    "relu": lambda x, g: where(x > 0, g, 0.0),
    "sign": _zero,
    "floor": _zero,
    "ceil": _zero,
    "round": _zero,
}


def _pow_grad_base(a: Tensor, b: Tensor, g: Tensor) -> Tensor:
    return g * b * pow(a, b - 1)


def _pow_grad_exp(a: Tensor, b: Tensor, g: Tensor) -> Tensor:
    return where((a == 0) & (b >= 0), 0.0, g * pow(a, b) * log(a))


def _max_share(a: Tensor, b: Tensor, g: Tensor) -> Tensor:
    # Ties split the gradient evenly, as PyTorch does.
    return g * (astype(a > b, g.dtype) + astype(a == b, g.dtype) * 0.5)


BINARY_GRADS = {
    "add": (lambda a, b, g: g, lambda a, b, g: g),
    "subtract": (lambda a, b, g: g, lambda a, b, g: -g),
    "multiply": (lambda a, b, g: g * b, lambda a, b, g: g * a),
    "divide": (lambda a, b, g: g / b, lambda a, b, g: -g * a / square(b)),
    "pow": (_pow_grad_base, _pow_grad_exp),
    "maximum": (_max_share, lambda a, b, g: _max_share(b, a, g)),
    "minimum": (lambda a, b, g: _max_share(b, a, g), _max_share),
    "remainder": (lambda a, b, g: g, lambda a, b, g: -g * floor_divide(a, b)),
    "floor_divide": (lambda a, b, g: zeros_like_g(g), lambda a, b, g: zeros_like_g(g)),
}


def zeros_like_g(g: Tensor) -> Tensor:
    return Tensor._wrap(np.zeros(g.shape, g.dtype.np))


def sum_to(g: Tensor, shape: tuple) -> Tensor:
    """Sum a broadcast gradient back down to an input's shape."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    stretched = tuple(i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
    axes = tuple(range(lead)) + stretched
    from .reduction import sum as _sum

    r = _sum(g, axis=axes, keepdims=True) if axes else g
    return r.reshape(shape)


class Unary(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, op: str, out_dtype: DType) -> Tensor:
        ctx.op = op
        ctx.save_for_backward(x)
        return run_unary(op, x, out_dtype)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        (x,) = ctx.saved_tensors
        return UNARY_GRADS[ctx.op](x, g), None, None

    def name(self) -> str:
        return self.op.capitalize() + "Backward"


# Ops whose gradient needs no operand values: saving them would make a later
# in-place write to an operand refuse a backward that does not read it.
_GRAD_READS_NOTHING = frozenset({"add", "subtract", "floor_divide"})


class Binary(Function):
    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor, op: str, out_dtype: DType) -> Tensor:
        ctx.op = op
        if op in _GRAD_READS_NOTHING:
            ctx.shapes = a.shape, b.shape
        else:
            ctx.save_for_backward(a, b)
        return run_binary(op, a, b, out_dtype)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        if ctx.op in _GRAD_READS_NOTHING:
            a = b = None
            sa, sb = ctx.shapes
        else:
            a, b = ctx.saved_tensors
            sa, sb = a.shape, b.shape
        ga_rule, gb_rule = BINARY_GRADS[ctx.op]
        need_a, need_b = ctx.needs_input_grad[:2]
        ga = sum_to(ga_rule(a, b, g), sa) if need_a else None
        gb = sum_to(gb_rule(a, b, g), sb) if need_b else None
        return ga, gb, None, None

    def name(self) -> str:
        return self.op.capitalize() + "Backward"


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


# ---- public functions -----------------------------------------------------------


def _needs_graph(*ts: Tensor) -> bool:
    for t in ts:
        if t._rg:
            return is_grad_enabled()
    return False


def _binary(op: str, a: Any, b: Any, out: Tensor | None = None) -> Tensor:
    if type(a) is Tensor and type(b) is Tensor:  # the common case, without a call
        ta, tb = a, b
        d, db = _BY_NP[a._a.dtype], _BY_NP[b._a.dtype]
        same = d is db
        if not same:
            d = promote_types(d, db)
    else:
        ops = _operands(a, b)
        if ops is None:
            raise TypeError(f"{op}: unsupported operand types {type(a).__name__} and {type(b).__name__}")
        ta, tb, d = ops
        same = False
    try:
        cd, od = _BINARY_RULES[op][d]
    except KeyError:
        cd, od = _binary_dtypes(op, d)  # raises for unsupported dtypes
    negative_int_power = op == "pow" and cd.kind == "i" and (tb._a < 0).any()
    if negative_int_power and ta.size and 0 not in broadcast_shape(ta.shape, tb.shape):
        raise ValueError("Integers to negative integer powers are not allowed.")
    if not (same and cd is d):  # bring both operands to the compute dtype
        ta, tb = _cast(ta, cd), _cast(tb, cd)
    if out is not None:
        if _needs_inplace_graph(out, ta, tb):
            return _inplace_graph(
                out, lambda base: _binary(op, base if ta is out else ta, tb if tb is not out else base)
            )
        return run_binary(op, ta, tb, od, out)
    # run_binary(op, ta, tb, od), inlined: per-call cost matters for small tensors
    aa, ba = ta._a, tb._a
    sa, sb = aa.shape, ba.shape
    o = np.empty(sa if sa == sb else broadcast_shape(sa, sb), od.np)
    _KERNELS[op](aa, ba, o)
    res = _object_new(Tensor)  # Tensor._wrap(o), inlined
    res._a = o
    if (ta._rg or tb._rg) and op in BINARY_GRADS and od.kind == "f" and is_grad_enabled():
        _record_binary(op, ta, tb, res)
    return res


def _record_binary(op: str, ta: Tensor, tb: Tensor, res: Tensor) -> None:
    """What Binary.apply(ta, tb, op, od) records, written out: the generic
    apply costs about 2 us more, three times the kernel call on small tensors."""
    ctx = Binary()
    ctx.op = op
    if op in _GRAD_READS_NOTHING:
        ctx.shapes = ta._a.shape, tb._a.shape
    else:
        ctx._saved = (ta, tb)
        ctx._versions = (ta._bump_version(0), tb._bump_version(0))
    ra, rb = ta._rg, tb._rg
    ctx.needs_input_grad = (ra, rb, False, False)
    ctx.next_edges = (_edge(ta) if ra else None, _edge(tb) if rb else None, None, None)
    res._grad_fn, res._out_index, res._rg = ctx, 0, True


def _unary(op: str, x: Any, out: Tensor | None = None) -> Tensor:
    t = _as_tensor(x)
    if t is None:
        if isinstance(x, (bool, int, float)):
            from .._creation import tensor

            t = tensor(x)
        else:
            raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    cd, od = _unary_dtypes(op, t.dtype)
    t = _cast(t, cd)
    if out is not None:
        if _needs_inplace_graph(out, t):
            return _inplace_graph(out, lambda base: _unary(op, base if t is out else t))
        return run_unary(op, t, od, out)
    if t._rg and op in UNARY_GRADS and od.kind == "f" and is_grad_enabled():
        return Unary.apply(t, op, od)
    return run_unary(op, t, od)


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
        if target._nograd_view:
            raise RuntimeError(
                "a view was created in no_grad mode and is being modified in place with grad mode enabled; "
                "create the view and do the in-place operation both inside or both outside no_grad"
            )
        if root._rg and root._grad_fn is None:
            raise RuntimeError(
                "a view of a leaf tensor that requires grad is being used in an in-place operation"
            )
    res = compute(clone(target))
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
        else:  # a result without a gradient (e.g. floor_): the target no longer depends on anything
            target._grad_fn, target._rg = None, False
    else:
        copy_slices(root, target, res)
    rebase_views(root)
    return target


def astype(x: Tensor, dtype: Any) -> Tensor:
    """A copy converted to dtype (gradients flow back between float dtypes)."""
    d = as_dtype(dtype)
    if d.kind == "f" and x.dtype.kind == "f" and _needs_graph(x):
        return Cast.apply(x, d)
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


def _make_binary(op: str):
    def fn(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor:
        return _binary(op, a, b, out)

    fn.__name__ = op
    fn.__doc__ = f"Element-wise {op} with NumPy broadcasting and type promotion."
    return fn


def _make_unary(op: str):
    def fn(x: Any, *, out: Tensor | None = None) -> Tensor:
        return _unary(op, x, out)

    fn.__name__ = op
    fn.__doc__ = f"Element-wise {op}."
    return fn


add = _make_binary("add")
subtract = _make_binary("subtract")
multiply = _make_binary("multiply")
divide = _make_binary("divide")
floor_divide = _make_binary("floor_divide")
remainder = _make_binary("remainder")
pow = _make_binary("pow")
maximum = _make_binary("maximum")
minimum = _make_binary("minimum")
equal = _make_binary("equal")
not_equal = _make_binary("not_equal")
less = _make_binary("less")
less_equal = _make_binary("less_equal")
greater = _make_binary("greater")
greater_equal = _make_binary("greater_equal")
logical_and = _make_binary("logical_and")
logical_or = _make_binary("logical_or")
logical_xor = _make_binary("logical_xor")
bitwise_and = _make_binary("bitwise_and")
bitwise_or = _make_binary("bitwise_or")
bitwise_xor = _make_binary("bitwise_xor")

negative = _make_unary("negative")
abs = _make_unary("abs")
sign = _make_unary("sign")
sqrt = _make_unary("sqrt")
square = _make_unary("square")
reciprocal = _make_unary("reciprocal")
exp = _make_unary("exp")
log = _make_unary("log")
log1p = _make_unary("log1p")
expm1 = _make_unary("expm1")
sin = _make_unary("sin")
cos = _make_unary("cos")
tanh = _make_unary("tanh")
sigmoid = _make_unary("sigmoid")
relu = _make_unary("relu")
floor = _make_unary("floor")
ceil = _make_unary("ceil")
round = _make_unary("round")
logical_not = _make_unary("logical_not")
bitwise_not = _make_unary("bitwise_not")
bitwise_invert = bitwise_not
isnan = _make_unary("isnan")
isinf = _make_unary("isinf")
isfinite = _make_unary("isfinite")


# ---- ternary ----------------------------------------------------------------------


class Where(Function):
    @staticmethod
    def forward(ctx: Any, cond: Tensor, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(cond)
        ctx.shapes = a.shape, b.shape
        shape = broadcast_shape(cond.shape, a.shape, b.shape)
        o = np.empty(shape, a._a.dtype)
        _C.where(cond._a, a._a, b._a, o)
        return Tensor._wrap(o)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        (cond,) = ctx.saved_tensors
        sa, sb = ctx.shapes
        ga = sum_to(where(cond, g, 0.0), sa) if ctx.needs_input_grad[1] else None
        gb = sum_to(where(cond, 0.0, g), sb) if ctx.needs_input_grad[2] else None
        return None, ga, gb


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Elements of a where cond is true, else of b (broadcast together)."""
    c = _as_tensor(cond)
    if c is None:
        raise TypeError(f"where: condition must be a tensor, got {type(cond).__name__}")
    if c.dtype is not bool_:
        c = astype(c, bool_)
    if _is_py_scalar(a) and _is_py_scalar(b):
        from .._creation import tensor

        a = tensor(a)
    ops = _operands(a, b)
    if ops is None:
        raise TypeError(f"where: unsupported operand types {type(a).__name__} and {type(b).__name__}")
    ta, tb, d = ops
    ta, tb = _cast(ta, d), _cast(tb, d)
    if d.kind == "f" and _needs_graph(ta, tb):
        return Where.apply(c, ta, tb)
    return Where.forward(_NoCtx(), c, ta, tb)


class Clip(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, lo: Tensor, hi: Tensor) -> Tensor:
        ctx.save_for_backward(x, lo, hi)
        shape = broadcast_shape(x.shape, lo.shape, hi.shape)
        o = np.empty(shape, x._a.dtype)
        _C.clip(x._a, lo._a, hi._a, o)
        return Tensor._wrap(o)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        x, lo, hi = ctx.saved_tensors
        inside = (x >= lo) & (x <= hi)
        gx = sum_to(where(inside, g, 0.0), x.shape) if ctx.needs_input_grad[0] else None
        glo = sum_to(where(x < lo, g, 0.0), lo.shape) if ctx.needs_input_grad[1] else None
        ghi = sum_to(where(x > hi, g, 0.0), hi.shape) if ctx.needs_input_grad[2] else None
        return gx, glo, ghi


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:
    """Limit values to [min, max]; either bound may be None. NaN propagates."""
    t = _as_tensor(x)
    if t is None:
        raise TypeError(f"clip: expected a tensor, got {type(x).__name__}")
    if min is None and max is None:
        raise ValueError("clip: at least one of min or max must be given")
    d = t.dtype
    if d is bool_:
        raise TypeError("clip is not supported for bool tensors")
    bounds = []
    for v, fill in ((min, -np.inf), (max, np.inf)):
        if v is None:
            info_fill = fill if d.kind == "f" else (np.iinfo(d.np).min if fill < 0 else np.iinfo(d.np).max)
            bounds.append(Tensor._wrap(np.array(info_fill, d.np)))
        else:
            # promote the running dtype with this bound (Python scalars stay weak)
            ops = _operands(Tensor._wrap(np.empty((), d.np)), v)
            if ops is None:
                raise TypeError(f"clip: unsupported bound type {type(v).__name__}")
            _, tv, d = ops
            bounds.append(tv)
    t = _cast(t, d)
    lo, hi = (_cast(b, d) for b in bounds)
    if d.kind == "f" and _needs_graph(t, lo, hi):
        return Clip.apply(t, lo, hi)
    return Clip.forward(_NoCtx(), t, lo, hi)


clamp = clip


class _NoCtx:
    """A context for calling forward directly, outside the graph."""

    needs_input_grad = ()

    def save_for_backward(self, *tensors: Any) -> None:
        pass


# ---- Tensor methods and operators ---------------------------------------------------


def _op(fn, reflected: bool = False):
    """An operator method; operands it cannot handle give NotImplemented."""
    op = fn.__name__

    if reflected:
        def method(self: Tensor, other: Any) -> Any:
            try:
                return _binary(op, other, self)
            except TypeError:
                if _as_tensor(other) is None and not isinstance(other, (bool, int, float)):
                    return NotImplemented
                raise
    else:
        def method(self: Tensor, other: Any) -> Any:
            try:
                return _binary(op, self, other)
            except TypeError:
                if _as_tensor(other) is None and not isinstance(other, (bool, int, float)):
                    return NotImplemented
                raise
    return method


def _iop(fn):
    def method(self: Tensor, other: Any) -> Tensor:
        return fn(self, other, out=self)

    return method


def _invert(x: Tensor) -> Tensor:
    return logical_not(x) if x.dtype is bool_ else bitwise_not(x)


_METHODS = {
    "__add__": _op(add), "__radd__": _op(add, True), "__iadd__": _iop(add),
    "__sub__": _op(subtract), "__rsub__": _op(subtract, True), "__isub__": _iop(subtract),
    "__mul__": _op(multiply), "__rmul__": _op(multiply, True), "__imul__": _iop(multiply),
    "__truediv__": _op(divide), "__rtruediv__": _op(divide, True), "__itruediv__": _iop(divide),
    "__floordiv__": _op(floor_divide), "__rfloordiv__": _op(floor_divide, True),
    "__ifloordiv__": _iop(floor_divide),
    "__mod__": _op(remainder), "__rmod__": _op(remainder, True), "__imod__": _iop(remainder),
    "__pow__": _op(pow), "__rpow__": _op(pow, True), "__ipow__": _iop(pow),
    "__and__": _op(bitwise_and), "__rand__": _op(bitwise_and, True), "__iand__": _iop(bitwise_and),
    "__or__": _op(bitwise_or), "__ror__": _op(bitwise_or, True), "__ior__": _iop(bitwise_or),
    "__xor__": _op(bitwise_xor), "__rxor__": _op(bitwise_xor, True), "__ixor__": _iop(bitwise_xor),
    "__eq__": _op(equal), "__ne__": _op(not_equal), "__lt__": _op(less), "__le__": _op(less_equal),
    "__gt__": _op(greater), "__ge__": _op(greater_equal),
    "__neg__": negative, "__pos__": lambda self: self, "__abs__": abs, "__invert__": _invert,
    "add": add, "sub": subtract, "subtract": subtract, "mul": multiply, "multiply": multiply,
    "div": divide, "divide": divide, "true_divide": divide, "floor_divide": floor_divide,
    "remainder": remainder, "pow": pow, "maximum": maximum, "minimum": minimum,
    "eq": equal, "ne": not_equal, "lt": less, "le": less_equal, "gt": greater, "ge": greater_equal,
    "logical_and": logical_and, "logical_or": logical_or, "logical_xor": logical_xor,
    "neg": negative, "negative": negative, "abs": abs, "sign": sign, "sqrt": sqrt, "square": square,
    "reciprocal": reciprocal, "exp": exp, "log": log, "log1p": log1p, "expm1": expm1, "sin": sin,
    "cos": cos, "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "floor": floor, "ceil": ceil,
    "round": round, "logical_not": logical_not, "isnan": isnan, "isinf": isinf, "isfinite": isfinite,
    "clip": clip, "clamp": clip, "astype": astype, "to": astype, "copy": clone, "clone": clone,
    "float": lambda self: astype(self, "float32"), "double": lambda self: astype(self, "float64"),
    "long": lambda self: astype(self, "int64"), "int": lambda self: astype(self, "int32"),
    "bool": lambda self: astype(self, "bool"),
}
for _name in ("add", "subtract", "multiply", "divide", "floor_divide", "remainder", "pow"):
    _METHODS[_name + "_"] = _iop(globals()[_name])
_METHODS.update({"sub_": _METHODS["subtract_"], "mul_": _METHODS["multiply_"], "div_": _METHODS["divide_"]})
_METHODS.update({
    "relu_": lambda self: relu(self, out=self),
    "exp_": lambda self: exp(self, out=self),
    "sqrt_": lambda self: sqrt(self, out=self),
    "tanh_": lambda self: tanh(self, out=self),
    "sigmoid_": lambda self: sigmoid(self, out=self),
    "neg_": lambda self: negative(self, out=self),
    "clamp_": lambda self, min=None, max=None: _clamp_(self, min, max),
    "fill_": lambda self, value: _fill(self, value),
    "zero_": lambda self: _fill(self, 0),
    "copy_": lambda self, src: _copy_into(self, src),
})


def _copy_into(target: Tensor, src: Any) -> Tensor:
    """target[...] = src, broadcasting src; differentiable through src."""
    s = _as_tensor(src)
    if s is None:
        s = _scalar_array(src, target.dtype)
    shape = broadcast_shape(target.shape, s.shape)
    if shape != target.shape:
        raise ValueError(
            f"could not broadcast input of shape {shape_str(s.shape)} into shape {shape_str(target.shape)}"
        )
    if _needs_inplace_graph(target, s):
        from .shape import broadcast_to

        return _inplace_graph(target, lambda base: clone(broadcast_to(_cast(s, target.dtype), target.shape)))
    check_writable(target)
    _C.copy(_unalias(s, target), target._a)
    target._bump_version()
    return target


def _clamp_(target: Tensor, min: Any = None, max: Any = None) -> Tensor:
    bounds = [t for t in (_as_tensor(min), _as_tensor(max)) if t is not None]
    if _needs_inplace_graph(target, *bounds):
        return _inplace_graph(target, lambda base: clip(base, min, max))
    return _copy_into(target, clip(target, min, max))


def _fill(target: Tensor, value: Any) -> Tensor:
    return _copy_into(target, _scalar_array(value, target.dtype) if not isinstance(value, Tensor) else value)


for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

