"""Fused kernels as ops: a linear layer, GELU, softmax rows, embedding rows and
softmax cross-entropy / NLL, each one graph node over a C++ row kernel
(cpp/loss.cpp) or a single matmul. nn/ calls these instead of reaching into
corten._C. GELU, softmax and cross-entropy differentiate through C++ backward
kernels, so they give first derivatives only; linear and embedding use
differentiable ops in backward and give derivatives of any order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _C
from .._creation import zeros
from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..tensor import Tensor
from ._common import contiguous_array
from .indexing import index_add
from .linalg import matmul as _matmul

# ---- linear ---------------------------------------------------------------------------


def _linear_forward(xa: np.ndarray, wa: np.ndarray, ba: np.ndarray | None, relu: bool) -> np.ndarray:
    """relu?(xa @ wa.T + ba): one GEMM whose epilogue adds the bias and applies ReLU
    to each output tile while it is in cache. Each step rounds as the separate add
    and relu ops do, so the bits are those of matmul, then add, then relu."""
    y = np.empty((xa.shape[0], wa.shape[0]), xa.dtype)
    if xa.dtype.char in "fd" and (ba is None or ba.dtype == xa.dtype):
        _C.matmul_epilogue(xa, wa.T, y, ba, relu, None)  # a 1-D bias is added to every row
        return y
    _C.matmul(xa, wa.T, y, False)  # other dtypes: the separate kernels
    if ba is not None:
        _C.add(y, ba, y)
    if relu:
        _C.relu(y, y)
    return y


class Linear(Function):
    """y = x @ w.T + b for 2-D x, as one graph node. Forward and the first-order
    backward call the GEMM on the arrays directly (the same kernel calls, with the
    same operand layouts, as the Tensor-level matmuls: the same bits); under
    create_graph the backward uses differentiable ops."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
        ctx.save_for_backward(x, w)
        return Tensor._wrap(_linear_forward(x._a, w._a, None if b is None else b._a, False))

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        x, w = ctx.saved_tensors
        return _linear_backward(ctx.needs_input_grad, g, x, w, _relu_output(x))


def _relu_output(x: Tensor) -> bool:
    """Whether x is a LinearReLU's output whose gradient nobody looks at before that
    node's backward (no hook, retain_grad or autograd.grad on it): then the gradient
    for x may come out of the GEMM already masked with x > 0, which LinearReLU skips."""
    fn = x._grad_fn
    return (type(fn) is LinearReLU and len(fn._saved) == 3 and fn._saved[2] is x
            and not fn._hooks and not fn._retain and not fn._captured)


class LinearReLU(Function):
    """relu(x @ w.T + b) for 2-D x, as one graph node: the GEMM's epilogue adds the
    bias and applies ReLU (one pass over y). Backward masks g with y > 0 (the same
    mask as ReLU's backward: y > 0 exactly where x @ w.T + b > 0), then runs
    Linear's backward on it: the bits of Linear followed by ReLU."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
        y = Tensor._wrap(_linear_forward(x._a, w._a, None if b is None else b._a, True))
        ctx.save_for_backward(x, w, y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        x, w, y = ctx.saved_tensors
        if _state.enabled:  # higher order: through the differentiable ops
            from .elementwise import where

            g = where(y.detach() > 0, g, 0.0)
        elif g._relu_masked is not y:  # (else the next Linear's backward GEMM masked it)
            g = relu_grad(y, g)
        return _linear_backward(ctx.needs_input_grad, g, x, w, _relu_output(x))


def _linear_backward(needs: tuple, g: Tensor, x: Tensor, w: Tensor, mask_x: bool = False) -> tuple:
    """Gradients of x @ w.T + b for g: the GEMMs on the arrays at first order,
    differentiable ops under create_graph. mask_x: x is a ReLU's output (see
    _relu_output), and x's gradient leaves the GEMM masked with x > 0."""
    need_x, need_w, need_b = needs
    ga, xa, wa = g._a, x._a, w._a
    if _state.enabled or ga.dtype != xa.dtype or ga.dtype.kind != "f":  # higher order, or a hook's dtype
        gx = _matmul(g, w) if need_x else None
        gw = _matmul(g.mT, x) if need_w else None
        gb = g.sum(axis=0) if need_b else None
        return gx, gw, gb
    gx = gw = gb = None
    if need_x and mask_x:  # ReLU's backward in the GEMM's epilogue: the bits of matmul, then relu_backward
        gx = Tensor._wrap(np.empty(xa.shape, xa.dtype))
        _C.matmul_epilogue(ga, wa, gx._a, None, False, xa)
        gx._relu_masked = x
    elif need_x:
        gx = Tensor._wrap(np.empty(xa.shape, xa.dtype))
        _C.matmul(ga, wa, gx._a, False)
    if need_w:
        gw = Tensor._wrap(np.empty(wa.shape, wa.dtype))
        _C.matmul(ga.T, xa, gw._a, False)
    if need_b:  # g.sum(axis=0): the reduction kernel over g's rows, as ops.reduction lays it out
        gb = Tensor._wrap(np.empty(ga.shape[1:], ga.dtype))
        _C.reduce_sum(ga.T, gb._a, 1)
    return gx, gw, gb


