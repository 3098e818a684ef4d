"""The Tensor: a strided view of typed memory plus its place in the autograd graph.

Layout (shape, strides in elements, offset) is owned here in Python; the data
lives in a NumPy array that the C++ kernels read and write directly. Ops live
in corten/ops/ and attach themselves to Tensor as methods.
"""

from __future__ import annotations

import builtins
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _C, _shape
from ._dtype import _BY_NP, DType, as_dtype
from .autograd.grad_mode import _state as _grad_state
from .autograd.grad_mode import is_grad_enabled
from .autograd.views import register_view

_object_new = object.__new__

_BACKWARD: Any = None  # corten.autograd.backward, looked up once (autograd imports this module)


def _autograd_backward() -> Any:
    global _BACKWARD
    if _BACKWARD is None:
        from .autograd import backward

        _BACKWARD = backward
    return _BACKWARD


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
    _multi_view = False  # one of several views one call returned (split, chunk)
    _multi_version = 0  # the memory's version when that call made it
    _vc: list | None = None  # version counter, shared with views
    _rg = False
    _grad_fn: Any = None
    _out_index = 0
    _hooks: list | None = None
    _post_acc_hooks: list | None = None  # on a leaf: run after its .grad is final for a backward pass
    _relu_masked: Any = None  # on a gradient: the ReLU output whose mask a GEMM epilogue already applied
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

    def to_device(self, device: Any, /, *, stream: Any = None) -> Tensor:
        """The Array API's device move: corten has one device, "cpu"."""
        from ._array_api import check_device

        check_device(device, "to_device")
        if stream is not None:
            raise ValueError("to_device: corten has no streams; stream must be None")
        return self

    def __array_namespace__(self, /, *, api_version: str | None = None) -> Any:
        """The Array API namespace of this tensor: the corten module."""
        from . import _array_api

        _array_api.check_api_version(api_version)
        import corten

        return corten

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
        if flag and self.dtype.kind == "c":
            raise RuntimeError(f"autograd does not support complex tensors yet (got a {self.dtype.name} tensor)")
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

    def register_post_accumulate_grad_hook(self, fn: Callable[[Tensor], None]) -> Any:
        """Call fn(self) once per backward pass, after every gradient of this leaf has
        been accumulated into .grad (fn may read or modify .grad in place)."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            raise RuntimeError("post-accumulate-grad hooks can only be registered on leaf tensors")
        if self._post_acc_hooks is None:
            self._post_acc_hooks = []
        self._post_acc_hooks.append(fn)
        return _HookHandle(self._post_acc_hooks, fn)

    def backward(
        self, gradient: Tensor | None = None, retain_graph: bool | None = None, create_graph: bool = False,
        inputs: Sequence[Tensor] | None = None,
    ) -> None:
        _autograd_backward()([self], None if gradient is None else [gradient], retain_graph, create_graph, inputs)

    def _iadd_data(self, other: Tensor) -> None:
        """self += other on the raw data, outside autograd (gradient accumulation)."""
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

    def item(self) -> bool | int | float | complex:
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
        self._refuse_complex("float")
        return float(self.item())  # type: ignore[arg-type]

    def __int__(self) -> int:
        self._refuse_complex("int")
        return int(self.item())  # type: ignore[arg-type]

    def __complex__(self) -> complex:
        return complex(self.item())

    def _refuse_complex(self, to: str) -> None:
        if self._a.dtype.kind == "c":
            raise TypeError(f"cannot convert a {self.dtype.name} tensor to {to}; use real(), imag() or abs() first")

    def __index__(self) -> int:
        if self.dtype.kind in "fc" or self._a.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())  # type: ignore[arg-type]

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

    # ---- attached methods, generated by tools/gen_tensor_api.py: do not edit ----
    if TYPE_CHECKING:
        @property
        def T(self) -> Tensor: ...
        def __abs__(self, *, out: Tensor | None = None) -> Tensor: ...
        def __add__(self, other: Any) -> Tensor: ...
        def __and__(self, other: Any) -> Tensor: ...
        def __eq__(self, other: Any) -> Tensor: ...  # type: ignore[override]
        def __floordiv__(self, other: Any) -> Tensor: ...
        def __ge__(self, other: Any) -> Tensor: ...
        def __getitem__(self, index: Any) -> Tensor: ...
        def __gt__(self, other: Any) -> Tensor: ...
        def __iadd__(self, other: Any) -> Tensor: ...
        def __iand__(self, other: Any) -> Tensor: ...
        def __ifloordiv__(self, other: Any) -> Tensor: ...
        def __ilshift__(self, other: Any) -> Tensor: ...
        def __imatmul__(self, other: Any) -> Tensor: ...
        def __imod__(self, other: Any) -> Tensor: ...
        def __imul__(self, other: Any) -> Tensor: ...
        def __invert__(self) -> Tensor: ...
        def __ior__(self, other: Any) -> Tensor: ...
        def __ipow__(self, other: Any) -> Tensor: ...
        def __irshift__(self, other: Any) -> Tensor: ...
        def __isub__(self, other: Any) -> Tensor: ...
        def __itruediv__(self, other: Any) -> Tensor: ...
        def __ixor__(self, other: Any) -> Tensor: ...
        def __le__(self, other: Any) -> Tensor: ...
        def __lshift__(self, other: Any) -> Tensor: ...
        def __lt__(self, other: Any) -> Tensor: ...
        def __matmul__(self, other: Any) -> Any: ...
        def __mod__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __ne__(self, other: Any) -> Tensor: ...  # type: ignore[override]
        def __neg__(self, *, out: Tensor | None = None) -> Tensor: ...
        def __or__(self, other: Any) -> Tensor: ...
        def __pos__(self) -> Any: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __rand__(self, other: Any) -> Tensor: ...
        def __rfloordiv__(self, other: Any) -> Tensor: ...
        def __rlshift__(self, other: Any) -> Tensor: ...
        def __rmatmul__(self, other: Any) -> Any: ...
        def __rmod__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __ror__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __rrshift__(self, other: Any) -> Tensor: ...
        def __rshift__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __rxor__(self, other: Any) -> Tensor: ...
        def __setitem__(self, index: Any, value: Any) -> None: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __xor__(self, other: Any) -> Tensor: ...
        def abs(self, *, out: Tensor | None = None) -> Tensor: ...
        def acos(self, *, out: Tensor | None = None) -> Tensor: ...
        def acosh(self, *, out: Tensor | None = None) -> Tensor: ...
        def add(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def add_(self, other: Any) -> Tensor: ...
        def all(
            self,
            axis: Any = None,
            keepdims: builtins.bool = False,
            *,
            dim: Any = None,
            keepdim: builtins.bool | None = None,
        ) -> Any: ...
        def amax(
            self,
            axis: Any = None,
            keepdims: builtins.bool = False,
            *,
            dim: Any = None,
            keepdim: builtins.bool | None = None,
        ) -> Any: ...
        def amin(
            self,
            axis: Any = None,
            keepdims: builtins.bool = False,
            *,
            dim: Any = None,
            keepdim: builtins.bool | None = None,
        ) -> Any: ...
        def any(
            self,
            axis: Any = None,
            keepdims: builtins.bool = False,
            *,
            dim: Any = None,
            keepdim: builtins.bool | None = None,
        ) -> Any: ...
        def argmax(
            self,
            axis: Any = None,
            keepdims: builtins.bool = False,
            *,
            dim: Any = None,
            keepdim: builtins.bool | None = None,
        ) -> Tensor: ...
        def argmin(
            self,
            axis: Any = None,
            keepdims: builtins.bool = False,
            *,
            dim: Any = None,
            keepdim: builtins.bool | None = None,
        ) -> Tensor: ...
        def argsort(
            self,
            axis: Any = -1,
            descending: builtins.bool = False,
            stable: builtins.bool = True,
            *,
            dim: Any = None,
        ) -> Tensor: ...
        def array_split(self, indices_or_sections: Any, axis: builtins.int = 0) -> list: ...
        def asin(self, *, out: Tensor | None = None) -> Tensor: ...
        def asinh(self, *, out: Tensor | None = None) -> Tensor: ...
        def astype(self, dtype: Any, *, copy: builtins.bool = True, device: Any = None) -> Tensor: ...
        def atan(self, *, out: Tensor | None = None) -> Tensor: ...
        def atan2(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def atanh(self, *, out: Tensor | None = None) -> Tensor: ...
        def bitwise_and(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def bitwise_invert(self, *, out: Tensor | None = None) -> Tensor: ...
        def bitwise_left_shift(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def bitwise_not(self, *, out: Tensor | None = None) -> Tensor: ...
        def bitwise_or(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def bitwise_right_shift(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def bitwise_xor(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def bool(self) -> Any: ...
        def broadcast_to(self, shape: Any, *more: builtins.int) -> Tensor: ...
        def ceil(self, *, out: Tensor | None = None) -> Tensor: ...
        def chunk(self, chunks: builtins.int, dim: builtins.int = 0) -> list: ...
        def clamp(self, min: Any = None, max: Any = None) -> Tensor: ...
        def clamp_(self, min: Any = None, max: Any = None) -> Any: ...
        def clip(self, min: Any = None, max: Any = None) -> Tensor: ...
        def clone(self) -> Tensor: ...
        def conj(self) -> Tensor: ...
        def contiguous(self) -> Tensor: ...
        def copy(self) -> Tensor: ...
        def copy_(self, src: Any) -> Any: ...
        def copysign(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def cos(self, *, out: Tensor | None = None) -> Tensor: ...
        def cosh(self, *, out: Tensor | None = None) -> Tensor: ...
        def cumprod(self, axis: Any = None, *, dim: Any = None, dtype: Any = None) -> Tensor: ...
        def cumsum(self, axis: Any = None, *, dim: Any = None, dtype: Any = None) -> Tensor: ...
        def div(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def div_(self, other: Any) -> Tensor: ...
        def divide(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def divide_(self, other: Any) -> Tensor: ...
        def dot(self, b: Any) -> Tensor: ...
        def double(self) -> Any: ...
        def eq(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def equal(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def exp(self, *, out: Tensor | None = None) -> Tensor: ...
        def exp_(self) -> Any: ...
        def expand(self, shape: Any, *more: builtins.int) -> Tensor: ...
        def expand_dims(self, axis: Any) -> Tensor: ...
        def expm1(self, *, out: Tensor | None = None) -> Tensor: ...
        def fill_(self, value: Any) -> Any: ...
        def flatten(self, start_dim: builtins.int = 0, end_dim: builtins.int = -1) -> Tensor: ...
        def flip(self, axis: Any = None) -> Tensor: ...
        def float(self) -> Any: ...
        def floor(self, *, out: Tensor | None = None) -> Tensor: ...
        def floor_divide(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def floor_divide_(self, other: Any) -> Tensor: ...
        def ge(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def greater(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def greater_equal(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def gt(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def hypot(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        @property
        def imag(self) -> Tensor: ...
        def index_add(self, axis: builtins.int, index: Any, source: Any) -> Tensor: ...
        def index_select(self, axis: builtins.int, index: Any) -> Tensor: ...
        def inner(self, b: Any) -> Tensor: ...
        def int(self) -> Any: ...
        def isfinite(self, *, out: Tensor | None = None) -> Tensor: ...
        def isinf(self, *, out: Tensor | None = None) -> Tensor: ...
        def isnan(self, *, out: Tensor | None = None) -> Tensor: ...
        def le(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def less(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def less_equal(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def log(self, *, out: Tensor | None = None) -> Tensor: ...
        def log10(self, *, out: Tensor | None = None) -> Tensor: ...
        def log1p(self, *, out: Tensor | None = None) -> Tensor: ...
        def log2(self, *, out: Tensor | None = None) -> Tensor: ...
        def logaddexp(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def logical_and(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def logical_not(self, *, out: Tensor | None = None) -> Tensor: ...
        def logical_or(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def logical_xor(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def logsumexp(
            self,
            axis: Any = None,
            keepdims: builtins.bool = False,
            *,
            dim: Any = None,
            keepdim: builtins.bool | None = None,
        ) -> Tensor: ...
        def long(self) -> Any: ...
        def lt(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        @property
        def mT(self) -> Tensor: ...
        def masked_fill(self, mask: Any, value: Any) -> Tensor: ...
        def masked_fill_(self, mask: Any, value: Any) -> Tensor: ...
        def matmul(self, b: Any, out: Tensor | None = None, accumulate: builtins.bool = False) -> Tensor: ...
        def max(
            self,
            axis: Any = None,
            keepdims: builtins.bool = False,
            *,
            dim: Any = None,
            keepdim: builtins.bool | None = None,
        ) -> Any: ...
        def maximum(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def mean(
            self,
            axis: Any = None,
            keepdims: builtins.bool = False,
            *,
            dim: Any = None,
            keepdim: builtins.bool | None = None,
            dtype: Any = None,
        ) -> Tensor: ...
        def min(
            self,
            axis: Any = None,
            keepdims: builtins.bool = False,
            *,
            dim: Any = None,
            keepdim: builtins.bool | None = None,
        ) -> Any: ...
        def minimum(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def moveaxis(self, source: Any, destination: Any) -> Tensor: ...
        def mul(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def mul_(self, other: Any) -> Tensor: ...
        def multiply(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def multiply_(self, other: Any) -> Tensor: ...
        def ne(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def neg(self, *, out: Tensor | None = None) -> Tensor: ...
        def neg_(self) -> Any: ...
        def negative(self, *, out: Tensor | None = None) -> Tensor: ...
        def negative_(self) -> Any: ...
        def nextafter(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def nonzero(self) -> tuple: ...
        def norm(
            self,
            ord: builtins.float = 2,
            axis: Any = None,
            keepdims: builtins.bool = False,
            *,
            dim: Any = None,
            keepdim: builtins.bool | None = None,
        ) -> Tensor: ...
        def not_equal(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def outer(self, b: Any) -> Tensor: ...
        def permute(self, *axes: Any) -> Tensor: ...
        def pow(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def pow_(self, other: Any) -> Tensor: ...
        def prod(
            self,
            axis: Any = None,
            keepdims: builtins.bool = False,
            *,
            dim: Any = None,
            keepdim: builtins.bool | None = None,
            dtype: Any = None,
        ) -> Tensor: ...
        def put_along_axis(self, indices: Any, values: Any, axis: builtins.int | None) -> None: ...
        def ravel(self) -> Tensor: ...
        @property
        def real(self) -> Tensor: ...
        def reciprocal(self, *, out: Tensor | None = None) -> Tensor: ...
        def relu(self, *, out: Tensor | None = None) -> Tensor: ...
        def relu_(self) -> Any: ...
        def remainder(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def remainder_(self, other: Any) -> Tensor: ...
        def repeat(self, repeats: Any, axis: builtins.int | None = None) -> Tensor: ...
        def reshape(self, shape: Any, *more: builtins.int, copy: builtins.bool | None = None) -> Tensor: ...
        def roll(self, shift: Any, axis: Any = None) -> Tensor: ...
        def round(self, *, out: Tensor | None = None) -> Tensor: ...
        def sigmoid(self, *, out: Tensor | None = None) -> Tensor: ...
        def sigmoid_(self) -> Any: ...
        def sign(self, *, out: Tensor | None = None) -> Tensor: ...
        def signbit(self, *, out: Tensor | None = None) -> Tensor: ...
        def sin(self, *, out: Tensor | None = None) -> Tensor: ...
        def sinh(self, *, out: Tensor | None = None) -> Tensor: ...
        def softplus(self, *, out: Tensor | None = None) -> Tensor: ...
        def sort(
            self,
            axis: Any = -1,
            descending: builtins.bool = False,
            stable: builtins.bool = True,
            *,
            dim: Any = None,
        ) -> Any: ...
        def split(self, indices_or_sections: Any, axis: builtins.int = 0) -> list: ...
        def sqrt(self, *, out: Tensor | None = None) -> Tensor: ...
        def sqrt_(self) -> Any: ...
        def square(self, *, out: Tensor | None = None) -> Tensor: ...
        def squeeze(self, axis: Any = None) -> Tensor: ...
        def std(
            self,
            axis: Any = None,
            keepdims: builtins.bool = False,
            *,
            ddof: builtins.float = 0,
            correction: builtins.float | None = None,
            dim: Any = None,
            keepdim: builtins.bool | None = None,
        ) -> Tensor: ...
        def sub(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def sub_(self, other: Any) -> Tensor: ...
        def subtract(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def subtract_(self, other: Any) -> Tensor: ...
        def sum(
            self,
            axis: Any = None,
            keepdims: builtins.bool = False,
            *,
            dim: Any = None,
            keepdim: builtins.bool | None = None,
            dtype: Any = None,
        ) -> Tensor: ...
        def swapaxes(self, a: builtins.int, b: builtins.int) -> Tensor: ...
        def take(self, indices: Any, axis: builtins.int | None = None) -> Tensor: ...
        def take_along_axis(self, indices: Any, axis: builtins.int | None) -> Tensor: ...
        def tan(self, *, out: Tensor | None = None) -> Tensor: ...
        def tanh(self, *, out: Tensor | None = None) -> Tensor: ...
        def tanh_(self) -> Any: ...
        def tensordot(self, b: Any, axes: Any = 2) -> Tensor: ...
        def tile(self, reps: Any) -> Tensor: ...
        def to(self, dtype: Any, *, copy: builtins.bool = True, device: Any = None) -> Tensor: ...
        def topk(
            self,
            k: builtins.int,
            axis: Any = -1,
            largest: builtins.bool = True,
            sorted: builtins.bool = True,
            *,
            dim: Any = None,
        ) -> tuple[Tensor, Tensor]: ...
        def transpose(self, *axes: Any) -> Tensor: ...
        def tril(self, k: builtins.int = 0) -> Tensor: ...
        def triu(self, k: builtins.int = 0) -> Tensor: ...
        def true_divide(self, b: Any, *, out: Tensor | None = None) -> Tensor: ...
        def true_divide_(self, other: Any) -> Tensor: ...
        def trunc(self, *, out: Tensor | None = None) -> Tensor: ...
        def unique(self, return_inverse: builtins.bool = False, return_counts: builtins.bool = False) -> Any: ...
        def unsqueeze(self, dim: builtins.int) -> Tensor: ...
        def var(
            self,
            axis: Any = None,
            keepdims: builtins.bool = False,
            *,
            ddof: builtins.float = 0,
            correction: builtins.float | None = None,
            dim: Any = None,
            keepdim: builtins.bool | None = None,
        ) -> Tensor: ...
        def vdot(self, b: Any) -> Tensor: ...
        def view(self, *shape: Any) -> Tensor: ...
        def zero_(self) -> Any: ...
    # ---- end of generated methods ----


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
