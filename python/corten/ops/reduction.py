"""Reductions: sum, mean, prod, max/min, argmax/argmin, any/all, var/std,
logsumexp, norm. Each normalises its axes here and hands the C++ kernel a
permuted view whose trailing dims are the reduced ones (cpp/reduce.cpp).

Result dtypes follow NumPy, except that corten has no uint64: sum/prod of
bool and integer tensors give int64. Float-valued reductions of bool/integer
tensors (mean, var, std, logsumexp, norm) give float64, as NumPy's mean does.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from .. import _C, _shape
from .._dtype import as_dtype, bool_, float64, int64
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import _needs_graph, astype, refuse_complex, takes_tensor
from .complex import complex_prod, complex_sum

# ---- axis handling and kernel calls -------------------------------------------------


def _where(cond: Any, a: Any, b: Any) -> Tensor:
    from .elementwise import where  # elementwise imports this module (sum_to)

    return where(cond, a, b)


def sum_to(g: Tensor, shape: tuple) -> Tensor:
    """Sum a broadcast gradient back down to an input's shape."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    stretched = tuple(i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
    axes = tuple(range(lead)) + stretched
    r = sum(g, axis=axes, keepdims=True) if axes else g
    return r.reshape(shape)


def _axes(x: Tensor, axis: Any, dim: Any = None) -> tuple[int, ...]:
    """Sorted non-negative axes; axis=None means all. PyTorch's dim= is accepted."""
    if dim is not None:
        if axis is not None:
            raise TypeError("pass either axis or dim, not both")
        axis = dim
    if isinstance(axis, list):
        axis = tuple(axis)
    try:
        axes = _shape.normalize_axes(axis, x.ndim)
    except ValueError as e:
        if str(e) == "repeated axis":
            raise ValueError("duplicate value in 'axis'") from None
        raise
    return () if x.ndim == 0 else axes


def _keep(keepdims: bool, keepdim: bool | None) -> bool:
    return bool(keepdims if keepdim is None else keepdim)


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _run(kernel: str, x: Tensor, axes: tuple, keepdims: bool, out_dtype: Any) -> Tensor:
    """out = kernel over `axes` of x (no autograd)."""
    a = x._a
    if a.dtype.kind == "c":
        name = kernel.removeprefix("reduce_")
        raise TypeError(f"{name} is not supported for complex tensors yet (got {x.dtype.name})")
    kept = [i for i in range(a.ndim) if i not in axes]
    if list(axes) != list(range(a.ndim - len(axes), a.ndim)):
        a = a.transpose(kept + list(axes))
    out = np.empty(tuple(x.shape[i] for i in kept), as_dtype(out_dtype).np)
    getattr(_C, kernel)(a, out, len(axes))
    if keepdims:
        out = out.reshape(_kept_shape(x.shape, axes))
    return Tensor._wrap(out)


def _count(x: Tensor, axes: tuple) -> int:
    return _shape.size_of(x.shape[i] for i in axes)


def _expand_back(g: Tensor, in_shape: tuple, axes: tuple, keepdims: bool) -> Tensor:
    """Broadcast a reduced gradient back to the input's shape."""
    if not keepdims:
        g = g.reshape(_kept_shape(in_shape, axes))
    return g.broadcast_to(in_shape)


def _as_float(x: Tensor) -> Tensor:
    return x if x.dtype.kind in "fc" else astype(x, float64)


def _sum_dtype(x: Tensor) -> Any:
    return x.dtype if x.dtype.kind == "f" else int64


# ---- sum, mean, prod -----------------------------------------------------------


class Sum(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, axes: tuple, keepdims: bool) -> Tensor:
        ctx.in_shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return _run("reduce_sum", x, axes, keepdims, _sum_dtype(x))

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return _expand_back(g, ctx.in_shape, ctx.axes, ctx.keepdims), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, axes: tuple, keepdims: bool) -> Tensor:
        ctx.in_shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        ctx.n = _count(x, axes)
        return _run("reduce_mean", x, axes, keepdims, x.dtype)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return _expand_back(g / ctx.n, ctx.in_shape, ctx.axes, ctx.keepdims), None, None


