"""PyTorch-style repr: tensor([[1., 2.]], dtype=float64, requires_grad=True)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._dtype import default_float, default_int

if TYPE_CHECKING:
    from .tensor import Tensor


def format_tensor(t: Tensor) -> str:
    a = t._a
    dt = t.dtype
    opts = dict(separator=", ", prefix="tensor(", threshold=1000, edgeitems=3)
    if dt.kind == "f":
        body = np.array2string(a, precision=4, floatmode="maxprec_equal", **opts)
    else:
        body = np.array2string(a, **opts)
    extras = []
    if a.size == 0 and a.shape != (0,):
        extras.append(f"size={tuple(a.shape)}")
    if dt is not default_float and dt is not default_int and dt.name != "bool":
        extras.append(f"dtype={dt.name}")
    if a.size == 0 and dt is not default_float and f"dtype={dt.name}" not in extras:
        extras.append(f"dtype={dt.name}")
    if t._grad_fn is not None:
        extras.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._rg:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
