"""Presenting results: the table, the JSON file, the comparison with an earlier run, the chart."""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any

from .runner import Result
from .workloads import LIBRARIES

JSON_VERSION = 2  # 2: machine has method, method_text, lib_threads, peak_source


def fmt_time(t: float | None) -> str:
    if t is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t / 1e-9:.3g} ns"


def _fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x"


def peak_fraction(r: Result, machine: dict) -> float | None:
    """corten's rate against float32/float64 peak (flops) or the measured copy rate (bytes)."""
    rate = r.rate()
    if rate is None:
        return None
    if r.workload.flops:
        peak = machine.get(f"peak_gflops_{r.workload.dtype}")
    else:
        peak = machine.get("copy_gbs")
    return rate[0] / peak if peak else None


def table(results: Sequence[Result], libs: Sequence[str], machine: dict) -> str:
    others = [lib for lib in LIBRARIES if lib in libs and lib != "corten"]
    head = ["workload", *[lib for lib in LIBRARIES if lib in libs], *[f"vs {o}" for o in others],
            "corten rate", "peak", "spread", "note"]
    rows = []
    for r in results:
        rate, frac = r.rate(), peak_fraction(r, machine)
        rows.append([
            r.workload.name,
            *[fmt_time(r.libs[lib].median if lib in r.libs else None) for lib in LIBRARIES if lib in libs],
            *[_fmt_ratio(r.ratio(o)) for o in others],
            "-" if rate is None else f"{rate[0]:.3g} {rate[1]}",
            "-" if frac is None else f"{100 * frac:.0f}%",
            "-" if r.spread is None else f"{100 * r.spread:.0f}%",
            r.note,
        ])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    widths[-1] = 0  # the note column is not padded

    def line(cells: list) -> str:
        first = f"{cells[0]:<{widths[0]}}"
        rest = [f"{c:>{w}}" for c, w in zip(cells[1:-1], widths[1:-1], strict=True)]
        return "  ".join([first, *rest, cells[-1]]).rstrip()

    out = [f"method: {machine['method_text']}"] if machine.get("method_text") else []
    out += [line(head), line(["-" * w for w in widths[:-1]] + [""])]
    out += [line(row) for row in rows]
    out.append(f"vs X = X's time / corten's time (above 1: corten is faster); peak = {_peak_legend(machine)}")
    out.append("spread = the noisiest library's interquartile range / median of its samples "
               "(large: the row is noise)")
    return "\n".join(out)


def _peak_legend(machine: dict) -> str:
    cores = min(machine["threads"], machine["cores"])
    on = f"{cores} core{'s' if cores != 1 else ''}"
    if machine.get("peak_source") == "measured":
        s = (f"the measured peak of {on} for GFLOP/s (FMA loop at start: f32 {machine['peak_gflops_float32']:.0f}, "
             f"f64 {machine['peak_gflops_float64']:.0f} GFLOP/s)")
    else:
        s = f"nominal {on} x 32 flop/cycle x base clock for GFLOP/s (half for float64)"
    return s + (", the measured copy rate for GB/s" if machine.get("copy_gbs") else "")


def to_json(results: Sequence[Result], machine: dict, settings: dict) -> dict:
    out: dict[str, Any] = {
        "version": JSON_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine,
        "settings": settings,
        "workloads": [],
    }
    for r in results:
        w = r.workload
        rate = {lib: r.rate(lib) for lib in r.libs}
        out["workloads"].append({
            "name": w.name,
            "group": w.group,
            "dtype": w.dtype,
            "flops": w.flops,
            "bytes": w.bytes,
            "note": r.note,
            "skipped": r.skipped,
            "libs": {lib: _lib_json(lr, rate[lib]) for lib, lr in r.libs.items()},
            "ratios": {o: r.ratio(o) for o in LIBRARIES if o != "corten" and r.ratio(o) is not None},
            "peak_fraction": peak_fraction(r, machine),
        })
    return out


