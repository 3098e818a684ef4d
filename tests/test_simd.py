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

# Element-wise ops, reductions and matmul (tile, gemv and narrow shapes), in both float
# dtypes, on odd sizes (vector tails of every width), plus special values (±0, subnormals,
# ±inf, NaN, large |x|). Each expression is evaluated with `m` bound to corten in a fresh
# process (CORTEN_SIMD is read once per process; under qemu for the emulated CPUs) and to
# NumPy here: NumPy's own SIMD code has computed garbage under qemu, so the reference is
# always computed natively.
EXPRESSIONS = [
    "m.exp(x)", "m.exp(s)", "m.tanh(x)", "m.tanh(s)", "m.tanh(3 * x)", "m.expm1(x)", "m.expm1(s)",
    "m.log(m.abs(x) + 1)", "m.log(m.abs(s))", "m.log1p(m.abs(x))", "m.sin(x)", "m.cos(s)",
    "m.sigmoid(x)", "m.sigmoid(s)", "m.softplus(x)", "m.sqrt(m.abs(x))", "m.relu(x)",
    "x * y + x", "x - y", "x / (m.abs(y) + 1)", "m.maximum(x, y)", "m.minimum(x, s[:1])",
    "x.sum(0)", "x.sum(1)", "x.max(1)", "x.min(0)", "x.mean()", "x.T.sum(1)", "x.argmax(1)",
    "x[:, :100].sum()",
    "a0 @ b0", "a1 @ b1", "a2 @ b2", "a3 @ b3", "a4 @ b4", "a5 @ b5", "a6 @ b6",
    # The GEMM's bias + ReLU epilogue (nn.Linear, Sequential's Linear+ReLU) on tile edges.
    "lin(a5, b5.T, c5, True)", "lin(a6, b6.T, c6, False)",
    # Column-major B (x @ w.T with w contiguous): the transposing B-panel packs.
    "a0 @ bt0.T", "a4 @ bt4.T", "a5 @ bt5.T", "a6 @ bt6.T", "lin(a5, bt5, c5, True)",
]
# Shapes: tile, gemv, narrow, and the edges of each level's tile (6 x 16/8, 14 x 32/16).
MATMULS = ((37, 41, 129), (1, 53, 129), (37, 1, 129), (64, 3, 300), (14, 32, 7), (15, 33, 257), (13, 17, 40))
TOLERANCE = {"float32": 2e-5, "float64": 1e-12}


def _special(dt: type) -> np.ndarray:
    f = np.finfo(dt)
    v = [0.0, -0.0, np.inf, -np.inf, np.nan, f.tiny, -f.tiny, f.smallest_subnormal, -f.smallest_subnormal,
         f.tiny / 3, f.max, -f.max, 1e-30, -1e-30, 1e-8, -1e-8, 0.5, -0.5, 8.5, -8.5, 9.05, -9.05, 20.0, -20.0,
         80.0, 88.7, 89.0, -87.0, -103.0, -104.5, 700.0, 710.0, -740.0, -746.0, 1e30, -1e30]
    return np.array(v * 3, dtype=dt)  # 108 values: every vector width sees them in its body and tail


def _inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    d = {}
    for dt in TOLERANCE:
        d[f"x_{dt}"] = rng.standard_normal((37, 129)).astype(dt)
        d[f"y_{dt}"] = rng.standard_normal((37, 129)).astype(dt)
        d[f"s_{dt}"] = _special(np.dtype(dt).type)
        for i, (mm, n, k) in enumerate(MATMULS):
            d[f"a{i}_{dt}"] = rng.standard_normal((mm, k)).astype(dt)
            d[f"b{i}_{dt}"] = rng.standard_normal((k, n)).astype(dt)
            d[f"bt{i}_{dt}"] = np.ascontiguousarray(d[f"b{i}_{dt}"].T)
            d[f"c{i}_{dt}"] = rng.standard_normal(n).astype(dt)
    return d


class _NumPyAsCorten:
    """NumPy under corten's names, for the reference side of EXPRESSIONS."""

    def __getattr__(self, name: str):
        return getattr(np, name)

    @staticmethod
    def sigmoid(x):
        with np.errstate(over="ignore"):
            return 1 / (1 + np.exp(-x))

    @staticmethod
    def softplus(x):
        return np.logaddexp(0, x)

    @staticmethod
    def relu(x):
        return np.maximum(x, 0)


