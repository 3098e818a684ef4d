"""The machine line: CPU, cores, clock, float32 peak, copy bandwidth, library versions."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import time

import numpy as np

FLOP_PER_CYCLE_F32 = 32  # two 256-bit FMA pipes: 2 x 8 lanes x 2 flop
ENV_KEYS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
            "OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT", "GOMP_SPINCOUNT", "MKL_NUM_THREADS", "CORTEN_GEMM_FALLBACK")


def _cpuinfo() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return f.read()
    except OSError:
        return ""


def cpu_model() -> str:
    m = re.search(r"^model name\s*:\s*(.+)$", _cpuinfo(), re.M)
    return m.group(1).strip() if m else (platform.processor() or platform.machine())


def clock_mhz() -> float | None:
    """The current clock from /proc/cpuinfo `cpu MHz`, else lscpu's maximum."""
    mhz = [float(v) for v in re.findall(r"^cpu MHz\s*:\s*([\d.]+)$", _cpuinfo(), re.M)]
    if mhz:
        return max(mhz)
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"^CPU max MHz:\s*([\d.]+)$", out, re.M) or re.search(r"^CPU MHz:\s*([\d.]+)$", out, re.M)
    return float(m.group(1)) if m else None


def physical_cores() -> int:
    cores = set()
    for block in _cpuinfo().split("\n\n"):
        phys = re.search(r"^physical id\s*:\s*(\d+)", block, re.M)
        core = re.search(r"^core id\s*:\s*(\d+)", block, re.M)
        if phys and core:
            cores.add((phys.group(1), core.group(1)))
    return len(cores) or os.cpu_count() or 1


def peak_gflops(cores: int, mhz: float | None, dtype: str = "float32") -> float | None:
    """cores x 32 flop/cycle x clock for float32; half of that for float64."""
    if not mhz:
        return None
    peak = cores * FLOP_PER_CYCLE_F32 * mhz / 1e3
    return peak / 2 if dtype == "float64" else peak


def copy_bandwidth_gbs(nbytes: int = 64 << 20, repeats: int = 5) -> float:
    """Best-of-N big copy (read + write counted) in GB/s: the memory-bound roof."""
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t)
    return 2 * src.nbytes / best / 1e9


def numpy_blas() -> str | None:
    """NumPy's BLAS: library, version and the core type it chose (threadpoolctl), else the build info."""
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas" and "numpy" in pool.get("filepath", ""):
                arch = pool.get("architecture")
                return f"{pool['internal_api']} {pool.get('version')}" + (f" {arch}" if arch else "") + \
                    f", {pool.get('num_threads')} threads"
    except ImportError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older NumPy: no dicts mode
        return None


def versions(libs: dict) -> dict:
    return {name: getattr(mod, "__version__", "?") for name, mod in libs.items()}


def describe(libs: dict, threads: int, measure_bandwidth: bool = True) -> dict:
    import corten

    cores = physical_cores()
    mhz = clock_mhz()
    used = min(threads, cores)
    info = {
        "cpu": cpu_model(),
        "cores": cores,
        "threads": threads,
        "simd": corten.simd_level(),
        "gemm_kernel": corten.gemm_kernel() if hasattr(corten, "gemm_kernel") else None,
        "clock_mhz": mhz,
        "peak_gflops_float32": peak_gflops(used, mhz),
        "peak_gflops_float64": peak_gflops(used, mhz, "float64"),
        "copy_gbs": copy_bandwidth_gbs() if measure_bandwidth else None,
        "versions": versions(libs),
        "numpy_blas": numpy_blas(),
        "env": {k: os.environ[k] for k in ENV_KEYS if k in os.environ},
        "python": platform.python_version(),
        "load": round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else None,
    }
    info["line"] = machine_line(info)
    return info


def machine_line(m: dict) -> str:
    threads = f"{m['threads']} thread" + ("s" if m["threads"] != 1 else "")
    parts = [f"{m['cpu']}, {m['cores']} cores, {threads}, simd {m['simd']}"]
    if m.get("gemm_kernel"):
        parts[0] += f" (gemm {m['gemm_kernel']})"
    if m.get("clock_mhz"):
        parts.append(f"{m['clock_mhz']:.0f} MHz, peak f32 {m['peak_gflops_float32']:.0f} GFLOP/s")
    if m.get("copy_gbs"):
        parts.append(f"copy {m['copy_gbs']:.1f} GB/s")
    if m.get("load") is not None:
        parts.append(f"load {m['load']}")
    libs = " ".join(f"{k} {v}" for k, v in m["versions"].items())
    parts.append(libs + (f" (numpy BLAS: {m['numpy_blas']})" if m.get("numpy_blas") else ""))
    if m.get("env"):
        parts.append(" ".join(f"{k}={v}" for k, v in m["env"].items()))
    return " | ".join(parts)
