"""What `python -m corten train --distributed` changes, kept out of train.py.

Job(False) is the single-process job (every method passes through); Job(True)
joins the MPI world: each rank trains on its DistributedSampler shard with
batch_size / world_size samples per step, the model is wrapped in
DistributedDataParallel, metrics are reduced over the ranks, and only rank 0
prints and writes files.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from . import distributed as dist
from .data import DataLoader, DistributedSampler, TensorDataset
from .nn import Module
from .nn.parallel import DistributedDataParallel
from .tensor import Tensor

# Launchers' count of this machine's ranks (MPICH's hydra, Open MPI).
_LOCAL_SIZE_VARS = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE")


class Job:
    def __init__(self, distributed: bool) -> None:
        self.distributed = distributed
        if distributed:
            dist.init()
        self.rank = dist.get_rank() if distributed else 0
        self.world = dist.get_world_size() if distributed else 1
        self.is_main = self.rank == 0
        if not self.is_main:  # one copy of the log: rank 0's; errors still reach stderr
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (open for the life of the process)

    def threads(self, requested: int | None) -> int | None:
        """Kernel threads: as requested (--threads or OMP_NUM_THREADS), else the cores
        shared among this machine's ranks."""
        if requested or not self.distributed or "OMP_NUM_THREADS" in os.environ:
            return requested
        local = next((int(os.environ[v]) for v in _LOCAL_SIZE_VARS if v in os.environ), 1)
        return max(1, (os.cpu_count() or 1) // max(local, 1))

    def loader(self, ds: TensorDataset, batch_size: int, seed: int) -> DataLoader:
        """The training batches: all of them, or this rank's share of each global batch."""
        if not self.distributed:
            return DataLoader(ds, batch_size=batch_size, shuffle=True)
        if batch_size % self.world:
            raise ValueError(f"--batch-size {batch_size} must be a multiple of the {self.world} ranks")
        sampler = DistributedSampler(ds, self.world, self.rank, shuffle=True, seed=seed)
        return DataLoader(ds, batch_size=batch_size // self.world, sampler=sampler)

    def start_epoch(self, loader: DataLoader, epoch: int) -> None:
        if isinstance(loader.sampler, DistributedSampler):
            loader.sampler.set_epoch(epoch)

    def wrap(self, model: Module) -> Module:
        return DistributedDataParallel(model) if self.distributed else model

    def reduce_stats(self, stats: dict) -> dict:
        """Every rank ran the same number of equal batches, so the global loss and
        accuracy are the means over ranks; throughput adds up; time is the slowest's."""
        if not self.distributed:
            return stats
        local = [stats["train_loss"], stats["train_acc"], stats["samples_per_s"] * stats["seconds"]]
        v = dist.all_reduce(Tensor._wrap(np.array(local)), "sum")._a
        secs = float(dist.all_reduce(Tensor._wrap(np.array([stats["seconds"]])), "max")._a[0])
        return {
            **stats,
            "train_loss": float(v[0]) / self.world,
            "train_acc": float(v[1]) / self.world,
            "seconds": secs,
            "samples_per_s": float(v[2]) / secs,
        }

    def evaluate(self, evaluate: Any, model: Module, ds: TensorDataset) -> float:
        """Accuracy on ds: each rank scores a disjoint slice and the counts are summed."""
        inner = model.module if isinstance(model, DistributedDataParallel) else model
        if not self.distributed:
            return evaluate(inner, ds)
        lo, hi = len(ds) * self.rank // self.world, len(ds) * (self.rank + 1) // self.world
        part = TensorDataset(*ds.batch(slice(lo, hi)))
        correct = evaluate(inner, part) * len(part) if len(part) else 0.0
        total = dist.all_reduce(Tensor._wrap(np.array([correct, float(len(part))])), "sum")._a
        return float(round(total[0]) / total[1])


__all__ = ["Job"]
