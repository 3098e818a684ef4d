"""Collectives across processes over MPI (mpi4py), for data-parallel training.

Launched under MPI (`mpiexec -n 2 python -m mpi4py script.py`), init() joins
MPI's world; a plain process is a world of size 1 in which every collective
is a no-op, so the same script runs alone or distributed. mpi4py is imported
only when the process was launched by an MPI launcher (or imported it already).

Collectives work on the tensors' own memory (NumPy buffers handed to MPI, no
pickling); a non-contiguous tensor goes through a contiguous copy. Each
collective first exchanges one integer per rank (a checksum of shape and
dtype), so tensors that differ across ranks raise a ValueError naming every
rank's shape and dtype instead of corrupting memory or hanging.
"""

from __future__ import annotations

import os
import sys
import zlib
from typing import Any

import numpy as np

from .tensor import Tensor

_comm: Any = None  # the mpi4py communicator; None: not initialised, or a world of one
_initialized = False

# Environment variables MPI launchers set in the processes they start (MPICH's hydra,
# Open MPI, PMIx-based launchers, Slurm's srun with PMI).
_LAUNCHER_VARS = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")
_OPS = ("sum", "mean", "max", "min")
_DTYPES = {np.dtype(d) for d in ("bool", "uint8", "int32", "int64", "float32", "float64")}


def _launched_by_mpi() -> bool:
    return "mpi4py.MPI" in sys.modules or any(v in os.environ for v in _LAUNCHER_VARS)


def init(comm: Any = None) -> None:
    """Join the process group: `comm` (an mpi4py communicator) if given, else
    MPI's COMM_WORLD when this process was started by an MPI launcher, else a
    world of size 1. Calling it again does nothing."""
    global _comm, _initialized
    if _initialized:
        return
    if comm is None and _launched_by_mpi():
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise RuntimeError(
                "this process was started by an MPI launcher but mpi4py is not installed: "
                "pip install 'corten[distributed]'"
            ) from e
        comm = MPI.COMM_WORLD
    _comm = comm if comm is not None and comm.Get_size() > 1 else None
    _initialized = True


def is_initialized() -> bool:
    return _initialized


def _world() -> Any:
    if not _initialized:
        init()
    return _comm


def get_rank() -> int:
    comm = _world()
    return 0 if comm is None else comm.Get_rank()


def get_world_size() -> int:
    comm = _world()
    return 1 if comm is None else comm.Get_size()


def comm() -> Any:
    """The mpi4py communicator, or None in a world of size 1."""
    return _world()


def barrier() -> None:
    c = _world()
    if c is not None:
        c.Barrier()


def _mpi() -> Any:
    from mpi4py import MPI

    return MPI


