"""The OpenMP runtime corten shares with PyTorch, and the idle spin of its workers.

libgomp reads GOMP_SPINCOUNT / OMP_WAIT_POLICY once, when it loads. corten sets a short
spin on import unless the user chose one, which only takes effect when corten loads the
runtime first: PyTorch loads the same runtime (one libgomp per process), so importing
PyTorch first leaves libgomp's default. These tests check the effect, CPU time burnt by
idle workers after one of corten's parallel regions, not just the environment variable.
Each runs in a fresh process: the runtime is loaded once per process.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Idle CPU time after a 2-thread corten add, minus the same window after a 1-thread add
# (no parallel region): the median of 7 windows of 0.1 s, in seconds.
BURN = r"""
import importlib, statistics, sys, time
for name in sys.argv[1].split(","):
    importlib.import_module(name)
import numpy as np, corten

x = corten.from_numpy(np.ones(1 << 22, np.float32))
out = corten.from_numpy(np.empty(1 << 22, np.float32))

def window(threads):
    corten.set_num_threads(threads)
    corten.add(x, x, out=out)
    t = time.process_time()
    time.sleep(0.1)
    return time.process_time() - t

pairs = [(window(1), window(2)) for _ in range(7)]
print(statistics.median(two for _, two in pairs) - statistics.median(one for one, _ in pairs))
"""

MAPS = r"""
import importlib, sys
for name in sys.argv[1].split(","):
    importlib.import_module(name)
with open("/proc/self/maps") as f:
    print(len({line.split()[-1] for line in f if "libgomp" in line}))
"""


def _run(code: str, order: str, env: dict[str, str] | None = None) -> str:
    unset = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME", "OMP_NUM_THREADS")
    base = {k: v for k, v in os.environ.items() if k not in unset}
    proc = subprocess.run([sys.executable, "-c", code, order], env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _idle_burn(order: str, env: dict[str, str] | None = None) -> float:
    return float(_run(BURN, order, env))


needs_two_cpus = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2 if hasattr(os, "sched_getaffinity") else True,
    reason="with fewer CPUs than threads libgomp throttles its spin: nothing to tell apart",
)


def _runtime_bundled() -> bool:
    """An installed wheel carries its own libgomp under a renamed soname (auditwheel)."""
    import corten

    libs = os.path.join(os.path.dirname(os.path.dirname(corten.__file__)), "corten.libs")
    return os.path.isdir(libs) and any(n.startswith("libgomp") for n in os.listdir(libs))


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs /proc/self/maps")
@pytest.mark.parametrize("order", ["corten,torch", "torch,corten"])
def test_corten_and_torch_share_one_openmp_runtime(order):
    pytest.importorskip("torch")
    # A source build links the system's libgomp.so.1, which the loader shares with
    # PyTorch's; the wheel's renamed copy cannot be shared (docs/packaging.md).
    assert _run(MAPS, order) == ("2" if _runtime_bundled() else "1")


def _runtime_defaults() -> dict[str, str]:
    """The runtime's own idle-spin setting: libgomp's for a GCC build, libomp's for clang."""
    from corten.info import openmp_runtimes

    if any("libomp" in path for path in openmp_runtimes()):
        return {"KMP_BLOCKTIME": "200"}
    return {"GOMP_SPINCOUNT": "300000"}


@needs_two_cpus
def test_short_spin_default_takes_effect_when_corten_loads_the_runtime():
    short = _idle_burn("corten")
    long = _idle_burn("corten", _runtime_defaults())
    if long < 2e-4:
        pytest.skip(f"the runtime's default spin burns {long * 1e3:.2f} ms here: too little to compare")
    assert short < long / 2, (short, long)  # 30,000 rounds against 300,000: about 1/10


@needs_two_cpus
def test_spin_after_importing_torch_first_is_libgomps_default_unless_set_by_the_user():
    pytest.importorskip("torch")
    corten_first = _idle_burn("corten,torch")
    torch_first = _idle_burn("torch,corten")
    user_set = _idle_burn("torch,corten", {"GOMP_SPINCOUNT": "10000"})
    if torch_first < 2e-4:
        pytest.skip(f"libgomp's default spin burns {torch_first * 1e3:.2f} ms here: too little to compare")
    assert corten_first < torch_first / 2, (corten_first, torch_first)
    assert user_set < torch_first / 2, (user_set, torch_first)


def test_import_leaves_the_setting_alone_when_the_runtime_is_already_loaded():
    pytest.importorskip("torch")
    code = "import sys, os, importlib; importlib.import_module(sys.argv[1]); import corten; " \
           "print(os.environ.get('GOMP_SPINCOUNT'), os.environ.get('KMP_BLOCKTIME'), corten.ENV_SET_ON_IMPORT)"
    assert _run(code, "torch") == "None None {}"
    assert _run(code, "numpy") == "30000 1 {'GOMP_SPINCOUNT': '30000', 'KMP_BLOCKTIME': '1'}"
