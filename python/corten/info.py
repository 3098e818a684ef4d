"""`python -m corten info`: how this corten was built and what it uses on this
machine (like `numpy.show_config()`): version, compiler and flags, the SIMD level
chosen and the levels the CPU offers, threads, the OpenMP runtime loaded, and
the optional packages found. `--json` prints the same as one JSON object."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import sys
from typing import Any

OPTIONAL = ("numpy", "safetensors", "tqdm", "matplotlib", "threadpoolctl", "torch", "mpi4py")
_RUNTIMES = ("libgomp", "libomp", "libiomp")


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def openmp_runtimes() -> list[str]:
    """Paths of the OpenMP runtime libraries mapped into this process (a repaired
    wheel carries its own copy under corten.libs/)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if len(line.split()) >= 6}
    except OSError:
        return []
    return sorted(p for p in paths if any(os.path.basename(p).startswith(r) for r in _RUNTIMES))


def collect() -> dict[str, Any]:
    """Everything `info` prints, as plain data."""
    import corten
    from corten import _C

    build = dict(_C.build_info())
    return {
        "version": corten.__version__,
        "location": os.path.dirname(corten.__file__),
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "build": build,
        "simd": {
            "level": corten.simd_level(),
            "available": corten.simd_available(),
            "cap": _C.simd_cap() or None,
            "env": os.environ.get("CORTEN_SIMD"),
            "cpu_features": list(_C.cpu_features()),
            "elementwise_kernel": _C.elementwise_kernel(),
            "gemm_kernel": corten.gemm_kernel(),
        },
        "threads": corten.get_num_threads(),
        "openmp": {"compiled": build.get("openmp_version"), "runtime": openmp_runtimes()},
        "optional": {name: _version(name) for name in OPTIONAL},
    }


def render(d: dict[str, Any]) -> str:
    b, s = d["build"], d["simd"]
    rows = [
        ("corten", f"{d['version']} ({d['location']})"),
        ("python", d["python"]),
        ("platform", d["platform"]),
        ("", ""),
        ("build type", b["build_type"]),
        ("compiler", f"{b['compiler']} ({b['compiler_banner']})"),
        ("compile flags", b["cxx_flags"]),
        ("OpenMP", f"{b['openmp_flags']} -> {b['openmp_libs']} (spec {d['openmp']['compiled']})"),
        ("", ""),
        ("SIMD level", s["level"] + (f" (capped by CORTEN_SIMD={s['env']})" if s["env"] else "")),
        ("SIMD available", ", ".join(s["available"])),
        ("CPU features", " ".join(s["cpu_features"]) or "(none detected)"),
        ("kernels", f"element-wise and reductions {s['elementwise_kernel']}, matmul {s['gemm_kernel']}"),
        ("threads", str(d["threads"])),
        ("OpenMP runtime", ", ".join(d["openmp"]["runtime"]) or "(not loaded)"),
        ("", ""),
    ]
    rows += [(name, v or "not installed") for name, v in d["optional"].items()]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}".rstrip() for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m corten info", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    d = collect()
    print(json.dumps(d, indent=2) if args.json else render(d))
    return 0
