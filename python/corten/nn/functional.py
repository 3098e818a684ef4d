"""corten.nn.functional: stateless layers and losses.

Softmax, log_softmax, GELU and softmax cross-entropy run fused C++ row kernels
(cpp/loss.cpp) wrapped as Functions; their backward passes are kernels too, so
they give first derivatives only. Everything else is composed from corten ops
and differentiates to any order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _C
from .._shape import normalize_axis, shape_str
from ..autograd.function import Function
from ..ops.elementwise import relu, sigmoid, sqrt, tanh, where
from ..ops.linalg import matmul
from ..random import bernoulli_mask
from ..tensor import Tensor

__all__ = [
    "linear",
    "relu",
    "leaky_relu",
    "gelu",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "dropout",
    "layer_norm",
    "batch_norm",
    "embedding",
    "one_hot",
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "binary_cross_entropy_with_logits",
    "relu",
    "sigmoid",
    "tanh",
]


_matmul = matmul


# ---- linear -------------------------------------------------------------------------


class Linear(Function):
    """y = x @ w.T + b for 2-D x, as one graph node."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
        ctx.save_for_backward(x, w)
        y = _matmul(x, w.mT)
        if b is not None:
            _C.add(y._a, b._a, y._a)
        return y

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = _matmul(g, w) if need_x else None
        gw = _matmul(g.mT, x) if need_w else None
        gb = g.sum(axis=0) if need_b else None
        return gx, gw, gb


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias over the last dimension of x."""
    if x.shape[-1] != weight.shape[-1] or weight.ndim != 2:
        raise ValueError(
            f"linear: input of shape {shape_str(x.shape)} does not match weight of shape "
            f"{shape_str(weight.shape)}"
        )
    if x.dtype is not weight.dtype:
        raise TypeError(f"linear: input dtype {x.dtype} does not match weight dtype {weight.dtype}")
    if x.ndim == 2:
        return Linear.apply(x, weight, bias)
    lead = x.shape[:-1]
    y = Linear.apply(x.reshape(-1, x.shape[-1]), weight, bias)
    return y.reshape(lead + (weight.shape[0],))


# ---- activations ----------------------------------------------------------------------


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return where(x > 0, x, x * negative_slope)


class Gelu(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, approx: bool) -> Tensor:
        ctx.approx = approx
        xa = np.ascontiguousarray(x._a)
        ctx.x = xa
        o = np.empty_like(xa)
        _C.gelu(xa, o, approx)
        return Tensor._wrap(o)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        gi = np.empty_like(ctx.x)
        _C.gelu_backward(ctx.x, np.ascontiguousarray(g._a), gi, ctx.approx)
        return Tensor._wrap(gi), None


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    _float(x, "gelu")
    return Gelu.apply(x, approximate == "tanh")


def _float(x: Tensor, op: str) -> None:
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got {x.dtype}")


def _as_rows(a: np.ndarray, dim: int) -> np.ndarray:
    """a with `dim` moved last, as a contiguous (rows, C) array."""
    if dim != a.ndim - 1:
        a = np.moveaxis(a, dim, -1)
    if a.ndim == 0:
        return a.reshape(1, 1)
    # explicit row count: reshape(-1, 0) of a zero-size array is ambiguous
    return np.ascontiguousarray(a).reshape(math.prod(a.shape[:-1]), a.shape[-1])


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


def _softmax(x: Tensor, dim: int, log: bool, dtype: Any) -> Tensor:
    if dtype is not None:
        x = x.astype(dtype)
    _float(x, "log_softmax" if log else "softmax")
    if x.ndim == 0:
        return SoftmaxRows.apply(x.reshape(1), 0, log).reshape(())
    return SoftmaxRows.apply(x, normalize_axis(dim, x.ndim), log)


def softmax(x: Tensor, dim: int = -1, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along dim, computed stably in C++."""
    return _softmax(x, dim, False, dtype)


