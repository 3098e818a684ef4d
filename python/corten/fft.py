"""corten.fft: the Python Array API standard's FFT extension (2025.12), on
numpy.fft (pocketfft) over zero-copy views of the tensors. Precision is kept:
complex64 or float32 in gives complex64 (or float32 for the real-output
transforms), complex128/float64 give the 128/64-bit results; bool and integer
inputs are computed in double precision.

A transform with a complex result refuses a real input that requires grad
(autograd does not support complex tensors yet); fftshift/ifftshift are
corten rolls and differentiable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from ._array_api import check_device
from ._dtype import as_dtype, complex64, complex128, float32, float64
from ._shape import normalize_axis, shape_str
from .ops._common import _as_tensor, _needs_graph, astype
from .tensor import Tensor

__all__ = [
    "fft", "fftfreq", "fftn", "fftshift", "hfft", "ifft", "ifftn", "ifftshift", "ihfft", "irfft", "irfftn",
    "rfft", "rfftfreq", "rfftn",
]

Norm = Literal["backward", "ortho", "forward"]
_NORMS = ("backward", "ortho", "forward")


def _tensor(x: Any, op: str) -> Tensor:
    t = _as_tensor(x)
    if t is None:
        raise TypeError(f"fft.{op}: expected a tensor, got {type(x).__name__}")
    return t


def _complex_input(x: Any, op: str) -> Tensor:
    """x as a complex tensor of its own precision (float32 -> complex64)."""
    t = _tensor(x, op)
    if t.dtype.kind == "c":
        return t
    return astype(t, complex64 if t.dtype is float32 else complex128)  # refuses a tensor requiring grad


def _real_input(x: Any, op: str) -> Tensor:
    t = _tensor(x, op)
    if t.dtype.kind == "c":
        raise TypeError(f"fft.{op}: expected a real floating-point tensor, got {t.dtype.name}")
    if _needs_graph(t):
        raise RuntimeError(f"fft.{op}: autograd does not support complex tensors yet (the result is complex); "
                           f"call it on x.detach() or under corten.no_grad()")
    return t if t.dtype.kind == "f" else astype(t, float64)


def _check(norm: str, op: str, t: Tensor) -> None:
    if norm not in _NORMS:
        raise ValueError(f"fft.{op}: norm must be 'backward', 'ortho' or 'forward', got {norm!r}")
    if t.ndim == 0:
        raise ValueError(f"fft.{op}: expected a tensor of at least 1 dimension, got shape ()")


def _check_n(n: int | None, op: str) -> None:
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"fft.{op}: n must be a positive integer, got {n!r}")


def _wrap(a: np.ndarray, precision_of: Tensor, kind: str) -> Tensor:
    """The result with the input's precision (pocketfft already keeps it; cast for safety)."""
    single = precision_of.dtype in (float32, complex64)
    d = (complex64 if single else complex128) if kind == "c" else (float32 if single else float64)
    return Tensor._wrap(np.asarray(a, dtype=d.np, order="C"))


def _one(fn: Callable[..., np.ndarray], t: Tensor, n: int | None, axis: int, norm: str, op: str,
         kind: str) -> Tensor:
    _check(norm, op, t)
    _check_n(n, op)
    axis = normalize_axis(axis, t.ndim)
    return _wrap(fn(t._a, n=n, axis=axis, norm=norm), t, kind)


def fft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: Norm = "backward") -> Tensor:
    """One-dimensional discrete Fourier transform along axis (n: trim or zero-pad to n points)."""
    t = _complex_input(x, "fft")
    return _one(np.fft.fft, t, n, axis, norm, "fft", "c")


def ifft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: Norm = "backward") -> Tensor:
    """Inverse of fft."""
    t = _complex_input(x, "ifft")
    return _one(np.fft.ifft, t, n, axis, norm, "ifft", "c")


def rfft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: Norm = "backward") -> Tensor:
    """FFT of a real signal: the n // 2 + 1 non-negative frequency terms."""
    t = _real_input(x, "rfft")
    return _one(np.fft.rfft, t, n, axis, norm, "rfft", "c")


def irfft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: Norm = "backward") -> Tensor:
    """Inverse of rfft: a real signal of n points (default 2 * (m - 1))."""
    t = _complex_input(x, "irfft")
    return _one(np.fft.irfft, t, n, axis, norm, "irfft", "f")


def hfft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: Norm = "backward") -> Tensor:
    """FFT of a signal with Hermitian symmetry (given by its first half): a real spectrum."""
    t = _complex_input(x, "hfft")
    return _one(np.fft.hfft, t, n, axis, norm, "hfft", "f")


def ihfft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: Norm = "backward") -> Tensor:
    """Inverse of hfft: the n // 2 + 1 terms of a real signal's Hermitian spectrum."""
    t = _real_input(x, "ihfft")
    return _one(np.fft.ihfft, t, n, axis, norm, "ihfft", "c")


