"""The Tensor: a strided view of typed memory plus its place in the autograd graph.

Layout (shape, strides in elements, offset) is owned here in Python; the data
lives in a NumPy array that the C++ kernels read and write directly. Ops live
in corten/ops/ and attach themselves to Tensor as methods.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import _shape
from ._dtype import _BY_NP, DType, as_dtype
from .autograd.grad_mode import _state as _grad_state
from .autograd.grad_mode import is_grad_enabled
from .autograd.views import register_view

_object_new = object.__new__


class Tensor:
    """An n-dimensional array with autograd. Create with corten.tensor(), zeros(), ...

    `strides` are counted in elements (not bytes, unlike NumPy).
    """

    __array_priority__ = 1000  # NumPy defers binary operators to our reflected ones

    # Class-level defaults keep construction cheap: a new tensor sets only `_a`.
    _base: np.ndarray | None = None  # 1-D array over the whole memory, for views
    _offset = 0  # element offset of this tensor's [0, ..., 0] in _base
    _view_src: Tensor | None = None  # the root a view was cut from (autograd/views.py)
    _views: list | None = None  # on a root: weak references to its views
    _views_live = 0
    _nograd_view = False  # a view made with grad mode off, outside a recorded op
    _vc: list | None = None  # version counter, shared with views
    _rg = False
    _grad_fn: Any = None
    _out_index = 0
    _hooks: list | None = None
    grad: Tensor | None = None

    def __init__(self, data: Any = None, dtype: Any = None, requires_grad: bool = False) -> None:
        from ._creation import _to_array

        self._a = _to_array(data, dtype, copy=True)
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, arr: np.ndarray) -> Tensor:
        t = _object_new(cls)
        t._a = arr
        return t

    # ---- layout -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._a.shape

    @property
    def ndim(self) -> int:
        return self._a.ndim

    @property
    def dtype(self) -> DType:
        return _BY_NP[self._a.dtype]

    @property
    def size(self) -> int:
        return self._a.size

    @property
    def itemsize(self) -> int:
        return self._a.itemsize

    @property
    def nbytes(self) -> int:
        return self._a.nbytes

    @property
    def strides(self) -> tuple[int, ...]:
        """Strides in elements (NumPy's are in bytes)."""
        isz = self._a.itemsize
        return tuple(s // isz for s in self._a.strides)

    @property
    def device(self) -> str:
        return "cpu"

    def dim(self) -> int:
        return self._a.ndim

    def numel(self) -> int:
        return self._a.size

    def element_size(self) -> int:
        return self._a.itemsize

    def size_(self) -> tuple[int, ...]:
        return self._a.shape

    def data_ptr(self) -> int:
        return self._a.__array_interface__["data"][0]

    def is_contiguous(self) -> bool:
        return bool(self._a.flags.c_contiguous)

    def _storage(self) -> tuple[np.ndarray, int]:
        """(1-D array over this tensor's memory, offset of element [0,...,0])."""
        if self._base is not None:
            return self._base, self._offset
        a = self._a
        isz = a.itemsize
        if a.flags.c_contiguous:
            base, off = a.reshape(-1), 0
        elif a.size == 0:
            base, off = np.empty(0, a.dtype), 0
        elif any(s % isz for s in a.strides):
            raise ValueError("tensor strides must be a multiple of the item size")
        else:  # flip negative strides so the lowest address comes first
            flips = tuple(slice(None, None, -1) if s < 0 else slice(None) for s in a.strides)
            low = a[flips]
            extent = 1 + sum((n - 1) * abs(s) // isz for n, s in zip(a.shape, a.strides, strict=True))
            base = np.lib.stride_tricks.as_strided(low, (extent,), (isz,), writeable=a.flags.writeable)
            off = sum((n - 1) * -s // isz for n, s in zip(a.shape, a.strides, strict=True) if s < 0)
        self._base, self._offset = base, off
        return base, off

    def _make_view(self, shape: Sequence[int], strides: Sequence[int], offset: int) -> Tensor:
        """A tensor over the same memory with the given layout (strides, offset in elements)."""
        base, _ = self._storage()
        isz = self._a.itemsize
        arr = np.ndarray(
            tuple(shape), self._a.dtype, buffer=base, offset=offset * isz,
            strides=tuple(s * isz for s in strides),
        )
        t = Tensor.__new__(Tensor)
        t._a = arr
        t._base = base
        t._offset = offset
        root = self._view_src if self._view_src is not None else self
        t._view_src = root
        if self._vc is None:
            self._vc = [0]
        t._vc = self._vc
        if not _grad_state.enabled:  # inside a recorded op's forward this is cleared on attach
            t._nograd_view = True
        register_view(root, t)
        return t

    def _bump_version(self, by: int = 1) -> int:
        """Add `by` to the version counter shared with views; return the version."""
        vc = self._vc
        if vc is None:
            vc = self._vc = [0]
        vc[0] += by
        return vc[0]

    # ---- autograd -----------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if flag and not self.dtype.is_floating_point:
            raise RuntimeError(
                f"only tensors of floating point dtype can require gradients, got {self.dtype}"
            )
        if not flag and self._grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf tensors; use detach() for a non-leaf"
            )
        self._rg = bool(flag)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        self.requires_grad = flag
        return self

    @property
    def grad_fn(self) -> Any:
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    def _attach(self, node: Any, index: int) -> None:
        self._grad_fn = node
        self._out_index = index
        self._rg = True
        self._nograd_view = False

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory and version counter)."""
        t = Tensor._wrap(self._a)  # shares memory, but is a root for autograd (as in PyTorch)
        t._base, t._offset = self._base, self._offset
        if self._vc is None:
            self._vc = [0]
        t._vc = self._vc
        return t

    def detach_(self) -> Tensor:
        if self._view_src is not None:
            raise RuntimeError("can't detach views in-place: use detach() instead, which gives a new tensor")
        self._grad_fn = None
        self._rg = False
        return self

    def retain_grad(self) -> None:
        if self._grad_fn is None:
            return
        node = self._grad_fn
        if node._retain is None:
            node._retain = {}
        node._retain[self._out_index] = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        node = self._grad_fn
        return bool(node is not None and node._retain and self._out_index in node._retain)

    def register_hook(self, fn: Callable[[Tensor], Tensor | None]) -> Any:
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(fn)
            hooks = self._hooks
        else:
            self._grad_fn.register_hook(self._out_index, fn)
            hooks = self._grad_fn._hooks[self._out_index]
        return _HookHandle(hooks, fn)

    def backward(
        self, gradient: Tensor | None = None, retain_graph: bool | None = None, create_graph: bool = False,
        inputs: Sequence[Tensor] | None = None,
    ) -> None:
        from .autograd import backward

        backward([self], None if gradient is None else [gradient], retain_graph, create_graph, inputs)

    def _iadd_data(self, other: Tensor) -> None:
        """self += other on the raw data, outside autograd (gradient accumulation)."""
        from . import _C

        _C.add(self._a, other._a, self._a)

    # ---- conversion ---------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """A NumPy array sharing this tensor's memory."""
        if self._rg and not force:
            raise RuntimeError(
                "can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()"
            )
        return self._a

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        a = self._a
        if dtype is not None and np.dtype(dtype) != a.dtype:
            if copy is False:
                raise ValueError("converting the dtype needs a copy")
            return a.astype(dtype)
        return a.copy() if copy else a

    def __dlpack__(
        self, *, stream: Any = None, max_version: tuple[int, int] | None = None,
        dl_device: tuple[int, int] | None = None, copy: bool | None = None,
    ) -> Any:
        """Export through DLPack (a versioned capsule when the consumer asks for
        one); the consumer shares this tensor's memory and keeps it alive."""
        if self._rg:
            raise RuntimeError("can't export a tensor that requires grad; use tensor.detach()")
        if dl_device is not None and tuple(dl_device) != (1, 0):
            raise BufferError(f"corten tensors live on the CPU (1, 0), not on device {tuple(dl_device)}")
        return self._a.__dlpack__(stream=stream, max_version=max_version, dl_device=dl_device, copy=copy)

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)  # kDLCPU, device 0

    def item(self) -> bool | int | float:
        if self._a.size != 1:
            raise ValueError(f"a tensor with {self._a.size} elements cannot be converted to a Python scalar")
        return self._a.reshape(-1)[0].item()

    def tolist(self) -> Any:
        return self._a.tolist()

    def __bool__(self) -> bool:
        if self._a.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self._a.size} elements is ambiguous; use .any() or .all()"
            )
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind == "f" or self._a.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __len__(self) -> int:
        if self._a.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._a.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        if self._rg and is_grad_enabled():  # differentiable: go through indexing
            for i in range(self._a.shape[0]):
                yield self[i]
            return
        shape, strides = self._a.shape[1:], self.strides
        _, offset = self._storage()
        for i in range(self._a.shape[0]):  # views sharing memory, like NumPy's
            yield self._make_view(shape, strides[1:], offset + i * strides[0])

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        from ._format import format_tensor

        return format_tensor(self)

    __str__ = __repr__

    def __reduce__(self):
        from ._creation import tensor

        return (tensor, (self._a.copy(), self.dtype, self._rg))

    def __deepcopy__(self, memo: dict) -> Tensor:
        t = Tensor._wrap(self._a.copy())
        t._rg = self._rg
        if self.grad is not None:
            t.grad = Tensor._wrap(self.grad._a.copy())
        memo[id(self)] = t
        return t


class _HookHandle:
    def __init__(self, hooks: list, fn: Callable) -> None:
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


def as_tensor_like(x: Any) -> Tensor:
    """Tensors pass through; NumPy arrays are wrapped without a copy."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        from ._creation import from_numpy

        return from_numpy(x)
    raise TypeError(f"expected a Tensor, got {type(x).__name__}")


__all__ = ["Tensor", "as_dtype", "is_grad_enabled", "_shape"]
