"""Random tensors from a counter-based generator (Philox4x32-10, in C++).

Element i of a draw is a pure function of (seed, offset + i), so results never
depend on the thread count. A Generator is just (seed, offset); each draw
advances the offset by the number of values it used.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _C
from ._creation import _shape_vararg
from ._dtype import as_dtype, default_float, default_int
from ._shape import check_shape
from .tensor import Tensor

_DEFAULT_SEED = 67280421310721
_U64 = 2**64


class Generator:
    """A random stream: `Generator(seed)`, `manual_seed(seed)`, `get_state()`."""

    def __init__(self, seed: int = _DEFAULT_SEED) -> None:
        self._lock = threading.Lock()
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        if not -(2**63) <= seed < _U64:
            raise ValueError(f"seed must fit in 64 bits, got {seed}")
        with self._lock:
            self._seed, self._offset = seed % _U64, 0
        return self

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> tuple[int, int]:
        return (self._seed, self._offset)

    def set_state(self, state: tuple[int, int]) -> None:
        seed, offset = (int(v) for v in state)
        with self._lock:
            self._seed, self._offset = seed % _U64, offset % _U64

    def _take(self, n: int) -> tuple[int, int]:
        """Reserve n counters: (seed, first offset). Thread-safe."""
        with self._lock:
            off = self._offset
            self._offset = (off + n) % _U64
            return self._seed, off


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (as torch.manual_seed)."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    return default_generator.initial_seed()


def _float_dtype(dtype: Any) -> Any:
    d = default_float if dtype is None else as_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"random floats need a floating dtype, got {d.name}")
    return d


def _finish(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def uniform_(t: Tensor, low: float = 0.0, high: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill t in place with values uniform on [low, high)."""
    if not low < high:
        raise ValueError(f"uniform_ expects low < high, got low={low}, high={high}")
    g = generator or default_generator
    buf = t._a if t._a.flags.c_contiguous else np.empty(t.shape, t._a.dtype)
    seed, off = g._take(buf.size)
    _C.random_uniform(buf, seed, off, float(low), float(high))
    if buf is not t._a:
        _C.copy(buf, t._a)
    t._bump_version()
    return t


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill t in place with Normal(mean, std) values."""
    if std < 0:
        raise ValueError(f"normal_ expects std >= 0, got {std}")
    g = generator or default_generator
    buf = t._a if t._a.flags.c_contiguous else np.empty(t.shape, t._a.dtype)
    seed, off = g._take(buf.size)
    _C.random_normal(buf, seed, off, float(mean), float(std))
    if buf is not t._a:
        _C.copy(buf, t._a)
    t._bump_version()
    return t


def rand(*shape: Any, dtype: Any = None, generator: Generator | None = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    d = _float_dtype(dtype)
    out = np.empty(check_shape(_shape_vararg(shape), d.itemsize), d.np)
    uniform_(Tensor._wrap(out), 0.0, 1.0, generator)
    return _finish(out, requires_grad)


def randn(*shape: Any, dtype: Any = None, generator: Generator | None = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    d = _float_dtype(dtype)
    out = np.empty(check_shape(_shape_vararg(shape), d.itemsize), d.np)
    normal_(Tensor._wrap(out), 0.0, 1.0, generator)
    return _finish(out, requires_grad)


def randint(
    low: int, high: int | None = None, size: int | Sequence[int] = (), dtype: Any = None,
    generator: Generator | None = None,
) -> Tensor:
    """Integers uniform on [low, high) (or [0, low) with one bound)."""
    if high is None:
        low, high = 0, low
    low, high = int(low), int(high)
    if low >= high:
        raise ValueError(f"randint: low >= high ({low} >= {high})")
    d = default_int if dtype is None else as_dtype(dtype)
    if d.kind != "i":
        raise TypeError(f"randint needs an integer dtype, got {d.name}")
    info = np.iinfo(d.np)
    if low < info.min or high - 1 > info.max:
        raise ValueError(f"randint: bounds [{low}, {high}) do not fit {d.name}")
    shape = check_shape((size,) if isinstance(size, int) else tuple(size), 8)
    buf = np.empty(shape, np.int64)
    g = generator or default_generator
    seed, off = g._take(buf.size)
    _C.random_integers(buf, seed, off, low, high)
    return Tensor._wrap(buf if d.name == "int64" else buf.astype(d.np))


def bernoulli_mask(shape: Sequence[int], p: float, generator: Generator | None = None) -> Tensor:
    """A bool tensor, True with probability p (dropout's keep mask)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"probability must be in [0, 1], got {p}")
    buf = np.empty(check_shape(tuple(shape), 1), np.uint8)
    g = generator or default_generator
    seed, off = g._take(buf.size)
    _C.random_bernoulli(buf, seed, off, float(p))
    return Tensor._wrap(buf.view(np.bool_))


def randperm(n: int, generator: Generator | None = None) -> Tensor:
    """A random permutation of 0..n-1 (sorts random 63-bit keys)."""
    if n < 0:
        raise ValueError(f"randperm: n must be non-negative, got {n}")
    keys = randint(0, 2**62, (n,), generator=generator)
    return Tensor._wrap(np.argsort(keys._a, kind="stable").astype(np.int64))
