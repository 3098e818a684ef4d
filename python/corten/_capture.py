"""corten.compile: capture a step's kernel calls once, then replay them without Python.

A training step in eager mode spends tens of microseconds in Python per step
(graph recording, the backward walk, argument checks) around the same kernel
calls every time. `compile(step, state=[model, opt])` returns a function that
runs `step` eagerly a few times while recording every call into corten._C, checks
that the recording can stand in for the Python, and from then on replays the
recorded calls on the same arrays (the step's temporaries become preallocated
buffers): the same kernels with the same operands, so the same bits.

Per signature of the arguments (tensor shapes and dtypes, the other arguments,
grad mode, the modules' train/eval flags):
1. the first call runs eagerly, recorded;
2. the second copies its tensors into buffers of the step's own, runs eagerly on
   them, recorded: this recording is the one replayed. The two must call the same
   kernels with the same non-array arguments and array layouts (when they differ,
   as a first step that creates the optimizer's state does, the next call is recorded
   and compared to this one, a few times at most), return nothing to Python from
   a kernel, draw no random numbers, read no tensor's value in Python (`item()`,
   `bool()`, ...), run no gradient hooks and write none of its input tensors;
   integer counters in the optimizers' state may advance by one per step (replay
   advances them);
3. the third call replays the recording and runs the step eagerly from the same
   state, and compares the two bit for bit (outputs, inputs, parameters,
   gradients, buffers, optimizer state): whatever the recording missed (NumPy
   arithmetic on the data, a Python side effect on the state) shows up here;
4. later calls replay: hand the tensors to the kernels (a contiguous one in place of
   its buffer, any other copied into it), call the kernels, bind
   each parameter's .grad to its recorded buffer, and return copies of the outputs
   (detached: the replay builds no graph).
A step that fails a check runs eagerly from then on (`reason` says why; a warning
says it once). A module, parameter or state array replaced or added, an optimizer
state dict loaded, a parameter frozen or unfrozen, or a hyperparameter changed (a
learning-rate schedule) makes the next call record again. Python the step runs besides its kernels (logging,
counters of its own) runs only while it is recorded: keep the step to tensor work.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _C
from ._profile import unwrap_kernels, wrap_kernels
from .autograd import engine
from .autograd.grad_mode import is_grad_enabled
from .nn.module import Module
from .optim.optimizer import Optimizer
from .tensor import Tensor

_VALUE_READS = ("item", "tolist", "__bool__", "__float__", "__int__", "__index__")
_MAX_ATTEMPTS = 3  # recordings that may differ from the next before a step is refused
_MAX_SIGNATURES = 8  # recordings kept per compiled step (each holds its buffers)
_recording = threading.Lock()  # one recording at a time (it patches corten._C's functions); others wait
_local = threading.local()  # .active: this thread is recording a step


# ---- recording -------------------------------------------------------------------------


class _Recorder:
    """While installed, every corten._C call made by this thread is run and kept
    (function, arguments); `held` counts the recorder's references to each array so
    that the backward walk can still tell a fresh gradient array (engine._fresh),
    and hooks the backward walk runs are reported to `saw`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Callable, tuple, dict]] = []
        self.held: dict[int, int] = {}
        self.problem: str | None = None
        self._owner = threading.get_ident()
        self._kernels: dict[str, Callable] = {}
        self._reads: dict[str, Callable] = {}

    def __enter__(self) -> _Recorder:
        _recording.acquire()
        _local.active = True
        self._kernels = wrap_kernels(self._kernel)
        for name in _VALUE_READS:
            fn = getattr(Tensor, name, None)
            if fn is not None:
                self._reads[name] = fn
                setattr(Tensor, name, self._read(name, fn))
        engine._recorder = self
        return self

    def __exit__(self, *exc: Any) -> None:
        engine._recorder = None
        unwrap_kernels(self._kernels)
        for name, fn in self._reads.items():
            setattr(Tensor, name, fn)
        _local.active = False
        _recording.release()

    def _flag(self, problem: str) -> None:
        if self.problem is None:
            self.problem = problem

    def saw(self, what: str) -> None:
        """The backward pass ran a Python callback (engine._callback)."""
        if threading.get_ident() == self._owner:
            self._flag(f"the step runs {what} (Python a replay would skip)")

    def _kernel(self, name: str, fn: Callable) -> Callable:
        def recorded(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != self._owner:
                return fn(*args, **kwargs)
            result = fn(*args, **kwargs)
            self.calls.append((name, fn, args, kwargs))
            for a in _arrays_in(args):  # lists of arrays hold references too
                self.held[id(a)] = self.held.get(id(a), 0) + 1
            if name.startswith("random_"):
                self._flag(f"the step draws random numbers ({name})")
            elif result is not None:
                self._flag(f"kernel {name} returns a value to Python")
            return result

        recorded.__name__ = name
        return recorded

    def _read(self, name: str, fn: Callable) -> Callable:
        def read(t: Tensor, *args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() == self._owner:
                self._flag(f"the step reads a tensor's value in Python (Tensor.{name})")
            return fn(t, *args, **kwargs)

        return read


def _layout(a: np.ndarray) -> tuple:
    return (a.shape, a.dtype.str, a.strides)


def _same_value(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and a != a:
        return b != b
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same_arg(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _same_arg(a: Any, b: Any) -> bool:
    if type(a) is np.ndarray:
        return type(b) is np.ndarray and _layout(a) == _layout(b)
    return _same_value(a, b)


def _compare(first: list, second: list) -> str | None:
    """Why two recordings of one step differ, or None."""
    if len(first) != len(second):
        return f"the step called {len(first)} kernels, then {len(second)}"
    for i, ((na, _, aa, ka), (nb, _, ab, kb)) in enumerate(zip(first, second, strict=True)):
        if na != nb:
            return f"kernel {i} was {na}, then {nb}"
        if len(aa) != len(ab) or ka.keys() != kb.keys():
            return f"kernel {i} ({na}) had different arguments"
        for j, (x, y) in enumerate(zip(aa, ab, strict=True)):
            if not _same_arg(x, y):
                return f"argument {j} of kernel {i} ({na}) changed between steps ({_short(x)}, then {_short(y)})"
        for k in ka:
            if not _same_arg(ka[k], kb[k]):
                return f"argument {k} of kernel {i} ({na}) changed between steps"
    return None


def _arrays_in(args: Any) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for a in args:
        if type(a) is np.ndarray:
            out.append(a)
        elif isinstance(a, (list, tuple)):
            out.extend(_arrays_in(a))
    return out


def _direct_uses(buf: np.ndarray, calls: list, outputs: list) -> list | None:
    """(call, argument) positions where a recording passes an input's buffer itself, so
    that a replay may pass the caller's array there instead of copying it in; None when
    the buffer also appears otherwise (a view of it, inside a list, as an output)."""
    uses = []
    for ci, (_, args, kw) in enumerate(calls):
        for ai, x in enumerate(args):
            if x is buf:
                uses.append((ci, ai))
            elif any(_based_on(y, buf) for y in _arrays_in([x])):
                return None
        if any(_based_on(y, buf) for y in _arrays_in(list(kw.values()))):
            return None
    return None if any(_based_on(o, buf) for o in outputs) else uses


def _based_on(a: np.ndarray, buf: np.ndarray) -> bool:
    x: Any = a
    while isinstance(x, np.ndarray):
        if x is buf:
            return True
        x = x.base
    return False


def _short(x: Any) -> str:
    return f"array {x.shape} {x.dtype}" if type(x) is np.ndarray else repr(x)[:40]


# ---- the state a step reads and updates -------------------------------------------------


class _State:
    """The parameters, buffers and optimizer state of a compiled step's `state`."""

    def __init__(self, objects: Sequence[Any]) -> None:
        self.roots: list[Module] = []
        self.optimizers: list[Optimizer] = []
        for o in objects:
            if isinstance(o, Module):
                self.roots.append(o)
            elif isinstance(o, Optimizer):
                self.optimizers.append(o)
            else:
                raise TypeError(f"corten.compile: state must hold Modules and Optimizers, got {type(o).__name__}")
        self.refresh()

    def refresh(self) -> None:
        """Read the modules and parameters again (before each recording: one may have been replaced)."""
        self.modules: list[Module] = [m for r in self.roots for m in r.modules()]
        seen: set = set()
        self.params: list[Tensor] = []
        for p in [p for m in self.modules for p in m._parameters.values() if p is not None] + [
            p for o in self.optimizers for g in o.param_groups for p in g["params"]
        ]:
            if id(p) not in seen:
                seen.add(id(p))
                self.params.append(p)

    def slots(self) -> tuple[list, list, list]:
        """Where each module, parameter and buffer is held, how many each container
        holds, and which container each module and optimizer has: a replaced or added
        one (load_state_dict gives an optimizer a new state dict) means the recording
        no longer fits."""
        attrs: list = [(m, a, getattr(m, a)) for m in self.modules for a in ("_modules", "_parameters", "_buffers")]
        attrs += [(o, a, getattr(o, a)) for o in self.optimizers for a in ("param_groups", "state")]
        containers: list = [c for _, _, c in attrs]
        containers += [g["params"] for o in self.optimizers for g in o.param_groups]
        held = [(c, k, c[k]) for c in containers for k in (c.keys() if isinstance(c, dict) else range(len(c)))]
        return held, [(c, len(c)) for c in containers], attrs

    def buffers(self) -> list[Tensor]:
        return [b for m in self.modules for b in m._buffers.values() if b is not None]

    def training(self) -> tuple:
        return tuple(m.training for m in self.modules)

    def hyper(self) -> list:
        """Every optimizer group's settings (lr, betas, ...), in order."""
        return [(k, v) for o in self.optimizers for g in o.param_groups for k, v in g.items() if k != "params"]

    def opt_entries(self) -> list[tuple[dict, str, Any]]:
        """(per-parameter state dict, key, value) of every optimizer's state."""
        return [(d, k, v) for o in self.optimizers for d in o.state.values() for k, v in d.items()]

    def arrays(self) -> list[np.ndarray]:
        """Every array the step may update in place, in a fixed order."""
        out = [p._a for p in self.params] + [b._a for b in self.buffers()]
        out += [p.grad._a for p in self.params if p.grad is not None]
        out += [v for _, _, v in self.opt_entries() if type(v) is np.ndarray]
        return out

    def snapshot(self) -> tuple:
        grads = [p.grad for p in self.params]
        arrays = self.arrays()
        scalars = [(d, k, v) for d, k, v in self.opt_entries() if type(v) is not np.ndarray]
        return grads, [(a, a.copy()) for a in arrays], scalars

    def restore(self, snap: tuple) -> None:
        grads, arrays, scalars = snap
        for p, g in zip(self.params, grads, strict=True):
            p.grad = g
        for a, saved in arrays:
            np.copyto(a, saved)
        for d, k, v in scalars:
            d[k] = v

    def fingerprint(self) -> list:
        """What the step's result depends on, as bytes and values, to compare two runs."""
        out: list = [None if p.grad is None else p.grad._a.tobytes() for p in self.params]
        out += [p._a.tobytes() for p in self.params] + [b._a.tobytes() for b in self.buffers()]
        for _, k, v in self.opt_entries():
            out.append((k, v.tobytes() if type(v) is np.ndarray else v))
        return out

    def counters(self) -> dict[tuple[int, str], int]:
        return {(id(d), k): v for d, k, v in self.opt_entries() if type(v) is int}


# ---- a recorded step ----------------------------------------------------------------------


class _Plan:
    """One recording, its buffers, and what a replay must restore around it."""

    def __init__(self, first: _Recorder) -> None:
        self.first: _Recorder | None = first
        self.calls: list[tuple[Callable, tuple, dict]] = []
        self.inputs: list[np.ndarray] = []
        self.direct: list = []  # per input: where the recording passes its buffer itself, or None
        self.outputs: Any = None
        self.grads_before: list[tuple[Tensor, Tensor]] = []
        self.grads_after: list[tuple[Tensor, Any]] = []
        self.counters: list[tuple[dict, str]] = []
        self.guards: list = []
        self.verified = False
        self.attempts = 0


def _flatten_outputs(out: Any) -> tuple[str, list] | None:
    if out is None:
        return "none", []
    if isinstance(out, Tensor):
        return "tensor", [out]
    if isinstance(out, (tuple, list)) and all(isinstance(t, Tensor) for t in out):
        return type(out).__name__, list(out)
    return None


def _rebuild(kind: str, arrays: list[np.ndarray]) -> Any:
    if kind == "none":
        return None
    ts = [Tensor._wrap(a.copy()) for a in arrays]
    if kind == "tensor":
        return ts[0]
    return tuple(ts) if kind == "tuple" else ts


class CompiledStep:
    """The function `corten.compile` returns (see the module docstring)."""

    def __init__(self, fn: Callable, state: Sequence[Any]) -> None:
        self.fn = fn
        self._state = _State(state)
        self._plans: dict = {}
        self._lock = threading.Lock()
        self.reason: str | None = None  # why the step runs eagerly, once it does for good
        self.replays = 0

    def __call__(self, *args: Any) -> Any:
        if self.reason is not None or getattr(_local, "active", False):  # inside another step's
            return self.fn(*args)  # recording: run eagerly, so that recording sees the kernels
        key = self._key(args)
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None and plan.verified and self._valid(plan):
                return self._replay(plan, args)
            return self._advance(key, plan, args)

    def _key(self, args: tuple) -> tuple:
        parts: list = [is_grad_enabled(), self._state.training()]
        for a in args:
            if isinstance(a, Tensor):
                if a.requires_grad:
                    raise TypeError("corten.compile: a compiled step's tensor arguments must not require grad")
                parts.append((a.shape, a.dtype.name))
            else:
                try:
                    hash(a)
                except TypeError:
                    raise TypeError(
                        f"corten.compile: a compiled step's arguments must be tensors or hashable values, "
                        f"got {type(a).__name__}"
                    ) from None
                parts.append(("value", type(a).__name__, a))
        return tuple(parts)

    def _give_up(self, reason: str) -> None:
        self.reason = reason
        self._plans.clear()
        warnings.warn(f"corten.compile: {reason}; the step runs eagerly", RuntimeWarning, stacklevel=4)

    # ---- recording and checking ----------------------------------------------------
    def _advance(self, key: tuple, plan: _Plan | None, args: tuple) -> Any:
        if plan is not None and plan.verified:  # a guard failed: record again
            del self._plans[key]
            plan = None
        if plan is None:
            if len(self._plans) >= _MAX_SIGNATURES:
                return self.fn(*args)
            self._state.refresh()
            with _Recorder() as rec:
                out = self.fn(*args)
            if rec.problem:
                self._give_up(rec.problem)
            else:
                self._plans[key] = _Plan(rec)
            return out
        if not plan.calls:
            return self._record_second(plan, args)
        return self._verify(key, plan, args)

    def _record_second(self, plan: _Plan, args: tuple) -> Any:
        st = self._state
        st.refresh()
        bufs = [np.array(a._a, order="C") if isinstance(a, Tensor) else None for a in args]
        call_args = [Tensor._wrap(b) if b is not None else a for a, b in zip(args, bufs, strict=True)]
        before = {id(p): p.grad for p in st.params}
        counters = st.counters()
        originals = [b.tobytes() for b in bufs if b is not None]
        with _Recorder() as rec:
            out = self.fn(*call_args)
        assert plan.first is not None
        if not rec.problem and [b.tobytes() for b in bufs if b is not None] != originals:
            rec._flag("the step writes its input tensors in place (a replay writes copies of them)")
        differs = _compare(plan.first.calls, rec.calls)
        if differs and not rec.problem and plan.attempts < _MAX_ATTEMPTS:  # a first step's own path
            plan.first, plan.attempts = rec, plan.attempts + 1  # (state created lazily): compare the next
            return out
        problem = rec.problem or differs
        flat = _flatten_outputs(out)
        if flat is None:
            problem = problem or "the step must return a Tensor, a tuple or list of Tensors, or None"
        if problem is None:
            problem = self._counters(plan, counters)
        if problem or flat is None:
            self._give_up(problem or "")
            return out
        used = {id(a) for _, _, args_, _ in rec.calls for a in _arrays_in(args_)}
        plan.first = None
        plan.calls = [(fn, a, k) for _, fn, a, k in rec.calls]
        plan.inputs = [b for b in bufs if b is not None]
        plan.outputs = (flat[0], [t._a for t in flat[1]])
        plan.direct = [_direct_uses(b, plan.calls, plan.outputs[1]) for b in plan.inputs]
        plan.grads_before = [(p, g) for p in st.params if (g := before[id(p)]) is not None and id(g._a) in used]
        plan.grads_after = [(p, p.grad) for p in st.params]
        plan.guards = self._guards()
        return _rebuild(flat[0], plan.outputs[1]) if flat[0] != "none" else None

    def _counters(self, plan: _Plan, before: dict) -> str | None:
        """Integer optimizer-state entries that changed must be counters advanced by one."""
        plan.counters = []
        for d, k, v in self._state.opt_entries():
            if type(v) is not int:
                continue
            old = before.get((id(d), k))
            if old is None and v == 1 or old is not None and v == old + 1:
                plan.counters.append((d, k))
            elif old != v:
                return f"optimizer state {k!r} changed from {old} to {v} in one step"
        return None

    def _guards(self) -> list:
        st = self._state
        held, sizes, attrs = st.slots()
        return [
            [(t, t._a, t._rg) for t in st.params + st.buffers()],  # the arrays, and which ones train
            held + [(d, k, v) for d, k, v in st.opt_entries() if type(v) is np.ndarray],
            sizes,
            attrs,
            st.hyper(),
        ]

    def _valid(self, plan: _Plan) -> bool:
        for p, _ in plan.grads_before:  # an accumulating step needs a gradient to add to
            if p.grad is None:
                return False
        tensors, entries, sizes, attrs, hyper = plan.guards
        for owner, name, c in attrs:
            if getattr(owner, name) is not c:
                return False
        for t, a, rg in tensors:
            if t._a is not a or t._rg != rg:
                return False
        for c, k, v in entries:
            if c[k] is not v:
                return False
        for c, n in sizes:
            if len(c) != n:
                return False
        return self._state.hyper() == hyper

    def _verify(self, key: tuple, plan: _Plan, args: tuple) -> Any:
        st = self._state
        snap = st.snapshot()
        replayed = self._replay(plan, args)
        replay_print = st.fingerprint() + [a._a.tobytes() for a in args if isinstance(a, Tensor)]
        st.restore(snap)
        out = self.fn(*args)
        flat, again = _flatten_outputs(out), _flatten_outputs(replayed)
        eager_outs = [] if flat is None else [t._a.tobytes() for t in flat[1]]
        replay_outs = [] if again is None else [t._a.tobytes() for t in again[1]]
        eager_print = st.fingerprint() + [a._a.tobytes() for a in args if isinstance(a, Tensor)]
        if eager_outs != replay_outs or replay_print != eager_print:
            self._give_up("replaying the recorded kernels did not reproduce the eager step bit for bit "
                          "(the step computes something outside corten's kernels)")
        else:
            plan.verified = True
        self.replays -= 1  # the check's replay
        return out

    # ---- replay ---------------------------------------------------------------------
    def _replay(self, plan: _Plan, args: tuple) -> Any:
        i = 0
        calls = plan.calls
        for a in args:
            if isinstance(a, Tensor):
                buf, uses, arr = plan.inputs[i], plan.direct[i], a._a
                if uses is not None and arr.strides == buf.strides and arr.flags.aligned:
                    if calls is plan.calls:  # the caller's array in place of the buffer: no copy
                        calls = list(calls)
                    for ci, ai in uses:
                        fn, ca, kw = calls[ci]
                        calls[ci] = (fn, ca[:ai] + (arr,) + ca[ai + 1:], kw)
                else:
                    _C.copy(arr, buf)
                i += 1
        for p, g in plan.grads_before:  # a step that accumulates reads .grad: into its buffer
            if p.grad is not g:
                np.copyto(g._a, p.grad._a)  # type: ignore[union-attr]
                p.grad = g
        for fn, a, kw in calls:
            fn(*a, **kw)
        for p, g in plan.grads_after:
            p.grad = g
        for d, k in plan.counters:
            d[k] += 1
        self.replays += 1
        kind, arrays = plan.outputs
        return _rebuild(kind, arrays)


def compile(fn: Callable, *, state: Sequence[Any] = ()) -> CompiledStep:  # noqa: A001 (corten.compile)
    """Capture `fn`'s kernel calls and replay them (see the module docstring).

    `state`: the Modules and Optimizers the step reads and updates (their
    parameters' .grad are bound to the recording's buffers after each replay, and
    a changed hyperparameter or replaced array makes the step record again)."""
    if not callable(fn):
        raise TypeError(f"corten.compile: expected a function, got {type(fn).__name__}")
    return CompiledStep(fn, list(state))
