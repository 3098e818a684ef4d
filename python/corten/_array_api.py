"""The Python Array API standard's namespace-level pieces: the version, the
inspection object (`__array_namespace_info__`), and the data type functions
(`isdtype`, `result_type`, `can_cast`, `finfo`, `iinfo`)."""

from __future__ import annotations

import builtins
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._dtype import (
    ALL_DTYPES,
    DType,
    as_dtype,
    default_complex,
    default_float,
    default_int,
    promote_types,
    scalar_result_type,
)

__array_api_version__ = "2025.12"
e, inf, nan, pi = math.e, math.inf, math.nan, math.pi
newaxis = None
SUPPORTED_API_VERSIONS = ("2021.12", "2022.12", "2023.12", "2024.12", "2025.12")
DEVICE = "cpu"

# The standard's dtype kinds (isdtype, __array_namespace_info__().dtypes(kind=...)).
_KINDS = {
    "bool": lambda d: d.kind == "b",
    "signed integer": lambda d: d.kind == "i" and d.np.kind == "i",
    "unsigned integer": lambda d: d.kind == "i" and d.np.kind == "u",
    "integral": lambda d: d.kind == "i",
    "real floating": lambda d: d.kind == "f",
    "complex floating": lambda d: d.kind == "c",
    "numeric": lambda d: d.kind in "ifc",
}


def check_api_version(api_version: str | None) -> None:
    if api_version is not None and api_version not in SUPPORTED_API_VERSIONS:
        raise ValueError(
            f"unsupported Array API version {api_version!r}; corten implements "
            f"{', '.join(SUPPORTED_API_VERSIONS)}"
        )


def check_device(device: Any, where: str) -> None:
    if device is not None and device != DEVICE:
        raise ValueError(f"{where}: corten tensors live on device {DEVICE!r}, not {device!r}")


def isdtype(dtype: Any, kind: Any) -> bool:
    """Whether `dtype` is of `kind`: a dtype, one of the standard's kind names
    ('bool', 'signed integer', 'unsigned integer', 'integral', 'real floating',
    'complex floating', 'numeric'), or a tuple of those."""
    if not isinstance(dtype, DType):
        raise TypeError(f"isdtype: expected a corten dtype, got {dtype!r}")
    if isinstance(kind, tuple):
        return builtins.any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, str):
        test = _KINDS.get(kind)
        if test is None:
            raise ValueError(f"isdtype: unknown kind {kind!r}; expected a dtype or one of {', '.join(_KINDS)}")
        return test(dtype)
    if isinstance(kind, DType):
        return dtype is kind
    raise TypeError(f"isdtype: kind must be a dtype, a kind name or a tuple of them, got {kind!r}")


def result_type(*arrays_and_dtypes: Any) -> DType:
    """The dtype the type-promotion rules give for the tensors, dtypes and Python
    scalars given (scalars are weak: they only change the kind). At least one
    tensor or dtype is needed."""
    from .tensor import Tensor

    d: DType | None = None
    scalars = []
    for x in arrays_and_dtypes:
        if isinstance(x, Tensor):
            xd = x.dtype
        elif isinstance(x, (bool, int, float, complex)):
            scalars.append(x)
            continue
        else:
            xd = as_dtype(x)
        d = xd if d is None else promote_types(d, xd)
    if d is None:
        raise ValueError("result_type needs at least one tensor or dtype (Python scalars alone have no dtype)")
    for s in scalars:
        d = scalar_result_type(d, s)
    return d


def can_cast(from_: Any, to: Any, /) -> bool:
    """Whether `from_` (a dtype or tensor) converts to `to` under the promotion rules."""
    from .tensor import Tensor

    f = from_.dtype if isinstance(from_, Tensor) else as_dtype(from_)
    t = as_dtype(to)
    return promote_types(f, t) is t


@dataclass(frozen=True)
class finfo_object:
    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: DType


@dataclass(frozen=True)
class iinfo_object:
    bits: int
    max: int
    min: int
    dtype: DType


def _dtype_of(x: Any, fn: str) -> DType:
    from .tensor import Tensor

    return x.dtype if isinstance(x, Tensor) else as_dtype(x)


def finfo(type: Any, /) -> finfo_object:  # noqa: A002  (the standard's parameter name)
    """Machine limits of a floating-point dtype (for a complex dtype: of its real part)."""
    d = _dtype_of(type, "finfo")
    if d.kind not in "fc":
        raise TypeError(f"finfo: expected a floating-point dtype, got {d.name}")
    real = d.real_dtype
    fi = np.finfo(real.np)
    return finfo_object(fi.bits, float(fi.eps), float(fi.max), float(fi.min), float(fi.smallest_normal), real)


def iinfo(type: Any, /) -> iinfo_object:  # noqa: A002
    """Machine limits of an integer dtype."""
    d = _dtype_of(type, "iinfo")
    if d.kind != "i":
        raise TypeError(f"iinfo: expected an integer dtype, got {d.name}")
    ii = np.iinfo(d.np)
    return iinfo_object(ii.bits, int(ii.max), int(ii.min), d)


class ArrayNamespaceInfo:
    """What `corten.__array_namespace_info__()` returns: capabilities, devices, dtypes."""

    __module__ = "corten"

    def capabilities(self) -> dict[str, Any]:
        return {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": 64}

    def default_device(self) -> str:
        return DEVICE

    def devices(self) -> tuple[str, ...]:
        return (DEVICE,)

    def default_dtypes(self, *, device: Any = None) -> dict[str, DType]:
        check_device(device, "default_dtypes")
        return {
            "real floating": default_float,
            "complex floating": default_complex,
            "integral": default_int,
            "indexing": default_int,
        }

    def dtypes(self, *, device: Any = None, kind: Any = None) -> dict[str, DType]:
        check_device(device, "dtypes")
        if kind is None:
            return {d.name: d for d in ALL_DTYPES}
        return {d.name: d for d in ALL_DTYPES if isdtype(d, kind)}


def __array_namespace_info__() -> ArrayNamespaceInfo:
    return ArrayNamespaceInfo()


__all__ = [
    "__array_api_version__",
    "__array_namespace_info__",
    "can_cast",
    "e",
    "inf",
    "nan",
    "newaxis",
    "pi",
    "finfo",
    "iinfo",
    "isdtype",
    "result_type",
]
