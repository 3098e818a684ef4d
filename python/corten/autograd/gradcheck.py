"""Compare analytic gradients with float64 central differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True when d(sum(fn(*inputs) * v))/d(input) matches finite differences for
    every input that requires grad. Inputs should be float64."""
    from .. import tensor as make_tensor
    from ..tensor import Tensor
    from . import grad

    inputs = list(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    rng = np.random.default_rng(0)
    # One random projection per output turns a Jacobian check into a gradient check.
    proj = [rng.standard_normal(o.shape) for o in outs]

    def scalar(vals: list) -> float:
        r = fn(*vals)
        rs = list(r) if isinstance(r, (tuple, list)) else [r]
        return float(sum((np.asarray(o._a, np.float64) * p).sum() for o, p in zip(rs, proj, strict=False)))

    analytic = grad(
        [o for o in outs if o.requires_grad],
        [inputs[i] for i in diff],
        grad_outputs=[make_tensor(p, dtype=o.dtype) for o, p in zip(outs, proj, strict=False) if o.requires_grad],
        allow_unused=True,
    )
    for k, i in enumerate(diff):
        x = inputs[i]
        base = np.array(x._a, dtype=np.float64)
        numeric = np.zeros_like(base)
        flat = base.reshape(-1)
        for j in range(flat.size):
            vals = []
            for sign in (1, -1):
                pert = flat.copy()
                pert[j] += sign * eps
                vals.append(make_tensor(pert.reshape(base.shape), dtype=x.dtype))
            plus = list(inputs)
            plus[i] = vals[0]
            minus = list(inputs)
            minus[i] = vals[1]
            numeric.reshape(-1)[j] = (scalar(plus) - scalar(minus)) / (2 * eps)
        a = np.zeros_like(base) if analytic[k] is None else np.asarray(analytic[k]._a, np.float64)
        if not np.allclose(a, numeric, atol=atol, rtol=rtol):
            if raise_exception:
                err = np.abs(a - numeric).max()
                raise AssertionError(
                    f"gradcheck failed for input {i}: max abs error {err:.3g}\nanalytic:\n{a}\nnumeric:\n{numeric}"
                )
            return False
    return True
