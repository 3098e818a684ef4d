"""The programs tests/test_distributed.py launches under mpiexec, one per scenario:

    mpiexec -n N python -m mpi4py tests/mpi_jobs.py SCENARIO OUT_DIR

Each rank checks what it can against NumPy and raises on a mismatch (under
`-m mpi4py` an exception in one rank aborts the whole job, so the test sees a
non-zero exit); results that need a single-process oracle go to OUT_DIR as
.npz files written by rank 0.
"""

from __future__ import annotations

import os
import sys

import corten as ct
import numpy as np
from corten import distributed as dist
from corten import nn, optim
from corten.nn.parallel import DistributedDataParallel

OPTIMIZERS = ("sgd", "rmsprop", "adam")
STEPS, BATCH, FEATURES = 4, 24, 10


def make_data(seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((STEPS * BATCH, FEATURES)).astype(np.float32)
    y = rng.integers(0, 5, STEPS * BATCH).astype(np.int64)
    return x, y


def make_model(seed: int) -> nn.Module:
    ct.manual_seed(seed)
    return nn.Sequential(nn.Linear(FEATURES, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 5))


def make_optimizer(name: str, params: object) -> optim.Optimizer:
    if name == "sgd":
        return optim.SGD(params, lr=0.1, momentum=0.9)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=1e-2, alpha=0.9)
    return optim.Adam(params, lr=1e-2)


def train(model: nn.Module, opt_name: str, rank: int, world: int, micro: int) -> dict:
    """STEPS steps; each takes rows [rank*B/world, (rank+1)*B/world) of the global
    batch B, split into `micro` micro-batches (all but the last under no_sync)."""
    x, y = make_data()
    opt = make_optimizer(opt_name, model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    share = BATCH // world
    for step in range(STEPS):
        lo = step * BATCH + rank * share
        opt.zero_grad()
        for m in range(micro):
            a, b = lo + m * share // micro, lo + (m + 1) * share // micro
            last = m == micro - 1
            ctx = model.no_sync() if not last and isinstance(model, DistributedDataParallel) else _null()
            with ctx:
                loss = loss_fn(model(ct.tensor(x[a:b])), ct.tensor(y[a:b])) * (1.0 / micro)
                loss.backward()
        opt.step()
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def equivalence(out: str) -> None:
    rank, world = dist.get_rank(), dist.get_world_size()
    for opt_name in OPTIMIZERS:
        for micro in (1, 2):
            # A different initialisation on every rank: the wrapper must broadcast rank 0's.
            model = DistributedDataParallel(make_model(seed=100 + rank), bucket_mb=0.0005)
            assert len(model._buckets) > 1, "the test needs several buckets"
            params = train(model, opt_name, rank, world, micro)
            if rank == 0:
                np.savez(os.path.join(out, f"{opt_name}-{micro}.npz"), **params)
            for name, p in params.items():  # every rank ends with rank 0's parameters
                got = dist.all_gather(ct.tensor(p)).numpy()
                assert np.array_equal(got, np.broadcast_to(p, got.shape)), f"{name} differs across ranks"


def collectives(out: str) -> None:
    rank, world = dist.get_rank(), dist.get_world_size()
    every = [np.random.default_rng(r).standard_normal((3, 4)).astype(np.float32) for r in range(world)]
    stack = np.stack(every)
    for op, ref in (("sum", stack.sum(0)), ("mean", stack.mean(0)), ("max", stack.max(0)), ("min", stack.min(0))):
        t = ct.tensor(every[rank])
        assert dist.all_reduce(t, op) is t
        np.testing.assert_allclose(t.numpy(), ref, rtol=1e-6, atol=1e-6, err_msg=op)
    # A transposed view goes through a contiguous copy and lands back in the base's memory.
    base = ct.tensor(every[rank].copy())
    view = base.mT
    dist.all_reduce(view, "sum")
    np.testing.assert_allclose(base.numpy(), stack.sum(0), rtol=1e-6, atol=1e-6)
    ints = ct.tensor(np.arange(6, dtype=np.int64) * (rank + 1))
    dist.all_reduce(ints)
    assert ints.tolist() == [i * world * (world + 1) // 2 for i in range(6)]
    b = ct.tensor(every[rank].copy())
    dist.broadcast(b, src=world - 1)
    assert np.array_equal(b.numpy(), every[-1])
    g = dist.all_gather(ct.tensor(every[rank]))
    assert np.array_equal(g.numpy(), stack)
    rows = np.concatenate(every)  # (3 * world, 4): rank r gets rows [3r, 3r + 3) of the sum
    mine = dist.reduce_scatter(ct.tensor(rows * (rank + 1)))
    full = rows * (world * (world + 1) // 2)
    np.testing.assert_allclose(mine.numpy(), full[3 * rank : 3 * rank + 3], rtol=1e-5)
    # The wrapper sends rank 0's parameters and buffers at construction and its buffers before each forward.
    ct.manual_seed(rank)
    bn = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    bn[1].running_mean.numpy()[:] = rank
    ddp = DistributedDataParallel(bn)
    for name, t in bn.state_dict().items():
        every_t = dist.all_gather(t.detach()).numpy()
        assert (every_t == every_t[0]).all(), f"{name} differs across ranks after construction"
    assert bn[1].running_mean.tolist() == [0.0, 0.0, 0.0]
    ddp(ct.tensor(np.random.default_rng(rank).standard_normal((5, 4)).astype(np.float32)))
    got = dist.all_gather(bn[1].running_mean).numpy()
    assert not np.array_equal(got[0], got[-1])  # local batch statistics moved them apart...
    ddp(ct.tensor(np.ones((5, 4), np.float32)))
    got = dist.all_gather(bn[1].running_mean).numpy()
    assert (got == got[0]).all()  # ...and the next forward started from rank 0's on every rank
    dist.barrier()
    print(f"rank {rank}: collectives ok", flush=True)


def mismatch(out: str) -> None:
    rank = dist.get_rank()
    for what, t in (
        ("shape", ct.zeros(2 + rank)),
        ("dtype", ct.zeros(3, dtype=ct.float32 if rank == 0 else ct.float64)),
    ):
        try:
            dist.all_reduce(t)
        except ValueError as e:
            print(f"rank {rank}: {what} mismatch: {e}", flush=True)
        else:
            raise AssertionError(f"a {what} mismatch went through")
    try:
        DistributedDataParallel(nn.Linear(4, 3 + rank))
    except ValueError as e:
        print(f"rank {rank}: model mismatch: {e}", flush=True)
    else:
        raise AssertionError("different models went through")
    # The world is still usable afterwards.
    t = ct.ones(2)
    dist.all_reduce(t)
    assert t.tolist() == [dist.get_world_size()] * 2
    print(f"rank {rank}: still in step", flush=True)


def crash(out: str) -> None:
    dist.barrier()
    if dist.get_rank() == 1:
        raise RuntimeError("rank 1 fails on purpose")
    dist.barrier()  # rank 0 would wait here forever without the abort
    dist.barrier()


if __name__ == "__main__":
    dist.init()
    globals()[sys.argv[1]](sys.argv[2])