def _axes_and_sizes(t: Tensor, s: Sequence[int] | None, axes: Sequence[int] | None, op: str,
                    inverse_real: bool = False) -> tuple[list[int], list[int]]:
    """The standard's defaults: axes None -> the last len(s) axes (all when s is None);
    s None or -1 entries -> the input's sizes (for irfftn's last axis 2 * (m - 1))."""
    if axes is None:
        ax = list(range(t.ndim)) if s is None else list(range(t.ndim - len(s), t.ndim))
    else:
        ax = [normalize_axis(int(a), t.ndim) for a in axes]
    if len(set(ax)) != len(ax):
        raise ValueError(f"fft.{op}: repeated axis in axes={axes!r}")
    if s is not None and len(s) != len(ax):
        raise ValueError(f"fft.{op}: s and axes must have the same length, got s={tuple(s)} and axes={tuple(ax)}")
    if any(a < 0 for a in ax):
        raise ValueError(f"fft.{op}: axes {axes!r} out of range for shape {shape_str(t.shape)}")
    sizes = []
    for i, a in enumerate(ax):
        v = -1 if s is None else s[i]
        if v == -1:
            v = 2 * (t.shape[a] - 1) if inverse_real and i == len(ax) - 1 else t.shape[a]
        elif isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"fft.{op}: s must hold positive integers (or -1), got {tuple(s or ())}")
        sizes.append(int(v))
    return ax, sizes


def _many(fn: Callable[..., np.ndarray], t: Tensor, s: Any, axes: Any, norm: str, op: str, kind: str,
          inverse_real: bool = False) -> Tensor:
    _check(norm, op, t)
    ax, sizes = _axes_and_sizes(t, s, axes, op, inverse_real)
    if not ax:
        return _wrap(t._a.copy(), t, kind)
    return _wrap(fn(t._a, s=sizes, axes=ax, norm=norm), t, kind)


def fftn(x: Tensor, /, *, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
         norm: Norm = "backward") -> Tensor:
    """n-dimensional discrete Fourier transform over axes."""
    t = _complex_input(x, "fftn")
    return _many(np.fft.fftn, t, s, axes, norm, "fftn", "c")


def ifftn(x: Tensor, /, *, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
          norm: Norm = "backward") -> Tensor:
    """Inverse of fftn."""
    t = _complex_input(x, "ifftn")
    return _many(np.fft.ifftn, t, s, axes, norm, "ifftn", "c")


def rfftn(x: Tensor, /, *, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
          norm: Norm = "backward") -> Tensor:
    """n-dimensional FFT of a real signal (the last axis keeps its non-negative frequencies)."""
    t = _real_input(x, "rfftn")
    return _many(np.fft.rfftn, t, s, axes, norm, "rfftn", "c")


def irfftn(x: Tensor, /, *, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
           norm: Norm = "backward") -> Tensor:
    """Inverse of rfftn (a real result)."""
    t = _complex_input(x, "irfftn")
    return _many(np.fft.irfftn, t, s, axes, norm, "irfftn", "f", inverse_real=True)


def _freq_dtype(dtype: Any, device: Any, op: str) -> Any:
    check_device(device, f"fft.{op}")
    d = float32 if dtype is None else as_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"fft.{op}: dtype must be a real floating-point dtype, got {d.name}")
    return d


def _check_length(n: Any, op: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"fft.{op}: n must be a positive integer, got {n!r}")
    return int(n)


def fftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None, device: Any = None) -> Tensor:
    """Sample frequencies of an n-point fft with sample spacing d: [0, 1, ..., -1] / (d * n)."""
    out = _freq_dtype(dtype, device, "fftfreq")
    return Tensor._wrap(np.fft.fftfreq(_check_length(n, "fftfreq"), d).astype(out.np))


def rfftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None, device: Any = None) -> Tensor:
    """Sample frequencies of an n-point rfft: [0, 1, ..., n // 2] / (d * n)."""
    out = _freq_dtype(dtype, device, "rfftfreq")
    return Tensor._wrap(np.fft.rfftfreq(_check_length(n, "rfftfreq"), d).astype(out.np))


def _shift(x: Any, axes: Any, op: str, sign: int) -> Tensor:
    from .ops.join import roll

    t = _tensor(x, op)
    if axes is None:
        ax = list(range(t.ndim))
    elif isinstance(axes, (int, np.integer)):
        ax = [int(axes)]
    else:
        ax = [int(a) for a in axes]
    ax = [normalize_axis(a, t.ndim) for a in ax]
    if not ax:
        return t * 1 if t.dtype.kind != "b" else astype(t, t.dtype)
    return roll(t, [sign * (t.shape[a] // 2) for a in ax], ax)


def fftshift(x: Tensor, /, *, axes: int | Sequence[int] | None = None) -> Tensor:
    """Move the zero-frequency term to the centre (a roll by n // 2 along each axis)."""
    return _shift(x, axes, "fftshift", 1)


def ifftshift(x: Tensor, /, *, axes: int | Sequence[int] | None = None) -> Tensor:
    """Inverse of fftshift (a roll by -(n // 2))."""
    return _shift(x, axes, "ifftshift", -1)
