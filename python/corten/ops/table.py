"""The element-wise op table: each unary and binary op declared once.

A row gives the op's name (the kernel in `corten._C`, the public function and
the Tensor method), its dtype kind, its gradient rule and the input domain the
gradient tests draw from. `ops/elementwise.py` builds the dtype rules, the
public functions, the Tensor methods and operators and `__all__` from it; the
tests parametrise over it; `tests/test_op_table.py` checks that it agrees with
the C++ op list (cpp/op_list.h).

Kinds (how the result dtype follows the promoted input dtype d; the same names
as the C++ kinds in cpp/op_list.h, which `_C.op_kinds()` exports):
  float      float-valued math: integers and bools compute in the default float
  numeric    d, refused for bool
  any        d, bool included
  to_bool    bool (comparisons, logical ops, isnan ...)
  integral   d, integers and bools only (bitwise ops)
  integer    d, integers only (the shifts)

Gradient rules use differentiable Tensor methods, so higher-order gradients
work: unary `rule(x, g)`, binary a pair `(rule_a(a, b, g), rule_b(a, b, g))`.
`grad=None` means not differentiable (the result is bool or integer-valued).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KINDS = ("float", "numeric", "any", "to_bool", "integral", "integer")


@dataclass(frozen=True)
class ElementwiseOp:
    name: str
    arity: int
    kind: str
    grad: Any = None
    domain: tuple | None = None  # float64 test inputs where the op is smooth: (lo, hi, random_signs) per operand
    aliases: tuple[str, ...] = ()  # more public names, as functions and Tensor methods
    method_aliases: tuple[str, ...] = ()  # more Tensor method names only
    operator: str | None = None  # "add" gives __add__, __radd__, __iadd__; a unary one is used as is
    inplace: bool = False  # a Tensor method `name_` (and one per alias) writing into self
    # Which operands each gradient rule reads ("x" for a unary rule; "a", "b" or "ab" per binary
    # rule): only those are saved, so an in-place write to an operand nobody reads is allowed.
    grad_reads: Any = None
    # The same derivative written with the op's output y, `rule(y, g)`: used for first
    # derivatives, so (as in PyTorch) writing the input in place after the op does not
    # refuse backward. Higher-order gradients use `grad`, which differentiates through x.
    grad_from_output: Callable | None = None
    # The op has complex64/complex128 kernels (cpp/ops.h: a kind ending in C); other ops refuse
    # complex tensors with a TypeError naming the op and dtype.
    complex: bool = False

    @property
    def differentiable(self) -> bool:
        return self.grad is not None


def _where(cond: Any, a: Any, b: Any) -> Any:
    from .elementwise import where

    return where(cond, a, b)


def _relu_grad_from_output(y: Any, g: Any) -> Any:
    from .fused import relu_grad

    return relu_grad(y, g)


def _zero(*args: Any) -> Any:
    from .._creation import zeros

    g = args[-1]
    return zeros(g.shape, dtype=g.dtype)


def _max_share(a: Any, b: Any, g: Any) -> Any:
    # Ties split the gradient evenly, as PyTorch does.
    return g * ((a > b).astype(g.dtype) + (a == b).astype(g.dtype) * 0.5)


def _pow_grad_exp(a: Any, b: Any, g: Any) -> Any:
    return _where((a == 0) & (b >= 0), 0.0, g * a.pow(b) * a.log())


def _unary(name: str, kind: str, grad: Callable | None = None, domain: tuple | None = None,
           reads: str = "x", **more: Any) -> ElementwiseOp:
    return ElementwiseOp(name, 1, kind, grad, domain, grad_reads=reads if grad else "", **more)


def _binary(name: str, kind: str, grad: tuple | None = None, domain: tuple | None = None,
            reads: tuple[str, str] = ("ab", "ab"), **more: Any) -> ElementwiseOp:
    return ElementwiseOp(name, 2, kind, grad, domain, grad_reads=reads if grad else ("", ""), **more)


NOSIGN, SIGNED = False, True
_LN2, _LN10 = math.log(2.0), math.log(10.0)

OPS: tuple[ElementwiseOp, ...] = (
    # ---- unary --------------------------------------------------------------------------------
    _unary("negative", "numeric", lambda x, g: -g, (-3, 3, NOSIGN), reads="", aliases=("neg",), operator="__neg__",
           inplace=True, complex=True),
    _unary("abs", "any", lambda x, g: g * x.sign(), (0.2, 3, SIGNED), operator="__abs__"),
    _unary("sign", "numeric", _zero, (0.2, 3, SIGNED), reads="", complex=True),
    _unary("square", "numeric", lambda x, g: g * (2 * x), (-3, 3, NOSIGN), complex=True),
    _unary("sqrt", "float", lambda x, g: g / (2 * x.sqrt()), (0.2, 4, NOSIGN), inplace=True,
           grad_from_output=lambda y, g: g / (2 * y), complex=True),
    _unary("reciprocal", "float", lambda x, g: -g / x.square(), (0.3, 3, NOSIGN),
           grad_from_output=lambda y, g: -g * y.square(), complex=True),
    _unary("exp", "float", lambda x, g: g * x.exp(), (-3, 3, NOSIGN), inplace=True,
           grad_from_output=lambda y, g: g * y, complex=True),
    _unary("log", "float", lambda x, g: g / x, (0.2, 4, NOSIGN), complex=True),
    _unary("log1p", "float", lambda x, g: g / (1 + x), (-0.7, 3, NOSIGN), complex=True),
    _unary("expm1", "float", lambda x, g: g * x.exp(), (-3, 3, NOSIGN),
           grad_from_output=lambda y, g: g * (y + 1), complex=True),
    _unary("sin", "float", lambda x, g: g * x.cos(), (-3, 3, NOSIGN), complex=True),
    _unary("cos", "float", lambda x, g: -g * x.sin(), (-3, 3, NOSIGN), complex=True),
    _unary("tanh", "float", lambda x, g: g * (1 - x.tanh().square()), (-2, 2, NOSIGN), inplace=True,
           grad_from_output=lambda y, g: g * (1 - y.square()), complex=True),
    _unary("sigmoid", "float", lambda x, g: g * x.sigmoid() * (1 - x.sigmoid()), (-4, 4, NOSIGN), inplace=True,
           grad_from_output=lambda y, g: g * y * (1 - y)),
    _unary("softplus", "float", lambda x, g: g * x.sigmoid(), (-4, 4, NOSIGN)),
    _unary("relu", "numeric", lambda x, g: _where(x > 0, g, 0.0), (0.1, 3, SIGNED), inplace=True,
           grad_from_output=_relu_grad_from_output),
    _unary("floor", "any", _zero, (0.1, 0.9, SIGNED), reads=""),
    _unary("ceil", "any", _zero, (0.1, 0.9, SIGNED), reads=""),
    _unary("round", "any", _zero, (0.1, 0.4, SIGNED), reads="", complex=True),
    _unary("logical_not", "to_bool"),
    _unary("bitwise_not", "integral", aliases=("bitwise_invert",)),
    _unary("isnan", "to_bool", complex=True),
    _unary("isinf", "to_bool", complex=True),
    _unary("isfinite", "to_bool", complex=True),
    _unary("tan", "float", lambda x, g: g / x.cos().square(), (-1.2, 1.2, NOSIGN), complex=True),
    _unary("asin", "float", lambda x, g: g / (1 - x.square()).sqrt(), (-0.8, 0.8, NOSIGN), complex=True),
    _unary("acos", "float", lambda x, g: -g / (1 - x.square()).sqrt(), (-0.8, 0.8, NOSIGN), complex=True),
    _unary("atan", "float", lambda x, g: g / (1 + x.square()), (-3, 3, NOSIGN), complex=True),
    _unary("sinh", "float", lambda x, g: g * x.cosh(), (-3, 3, NOSIGN), complex=True),
    _unary("cosh", "float", lambda x, g: g * x.sinh(), (-3, 3, NOSIGN), complex=True),
    _unary("asinh", "float", lambda x, g: g / (x.square() + 1).sqrt(), (-3, 3, NOSIGN), complex=True),
    _unary("acosh", "float", lambda x, g: g / (x.square() - 1).sqrt(), (1.2, 4, NOSIGN), complex=True),
    _unary("atanh", "float", lambda x, g: g / (1 - x.square()), (-0.8, 0.8, NOSIGN), complex=True),
    _unary("log2", "float", lambda x, g: g / (x * _LN2), (0.2, 4, NOSIGN), complex=True),
    _unary("log10", "float", lambda x, g: g / (x * _LN10), (0.2, 4, NOSIGN), complex=True),
    _unary("trunc", "any", _zero, (0.1, 0.9, SIGNED), reads=""),
    _unary("signbit", "to_bool"),
    # ---- binary -------------------------------------------------------------------------------
    _binary("add", "any", (lambda a, b, g: g, lambda a, b, g: g), ((-3, 3, NOSIGN), (-3, 3, NOSIGN)),
            reads=("", ""), operator="add", inplace=True, complex=True),
    _binary("subtract", "numeric", (lambda a, b, g: g, lambda a, b, g: -g), ((-3, 3, NOSIGN), (-3, 3, NOSIGN)),
            reads=("", ""), aliases=("sub",), operator="sub", inplace=True, complex=True),
    _binary("multiply", "any", (lambda a, b, g: g * b, lambda a, b, g: g * a), ((-3, 3, NOSIGN), (-3, 3, NOSIGN)),
            reads=("b", "a"), aliases=("mul",), operator="mul", inplace=True, complex=True),
    _binary("divide", "float", (lambda a, b, g: g / b, lambda a, b, g: -g * a / b.square()),
            ((-3, 3, NOSIGN), (0.5, 3, SIGNED)), reads=("b", "ab"), aliases=("div", "true_divide"),
            operator="truediv", inplace=True, complex=True),
    _binary("floor_divide", "numeric", (_zero, _zero), ((0.1, 0.9, NOSIGN), (1.5, 2.5, NOSIGN)),
            reads=("", ""), operator="floordiv", inplace=True),
    _binary("remainder", "numeric", (lambda a, b, g: g, lambda a, b, g: -g * a.floor_divide(b)),
            ((0.1, 0.9, NOSIGN), (1.5, 2.5, NOSIGN)), reads=("", "ab"), operator="mod", inplace=True),
    _binary("pow", "numeric", (lambda a, b, g: g * b * a.pow(b - 1), _pow_grad_exp),
            ((0.5, 2.5, NOSIGN), (-2, 2, NOSIGN)), operator="pow", inplace=True),
    _binary("maximum", "any", (_max_share, lambda a, b, g: _max_share(b, a, g)), ((0, 1, NOSIGN), (2, 3, NOSIGN))),
    _binary("minimum", "any", (lambda a, b, g: _max_share(b, a, g), _max_share), ((2, 3, NOSIGN), (0, 1, NOSIGN))),
    _binary("equal", "to_bool", method_aliases=("eq",), operator="eq", complex=True),
    _binary("not_equal", "to_bool", method_aliases=("ne",), operator="ne", complex=True),
    _binary("less", "to_bool", method_aliases=("lt",), operator="lt"),
    _binary("less_equal", "to_bool", method_aliases=("le",), operator="le"),
    _binary("greater", "to_bool", method_aliases=("gt",), operator="gt"),
    _binary("greater_equal", "to_bool", method_aliases=("ge",), operator="ge"),
    _binary("logical_and", "to_bool"),
    _binary("logical_or", "to_bool"),
    _binary("logical_xor", "to_bool"),
    _binary("bitwise_and", "integral", operator="and"),
    _binary("bitwise_or", "integral", operator="or"),
    _binary("bitwise_xor", "integral", operator="xor"),
    _binary("bitwise_left_shift", "integer", operator="lshift"),
    _binary("bitwise_right_shift", "integer", operator="rshift"),
    _binary("atan2", "float", (lambda a, b, g: g * b / (a.square() + b.square()),
                               lambda a, b, g: -g * a / (a.square() + b.square())),
            ((0.3, 3, SIGNED), (0.3, 3, SIGNED))),
    _binary("hypot", "float", (lambda a, b, g: g * a / a.hypot(b), lambda a, b, g: g * b / a.hypot(b)),
            ((0.3, 3, SIGNED), (0.3, 3, SIGNED))),
    _binary("copysign", "float", (lambda a, b, g: _where(a.signbit() == b.signbit(), g, -g), _zero),
            ((0.3, 3, SIGNED), (0.3, 3, SIGNED)), reads=("ab", "")),
    _binary("logaddexp", "float", (lambda a, b, g: g * (a - b).sigmoid(), lambda a, b, g: g * (b - a).sigmoid()),
            ((-3, 3, NOSIGN), (-3, 3, NOSIGN))),
    _binary("nextafter", "float", (lambda a, b, g: g, _zero), ((-3, 3, NOSIGN), (-3, 3, NOSIGN)), reads=("", "")),
)

BY_NAME: dict[str, ElementwiseOp] = {op.name: op for op in OPS}
UNARY_OPS = tuple(op for op in OPS if op.arity == 1)
BINARY_OPS = tuple(op for op in OPS if op.arity == 2)
