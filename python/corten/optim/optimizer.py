"""Optimizer base: parameter groups, per-parameter state, zero_grad, state dicts.

Subclasses implement `_update(p, grad, group, state)`, which hands the raw
arrays (parameter, gradient, state) to one in-place C++ kernel (cpp/optim.cpp).
Updates happen outside autograd but bump each parameter's version counter, as any
in-place write does: backward through a graph that saved the old values then raises.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import _C
from ..ops._common import contiguous_array
from ..tensor import Tensor

EMPTY = {np.dtype(np.float32): np.empty(0, np.float32), np.dtype(np.float64): np.empty(0, np.float64)}


class Optimizer:
    defaults: dict

    def __init__(self, params: Iterable[Any], defaults: dict) -> None:
        self.defaults = dict(defaults)
        self.state: dict = {}
        self.param_groups: list[dict] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
            if p.dtype.kind != "f":
                raise TypeError(f"optimizer can only optimize floating point tensors, got {p.dtype}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params) or len({id(p) for p in params}) != len(params):
            raise ValueError("some parameters appear in more than one parameter group")
        group["params"] = params
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict) -> None:
        if group.get("lr", 0) < 0:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if group.get("weight_decay", 0) < 0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    ga = p.grad._a  # a kernel, not NumPy: corten.compile replays it
                    _C.copy(np.zeros((), ga.dtype), ga)
                    p.grad._bump_version()

    def step(self, closure: Any = None) -> Any:
        """One update of every parameter that has a gradient."""
        loss = None
        if closure is not None:
            from ..autograd.grad_mode import enable_grad

            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, states = [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad._a
                if g.dtype != p._a.dtype or not g.flags.c_contiguous:
                    g = contiguous_array(g, p._a.dtype)
                if not p._a.flags.c_contiguous:
                    raise ValueError(f"optimizer: parameter of shape {p.shape} is not contiguous")
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {}
                params.append(p)
                grads.append(g)
                states.append(state)
            if params:
                self._update_group([p._a for p in params], grads, group, states)
                for p in params:
                    p._bump_version()
        return loss

    def _update_group(self, params: list, grads: list, group: dict, states: list) -> None:
        """Update every parameter of a group that has a gradient (raw arrays, one
        state dict each). Built-in optimizers do it in one kernel call (a
        multi-tensor step); the default updates one parameter at a time."""
        for p, g, state in zip(params, grads, states, strict=True):
            self._update(p, g, group, state)

    def _update(self, p: np.ndarray, g: np.ndarray, group: dict, state: dict) -> None:
        raise NotImplementedError

    @staticmethod
    def _zeros(state: dict, name: str, p: np.ndarray) -> np.ndarray:
        a = state.get(name)
        if a is None:
            a = state[name] = np.zeros_like(p)
        return a

    # ---- state dicts -------------------------------------------------------------
    # Names of the per-parameter state this optimizer keeps (None: not checked).
    _state_names: frozenset | None = None

    def state_dict(self) -> dict:
        """{"state": {index: {name: Tensor}}, "param_groups": [{..., "params": [index]}]},
        with parameters numbered in group order and `step` a 0-d float32 tensor, as
        torch.optim does. corten.save / corten.load store and restore it."""
        index: dict = {}
        groups = []
        for g in self.param_groups:
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: copy.deepcopy(v) for k, v in g.items() if k != "params"}, "params": ids})
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: _state_tensor(k, v) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore state_dict() output (from corten or torch.optim). Everything is
        checked first: on error nothing changes."""
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError("optimizer state dict must have 'state' and 'param_groups' entries")
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(groups)} parameter groups; "
                f"this optimizer has {len(self.param_groups)}"
            )
        params = {}
        for mine, theirs in zip(self.param_groups, groups, strict=False):
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    "of optimizer's group"
                )
            for p, i in zip(mine["params"], theirs["params"], strict=False):
                params[int(i)] = p
        new_state = {}
        for i, st in state_dict["state"].items():
            if int(i) not in params:
                raise ValueError(f"optimizer state for parameter {i}, which no parameter group lists")
            p = params[int(i)]
            names = self._state_names
            unknown = sorted(set(st) - names) if names is not None else []
            if unknown:
                raise ValueError(
                    f"optimizer state for parameter {i} has entries {unknown} that "
                    f"{type(self).__name__} does not keep (a state dict of another optimizer?)"
                )
            new_state[p] = {k: _as_state(k, v, p) for k, v in st.items() if v is not None}
        self.state = new_state
        for mine, theirs in zip(self.param_groups, groups, strict=False):
            mine.update({k: copy.deepcopy(v) for k, v in theirs.items() if k != "params"})

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params")
        return "\n".join(lines) + "\n)"


def _state_tensor(name: str, v: Any) -> Any:
    if name == "step":  # torch.optim keeps the step count as a 0-d float32 tensor
        return Tensor._wrap(np.array(v, np.float32))
    if isinstance(v, np.ndarray):
        return Tensor._wrap(v.copy())
    return v


def _as_state(name: str, v: Any, p: Tensor) -> Any:
    if isinstance(v, Tensor) or hasattr(v, "__array__") and not np.isscalar(v):
        a = np.asarray(v.detach().cpu().numpy() if hasattr(v, "cpu") else v)
        if a.ndim == 0:
            v = a.item()
        elif a.shape != p.shape:
            raise ValueError(
                f"optimizer state {name!r} of shape {a.shape} does not match its parameter {p.shape}"
            )
        else:
            return np.array(a, dtype=p._a.dtype, order="C")
    if name == "step":
        if not isinstance(v, (int, float, np.number)) or v != v or v < 0 or int(v) != v:
            raise ValueError(f"optimizer state 'step' must be a non-negative whole number, got {v!r}")
        return int(v)
    return v