def linear_rows(x: Tensor, weight: Tensor, bias: Tensor | None, relu: bool = False) -> Tensor:
    """x @ weight.T + bias for 2-D x (then ReLU when relu), as one graph node."""
    return (LinearReLU if relu else Linear).apply(x, weight, bias)


# ---- activations ------------------------------------------------------------------------


def relu_grad(y: Tensor, g: Tensor) -> Tensor:
    """g where y > 0, else 0: ReLU's first derivative from its output. One pass
    of `_C.relu_backward` for contiguous float arrays of one shape (the bits of
    `where(y > 0, g, 0.0)`, without the bool mask); the ops otherwise."""
    ya, ga = y._a, g._a
    if (
        ya.shape != ga.shape
        or ya.dtype != ga.dtype
        or ya.dtype.kind != "f"
        or not (ya.flags.c_contiguous and ga.flags.c_contiguous)
    ):
        from .elementwise import where

        return where(y > 0, g, 0.0)
    out = np.empty(ga.shape, ga.dtype)
    _C.relu_backward(ya, ga, out)
    return Tensor._wrap(out)



class Gelu(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, approx: bool) -> Tensor:
        ctx.approx = approx
        xa = contiguous_array(x._a)
        ctx.x = xa
        o = np.empty_like(xa)
        _C.gelu(xa, o, approx)
        return Tensor._wrap(o)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        gi = np.empty_like(ctx.x)
        _C.gelu_backward(ctx.x, contiguous_array(g._a), gi, ctx.approx)
        return Tensor._wrap(gi), None


def gelu(x: Tensor, approximate: bool) -> Tensor:
    """GELU (exact, or the tanh approximation) on the C++ kernel."""
    return Gelu.apply(x, approximate)


def _as_rows(a: np.ndarray, dim: int) -> np.ndarray:
    """a with `dim` moved last, as a contiguous (rows, C) array."""
    if dim != a.ndim - 1:
        a = np.moveaxis(a, dim, -1)
    if a.ndim == 0:
        return a.reshape(1, 1)
    # explicit row count: reshape(-1, 0) of a zero-size array is ambiguous
    return contiguous_array(a).reshape(math.prod(a.shape[:-1]), a.shape[-1])


def _from_rows(r: np.ndarray, shape: tuple, dim: int) -> np.ndarray:
    moved = shape[:dim] + shape[dim + 1 :] + (shape[dim],) if shape else ()
    out = r.reshape(moved)
    return np.moveaxis(out, -1, dim) if shape and dim != len(shape) - 1 else out


class SoftmaxRows(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int, log: bool) -> Tensor:
        ctx.dim, ctx.log, ctx.shape = dim, log, x.shape
        xr = _as_rows(x._a, dim)
        y = np.empty_like(xr)
        if y.size:
            _C.softmax_rows(xr, y, log)
        ctx.y = y  # detached output data, for backward
        return Tensor._wrap(_from_rows(y, x.shape, dim))

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        gr = _as_rows(g._a, ctx.dim)
        gi = np.empty_like(gr)
        if gi.size:
            _C.softmax_rows_backward(ctx.y, gr, gi, ctx.log)
        return Tensor._wrap(_from_rows(gi, ctx.shape, ctx.dim)), None, None


def softmax_rows(x: Tensor, dim: int, log: bool) -> Tensor:
    """softmax (or log_softmax) along a normalised dim, on the C++ row kernel."""
    return SoftmaxRows.apply(x, dim, log)


# ---- embedding ----------------------------------------------------------------------------


class Embed(Function):
    """Rows of w picked by integer indices; the gradient adds each row's gradients
    back with index_add, a differentiable op, so higher-order gradients work."""

    @staticmethod
    def forward(ctx: Any, idx: Tensor, w: Tensor, padding_idx: int | None) -> Tensor:
        ctx.idx, ctx.lead, ctx.n, ctx.pad = idx.reshape(-1), idx.ndim, w.shape[0], padding_idx
        return Tensor._wrap(np.take(w._a, idx._a, axis=0))

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        tail = g.shape[ctx.lead :]
        rows = g.reshape((-1,) + tail)
        gw = index_add(zeros((ctx.n,) + tail, dtype=g.dtype), 0, ctx.idx, rows)
        if ctx.pad is not None:
            keep = np.ones((ctx.n, 1), g._a.dtype)
            keep[ctx.pad] = 0
            gw = gw * Tensor._wrap(keep)
        return None, gw, None


