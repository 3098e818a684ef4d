"""`python -m corten bench`: corten against NumPy and PyTorch, one table."""

from __future__ import annotations

import argparse
import sys
import time

from . import machine, report, runner
from .workloads import select


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m corten bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help=f"a {runner.QUICK_BUDGET}s budget per workload, "
                   "skip the largest ones (default budget {runner.FULL_BUDGET}s)")
    p.add_argument("--only", metavar="PATTERN", help="comma-separated globs or substrings of workload names")
    p.add_argument("--json", metavar="FILE", help="write every figure (machine, medians, samples, ratios)")
    p.add_argument("--plot", metavar="FILE", help="write a PNG bar chart of corten's speedups (matplotlib)")
    p.add_argument("--compare", metavar="OLD.json", help="print the change against an earlier --json run")
    p.add_argument("--threads", type=int, metavar="N", help="threads for every library (default: corten's)")
    p.add_argument("--budget", type=float, metavar="SECONDS", help="time budget per workload")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out (also CORTEN_BENCH_NO_TORCH=1)")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    return p


def main(argv: list[str] | None = None) -> int:
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

    libs = runner.load_libraries(args.no_torch)
    threads, _limit = runner.set_threads(libs, args.threads)
    info = machine.describe(libs, threads)
    print(info["line"], flush=True)
    if info.get("load") is not None and info["load"] > info["cores"]:
        print(f"note: load average {info['load']} on {info['cores']} cores: other processes compete "
              "for the CPU, so the timings are noisy (multi-threaded ones most)", flush=True)
    budget = args.budget or (runner.QUICK_BUDGET if args.quick else runner.FULL_BUDGET)
    start = time.perf_counter()
    try:
        results = runner.run(workloads, libs, budget)
    finally:
        if _limit is not None:
            _limit.restore_original_limits()
    elapsed = time.perf_counter() - start
    print(report.table(results, list(libs), info))
    print(f"{len(results)} workloads in {elapsed:.0f} s")

    settings = {"argv": list(sys.argv[1:] if argv is None else argv), "quick": args.quick, "only": args.only,
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
