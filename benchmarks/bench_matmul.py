"""matmul: corten vs NumPy (OpenBLAS) vs PyTorch, one group per shape and dtype.

    make bench        or   pytest benchmarks/bench_matmul.py --benchmark-only
"""

from __future__ import annotations

import corten as ct
import numpy as np
import pytest

try:
    import torch
except ImportError:  # compared only when installed
    torch = None

SHAPES = [(s, s, s) for s in (64, 128, 256, 512, 1024, 2048)] + [
    # the layers of a 784-512-784 / 784-128-10 MLP, batch 128
    (128, 784, 512), (784, 128, 512), (128, 512, 784), (128, 512, 10),
]
CASES = [(m, k, n, dt) for dt in ("float32", "float64") for (m, k, n) in SHAPES]


def _id(case) -> str:
    m, k, n, dt = case
    return f"{dt}-{m}x{k}x{n}"


@pytest.fixture(params=CASES, ids=_id)
def case(request):
    m, k, n, dt = request.param
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(dt)
    b = rng.standard_normal((k, n)).astype(dt)
    return m, k, n, dt, a, b


def _setup(benchmark, case, lib):
    m, k, n, dt, _, _ = case
    benchmark.group = f"matmul {dt} {m}x{k} @ {k}x{n}"
    benchmark.extra_info["gflop"] = 2 * m * k * n / 1e9
    benchmark.name = lib


def test_corten(benchmark, case):
    _setup(benchmark, case, "corten")
    a, b = ct.from_numpy(case[4]), ct.from_numpy(case[5])
    benchmark(ct.matmul, a, b)


def test_numpy(benchmark, case):
    _setup(benchmark, case, "numpy")
    benchmark(np.matmul, case[4], case[5])


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_torch(benchmark, case):
    _setup(benchmark, case, "torch")
    a, b = torch.from_numpy(case[4]), torch.from_numpy(case[5])
    benchmark(torch.matmul, a, b)
