"""SGD, RMSprop, Adam and AdamW. A step updates every parameter of a group in one
C++ call (sgd_steps, rmsprop_steps, adam_steps: a multi-tensor step, one parallel
region over all their elements); `_update` keeps the one-parameter form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import _C
from .optimizer import EMPTY, Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay."""

    _state_names = frozenset({"momentum_buffer"})

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        if momentum < 0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(
            params,
            dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov),
        )

    def _update(self, p: np.ndarray, g: np.ndarray, group: dict, state: dict) -> None:
        mom = group["momentum"]
        first = False
        buf = EMPTY[p.dtype]
        if mom != 0:
            buf = state.get("momentum_buffer")
            first = buf is None
            if first:
                buf = state["momentum_buffer"] = np.empty_like(p)
        _C.sgd_step(
            p, g, buf, group["lr"], mom, group["dampening"], group["nesterov"], group["weight_decay"], first
        )

    def _update_group(self, params: list, grads: list, group: dict, states: list) -> None:
        if type(self)._update is not SGD._update:  # a subclass's own update: one parameter at a time
            return super()._update_group(params, grads, group, states)
        bufs, firsts = [], []
        for p, state in zip(params, states, strict=True):
            buf = EMPTY[p.dtype]
            first = False
            if group["momentum"] != 0:
                buf = state.get("momentum_buffer")
                first = buf is None
                if first:
                    buf = state["momentum_buffer"] = np.empty_like(p)
            bufs.append(buf)
            firsts.append(first)
        _C.sgd_steps(
            params,
            grads,
            bufs,
            group["lr"],
            group["momentum"],
            group["dampening"],
            group["nesterov"],
            group["weight_decay"],
            firsts,
        )


class RMSprop(Optimizer):
    _state_names = frozenset({"step", "square_avg", "grad_avg", "momentum_buffer"})

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        if alpha < 0 or eps < 0 or momentum < 0:
            raise ValueError(f"Invalid alpha/eps/momentum: {alpha}, {eps}, {momentum}")
        super().__init__(
            params,
            dict(
                lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered
            ),
        )

    def _update(self, p: np.ndarray, g: np.ndarray, group: dict, state: dict) -> None:
        state["step"] = state.get("step", 0) + 1
        sq = self._zeros(state, "square_avg", p)
        ga = self._zeros(state, "grad_avg", p) if group["centered"] else EMPTY[p.dtype]
        buf = self._zeros(state, "momentum_buffer", p) if group["momentum"] > 0 else EMPTY[p.dtype]
        _C.rmsprop_step(
            p,
            g,
            sq,
            ga,
            buf,
            group["lr"],
            group["alpha"],
            group["eps"],
            group["weight_decay"],
            group["momentum"],
            group["centered"],
        )

    def _update_group(self, params: list, grads: list, group: dict, states: list) -> None:
        if type(self)._update is not RMSprop._update:  # a subclass's own update: one parameter at a time
            return super()._update_group(params, grads, group, states)
        sqs, gas, bufs = [], [], []
        centered, momentum = group["centered"], group["momentum"] > 0
        for p, state in zip(params, states, strict=True):
            state["step"] = state.get("step", 0) + 1
            sqs.append(self._zeros(state, "square_avg", p))
            gas.append(self._zeros(state, "grad_avg", p) if centered else EMPTY[p.dtype])
            bufs.append(self._zeros(state, "momentum_buffer", p) if momentum else EMPTY[p.dtype])
        _C.rmsprop_steps(
            params,
            grads,
            sqs,
            gas,
            bufs,
            group["lr"],
            group["alpha"],
            group["eps"],
            group["weight_decay"],
            group["momentum"],
            centered,
        )


class Adam(Optimizer):
    """Adam; weight_decay is added to the gradient (L2). AdamW decouples it."""

    _decoupled = False
    _state_names = frozenset({"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"})

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"Invalid beta parameters: {betas}")
        if eps < 0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        super().__init__(
            params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        )

    def _update(self, p: np.ndarray, g: np.ndarray, group: dict, state: dict) -> None:
        state["step"] = step = int(state.get("step", 0)) + 1
        m = self._zeros(state, "exp_avg", p)
        v = self._zeros(state, "exp_avg_sq", p)
        vmax = self._zeros(state, "max_exp_avg_sq", p) if group["amsgrad"] else EMPTY[p.dtype]
        b1, b2 = group["betas"]
        _C.adam_step(
            p,
            g,
            m,
            v,
            vmax,
            group["lr"],
            b1,
            b2,
            group["eps"],
            group["weight_decay"],
            self._decoupled,
            int(step),
        )

    def _update_group(self, params: list, grads: list, group: dict, states: list) -> None:
        if type(self)._update is not Adam._update:  # a subclass's own update: one parameter at a time
            return super()._update_group(params, grads, group, states)
        ms, vs, vmaxs, steps = [], [], [], []
        for p, state in zip(params, states, strict=True):
            step = state.get("step")
            if type(step) is not np.ndarray:  # new, or loaded: a count the kernel advances in place
                step = state["step"] = np.array(float(step or 0), np.float64)
            steps.append(step)
            ms.append(self._zeros(state, "exp_avg", p))
            vs.append(self._zeros(state, "exp_avg_sq", p))
            vmaxs.append(self._zeros(state, "max_exp_avg_sq", p) if group["amsgrad"] else EMPTY[p.dtype])
        b1, b2 = group["betas"]
        _C.adam_steps(
            params,
            grads,
            ms,
            vs,
            vmaxs,
            group["lr"],
            b1,
            b2,
            group["eps"],
            group["weight_decay"],
            self._decoupled,
            steps,
        )


class AdamW(Adam):
    _decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
