"""Test scaffolding: while corten.matmul is not in this build, install a
NumPy-backed stand-in so nn.Linear can be tested. Removed once matmul lands."""

import numpy as np

import corten
from corten.autograd import Function
from corten.tensor import Tensor


class _NumpyMatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return Tensor._wrap(np.matmul(a._a, b._a))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _mm(g, b.mT), _mm(a.mT, g)


def _mm(a, b):
    return _NumpyMatMul.apply(a, b)


if not hasattr(corten, "matmul"):
    corten.matmul = _mm
