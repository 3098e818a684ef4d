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
        self.kind = kind  # "b" bool, "i" integer (signed or not), "f" real floating, "c" complex floating

    @property
    def is_floating_point(self) -> bool:
        return self.kind == "f"

    @property
    def is_integer(self) -> bool:
        return self.kind == "i"

    @property
    def is_complex(self) -> bool:
        return self.kind == "c"

    @property
    def real_dtype(self) -> DType:
        """The dtype of the real and imaginary parts (itself for a real dtype)."""
        return _REAL_OF.get(self, self)

    def __repr__(self) -> str:
        return f"corten.{self.name}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return self is other
        if not isinstance(other, (str, np.dtype, type)):  # only dtype spellings compare by meaning
            return NotImplemented
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
complex64 = DType("complex64", np.complex64, "c")
complex128 = DType("complex128", np.complex128, "c")

REAL_DTYPES = (bool_, uint8, int32, int64, float32, float64)  # bool, integers and real floats
COMPLEX_DTYPES = (complex64, complex128)
ALL_DTYPES = REAL_DTYPES + COMPLEX_DTYPES
default_float = float32
default_int = int64
default_complex = complex64  # the complex dtype of default_float's precision
_REAL_OF = {complex64: float32, complex128: float64}
_COMPLEX_OF = {float32: complex64, float64: complex128}

_BY_NP = {d.np: d for d in ALL_DTYPES}
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update({"bool_": bool_, "float": float32, "double": float64, "int": int64, "long": int64})
_BY_PYTYPE = {bool: bool_, int: int64, float: float32, complex: complex64}


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
    except (TypeError, ValueError):  # ValueError: strings NumPy parses as a record format
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
    changes the kind (bool -> int -> float -> complex), never the precision."""
    if isinstance(value, bool):
        return t
    if isinstance(value, int):
        return default_int if t is bool_ else t
    if isinstance(value, float):
        return t if t.kind in "fc" else default_float
    if isinstance(value, complex):
        return t if t.kind == "c" else _COMPLEX_OF.get(t, default_complex)
    raise TypeError(f"unsupported operand type {type(value).__name__}")


def float_type_for(d: DType) -> DType:
    """The dtype a float-valued function (exp, sqrt, true division) gives for input d."""
    return d if d.kind in "fc" else default_float


def complex_type_for(d: DType) -> DType:
    """The complex dtype of d's precision (complex64 for bool, integers and float32)."""
    return d if d.kind == "c" else _COMPLEX_OF.get(d, default_complex)
