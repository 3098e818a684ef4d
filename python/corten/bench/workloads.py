"""The workload registry: every benchmark defined once, for every library.

A `Workload` names the work, how many flops or bytes one call moves, a `data()`
that makes the shared NumPy inputs, and one setup per library. A setup takes the
library module and that data and returns a zero-argument callable: the thing timed.
`python -m corten bench` and `benchmarks/bench_suite.py` both read `WORKLOADS`.
"""

from __future__ import annotations

import fnmatch
import gzip
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LIBRARIES = ("corten", "numpy", "torch")
FASHION_MNIST = os.environ.get("CORTEN_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")

Setup = Callable[[Any, dict], Callable[[], Any]]


@dataclass(frozen=True)
class Workload:
    name: str
    group: str  # matmul, elementwise, reduction, overhead, conv, training
    data: Callable[[], dict]
    setups: dict[str, Setup]
    flops: float = 0.0  # per call; a GFLOP/s rate is shown when set
    bytes: float = 0.0  # per call; a GB/s rate is shown when set
    dtype: str = "float32"
    needs: tuple[str, ...] = ()  # corten features, e.g. "matmul", "nn.Linear"
    quick: bool = True  # part of --quick
    min_rounds: int = 3
    warmup: bool = True
    available: Callable[[], str | None] = field(default=lambda: None)  # a note when it cannot run


def corten_feature(path: str) -> bool:
    """Whether corten has `path` ("matmul", "nn.functional.cross_entropy"), importing submodules."""
    import corten

    obj: Any = corten
    parts = path.split(".")
    for i, part in enumerate(parts):
        if not hasattr(obj, part):
            try:
                obj = importlib.import_module("corten." + ".".join(parts[: i + 1]))
                continue
            except ImportError:
                return False
        obj = getattr(obj, part)
    return True


def missing_features(w: Workload) -> list[str]:
    return [f"corten.{p}" for p in w.needs if not corten_feature(p)]


def select(pattern: str | None, quick: bool = False) -> list[Workload]:
    """Workloads matching any comma-separated pattern: a glob, or else a substring."""
    chosen = [w for w in WORKLOADS if w.quick or not quick]
    if not pattern:
        return chosen
    pats = [p.strip().lower() for p in pattern.split(",") if p.strip()]

    def hit(name: str, p: str) -> bool:
        return fnmatch.fnmatch(name, p) if any(c in p for c in "*?[") else p in name

    return [w for w in chosen if any(hit(w.name.lower(), p) for p in pats)]


def _wrap(mod: Any, arr: np.ndarray) -> Any:
    """A library's tensor over the same memory (NumPy: the array itself)."""
    return arr if mod.__name__ == "numpy" else mod.from_numpy(arr)


def _rand(shape: tuple, dtype: str = "float32", seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape, dtype=np.dtype(dtype)) * 2 - 1


def _all_libs(setup: Setup) -> dict[str, Setup]:
    return {lib: setup for lib in LIBRARIES}


# -- matmul ---------------------------------------------------------------------------------------
def _matmul(m: int, k: int, n: int, dtype: str, quick: bool) -> Workload:
    def data() -> dict:
        return {"a": _rand((m, k), dtype, 1), "b": _rand((k, n), dtype, 2)}

    def setup(mod: Any, d: dict) -> Callable[[], Any]:
        a, b = _wrap(mod, d["a"]), _wrap(mod, d["b"])
        return lambda: mod.matmul(a, b)

    shape = str(m) if m == k == n else f"{m}x{k}@{k}x{n}"
    short = "f32" if dtype == "float32" else "f64"
    return Workload(f"matmul/{short}/{shape}", "matmul", data, _all_libs(setup), flops=2.0 * m * k * n,
                    dtype=dtype, needs=("matmul",), quick=quick)


MLP_SHAPES = [(128, 784, 512), (784, 128, 512), (128, 512, 784), (128, 512, 10)]
_MATMULS = [
    _matmul(m, k, n, dt, quick=max(m, k, n) < 2048)
    for dt in ("float32", "float64")
    for (m, k, n) in [(s, s, s) for s in (128, 512, 1024, 2048)] + MLP_SHAPES
]

# -- element-wise on 16M float32 ------------------------------------------------------------------
N = 4096  # 4096 x 4096 = 16M elements, 64 MB in float32


