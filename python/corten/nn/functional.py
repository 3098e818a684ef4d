"""corten.nn.functional: stateless layers and losses.

Softmax, log_softmax, GELU, embedding, linear and softmax cross-entropy are
fused ops (ops/fused.py); the others are composed from corten ops. Only ops
are used here: this module owns argument checks and shapes.
"""

from __future__ import annotations

import math
from typing import Any

from .._shape import normalize_axis, shape_str
from ..autograd.grad_mode import no_grad
from ..ops import fused
from ..ops.conv import adaptive_avg_pool2d, avg_pool2d, conv1d, conv2d, conv_transpose2d, max_pool2d
from ..ops.elementwise import relu, sigmoid, sqrt, tanh, where
from ..ops.elementwise import softplus as _softplus
from ..ops.fused import embedding_rows, linear_rows, softmax_rows
from ..ops.indexing import one_hot
from ..random import bernoulli_mask
from ..tensor import Tensor

__all__ = [
    "linear",
    "relu",
    "leaky_relu",
    "gelu",
    "sigmoid",
    "tanh",
    "softplus",
    "softmax",
    "log_softmax",
    "dropout",
    "dropout2d",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "max_pool2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
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


# ---- linear -------------------------------------------------------------------------


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias over the last dimension of x."""
    return _linear(x, weight, bias, False)


def _linear(x: Tensor, weight: Tensor, bias: Tensor | None, relu: bool) -> Tensor:
    """linear(x, weight, bias), then relu(...) when relu, fused into the GEMM (its
    epilogue): the bits and gradients of the two ops in turn."""
    if x.shape[-1] != weight.shape[-1] or weight.ndim != 2:
        raise ValueError(
            f"linear: input of shape {shape_str(x.shape)} does not match weight of shape "
            f"{shape_str(weight.shape)}"
        )
    if x.dtype is not weight.dtype:
        raise TypeError(f"linear: input dtype {x.dtype} does not match weight dtype {weight.dtype}")
    if x.ndim == 2:
        return linear_rows(x, weight, bias, relu)
    lead = x.shape[:-1]
    y = linear_rows(x.reshape(-1, x.shape[-1]), weight, bias, relu)
    return y.reshape(lead + (weight.shape[0],))


# ---- activations ----------------------------------------------------------------------


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (as PyTorch)."""
    if beta <= 0:
        raise ValueError(f"softplus: beta must be positive, got {beta}")
    bx = x if beta == 1 else x * beta
    y = _softplus(bx) if beta == 1 else _softplus(bx) / beta
    return where(bx > threshold, x, y)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return where(x > 0, x, x * negative_slope)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    _float(x, "gelu")
    return fused.gelu(x, approximate == "tanh")


def _float(x: Tensor, op: str) -> None:
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got {x.dtype}")


def _softmax(x: Tensor, dim: int, log: bool, dtype: Any) -> Tensor:
    if dtype is not None:
        x = x.astype(dtype)
    _float(x, "log_softmax" if log else "softmax")
    if x.ndim == 0:
        return softmax_rows(x.reshape(1), 0, log).reshape(())
    return softmax_rows(x, normalize_axis(dim, x.ndim), log)


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
    mask = bernoulli_mask(x.shape, 1.0 - p).astype(x.dtype) * (1.0 / (1.0 - p))
    return x * mask


def dropout2d(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero whole channels of x (N, C, H, W) or (C, H, W) with probability p, scaling the rest."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d probability has to be between 0 and 1, but got {p}")
    if x.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-D or 4-D input, got shape {shape_str(x.shape)}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    shape = x.shape[:-2] + (1, 1)
    mask = bernoulli_mask(shape, 1.0 - p).astype(x.dtype) * (1.0 / (1.0 - p))
    return x * mask


# ---- normalisation and embedding ---------------------------------------------------------


def _mean(x: Tensor, axes: tuple) -> Tensor:
    n = math.prod(x.shape[a] for a in axes) if axes else 1
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
    """Normalise over the batch (and spatial) axes per channel (axis 1); when training,
    update the running statistics in place (running_var with the unbiased variance)."""
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"batch_norm: expected 2-D, 3-D or 4-D input, got shape {shape_str(x.shape)}")
    axes = (0,) + tuple(range(2, x.ndim))
    bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        n = math.prod(x.shape[a] for a in axes)
        if n <= 1:
            raise ValueError(
                f"expected more than 1 value per channel when training, got input of shape {x.shape}"
            )
        mean = _mean(x, axes)
        xc = x - mean
        var = _mean(xc * xc, axes)
        if running_mean is not None and running_var is not None:
            m = momentum
            with no_grad():
                running_mean.mul_(1 - m).add_(mean.reshape(-1) * m)
                running_var.mul_(1 - m).add_(var.reshape(-1) * (m * n / (n - 1)))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation needs running_mean and running_var")
        mean = running_mean.reshape(bshape)
        xc = x - mean
        var = running_var.reshape(bshape)
    y = xc / sqrt(var + eps)
    if weight is not None:
        y = y * weight.reshape(bshape)
    if bias is not None:
        y = y + bias.reshape(bshape)
    return y


def embedding(idx: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of weight picked by integer indices: result shape idx.shape + (dim,)."""
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {idx.dtype}")
    n = weight.shape[0]
    lo, hi = (int(idx.min()), int(idx.max())) if idx.size else (0, 0)
    if lo < -n or hi >= n:
        bad = hi if hi >= n else lo
        raise IndexError(f"index {bad} is out of bounds for an embedding of {n} rows")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    return embedding_rows(idx, weight, padding_idx)


from ._losses import (  # noqa: E402  (the loss functions live in their own file)
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
