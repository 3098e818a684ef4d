"""Making tensors: from data, from NumPy, and filled ones."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _C
from ._dtype import _BY_NP, DType, as_dtype, default_complex, default_float, default_int, float32
from ._shape import check_shape
from .tensor import Tensor

Shape = int | Sequence[int]
_SUPPORTED = "bool, uint8, int32, int64, float32, float64, complex64, complex128"


def _check_device(device: Any, fn: str) -> None:
    if device is not None:
        from ._array_api import check_device

        check_device(device, fn)


def _shape_vararg(shape: tuple) -> tuple[int, ...]:
    """The shape of `f(2, 3)` or `f((2, 3))` (PyTorch's `*size` functions: rand, randn)."""
    return _shape_arg(shape[0], shape[1:]) if shape else ()


def _shape_arg(shape: Any, more: tuple = ()) -> tuple[int, ...]:
    """The shape of `zeros(shape)` (the standard's spelling: an int or a tuple) or of
    `zeros(2, 3)` (PyTorch's, sizes as more positional arguments)."""
    if more:
        return (shape, *more)
    if isinstance(shape, (Sequence, Tensor)) and not isinstance(shape, str):
        return tuple(shape)
    return (shape,)


def _to_array(data: Any, dtype: Any = None, copy: bool | None = True) -> np.ndarray:
    """An ndarray of a corten dtype holding `data`. copy=None copies only if needed."""
    want = None if dtype is None else as_dtype(dtype)
    if isinstance(data, Tensor):
        a = data._a
    elif isinstance(data, np.ndarray) or hasattr(data, "__array_interface__"):
        a = np.asarray(data)
        if not a.dtype.isnative:
            a = a.astype(a.dtype.newbyteorder("="))
        if a.dtype not in _BY_NP and want is None:
            raise TypeError(f"unsupported NumPy dtype {a.dtype}; corten has {_SUPPORTED}")
    elif hasattr(data, "__dlpack__") and not isinstance(data, (list, tuple)):
        a = np.from_dlpack(data)
    else:
        a = _from_python(data, float32_default=want is None)
        copy = False  # already a fresh array
    if a.dtype == np.bool_ and _bad_bools(a):
        a = np.asarray(a.view(np.uint8) != 0)  # (0-d comparisons give a NumPy scalar)
    if want is not None and a.dtype != want.np:
        if a.dtype.kind == "c" and want.kind not in "cb":
            raise TypeError(f"cannot make a {want.name} tensor from complex data: it would drop the imaginary "
                            "part; use real(), imag() or abs()")
        if isinstance(data, (list, tuple, int, float, bool)) and want.kind != "f":
            _check_int_range(a, want)
        return a.astype(want.np)
    return a.copy() if copy else a


def _check_int_range(a: np.ndarray, want: DType) -> None:
    """OverflowError when Python integers do not fit the integer dtype `want`
    (conversion to bool is always allowed: nonzero is True)."""
    if want.kind == "i" and a.dtype.kind == "i" and a.size:
        info = np.iinfo(want.np)
        if a.min() < info.min or a.max() > info.max:
            raise OverflowError(f"value out of range for {want.name}")


def _from_python(data: Any, float32_default: bool = True) -> np.ndarray:
    """Python scalars and nested lists: floats become float32 and complex numbers
    complex64 (float64/complex128 while float32_default is False, so a requested
    dtype sees the exact values), ints int64."""
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
        data = [x._a if isinstance(x, Tensor) else x for x in data]
    try:
        a = np.array(data)
    except (ValueError, OverflowError) as e:
        if "inhomogeneous" in str(e):
            raise ValueError(f"cannot make a tensor from a ragged nested sequence: {e}") from None
        raise ValueError(f"cannot make a tensor from this data: {e}") from None
    if a.dtype == object and a.size and all(type(x) is int for x in a.reshape(-1).tolist()):
        raise OverflowError("integer value out of range for int64")
    if a.dtype.kind == "f":
        if a.dtype == np.float64 and float32_default and not isinstance(data, np.generic):
            return a.astype(float32.np)
        # NumPy float16 / longdouble scalars inside the data: the nearest corten float
        return a if a.dtype in _BY_NP else a.astype(np.float32 if a.itemsize < 4 else np.float64)
    if a.dtype.kind in "iu" and (a.dtype not in _BY_NP or not isinstance(data, np.generic)):
        if a.dtype != np.int64:
            if a.dtype == np.uint64 and a.size and a.max() > np.iinfo(np.int64).max:
                raise OverflowError("integer value out of range for int64")
            a = a.astype(np.int64)
        return a
    if a.dtype.kind == "c":
        if a.dtype == np.complex128 and float32_default and not isinstance(data, np.generic):
            return a.astype(np.complex64)
        return a if a.dtype in _BY_NP else a.astype(np.complex128)
    if a.dtype.kind == "b" or a.dtype in _BY_NP:
        return a
    raise TypeError(
        f"cannot make a tensor from data of type {a.dtype} (elements must be bool, int, float or complex)"
    )


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (scalar, nested lists, NumPy array, Tensor)."""
    t = Tensor._wrap(_to_array(data, dtype, copy=True))
    if requires_grad:
        t.requires_grad = True
    return t


def asarray(obj: Any, dtype: Any = None, copy: bool | None = None, device: Any = None) -> Tensor:
    """Like tensor(), but shares memory with Tensors and NumPy arrays when it can."""
    _check_device(device, "asarray")
    if isinstance(obj, Tensor) and (dtype is None or as_dtype(dtype) is obj.dtype):
        if copy:
            return obj.copy()
        return obj
    if isinstance(obj, np.ndarray) and (dtype is None or as_dtype(dtype).np == obj.dtype) and not copy:
        return from_numpy(obj)
    if copy is False:
        raise ValueError("asarray with copy=False cannot avoid a copy here")
    return Tensor._wrap(_to_array(obj, dtype, copy=True))


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor sharing memory with the NumPy array `a` (no copy)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected a numpy.ndarray, got {type(a).__name__}")
    if a.dtype not in _BY_NP:
        raise TypeError(f"unsupported NumPy dtype {a.dtype}; corten has {_SUPPORTED}")
    if not a.dtype.isnative:
        raise TypeError("arrays with non-native byte order are not supported")
    if any(s % a.itemsize for s in a.strides):
        raise ValueError("arrays whose strides are not a multiple of the item size are not supported")
    if a.size and a.ctypes.data % a.itemsize:
        raise ValueError("arrays whose data is not aligned to the item size are not supported; copy it first")
    if a.dtype == np.bool_ and _bad_bools(a):
        raise ValueError("bool array holds bytes other than 0 and 1; convert it with tensor() or a != 0")
    return Tensor._wrap(a)


def _bad_bools(a: np.ndarray) -> bool:
    """True when a bool array holds bytes other than 0/1 (e.g. a uint8 array
    viewed as bool), which the C++ kernels must never read."""
    return bool(a.size) and int(a.view(np.uint8).max()) > 1


def from_dlpack(x: Any, /, *, device: Any = None, copy: bool | None = None) -> Tensor:
    """Import a DLPack-capable object (NumPy array, PyTorch tensor, ...) without a copy
    (copy=True: always a copy; copy=False: never one)."""
    _check_device(device, "from_dlpack")
    if copy:
        return Tensor._wrap(from_dlpack(x)._a.copy())
    if isinstance(x, Tensor):
        return x
    try:
        a = np.from_dlpack(x)
    except BufferError:
        raise
    except (TypeError, AttributeError) as e:
        raise TypeError(f"from_dlpack needs an object with __dlpack__, got {type(x).__name__}: {e}") from None
    return from_numpy(a)


def empty(shape: Shape, *more: int, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    _check_device(device, "empty")
    d = default_float if dtype is None else as_dtype(dtype)
    t = Tensor._wrap(np.empty(check_shape(_shape_arg(shape, more), d.itemsize), d.np))
    if requires_grad:
        t.requires_grad = True
    return t


def full(shape: Shape, fill_value: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    _check_device(device, "full")
    if isinstance(shape, int):
        shape = (shape,)
    if dtype is None:
        if isinstance(fill_value, Tensor):
            d = fill_value.dtype
        else:
            found = {bool: as_dtype("bool"), int: default_int, float: default_float,
                     complex: default_complex}.get(type(fill_value))
            d = found if found is not None else as_dtype(np.asarray(fill_value).dtype)
    else:
        d = as_dtype(dtype)
    t = empty(shape, dtype=d)
    src = fill_value._a if isinstance(fill_value, Tensor) else np.asarray(fill_value)
    if src.dtype != d.np:
        if src.dtype.kind == "c" and d.kind not in "cb":
            raise TypeError(f"full: cannot fill a {d.name} tensor with the complex value {fill_value!r}")
        if src.dtype.kind in "iu" and d.kind != "f" and d.name != "bool":
            _check_int_range(src.astype(np.int64), d)
        src = src.astype(d.np)
    _C.copy(src, t._a)
    if requires_grad:
        t.requires_grad = True
    return t


def zeros(shape: Shape, *more: int, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    _check_device(device, "zeros")
    d = default_float if dtype is None else as_dtype(dtype)
    t = Tensor._wrap(np.zeros(check_shape(_shape_arg(shape, more), d.itemsize), d.np))
    if requires_grad:
        t.requires_grad = True
    return t


def ones(shape: Shape, *more: int, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    _check_device(device, "ones")
    d = default_float if dtype is None else as_dtype(dtype)
    return full(check_shape(_shape_arg(shape, more), d.itemsize), 1, dtype=d, requires_grad=requires_grad)


def _like(x: Tensor, dtype: Any) -> tuple[tuple[int, ...], DType]:
    return x.shape, x.dtype if dtype is None else as_dtype(dtype)


def empty_like(x: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    _check_device(device, "empty_like")
    shape, d = _like(x, dtype)
    return empty(shape, dtype=d, requires_grad=requires_grad)


def zeros_like(x: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    _check_device(device, "zeros_like")
    shape, d = _like(x, dtype)
    return zeros(shape, dtype=d, requires_grad=requires_grad)


def ones_like(x: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    _check_device(device, "ones_like")
    shape, d = _like(x, dtype)
    return ones(shape, dtype=d, requires_grad=requires_grad)


def full_like(x: Tensor, fill_value: Any, dtype: Any = None, requires_grad: bool = False,
              device: Any = None) -> Tensor:
    _check_device(device, "full_like")
    shape, d = _like(x, dtype)
    return full(shape, fill_value, dtype=d, requires_grad=requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False, device: Any = None) -> Tensor:
    """Values start, start+step, ... below stop. Integer arguments give int64."""
    _check_device(device, "arange")
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    for v in (start, stop, step):
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError("arange: arguments must be finite")
    all_int = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (start, stop, step))
    d = (default_int if all_int else default_float) if dtype is None else as_dtype(dtype)
    n = max(0, math.ceil((stop - start) / step))
    check_shape((n,), d.itemsize)
    if all_int and d.kind != "f":
        a = np.arange(start, stop, step, dtype=np.int64).astype(d.np)
    else:
        a = (start + np.arange(n, dtype=np.float64) * step).astype(d.np)
    return tensor(a, requires_grad=requires_grad) if requires_grad else Tensor._wrap(a)


def linspace(start: float, stop: float, num: int = 50, endpoint: bool = True, dtype: Any = None,
             device: Any = None) -> Tensor:
    _check_device(device, "linspace")
    if num < 0:
        raise ValueError(f"linspace: number of samples, {num}, must be non-negative")
    d = default_float if dtype is None else as_dtype(dtype)
    return Tensor._wrap(np.linspace(start, stop, num, endpoint=endpoint, dtype=np.float64).astype(d.np))


def eye(n: int, m: int | None = None, k: int = 0, dtype: Any = None, device: Any = None) -> Tensor:
    _check_device(device, "eye")
    m = n if m is None else m
    d = default_float if dtype is None else as_dtype(dtype)
    t = zeros((n, m), dtype=d)
    count = max(0, min(n, m - k) if k >= 0 else min(n + k, m))
    if count == 0:  # also any |k| beyond the matrix, however large (no int64 overflow below)
        return t
    idx = np.arange(count)
    rows, cols = (idx, idx + k) if k >= 0 else (idx - k, idx)
    t._a[rows, cols] = 1
    return t