def _square_data() -> dict:
    return {"a": _rand((N, N)), "b": _rand((N, N), seed=1), "row": _rand((N,), seed=2)}


def _binary(name: str, kind: str) -> Workload:
    """a + b into a preallocated out, so the time is the kernel's, not the allocator's page faults."""

    def setup(mod: Any, d: dict) -> Callable[[], Any]:
        a = _wrap(mod, d["a"])
        b = _wrap(mod, d["row" if kind == "bcast" else "b"])
        if kind == "transposed":
            a = a.T
        out = _wrap(mod, np.empty((N, N), np.float32))
        return lambda: mod.add(a, b, out=out)

    nbytes = 2 * N * N * 4 + N * 4 if kind == "bcast" else 3 * N * N * 4
    return Workload(f"elementwise/{name}", "elementwise", _square_data, _all_libs(setup), bytes=nbytes)


def _unary(name: str, ops: dict[str, Callable[[Any, Any, Any], Any]]) -> Workload:
    def setup_for(lib: str) -> Setup:
        def setup(mod: Any, d: dict) -> Callable[[], Any]:
            a, out = _wrap(mod, d["a"]), _wrap(mod, np.empty((N, N), np.float32))
            return lambda: ops[lib](mod, a, out)

        return setup

    return Workload(f"elementwise/{name}/16M", "elementwise", _square_data,
                    {lib: setup_for(lib) for lib in LIBRARIES}, bytes=2 * N * N * 4)


def _same(op: str) -> dict:
    return {lib: (lambda mod, a, out: getattr(mod, op)(a, out=out)) for lib in LIBRARIES}


_ELEMENTWISE = [
    _binary("add/16M", "contiguous"),
    _binary("add-bcast/4096x4096+4096", "bcast"),
    _binary("add-transposed/16M", "transposed"),
    _unary("exp", _same("exp")),
    _unary("tanh", _same("tanh")),
    _unary("relu", {
        "corten": lambda mod, a, out: mod.relu(a, out=out),
        "numpy": lambda mod, a, out: mod.maximum(a, 0, out=out),
        "torch": lambda mod, a, out: mod.clamp(a, min=0, out=out),
    }),
]


# -- reductions over a 4096 x 4096 float32 --------------------------------------------------------
def _reduction(op: str, axis: int | None) -> Workload:
    torch_op = {"max": "amax"}.get(op, op)

    def setup_for(lib: str) -> Setup:
        def setup(mod: Any, d: dict) -> Callable[[], Any]:
            a = _wrap(mod, d["a"])
            fn = getattr(mod, torch_op if lib == "torch" else op)
            if axis is None:
                return lambda: fn(a)
            if lib == "torch":
                return lambda: fn(a, dim=axis)
            return lambda: fn(a, axis=axis)

        return setup

    where = "all" if axis is None else f"axis{axis}"
    return Workload(f"reduction/{op}/{where}", "reduction", lambda: {"a": _rand((N, N))},
                    {lib: setup_for(lib) for lib in LIBRARIES}, bytes=N * N * 4, needs=(op,))


_REDUCTIONS = [_reduction("sum", ax) for ax in (0, 1, None)] + [
    _reduction(op, ax) for op in ("max", "argmax") for ax in (0, 1)
]


# -- small-op call overhead -----------------------------------------------------------------------
def _overhead(requires_grad: bool) -> Workload:
    def data() -> dict:
        return {"a": _rand((10,)), "b": _rand((10,), seed=1)}

    def setup(mod: Any, d: dict) -> Callable[[], Any]:
        if mod.__name__ == "numpy":
            a, b = d["a"], d["b"]
        else:
            a = mod.tensor(d["a"], requires_grad=requires_grad)
            b = mod.tensor(d["b"], requires_grad=requires_grad)
        return lambda: a + b

    libs = ("corten", "torch") if requires_grad else LIBRARIES
    return Workload("overhead/add/10" + ("-grad" if requires_grad else ""), "overhead", data,
                    {lib: setup for lib in libs})


_OVERHEAD = [_overhead(False), _overhead(True)]

