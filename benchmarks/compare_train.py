"""Run the corten training job and its PyTorch twin one after the other with
the same recipe and report accuracy, time and peak memory of each.

    .venv/bin/python benchmarks/compare_train.py [--model mlp|cnn] [--epochs 5] [--threads N] [--repeat N]
                                                 [--compile]

Each run is a separate process started with this script's environment, unchanged:
the harness tunes neither side (corten's own defaults, which its import and its
training job apply, are part of corten). Both batch the same way: a random
permutation per epoch, one gather per tensor per batch. Reported per side:
- step: the training loop's time over its steps (forward, loss, backward,
  optimizer step, and the loss/accuracy bookkeeping), evaluation excluded;
- process: end to end, from starting the process to its exit (interpreter,
  imports, data loading, training, evaluation, writing results);
- peak RSS, from os.wait4 of that process.
With --repeat N the two alternate (the first one alternates too) and the medians are shown.
With --compile the corten job runs its step through corten.compile (`train --compile`);
the PyTorch twin stays as it is (eager, its defaults).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd: list[str]) -> tuple[str, float, float]:
    """(stdout, wall seconds, peak RSS in MiB) of one child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}:\n{out}")
    return out, wall, usage.ru_maxrss / 1024


def step_seconds(history: list[dict]) -> float:
    """The training loops' time over their steps, across epochs."""
    return sum(h["seconds"] for h in history) / sum(h["steps"] for h in history)


def run_corten(common: list[str], extra: list[str]) -> tuple:
    with tempfile.TemporaryDirectory() as out_dir:
        _, wall, rss = run(
            [sys.executable, "-m", "corten", "train", "--no-progress", "--out", out_dir] + common + extra
        )
        with open(os.path.join(out_dir, "history.json")) as f:
            h = json.load(f)
    return ("corten --compile" if extra else "corten", h["test_acc"], step_seconds(h["history"]), wall, rss)


def run_torch(common: list[str], extra: list[str]) -> tuple:
    out, wall, rss = run([sys.executable, os.path.join(HERE, "train_torch_twin.py"), "--json"] + common)
    t = json.loads(out.strip().splitlines()[-1])
    return (t["framework"], t["test_acc"], step_seconds(t["history"]), wall, rss)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--limit", type=int, default=None, help="train on the first N samples only")
    p.add_argument("--repeat", type=int, default=1, help="alternate the two runs N times; report medians")
    p.add_argument("--compile", action="store_true", help="corten's job with --compile (corten.compile)")
    args = p.parse_args()
    common = ["--epochs", str(args.epochs), "--seed", str(args.seed), "--model", args.model]
    if args.threads:
        common += ["--threads", str(args.threads)]
    if args.limit:
        common += ["--limit", str(args.limit)]
    if args.epochs < 1 or args.repeat < 1 or (args.threads is not None and args.threads < 1):
        p.error("--epochs, --repeat and --threads need at least 1")
    runs: dict = {"corten": [], "torch": []}
    sides = {"corten": run_corten, "torch": run_torch}
    for r in range(args.repeat):
        for name in (("corten", "torch") if r % 2 == 0 else ("torch", "corten")):
            runs[name].append(sides[name](common, ["--compile"] if args.compile and name == "corten" else []))

    def median(rows: list, i: int) -> float:
        return statistics.median(r[i] for r in rows)

    rows = [(rs[0][0], *(median(rs, i) for i in range(1, 5))) for rs in runs.values()]
    threads = f"{args.threads} thread{'s' if args.threads > 1 else ''}" if args.threads \
        else "each library's default threads"
    print(
        f"{args.epochs} epochs, "
        + ("the convnet, RMSprop, batch 64" if args.model == "cnn" else "Linear 784-512-10, RMSprop, batch 128")
        + f", Fashion-MNIST, {threads}"
        + (f", median of {args.repeat} alternating runs" if args.repeat > 1 else "")
    )
    print(f"{'':18s} {'test acc':>9s} {'step ms':>8s} {'process s':>10s} {'peak RSS MiB':>13s}")
    for name, acc, step, wall, rss in rows:
        print(f"{name:18s} {acc:9.4f} {1e3 * step:8.2f} {wall:10.1f} {rss:13.0f}")
    c, t = rows
    print(
        f"corten / torch: step time {c[2] / t[2]:.2f}x, process time (start to exit) {c[3] / t[3]:.2f}x, "
        f"peak RSS {c[4] / t[4]:.2f}x"
    )


if __name__ == "__main__":
    main()
