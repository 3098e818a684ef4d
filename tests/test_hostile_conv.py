"""Bad arguments to convolution and pooling: a clear exception naming the shapes and
arguments at fault, raised before anything is allocated; the C++ kernels refuse what
they cannot handle even when called directly."""

import corten as ct
import corten.nn.functional as F
import numpy as np
import pytest
from corten import _C, nn


def _x(*shape):
    return ct.zeros(shape)


@pytest.mark.parametrize(
    "x, w, kw, match",
    [
        ((3, 8, 8), (4, 3, 3, 3), {}, r"4-D input.*\(3, ?8, ?8\)"),
        ((2, 3, 8, 8), (4, 3, 3), {}, r"4-D weight.*\(4, ?3, ?3\)"),
        ((2, 5, 8, 8), (4, 3, 3, 3), {}, r"expects 3 input channels.*\(2, ?5, ?8, ?8\)"),
        ((2, 3, 8, 8), (4, 3, 3, 3), dict(groups=2), r"groups=2 must divide the input channels \(3\)"),
        ((2, 4, 8, 8), (3, 2, 3, 3), dict(groups=2), r"output channels \(3\)"),
        ((2, 3, 8, 8), (4, 3, 3, 3), dict(groups=0), r"groups must be a positive int"),
        ((2, 3, 4, 4), (4, 3, 5, 5), {}, r"kernel size \(5, ?5\).*larger than the padded input \(4, ?4\)"),
        ((2, 3, 4, 4), (4, 3, 3, 3), dict(dilation=2), r"effective 5.*padded input"),
        ((2, 3, 8, 8), (4, 3, 3, 3), dict(stride=0), r"stride must be positive, got \(0, ?0\)"),
        ((2, 3, 8, 8), (4, 3, 3, 3), dict(stride=(1, -1)), r"stride must be positive"),
        ((2, 3, 8, 8), (4, 3, 3, 3), dict(dilation=0), r"dilation must be positive"),
        ((2, 3, 8, 8), (4, 3, 3, 3), dict(padding=-1), r"padding must be non-negative"),
        ((2, 3, 8, 8), (4, 3, 3, 3), dict(padding="same", stride=2), r"padding='same' needs stride 1"),
        ((2, 3, 8, 8), (4, 3, 3, 3), dict(padding="full"), r"padding must be an int, a tuple"),
    ],
)
def test_conv2d_refuses_bad_arguments(x, w, kw, match):
    with pytest.raises(ValueError, match=match):
        F.conv2d(_x(*x), _x(*w), **kw)


def test_conv_refuses_bad_types_bias_and_dtypes():
    with pytest.raises(TypeError, match="stride must be an int or a tuple of 2 ints"):
        F.conv2d(_x(1, 1, 4, 4), _x(1, 1, 2, 2), stride=(1, 2, 3))
    with pytest.raises(TypeError, match="float32 or float64"):
        F.conv2d(ct.zeros((1, 1, 4, 4), dtype="int64"), ct.zeros((1, 1, 2, 2), dtype="int64"))
    with pytest.raises(TypeError, match="share a dtype"):
        F.conv2d(_x(1, 1, 4, 4), ct.zeros((1, 1, 2, 2), dtype="float64"))
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\), got \(3,?\)"):
        F.conv2d(_x(1, 1, 4, 4), _x(2, 1, 2, 2), _x(3))
    with pytest.raises(ValueError, match=r"3-D input.*\(1, ?4, ?4, ?4\)"):
        F.conv1d(_x(1, 4, 4, 4), _x(2, 4, 3))


def test_conv_output_size_overflow_is_refused_before_allocating():
    x = ct.broadcast_to(_x(1, 1, 1, 1), (2**40, 1, 64, 64))
    with pytest.raises(ValueError, match="too large"):
        F.conv2d(x, _x(2**10, 1, 1, 1))


def test_conv_layers_refuse_bad_construction():
    with pytest.raises(ValueError, match=r"groups=2 must divide in_channels \(3\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="kernel_size must be positive"):
        nn.Conv2d(3, 4, 0)
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected input \(N, ?3, ?H, ?W\)"):
        nn.BatchNorm2d(3)(_x(2, 4, 5, 5))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)