# -- training: the 784-512-10 network -------------------------------------------------------------
BATCH = 128
MLP_FLOPS = 2.0 * BATCH * (2 * 784 * 512 + 3 * 512 * 10)  # forward + weight grads + one input grad
NN_API = ("nn.Linear", "nn.functional.cross_entropy", "optim.SGD")


def _mlp(mod: Any, job: bool = False) -> Callable[[Any, Any], Any]:
    """One optimizer step of 784-512-10 (ReLU, cross-entropy), written once for corten and torch:
    SGD, or with job=True the training job's default (`python -m corten train`: RMSprop)."""
    if mod.__name__ == "torch":
        mod.manual_seed(0)
    l1, l2 = mod.nn.Linear(784, 512), mod.nn.Linear(512, 10)
    params = [*l1.parameters(), *l2.parameters()]
    opt = mod.optim.RMSprop(params, lr=1e-3, alpha=0.9) if job else mod.optim.SGD(params, lr=0.05)
    cross_entropy = mod.nn.functional.cross_entropy

    def step(x: Any, y: Any) -> Any:
        opt.zero_grad()
        loss = cross_entropy(l2(mod.relu(l1(x))), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _step_data() -> dict:
    rng = np.random.default_rng(0)
    return {"x": rng.random((BATCH, 784), dtype=np.float32), "y": rng.integers(0, 10, BATCH)}


def _setup_step(mod: Any, d: dict) -> Callable[[], Any]:
    step, x, y = _mlp(mod), mod.from_numpy(d["x"]), mod.from_numpy(d["y"])
    return lambda: step(x, y)


def _idx(path: str, offset: int) -> np.ndarray:
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load_fashion_mnist(root: str = FASHION_MNIST) -> tuple[np.ndarray, np.ndarray]:
    """The 60000 training images as float32 in [0, 1] (rows of 784) and int64 labels."""
    x = _idx(os.path.join(root, "train-images-idx3-ubyte.gz"), 16).reshape(-1, 784)
    y = _idx(os.path.join(root, "train-labels-idx1-ubyte.gz"), 8)
    return (x / np.float32(255)).astype(np.float32), y.astype(np.int64)


def _epoch_data() -> dict:
    x, y = load_fashion_mnist()
    order = np.random.default_rng(0).permutation(len(x))
    return {"x": np.ascontiguousarray(x[order]), "y": np.ascontiguousarray(y[order])}


def _setup_epoch(mod: Any, d: dict) -> Callable[[], Any]:
    """468 steps over batches cut once from a fixed shuffle: the job's compute, not its data loader."""
    step, n = _mlp(mod, job=True), len(d["x"]) // BATCH * BATCH
    batches = [(mod.from_numpy(d["x"][i:i + BATCH]), mod.from_numpy(d["y"][i:i + BATCH]))
               for i in range(0, n, BATCH)]

    def epoch() -> None:
        for x, y in batches:
            step(x, y)

    return epoch


def _fashion_mnist_note() -> str | None:
    ok = os.path.exists(os.path.join(FASHION_MNIST, "train-images-idx3-ubyte.gz"))
    return None if ok else f"no Fashion-MNIST data in {FASHION_MNIST}"


_TRAINING = [
    Workload("train/mlp-step/b128", "training", _step_data,
             {"corten": _setup_step, "torch": _setup_step}, flops=MLP_FLOPS, needs=NN_API),
    Workload("train/fashion-mnist/epoch", "training", _epoch_data,
             {"corten": _setup_epoch, "torch": _setup_epoch}, flops=MLP_FLOPS * (60000 // BATCH),
             needs=(*NN_API, "optim.RMSprop"), quick=False, min_rounds=2, warmup=False,
             available=_fashion_mnist_note),
]

# -- convolution and pooling: the convnet job's layers at batch 64, a 3x3 conv at 56x56x64, and its
# depthwise form (groups = channels, as in MobileNet's blocks) ------------------------------------------
CONV_API = ("nn.functional.conv2d", "autograd.grad")


def _conv(name: str, x: tuple, w: tuple, padding: int, groups: int, backward: bool, quick: bool = True) -> Workload:
    n, _, h, wd = x
    o, cg, kh, kw = w
    oh, ow = h + 2 * padding - kh + 1, wd + 2 * padding - kw + 1
    macs = n * o * oh * ow * cg * kh * kw

    def data() -> dict:
        return {"x": _rand(x, seed=1), "w": _rand(w, seed=2) * 0.1, "b": _rand((o,), seed=3),
                "g": _rand((n, o, oh, ow), seed=4)}

    def setup(mod: Any, d: dict) -> Callable[[], Any]:
        xs, ws, bs = (mod.from_numpy(d[k]) for k in ("x", "w", "b"))
        conv2d = mod.nn.functional.conv2d
        if not backward:
            return lambda: conv2d(xs, ws, bs, padding=padding, groups=groups)
        for t in (xs, ws, bs):
            t.requires_grad_(True)
        g = mod.from_numpy(d["g"])
        return lambda: mod.autograd.grad(conv2d(xs, ws, bs, padding=padding, groups=groups), [xs, ws, bs], g)

    kind = "fwd+bwd" if backward else "fwd"
    return Workload(f"conv/{name}/{kind}", "conv", data, {"corten": setup, "torch": setup},
                    flops=2.0 * macs * (3 if backward else 1), needs=CONV_API, quick=quick)


def _maxpool(backward: bool) -> Workload:
    shape = (64, 32, 26, 26)

    def data() -> dict:
        return {"x": _rand(shape, seed=1), "g": _rand((64, 32, 13, 13), seed=2)}

    def setup(mod: Any, d: dict) -> Callable[[], Any]:
        x = mod.from_numpy(d["x"])
        pool = mod.nn.functional.max_pool2d
        if not backward:
            return lambda: pool(x, 2)
        x.requires_grad_(True)
        g = mod.from_numpy(d["g"])
        return lambda: mod.autograd.grad(pool(x, 2), [x], g)

    return Workload(f"pool/max2-64x32x26x26/{'fwd+bwd' if backward else 'fwd'}", "conv", data,
                    {"corten": setup, "torch": setup}, bytes=4.0 * (np.prod(shape) * 1.25),
                    needs=("nn.functional.max_pool2d", "autograd.grad"))


_CONV_LAYERS = [
    ("job1-64x1x28x28-k3x32", (64, 1, 28, 28), (32, 1, 3, 3), 0, 1),
    ("job2-64x32x13x13-k3x64", (64, 32, 13, 13), (64, 32, 3, 3), 0, 1),
    ("job3-64x64x5x5-k3x64", (64, 64, 5, 5), (64, 64, 3, 3), 0, 1),
    ("3x3-32x64x56x56", (32, 64, 56, 56), (64, 64, 3, 3), 1, 1),
    ("dw3x3-32x64x56x56", (32, 64, 56, 56), (64, 1, 3, 3), 1, 64),
]
_CONV = [_conv(name, x, w, p, groups, bwd, quick=not name.startswith("3x3") or not bwd)
         for name, x, w, p, groups in _CONV_LAYERS for bwd in (False, True)] + [_maxpool(False), _maxpool(True)]


def _cnn(mod: Any) -> Callable[[Any, Any], Any]:
    """One RMSprop step of the convnet job (`python -m corten train --model cnn`)."""
    nn = mod.nn
    if mod.__name__ == "torch":
        mod.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(), nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = mod.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9)

    def step(x: Any, y: Any) -> Any:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _cnn_data() -> dict:
    rng = np.random.default_rng(0)
    return {"x": rng.random((64, 1, 28, 28), dtype=np.float32), "y": rng.integers(0, 10, 64)}


def _setup_cnn_step(mod: Any, d: dict) -> Callable[[], Any]:
    step, x, y = _cnn(mod), mod.from_numpy(d["x"]), mod.from_numpy(d["y"])
    return lambda: step(x, y)


CNN_MACS = 64 * (32 * 26 * 26 * 9 + 64 * 11 * 11 * 288 + 64 * 3 * 3 * 576 + 576 * 64 + 640)
_TRAINING.append(Workload("train/cnn-step/b64", "training", _cnn_data, {"corten": _setup_cnn_step,
                          "torch": _setup_cnn_step}, flops=6.0 * CNN_MACS,
                          needs=("nn.Conv2d", "nn.MaxPool2d", "optim.RMSprop")))

WORKLOADS: list[Workload] = _MATMULS + _ELEMENTWISE + _REDUCTIONS + _OVERHEAD + _CONV + _TRAINING
