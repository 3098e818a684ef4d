"""Reverse-mode differentiation: walk the graph from the outputs back to the leaves.

Nodes are Functions (see function.py). An edge is `(node, output_index)` for a
computed tensor or the leaf tensor itself. The order is found iteratively
(dependency counts, no recursion), so graphs of any depth work.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from . import function as _function
from .grad_mode import set_grad_enabled

_state = threading.local()  # the callbacks queued during this thread's running backward


def queue_callback(fn: Callable[[], None]) -> None:
    """Run fn once the running backward pass has walked the whole graph (and every
    leaf has its gradient): DistributedDataParallel waits for its gradient
    exchanges there. Only valid from inside a backward pass (e.g. from a hook)."""
    queue = getattr(_state, "callbacks", None)
    if queue is None:
        raise RuntimeError("queue_callback can only be called during a backward pass")
    queue.append(fn)


def _collect(roots: list) -> tuple[dict, dict]:
    """Count, for every node reachable from roots, how many edges lead into it; and,
    for each leaf with post-accumulate hooks, how many edges lead into it (the
    hooks run once, after the last of its gradients has been accumulated)."""
    deps: dict = {}
    leaf_edges: dict = {}
    stack = [r for r in roots]
    seen = set(id(r) for r in roots)
    for r in roots:
        deps.setdefault(r, 0)
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if type(edge) is tuple:
                nxt = edge[0]
                deps[nxt] = deps.get(nxt, 0) + 1
                if id(nxt) not in seen:
                    seen.add(id(nxt))
                    stack.append(nxt)
            elif edge is not None and edge._post_acc_hooks:
                entry = leaf_edges.get(id(edge))
                if entry is None:
                    leaf_edges[id(edge)] = [1, False]
                else:
                    entry[0] += 1
    return deps, leaf_edges


def _leaf_edge_done(leaf: Any, delivered: bool, leaf_edges: dict) -> None:
    """One edge into a leaf with post-accumulate hooks has been handled; after its
    last one, run the hooks if any gradient arrived."""
    entry = leaf_edges[id(leaf)]
    entry[0] -= 1
    entry[1] = entry[1] or delivered
    if entry[0] == 0 and entry[1]:
        _callback("a post-accumulate-grad hook")
        for hook in list(leaf._post_acc_hooks):
            hook(leaf)


def run_backward(
    outputs: Sequence[Any],
    grad_outputs: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[Any] | None = None,
) -> list:
    """Propagate grad_outputs from outputs. With `capture` (the inputs of
    autograd.grad), return their gradients instead of accumulating into .grad."""
    outer = getattr(_state, "callbacks", None)
    callbacks: list[Callable[[], None]] = []
    _state.callbacks = callbacks
    try:
        result = _run(outputs, grad_outputs, retain_graph, create_graph, capture)
    finally:
        _state.callbacks = outer
    for fn in callbacks:  # not after a failed pass: the next backward starts afresh
        fn()
    return result


def _run(
    outputs: Sequence[Any],
    grad_outputs: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[Any] | None,
) -> list:
    Tensor = _function._Tensor or _function._load_tensor_type()  # noqa: N806 (no import in every call)
    captured: dict = {}
    cap_leaf: dict | None = None
    cap_node: dict = {}
    if capture is not None:
        cap_leaf = {}
        for i, t in enumerate(capture):
            if t._grad_fn is None:
                cap_leaf[id(t)] = i
            else:
                cap_node[(id(t._grad_fn), t._out_index)] = i
                t._grad_fn._captured = True  # its gradient must arrive as it is (no fused mask)

    # Gradients waiting at each node, one slot per output.
    pending: dict = {}
    roots = []
    with set_grad_enabled(create_graph):
        for out, g in zip(outputs, grad_outputs, strict=False):
            fn = out._grad_fn
            if fn is None:  # a leaf: its gradient is the seed itself
                _deliver_leaf(out, g, create_graph, captured, cap_leaf)
                if capture is None and out._post_acc_hooks:
                    _callback("a post-accumulate-grad hook")
                    for hook in list(out._post_acc_hooks):
                        hook(out)
                continue
            slots = pending.get(fn)
            if slots is None:
                slots = pending[fn] = [None] * fn.n_outputs
                roots.append(fn)
            i = out._out_index
            slots[i] = g if slots[i] is None else slots[i] + g
        deps, leaf_edges = _collect(roots)
        if capture is not None:
            leaf_edges = {}  # autograd.grad accumulates nothing: no post-accumulate hooks
        ready = [r for r in roots if deps[r] == 0]
        while ready:
            node = ready.pop()
            grads = pending.pop(node, None) or [None] * node.n_outputs
            for i in range(node.n_outputs):
                g = grads[i]
                if g is None:
                    continue
                if node._hooks and i in node._hooks:
                    _callback("a gradient hook")
                    for hook in node._hooks[i]:
                        new = hook(g)
                        if new is not None:
                            g = new
                    grads[i] = g
                if node._retain and i in node._retain:
                    _callback("retain_grad")
                    t = node._retain[i]()
                    if t is not None:
                        t.grad = g if create_graph else g.detach()
                if cap_node:
                    key = (id(node), i)
                    if key in cap_node:
                        captured[cap_node[key]] = g
            if (grads[0] is None) if len(grads) == 1 else all(g is None for g in grads):
                in_grads: tuple = (None,) * len(node.next_edges)
            else:
                res = type(node).backward(node, *grads)
                in_grads = res if isinstance(res, tuple) else (res,)
                if len(in_grads) < len(node.next_edges):
                    raise RuntimeError(
                        f"function {node.name()} returned {len(in_grads)} gradients, "
                        f"expected {len(node.next_edges)}"
                    )
            if not retain_graph:
                node._release()
            builtin = _is_builtin(type(node))
            for edge, g in zip(node.next_edges, in_grads, strict=False):
                if edge is None:
                    continue
                if type(edge) is tuple:
                    nxt, idx = edge
                    if g is not None:
                        if not isinstance(g, Tensor):
                            raise TypeError(f"{node.name()} returned a {type(g).__name__} as a gradient")
                        slots = pending.get(nxt)
                        if slots is None:
                            slots = pending[nxt] = [None] * nxt.n_outputs
                        slots[idx] = g if slots[idx] is None else slots[idx] + g
                    deps[nxt] -= 1
                    if deps[nxt] == 0:
                        ready.append(nxt)
                else:
                    if g is not None:
                        owned = builtin and _fresh(g, grads, in_grads)
                        _deliver_leaf(edge, g, create_graph, captured, cap_leaf, owned)
                    if id(edge) in leaf_edges:
                        _leaf_edge_done(edge, g is not None, leaf_edges)
    if capture is None:
        return []
    return [captured.get(i) for i in range(len(capture))]


_BUILTIN: dict = {}  # Function subclass -> defined inside corten (its gradients are fresh arrays)


def _is_builtin(cls: type) -> bool:
    b = _BUILTIN.get(cls)
    if b is None:
        b = _BUILTIN[cls] = cls.__module__.startswith("corten.")
    return b


def _array_refs(holder: Any) -> int:
    return sys.getrefcount(holder._a)


class _Holder:
    def __init__(self) -> None:
        self._a = bytearray(1)


# What _array_refs says when one object holds the array (measured, not assumed:
# interpreters count the call's own references differently).
_EXCLUSIVE_REFS = _array_refs(_Holder())


# While corten.compile records a step, its recorder: `held` (array id -> references
# it keeps) and `saw(what)` (a Python callback ran, which a replay would skip).
_recorder: Any = None


def _callback(what: str) -> None:
    if _recorder is not None:
        _recorder.saw(what)


def _fresh(g: Any, grads: list, in_grads: tuple) -> bool:
    """Whether a gradient from a built-in backward is a new array nothing else
    holds, so a leaf may keep it as .grad without a copy (PyTorch steals such
    buffers too). Not when it is one of the node's incoming gradients passed
    through, goes to two edges, is a view, or its array is referenced elsewhere
    (reference count as for an array held by one object only)."""
    refs = _array_refs(g)  # before any local name holds the array
    if _recorder is not None:  # a recording step keeps its kernels' arguments
        refs -= _recorder.held.get(id(g._a), 0)
    if refs != _EXCLUSIVE_REFS:
        return False
    a = g._a
    if a.base is not None or not (a.flags.writeable and a.flags.c_contiguous):
        return False
    for x in grads:  # plain loops: these run for every leaf of every step
        if x is g:
            return False
    uses = 0
    for x in in_grads:
        if x is g:
            uses += 1
    return uses == 1


def _deliver_leaf(
    leaf: Any, g: Any, create_graph: bool, captured: dict, cap_leaf: dict | None, owned: bool = False
) -> None:
    """Hand a leaf its gradient: run its hooks, then either capture it (for
    autograd.grad) or accumulate it into .grad. `owned`: g may become .grad
    itself (see _fresh)."""
    if leaf._hooks:
        _callback("a gradient hook")
        owned = False  # a hook may have kept g
        for hook in leaf._hooks:
            new = hook(g)
            if new is not None:
                g = new
    if cap_leaf is not None:
        i = cap_leaf.get(id(leaf))
        if i is not None:
            captured[i] = g if captured.get(i) is None else captured[i] + g
        return
    if g.shape != leaf.shape:
        raise RuntimeError(f"gradient of shape {tuple(g.shape)} does not match leaf of shape {tuple(leaf.shape)}")
    if leaf.grad is None:
        if create_graph or (owned and g._grad_fn is None and not g._rg):
            leaf.grad = g  # owned: a fresh array, outside any graph, that nothing else holds
        else:
            leaf.grad = g.detach() if owned else g.detach().copy()
    elif create_graph:
        leaf.grad = leaf.grad + g
    else:
        leaf.grad._iadd_data(g)
