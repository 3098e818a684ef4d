"""Reductions on a 4096x4096 float32: corten vs NumPy (vs PyTorch if installed).

    .venv/bin/python -m pytest benchmarks/bench_reduction.py --benchmark-only \
        --benchmark-columns=median,iqr,rounds --benchmark-sort=name
"""

import corten as ct
import numpy as np
import pytest

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

A = np.random.default_rng(0).standard_normal((4096, 4096)).astype(np.float32)
T = ct.from_numpy(A)
TT = torch.from_numpy(A) if torch is not None else None

WORKLOADS = {
    "sum_axis0": (lambda: ct.sum(T, 0), lambda: A.sum(0), lambda: TT.sum(0)),
    "sum_axis1": (lambda: ct.sum(T, 1), lambda: A.sum(1), lambda: TT.sum(1)),
    "sum_all": (lambda: ct.sum(T), lambda: A.sum(), lambda: TT.sum()),
    "max_last": (lambda: ct.max(T, -1), lambda: A.max(-1), lambda: TT.amax(-1)),
    "argmax_last": (lambda: ct.argmax(T, -1), lambda: A.argmax(-1), lambda: TT.argmax(-1)),
}


@pytest.mark.parametrize("lib", ["corten", "numpy", "torch"])
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_reduction(benchmark, workload, lib):
    if lib == "torch" and torch is None:
        pytest.skip("torch not installed")
    benchmark.group = workload
    fn = WORKLOADS[workload][["corten", "numpy", "torch"].index(lib)]
    benchmark(fn)
