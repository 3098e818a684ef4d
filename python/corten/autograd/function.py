"""The autograd node: every differentiable op is a Function with forward and backward.

Built-in ops and user-defined ones share this class. `apply` runs forward
without recording, then, if any input needs a gradient, makes the context the
`grad_fn` of the outputs and remembers where each input's gradient goes:
`(node, output_index)` for a computed tensor, the tensor itself for a leaf.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .grad_mode import _state

_Tensor: Any = None  # corten.Tensor, imported on first use (tensor.py imports this package)


def _load_tensor_type() -> Any:
    global _Tensor
    from ..tensor import Tensor

    _Tensor = Tensor
    return Tensor


class Context:
    """What forward leaves for backward. Saved tensors are checked against
    in-place changes (version counters) when backward reads them."""

    _saved: tuple = ()
    _versions: tuple = ()
    _freed = False
    needs_input_grad: tuple = ()

    if TYPE_CHECKING:  # forward keeps whatever backward needs as plain attributes (ctx.shape, ...)

        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...

    def save_for_backward(self, *tensors: Any) -> None:
        self._saved = tensors
        self._versions = tuple([0 if t is None else t._bump_version(0) for t in tensors])

    @property
    def saved_tensors(self) -> tuple:
        for i in range(len(self._saved) if not self._freed else 1):
            self.saved_tensor(i)
        return self._saved

    def saved_tensor(self, i: int) -> Any:
        """The i-th saved tensor, checked alone: a node that saved alternatives
        (an input and its output) reads only the one it needs."""
        if self._freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved tensors "
                "after they have already been freed). Specify retain_graph=True if you need to "
                "backward through the graph a second time."
            )
        t, v = self._saved[i], self._versions[i]
        if t is not None and t._bump_version(0) != v:
            raise RuntimeError(
                f"one of the tensors needed for gradient computation has been modified by an "
                f"inplace operation: saved tensor {i} of {type(self).__name__} with shape "
                f"{tuple(t.shape)} is at version {t._bump_version(0)}; expected version {v} instead"
            )
        return t

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self._non_diff = {id(t) for t in tensors}


class Function(Context):
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)`.

    backward returns one gradient (or None) per forward argument; gradients of
    non-tensor arguments are ignored. Backward formulas should use corten's
    differentiable ops so that `create_graph=True` gives higher-order gradients.
    """

    # Per node, filled by apply: where each input's gradient goes.
    next_edges: tuple = ()
    n_outputs = 1
    _hooks: dict | None = None
    _retain: dict | None = None
    _captured = False  # an output's gradient is returned by autograd.grad

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, *grads: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        # Kept lean: for small tensors this bookkeeping costs more than the kernel.
        ctx = cls()
        state = _state
        if not state.enabled:
            return cls.forward(ctx, *args, **kwargs)
        tensor_type = _Tensor or _load_tensor_type()
        needs = tuple([type(a) is tensor_type and a._rg for a in args])
        if True not in needs:  # nothing to record (and views it makes are ordinary views)
            return cls.forward(ctx, *args, **kwargs)
        state.enabled = False
        try:
            out = cls.forward(ctx, *args, **kwargs)
        finally:
            state.enabled = True
        ctx.needs_input_grad = needs
        ctx.next_edges = tuple([_edge(a) if need else None for a, need in zip(args, needs, strict=True)])
        non_diff = getattr(ctx, "_non_diff", ())
        if isinstance(out, tuple):
            ctx.n_outputs = len(out)
            for i, t in enumerate(out):
                if isinstance(t, tensor_type) and id(t) not in non_diff and t.dtype.is_floating_point:
                    t._attach(ctx, i)
        elif id(out) not in non_diff and out._a.dtype.kind == "f":
            out._grad_fn, out._out_index, out._rg = ctx, 0, True  # out._attach(ctx, 0), inlined
            if out._nograd_view:
                out._nograd_view = False
        return out

    def name(self) -> str:
        return type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    def register_hook(self, index: int, fn: Any) -> None:
        if self._hooks is None:
            self._hooks = {}
        self._hooks.setdefault(index, []).append(fn)

    def _release(self) -> None:
        if self._saved:  # a node that saved nothing can run again, as in PyTorch
            self._saved = ()
            self._freed = True


def _edge(t: Any) -> Any:
    if t._multi_view and t._vc[0] != t._multi_version:
        raise RuntimeError(
            "a view is one of several returned by one call (split, chunk) and its base or another view "
            "of its base has been modified in place since; as in PyTorch it cannot be used in a recorded "
            "op: split again after the write, or clone() the piece first"
        )
    fn = t._grad_fn
    return t if fn is None else (fn, t._out_index)
