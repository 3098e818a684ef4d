"""Views x in-place ops x autograd: random small programs run on corten and on PyTorch (float64).

Each example is a program over a pool of live tensors: leaves (most require grad),
non-leaf bases, views of them (slices, reshape/view, transposes, expand,
squeeze/unsqueeze, flatten, chunk, detach), copies (advanced indexing),
out-of-place ops, and in-place writes on bases and on views (+= -= *= /=,
__setitem__, copy_, zero_, fill_, clamp_, relu_ ...), some under no_grad().
PyTorch is the oracle: the program is drawn step by step with PyTorch's tensors
giving the shapes, and every step runs in both libraries:

- if PyTorch raises at a step, corten must raise at that step or at backward(),
  unless PyTorch's message is in TORCH_ONLY_REFUSALS, the documented cases where
  corten computes instead, and an independent oracle confirms corten's answer;
- if corten raises where PyTorch does not, the message must match REFUSALS, the
  documented limits of corten;
- otherwise, after every step, every live tensor has the same shape, values and
  requires_grad in both, and after backward() of a weighted sum of some final
  tensors the leaves have the same .grad.

A failure prints the program for both libraries, line by line: a reproducer.
The second half of the file replays known cases as fixed programs.
"""

import os
import re
import warnings
from dataclasses import dataclass

import corten as ct
import numpy as np
import pytest
from hypothesis import assume, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

PROFILE = os.environ.get("CORTEN_HYPOTHESIS_PROFILE", "ci")
N = {"ci": 200, "fuzz": 5000, "asan": 10}[PROFILE]
MAX_STEPS = 8
RTOL, ATOL = 1e-10, 1e-12

# corten raising where PyTorch computes is allowed only for these documented limits
# (message patterns). Each is a category of "corten refuses".
REFUSALS = {
    # Outputs that repeat memory (stride 0, from expand) are never written (docs/reliability.md);
    # PyTorch allows fill_, index_put_ and copies of a single value there.
    "write into memory repeated by expand":
        re.compile(r"has elements that share memory \(a broadcast view\?\); it cannot be written"
                   r"|more than one element of the written-to tensor refers to a single memory location"),
}

# PyTorch raising where corten computes is allowed only for these documented cases
# (PyTorch's message patterns), and only when an independent oracle confirms corten.
TORCH_ONLY_REFUSALS = {
    # PyTorch saves the output of some ops (exp, tanh, sigmoid, sqrt, the result of
    # `y *= y` ...) and refuses backward() once that output is written in place; corten
    # saves what it needs from the inputs and differentiates the values it computed.
    # Oracle: central finite differences of the loss (corten re-running the program
    # without autograd on shifted leaves; forward values were compared with PyTorch's).
    "saved tensor modified in place":
        re.compile(r"one of the variables needed for gradient computation has been modified "
                   r"by an inplace operation"),
    # `y[1:] += y[:-1]`: corten follows NumPy, the result as if the operand were copied
    # first (docs/reliability.md). Oracle: PyTorch running the step with its operand
    # cloned (Step.torch_copied); the program then goes on and is compared as usual.
    "partly overlapping in-place write":
        re.compile(r"some elements of the input tensor and the written-to tensor refer to a single "
                   r"memory location"),
}

# After a partly overlapping write, PyTorch raised (at that step) and corten may raise at
# backward() as before: when the write saved its operand, a view of the memory it wrote
# (`y[1:] *= y[:-1]`), corten refuses backward() like any saved tensor written since.
OVERLAP_THEN_BACKWARD = re.compile(r"needed for gradient computation has been modified by an inplace operation")

# Finite differences of the loss (float64). Central differences at FD_EPS and FD_EPS / 10
# that disagree mean a kink or a blow-up within FD_EPS of the point: the example is dropped.
FD_EPS = 1e-6
FD_RTOL, FD_ATOL = 1e-5, 1e-7
# Programs where the gradient is not the derivative of the values: autograd deliberately
# does not follow writes made under no_grad(), through detach()ed tensors or by optimizers.
GRAPH_CUTS = re.compile(r"no_grad|detach|optim")
# Steps with kinks, where differences and autograd's one-sided conventions disagree.
KINKS = re.compile(r"clamp|relu")

# Exceptions that count as "corten raised" (with a non-empty message); anything
# else (AttributeError, KeyError ...) is a crash of corten's own code.
ERRORS = (RuntimeError, ValueError, IndexError, TypeError)