class Prod(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, axes: tuple, keepdims: bool) -> Tensor:
        ctx.axes, ctx.keepdims = axes, keepdims
        ctx.save_for_backward(x)
        return _run("reduce_prod", x, axes, keepdims, _sum_dtype(x))

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        # d/dx_i = prod of the others: prod/x_i without zeros; with one zero only
        # that element gets the product of the rest; with two or more, all get 0.
        (x,) = ctx.saved_tensors
        g = _expand_back(g, x.shape, ctx.axes, ctx.keepdims)
        zero = x == 0
        nzero = sum(zero, ctx.axes, keepdims=True)
        safe = _where(zero, 1.0, x)
        rest = prod(safe, ctx.axes, keepdims=True)
        gx = _where(nzero == 0, g * rest / safe, _where(zero & (nzero == 1), g * rest, 0.0))
        return gx, None, None


@takes_tensor
def sum(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None,
        dtype: Any = None) -> Tensor:
    """Sum over axis (None: all; int or tuple, negative allowed). Floats are
    accumulated in double (blocks of float lanes), so float32 sums are accurate.
    bool/int tensors give int64; dtype= converts the input first and, for an
    integer dtype, is the result's dtype too (the total wraps)."""
    axes, keep = _axes(x, axis, dim), _keep(keepdims, keepdim)
    if dtype is not None:
        x = astype(x, dtype)
    if x._a.dtype.kind == "c":
        return complex_sum(x, axes, keep)
    if _needs_graph(x) and x.dtype.kind == "f":
        return Sum.apply(x, axes, keep)
    r = Sum.forward(Sum(), x, axes, keep)
    # an integer dtype= is the result's (the standard): the int64 total wraps into it
    return astype(r, dtype) if dtype is not None and r.dtype is not x.dtype and x.dtype.kind in "iu" else r


@takes_tensor
def mean(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None,
         dtype: Any = None) -> Tensor:
    """Arithmetic mean. Float tensors keep their dtype; bool and integer tensors
    give float64 (NumPy's choice). An empty reduction gives nan."""
    axes, keep = _axes(x, axis, dim), _keep(keepdims, keepdim)
    x = astype(x, dtype) if dtype is not None else _as_float(x)
    if x._a.dtype.kind == "c":
        return complex_sum(x, axes, keep, mean=True)
    if _needs_graph(x):
        return Mean.apply(x, axes, keep)
    return Mean.forward(Mean(), x, axes, keep)


@takes_tensor
def prod(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None,
         dtype: Any = None) -> Tensor:
    """Product (bool/int -> int64, wrapping on overflow); empty gives 1. The
    gradient is exact when elements are zero."""
    axes, keep = _axes(x, axis, dim), _keep(keepdims, keepdim)
    if dtype is not None:
        x = astype(x, dtype)
    if x._a.dtype.kind == "c":
        return complex_prod(x, axes, keep)
    if _needs_graph(x) and x.dtype.kind == "f":
        return Prod.apply(x, axes, keep)
    r = Prod.forward(Prod(), x, axes, keep)
    # an integer dtype= is the result's (the standard): the int64 total wraps into it
    return astype(r, dtype) if dtype is not None and r.dtype is not x.dtype and x.dtype.kind in "iu" else r


# ---- max, min, argmax, argmin, any, all -------------------------------------------


class Extreme(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, axes: tuple, keepdims: bool, kernel: str) -> Tensor:
        ctx.axes, ctx.keepdims = axes, keepdims
        ctx.save_for_backward(x)
        out = _run(kernel, x, axes, keepdims, x.dtype)
        ctx.out = out._a  # detached data: the mask of winners is piecewise constant
        return out

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        # Tied winners share the gradient evenly (as PyTorch's amax/amin).
        (x,) = ctx.saved_tensors
        best = _expand_back(Tensor._wrap(ctx.out), x.shape, ctx.axes, ctx.keepdims)
        mask = astype(x == best, x.dtype)
        share = mask / sum(mask, ctx.axes, keepdims=True)
        return _expand_back(g, x.shape, ctx.axes, ctx.keepdims) * share, None, None, None


