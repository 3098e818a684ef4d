"""Data movement: transposed copy, boolean-mask selection, integer-array gather.
Each group runs corten, NumPy and (when installed) PyTorch on the same data."""

from __future__ import annotations

import corten as ct
import numpy as np
import pytest

N = 1 << 20
rng = np.random.default_rng(0)
SQUARE = rng.standard_normal((4096, 4096)).astype(np.float32)
VALUES = rng.standard_normal(N).astype(np.float32)
MASK = VALUES > 0.0
INDEX = rng.integers(0, N, N)

try:
    import torch
except ImportError:  # optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")


@pytest.mark.benchmark(group="contiguous(transposed 4096x4096 float32)")
def test_transpose_copy_corten(benchmark):
    t = ct.from_numpy(SQUARE).T
    benchmark(t.contiguous)


@pytest.mark.benchmark(group="contiguous(transposed 4096x4096 float32)")
def test_transpose_copy_numpy(benchmark):
    benchmark(np.ascontiguousarray, SQUARE.T)


@needs_torch
@pytest.mark.benchmark(group="contiguous(transposed 4096x4096 float32)")
def test_transpose_copy_torch(benchmark):
    benchmark(torch.from_numpy(SQUARE).T.contiguous)


@pytest.mark.benchmark(group="mask select 1M float32")
def test_mask_corten(benchmark):
    x, m = ct.from_numpy(VALUES), ct.from_numpy(MASK)
    benchmark(lambda: x[m])


@pytest.mark.benchmark(group="mask select 1M float32")
def test_mask_numpy(benchmark):
    benchmark(lambda: VALUES[MASK])


@needs_torch
@pytest.mark.benchmark(group="mask select 1M float32")
def test_mask_torch(benchmark):
    x, m = torch.from_numpy(VALUES), torch.from_numpy(MASK)
    benchmark(lambda: x[m])


@pytest.mark.benchmark(group="gather 1M int64 indices float32")
def test_gather_corten(benchmark):
    x, i = ct.from_numpy(VALUES), ct.from_numpy(INDEX)
    benchmark(lambda: x[i])


@pytest.mark.benchmark(group="gather 1M int64 indices float32")
def test_gather_numpy(benchmark):
    benchmark(lambda: VALUES[INDEX])


@needs_torch
@pytest.mark.benchmark(group="gather 1M int64 indices float32")
def test_gather_torch(benchmark):
    x, i = torch.from_numpy(VALUES), torch.from_numpy(INDEX)
    benchmark(lambda: x[i])