def _linear_rows(x: np.ndarray, w: np.ndarray, bias: np.ndarray, relu: bool) -> np.ndarray:
    y = x @ w.T + bias
    return np.maximum(y, 0) if relu else y


# The corten side: reads the inputs, writes each expression's result (npz files named
# in argv), prints what was chosen.
CHECK = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import corten as ct

    d = dict(np.load(sys.argv[1]))
    exprs = json.loads(sys.argv[3])
    res = {}
    for dt in ("float32", "float64"):
        env = {k[: -len(dt) - 1]: ct.from_numpy(v) for k, v in d.items() if k.endswith(dt)}
        env["m"] = ct
        env["lin"] = ct.ops.fused.linear_rows  # relu?(x @ w.T + bias) through the GEMM's epilogue
        for i, e in enumerate(exprs):
            res[f"{i}_{dt}"] = eval(e, env).numpy()
    np.savez(sys.argv[2], **res)
    print(json.dumps({"level": ct.simd_level(), "elementwise": ct._C.elementwise_kernel(),
                      "gemm": ct.gemm_kernel()}))
    """
)


# OpenBLAS's own name for the core each emulated CPU is (see test_runs_on_an_older_cpu).
OPENBLAS_CORE = {"Westmere": "Nehalem", "Haswell": "Haswell"}


def _check(tmp_path, simd: str | None, prefix: tuple[str, ...] = (), env_extra: dict | None = None) -> dict:
    """Runs CHECK (under `prefix`, e.g. qemu) and compares its results with NumPy's here."""
    d = _inputs()
    np.savez(tmp_path / "in.npz", **d)
    env = {k: v for k, v in os.environ.items() if k != "CORTEN_SIMD"}
    env.update(env_extra or {})
    if simd is not None:
        env["CORTEN_SIMD"] = simd
    r = subprocess.run([*prefix, sys.executable, "-c", CHECK, str(tmp_path / "in.npz"), str(tmp_path / "out.npz"),
                        json.dumps(EXPRESSIONS)], env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    got = np.load(tmp_path / "out.npz")
    ref_m = _NumPyAsCorten()
    for dt, rtol in TOLERANCE.items():
        env_np = {k[: -len(dt) - 1]: v for k, v in d.items() if k.endswith(dt)}
        env_np["m"] = ref_m
        env_np["lin"] = _linear_rows
        for i, e in enumerate(EXPRESSIONS):
            with np.errstate(all="ignore"):
                want = eval(e, env_np)
            np.testing.assert_allclose(got[f"{i}_{dt}"], want, rtol=rtol, atol=rtol * 10, err_msg=f"{e} in {dt}")
            assert got[f"{i}_{dt}"].dtype == np.asarray(want).dtype, e
    return json.loads(r.stdout.strip().splitlines()[-1])


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
def test_each_level_matches_numpy(level, tmp_path):
    got = _check(tmp_path, level)
    assert got["level"] == _expected(level)
    # element-wise ops and reductions run the kernels built for the level in force
    assert got["elementwise"] == got["level"]
    assert (got["gemm"] == "portable") == (got["level"] == "generic")


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
def test_runs_on_an_older_cpu(cpu, level, tmp_path):
    assert QEMU is not None, "CI is set but qemu-x86_64 is missing (.ci/run installs qemu-user)"
    # Where the machine pins NumPy's OpenBLAS to a core (OPENBLAS_CORETYPE=Haswell on some
    # hosts), the emulated CPU gets the pin that names it: a Haswell pin on an emulated
    # Westmere runs AVX2 code there and dies of SIGILL before corten is reached.
    pin = {"OPENBLAS_CORETYPE": OPENBLAS_CORE[cpu]} if os.environ.get("OPENBLAS_CORETYPE") else {}
    got = _check(tmp_path, None, (QEMU, "-cpu", cpu), pin)
    assert got["level"] == level and got["elementwise"] == level


# The documented bounds (cpp/vecmath.h, docs/reliability.md) of the float32 kernels, in
# ulps of the float32 result against NumPy's float64 result, at every level the CPU runs.
ULP_BOUNDS = {"exp": 1.0, "tanh": 2.1, "expm1": 1.5, "sigmoid": 2.5, "log": 1.0}


def _every_float32(step: int) -> np.ndarray:
    """Every `step`-th bit pattern (both signs: subnormals, normals, ±inf, NaNs) and the edges."""
    bits = np.arange(0, 2**32, step, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    f = np.finfo(np.float32)
    edges = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, f.tiny, -f.tiny, f.smallest_subnormal,
                      -f.smallest_subnormal, f.max, -f.max, 88.72, 88.73, -103.97, -103.98, 9.01, -9.01],
                     np.float32)
    return np.concatenate([x, edges])