def embedding_rows(idx: Tensor, weight: Tensor, padding_idx: int | None) -> Tensor:
    """weight[idx] for validated integer indices (padding_idx's row gets no gradient)."""
    return Embed.apply(idx, weight, padding_idx)


# ---- losses over (rows, classes) ------------------------------------------------------------


def _scalar_or_rows(rows: np.ndarray, reduction: str, denom: float) -> tuple[np.ndarray, float | None]:
    """(forward result, scale of the upstream scalar gradient) for a reduction."""
    if reduction == "none":
        return rows, None
    total = rows.sum(dtype=np.float64)
    if reduction == "sum":
        return np.array(total, rows.dtype), 1.0
    return np.array(total / denom if denom else np.nan, rows.dtype), (1.0 / denom if denom else np.nan)


def _row_grads(ctx: Any, g: Tensor, n: int, dtype: np.dtype) -> np.ndarray:
    if ctx.scale is None:
        return contiguous_array(g._a, dtype)
    return np.full(n, g.item() * ctx.scale, dtype)


class SoftmaxCrossEntropy(Function):
    """Cross-entropy of (rows, classes) logits against class indices or probabilities."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, target: Tensor, ignore_index: int, smoothing: float, reduction: str):
        xa = contiguous_array(x._a)
        n = xa.shape[0]
        probs = target.dtype.kind == "f"
        ta = contiguous_array(target._a, xa.dtype if probs else np.int64)
        rows, lse = np.empty(n, xa.dtype), np.empty(n, np.float64)
        ctx.stats = None
        if probs:
            _C.xent_prob_forward(xa, ta, smoothing, rows, lse)
            out, ctx.scale = _scalar_or_rows(rows, reduction, n)
        else:  # the kernels count the rows not ignored, sum and reduce the losses
            stats = np.empty(2, np.float64)
            _C.xent_index_forward(xa, ta, ignore_index, smoothing, rows, lse, stats)
            out, ctx.scale = rows, None
            if reduction != "none":
                out, ctx.stats, ctx.mean = np.empty((), xa.dtype), stats, reduction == "mean"
                _C.xent_reduce(stats, out, ctx.mean)
        ctx.xa, ctx.ta, ctx.lse, ctx.probs = xa, ta, lse, probs
        ctx.ignore, ctx.smoothing = ignore_index, smoothing
        ctx.save_for_backward(x)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        ctx.saved_tensors  # noqa: B018  (checks that x was not modified in place)
        xa = ctx.xa
        if ctx.stats is not None:  # the reduction's row gradients, in a kernel (a hook may give another dtype)
            gr = np.empty(xa.shape[0], xa.dtype)
            _C.xent_row_grads(g._a if g._a.dtype.kind == "f" else g._a.astype(np.float64), ctx.stats, ctx.mean, gr)
        else:
            gr = _row_grads(ctx, g, xa.shape[0], xa.dtype)
        gx = np.empty_like(xa)
        if ctx.probs:
            _C.xent_prob_backward(xa, ctx.ta, ctx.lse, gr, ctx.smoothing, gx)
        else:
            _C.xent_index_backward(xa, ctx.ta, ctx.lse, gr, ctx.ignore, ctx.smoothing, gx)
        return Tensor._wrap(gx), None, None, None, None


def softmax_cross_entropy(x: Tensor, target: Tensor, ignore_index: int, smoothing: float, reduction: str) -> Tensor:
    """Cross-entropy of (rows, classes) logits against indices (rows,) or probabilities."""
    return SoftmaxCrossEntropy.apply(x, target, ignore_index, smoothing, reduction)


class NLL(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, target: Tensor, ignore_index: int, reduction: str):
        xa, ta = x._a, target._a.astype(np.int64, copy=False)
        n, c = xa.shape
        valid = ta != ignore_index
        bad = valid & ((ta < 0) | (ta >= c))
        if bad.any():
            raise IndexError(f"nll_loss: target {ta[bad][0]} is out of bounds for {c} classes")
        rows_idx = np.arange(n)
        safe = np.where(valid, ta, 0)
        rows = np.where(valid, -xa[rows_idx, safe], 0).astype(xa.dtype)
        out, ctx.scale = _scalar_or_rows(rows, reduction, int(np.count_nonzero(valid)))
        ctx.shape, ctx.dtype, ctx.safe, ctx.valid = xa.shape, xa.dtype, safe, valid
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        n = ctx.shape[0]
        gr = _row_grads(ctx, g, n, ctx.dtype)
        gx = np.zeros(ctx.shape, ctx.dtype)
        gx[np.arange(n), ctx.safe] = np.where(ctx.valid, -gr, 0)
        return Tensor._wrap(gx), None, None, None


def nll_rows(x: Tensor, target: Tensor, ignore_index: int, reduction: str) -> Tensor:
    """Negative log-likelihood of (rows, classes) log-probabilities at target classes."""
    return NLL.apply(x, target, ignore_index, reduction)
