"""Parameter initialisers (in place, like torch.nn.init). Random values come from
corten.random's default generator (seed it with corten.manual_seed)."""

from __future__ import annotations

import math

import numpy as np

from .. import _C
from .. import random as _random
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

manual_seed = _random.manual_seed

# ---- helpers --------------------------------------------------------------------


def _write(t: Tensor, values: np.ndarray) -> Tensor:
    with no_grad():
        _C.copy(np.asarray(values, dtype=t._a.dtype), t._a)
        t._bump_version()
    return t


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for an activation (PyTorch's table)."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def _fans(t: Tensor) -> tuple[int, int]:
    if t.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions, got shape {t.shape}")
    receptive = int(np.prod(t.shape[2:])) if t.ndim > 2 else 1
    return t.shape[1] * receptive, t.shape[0] * receptive


def _fan(t: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(t)
    return fan_in if mode == "fan_in" else fan_out


# ---- initialisers ---------------------------------------------------------------


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0, generator: _random.Generator | None = None) -> Tensor:
    if t.size == 0:
        return t
    if a == b:
        return constant_(t, a)
    with no_grad():
        return _random.uniform_(t, a, b, generator)


def normal_(
    t: Tensor, mean: float = 0.0, std: float = 1.0, generator: _random.Generator | None = None
) -> Tensor:
    if t.size == 0:
        return t
    with no_grad():
        return _random.normal_(t, mean, std, generator)


def constant_(t: Tensor, value: float) -> Tensor:
    return _write(t, np.full(t.shape, value, t._a.dtype))


def zeros_(t: Tensor) -> Tensor:
    return constant_(t, 0.0)


def ones_(t: Tensor) -> Tensor:
    return constant_(t, 1.0)


def xavier_uniform_(t: Tensor, gain: float = 1.0) -> Tensor:
    fan_in, fan_out = _fans(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound)


def xavier_normal_(t: Tensor, gain: float = 1.0) -> Tensor:
    fan_in, fan_out = _fans(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(
    t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(t, -bound, bound)


def kaiming_normal_(
    t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    return normal_(t, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode)))