def _extreme(x: Tensor, axis: Any, keepdims: bool, dim: Any, keepdim: Any, kernel: str, what: str) -> Tensor:
    axes, keep = _axes(x, axis, dim), _keep(keepdims, keepdim)
    if x.size == 0 and _count(x, axes) == 0:
        raise ValueError(f"zero-size array to reduction operation {what} which has no identity")
    if _needs_graph(x):
        return Extreme.apply(x, axes, keep, kernel)
    return _run(kernel, x, axes, keep, x.dtype)


@takes_tensor
def max(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None):
    """Largest value (NaN propagates); values only, like NumPy's max / torch.amax."""
    return _extreme(x, axis, keepdims, dim, keepdim, "reduce_max", "maximum")


@takes_tensor
def min(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None):
    """Smallest value (NaN propagates); values only."""
    return _extreme(x, axis, keepdims, dim, keepdim, "reduce_min", "minimum")


def _arg(x: Tensor, axis: Any, keepdims: bool, dim: Any, keepdim: Any, kernel: str, what: str) -> Tensor:
    if dim is not None:
        axis = dim
    keep = _keep(keepdims, keepdim)
    if axis is not None and not isinstance(axis, int) and not hasattr(axis, "__index__"):
        raise TypeError(f"{what}: axis must be an integer or None, got {type(axis).__name__}")
    axes = _axes(x, axis)
    if _count(x, axes) == 0:
        raise ValueError(f"attempt to get {what} of an empty sequence")
    return _run(kernel, x, axes, keep, int64)


@takes_tensor
def argmax(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
           keepdim: bool | None = None) -> Tensor:
    """Index (int64) of the first largest value along axis, or into the flattened
    tensor when axis is None; the first NaN wins. Never differentiable."""
    return _arg(x, axis, keepdims, dim, keepdim, "reduce_argmax", "argmax")


@takes_tensor
def argmin(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
           keepdim: bool | None = None) -> Tensor:
    """Index (int64) of the first smallest value; see argmax."""
    return _arg(x, axis, keepdims, dim, keepdim, "reduce_argmin", "argmin")


def _truth(x: Tensor) -> Tensor:
    return x if x.dtype is bool_ else x.detach() != 0


@takes_tensor
def any(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None):
    """True where some element along axis is nonzero (empty: False)."""
    return _run("reduce_max", _truth(x), _axes(x, axis, dim), _keep(keepdims, keepdim), bool_)


@takes_tensor
def all(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None):
    """True where every element along axis is nonzero (empty: True)."""
    return _run("reduce_min", _truth(x), _axes(x, axis, dim), _keep(keepdims, keepdim), bool_)


# ---- var, std, logsumexp, norm ---------------------------------------------------


class Var(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, axes: tuple, keepdims: bool, ddof: float) -> Tensor:
        ctx.axes, ctx.keepdims, ctx.ddof = axes, keepdims, ddof
        ctx.save_for_backward(x)
        d = x - mean(x, axes, keepdims=True)  # two passes: accurate for large means
        return sum(d * d, axes, keepdims) / builtins.max(_count(x, axes) - ddof, 0)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        (x,) = ctx.saved_tensors
        den = builtins.max(_count(x, ctx.axes) - ctx.ddof, 0)
        scale = 2.0 / den if den else math.inf  # as the forward's division by zero: inf, or nan where d is 0
        d = x - mean(x, ctx.axes, keepdims=True)
        return _expand_back(g, x.shape, ctx.axes, ctx.keepdims) * d * scale, None, None, None


@takes_tensor
def var(x: Tensor, axis: Any = None, keepdims: bool = False, *, ddof: float = 0,
        correction: float | None = None, dim: Any = None, keepdim: bool | None = None) -> Tensor:
    """Variance with NumPy's ddof=0 default (PyTorch's correction= is the same
    thing). bool/int tensors give float64; N - ddof <= 0 gives inf or nan."""
    refuse_complex(x, "var")
    axes, keep = _axes(x, axis, dim), _keep(keepdims, keepdim)
    ddof = ddof if correction is None else correction
    x = _as_float(x)
    if _needs_graph(x):
        return Var.apply(x, axes, keep, ddof)
    return Var.forward(Var(), x, axes, keep, ddof)


