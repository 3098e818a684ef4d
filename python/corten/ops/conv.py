"""Convolution and pooling over NCHW tensors (OIHW weights, PyTorch's layout), on the
C++ kernels of cpp/conv.cpp and cpp/pool.cpp.

Every argument is checked here, before anything is allocated. The gradients are
themselves graph nodes built from the same three kernels: the input gradient of a
convolution is the adjoint of conv2d in its input, the weight gradient the adjoint in
its weights, and each of those differentiates back into conv2d and the other, so
derivatives of any order work. conv1d is conv2d over a height of one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _C
from .._shape import shape_str
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import contiguous_array
from .indexing import take_along_axis
from .join import pad as _pad
from .join import stack

_MAX_BYTES = 2**63 - 1


@dataclass(frozen=True)
class ConvArgs:
    """Stride, symmetric padding and dilation as (height, width) pairs, and groups."""

    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int

    def kernel_args(self) -> tuple[int, ...]:
        return (*self.stride, *self.padding, *self.dilation, self.groups)


def _pair(v: Any, name: str, op: str, n: int = 2) -> tuple[int, ...]:
    vals = tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
    if len(vals) != n or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in vals):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    return tuple(int(a) for a in vals)


def _out_size(size: int, k: int, s: int, p: int, d: int) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _check_size(shape: tuple, itemsize: int, op: str) -> None:
    if math.prod(shape) * itemsize > _MAX_BYTES:
        raise ValueError(f"{op}: output shape {shape_str(shape)} is too large ({math.prod(shape)} elements)")


def _float_input(x: Tensor, op: str, what: str = "input") -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor, got {type(x).__name__}")
    if x.dtype.np not in (np.float32, np.float64):
        raise TypeError(f"{op}: {what} must be float32 or float64, got {x.dtype}")


def _conv_plan(
    x: Tensor, w: Tensor, bias: Tensor | None, stride: Any, padding: Any, dilation: Any, groups: int, op: str, nd: int
) -> tuple[ConvArgs, tuple[int, ...], tuple[int, ...]]:
    """Checks conv arguments; returns the kernel arguments, the output shape and the
    extra (bottom/right) padding 'same' needs for even effective kernels."""
    _float_input(x, op)
    _float_input(w, op, "weight")
    if x.dtype != w.dtype or (bias is not None and bias.dtype != x.dtype):
        raise TypeError(f"{op}: input, weight and bias must share a dtype, got {x.dtype} and {w.dtype}")
    if x.ndim != nd + 2:
        raise ValueError(
            f"{op}: expected a {nd + 2}-D input (batch, channels, spatial...), got shape {shape_str(x.shape)}"
        )
    if w.ndim != nd + 2:
        raise ValueError(
            f"{op}: expected a {nd + 2}-D weight (out, in/groups, kernel...), got shape {shape_str(w.shape)}"
        )
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    c, o = x.shape[1], w.shape[0]
    if c % groups or o % groups:
        raise ValueError(f"{op}: groups={groups} must divide the input channels ({c}) and output channels ({o})")
    if w.shape[1] * groups != c:
        raise ValueError(
            f"{op}: weight of shape {shape_str(w.shape)} expects {w.shape[1] * groups} input channels "
            f"(groups={groups}), got input of shape {shape_str(x.shape)}"
        )
    if bias is not None and tuple(bias.shape) != (o,):
        raise ValueError(f"{op}: bias must have shape ({o},), got {shape_str(bias.shape)}")
    s = _pair(stride, "stride", op, nd)
    d = _pair(dilation, "dilation", op, nd)
    if min(s) < 1:
        raise ValueError(f"{op}: stride must be positive, got {s}")
    if min(d) < 1:
        raise ValueError(f"{op}: dilation must be positive, got {d}")
    ks = tuple(w.shape[2:])
    if min(ks) < 1:
        raise ValueError(f"{op}: weight of shape {shape_str(w.shape)} has an empty kernel")
    extra = (0,) * nd
    if isinstance(padding, str):
        if padding == "valid":
            p: tuple[int, ...] = (0,) * nd
        elif padding == "same":
            if max(s) > 1:
                raise ValueError(f"{op}: padding='same' needs stride 1, got stride {s}")
            total = tuple(di * (k - 1) for di, k in zip(d, ks, strict=False))
            p = tuple(t // 2 for t in total)
            extra = tuple(t - t // 2 for t in total)
            extra = tuple(e - q for e, q in zip(extra, p, strict=False))
        else:
            raise ValueError(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    else:
        p = _pair(padding, "padding", op, nd)
        if min(p) < 0:
            raise ValueError(f"{op}: padding must be non-negative, got {p}")
    spatial = tuple(x.shape[2:])
    for i in range(nd):
        eff = d[i] * (ks[i] - 1) + 1
        if eff > spatial[i] + 2 * p[i] + extra[i]:
            raise ValueError(
                f"{op}: kernel size {ks} (dilation {d}, effective {eff}) is larger than the padded input "
                f"{tuple(spatial[j] + 2 * p[j] + extra[j] for j in range(nd))} "
                f"(input shape {shape_str(x.shape)}, padding {p})"
            )
    out = tuple(_out_size(spatial[i] + extra[i], ks[i], s[i], p[i], d[i]) for i in range(nd))
    shape = (x.shape[0], o, *out)
    _check_size(shape, x.dtype.np.itemsize, op)
    if nd == 1:
        args = ConvArgs((1, s[0]), (0, p[0]), (1, d[0]), int(groups))
    else:
        args = ConvArgs((s[0], s[1]), (p[0], p[1]), (d[0], d[1]), int(groups))
    return args, shape, extra


def _contig(a: np.ndarray) -> np.ndarray:
    return contiguous_array(a)


def _conv_shape(xshape: tuple, wshape: tuple, a: ConvArgs) -> tuple:
    oh = _out_size(xshape[2], wshape[2], a.stride[0], a.padding[0], a.dilation[0])
    ow = _out_size(xshape[3], wshape[3], a.stride[1], a.padding[1], a.dilation[1])
    return (xshape[0], wshape[0], oh, ow)


class Conv2d(Function):
    """out = conv(x, w) + b on the im2col-tile GEMM kernel."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, w: Tensor, b: Tensor | None, a: ConvArgs) -> Tensor:
        ctx.save_for_backward(x, w)
        ctx.args = a
        out = np.empty(_conv_shape(x.shape, w.shape, a), x.dtype.np)
        bias = _contig(b._a) if b is not None else np.empty(0, x.dtype.np)
        _C.conv2d_forward(x._a, _contig(w._a), bias, out, *a.kernel_args())
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        x, w = ctx.saved_tensors
        a = ctx.args
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = ConvInputGrad.apply(g, w, tuple(x.shape), a) if need_x else None
        gw = ConvWeightGrad.apply(x, g, tuple(w.shape), a) if need_w else None
        gb = g.sum(axis=(0, 2, 3)) if need_b else None
        return gx, gw, gb, None


