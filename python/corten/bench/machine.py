"""The machine line: CPU, cores, clock, measured float32/float64 peaks, copy bandwidth,
library versions and the timing method."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import time

import numpy as np

FLOP_PER_CYCLE_F32 = 32  # two 256-bit FMA pipes: 2 x 8 lanes x 2 flop
ENV_KEYS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
            "OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT", "GOMP_SPINCOUNT", "KMP_BLOCKTIME", "MKL_NUM_THREADS",
            "CORTEN_GEMM_FALLBACK")


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
    """Nominal: cores x 32 flop/cycle x clock for float32; half of that for float64. The
    clock in /proc/cpuinfo is the base clock, so boosting cores beat this figure."""
    if not mhz:
        return None
    peak = cores * FLOP_PER_CYCLE_F32 * mhz / 1e3
    return peak / 2 if dtype == "float64" else peak


def measured_peak_gflops(threads: int, dtype: str = "float32", seconds: float = 0.02,
                         repeats: int = 5) -> float:
    """The best of `repeats` runs of corten's FMA loop (cpp/peak.cpp) on `threads` threads:
    independent multiply-add chains, AVX2/FMA when the matmul kernel uses it. The best run
    is the one least disturbed by other processes; the cores run at the clock they reach
    under all-core vector load, as during a large matmul."""
    import corten

    if threads < 1:
        raise ValueError(f"measured_peak_gflops: need at least 1 thread, got {threads}")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"measured_peak_gflops: dtype must be float32 or float64, got {dtype!r}")
    portable = corten.gemm_kernel() == "portable"
    return max(corten._C.peak_gflops(dtype == "float64", threads, seconds, portable) for _ in range(repeats))


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


METHODS = {
    "per-process": "each library in its own process with its own defaults, interleaved round by round",
    "same-process": "same process, equal short spin for every pool, interleaved round by round",
}


def describe(versions: dict[str, str], lib_threads: dict[str, int], numpy_blas: str | None, method: str,
             env: dict[str, str], measure: bool = True) -> dict:
    """Everything the machine line shows. `lib_threads`: each library's thread count (corten's
    sets the peak: min(its threads, cores)); `env`: the environment the libraries ran with (the
    ENV_KEYS in it are shown). `measure=False` skips the timed peak and copy."""
    import corten

    cores = physical_cores()
    mhz = clock_mhz()
    threads = lib_threads["corten"]
    used = min(threads, cores)
    peaks: dict[str, float | None]
    if measure:
        peaks = {dt: measured_peak_gflops(used, dt) for dt in ("float32", "float64")}
        source = "measured"
    else:
        peaks = {dt: peak_gflops(used, mhz, dt) for dt in ("float32", "float64")}
        source = "nominal"
    info = {
        "cpu": cpu_model(),
        "cores": cores,
        "threads": threads,
        "lib_threads": dict(lib_threads),
        "simd": corten.simd_level(),
        "gemm_kernel": corten.gemm_kernel() if hasattr(corten, "gemm_kernel") else None,
        "clock_mhz": mhz,
        "peak_gflops_float32": peaks["float32"],
        "peak_gflops_float64": peaks["float64"],
        "peak_source": source,
        "copy_gbs": copy_bandwidth_gbs() if measure else None,
        "versions": dict(versions),
        "numpy_blas": numpy_blas,
        "env": {k: env[k] for k in ENV_KEYS if k in env},
        "method": method,
        "method_text": METHODS[method],
        "python": platform.python_version(),
        "load": round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else None,
    }
    info["line"] = machine_line(info)
    return info


def machine_line(m: dict) -> str:
    counts = set((m.get("lib_threads") or {"corten": m["threads"]}).values())
    if len(counts) == 1:
        threads = f"{m['threads']} thread" + ("s" if m["threads"] != 1 else "")
    else:
        threads = "threads " + ", ".join(f"{k} {v}" for k, v in m["lib_threads"].items())
    parts = [f"{m['cpu']}, {m['cores']} cores, {threads}, simd {m['simd']}"]
    if m.get("gemm_kernel"):
        parts[0] += f" (gemm {m['gemm_kernel']})"
    if m.get("peak_gflops_float32"):
        clock = f"{m['clock_mhz']:.0f} MHz, " if m.get("clock_mhz") else ""
        parts.append(f"{clock}peak ({m.get('peak_source', 'nominal')}) f32 {m['peak_gflops_float32']:.0f} "
                     f"f64 {m['peak_gflops_float64']:.0f} GFLOP/s")
    if m.get("copy_gbs"):
        parts.append(f"copy {m['copy_gbs']:.1f} GB/s")
    if m.get("load") is not None:
        parts.append(f"load {m['load']}")
    libs = " ".join(f"{k} {v}" for k, v in m["versions"].items())
    parts.append(libs + (f" (numpy BLAS: {m['numpy_blas']})" if m.get("numpy_blas") else ""))
    if m.get("env"):
        parts.append(" ".join(f"{k}={v}" for k, v in m["env"].items()))
    if m.get("method"):
        parts.append(f"method: {m['method_text']}")
    return " | ".join(parts)