VALUES = st.integers(-8, 8).map(lambda i: i / 4)  # exact in binary, short in reproducers
DIVISORS = st.sampled_from([0.5, 2.0, -0.5, -2.0, 4.0])
# Clamp bounds off the grid of VALUES, so no element sits on a bound (where the
# gradient is a matter of convention) unless an earlier clamp_ put it there.
BOUNDS = st.sampled_from([-1.3, -0.3, 0.3, 1.3])


# ---- programs: one line of Python per step, spelled for each library ------------------

@dataclass(frozen=True)
class Step:
    ct: str
    torch: str
    # For in-place writes with a tensor operand: PyTorch's spelling with the operand
    # cloned first, what corten computes when the operand overlaps the written tensor.
    torch_copied: str | None = None


def both(template: str) -> Step:
    """A step spelled the same in both libraries; `L.` names the library module."""
    return Step(template.replace("L.", "ct."), template.replace("L.", "torch."))


def weights(lib):
    """W(t): fixed weights of t's shape (all different, none zero) for the loss."""
    return lambda t: lib.tensor(np.cos(np.arange(1, t.numel() + 1)).reshape(tuple(t.shape)))


# What a printed program needs in front of it to run on its own.
PREAMBLE = {
    lib: f"import {imp}, numpy as np\n"
         f"W = lambda t: {lib}.tensor(np.cos(np.arange(1, t.numel() + 1)).reshape(tuple(t.shape)))"
    for lib, imp in (("ct", "corten as ct"), ("torch", "torch"))
}


class World:
    """One library's namespace; runs program lines in it."""

    def __init__(self, name: str, module) -> None:
        self.name = name
        self.tensor_type = module.Tensor
        self.ns = {name: module, "W": weights(module)}

    def run(self, line: str) -> BaseException | None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # overflow in exp etc.: values are compared anyway
                exec(line, self.ns)
        except Exception as e:  # noqa: BLE001 - every exception is an outcome to compare
            return e
        return None

    def tensors(self) -> dict:
        return {k: v for k, v in self.ns.items() if isinstance(v, self.tensor_type)}


def _numpy(t) -> np.ndarray:
    return np.asarray(t.detach().numpy())


def _same_values(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True)


def _category(e: BaseException, table: dict) -> str | None:
    """The category of an error in REFUSALS or TORCH_ONLY_REFUSALS, or None."""
    if isinstance(e, ERRORS):
        for category, pattern in table.items():
            if pattern.search(str(e)):
                return category
    return None


def _refusal(e: BaseException) -> str | None:
    """The REFUSALS category of a corten error, or None."""
    return _category(e, REFUSALS)


def _record(category: str) -> None:
    """Count outcome categories (pytest --hypothesis-show-statistics); the fixed cases run outside hypothesis."""
    if currently_in_test_context():
        event(category)


def _is_leaf_requiring_grad(t) -> bool:
    try:
        return t.is_leaf and t.requires_grad
    except RuntimeError:  # PyTorch refuses to give the grad_fn of a stale multi-output view: not a leaf
        return False


def _describe(e: BaseException | None) -> str:
    return "no error" if e is None else f"{type(e).__name__}: {e}"


def loss_line(names: list[str]) -> str:
    return "loss = " + " + ".join(f"(({n}) * W({n})).sum()" for n in names) + "\nloss.backward()"


