"""The SIMD dispatch (cpp/simd.h): CORTEN_SIMD caps the level for every kernel
family, each level gives NumPy's results, a bad value is refused by name, and
`python -m corten info` reports what was chosen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import corten as ct
import numpy as np
import pytest

LEVELS = ["generic", "avx2", "avx512"]

# Run in a fresh process, since CORTEN_SIMD is read once per process: element-wise,
# reductions, matmul (tile, gemv and narrow shapes) and a softmax row kernel,
# in both float dtypes, on odd sizes (vector tails), compared with NumPy.
CHECK = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import corten as ct

    rng = np.random.default_rng(7)
    out = {"level": ct.simd_level(), "elementwise": ct._C.elementwise_kernel(), "gemm": ct.gemm_kernel()}
    for dt, rtol in ((np.float32, 2e-5), (np.float64, 1e-12)):
        x = rng.standard_normal((37, 129)).astype(dt)
        y = rng.standard_normal((37, 129)).astype(dt)
        X, Y = ct.from_numpy(x), ct.from_numpy(y)
        pairs = [
            (ct.exp(X), np.exp(x)), (ct.tanh(X), np.tanh(x)), (ct.log(ct.abs(X) + 1), np.log(np.abs(x) + 1)),
            (X * Y + X, x * y + x), (ct.maximum(X, Y), np.maximum(x, y)), (ct.sigmoid(X), 1 / (1 + np.exp(-x))),
            (X.sum(0), x.sum(0)), (X.sum(1), x.sum(1)), (X.max(1), x.max(1)), (X.mean(), x.mean()),
            (X.T.sum(1), x.T.sum(1)),
        ]
        # Tile edges of each level (6 x 16/8, 14 x 32/16) and the GEMM's bias + ReLU epilogue.
        for m, n, k in ((37, 41, 129), (1, 53, 129), (37, 1, 129), (64, 3, 300), (14, 32, 7), (15, 33, 257),
                        (13, 17, 40)):
            a, b = rng.standard_normal((m, k)).astype(dt), rng.standard_normal((k, n)).astype(dt)
            pairs.append((ct.from_numpy(a) @ ct.from_numpy(b), a @ b))
            bias, y = rng.standard_normal(n).astype(dt), np.empty((m, n), dt)
            ct._C.matmul_epilogue(np.asfortranarray(a), b, y, np.broadcast_to(bias, (m, n)), True)
            pairs.append((ct.from_numpy(y), np.maximum(a @ b + bias, 0)))
        for got, want in pairs:
            np.testing.assert_allclose(got.numpy(), want, rtol=rtol, atol=rtol * 10)
        assert (X.argmax(1).numpy() == x.argmax(1)).all()
    print(json.dumps(out))
    """
)


