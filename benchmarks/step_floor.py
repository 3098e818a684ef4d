"""How much of the 784-512-10 training step is the framework, and how much the kernels.

    .venv/bin/python benchmarks/step_floor.py [--epochs 3] [--threads N]

Runs, alternating epoch by epoch in one process, the issue's hand-written loop
(DataLoader with shuffle, nn.Sequential(Linear, ReLU, Linear), CrossEntropyLoss,
RMSprop, zero_grad/backward/step) and the same step as bare kernel calls on NumPy
arrays: the two gathers, the fused-epilogue GEMMs, cross-entropy forward and
backward, the three backward GEMMs, ReLU's mask, the bias sums and one RMSprop call,
with no graph, no modules and no Tensor objects. The second is what the step would
cost if recording, the backward walk and the DataLoader took no time; the difference
is the framework's share. Third, the step's five matrix products alone, back to back
on the same arrays: the GEMM floor (the step's matmul FLOPs at the GEMM's own rate for
these shapes), and the hand loop's time as a multiple of it. Fourth, the same hand
loop with its step wrapped in corten.compile (the recorded kernel calls replayed
without Python). Medians of the epochs' mean step times.
"""

from __future__ import annotations

import argparse
import statistics
import time

import corten as ct
import numpy as np
from corten import _C, nn, optim
from corten.data import DataLoader
from corten.train import _reuse_freed_memory, load_data

BATCH = 128


def framework_epoch(train: ct.data.TensorDataset, state: dict) -> float:
    model, opt, loss_fn, loader = state["model"], state["opt"], state["loss_fn"], state["loader"]
    t = time.perf_counter()
    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return (time.perf_counter() - t) / len(loader)


def compiled_epoch(state: dict) -> float:
    step, loader = state["step"], state["loader"]
    t = time.perf_counter()
    for x, y in loader:
        step(x, y)
    return (time.perf_counter() - t) / len(loader)


def make_loop(train: ct.data.TensorDataset) -> dict:
    ct.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    return {"model": model, "opt": optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9),
            "loss_fn": nn.CrossEntropyLoss(), "loader": DataLoader(train, batch_size=BATCH, shuffle=True)}


def make_compiled(train: ct.data.TensorDataset) -> dict:
    s = make_loop(train)
    model, opt, loss_fn = s["model"], s["opt"], s["loss_fn"]

    def step(x: ct.Tensor, y: ct.Tensor) -> ct.Tensor:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    s["step"] = ct.compile(step, state=[model, opt])
    return s


def kernels_epoch(x_all: np.ndarray, y_all: np.ndarray, s: dict) -> float:
    w1, b1, w2, b2 = s["params"]
    xb, yb, empty = s["xb"], s["yb"], s["empty"]
    order = s["rng"].permutation(len(x_all))
    steps = len(x_all) // BATCH
    t = time.perf_counter()
    for b in range(steps):
        idx = order[b * BATCH : (b + 1) * BATCH]
        np.take(x_all, idx, axis=0, out=xb, mode="wrap")
        np.take(y_all, idx, axis=0, out=yb, mode="wrap")
        h = np.empty((BATCH, 512), np.float32)
        _C.matmul_epilogue(xb, w1.T, h, b1, True)
        z = np.empty((BATCH, 10), np.float32)
        _C.matmul_epilogue(h, w2.T, z, b2, False)
        rows, lse = np.empty(BATCH, np.float32), np.empty(BATCH, np.float64)
        _C.xent_index_forward(z, yb, -100, 0.0, rows, lse, s["stats"])
        gz = np.empty_like(z)
        _C.xent_index_backward(z, yb, lse, np.full(BATCH, 1 / BATCH, np.float32), -100, 0.0, gz)
        gh, gw2, gb2 = np.empty_like(h), np.empty_like(w2), np.empty_like(b2)
        _C.matmul(gz, w2, gh, False)
        _C.matmul(gz.T, h, gw2, False)
        _C.reduce_sum(gz.T, gb2, 1)
        gm = np.empty_like(h)
        _C.relu_backward(h, gh, gm)
        gw1, gb1 = np.empty_like(w1), np.empty_like(b1)
        _C.matmul(gm.T, xb, gw1, False)
        _C.reduce_sum(gm.T, gb1, 1)
        _C.rmsprop_steps(s["params"], [gw1, gb1, gw2, gb2], s["sq"], [empty] * 4, [empty] * 4,
                         1e-3, 0.9, 1e-8, 0.0, 0.0, False)
    return (time.perf_counter() - t) / steps