class ConvInputGrad(Function):
    """gx = the adjoint of conv2d in its input, applied to gy (a transposed convolution)."""

    @staticmethod
    def forward(ctx: Any, gy: Tensor, w: Tensor, xshape: tuple, a: ConvArgs) -> Tensor:
        ctx.save_for_backward(gy, w)
        ctx.args = a
        gx = np.empty(xshape, gy.dtype.np)
        _C.conv2d_input_grad(_contig(gy._a), _contig(w._a), gx, *a.kernel_args())
        return Tensor._wrap(gx)

    @staticmethod
    def backward(ctx: Any, ggx: Tensor) -> tuple:
        gy, w = ctx.saved_tensors
        a = ctx.args
        need_gy, need_w = ctx.needs_input_grad[:2]
        dgy = Conv2d.apply(ggx, w, None, a) if need_gy else None
        dw = ConvWeightGrad.apply(ggx, gy, tuple(w.shape), a) if need_w else None
        return dgy, dw, None, None


class ConvWeightGrad(Function):
    """gw = the adjoint of conv2d in its weights: correlation of x with gy."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, gy: Tensor, wshape: tuple, a: ConvArgs) -> Tensor:
        ctx.save_for_backward(x, gy)
        ctx.args = a
        gw = np.empty(wshape, x.dtype.np)
        _C.conv2d_weight_grad(x._a, _contig(gy._a), gw, *a.kernel_args())
        return Tensor._wrap(gw)

    @staticmethod
    def backward(ctx: Any, ggw: Tensor) -> tuple:
        x, gy = ctx.saved_tensors
        a = ctx.args
        need_x, need_gy = ctx.needs_input_grad[:2]
        dx = ConvInputGrad.apply(gy, ggw, tuple(x.shape), a) if need_x else None
        dgy = Conv2d.apply(x, ggw, None, a) if need_gy else None
        return dx, dgy, None, None


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation) of x (N, C, H, W) with weight (O, C/groups, KH, KW)."""
    a, _, extra = _conv_plan(x, weight, bias, stride, padding, dilation, groups, "conv2d", 2)
    if any(extra):
        x = _pad(x, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
    return Conv2d.apply(x, weight, bias, a)


def conv1d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution of x (N, C, L) with weight (O, C/groups, K): conv2d over a height of one."""
    a, _, extra = _conv_plan(x, weight, bias, stride, padding, dilation, groups, "conv1d", 1)
    if any(extra):
        x = _pad(x, ((0, 0), (0, 0), (0, extra[0])))
    y = Conv2d.apply(
        x.reshape(x.shape[0], x.shape[1], 1, x.shape[2]), weight.reshape(*weight.shape[:2], 1, weight.shape[2]), bias, a
    )
    return y.reshape(y.shape[0], y.shape[1], y.shape[3])


def conv_transpose2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """Transposed 2-D convolution of x (N, C_in, H, W) with weight (C_in, C_out/groups, KH, KW):
    the adjoint of conv2d in its input (PyTorch's argument order and output size,
    (H - 1) * stride - 2 * padding + dilation * (KH - 1) + output_padding + 1)."""
    op = "conv_transpose2d"
    _float_input(x, op)
    _float_input(weight, op, "weight")
    if x.dtype != weight.dtype or (bias is not None and bias.dtype != x.dtype):
        raise TypeError(f"{op}: input, weight and bias must share a dtype, got {x.dtype} and {weight.dtype}")
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"{op}: expected a 4-D input and weight, got shapes {shape_str(x.shape)} and {shape_str(weight.shape)}"
        )
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    cin, cout = x.shape[1], weight.shape[1] * groups
    if weight.shape[0] != cin or cin % groups:
        raise ValueError(
            f"{op}: weight of shape {shape_str(weight.shape)} (groups={groups}) does not fit input of shape "
            f"{shape_str(x.shape)}: weight.shape[0] must equal the input channels and be divisible by groups"
        )
    if bias is not None and tuple(bias.shape) != (cout,):
        raise ValueError(f"{op}: bias must have shape ({cout},), got {shape_str(bias.shape)}")
    s, p = _pair(stride, "stride", op), _pair(padding, "padding", op)
    op_, d = _pair(output_padding, "output_padding", op), _pair(dilation, "dilation", op)
    if min(s) < 1 or min(d) < 1 or min(p) < 0 or min(op_) < 0:
        raise ValueError(
            f"{op}: stride and dilation must be positive, padding and output_padding non-negative, got "
            f"stride {s}, dilation {d}, padding {p}, output_padding {op_}"
        )
    if op_[0] >= s[0] or op_[1] >= s[1]:
        raise ValueError(f"{op}: output_padding {op_} must be smaller than the stride {s}")
    ks = tuple(weight.shape[2:])
    if min(ks) < 1:
        raise ValueError(f"{op}: weight of shape {shape_str(weight.shape)} has an empty kernel")
    out = tuple((x.shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (ks[i] - 1) + op_[i] + 1 for i in range(2))
    if min(out) < 1:
        raise ValueError(f"{op}: output size {out} is not positive (input shape {shape_str(x.shape)}, padding {p})")
    shape = (x.shape[0], cout, *out)
    _check_size(shape, x.dtype.np.itemsize, op)
    a = ConvArgs((s[0], s[1]), (p[0], p[1]), (d[0], d[1]), int(groups))
    y = ConvInputGrad.apply(x, weight, shape, a)
    return y + bias.reshape(1, cout, 1, 1) if bias is not None else y


# ---- pooling ----------------------------------------------------------------------------


def _pool_plan(
    x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any, op: str
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int], tuple]:
    _float_input(x, op)
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {shape_str(x.shape)}")
    k = _pair(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else _pair(stride, "stride", op)
    p = _pair(padding, "padding", op)
    d = _pair(dilation, "dilation", op)
    if min(k) < 1 or min(s) < 1 or min(d) < 1:
        raise ValueError(f"{op}: kernel_size, stride and dilation must be positive, got {k}, {s}, {d}")
    if min(p) < 0 or p[0] * 2 > k[0] or p[1] * 2 > k[1]:
        raise ValueError(f"{op}: padding must be non-negative and at most half the kernel size {k}, got {p}")
    h, w = x.shape[-2:]
    eff = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    if eff[0] > h + 2 * p[0] or eff[1] > w + 2 * p[1]:
        raise ValueError(
            f"{op}: kernel size {k} (effective {eff}) is larger than the padded input "
            f"{(h + 2 * p[0], w + 2 * p[1])} (input shape {shape_str(x.shape)})"
        )
    out = (*x.shape[:-2], _out_size(h, k[0], s[0], p[0], d[0]), _out_size(w, k[1], s[1], p[1], d[1]))
    _check_size(out, x.dtype.np.itemsize, op)
    return k, s, p, d, out  # type: ignore[return-value]


def _batched(x: Tensor) -> Tensor:
    return x.reshape(1, *x.shape) if x.ndim == 3 else x


def _ceil_out_size(size: int, k: int, s: int, p: int, d: int) -> int:
    """Output size with ceil_mode: the last window may hang over the end, as long as it starts
    inside the input or its left padding (PyTorch's rule)."""
    o = -(-(size + 2 * p - d * (k - 1) - 1) // s) + 1
    return o - 1 if (o - 1) * s >= size + p else o


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, k: tuple, s: tuple, p: tuple, d: tuple, out_hw: tuple, keep: list) -> Tensor:
        n, c = x.shape[:2]
        out = np.empty((n, c, *out_hw), x.dtype.np)
        idx = np.empty((n, c, *out_hw), np.int64)
        _C.max_pool2d_forward(x._a, out, idx, *k, *s, *p, *d)
        ctx.idx, ctx.xshape = idx, tuple(x.shape)
        keep.append(idx)  # for return_indices
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        return MaxPoolScatter.apply(g, ctx.idx, ctx.xshape), None, None, None, None, None, None


class MaxPoolScatter(Function):
    """gx: each output gradient added at its maximum's position; backward gathers there."""

    @staticmethod
    def forward(ctx: Any, g: Tensor, idx: np.ndarray, xshape: tuple) -> Tensor:
        ctx.idx = idx
        gx = np.empty(xshape, g.dtype.np)
        _C.max_pool2d_backward(_contig(g._a), idx, gx)
        return Tensor._wrap(gx)

    @staticmethod
    def backward(ctx: Any, ggx: Tensor) -> tuple:
        idx = ctx.idx
        n, c = idx.shape[:2]
        flat = ggx.reshape(n, c, -1)
        picked = take_along_axis(flat, Tensor._wrap(idx.reshape(n, c, -1)), axis=2)
        return picked.reshape(idx.shape), None, None


def max_pool2d(
    x: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Maximum over each window of x (N, C, H, W) or (C, H, W); NaN propagates. ceil_mode
    rounds the output size up (PyTorch's rule); return_indices also returns each maximum's
    flat index h * W + w in its plane (int64, as PyTorch)."""
    k, s, p, d, out = _pool_plan(x, kernel_size, stride, padding, dilation, "max_pool2d")
    if ceil_mode:
        h, w = x.shape[-2:]
        out = (*out[:-2], _ceil_out_size(h, k[0], s[0], p[0], d[0]), _ceil_out_size(w, k[1], s[1], p[1], d[1]))
        _check_size(out, x.dtype.np.itemsize, "max_pool2d")
    keep: list = []
    y = MaxPool2d.apply(_batched(x), k, s, p, d, tuple(out[-2:]), keep)
    if x.ndim == 3:
        y = y.reshape(y.shape[1:])
    if not return_indices:
        return y
    return y, Tensor._wrap(keep[0].reshape(out))


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, k: tuple, s: tuple, p: tuple, inc: bool) -> Tensor:
        n, c, h, w = x.shape
        out = np.empty((n, c, _out_size(h, k[0], s[0], p[0], 1), _out_size(w, k[1], s[1], p[1], 1)), x.dtype.np)
        _C.avg_pool2d_forward(x._a, out, *k, *s, *p, inc)
        ctx.params, ctx.xshape = (k, s, p, inc), tuple(x.shape)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        return AvgPoolSpread.apply(g, ctx.xshape, *ctx.params), None, None, None, None


class AvgPoolSpread(Function):
    """gx: each output gradient spread evenly over its window (the adjoint of AvgPool2d)."""

    @staticmethod
    def forward(ctx: Any, g: Tensor, xshape: tuple, k: tuple, s: tuple, p: tuple, inc: bool) -> Tensor:
        ctx.params = (k, s, p, inc)
        gx = np.empty(xshape, g.dtype.np)
        _C.avg_pool2d_backward(_contig(g._a), gx, *k, *s, *p, inc)
        return Tensor._wrap(gx)

    @staticmethod
    def backward(ctx: Any, ggx: Tensor) -> tuple:
        return AvgPool2d.apply(ggx, *ctx.params), None, None, None, None, None


def avg_pool2d(
    x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, count_include_pad: bool = True
) -> Tensor:
    """Mean over each window of x (N, C, H, W) or (C, H, W)."""
    k, s, p, _, _ = _pool_plan(x, kernel_size, stride, padding, 1, "avg_pool2d")
    y = AvgPool2d.apply(_batched(x), k, s, p, bool(count_include_pad))
    return y.reshape(y.shape[1:]) if x.ndim == 3 else y


def adaptive_avg_pool2d(x: Tensor, output_size: Any) -> Tensor:
    """Mean over output_size (OH, OW) windows spread evenly over H and W (PyTorch's bounds:
    floor(i * H / OH) to ceil((i + 1) * H / OH))."""
    _float_input(x, "adaptive_avg_pool2d")
    if x.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected a 3-D or 4-D input, got shape {shape_str(x.shape)}")
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    h, w = x.shape[-2:]
    if len(sizes) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
    oh = h if sizes[0] is None else sizes[0]
    ow = w if sizes[1] is None else sizes[1]
    if not all(isinstance(v, (int, np.integer)) and v >= 1 for v in (oh, ow)):
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive ints, got {output_size!r}")
    if h % oh == 0 and w % ow == 0:
        return avg_pool2d(x, (h // oh, w // ow))
    rows = []
    for i in range(oh):
        h0, h1 = (i * h) // oh, -((-(i + 1) * h) // oh)
        cols = [x[..., h0:h1, (j * w) // ow : -((-(j + 1) * w) // ow)].mean(axis=(-2, -1)) for j in range(ow)]
        rows.append(stack(cols, axis=-1))
    return stack(rows, axis=-2)
