"""Every `python -m corten bench` workload as pytest-benchmark tests, one group per workload.

Generated from the same registry (corten.bench.workloads), so the two never drift:

    pytest benchmarks/bench_suite.py --benchmark-only [-k matmul] [--benchmark-save=NAME]
    pytest benchmarks/bench_suite.py --benchmark-only --benchmark-compare
"""

from __future__ import annotations

import pytest
from corten.bench.runner import load_libraries
from corten.bench.workloads import LIBRARIES, WORKLOADS, Workload, missing_features

LIBS = load_libraries()
_data: dict[str, dict] = {}  # the last workload's inputs, shared by its libraries


def _inputs(w: Workload) -> dict:
    if w.name not in _data:
        _data.clear()
        _data[w.name] = w.data()
    return _data[w.name]


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("w", WORKLOADS, ids=[w.name for w in WORKLOADS])
def test_workload(benchmark, w: Workload, lib: str):
    if lib not in w.setups:
        pytest.skip(f"{w.name} has no {lib} version")
    if lib not in LIBS:
        pytest.skip(f"{lib} not installed")
    missing = missing_features(w)
    if missing:
        pytest.skip("needs " + ", ".join(missing))
    note = w.available()
    if note:
        pytest.skip(note)
    benchmark.group = w.name
    benchmark.name = lib
    benchmark.extra_info.update(flops=w.flops, bytes=w.bytes)
    fn = w.setups[lib](LIBS[lib], _inputs(w))
    if not w.warmup:  # a whole epoch: once, no calibration
        benchmark.pedantic(fn, rounds=1, iterations=1)
    else:
        benchmark(fn)
