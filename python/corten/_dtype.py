"""corten's dtypes and the type-promotion rules (NumPy 2 / Array API, weak Python scalars)."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np


class DType:
    """A tensor element type. Compares equal to its NumPy dtype and name."""

    __slots__ = ("name", "np", "itemsize", "kind")

    def __init__(self, name: str, np_dtype: Any, kind: str) -> None:
        self.name = name
        self.np: np.dtype = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.kind = kind  # "b" bool, "i" integer (signed or not), "f" floating

    @property
    def is_floating_point(self) -> bool:
        return self.kind == "f"

    @property
    def is_integer(self) -> bool:
        return self.kind == "i"

    @property
    def real_dtype(self) -> DType:
        """The dtype of the real and imaginary parts (itself for a real dtype)."""
        return self

    def __repr__(self) -> str:
        return f"corten.{self.name}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return self is other
        try:
            return as_dtype(other) is self
        except TypeError:
            return NotImplemented

    # dtypes are singletons: hash by identity (fast, C-level; they key caches)
    __hash__ = object.__hash__

    def __reduce__(self):
        return (as_dtype, (self.name,))


bool_ = DType("bool", np.bool_, "b")
uint8 = DType("uint8", np.uint8, "i")
int32 = DType("int32", np.int32, "i")
int64 = DType("int64", np.int64, "i")
float32 = DType("float32", np.float32, "f")
float64 = DType("float64", np.float64, "f")

ALL_DTYPES = (bool_, uint8, int32, int64, float32, float64)
default_float = float32
default_int = int64

_BY_NP = {d.np: d for d in ALL_DTYPES}
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update({"bool_": bool_, "float": float32, "double": float64, "int": int64, "long": int64})
_BY_PYTYPE = {bool: bool_, int: int64, float: float32}


def as_dtype(x: object) -> DType:
    """Accept a corten dtype, a NumPy dtype or scalar type, a Python type, or a name."""
    if isinstance(x, DType):
        return x
    if isinstance(x, str):
        d = _BY_NAME.get(x)
        if d is not None:
            return d
    elif x in _BY_PYTYPE:
        return _BY_PYTYPE[x]
    try:
        d = _BY_NP.get(np.dtype(x))  # type: ignore[call-overload]  # anything NumPy accepts
    except TypeError:
        d = None
    if d is None:
        raise TypeError(f"unsupported dtype {x!r}; corten has {', '.join(d.name for d in ALL_DTYPES)}")
    return d


def from_numpy_dtype(npd: np.dtype) -> DType:
    d = _BY_NP.get(npd)
    if d is None:
        raise TypeError(f"unsupported NumPy dtype {npd}; corten has {', '.join(d.name for d in ALL_DTYPES)}")
    return d


@cache
def promote_types(a: DType, b: DType) -> DType:
    """The result dtype of an operation on two tensors (NumPy 2 rules)."""
    return _BY_NP[np.promote_types(a.np, b.np)]


def scalar_result_type(t: DType, value: object) -> DType:
    """Result dtype of tensor-with-Python-scalar: the scalar is 'weak' and only
    changes the kind (bool -> int -> float), never the precision."""
    if isinstance(value, bool):
        return t
    if isinstance(value, int):
        return default_int if t is bool_ else t
    if isinstance(value, float):
        return t if t.kind == "f" else default_float
    raise TypeError(f"unsupported operand type {type(value).__name__}")


def float_type_for(d: DType) -> DType:
    """The dtype a float-valued function (exp, sqrt, true division) gives for input d."""
    return d if d.kind == "f" else default_float