def log_softmax(x: Tensor, dim: int = -1, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along dim, computed stably in C++."""
    return _softmax(x, dim, True, dtype)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (when training)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = bernoulli_mask(x.shape, 1.0 - p)._a
    mask = keep.astype(x.dtype.np) * x.dtype.np.type(1.0 / (1.0 - p))
    return x * Tensor._wrap(mask)


# ---- normalisation and embedding ---------------------------------------------------------


def _mean(x: Tensor, axes: tuple) -> Tensor:
    n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    return x.sum(axis=axes, keepdims=True) / n


def layer_norm(
    x: Tensor,
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if x.shape[x.ndim - k :] != shape:
        raise ValueError(
            f"layer_norm: input of shape {shape_str(x.shape)} does not end in {shape_str(shape)}"
        )
    axes = tuple(range(x.ndim - k, x.ndim))
    xc = x - _mean(x, axes)
    y = xc / sqrt(_mean(xc * xc, axes) + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the batch (and length) axes per channel (axis 1); when training,
    update the running statistics in place (running_var with the unbiased variance)."""
    if x.ndim not in (2, 3):
        raise ValueError(f"batch_norm: expected 2-D or 3-D input, got shape {shape_str(x.shape)}")
    axes = (0,) if x.ndim == 2 else (0, 2)
    bshape = (1, x.shape[1]) + ((1,) if x.ndim == 3 else ())
    if training:
        n = int(np.prod([x.shape[a] for a in axes]))
        if n <= 1:
            raise ValueError(
                f"expected more than 1 value per channel when training, got input of shape {x.shape}"
            )
        mean = _mean(x, axes)
        xc = x - mean
        var = _mean(xc * xc, axes)
        if running_mean is not None:
            m = momentum
            rm, rv = running_mean._a, running_var._a
            rm[...] = (1 - m) * rm + m * mean._a.reshape(-1)
            rv[...] = (1 - m) * rv + m * var._a.reshape(-1) * (n / (n - 1))
            running_mean._bump_version()
            running_var._bump_version()
    else:
        mean = running_mean.reshape(bshape)
        xc = x - mean
        var = running_var.reshape(bshape)
    y = xc / sqrt(var + eps)
    if weight is not None:
        y = y * weight.reshape(bshape)
    if bias is not None:
        y = y + bias.reshape(bshape)
    return y


class Embed(Function):
    @staticmethod
    def forward(ctx: Any, idx: Tensor, w: Tensor, padding_idx: int | None) -> Tensor:
        ctx.idx, ctx.n, ctx.pad = idx._a, w.shape[0], padding_idx
        return Tensor._wrap(np.take(w._a, idx._a, axis=0))

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        gw = np.zeros((ctx.n,) + g.shape[ctx.idx.ndim :], g._a.dtype)
        np.add.at(gw, ctx.idx.reshape(-1), g._a.reshape((-1,) + gw.shape[1:]))
        if ctx.pad is not None:
            gw[ctx.pad] = 0
        return None, Tensor._wrap(gw), None


def embedding(idx: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of weight picked by integer indices: result shape idx.shape + (dim,)."""
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {idx.dtype}")
    n = weight.shape[0]
    if idx.size and (idx._a.min() < -n or idx._a.max() >= n):
        bad = idx._a.max() if idx._a.max() >= n else idx._a.min()
        raise IndexError(f"index {bad} is out of bounds for an embedding of {n} rows")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    return Embed.apply(idx, weight, padding_idx)


def one_hot(t: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape t.shape + (num_classes,) with ones at the indices."""
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor, got {t.dtype}")
    a = t._a.astype(np.int64)
    if num_classes < 0:
        num_classes = int(a.max()) + 1 if a.size else 0
    if a.size and (a.min() < 0 or a.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got {a.min()}..{a.max()}")
    return Tensor._wrap((a[..., None] == np.arange(num_classes)).astype(np.int64))


from ._losses import (  # noqa: E402  (the loss functions live in their own file)
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