def _lib_json(lr: Any, rate: tuple[float, str] | None) -> dict:
    return {"median": lr.median, "spread": lr.spread, "samples": lr.samples,
            "calls_per_sample": lr.calls_per_sample,
            "rate": rate[0] if rate else None, "rate_unit": rate[1] if rate else None}


def write_json(path: str, doc: dict) -> None:
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def load_json(path: str) -> dict:
    with open(path) as f:
        doc = json.load(f)
    if not isinstance(doc, dict) or "workloads" not in doc:
        raise ValueError(f"{path} is not a corten bench JSON file (no 'workloads')")
    return doc


def compare(new: dict, old: dict) -> str:
    """Per workload and library: old median -> new median and the change in time."""
    old_by = {w["name"]: w for w in old["workloads"]}
    libs = [lib for lib in LIBRARIES if any(lib in w["libs"] for w in new["workloads"])]
    head = ["workload", *[f"{lib} old -> new" for lib in libs], *[f"{lib} change" for lib in libs]]
    rows = []
    for w in new["workloads"]:
        prev = old_by.get(w["name"])
        cells, changes = [w["name"]], []
        for lib in libs:
            a = prev["libs"].get(lib, {}).get("median") if prev else None
            b = w["libs"].get(lib, {}).get("median")
            cells.append(f"{fmt_time(a)} -> {fmt_time(b)}" if a or b else "-")
            changes.append(f"{100 * (b / a - 1):+.1f}%" if a and b else ("new" if b else "-"))
        rows.append(cells + changes)
    gone = [n for n in old_by if n not in {w["name"] for w in new["workloads"]}]
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        first = f"{cells[0]:<{widths[0]}}"
        return "  ".join([first, *(f"{c:>{w}}" for c, w in zip(cells[1:], widths[1:], strict=True))])

    lines = [line(r) for r in [head, ["-" * w for w in widths], *rows]]
    lines.append("change = new time / old time - 1 (negative: faster); "
                 f"earlier run {old.get('created', '?')}")
    if _setup_key(old.get("machine", {})) != _setup_key(new.get("machine", {})):
        lines.append(f"the machine, versions or method differ; earlier: {old.get('machine', {}).get('line', '?')}")
    if gone:
        lines.append(f"{len(gone)} earlier workloads not in this run" if len(gone) > 6
                     else "not in this run: " + ", ".join(gone))
    return "\n".join(lines)


def _setup_key(m: dict) -> tuple:
    """What must match for two runs to compare: not the clock reading, load or copy rate."""
    keys = ("cpu", "cores", "threads", "simd", "gemm_kernel", "versions", "numpy_blas", "env", "method")
    return tuple(json.dumps(m.get(k), sort_keys=True) for k in keys)


def plot(path: str, doc: dict) -> None:
    """A horizontal bar chart of corten's speedup against each library, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [w for w in doc["workloads"] if w["ratios"]]
    others = [lib for lib in LIBRARIES if lib != "corten" and any(lib in w["ratios"] for w in rows)]
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.24 * max(1, len(rows))), dpi=80)
    height = 0.8 / max(1, len(others))
    for j, lib in enumerate(others):
        have = [(i, w["ratios"][lib]) for i, w in enumerate(rows) if w["ratios"].get(lib)]
        ys = [i + (j - (len(others) - 1) / 2) * height for i, _ in have]
        ax.barh(ys, [v - 1 for _, v in have], left=1, height=height, label=f"vs {lib}")  # from 1 to the ratio
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yticks(range(len(rows)), [w["name"] for w in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("speedup of corten (other's time / corten's time; right of 1: corten faster)")
    m = doc["machine"]
    ax.set_title(f"corten vs NumPy / PyTorch: {m['cpu']}, {m['threads']} threads, {doc['created'][:10]}",
                 fontsize=8)
    if others:
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
