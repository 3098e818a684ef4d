"""Predicted data-parallel efficiency on larger clusters from measured step times.

    python benchmarks/cost_model.py [--threads 2] [--steps 30] [--rounds 7]

Measures the compute time of one training step on this machine (forward,
backward, optimizer; no communication) for
  - the MLP of `python -m corten train` (784-512-10, batch 128), in corten;
  - the convnet Conv2d(1,32,3)-MaxPool-Conv2d(32,64,3)-MaxPool-Conv2d(64,64,3)-
    Linear(576,64)-Linear(64,10), batch 64, in PyTorch (corten has no Conv2d yet;
    skipped without PyTorch),
then applies the ring-allreduce model: with N machines each sends and receives
2(N-1)/N x G bytes per step (G: gradient bytes) over links of bandwidth B, in
2(N-1) rounds per bucket, each paying a latency a:

    t_comm = 2(N-1)/N * G / B + buckets * 2(N-1) * a
    efficiency without overlap = t_c / (t_c + t_comm)
    efficiency with perfect overlap = t_c / max(t_c, t_comm)   (an upper bound)

Weak scaling: every machine keeps the per-step batch above (the global batch
grows with N), one process per machine using all its cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time

import numpy as np

LINKS = {"10 Gbit/s": (10e9 / 8, 30e-6), "100 Gbit/s": (100e9 / 8, 5e-6)}  # bytes/s, latency per round
MACHINES = (4, 16, 64)


def median_step(step, steps: int, rounds: int) -> float:
    step()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - t0) / steps)
    return statistics.median(times)


def mlp_step(threads: int):
    import corten as ct
    from corten import nn, optim

    ct.set_num_threads(threads)
    ct.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    opt = optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    x = ct.tensor(rng.standard_normal((128, 784)).astype(np.float32))
    y = ct.tensor(rng.integers(0, 10, 128))

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step, sum(p.size for p in model.parameters())


def convnet_step(threads: int):
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
        nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10),
    )
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9)
    x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))

    def step() -> None:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    return step, sum(p.numel() for p in model.parameters())


def measure(model: str, threads: int, steps: int, rounds: int) -> None:
    """In a process of its own (corten and PyTorch each bring an OpenMP runtime)."""
    step, params = {"mlp": mlp_step, "convnet": convnet_step}[model](threads)
    print(json.dumps({"params": params, "seconds": median_step(step, steps, rounds)}))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--bucket-mb", type=float, default=25.0)
    p.add_argument("--measure", choices=["mlp", "convnet"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.measure:
        return measure(args.measure, args.threads, args.steps, args.rounds)
    models = {"MLP 784-512-10, batch 128 (corten)": "mlp"}
    if importlib.util.find_spec("torch") is not None:
        models["convnet, batch 64 (PyTorch)"] = "convnet"
    for name, key in models.items():
        cmd = [sys.executable, __file__, "--measure", key, "--threads", str(args.threads),
               "--steps", str(args.steps), "--rounds", str(args.rounds)]
        got = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        params, tc = got["params"], got["seconds"]
        grad = params * 4
        buckets = max(1, -(-grad // int(args.bucket_mb * 1e6)))
        print(f"{name}: {params:,} parameters ({grad / 1e6:.2f} MB of float32 gradients, {buckets} bucket(s)), "
              f"compute {tc * 1e3:.2f} ms/step on {args.threads} threads (median of {args.rounds} x {args.steps})")
        for link, (bw, lat) in LINKS.items():
            cells = []
            for n in MACHINES:
                comm = 2 * (n - 1) / n * grad / bw + buckets * 2 * (n - 1) * lat
                cells.append(f"N={n}: comm {comm * 1e3:.2f} ms, {tc / (tc + comm):.0%} / {tc / max(tc, comm):.0%}")
            print(f"  {link} (latency {lat * 1e6:.0f} us): " + "; ".join(cells))
    print("efficiency: without overlap / with perfect overlap")


if __name__ == "__main__":
    main()