class Differential:
    """Runs one program on both libraries in lockstep and checks that they agree."""

    def __init__(self) -> None:
        self.worlds = {"torch": World("torch", torch), "ct": World("ct", ct)}
        self.steps: list[Step] = []
        self.ended = False  # a step raised: nothing more to run
        self.overlapped = False  # PyTorch refused a partly overlapping write, corten made it

    @property
    def torch_ns(self) -> dict:
        return self.worlds["torch"].ns

    def listing(self) -> str:
        out = []
        for lib in ("ct", "torch"):
            lines = "\n".join(getattr(s, lib) for s in self.steps)
            out.append(f"--- {lib} ---\n{PREAMBLE[lib]}\n{lines}")
        return "\n".join(out)

    def fail(self, why: str) -> None:
        raise AssertionError(f"{why}\n\n{self.listing()}")

    def check_corten_error(self, e: BaseException, where: str) -> None:
        """corten raised as PyTorch did: it must be an ordinary error with a message."""
        if not isinstance(e, ERRORS) or not str(e).strip():
            self.fail(f"corten raised {_describe(e)} {where} (expected a RuntimeError/ValueError with a message)")

    def step(self, step: Step) -> bool:
        """Run one step in both; False when the program ended here."""
        self.steps.append(step)
        et = self.worlds["torch"].run(step.torch)
        ec = self.worlds["ct"].run(step.ct)
        if (et is not None and ec is None and step.torch_copied is not None
                and _category(et, TORCH_ONLY_REFUSALS) == "partly overlapping in-place write"):
            # PyTorch refused before writing anything; the oracle is the write of a copy.
            _record("PyTorch refuses, corten computes: partly overlapping in-place write")
            self.steps[-1] = Step(ct=step.ct, torch=f"{step.torch_copied}  # PyTorch: the operand cloned first")
            self.overlapped = True
            et = self.worlds["torch"].run(step.torch_copied)
        if et is not None:
            self.ended = True
            _record("PyTorch raises at a step")
            if ec is not None:
                self.check_corten_error(ec, "at the step where PyTorch raised")
            else:
                self.corten_must_raise_at_backward(et)
            return False
        if ec is not None:
            self.ended = True
            category = _refusal(ec)
            if category is None:
                self.fail(f"corten raised {_describe(ec)} at the last step; PyTorch did not")
            _record(f"corten refuses: {category}")
            return False
        self.compare_tensors()
        return True

    def corten_must_raise_at_backward(self, torch_error: BaseException) -> None:
        names = [n for n, t in self.worlds["ct"].tensors().items() if t.requires_grad]
        if names:
            self.steps.append(Step(ct=loss_line(names), torch="# (not reached)"))
            if self.worlds["ct"].run(self.steps[-1].ct) is not None:
                return
        self.fail(f"PyTorch raised {_describe(torch_error)} at the last step; corten neither did nor "
                  "raised at backward()")

    def compare_tensors(self) -> None:
        tt, tc = self.worlds["torch"].tensors(), self.worlds["ct"].tensors()
        for name, a in tt.items():
            b = tc.get(name)
            if b is None:
                self.fail(f"{name} is a tensor in PyTorch only")
            if tuple(a.shape) != tuple(b.shape):
                self.fail(f"{name}: shape {tuple(b.shape)} in corten, {tuple(a.shape)} in PyTorch")
            if a.requires_grad != b.requires_grad:
                self.fail(f"{name}.requires_grad: {b.requires_grad} in corten, {a.requires_grad} in PyTorch")
            if not _same_values(_numpy(a), _numpy(b)):
                self.fail(f"{name} differs after the last step:\ncorten  {_numpy(b).tolist()}\n"
                          f"PyTorch {_numpy(a).tolist()}")

    def backward_and_compare(self, step: Step) -> None:
        """Run the loss-and-backward step; compare errors, then the leaves' gradients."""
        self.steps.append(step)
        et = self.worlds["torch"].run(step.torch)
        ec = self.worlds["ct"].run(step.ct)
        if et is not None:
            if ec is None and _category(et, TORCH_ONLY_REFUSALS) == "saved tensor modified in place":
                _record("PyTorch refuses, corten computes: saved tensor modified in place")
                self.check_grads_by_finite_differences()
                return
            _record("PyTorch raises at backward")
            if ec is None:
                self.fail(f"PyTorch raised {_describe(et)} at backward(); corten did not")
            self.check_corten_error(ec, "at backward()")
            return
        if ec is not None:
            category = _refusal(ec)
            if category is None and self.overlapped and OVERLAP_THEN_BACKWARD.search(str(ec)):
                category = "backward() after a partly overlapping write"
            if category is None:
                self.fail(f"corten raised {_describe(ec)} at backward(); PyTorch did not")
            _record(f"corten refuses: {category}")
            return
        self.compare_grads()

    def compare_grads(self) -> None:
        tc = self.worlds["ct"].tensors()
        for name, a in self.worlds["torch"].tensors().items():
            if not _is_leaf_requiring_grad(a):
                continue
            ga, gb = a.grad, tc[name].grad
            if (ga is None) != (gb is None):
                self.fail(f"{name}.grad: {'None' if gb is None else _numpy(gb).tolist()} in corten, "
                          f"{'None' if ga is None else _numpy(ga).tolist()} in PyTorch")
            if ga is not None and not _same_values(_numpy(ga), _numpy(gb)):
                self.fail(f"{name}.grad differs:\ncorten  {_numpy(gb).tolist()}\nPyTorch {_numpy(ga).tolist()}")

    def check_grads_by_finite_differences(self) -> None:
        """corten's leaf gradients (after the last step, loss.backward()) against central
        differences of the loss, element by element of every leaf that requires grad."""
        program = "\n".join(s.ct for s in self.steps)
        if GRAPH_CUTS.search(program) or KINKS.search(program):
            _record("finite differences skipped: " + ("graph cut" if GRAPH_CUTS.search(program) else "kink"))
            return
        replay = Replay(self.steps)
        if not np.isfinite(replay.loss()):
            _record("finite differences skipped: loss not finite")
            return
        for name, t in self.worlds["ct"].tensors().items():
            if not (t.is_leaf and t.requires_grad):
                continue
            grad = np.zeros(tuple(t.shape)) if t.grad is None else _numpy(t.grad)
            for i in np.ndindex(grad.shape):
                fd = replay.derivative(name, i, FD_EPS)
                finer = replay.derivative(name, i, FD_EPS / 10)
                if not (np.isfinite(fd) and np.isfinite(finer) and _close(finer, fd)):
                    _record("finite differences: example dropped (kink or blow-up near the point)")
                    assume(False)
                if not _close(grad[i], fd):
                    self.fail(f"{name}.grad{list(i)} is {float(grad[i])!r} in corten; finite differences of the loss "
                              f"give {fd!r} (PyTorch raised at backward())")
        _record("gradients checked by finite differences")


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= FD_ATOL + FD_RTOL * abs(b)