def _run(code: str, simd: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("CORTEN_SIMD", None)
    if simd is not None:
        env["CORTEN_SIMD"] = simd
    return subprocess.run([sys.executable, *args, "-c", code] if code else [sys.executable, *args],
                          env=env, capture_output=True, text=True, timeout=300)


def _expected(requested: str) -> str:
    best = ct.simd_available()[-1]
    return requested if LEVELS.index(requested) <= LEVELS.index(best) else best


@pytest.mark.parametrize("level", LEVELS)
def test_each_level_matches_numpy(level):
    r = _run(CHECK, level)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["level"] == _expected(level)
    if got["level"] == "generic":
        assert (got["elementwise"], got["gemm"]) == ("generic", "portable")
    else:  # the AVX2 kernels (or better) are in use
        assert got["elementwise"] == "avx2" and got["gemm"] != "portable"


def test_unset_picks_the_best_level():
    r = _run("import corten as ct; print(ct.simd_level(), ct.simd_available()[-1])", None)
    assert r.returncode == 0, r.stderr
    level, best = r.stdout.split()
    assert level == best


def test_level_names_are_case_insensitive():
    r = _run("import corten as ct; print(ct.simd_level())", "GENERIC")
    assert r.returncode == 0 and r.stdout.strip() == "generic", r.stderr


def test_bad_env_value_warns_with_the_allowed_values():
    r = _run("import corten as ct; print(ct.simd_level())", "sse9")
    assert r.returncode == 0, r.stderr
    assert "CORTEN_SIMD=sse9" in r.stderr and "generic, avx2, avx512" in r.stderr
    assert r.stdout.strip() == ct.simd_available()[-1]  # falls back to the CPU's best
    strict = _run("import corten", "sse9", "-W", "error::RuntimeWarning")
    assert strict.returncode != 0 and "allowed: generic, avx2, avx512" in strict.stderr


def test_set_simd_level_in_process():
    before = ct.simd_level()
    try:
        ct.set_simd_level("generic")
        assert ct.simd_level() == "generic" and ct.gemm_kernel() == "portable"
        x = np.linspace(-5, 5, 1001, dtype=np.float32)
        np.testing.assert_allclose(ct.exp(ct.from_numpy(x)).numpy(), np.exp(x), rtol=2e-6)
        with pytest.raises(ValueError, match="generic, avx2, avx512"):
            ct.set_simd_level("avx1024")
        ct.set_simd_level("avx512")  # a cap above the CPU's best leaves the best
        assert ct.simd_level() == ct.simd_available()[-1]
    finally:
        ct.set_simd_level(None)
    assert ct.simd_level() == before  # None restores the process's CORTEN_SIMD cap


def test_available_levels_are_ordered():
    avail = ct.simd_available()
    assert avail[0] == "generic" and avail == LEVELS[: len(avail)]
    feats = ct._C.cpu_features()
    assert ("avx2" in avail) == ("avx2" in feats and "fma" in feats)
    assert ("avx512" in avail) == all(f in feats for f in ("avx512f", "avx512bw", "avx512dq", "avx512vl"))


def test_info_command():
    r = _run("", "generic", "-m", "corten", "info")
    assert r.returncode == 0, r.stderr
    text = r.stdout
    for key in ("corten", "compiler", "compile flags", "SIMD level", "SIMD available", "threads",
                "OpenMP runtime", "safetensors", "torch", "mpi4py"):
        assert key in text, key
    assert ct.__version__ in text
    assert "generic (capped by CORTEN_SIMD=generic)" in text
    j = _run("", None, "-m", "corten", "info", "--json")
    assert j.returncode == 0, j.stderr
    d = json.loads(j.stdout)
    assert d["version"] == ct.__version__
    assert d["simd"]["level"] == ct.simd_available()[-1] and d["simd"]["available"] == ct.simd_available()
    assert d["threads"] >= 1 and d["build"]["build_type"] and d["build"]["compiler"]
    assert any("gomp" in p or "omp" in p for p in d["openmp"]["runtime"])  # the runtime the kernels loaded
    assert d["optional"]["numpy"] == np.__version__


# Emulated older CPUs (qemu user mode; .ci/run installs it): Westmere has no AVX at
# all, Haswell has AVX2 + FMA but no AVX-512. Any instruction beyond the emulated
# CPU's is an illegal-instruction crash, so this proves the dispatch never runs
# code the CPU lacks, whatever the CPU this was built on.
QEMU = shutil.which("qemu-x86_64")
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


@pytest.mark.skipif((QEMU is None and not IN_CI) or UNDER_ASAN,
                    reason="needs qemu-x86_64 (Debian's qemu-user; required with CI set); not under ASan")
@pytest.mark.parametrize(("cpu", "level"), [("Westmere", "generic"), ("Haswell", "avx2")])
def test_runs_on_an_older_cpu(cpu, level):
    assert QEMU is not None, "CI is set but qemu-x86_64 is missing (.ci/run installs qemu-user)"
    env = {k: v for k, v in os.environ.items() if k != "CORTEN_SIMD"}
    r = subprocess.run([QEMU, "-cpu", cpu, sys.executable, "-c", CHECK], env=env, capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["level"] == level
