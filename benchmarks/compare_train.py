"""Run the corten training job and its PyTorch twin one after the other with
the same recipe and report accuracy, time and peak memory of each.

    .venv/bin/python benchmarks/compare_train.py [--epochs 5] [--threads N]

Each run is a separate process; peak RSS comes from os.wait4 of that process.
"""

from __future__ import annotations

import argparse
import json
import os
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


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    common = ["--epochs", str(args.epochs), "--seed", str(args.seed)]
    if args.threads:
        common += ["--threads", str(args.threads)]
    rows = []
    with tempfile.TemporaryDirectory() as out_dir:
        _, wall, rss = run([sys.executable, "-m", "corten", "train", "--no-progress", "--out", out_dir] + common)
        with open(os.path.join(out_dir, "history.json")) as f:
            h = json.load(f)
        rows.append(("corten", h["test_acc"], h["train_seconds"], wall, rss))
    out, wall, rss = run([sys.executable, os.path.join(HERE, "train_torch_twin.py"), "--json"] + common)
    t = json.loads(out.strip().splitlines()[-1])
    rows.append((t["framework"], t["test_acc"], t["train_seconds"], wall, rss))

    print(f"{args.epochs} epochs, Linear 784-512-10, RMSprop, batch 128, Fashion-MNIST")
    print(f"{'':14s} {'test acc':>9s} {'train s':>8s} {'process s':>10s} {'peak RSS MiB':>13s}")
    for name, acc, tr, wall, rss in rows:
        print(f"{name:14s} {acc:9.4f} {tr:8.1f} {wall:10.1f} {rss:13.0f}")
    c, t = rows
    print(f"corten / torch: training time {c[2] / t[2]:.2f}x, process time {c[3] / t[3]:.2f}x, "
          f"peak RSS {c[4] / t[4]:.2f}x")


if __name__ == "__main__":
    main()
