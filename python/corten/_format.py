"""PyTorch-style repr: tensor([[1., 2.]], dtype=float64, requires_grad=True).

Follows PyTorch's printing rules: floats get 4 decimals (`0.5000`), or `1.`
when every value is a whole number, or scientific notation (`1.0000e-05`)
when the nonzero finite values span more than 1000x, exceed 1e8 or (for
non-whole values) go below 1e-4. Every element is right-aligned to the widest
nonzero finite one; lines wrap at 80 columns; tensors over 1000 elements show
their first and last 3 entries per dimension around `...`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ._dtype import default_complex, default_float, default_int

if TYPE_CHECKING:
    from .tensor import Tensor

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80


class _Formatter:
    """Chooses one element format (and width) for all values of a tensor."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        flat = values.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.width = max(self.width, len(str(v)))
            return
        f64 = flat.astype(np.float64)
        finite = f64[np.isfinite(f64) & (f64 != 0)]
        if finite.size == 0:
            return
        mags = np.abs(finite)
        lo, hi = float(mags.min()), float(mags.max())
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if self.int_mode:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8
        else:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        for v in finite.tolist():
            if self.sci_mode:
                n = len(f"{v:.{PRECISION}e}")
            elif self.int_mode:
                n = len(f"{v:.0f}") + 1
            else:
                n = len(f"{v:.{PRECISION}f}")
            self.width = max(self.width, n)

    def format(self, v: object) -> str:
        if not self.floating:
            s = str(v)
        elif self.sci_mode:
            s = f"{v:{self.width}.{PRECISION}e}"
        elif self.int_mode:
            s = f"{v:.0f}"
            if math.isfinite(float(v)):  # type: ignore[arg-type]  # a NumPy float here
                s += "."
        else:
            s = f"{v:.{PRECISION}f}"
        return " " * (self.width - len(s)) + s


class _ComplexFormatter:
    """Complex values as PyTorch prints them: the real parts and the imaginary
    parts each get their own _Formatter, `1.5000+2.0000j`."""

    def __init__(self, values: np.ndarray) -> None:
        self.re = _Formatter(np.ascontiguousarray(values.real))
        self.im = _Formatter(np.ascontiguousarray(np.abs(values.imag)))
        self.width = self.re.width + self.im.width + 2

    def format(self, v: complex) -> str:
        im = v.imag
        sign = "-" if (im < 0 or (im == 0 and math.copysign(1.0, im) < 0)) else "+"
        return self.re.format(v.real) + sign + self.im.format(abs(im)).lstrip() + "j"


def _edges(a: np.ndarray) -> np.ndarray:
    """The entries a summarised print shows: first/last EDGEITEMS along each long axis."""
    for ax, n in enumerate(a.shape):
        if n > 2 * EDGEITEMS:
            head = np.take(a, range(EDGEITEMS), axis=ax)
            tail = np.take(a, range(n - EDGEITEMS, n), axis=ax)
            a = np.concatenate([head, tail], axis=ax)
    return a


def _vector(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter | _ComplexFormatter) -> str:
    values = a.tolist()
    if summarize and len(values) > 2 * EDGEITEMS:
        items = [fmt.format(v) for v in values[:EDGEITEMS]] + [" ..."]
        items += [fmt.format(v) for v in values[-EDGEITEMS:]]
    else:
        items = [fmt.format(v) for v in values]
    per_line = max(1, (LINEWIDTH - indent) // (fmt.width + 2))
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter | _ComplexFormatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmt)
    n = a.shape[0]
    if summarize and n > 2 * EDGEITEMS:
        parts = [_nested(a[i], indent + 1, summarize, fmt) for i in range(EDGEITEMS)] + ["..."]
        parts += [_nested(a[i], indent + 1, summarize, fmt) for i in range(n - EDGEITEMS, n)]
    else:
        parts = [_nested(a[i], indent + 1, summarize, fmt) for i in range(n)]
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(parts) + "]"


def format_tensor(t: Tensor) -> str:
    a = t._a
    dt = t.dtype
    prefix = "tensor("
    extras = []
    if a.size == 0:
        body = "[]"
        if a.ndim != 1:
            extras.append(f"size={tuple(a.shape)}")
        if dt is not default_float:
            extras.append(f"dtype={dt.name}")
    else:
        summarize = a.size > THRESHOLD
        shown = _edges(a) if summarize else a
        fmt = _ComplexFormatter(shown) if dt.kind == "c" else _Formatter(shown)
        body = _nested(a, len(prefix), summarize, fmt)
        if dt not in (default_float, default_int, default_complex) and dt.name != "bool":
            extras.append(f"dtype={dt.name}")
    if t._grad_fn is not None:
        extras.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._rg:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
