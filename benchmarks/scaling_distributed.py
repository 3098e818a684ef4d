"""One process x T threads against N processes x 1 thread on the training job.

    python benchmarks/scaling_distributed.py [--repeats 5] [--epochs 1] [--procs 2]

Runs `python -m corten train` (the MLP, batch 128, Fashion-MNIST) alternately as
one process with --threads N and as `mpiexec -n N python -m mpi4py -m corten
train --distributed --threads 1`, and prints the medians of time per epoch and
samples per second read from each run's history.json (training only: data
loading and start-up are excluded). Needs the `distributed` extra.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def run(cmd: list[str], out: str) -> dict:
    subprocess.run(cmd + ["--out", out], check=True, capture_output=True, timeout=900)
    with open(os.path.join(out, "history.json")) as f:
        return json.load(f)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--procs", type=int, default=2)
    args = p.parse_args()
    py = sys.executable
    mpiexec = str(Path(py).parent / "mpiexec")
    common = ["-m", "corten", "train", "--epochs", str(args.epochs), "--no-progress"]
    configs = {
        f"1 process x {args.procs} threads": [py, *common, "--threads", str(args.procs)],
        f"{args.procs} processes x 1 thread": [
            mpiexec, "-n", str(args.procs), py, "-m", "mpi4py", *common, "--distributed", "--threads", "1"
        ],
    }
    results: dict[str, dict[str, list[float]]] = {k: {"epoch_s": [], "samples_s": [], "acc": []} for k in configs}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for name, cmd in configs.items():
                h = run(cmd, os.path.join(tmp, f"{r}-{len(results[name]['acc'])}-{name[0]}"))
                for e in h["history"]:
                    results[name]["epoch_s"].append(e["seconds"])
                    results[name]["samples_s"].append(e["samples_per_s"])
                results[name]["acc"].append(h["test_acc"])
                print(f"round {r + 1}: {name}: {h['history'][-1]['seconds']:.2f} s/epoch", file=sys.stderr)
    print(f"medians over {args.repeats} interleaved runs x {args.epochs} epoch(s):")
    base = None
    for name, v in results.items():
        epoch = statistics.median(v["epoch_s"])
        rate = statistics.median(v["samples_s"])
        base = base or rate
        print(
            f"  {name:<24} {epoch:6.2f} s/epoch  {rate:9,.0f} samples/s  (x{rate / base:.2f})  "
            f"test acc {statistics.median(v['acc']):.4f}"
        )


if __name__ == "__main__":
    main()
