"""corten's gemm kernel levels against each other: one thread, interleaved rounds.

    .venv/bin/python benchmarks/gemm_kernels.py [--rounds 11] [--levels avx2,avx512]

Each round runs every level on the same operands, in alternating order, and times
it with this thread's CPU time (time.thread_time), so time spent preempted by other
processes on a shared machine is not counted. Prints GFLOP/s medians and the
speed-up of each level over the first one. The level is capped with
corten.set_gemm_kernel; each level runs its own tile and cache blocks.
"""

from __future__ import annotations

import argparse
import statistics
import time

import corten as ct
import numpy as np

SHAPES = [(128, 128, 128), (512, 512, 512), (128, 784, 512), (784, 128, 512), (128, 512, 784),
          (1024, 1024, 1024), (2048, 2048, 2048), (128, 512, 10)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=11)
    p.add_argument("--levels", default="avx2,avx512")
    args = p.parse_args()
    levels = args.levels.split(",")
    ct.set_num_threads(1)
    for dtype in (np.float32, np.float64):
        for m, k, n in SHAPES:
            rng = np.random.default_rng(0)
            a = ct.from_numpy(rng.random((m, k)).astype(dtype))
            b = ct.from_numpy(rng.random((k, n)).astype(dtype))
            reps = max(1, int(3e8 / (m * k * n)))
            times: dict[str, list[float]] = {lv: [] for lv in levels}
            for r in range(args.rounds):
                for lv in levels if r % 2 == 0 else levels[::-1]:
                    ct.set_gemm_kernel(lv)
                    a @ b  # warm-up: packing buffers, caches
                    t0 = time.thread_time()
                    for _ in range(reps):
                        a @ b
                    times[lv].append((time.thread_time() - t0) / reps)
            med = {lv: statistics.median(t) for lv, t in times.items()}
            cols = "  ".join(f"{lv} {2 * m * k * n / med[lv] / 1e9:5.0f} GFLOP/s" for lv in levels)
            ups = "  ".join(f"{lv}/{levels[0]} {med[levels[0]] / med[lv]:.2f}x" for lv in levels[1:])
            print(f"{np.dtype(dtype).name} {m}x{k}@{k}x{n}: {cols}  {ups}", flush=True)
    ct.set_gemm_kernel("best")


if __name__ == "__main__":
    main()