@takes_tensor
def std(x: Tensor, axis: Any = None, keepdims: bool = False, *, ddof: float = 0,
        correction: float | None = None, dim: Any = None, keepdim: bool | None = None) -> Tensor:
    """Standard deviation: sqrt(var(...)), same arguments as var."""
    refuse_complex(x, "std")
    return var(x, axis, keepdims, ddof=ddof, correction=correction, dim=dim, keepdim=keepdim).sqrt()


class LogSumExp(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, axes: tuple, keepdims: bool) -> Tensor:
        ctx.axes, ctx.keepdims = axes, keepdims
        ctx.save_for_backward(x)
        m = _run("reduce_max", x, axes, True, x.dtype)
        m = _where(m.isfinite(), m, 0.0)  # all -inf (or inf/nan) rows: no shift
        s = sum((x - m).exp(), axes, keepdims=True).log() + m
        return s if keepdims else s.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        (x,) = ctx.saved_tensors
        lse = logsumexp(x, ctx.axes, keepdims=True)
        return _expand_back(g, x.shape, ctx.axes, ctx.keepdims) * (x - lse).exp(), None, None


@takes_tensor
def logsumexp(x: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
              keepdim: bool | None = None) -> Tensor:
    """log(sum(exp(x))) shifted by the max, so large logits stay finite.
    Gradient: softmax weights. bool/int tensors give float64."""
    axes, keep = _axes(x, axis, dim), _keep(keepdims, keepdim)
    x = _as_float(x)
    if _count(x, axes) == 0:  # log(0)
        return sum(x, axes, keep).log()
    if _needs_graph(x):
        return LogSumExp.apply(x, axes, keep)
    return LogSumExp.forward(LogSumExp(), x, axes, keep)


class PNorm(Function):
    """sum(|x|^p)^(1/p) for finite p not 0 or 1; gradient 0 where the norm is 0."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, p: float, axes: tuple, keepdims: bool) -> Tensor:
        ctx.p, ctx.axes, ctx.keepdims = p, axes, keepdims
        ctx.save_for_backward(x)
        a = x.abs()
        s = sum(a * a if p == 2 else a ** p, axes, keepdims)
        return s.sqrt() if p == 2 else s ** (1.0 / p)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        (x,) = ctx.saved_tensors
        p = ctx.p
        n = _expand_back(vector_norm(x, p, ctx.axes, keepdims=True), x.shape, ctx.axes, True)
        g = _expand_back(g, x.shape, ctx.axes, ctx.keepdims)
        safe = _where(n == 0, 1.0, n)
        if p == 2:
            gx = g * x / safe
        else:
            gx = g * x.sign() * x.abs() ** (p - 1) / safe ** (p - 1)
        return _where(n == 0, 0.0, gx), None, None, None


@takes_tensor
def vector_norm(x: Tensor, ord: float = 2, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
                keepdim: bool | None = None) -> Tensor:
    """Vector p-norm over axis (None: all elements, flattened): ord 2 (default),
    1, inf, -inf, 0 (count of nonzeros) or any other p. bool/int give float64.
    Unlike np.linalg.norm, a 2-D input with axis=None is treated as a vector."""
    if ord is None:
        ord = 2
    axes, keep = _axes(x, axis, dim), _keep(keepdims, keepdim)
    x = _as_float(x)
    if ord == math.inf:
        return max(x.abs(), axes, keep) if _count(x, axes) else sum(x.abs(), axes, keep)
    if ord == -math.inf:
        return min(x.abs(), axes, keep)
    if ord == 0:
        return astype(sum(x.detach() != 0, axes, keep), x.dtype.real_dtype)
    if ord == 1:
        return sum(x.abs(), axes, keep)
    if _needs_graph(x):
        return PNorm.apply(x, float(ord), axes, keep)
    return PNorm.forward(PNorm(), x, float(ord), axes, keep)


norm = vector_norm
amax, amin = max, min

METHODS = {  # attached in ops/methods.py
    "sum": sum, "mean": mean, "prod": prod, "max": max, "min": min, "amax": max, "amin": min,
    "argmax": argmax, "argmin": argmin, "any": any, "all": all, "var": var, "std": std,
    "logsumexp": logsumexp, "norm": vector_norm,
}