def gemm_epoch(s: dict, steps: int) -> float:
    """The step's five products (two forward with their epilogues, three backward) alone."""
    w1, b1, w2, b2 = s["params"]
    xb, h, z, gz, gh, gw1, gw2 = (s[k] for k in ("xb", "h", "z", "gz", "gh", "gw1", "gw2"))
    t = time.perf_counter()
    for _ in range(steps):
        _C.matmul_epilogue(xb, w1.T, h, b1, True)
        _C.matmul_epilogue(h, w2.T, z, b2, False)
        _C.matmul(gz, w2, gh, False)
        _C.matmul(gz.T, h, gw2, False)
        _C.matmul(gh.T, xb, gw1, False)
    return (time.perf_counter() - t) / steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    if args.threads:
        ct.set_num_threads(args.threads)
    _reuse_freed_memory()  # as the training job does
    train, _, _ = load_data("fashion-mnist", None, False)
    fw, cs = make_loop(train), make_compiled(train)
    model = fw["model"]
    params = [t.detach().numpy().copy() for t in model.parameters()]
    ks = {"params": params, "sq": [np.zeros_like(a) for a in params], "empty": np.empty(0, np.float32),
          "xb": np.empty((BATCH, 784), np.float32), "yb": np.empty(BATCH, np.int64),
          "rng": np.random.default_rng(0), "stats": np.empty(2, np.float64)}
    x_all, y_all = train.tensors[0].numpy(), train.tensors[1].numpy()
    w1, _, w2, _ = params
    gs = {"params": params, "xb": x_all[:BATCH].copy(), "h": np.empty((BATCH, 512), np.float32),
          "z": np.empty((BATCH, 10), np.float32), "gz": np.full((BATCH, 10), 1e-3, np.float32),
          "gh": np.empty((BATCH, 512), np.float32), "gw1": np.empty_like(w1), "gw2": np.empty_like(w2)}
    steps = len(x_all) // BATCH
    framework_epoch(train, fw)  # warm-up epoch each (three for the compiled loop: its last
    compiled_epoch(cs)  # batch, a shape of its own, is recorded and checked once per epoch)
    compiled_epoch(cs)
    compiled_epoch(cs)
    kernels_epoch(x_all, y_all, ks)
    gemm_epoch(gs, steps)
    f, k, g, c = [], [], [], []
    for _ in range(args.epochs):
        f.append(framework_epoch(train, fw))
        c.append(compiled_epoch(cs))
        k.append(kernels_epoch(x_all, y_all, ks))
        g.append(gemm_epoch(gs, steps))
    fm, km, gm = statistics.median(f) * 1e3, statistics.median(k) * 1e3, statistics.median(g) * 1e3
    cm = statistics.median(c) * 1e3
    print(f"{ct.get_num_threads()} threads, median of {args.epochs} epochs each, alternating")
    print(f"hand-written loop (DataLoader, Sequential, autograd, RMSprop)  {fm:.3f} ms per step")
    print(f"the same kernels called bare on arrays                        {km:.3f} ms per step")
    print(f"the step's five matrix products alone (GEMM floor)              {gm:.3f} ms per step")
    print(f"the hand-written loop's step under corten.compile             {cm:.3f} ms per step")
    print(f"framework share: {fm - km:.3f} ms ({(fm - km) / fm:.0%} of the step); "
          f"hand-written loop / GEMM floor: {fm / gm:.2f}x; compiled / GEMM floor: {cm / gm:.2f}x")
    if cs["step"].reason:
        print(f"(corten.compile ran the step eagerly: {cs['step'].reason})")


if __name__ == "__main__":
    main()