class Replay:
    """corten re-running a program without autograd, one leaf element shifted: the loss
    as a function of the leaves, for finite differences (autograd is not involved)."""

    def __init__(self, steps: list[Step]) -> None:
        # The last step is `loss = ...` then `loss.backward()`, or just `loss.backward()`.
        lines = [s.ct for s in steps[:-1]] + [steps[-1].ct.removesuffix("loss.backward()")]
        self.code = [compile(line, "<step>", "exec") for line in lines]

    def loss(self, leaf: str | None = None, index: tuple = (), shift: float = 0.0) -> float:
        ns = {"ct": ct, "W": weights(ct)}
        with ct.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for code in self.code:
                exec(code, ns)
                if leaf in ns and shift:  # just created: replace by shifted values
                    values = _numpy(ns[leaf]).copy()
                    values[index] += shift
                    ns[leaf], shift = ct.tensor(values, dtype=ct.float64), 0.0
        return float(_numpy(ns["loss"]))

    def derivative(self, leaf: str, index: tuple, eps: float) -> float:
        return (self.loss(leaf, index, eps) - self.loss(leaf, index, -eps)) / (2 * eps)


# ---- drawing steps (PyTorch's tensors give the shapes) --------------------------------

def constant(values: np.ndarray, requires_grad: bool = False) -> str:
    """Source text of a float64 tensor holding `values`."""
    rg = ", requires_grad=True" if requires_grad else ""
    return f"L.tensor({values.tolist()!r}, dtype=L.float64{rg})"


def _shape_args(shape: tuple) -> str:
    return ", ".join(map(str, shape)) if shape else "()"


