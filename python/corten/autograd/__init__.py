"""Reverse-mode automatic differentiation: backward(), grad(), Function, gradcheck."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import function as _function
from .engine import run_backward
from .function import Context, Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled


def _seed_grads(outputs: Sequence[Any], grad_outputs: Sequence[Any] | None) -> list:
    Tensor = _function._Tensor or _function._load_tensor_type()  # noqa: N806 (an import in every call costs)
    seeds = []
    for i, out in enumerate(outputs):
        g = None if grad_outputs is None else grad_outputs[i]
        if g is None:
            if out.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; output {i} has shape "
                    f"{tuple(out.shape)}: pass a gradient"
                )
            a = out._a
            g = Tensor._wrap(np.ones(a.shape, a.dtype))  # ones_like(out), without its argument handling
        elif tuple(g.shape) != tuple(out.shape):
            raise RuntimeError(f"gradient has shape {tuple(g.shape)} but output {i} has shape {tuple(out.shape)}")
        seeds.append(g)
    return seeds


def _check_outputs(outputs: Sequence[Any]) -> None:
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )


def backward(
    tensors: Sequence[Any],
    grad_tensors: Sequence[Any] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Sequence[Any] | None = None,
) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's .grad."""
    tensors = list(tensors)
    _check_outputs(tensors)
    seeds = _seed_grads(tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        grads = run_backward(tensors, seeds, retain_graph, create_graph, capture=list(inputs))
        for t, g in zip(inputs, grads, strict=False):
            if g is not None:
                t.grad = g if t.grad is None else t.grad + g
        return
    run_backward(tensors, seeds, retain_graph, create_graph)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Gradients of outputs with respect to inputs, returned (not stored in .grad)."""
    from ..tensor import Tensor

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    _check_outputs(outputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"input {i} of grad() does not require grad")
    seeds = _seed_grads(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    grads = run_backward(outputs, seeds, retain_graph, create_graph, capture=inputs)
    for i, g in enumerate(grads):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"one of the differentiated tensors (input {i}) appears to not have been used in the graph; "
                "set allow_unused=True if this is the desired behavior"
            )
    return tuple(grads)


from .gradcheck import gradcheck  # noqa: E402

__all__ = [
    "Context", "Function", "backward", "grad", "gradcheck", "no_grad", "enable_grad",
    "set_grad_enabled", "is_grad_enabled",
]
