"""`python -m corten bench`: corten against NumPy and PyTorch, one table."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from collections.abc import Callable

from . import machine, procs, report, runner
from .runner import Result
from .workloads import Workload, select


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m corten bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help=f"a {runner.QUICK_BUDGET}s budget per workload, "
                   f"skip the largest ones (default budget {runner.FULL_BUDGET}s)")
    p.add_argument("--only", metavar="PATTERN", help="comma-separated globs or substrings of workload names")
    p.add_argument("--json", metavar="FILE", help="write every figure (machine, medians, samples, ratios)")
    p.add_argument("--plot", metavar="FILE", help="write a PNG bar chart of corten's speedups (matplotlib)")
    p.add_argument("--compare", metavar="OLD.json", help="print the change against an earlier --json run")
    p.add_argument("--threads", type=int, metavar="N", help="threads for every library (default: each library's own)")
    p.add_argument("--budget", type=float, metavar="SECONDS", help="time budget per workload")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out (also CORTEN_BENCH_NO_TORCH=1)")
    p.add_argument("--same-process", action="store_true",
                   help="the earlier method: every library in this one process, every thread pool set to "
                   "the same short idle spin (default: each library in its own process, with its own defaults)")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    return p


def _short_spin_threads(argv: list[str]) -> None:
    """`--same-process`: re-run `python -m corten bench` with every library's idle threads spinning briefly.

    In one process, corten and PyTorch share one OpenMP runtime (libgomp); corten is imported
    first, so its GOMP_SPINCOUNT=30000 governs both. OpenBLAS (under NumPy) has its own pool,
    which spins for up to 2^28 cycles (about 0.1 s) by default. Interleaving libraries in one
    process on a small machine then has one library's spinning workers steal the cores the next
    one needs (measured: a 128x128 matmul 10-100x slower than alone). OPENBLAS_THREAD_TIMEOUT=20
    (2^20 cycles) gives OpenBLAS a short spin too, and the runner pauses between samples so it
    has ended before the next library runs. With --threads N, OPENBLAS_NUM_THREADS=N also caps
    NumPy's BLAS when threadpoolctl is not installed. The runtimes read these when they load,
    hence exec. A user's settings win. The default method (bench/procs.py) sets none of this.
    """
    started_as_command = sys.argv[0].endswith(os.path.join("corten", "__main__.py"))
    args = parser().parse_known_args(argv)[0]
    if not started_as_command or not args.same_process:
        return
    wanted = {"OPENBLAS_THREAD_TIMEOUT": "20"}
    threads = args.threads
    if threads is not None and threads >= 1:
        wanted["OPENBLAS_NUM_THREADS"] = str(threads)
    missing = {k: v for k, v in wanted.items() if k not in os.environ}
    if missing:
        env = dict(os.environ, **missing)
        os.execve(sys.executable, [sys.executable, "-m", "corten", "bench", *argv], env)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    _short_spin_threads(argv)
    args = parser().parse_args(argv)
    workloads = select(args.only, args.quick)
    if args.list:
        for w in workloads:
            print(w.name)
        return 0
    if not workloads:
        names = ", ".join(w.name.split("/")[0] for w in select(None))
        print(f"corten bench: no workload matches --only {args.only!r}; groups: "
              f"{', '.join(dict.fromkeys(names.split(', ')))} (see --list)", file=sys.stderr)
        return 2
    if args.threads is not None and args.threads < 1:
        print(f"corten bench: --threads needs at least 1, got {args.threads}", file=sys.stderr)
        return 2
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("corten bench: --plot needs matplotlib: pip install matplotlib", file=sys.stderr)
            return 2
    old = None
    if args.compare:
        try:
            old = report.load_json(args.compare)
        except (OSError, ValueError) as e:
            print(f"corten bench: --compare: {e}", file=sys.stderr)
            return 2

    budget = args.budget or (runner.QUICK_BUDGET if args.quick else runner.FULL_BUDGET)
    setup = _same_process(args, budget) if args.same_process else _per_process(args, budget)
    if setup is None:
        return 2
    one, info, close = setup
    try:
        print(info["line"], flush=True)
        if info.get("load") is not None and info["load"] > info["cores"]:
            print(f"note: load average {info['load']} on {info['cores']} cores: other processes compete "
                  "for the CPU, so the timings are noisy (multi-threaded ones most)", flush=True)
        start = time.perf_counter()
        results = runner.run(workloads, one)
    finally:
        close()
    elapsed = time.perf_counter() - start
    print(report.table(results, list(info["versions"]), info))
    print(f"{len(results)} workloads in {elapsed:.0f} s")

    settings = {"argv": argv, "quick": args.quick, "only": args.only, "method": info["method"],
                "budget": budget, "elapsed": elapsed}
    doc = report.to_json(results, info, settings)
    if args.json:
        report.write_json(args.json, doc)
    if old is not None:
        print()
        print(report.compare(doc, old))
    if args.plot:
        report.plot(args.plot, doc)
    return 0


Setup = tuple[Callable[[Workload], Result], dict, Callable[[], None]]


def _same_process(args: argparse.Namespace, budget: float) -> Setup:
    """Every library imported here; the callables run in this process."""
    libs = runner.load_libraries(args.no_torch)
    threads, restore = runner.set_threads(libs, args.threads)
    versions = {name: getattr(mod, "__version__", "?") for name, mod in libs.items()}
    info = machine.describe(versions, {name: threads for name in libs}, machine.numpy_blas(), "same-process",
                            dict(os.environ))
    return (lambda w: runner.run_workload(w, libs, budget)), info, restore


def _per_process(args: argparse.Namespace, budget: float) -> Setup | None:
    """One worker process per library (bench/procs.py), each with its library's defaults."""
    wanted = ["corten", "numpy"]
    if not (args.no_torch or os.environ.get("CORTEN_BENCH_NO_TORCH")) and _importable("torch"):
        wanted.append("torch")
    workers, notes = procs.start_workers(wanted, args.threads)
    for note in notes:
        print(f"corten bench: {note}", file=sys.stderr)

    def close() -> None:
        for w in workers.values():
            w.close()

    if "corten" not in workers or "numpy" not in workers:
        close()
        print("corten bench: the corten and NumPy workers must start", file=sys.stderr)
        return None
    versions = {lib: w.info["version"] for lib, w in workers.items()}
    lib_threads = {lib: int(w.info["threads"]) for lib, w in workers.items()}
    try:  # measured once the workers have imported their libraries: the cores are quiet
        info = machine.describe(versions, lib_threads, workers["numpy"].info.get("blas"), "per-process",
                                procs.worker_env("corten", None))
        info["workers"] = {lib: w.info for lib, w in workers.items()}
    except BaseException:
        close()
        raise
    return (lambda w: procs.run_workload(w, workers, budget)), info, close


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
