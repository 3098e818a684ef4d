"""Loss functions of corten.nn.functional: argument checks and shapes here; softmax
cross-entropy and NLL are fused ops (ops/fused.py), the rest compose corten ops."""

from __future__ import annotations

from typing import Any

from .._shape import shape_str
from ..autograd.function import Function
from ..ops.elementwise import abs, sigmoid, softplus, square
from ..ops.fused import nll_rows, softmax_cross_entropy
from ..tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "none":
        return loss
    s = loss.sum()
    return s if reduction == "sum" else s / loss.size if loss.size else s * float("nan")


def _class_last(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N * d1 * ..., C); (C,) -> (1, C)."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    order = (0,) + tuple(range(2, x.ndim)) + (1,)
    return x.permute(order).reshape(-1, x.shape[1])


def _check_index_target(x: Tensor, target: Tensor, op: str) -> tuple:
    want = (x.shape[0],) + x.shape[2:] if x.ndim > 1 else ()
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: class-index targets must be integers, got {target.dtype}")
    if target.shape != want:
        raise ValueError(
            f"{op}: expected target of shape {shape_str(want)} for input of shape {shape_str(x.shape)}, "
            f"got {shape_str(target.shape)}"
        )
    return want


def cross_entropy(
    input: Tensor,
    target: Tensor,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy of logits `input` (N, C) / (C,) / (N, C, d...) against
    class indices (N,) / () / (N, d...) or class probabilities (input's shape)."""
    _check_reduction(reduction)
    if input.dtype.kind != "f":
        raise TypeError(f"cross_entropy: expected floating point logits, got {input.dtype}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have at least 1 dimension (the classes)")
    if target.dtype.kind == "f":
        if target.shape != input.shape:
            raise ValueError(
                f"cross_entropy: probability targets must have the input's shape {shape_str(input.shape)}, "
                f"got {shape_str(target.shape)}"
            )
        out_shape = (input.shape[0],) + input.shape[2:] if input.ndim > 1 else ()
        t2 = _class_last(target.detach())
    else:
        out_shape = _check_index_target(input, target, "cross_entropy")
        t2 = target if target.ndim == 1 else target.reshape(-1)
    out = softmax_cross_entropy(
        _class_last(input), t2, int(ignore_index), float(label_smoothing), reduction
    )
    return out.reshape(out_shape) if reduction == "none" else out


def nll_loss(input: Tensor, target: Tensor, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities `input` at the target classes."""
    _check_reduction(reduction)
    if input.ndim == 0:
        raise ValueError("nll_loss: input must have at least 1 dimension (the classes)")
    out_shape = _check_index_target(input, target, "nll_loss")
    out = nll_rows(_class_last(input), target.reshape(-1), int(ignore_index), reduction)
    return out.reshape(out_shape) if reduction == "none" else out


def _pair(input: Tensor, target: Tensor, op: str) -> None:
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: input of shape {shape_str(input.shape)} and target of shape "
            f"{shape_str(target.shape)} differ"
        )


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    _pair(input, target, "mse_loss")
    return _reduce(square(input - target), reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    _pair(input, target, "l1_loss")
    return _reduce(abs(input - target), reduction)


def _softplus_neg(x: Tensor) -> Tensor:
    """log(1 + exp(-x)), stable for any x."""
    return softplus(-x)


class BCEWithLogits(Function):
    """(1 - y) x + (1 + (pw - 1) y) log(1 + exp(-x)) with an exact gradient at x = 0."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, y: Tensor, pw: Tensor | None) -> Tensor:
        ctx.save_for_backward(x, y, pw)
        c = 1 if pw is None else 1 + (pw - 1) * y
        return (1 - y) * x + c * _softplus_neg(x)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        x, y, pw = ctx.saved_tensors
        need_x, need_y, need_pw = ctx.needs_input_grad
        sp = _softplus_neg(x) if (need_y or need_pw) else None
        if pw is None:
            gx = g * (sigmoid(x) - y) if need_x else None
            gy = -g * x if need_y else None
            return gx, gy, None
        gx = g * ((1 + (pw - 1) * y) * sigmoid(x) - pw * y) if need_x else None
        gy = g * ((pw - 1) * sp - x) if need_y else None
        gpw = g * y * sp if need_pw else None
        from ..ops.reduction import sum_to

        return (
            gx,
            (sum_to(gy, y.shape) if gy is not None else None),
            (sum_to(gpw, pw.shape) if gpw is not None else None),
        )


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable expression."""
    _check_reduction(reduction)
    _pair(input, target, "binary_cross_entropy_with_logits")
    loss = BCEWithLogits.apply(input, target.astype(input.dtype), pos_weight)
    if loss.shape != input.shape:
        pw_shape = shape_str(pos_weight.shape) if pos_weight is not None else "()"
        raise ValueError(f"pos_weight of shape {pw_shape} does not broadcast to the input")
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)