@pytest.mark.parametrize(
    "fn, match",
    [
        (lambda: F.max_pool2d(_x(8, 8), 2), r"3-D \(C, ?H, ?W\) or 4-D.*\(8, ?8\)"),
        (lambda: F.max_pool2d(_x(1, 1, 4, 4), 0), r"kernel_size, stride and dilation must be positive"),
        (lambda: F.max_pool2d(_x(1, 1, 4, 4), 2, stride=0), r"must be positive"),
        (lambda: F.max_pool2d(_x(1, 1, 4, 4), 2, padding=2), r"at most half the kernel size"),
        (lambda: F.max_pool2d(_x(1, 1, 4, 4), 5), r"kernel size \(5, ?5\).*larger than the padded input \(4, ?4\)"),
        (lambda: F.avg_pool2d(_x(1, 1, 4, 4), 3, padding=-1), r"non-negative"),
        (lambda: F.adaptive_avg_pool2d(_x(1, 1, 4, 4), 0), r"positive ints"),
    ],
)
def test_pooling_refuses_bad_arguments(fn, match):
    with pytest.raises(ValueError, match=match):
        fn()


def test_kernels_validate_what_they_are_handed():
    x = np.zeros((2, 3, 8, 8), np.float32)
    w = np.zeros((4, 3, 3, 3), np.float32)
    none = np.empty(0, np.float32)
    with pytest.raises(ValueError, match=r"output \(2,4,5,5\) does not match"):
        _C.conv2d_forward(x, w, none, np.empty((2, 4, 5, 5), np.float32), 1, 1, 0, 0, 1, 1, 1)
    with pytest.raises(ValueError, match="stride and dilation must be positive"):
        _C.conv2d_forward(x, w, none, np.empty((2, 4, 6, 6), np.float32), 0, 1, 0, 0, 1, 1, 1)
    with pytest.raises(ValueError, match="groups=2 does not fit"):
        _C.conv2d_forward(x, w, none, np.empty((2, 4, 6, 6), np.float32), 1, 1, 0, 0, 1, 1, 2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        _C.conv2d_forward(x[:, :, :2, :2], w, none, np.empty((2, 4, 0, 0), np.float32), 1, 1, 0, 0, 1, 1, 1)
    with pytest.raises(ValueError, match="contiguous in its last three dims"):
        _C.conv2d_forward(
            x,
            w.transpose(0, 2, 3, 1).copy().transpose(0, 3, 1, 2),
            none,
            np.empty((2, 4, 6, 6), np.float32),
            1,
            1,
            0,
            0,
            1,
            1,
            1,
        )
    with pytest.raises(ValueError, match="bias"):
        _C.conv2d_forward(x, w, np.zeros(3, np.float32), np.empty((2, 4, 6, 6), np.float32), 1, 1, 0, 0, 1, 1, 1)
    with pytest.raises(ValueError, match="one dtype"):
        _C.conv2d_weight_grad(x, np.zeros((2, 4, 6, 6)), np.empty((4, 3, 3, 3), np.float32), 1, 1, 0, 0, 1, 1, 1)
    with pytest.raises(ValueError, match="float32 or float64"):
        _C.conv2d_input_grad(
            np.zeros((2, 4, 6, 6), np.int32), w.astype(np.int32), np.empty((2, 3, 8, 8), np.int32), 1, 1, 0, 0, 1, 1, 1
        )
    out, idx = np.empty((2, 3, 5, 5), np.float32), np.empty((2, 3, 5, 5), np.int64)
    with pytest.raises(ValueError, match=r"does not match input .* or \(4, 4\) with ceil_mode"):
        _C.max_pool2d_forward(x, out, idx, 3, 3, 2, 2, 0, 0, 1, 1)
    with pytest.raises(ValueError, match="must be positive"):
        _C.max_pool2d_forward(x, out, idx, 2, 2, 0, 2, 0, 0, 1, 1)
    with pytest.raises(ValueError, match="index out of range"):
        _C.max_pool2d_backward(
            np.ones((2, 3, 4, 4), np.float32), np.full((2, 3, 4, 4), 64, np.int64), np.empty((2, 3, 8, 8), np.float32)
        )
    with pytest.raises(ValueError, match="does not match input"):
        _C.avg_pool2d_backward(
            np.ones((2, 3, 3, 3), np.float32), np.empty((2, 3, 8, 8), np.float32), 2, 2, 2, 2, 0, 0, True
        )
