"""Element-wise throughput and per-call overhead: corten vs NumPy vs PyTorch.

    .venv/bin/python -m pytest benchmarks/bench_elementwise.py --benchmark-only

One benchmark group per workload; each library computes the same expression
on the same data (allocating its result, as `a + b` does).
"""

from __future__ import annotations

import numpy as np
import pytest

import corten as ct

try:
    import torch
except ImportError:  # the torch column is skipped
    torch = None

N = 16 * 1024 * 1024
LIBS = ["corten", "numpy", "torch"]


def _data(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


_CACHE: dict = {}


def arrays(name):
    """NumPy inputs of one workload, built once per session."""
    if name not in _CACHE:
        _CACHE[name] = {
            "vec": lambda: (_data(N, 0), _data(N, 1)),
            "bcast": lambda: (_data((4096, 4096), 2), _data(4096, 3)),
            "square": lambda: (_data((4096, 4096), 4),),
            "small": lambda: (_data(10, 5), _data(10, 6)),
        }[name]()
    return _CACHE[name]


def convert(lib, arrs):
    if lib == "corten":
        return [ct.from_numpy(a) for a in arrs]
    if lib == "torch":
        if torch is None:
            pytest.skip("torch is not installed")
        return [torch.from_numpy(a) for a in arrs]
    return list(arrs)


def _exp(lib):
    return {"corten": ct.exp, "numpy": np.exp, "torch": torch.exp if torch else None}[lib]


def _tanh(lib):
    return {"corten": ct.tanh, "numpy": np.tanh, "torch": torch.tanh if torch else None}[lib]


def _relu(lib):
    if lib == "corten":
        return ct.relu
    if lib == "torch":
        return torch.relu
    return lambda x: np.maximum(x, np.float32(0))


WORKLOADS = {
    # name: (data, make callable from (lib, inputs))
    "add_16M": ("vec", lambda lib, a, b: lambda: a + b),
    "multiply_16M": ("vec", lambda lib, a, b: lambda: a * b),
    "relu_16M": ("vec", lambda lib, a, b: (lambda f: lambda: f(a))(_relu(lib))),
    "exp_16M": ("vec", lambda lib, a, b: (lambda f: lambda: f(a))(_exp(lib))),
    "tanh_16M": ("vec", lambda lib, a, b: (lambda f: lambda: f(a))(_tanh(lib))),
    "broadcast_add_4096x4096+4096": ("bcast", lambda lib, a, b: lambda: a + b),
    "add_transposed_4096x4096": ("square", lambda lib, a: (lambda at: lambda: a + at)(a.T)),
    "small_add_10": ("small", lambda lib, a, b: lambda: a + b),
}


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_elementwise(benchmark, workload, lib):
    data, make = WORKLOADS[workload]
    fn = make(lib, *convert(lib, arrays(data)))
    benchmark.group = workload
    benchmark.name = f"{workload}[{lib}]"
    if workload == "small_add_10":
        benchmark.pedantic(fn, rounds=200, iterations=500, warmup_rounds=5)
    else:
        benchmark.pedantic(fn, rounds=15, iterations=1, warmup_rounds=2)