def _ulp_error(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|got - exact| in units of the float32 spacing at `exact` (float64); where the exact result
    rounds to a non-finite float32 (inf, NaN), 0 when got is that value and inf otherwise."""
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = exact.astype(np.float32)
        err = np.abs(got.astype(np.float64) - exact) / np.spacing(np.abs(rounded)).astype(np.float64)
    finite = np.isfinite(rounded)
    same = (got == rounded) | (np.isnan(got) & np.isnan(rounded))
    return np.where(finite, np.where(np.isfinite(got), err, np.inf), np.where(same, 0.0, np.inf))


def _exact(name: str, x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        x64 = x.astype(np.float64)
        if name == "sigmoid":
            e = np.exp(-np.abs(x64))
            return np.where(x64 >= 0, 1.0, e) / (1.0 + e)
        if name == "log":
            return np.log(x64)
        return getattr(np, name)(x64)


@pytest.mark.parametrize("name", sorted(ULP_BOUNDS))
def test_float32_kernels_stay_within_their_ulp_bound_at_every_level(name):
    x = _every_float32(4099)  # ~1M inputs spread over every exponent
    exact = _exact(name, x)
    results = {}
    try:
        for level in ct.simd_available():
            ct.set_simd_level(level)
            got = getattr(ct, name)(ct.from_numpy(x)).numpy()
            err = _ulp_error(got, exact)
            worst = int(np.argmax(err))
            assert err[worst] <= ULP_BOUNDS[name], (
                f"{name} at {level}: {err[worst]:.2f} ulp at x={x[worst]!r} (got {got[worst]!r}, "
                f"exact {exact[worst]!r})")
            results[level] = got
    finally:
        ct.set_simd_level(None)
    # the special values of the Array API standard, exactly (sign of zero included)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan], np.float32)
    with np.errstate(all="ignore"):
        want = getattr(_NumPyAsCorten(), name)(specials) if name != "sigmoid" else 1 / (1 + np.exp(-specials))
    for level in results:
        ct.set_simd_level(level)
        try:
            got = getattr(ct, name)(ct.from_numpy(specials)).numpy()
        finally:
            ct.set_simd_level(None)
        np.testing.assert_array_equal(got, want)
        assert (np.signbit(got) == np.signbit(want))[~np.isnan(want)].all(), (name, level, got)


OPTIMIZERS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 1e-3, "alpha": 0.9}),
    ("RMSprop", {"lr": 1e-2, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 1e-2, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 1e-2}),
]


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZERS)])
def test_optimizer_steps_give_the_same_bits_at_every_level(name, kwargs):
    """Each level's copy of the update loops rounds as the portable one (no fused multiply-add)."""
    rng = np.random.default_rng(3)
    # odd sizes: every vector width's body and tail; both float dtypes
    shapes = [((37, 129), np.float32), ((1001,), np.float32), ((515,), np.float64)]
    starts = [rng.standard_normal(shape).astype(dt) for shape, dt in shapes]
    grads = [[rng.standard_normal(p.shape).astype(p.dtype) for p in starts] for _ in range(3)]
    results = {}
    try:
        for level in ct.simd_available():
            ct.set_simd_level(level)
            params = [ct.from_numpy(p.copy()).requires_grad_() for p in starts]
            opt = getattr(ct.optim, name)(params, **kwargs)
            for step in grads:
                for p, g in zip(params, step, strict=True):
                    p.grad = ct.from_numpy(g)
                opt.step()
            results[level] = [p.detach().numpy() for p in params]
    finally:
        ct.set_simd_level(None)
    for level, got in results.items():
        for a, b in zip(got, results["generic"], strict=True):
            assert a.tobytes() == b.tobytes(), f"{name} at {level} differs from the portable copy"
        assert not np.array_equal(got[0], starts[0])  # the steps did move the parameters
