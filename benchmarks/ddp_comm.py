"""Share of a data-parallel step spent communicating, with and without overlap.

    mpiexec -n 2 python -m mpi4py benchmarks/ddp_comm.py [--rounds 15] [--steps 20]

The MLP of `python -m corten train` (784-512-10, global batch 128: 128/N per rank,
RMSprop) on random data, or a deeper one (--layers, --hidden) whose gradients
are spread over the backward pass. Modes, interleaved round by round so machine noise
hits them alike: `local` (backward under no_sync: no communication, the compute
alone), `barrier` (the same plus one MPI barrier per step: what waiting for
the slowest rank costs, with no data moved), `overlap` (buckets of --bucket-mb started from the gradient hooks during
backward), `end` (the same buckets, all started after backward) and `one` (the
default 25 MB: the MLP's 1.6 MB of gradients is one bucket, so nothing overlaps).
Also the bare Allreduce of the gradient bytes. Prints medians (rank 0).
"""

from __future__ import annotations

import argparse
import statistics
import time

import corten as ct
import numpy as np
from corten import distributed as dist
from corten import nn, optim
from corten.nn.parallel import DistributedDataParallel


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=128, help="global batch")
    p.add_argument("--bucket-mb", type=float, default=0.4)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--layers", type=int, default=1, help="hidden layers (1: the training job's MLP)")
    args = p.parse_args()
    dist.init()
    ct.set_num_threads(args.threads)
    rank, world = dist.get_rank(), dist.get_world_size()
    local_batch = args.batch // world
    rng = np.random.default_rng(rank)
    x = ct.tensor(rng.standard_normal((local_batch, 784)).astype(np.float32))
    y = ct.tensor(rng.integers(0, 10, local_batch))
    loss_fn = nn.CrossEntropyLoss()

    def build(**kw: object) -> tuple[DistributedDataParallel, optim.Optimizer]:
        ct.manual_seed(0)
        widths = [784] + [args.hidden] * args.layers
        layers: list[nn.Module] = []
        for a, b in zip(widths, widths[1:], strict=False):
            layers += [nn.Linear(a, b), nn.ReLU()]
        m = DistributedDataParallel(nn.Sequential(*layers, nn.Linear(widths[-1], 10)), **kw)
        return m, optim.RMSprop(m.parameters(), lr=1e-3, alpha=0.9)

    modes = {
        "local": build(bucket_mb=args.bucket_mb),
        "barrier": build(bucket_mb=args.bucket_mb),
        "overlap": build(bucket_mb=args.bucket_mb),
        "end": build(bucket_mb=args.bucket_mb, overlap=False),
        "one": build(),
    }
    grad_bytes = sum(p._a.nbytes for p in modes["one"][0].parameters())
    times: dict[str, list[float]] = {k: [] for k in [*modes, "allreduce"]}
    buf = np.ones(grad_bytes // 4, np.float32)
    comm = dist.comm()
    for r in range(args.rounds + 1):  # round 0 warms up
        for name, (model, opt) in modes.items():
            dist.barrier()
            t0 = time.perf_counter()
            for _ in range(args.steps):
                opt.zero_grad()
                loss = loss_fn(model(x), y)
                if name in ("local", "barrier"):
                    with model.no_sync():
                        loss.backward()
                    if name == "barrier":
                        dist.barrier()
                else:
                    loss.backward()
                opt.step()
            if r:
                times[name].append((time.perf_counter() - t0) / args.steps)
        if comm is not None:
            from mpi4py import MPI

            dist.barrier()
            t0 = time.perf_counter()
            for _ in range(args.steps):
                comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
            if r:
                times["allreduce"].append((time.perf_counter() - t0) / args.steps)
    if rank:
        return
    med = {k: statistics.median(v) * 1e3 for k, v in times.items() if v}
    print(
        f"MLP 784-{'-'.join([str(args.hidden)] * args.layers)}-10: "
        f"{world} ranks x {args.threads} thread(s), batch {args.batch} ({local_batch} per rank), "
        f"{grad_bytes / 1e6:.2f} MB of gradients, buckets of {args.bucket_mb} MB "
        f"({len(modes['overlap'][0]._buckets)} buckets); medians of {args.rounds} interleaved rounds "
        f"x {args.steps} steps"
    )
    base, synced = med["local"], med["barrier"]
    for k in ("local", "barrier", "overlap", "end", "one"):
        share = (med[k] - base) / med[k] * 100
        transfer = max(med[k] - synced, 0) / med[k] * 100
        print(f"  {k:<8} {med[k]:7.2f} ms/step   beyond local: {share:5.1f}% of the step, "
              f"beyond a barrier: {transfer:5.1f}%")
    if "allreduce" in med:
        gb = 2 * (world - 1) / world * grad_bytes / (med["allreduce"] / 1e3) / 1e9
        mb = grad_bytes / 1e6
        print(f"  bare Allreduce of {mb:.2f} MB: {med['allreduce']:.2f} ms ({gb:.2f} GB/s ring-equivalent)")


if __name__ == "__main__":
    main()
