"""Timing: each workload for every library, interleaved round by round.

Where the timed calls run is the method: one worker process per library (the default,
bench/procs.py) or all libraries in this process (`--same-process`, `run_workload` here).
Either way, per workload: make the data, set each library up, warm each one up (two calls
when cheap; the second call's time sizes a sample), then rounds until the time budget
is spent (at least `min_rounds`). A round takes one sample per library, in an order
that rotates each round, so drift (clock, heat, a noisy neighbour) hits all alike.
A sample is `n` back-to-back calls, `n` chosen so a sample lasts a few milliseconds;
its time per call is recorded. The figure reported is the median of the samples.
"""

from __future__ import annotations

import gc
import importlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .worker import sample, warm
from .workloads import LIBRARIES, Workload, missing_features

QUICK_BUDGET = 0.25  # seconds per workload, all libraries together
FULL_BUDGET = 2.0
MAX_ROUNDS = 200
# Same-process method: pause before each sample, longer than any pool's idle spin there
# (about 0.4 ms, see bench/cli.py), so the library that ran last has no worker left spinning.
SETTLE_SECONDS = 0.001


@dataclass
class LibResult:
    samples: list[float]  # seconds per call, one per round
    calls_per_sample: int

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        """Interquartile range over the median: how noisy the samples were."""
        if len(self.samples) < 2:
            return 0.0
        q1, _, q3 = statistics.quantiles(self.samples, n=4)
        return (q3 - q1) / self.median


@dataclass
class Result:
    workload: Workload
    libs: dict[str, LibResult] = field(default_factory=dict)
    note: str = ""

    @property
    def skipped(self) -> bool:
        return "corten" not in self.libs

    @property
    def spread(self) -> float | None:
        """The noisiest library's spread (interquartile range / median)."""
        return max((lr.spread for lr in self.libs.values()), default=None)

    def ratio(self, other: str) -> float | None:
        """Speedup of corten over `other`: other's time / corten's (>1: corten is faster)."""
        if "corten" in self.libs and other in self.libs:
            return self.libs[other].median / self.libs["corten"].median
        return None

    def rate(self, lib: str = "corten") -> tuple[float, str] | None:
        """GFLOP/s or GB/s for workloads that declare flops or bytes."""
        if lib not in self.libs:
            return None
        t = self.libs[lib].median
        if self.workload.flops:
            return self.workload.flops / t / 1e9, "GFLOP/s"
        if self.workload.bytes:
            return self.workload.bytes / t / 1e9, "GB/s"
        return None


def load_libraries(no_torch: bool = False) -> dict[str, Any]:
    """corten and NumPy always; PyTorch when importable and not switched off."""
    libs = {name: importlib.import_module(name) for name in ("corten", "numpy")}
    if not (no_torch or os.environ.get("CORTEN_BENCH_NO_TORCH")):
        try:
            libs["torch"] = importlib.import_module("torch")
        except ImportError:
            pass
    return libs


def set_threads(libs: dict[str, Any], n: int | None) -> tuple[int, Callable[[], None]]:
    """Use n threads in every library (NumPy's BLAS via threadpoolctl when installed).
    Returns the count in force and a function restoring the previous counts."""
    ct, torch = libs["corten"], libs.get("torch")
    before = ct.get_num_threads(), torch.get_num_threads() if torch else None
    if n is not None:
        ct.set_num_threads(n)
    n = ct.get_num_threads()
    if torch:
        torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits

        blas = threadpool_limits(limits=n, user_api="blas")
    except ImportError:
        blas = None

    def restore() -> None:
        ct.set_num_threads(before[0])
        if torch:
            torch.set_num_threads(before[1])
        if blas is not None:
            blas.restore_original_limits()

    return n, restore


class Side(Protocol):
    """One library's callable for the workload, wherever it runs."""

    def warm(self, twice: bool) -> float: ...

    def sample(self, n: int) -> float: ...


