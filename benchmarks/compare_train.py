"""Run the corten training job and its PyTorch twin one after the other with
the same recipe and report accuracy, time and peak memory of each.

    .venv/bin/python benchmarks/compare_train.py [--epochs 5] [--threads N]

Each run is a separate process; peak RSS comes from os.wait4 of that process.
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


def run_corten(common: list[str]) -> tuple:
    with tempfile.TemporaryDirectory() as out_dir:
        _, wall, rss = run(
            [sys.executable, "-m", "corten", "train", "--no-progress", "--out", out_dir] + common
        )
        with open(os.path.join(out_dir, "history.json")) as f:
            h = json.load(f)
    return ("corten", h["test_acc"], h["train_seconds"], wall, rss)


def run_torch(common: list[str]) -> tuple:
    out, wall, rss = run([sys.executable, os.path.join(HERE, "train_torch_twin.py"), "--json"] + common)
    t = json.loads(out.strip().splitlines()[-1])
    return (t["framework"], t["test_acc"], t["train_seconds"], wall, rss)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=1, help="alternate the two runs N times; report medians")
    args = p.parse_args()
    common = ["--epochs", str(args.epochs), "--seed", str(args.seed)]
    if args.threads:
        common += ["--threads", str(args.threads)]
    runs: dict = {"corten": [], "torch": []}
    for _ in range(args.repeat):
        runs["corten"].append(run_corten(common))
        runs["torch"].append(run_torch(common))

    def median(rows: list, i: int) -> float:
        return statistics.median(r[i] for r in rows)

    rows = [(rs[0][0], *(median(rs, i) for i in range(1, 5))) for rs in runs.values()]
    threads = args.threads or os.cpu_count()
    print(
        f"{args.epochs} epochs, Linear 784-512-10, RMSprop, batch 128, Fashion-MNIST, {threads} threads"
        + (f", median of {args.repeat} alternating runs" if args.repeat > 1 else "")
    )
    print(f"{'':18s} {'test acc':>9s} {'train s':>8s} {'process s':>10s} {'peak RSS MiB':>13s}")
    for name, acc, tr, wall, rss in rows:
        print(f"{name:18s} {acc:9.4f} {tr:8.1f} {wall:10.1f} {rss:13.0f}")
    c, t = rows
    print(
        f"corten / torch: training time {c[2] / t[2]:.2f}x, process time {c[3] / t[3]:.2f}x, "
        f"peak RSS {c[4] / t[4]:.2f}x"
    )


if __name__ == "__main__":
    main()