class Gen:
    """Draws the next step of a program from the live PyTorch tensors."""

    def __init__(self, data, diff: Differential) -> None:
        self.data, self.diff = data, diff
        self.names: list[str] = []
        self.count = 0

    def draw(self, strategy):
        return self.data.draw(strategy)

    def tensor(self, name: str):
        return self.diff.torch_ns[name]

    def new_name(self) -> str:
        self.count += 1
        return f"t{self.count - 1}"

    def values(self, shape: tuple, elements=VALUES) -> np.ndarray:
        n = int(np.prod(shape))
        return np.array(self.draw(st.lists(elements, min_size=n, max_size=n)), dtype=np.float64).reshape(shape)

    def run(self, step: Step, new: str | None = None) -> bool:
        ok = self.diff.step(step)
        if ok and new is not None:
            self.names.append(new)
        return ok

    # -- leaves and operands

    def leaf(self, shape: tuple, requires_grad: bool = True) -> str:
        name = self.new_name()
        self.run(both(f"{name} = {constant(self.values(shape), requires_grad)}"), name)
        return name

    def operand(self, shape: tuple, allow_pool: bool = True, positive: bool = False) -> str | None:
        """Source of a tensor broadcastable to `shape`: a pool tensor, a constant or a new leaf."""
        kinds = ["constant", "leaf"] + (["pool"] if allow_pool else [])
        kind = self.draw(st.sampled_from(kinds))
        if kind == "pool":
            fits = [n for n in self.names if _broadcasts_to(tuple(self.tensor(n).shape), shape)]
            if fits:
                return self.draw(st.sampled_from(fits))
        k = self.draw(st.integers(0, len(shape)))
        oshape = tuple(1 if self.draw(st.booleans()) else n for n in shape[len(shape) - k:])
        vals = self.values(oshape, DIVISORS if positive else VALUES)
        if kind == "leaf":
            name = self.new_name()
            if not self.run(both(f"{name} = {constant(vals, True)}"), name):
                return None
            return name
        return constant(vals)

    # -- indices

    def basic_index(self, shape: tuple) -> str:
        """Ints (dropping dims), slices with steps and negative bounds, `...`, None."""
        parts = []
        k = self.draw(st.integers(1, len(shape)))
        from_back = self.draw(st.booleans()) and k < len(shape)
        dims = shape[len(shape) - k:] if from_back else shape[:k]
        for n in dims:
            kind = self.draw(st.sampled_from(["int", "slice", "slice", ":"]))
            if kind == "int" and n > 0:
                parts.append(str(self.draw(st.integers(-n, n - 1))))
            elif kind == "slice":
                bound = st.one_of(st.none(), st.integers(-n - 1, n + 1))
                start, stop = self.draw(bound), self.draw(bound)
                step = self.draw(st.sampled_from([None, 2, 3]))
                s = f"{'' if start is None else start}:{'' if stop is None else stop}"
                parts.append(s + ("" if step is None else f":{step}"))
            else:
                parts.append(":")
        if from_back:
            parts.insert(0, "...")
        if self.draw(st.integers(0, 9)) == 0:
            parts.insert(self.draw(st.integers(0, len(parts))), "None")
        return ", ".join(parts)

    def list_index(self, shape: tuple, unique: bool) -> str | None:
        """An index list along dim 0 or 1 (advanced indexing: a copy)."""
        dims = [d for d in range(min(len(shape), 2)) if shape[d] > 0]
        if not dims:
            return None
        d = self.draw(st.sampled_from(dims))
        n = shape[d]
        idx = st.integers(-n, n - 1)
        if unique:
            picks = self.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
        else:
            picks = self.draw(st.lists(idx, min_size=1, max_size=3))
        return ":, " * d + repr(picks)

    # -- the steps

    def pick(self, prefer_non_leaf: bool) -> str:
        """A pool tensor; for in-place writes mostly a non-leaf or a view of one, where
        PyTorch has to rewrite the graph (leaves that require grad only take no_grad writes)."""
        if prefer_non_leaf and self.draw(st.integers(0, 3)) > 0:
            inner = [n for n in self.names if not _leaf_requiring_grad(self.tensor(n))]
            if inner:
                return self.draw(st.sampled_from(inner))
        return self.draw(st.sampled_from(self.names))

    def base(self, name: str) -> None:
        """A non-leaf copy of a leaf (`x * 1` ...): the usual target of in-place writes."""
        # (Not exp/tanh/sigmoid: PyTorch saves their outputs, so writing into them makes
        # backward() raise, and that would end most programs.)
        form = self.draw(st.sampled_from(["{} * 1", "{} + 0", "{}.sin()", "{}.clone()", "{} * 2.0"]))
        new = self.new_name()
        self.run(both(f"{new} = {form.format(name)}"), new)

    def next_step(self) -> None:
        kinds = ["view", "view", "copy_index", "op", "op", "inplace", "inplace", "inplace", "leaf"]
        kind = self.draw(st.sampled_from(kinds))
        name = self.pick(prefer_non_leaf=kind == "inplace")
        t = self.tensor(name)
        if kind == "leaf":
            shape = tuple(self.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
            self.leaf(shape, self.draw(st.booleans()))
        elif kind == "view":
            self.view_step(name, t)
        elif kind == "copy_index" and t.ndim:
            index = self.list_index(tuple(t.shape), unique=False)
            if index is not None:
                new = self.new_name()
                self.run(both(f"{new} = {name}[{index}]"), new)
        elif kind == "op":
            self.op_step(name, t)
        else:
            self.inplace_step(name, t)

    def view_step(self, name: str, t) -> None:
        shape, nd = tuple(t.shape), t.ndim
        options = ["reshape", "view", "detach", "unsqueeze", "flatten", "expand"]
        if nd:
            options += ["slice", "slice", "chunk"]
        if nd >= 2:
            options += ["transpose", "permute", "mT"]
        if nd == 2:
            options += ["T"]
        if 1 in shape:
            options += ["squeeze"]
        kind = self.draw(st.sampled_from(options))
        expr = self.view_expr(kind, name, shape)
        # (No views made under no_grad: PyTorch gives them requires_grad=True without a
        # grad_fn, a flag that cannot be compared meaningfully.)
        new = self.new_name()
        self.run(_spelled(f"{new} = ", expr), new)

    def view_expr(self, kind: str, name: str, shape: tuple) -> Step | str:
        nd = len(shape)
        if kind == "slice":
            return f"{name}[{self.basic_index(shape)}]"
        if kind in ("reshape", "view"):
            return f"{name}.{kind}({_shape_args(self.shape_of_size(int(np.prod(shape))))})"
        if kind == "detach":
            return f"{name}.detach()"
        if kind == "unsqueeze":
            return f"{name}.unsqueeze({self.draw(st.integers(-nd - 1, nd))})"
        if kind == "squeeze":
            d = self.draw(st.sampled_from([i for i, n in enumerate(shape) if n == 1]))
            return f"{name}.squeeze({d - nd if self.draw(st.booleans()) else d})"
        if kind == "flatten":
            if nd == 0:
                return f"{name}.flatten()"
            a = self.draw(st.integers(0, nd - 1))
            b = self.draw(st.integers(a, nd - 1))
            return f"{name}.flatten({a}, {b - nd if self.draw(st.booleans()) else b})"
        if kind == "expand":
            lead = self.draw(st.sampled_from([(), (), (2,)]))
            target = lead + tuple(self.draw(st.integers(1, 3)) if n == 1 else n for n in shape)
            return f"{name}.expand({_shape_args(target)})"
        if kind == "chunk":
            d = self.draw(st.integers(0, nd - 1))
            k = self.draw(st.integers(1, 3))
            pieces = -(-shape[d] // -(-shape[d] // k)) if shape[d] else 0  # as PyTorch's chunk
            if not pieces:
                return f"{name}.detach()"
            return f"{name}.chunk({k}, {d})[{self.draw(st.integers(0, pieces - 1))}]"
        if kind == "transpose":  # PyTorch's transpose(d0, d1) is corten's swapaxes
            d0, d1 = self.draw(st.permutations(range(nd)))[:2]
            return Step(ct=f"{name}.swapaxes({d0}, {d1})", torch=f"{name}.transpose({d0}, {d1})")
        if kind == "permute":
            return f"{name}.permute({', '.join(map(str, self.draw(st.permutations(range(nd)))))})"
        return f"{name}.{kind}"  # T, mT

    def shape_of_size(self, n: int) -> tuple:
        """A random shape with n elements (maybe with a -1)."""
        if n == 0:
            return self.draw(st.sampled_from([(0,), (0, 1), (1, 0), (-1,)]))
        factors, p, m = [], 2, n
        while m > 1:
            while m % p == 0:
                factors.append(p)
                m //= p
            p += 1
        factors = self.draw(st.permutations(factors))
        ndim = self.draw(st.integers(1 if factors else 0, 3))
        dims = [1] * ndim
        for f in factors:
            dims[self.draw(st.integers(0, ndim - 1))] *= f
        if dims and self.draw(st.booleans()):
            dims[self.draw(st.integers(0, ndim - 1))] = -1
        return tuple(dims)

    def op_step(self, name: str, t) -> None:
        shape = tuple(t.shape)
        options = ["unary", "scalar", "binary", "sum"] + (["matmul"] if t.ndim else [])
        kind = self.draw(st.sampled_from(options))
        if kind == "unary":
            form = self.draw(st.sampled_from(["{}.exp()", "{}.sin()", "{}.tanh()", "{}.sigmoid()", "{} * 1",
                                              "{} + 0", "-{}", "{} * {}", "{}.clone()"]))
            expr = form.format(name, name)
        elif kind == "scalar":
            expr = f"{name} {self.draw(st.sampled_from(['*', '+', '-']))} {self.draw(VALUES)}"
        elif kind == "binary":
            other = self.draw(st.sampled_from(self.names))
            try:
                torch.broadcast_shapes(shape, tuple(self.tensor(other).shape))
            except RuntimeError:
                other = self.operand(shape)
                if other is None:
                    return
            expr = f"{name} {self.draw(st.sampled_from(['*', '+', '-']))} {other}"
        elif kind == "sum":
            expr = f"{name}.sum({self.draw(st.integers(-t.ndim, t.ndim - 1))})" if t.ndim else f"{name}.sum()"
        else:
            other = self.draw(st.sampled_from(self.names))
            try:
                torch.matmul(_probe(shape), _probe(tuple(self.tensor(other).shape)))
            except RuntimeError:
                other = constant(self.values((shape[-1], 2)))
            expr = f"{name} @ {other}"
        new = self.new_name()
        self.run(both(f"{new} = {expr}"), new)

    def inplace_step(self, name: str, t) -> None:
        shape = tuple(t.shape)
        kind = self.draw(st.sampled_from(["arith", "arith", "setitem", "setitem", "copy_", "method"]))
        if kind == "arith":
            written = self.arith(name, shape)
        elif kind == "setitem":
            written = self.setitem(name, shape)
        elif kind == "copy_":
            src = self.operand(shape)
            written = None if src is None else (f"{name}.copy_({OPERAND})", src)
        else:
            written = (self.method(name, shape), None)
        if written is None:
            return
        line, src = written
        # Writes outside the graph, as optimizers do. Mostly so for leaves that require
        # grad (and their views), which refuse in-place writes in grad mode: else most
        # programs would end at their first in-place step.
        if _leaf_requiring_grad(t):
            no_grad = self.draw(st.integers(0, 7)) > 0  # 7 in 8
        else:
            no_grad = self.draw(st.integers(0, 5)) == 0  # 1 in 6
        if no_grad:
            line = f"with L.no_grad(): {line}"
        self.run(_inplace(line, src))

    # The in-place writers below return (line, tensor operand or None), the line holding
    # OPERAND where the operand goes; None when drawing an operand ended the program.

    def arith(self, name: str, shape: tuple) -> tuple | None:
        op = self.draw(st.sampled_from(["+", "-", "*", "/"]))
        src = None
        if self.draw(st.booleans()):
            other = repr(self.draw(DIVISORS if op == "/" else VALUES))
        else:  # no pool tensors as divisors: they may hold zeros
            src = self.operand(shape, allow_pool=op != "/", positive=op == "/")
            if src is None:
                return None
            other = OPERAND
        if self.draw(st.booleans()):
            return f"{name} {op}= {other}", src
        method = {"+": "add_", "-": "sub_", "*": "mul_", "/": "div_"}[op]
        return f"{name}.{method}({other})", src

    def setitem(self, name: str, shape: tuple) -> tuple | None:
        if not shape:
            index = "..."
        elif self.draw(st.booleans()):
            index = self.basic_index(shape)
        else:
            index = self.list_index(shape, unique=True) or "..."  # unique: written values are well defined
        target = eval(f"t[{index}]", {"t": _probe(shape)})
        if self.draw(st.booleans()):
            return f"{name}[{index}] = {self.draw(VALUES)!r}", None
        src = self.operand(tuple(target.shape))
        if src is None:
            return None
        return f"{name}[{index}] = {OPERAND}", src

    def method(self, name: str, shape: tuple) -> str:
        kind = self.draw(st.sampled_from(["zero_", "fill_", "clamp_", "relu_", "exp_", "tanh_", "sigmoid_",
                                          "neg_", "sqrt_", "pow_", "masked_fill_", "detach_"]))
        if kind == "fill_":
            return f"{name}.fill_({self.draw(VALUES)})"
        if kind == "clamp_":
            lo, hi = sorted(self.draw(st.lists(BOUNDS, min_size=2, max_size=2, unique=True)))
            which = self.draw(st.sampled_from([f"min={lo}", f"max={hi}", f"min={lo}, max={hi}"]))
            return f"{name}.clamp_({which})"
        if kind == "pow_":
            return f"{name}.pow_({self.draw(st.sampled_from([2, 3]))})"
        if kind == "masked_fill_":
            mask = self.draw(st.lists(st.booleans(), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
            return f"{name}.masked_fill_(L.tensor({np.array(mask).reshape(shape).tolist()!r}), {self.draw(VALUES)})"
        return f"{name}.{kind}()"


OPERAND = "<operand>"


def _inplace(line: str, src: str | None) -> Step:
    """An in-place step, `src` in place of OPERAND in the line; with a tensor operand,
    also PyTorch's spelling with the operand cloned first."""
    step = both(line.replace(OPERAND, src or ""))
    if src is None:
        return step
    return Step(step.ct, step.torch, torch_copied=both(line.replace(OPERAND, f"{src}.clone()")).torch)


def _spelled(prefix: str, expr: Step | str) -> Step:
    """prefix + expr, where expr is spelled the same in both libraries or is already a Step."""
    if isinstance(expr, Step):
        return Step(ct=(prefix + expr.ct).replace("L.", "ct."), torch=(prefix + expr.torch).replace("L.", "torch."))
    return both(prefix + expr)


def _probe(shape: tuple):
    """A data-less tensor of that shape: shapes of results without touching the pool (PyTorch
    raises on any use of a multi-output view whose base was modified in place)."""
    return torch.empty(shape, device="meta")


def _leaf_requiring_grad(t) -> bool:
    """t is a leaf that requires grad, or a view of one (PyTorch refuses in-place writes on both)."""
    base = t._base if t._base is not None else t
    return base.is_leaf and base.requires_grad


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    try:
        return tuple(torch.broadcast_shapes(shape, target)) == target
    except RuntimeError:
        return False


# ---- the fuzz target ------------------------------------------------------------------

@settings(max_examples=N)
@given(st.data())
def test_views_and_inplace_ops_agree_with_pytorch(data):
    diff = Differential()
    gen = Gen(data, diff)
    for _ in range(data.draw(st.integers(1, 3), label="leaves")):
        shape = tuple(data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
        leaf = gen.leaf(shape, requires_grad=data.draw(st.integers(0, 4)) > 0)
        if data.draw(st.booleans()):
            gen.base(leaf)
    for _ in range(data.draw(st.integers(1, MAX_STEPS), label="steps")):
        if diff.ended:
            return
        gen.next_step()
    if diff.ended:
        return
    # The loss: a weighted sum over some of the final tensors that require grad.
    live = [n for n in gen.names if gen.tensor(n).requires_grad and gen.tensor(n).dtype == torch.float64]
    terms = [n for n in live if data.draw(st.booleans())]
    if terms:
        diff.backward_and_compare(both(loss_line(terms)))


# ---- known cases as fixed programs ----------------------------------------------------

X = "x = L.tensor([1., 2., 3.], dtype=L.float64, requires_grad=True)"
KNOWN = {
    # A view taken before its base is changed in place must see the new graph.
    "slice view, then base *= 3": [X, "y = x * 1", "v = y[1:]", "y *= 3", "loss = (v * v).sum()"],
    "reshape view, then base *= 2": [X, "y = x * 1", "v = y.reshape(3, 1)", "y *= 2", "loss = (v * v).sum()"],
    "view, then base[0] = 100": [X, "y = x * 1", "v = y[:]", "y[0] = 100.", "loss = (v * v).sum()"],
    "view, then base written with a tensor": [X, "y = x * 1", "v = y.view(1, 3)",
                                              "y[1:] = L.tensor([5., 6.], dtype=L.float64)", "loss = (v * x).sum()"],
    # Optimizers write parameters in place: the graph built before step() is stale.
    "SGD step between forward and backward": [
        "w = L.tensor([1., 2.], dtype=L.float64, requires_grad=True)",
        "x = L.tensor([3., 4.], dtype=L.float64, requires_grad=True)",  # so mul saves w
        "(w * x).sum().backward()", "opt = L.optim.SGD([w], lr=0.1)",
        "loss = (w * x).sum()", "opt.step()"],
    "Adam step between forward and backward": [
        "w = L.tensor([1., 2.], dtype=L.float64, requires_grad=True)",
        "x = L.tensor([3., 4.], dtype=L.float64, requires_grad=True)",  # so mul saves w
        "(w * x).sum().backward()", "opt = L.optim.Adam([w], lr=0.1)",
        "loss = (w * x).sum()", "opt.step()"],
    # In-place on a leaf that requires grad, directly and through a view: both refuse.
    "in-place on a leaf": [X, "x += 1"],
    "in-place on a view of a leaf": [X, "x[1:] *= 2"],
    # Writes into memory repeated by expand.
    "in-place on an expanded view": ["y = L.zeros(3, dtype=L.float64)", "v = y[:1].expand(3)", "v += 1"],
    # PyTorch refuses, corten computes (TORCH_ONLY_REFUSALS): a saved output written in place ...
    "sigmoid's output written in place": [X, "y = x.sigmoid()", "y *= 2", "loss = (y * W(y)).sum()"],
    "y *= y, then y.exp_()": [X, "y = x * 0.5", "y *= y", "y.exp_()", "loss = (y * W(y)).sum()"],
    "sqrt_ through a view, then the base written": [X, "y = x * 1", "y[1:].sqrt_()", "y += 1",
                                                      "loss = (y * W(y)).sum()"],
    # ... and partly overlapping writes (NumPy's result).
    "y[1:] += y[:-1]": [X, "y = x * 1", _inplace(f"y[1:] += {OPERAND}", "y[:-1]"), "loss = (y * W(y)).sum()"],
    "transposed into itself": ["m = L.tensor([[1., 2.], [3., 4.]], dtype=L.float64, requires_grad=True)",
                               "y = m * 1", _inplace(f"y.mul_({OPERAND})", "y.T"), "loss = (y * W(y)).sum()"],
    "overlapping setitem through a view": [X, "y = x * 1", "v = y[:2]", _inplace(f"y[[1, 2]] = {OPERAND}", "v"),
                                           "loss = (v * W(v)).sum() + (y * y).sum()"],
}


@pytest.mark.parametrize("name", list(KNOWN))
def test_known_views_and_inplace_cases(name):
    diff = Differential()
    for line in KNOWN[name]:
        if not diff.step(line if isinstance(line, Step) else both(line)):
            return
    diff.backward_and_compare(both("loss.backward()"))