class _InProcess:
    """The same-process method: the callable runs here, after a pause for the last pool's spin."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn

    def warm(self, twice: bool) -> float:
        return warm(self.fn, twice)

    def sample(self, n: int) -> float:
        time.sleep(SETTLE_SECONDS)
        return sample(self.fn, n)


def skip_note(w: Workload) -> str | None:
    """Why the workload cannot run (a corten feature missing, no data), else None."""
    missing = missing_features(w)
    if missing:
        return "skipped: needs " + ", ".join(missing)
    note = w.available()
    return "skipped: " + note if note else None


def time_rounds(res: Result, sides: dict[str, Side], budget: float, errors: list[str]) -> Result:
    """Warm each side up, then rounds of one sample per side in a rotating order until the
    budget is spent (at least the workload's min_rounds); fills res.libs and res.note."""
    w = res.workload
    start = time.perf_counter()
    n_calls = {}
    target = max(0.002, budget / (max(1, len(sides)) * 15))
    for lib in list(sides):
        try:
            t = sides[lib].warm(w.warmup) if w.warmup else None
        except Exception as e:
            errors.append(f"{lib} failed: {_error(e)}")
            del sides[lib]
            continue
        n_calls[lib] = max(1, int(target / t)) if t else 1
    samples: dict[str, list[float]] = {lib: [] for lib in sides}
    order = list(sides)
    rounds = 0
    while order and rounds < MAX_ROUNDS and (rounds < w.min_rounds or time.perf_counter() - start < budget):
        k = rounds % len(order)
        for lib in order[k:] + order[:k]:
            try:
                samples[lib].append(sides[lib].sample(n_calls[lib]))
            except Exception as e:
                errors.append(f"{lib} failed: {_error(e)}")
                order.remove(lib)
        rounds += 1
    res.libs = {lib: LibResult(samples[lib], n_calls[lib]) for lib in order if samples[lib]}
    res.note = "; ".join(errors)
    if "corten" not in res.libs and not res.note:
        res.note = "skipped"
    return res


class WorkerError(RuntimeError):
    """A request failed in a worker process (its message names the exception), or the worker is gone."""


def _error(e: Exception) -> str:
    return str(e) if isinstance(e, WorkerError) else f"{type(e).__name__}: {e}"


def run_workload(w: Workload, libs: dict[str, Any], budget: float) -> Result:
    """The same-process method: every library's callable in this process."""
    res = Result(w)
    note = skip_note(w)
    if note:
        res.note = note
        return res
    names = [lib for lib in LIBRARIES if lib in libs and lib in w.setups]
    data = w.data()
    sides: dict[str, Side] = {}
    errors = []
    for lib in names:
        try:
            sides[lib] = _InProcess(w.setups[lib](libs[lib], data))
        except Exception as e:  # a peer's missing feature must not stop the suite
            errors.append(f"{lib} setup failed: {type(e).__name__}: {e}")
    return time_rounds(res, sides, budget, errors)


def run(workloads: Sequence[Workload], one: Callable[[Workload], Result], progress: bool = True) -> list[Result]:
    """`one(w)` for each workload (the same-process or the per-process method), with progress."""
    results = []
    bar = _progress(len(workloads)) if progress else None
    for i, w in enumerate(workloads):
        if bar is not None:
            bar(i, w.name)
        gc.collect()
        results.append(one(w))
    if bar is not None:
        bar(len(workloads), None)
    return results


def _progress(total: int) -> Callable[[int, str | None], None]:
    """Which workload and how many are left, on stderr: a tqdm bar when installed and stderr is a
    terminal, else a plain line per workload (readable in CI logs)."""
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if not sys.stderr.isatty():
        tqdm = None
    if tqdm is not None:
        bar = tqdm(total=total, file=sys.stderr, unit="workload", leave=False, dynamic_ncols=True)

        def update(i: int, name: str | None) -> None:
            bar.n = i
            bar.set_description(name or "done")
            if name is None:
                bar.close()

        return update

    def line(i: int, name: str | None) -> None:
        if name is not None:
            print(f"bench [{i + 1}/{total}] {name} ({total - i - 1} left)", file=sys.stderr, flush=True)

    return line
