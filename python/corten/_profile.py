"""`python -m corten train --profile`: where the training loop's wall time goes.

While a StepProfile is installed, every compiled kernel (each function of
corten._C) runs inside a timer and its time goes to a category chosen by the
kernel's name: `matmul` (the GEMM, also with its fused bias/ReLU epilogue), `optimizer` (the *_step / *_steps updates),
`loss` (softmax and cross-entropy row kernels), `element-wise` (every other
kernel: bias add, ReLU and its gradient, row sums, casts, gathers). The training
loop times its DataLoader's batches (`data`); `python` is the rest of the loop's
time: graph recording, the backward walk, argument checks, NumPy allocations,
the loop's own bookkeeping, and this timer's own cost (about 0.3 us per kernel
call). Kernels called while a batch is being drawn count as `data`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from . import _C

CATEGORIES = ("matmul", "element-wise", "loss", "optimizer", "data", "python")
# Functions of corten._C that configure or describe rather than compute.
NOT_KERNELS = frozenset({
    "get_num_threads", "set_num_threads", "simd_level", "simd_available", "simd_cap", "set_simd_cap",
    "simd_env_problem", "cpu_features", "build_info", "peak_gflops", "gemm_kernel", "elementwise_kernel",
    "set_gemm_fallback", "set_gemm_kernel", "set_gemm_blocking", "get_gemm_blocking", "op_kinds",
})


def category(kernel: str) -> str:
    """The category a compiled kernel's time is counted in."""
    if kernel.startswith(("matmul", "gemm")):  # matmul_epilogue: the GEMM with its bias/ReLU
        return "matmul"
    if kernel.endswith("_step") or kernel.endswith("_steps"):
        return "optimizer"
    if kernel.startswith(("xent_", "softmax")):
        return "loss"
    return "element-wise"


def wrap_kernels(make: Callable[[str, Callable], Callable]) -> dict[str, Callable]:
    """Replace every kernel of corten._C by make(name, kernel), also in the element-wise
    ops' table (ops/elementwise.py keeps the kernels in a dict: a lookup there is cheaper
    than on the module); returns the originals for unwrap_kernels."""
    from .ops import elementwise

    originals: dict[str, Callable] = {}
    for name in dir(_C):
        fn = getattr(_C, name)
        if name.startswith("_") or name in NOT_KERNELS or not callable(fn) or isinstance(fn, type):
            continue
        originals[name] = fn
        wrapped = make(name, fn)
        setattr(_C, name, wrapped)
        if name in elementwise._KERNELS:
            elementwise._KERNELS[name] = wrapped
    return originals


def unwrap_kernels(originals: dict[str, Callable]) -> None:
    from .ops import elementwise

    for name, fn in originals.items():
        setattr(_C, name, fn)
        if name in elementwise._KERNELS:
            elementwise._KERNELS[name] = fn


class StepProfile:
    """Per-category wall time of the training loop's steps (see the module docstring)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.kernel_seconds: dict[str, float] = defaultdict(float)
        self.kernel_calls: dict[str, int] = defaultdict(int)
        self.total = 0.0
        self.steps = 0
        self._originals: dict[str, Any] = {}
        self._in_data = False

    # ---- kernels ----------------------------------------------------------------
    def install(self) -> None:
        """Wrap every corten._C function with a timer (undone by uninstall)."""
        self._originals = wrap_kernels(self._timed)

    def uninstall(self) -> None:
        unwrap_kernels(self._originals)
        self._originals = {}

    def _timed(self, name: str, fn: Callable) -> Callable:
        cat, clock = category(name), time.perf_counter
        seconds, kseconds, calls = self.seconds, self.kernel_seconds, self.kernel_calls

        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._in_data:
                return fn(*args, **kwargs)
            t = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                dt = clock() - t
                seconds[cat] += dt
                kseconds[name] += dt
                calls[name] += 1

        timed.__name__ = name
        return timed

    # ---- the loop's parts -------------------------------------------------------
    def batches(self, loader: Iterable) -> Iterator:
        """loader's batches (each one a step), the time spent drawing each counted as `data`."""
        it, clock = iter(loader), time.perf_counter
        while True:
            self._in_data = True
            t = clock()
            try:
                item = next(it)
            except StopIteration:
                return
            finally:
                self._in_data = False
                self.seconds["data"] += clock() - t
            self.steps += 1
            yield item

    def add_time(self, seconds: float) -> None:
        """Add the wall time of a loop over batches() (the steps, batches included)."""
        self.total += seconds

    # ---- report -----------------------------------------------------------------
    def shares(self) -> dict[str, float]:
        """Seconds per category; `python` is the loop's time no other category claims."""
        out = {c: self.seconds.get(c, 0.0) for c in CATEGORIES if c != "python"}
        out["python"] = max(self.total - sum(out.values()), 0.0)
        return out

    def report(self, top: int = 8) -> str:
        shares, steps = self.shares(), max(self.steps, 1)
        lines = [f"profile: {self.steps} steps, {self.total / steps * 1e3:.3f} ms per step (wall clock)",
                 f"  {'category':<14}{'ms/step':>9}{'share':>8}"]
        for c in CATEGORIES:
            lines.append(f"  {c:<14}{shares[c] / steps * 1e3:>9.3f}{shares[c] / max(self.total, 1e-12):>8.1%}")
        lines.append(f"  {'kernel':<22}{'calls/step':>11}{'us/call':>9}{'ms/step':>9}")
        ranked = sorted(self.kernel_seconds.items(), key=lambda kv: -kv[1])[:top]
        for name, secs in ranked:
            n = self.kernel_calls[name]
            lines.append(f"  {name:<22}{n / steps:>11.2f}{secs / n * 1e6:>9.1f}{secs / steps * 1e3:>9.3f}")
        return "\n".join(lines)


__all__ = ["StepProfile", "category", "CATEGORIES"]
