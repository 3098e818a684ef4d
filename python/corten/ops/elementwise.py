"""Element-wise ops: dtype rules, broadcasting, out=/in-place handling; the ops
themselves (names, dtype kinds, gradients) are rows of the table in ops/table.py,
from which this module builds the public functions and the Tensor methods.

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

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _C
from .._dtype import _BY_NP, ALL_DTYPES, DType, bool_, float_type_for, promote_types
from .._shape import broadcast_shape, shape_str
from ..autograd.function import Function, _edge
from ..autograd.grad_mode import _state as _grad_state
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor, _object_new
from ._common import (
    Overwrite,
    _as_tensor,
    _cast,
    _inplace_graph,
    _is_py_scalar,
    _needs_graph,
    _needs_inplace_graph,
    _operands,
    _result_array,
    _scalar_array,
    _unalias,
    _write_out,
    astype,
    check_writable,
    clone,
    forward_only,
    refuse_complex,
)
from .reduction import sum_to
from .table import BINARY_OPS, BY_NAME, OPS, UNARY_OPS, ElementwiseOp

# ---- running kernels (no autograd) ----------------------------------------------

# The kernels by name (a dict lookup costs less than one on the module); the
# profiler and corten.compile wrap them here too (_profile.wrap_kernels).
_KERNELS = {name: getattr(_C, name) for name in dir(_C) if not name.startswith("_")}


def run_binary(op: str, a: Tensor, b: Tensor, out_dtype: DType, out: Tensor | None = None) -> Tensor:
    """out = op(a, b) with a, b of one dtype, broadcast; no autograd."""
    aa, ba = a._a, b._a
    sa, sb = aa.shape, ba.shape
    shape = sa if sa == sb else broadcast_shape(sa, sb)
    if out is None:  # the common case, kept short: small ops are dominated by Python
        o = np.empty(shape, out_dtype.np)
        _KERNELS[op](aa, ba, o)
        return Tensor._wrap(o)
    if out.dtype is not out_dtype:  # compute, then cast into out (NumPy's same_kind rule)
        if out.shape != shape:
            _result_array(shape, out_dtype, out, op)
        return _write_out(op, run_binary(op, a, b, out_dtype)._a, out)
    o = _result_array(shape, out_dtype, out, op)
    _KERNELS[op](_unalias(a, out), _unalias(b, out), o)
    out._bump_version()
    return out


def run_unary(op: str, x: Tensor, out_dtype: DType, out: Tensor | None = None) -> Tensor:
    if out is None:
        xa = x._a
        o = np.empty(xa.shape, out_dtype.np)
        _KERNELS[op](xa, o)
        return Tensor._wrap(o)
    if out.dtype is not out_dtype:
        _result_array(x.shape, out_dtype, out, op)
        return _write_out(op, run_unary(op, x, out_dtype)._a, out)
    o = _result_array(x._a.shape, out_dtype, out, op)
    _KERNELS[op](_unalias(x, out), o)
    out._bump_version()
    return out


# ---- dtype rules, from each op's kind ---------------------------------------------


@cache
def _binary_dtypes(op: str, d: DType) -> tuple[DType, DType]:
    """(dtype the kernel computes in, dtype it returns) for promoted input dtype d."""
    return _dtypes_of_kind(op, BY_NAME[op].kind, d)


@cache
def _unary_dtypes(op: str, d: DType) -> tuple[DType, DType]:
    return _dtypes_of_kind(op, BY_NAME[op].kind, d)


def _dtypes_of_kind(op: str, kind: str, d: DType) -> tuple[DType, DType]:
    if d.kind == "c" and not BY_NAME[op].complex:
        raise TypeError(f"{op} is not supported for complex tensors yet (got {d.name})")
    if kind == "float":
        f = float_type_for(d)
        return f, f
    if kind == "to_bool":
        return d, bool_
    if kind == "integral" and d.kind in "fc":
        raise TypeError(f"{op} is only supported for integer and bool tensors, got {d.name}")
    if kind == "integer" and d.kind != "i":
        raise TypeError(f"{op} is only supported for integer tensors, got {d.name}")
    if kind == "numeric" and d is bool_:
        raise TypeError(f"{op} is not supported for bool tensors; cast to an integer dtype first")
    return d, d


def _supported_rules(op: str) -> dict:
    """(compute dtype, result dtype) per supported promoted input dtype, precomputed:
    the lookup is on every call."""
    rules = {}
    for d in ALL_DTYPES:
        try:
            rules[d] = _binary_dtypes(op, d)
        except TypeError:
            pass
    return rules


_BINARY_RULES = {op.name: _supported_rules(op.name) for op in BINARY_OPS}
# Gradient rules, by name, for the graph nodes below (None: not differentiable).
UNARY_GRADS = {op.name: op.grad for op in UNARY_OPS if op.differentiable}
BINARY_GRADS = {op.name: op.grad for op in BINARY_OPS if op.differentiable}


def _binary_saves(row: ElementwiseOp) -> dict:
    """(save a, save b) for each (a needs grad, b needs grad): only what the rules read."""
    reads_a, reads_b = row.grad_reads
    saves = {}
    for need_a in (False, True):
        for need_b in (False, True):
            reads = (reads_a if need_a else "") + (reads_b if need_b else "")
            saves[need_a, need_b] = ("a" in reads, "b" in reads)
    return saves


_BINARY_SAVES = {op.name: _binary_saves(op) for op in BINARY_OPS if op.differentiable}
_UNARY_SAVES = frozenset(op.name for op in UNARY_OPS if op.grad_reads)
_OUTPUT_GRADS = {op.name: op.grad_from_output for op in UNARY_OPS if op.grad_from_output}


def _save_operands(ctx: Any, op: str, a: Tensor, b: Tensor, need_a: bool, need_b: bool) -> None:
    save_a, save_b = _BINARY_SAVES[op][need_a, need_b]
    ctx.shapes = a._a.shape, b._a.shape
    if save_a or save_b:
        ctx._saved = (a if save_a else None, b if save_b else None)
        ctx._versions = (a._bump_version(0) if save_a else 0, b._bump_version(0) if save_b else 0)


# ---- graph nodes ---------------------------------------------------------------------


class Unary(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, op: str, out_dtype: DType) -> Tensor:
        ctx.op = op
        out = run_unary(op, x, out_dtype)
        if op in _OUTPUT_GRADS:  # save the output too, as an alias sharing its version counter
            y = Tensor._wrap(out._a)
            y._vc = out._vc = [0]
            ctx.save_for_backward(x, y)
        elif op in _UNARY_SAVES:
            ctx.save_for_backward(x)
        return out

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        op = ctx.op
        if op in _OUTPUT_GRADS and not is_grad_enabled():  # first derivative: from the output
            return _OUTPUT_GRADS[op](ctx.saved_tensor(1), g), None, None
        x = ctx.saved_tensor(0) if ctx._saved or ctx._freed else None
        return UNARY_GRADS[op](x, g), None, None

    def name(self) -> str:
        return self.op.capitalize() + "Backward"


class Binary(Function):
    """The node of a binary op; `_record_binary` builds it without `apply`."""

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        a, b = ctx.saved_tensors if ctx._saved or ctx._freed else (None, None)
        sa, sb = ctx.shapes
        ga_rule, gb_rule = BINARY_GRADS[ctx.op]
        need_a, need_b = ctx.needs_input_grad[:2]
        ga = sum_to(ga_rule(a, b, g), sa) if need_a else None
        gb = sum_to(gb_rule(a, b, g), sb) if need_b else None
        return ga, gb, None, None

    def name(self) -> str:
        return self.op.capitalize() + "Backward"


# ---- public functions -----------------------------------------------------------


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
    if (ta._rg or tb._rg) and _grad_state.enabled and op in BINARY_GRADS and od.kind == "f":
        _record_binary(op, ta, tb, res)
    return res


def _record_binary(op: str, ta: Tensor, tb: Tensor, res: Tensor) -> None:
    """Make `res` the output of a Binary node. Written out rather than through
    Function.apply, which costs about 2 us more: three times the kernel call on
    small tensors; the edges and saves of the common case are inlined too."""
    ctx = Binary()
    ctx.op = op
    ra, rb = ta._rg, tb._rg
    save_a, save_b = _BINARY_SAVES[op][ra, rb]
    ctx.shapes = ta._a.shape, tb._a.shape
    if save_a or save_b:
        ctx._saved = (ta if save_a else None, tb if save_b else None)
        ctx._versions = (ta._bump_version(0) if save_a else 0, tb._bump_version(0) if save_b else 0)
    ctx.needs_input_grad = (ra, rb, False, False)
    # _edge(t), inlined for the common case (not one of several views of one call)
    ea = eb = None
    if ra:
        fa = ta._grad_fn
        ea = _edge(ta) if ta._multi_view else ta if fa is None else (fa, ta._out_index)
    if rb:
        fb = tb._grad_fn
        eb = _edge(tb) if tb._multi_view else tb if fb is None else (fb, tb._out_index)
    ctx.next_edges = (ea, eb, None, None)
    res._grad_fn, res._out_index, res._rg = ctx, 0, True


def _unary(op: str, x: Any, out: Tensor | None = None) -> Tensor:
    t = _as_tensor(x)
    if t is None:
        if isinstance(x, (bool, int, float, complex)):
            from .._creation import tensor

            t = tensor(x)
        else:
            raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    if op == "abs" and t._a.dtype.kind == "c":  # |z| is real: not the row's kind
        from .complex import complex_abs

        return complex_abs(t, out)
    cd, od = _unary_dtypes(op, t.dtype)
    t = _cast(t, cd)
    if out is not None:
        if _needs_inplace_graph(out, t):
            return _inplace_graph(out, lambda base: _unary(op, base if t is out else t))
        return run_unary(op, t, od, out)
    if t._rg and op in UNARY_GRADS and od.kind == "f" and is_grad_enabled():
        return Unary.apply(t, op, od)
    return run_unary(op, t, od)


def _make_binary(op: str) -> Callable[..., Tensor]:
    def fn(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor:
        return _binary(op, a, b, out)

    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"Element-wise {op} with NumPy broadcasting and type promotion."
    return fn


def _make_unary(op: str) -> Callable[..., Tensor]:
    def fn(x: Any, *, out: Tensor | None = None) -> Tensor:
        return _unary(op, x, out)

    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"Element-wise {op}."
    return fn


# The public functions: one per table row, plus its aliases.
FUNCTIONS: dict[str, Callable[..., Tensor]] = {}
for _op_row in OPS:
    _fn = (_make_unary if _op_row.arity == 1 else _make_binary)(_op_row.name)
    for _name in (_op_row.name, *_op_row.aliases):
        FUNCTIONS[_name] = _fn
globals().update(FUNCTIONS)

# ---- functions of the op table, generated by tools/gen_tensor_api.py: do not edit ----
if TYPE_CHECKING:
    def negative(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    neg = negative
    def abs(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def sign(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def square(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def sqrt(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def reciprocal(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def exp(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def log(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def log1p(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def expm1(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def sin(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def cos(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def tanh(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def sigmoid(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def softplus(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def relu(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def floor(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def ceil(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def round(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def logical_not(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def bitwise_not(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    bitwise_invert = bitwise_not
    def isnan(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def isinf(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def isfinite(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def tan(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def asin(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def acos(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def atan(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def sinh(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def cosh(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def asinh(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def acosh(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def atanh(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def log2(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def log10(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def trunc(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def signbit(x: Any, *, out: Tensor | None = None) -> Tensor: ...
    def add(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def subtract(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    sub = subtract
    def multiply(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    mul = multiply
    def divide(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    div = divide
    true_divide = divide
    def floor_divide(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def remainder(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def pow(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def maximum(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def minimum(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def equal(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def not_equal(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def less(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def less_equal(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def greater(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def greater_equal(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def logical_and(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def logical_or(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def logical_xor(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def bitwise_and(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def bitwise_or(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def bitwise_xor(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def bitwise_left_shift(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def bitwise_right_shift(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def atan2(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def hypot(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def copysign(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def logaddexp(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
    def nextafter(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor: ...
# ---- end of generated functions ----


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
    return forward_only(Where, c, ta, tb)


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
    if min is None and max is None:  # the standard: a copy of x
        refuse_complex(t, "clip")
        return clone(t)
    d = t.dtype
    if d is bool_:
        raise TypeError("clip is not supported for bool tensors")
    if d.kind == "c":
        raise TypeError(f"clip is not supported for complex tensors (got {d.name}): they have no order")
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
    return forward_only(Clip, t, lo, hi)


clamp = clip


# ---- Tensor methods and operators ---------------------------------------------------


def _op(fn, reflected: bool = False):
    """An operator method; operands it cannot handle give NotImplemented."""
    op = fn.__name__

    if reflected:
        def method(self: Tensor, other: Any) -> Tensor:
            try:
                return _binary(op, other, self)
            except TypeError:
                if _as_tensor(other) is None and not isinstance(other, (bool, int, float)):
                    return NotImplemented
                raise
    else:
        def method(self: Tensor, other: Any) -> Tensor:
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


_fn_of = FUNCTIONS.__getitem__


def _invert(x: Tensor) -> Tensor:
    return _fn_of("logical_not")(x) if x.dtype is bool_ else _fn_of("bitwise_not")(x)


def _row_methods(row: ElementwiseOp) -> dict[str, Any]:
    """The Tensor methods and operators one table row gives."""
    fn = FUNCTIONS[row.name]
    m: dict[str, Any] = {name: fn for name in (row.name, *row.aliases, *row.method_aliases)}
    if row.inplace:
        if row.arity == 1:
            m.update({name + "_": (lambda f: lambda self: f(self, out=self))(fn) for name in (row.name, *row.aliases)})
        else:
            m.update({name + "_": _iop(fn) for name in (row.name, *row.aliases)})
    if row.operator and row.arity == 1:
        m[row.operator] = fn
    elif row.operator:
        m[f"__{row.operator}__"] = _op(fn)
        if row.kind != "to_bool":  # comparisons reflect into each other; Python handles that
            m[f"__r{row.operator}__"] = _op(fn, True)
            m[f"__i{row.operator}__"] = _iop(fn)
    return m


METHODS: dict[str, Any] = {}  # attached in ops/methods.py
for _op_row in OPS:
    METHODS.update(_row_methods(_op_row))
METHODS.update({
    "__pos__": lambda self: self, "__invert__": _invert,
    "clip": clip, "clamp": clip, "astype": astype, "to": astype, "copy": clone, "clone": clone,
    "float": lambda self: astype(self, "float32"), "double": lambda self: astype(self, "float64"),
    "long": lambda self: astype(self, "int64"), "int": lambda self: astype(self, "int32"),
    "bool": lambda self: astype(self, "bool"),
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
        return _inplace_graph(target, lambda base: Overwrite.apply(base, _cast(s, target.dtype)))
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



__all__ = [*FUNCTIONS, "where", "clip", "clamp", "astype", "clone"]