def _check_tensor(t: Any, what: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{what} expects a corten Tensor, got {type(t).__name__}")
    if t._a.dtype not in _DTYPES:
        raise TypeError(f"{what}: unsupported dtype {t._a.dtype}")
    return t


def agree(c: Any, desc: str, what: str) -> None:
    """Raise a ValueError on every rank unless `desc` is the same string on all ranks
    (one allgather of a checksum; the strings themselves are exchanged only when
    they differ, so the error can name every rank's)."""
    mine = np.array([zlib.crc32(desc.encode())], np.int64)
    every = np.empty(c.Get_size(), np.int64)
    c.Allgather(mine, every)
    if (every == mine[0]).all():
        return
    seen = c.allgather(desc)  # every rank sees the mismatch, so every rank takes part
    detail = ", ".join(f"rank {r}: {d}" for r, d in enumerate(seen))
    raise ValueError(f"{what} differ across ranks ({detail})")


def check_same(c: Any, t: Tensor, what: str) -> None:
    """Raise a ValueError on every rank unless t has the same shape and dtype on all ranks."""
    agree(c, f"shape {tuple(t.shape)} {t._a.dtype}", f"{what}: tensors")


def _contiguous(t: Tensor) -> tuple[np.ndarray, bool]:
    a = t._a
    if a.flags.c_contiguous and a.flags.writeable:
        return a, False
    return np.ascontiguousarray(a), True


def _store(t: Tensor, buf: np.ndarray, copied: bool) -> Tensor:
    if copied:
        t._a[...] = buf
    t._bump_version()
    return t


def all_reduce(t: Tensor, op: str = "sum") -> Tensor:
    """Reduce t element-wise over all ranks, in place ("sum", "mean", "max", "min"); returns t."""
    _check_tensor(t, "all_reduce")
    if op not in _OPS:
        raise ValueError(f"all_reduce: op must be one of {_OPS}, got {op!r}")
    if op == "mean" and t._a.dtype.kind != "f":
        raise TypeError(f"all_reduce: op 'mean' needs a float tensor, got {t._a.dtype}")
    if op in ("sum", "mean") and t._a.dtype == np.bool_:
        raise TypeError("all_reduce: cannot sum a bool tensor")
    c = _world()
    if c is None:
        return t
    check_same(c, t, "all_reduce")
    MPI = _mpi()
    buf, copied = _contiguous(t)
    c.Allreduce(MPI.IN_PLACE, buf, op={"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op])
    if op == "mean":
        np.multiply(buf, buf.dtype.type(1.0 / c.Get_size()), out=buf)
    return _store(t, buf, copied)


def broadcast(t: Tensor, src: int = 0) -> Tensor:
    """Overwrite t on every rank with rank src's t, in place; returns t."""
    _check_tensor(t, "broadcast")
    c = _world()
    n = 1 if c is None else c.Get_size()
    if not 0 <= src < n:
        raise ValueError(f"broadcast: src {src} is not a rank of a world of size {n}")
    if c is None:
        return t
    check_same(c, t, "broadcast")
    buf, copied = _contiguous(t)
    c.Bcast(buf, root=src)
    return _store(t, buf, copied)


def all_gather(t: Tensor) -> Tensor:
    """A new tensor of shape (world_size, *t.shape): every rank's t, in rank order."""
    _check_tensor(t, "all_gather")
    c = _world()
    if c is None:
        return Tensor._wrap(t._a[None].copy())
    check_same(c, t, "all_gather")
    out = np.empty((c.Get_size(), *t.shape), t._a.dtype)
    c.Allgather(np.ascontiguousarray(t._a), out)
    return Tensor._wrap(out)


def reduce_scatter(t: Tensor, op: str = "sum") -> Tensor:
    """Reduce t over all ranks and give rank r the r-th of world_size equal slices
    of the result along the first dimension (a new tensor)."""
    _check_tensor(t, "reduce_scatter")
    if op not in _OPS:
        raise ValueError(f"reduce_scatter: op must be one of {_OPS}, got {op!r}")
    if op == "mean" and t._a.dtype.kind != "f":
        raise TypeError(f"reduce_scatter: op 'mean' needs a float tensor, got {t._a.dtype}")
    c = _world()
    n = 1 if c is None else c.Get_size()
    if t.ndim == 0 or t.shape[0] % n:
        raise ValueError(f"reduce_scatter: the first dimension of shape {tuple(t.shape)} must divide by {n} ranks")
    if c is None:
        return Tensor._wrap(t._a.copy())
    check_same(c, t, "reduce_scatter")
    MPI = _mpi()
    out = np.empty((t.shape[0] // n, *t.shape[1:]), t._a.dtype)
    mpi_op = {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op]
    c.Reduce_scatter_block(np.ascontiguousarray(t._a), out, op=mpi_op)
    if op == "mean":
        np.multiply(out, out.dtype.type(1.0 / n), out=out)
    return Tensor._wrap(out)


__all__ = [
    "init",
    "is_initialized",
    "get_rank",
    "get_world_size",
    "comm",
    "barrier",
    "all_reduce",
    "broadcast",
    "all_gather",
    "reduce_scatter",
]
