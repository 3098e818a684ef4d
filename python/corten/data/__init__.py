"""Datasets and batching: Dataset, TensorDataset, DataLoader.

A DataLoader over a TensorDataset builds each batch with one gather per
tensor (or a slice when not shuffling); other datasets are indexed per sample
and collated by stacking. Gathers write into a small ring of buffers per
tensor, reusing one only when nothing outside the ring references it any more
(see _BatchBuffers): every batch a caller can still see is its own memory.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .. import _C
from .. import random as _random
from ..random import Generator, randperm
from ..tensor import Tensor


class Dataset:
    """Anything with __getitem__(i) and __len__()."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples are the i-th rows of tensors that share their first dimension."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        ts = [t if isinstance(t, Tensor) else Tensor._wrap(np.asarray(t)) for t in tensors]
        n = ts[0].shape[0] if ts[0].ndim else None
        if any(t.ndim == 0 or t.shape[0] != n for t in ts):
            raise ValueError(f"size mismatch between tensors: first dimensions {[t.shape[:1] for t in ts]}")
        self.tensors = tuple(ts)

    def __getitem__(self, index: Any) -> tuple:
        return tuple(Tensor._wrap(t._a[index]) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def batch(self, index: slice | np.ndarray) -> tuple:
        """Rows `index` (a slice or an integer array) of every tensor, as contiguous tensors."""
        return tuple(Tensor._wrap(np.ascontiguousarray(t._a[index])) for t in self.tensors)


def default_collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples (tensors, numbers, or tuples/dicts of them) into batches."""
    first = samples[0]
    if isinstance(first, Tensor):
        return Tensor._wrap(np.stack([s._a for s in samples]))
    if isinstance(first, np.ndarray):
        return Tensor._wrap(np.stack(samples))
    if isinstance(first, bool):
        return Tensor._wrap(np.array(samples, np.bool_))
    if isinstance(first, int):
        return Tensor._wrap(np.array(samples, np.int64))
    if isinstance(first, float):
        return Tensor._wrap(np.array(samples, np.float32))
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, (tuple, list)):
        return (
            type(first)(default_collate(list(col)) for col in zip(*samples, strict=False))
            if isinstance(first, tuple)
            else [default_collate(list(col)) for col in zip(*samples, strict=False)]
        )
    return list(samples)


def _ring_refs(ring: list, i: int) -> int:
    return sys.getrefcount(ring[i])


# What _ring_refs says for an array only a list holds (measured, not assumed:
# interpreters count the call's own references differently).
_RING_ONLY = _ring_refs([np.empty(1)], 0)


class _BatchBuffers:
    """Gathers rows of a TensorDataset's tensors into reused arrays.

    Each tensor has a ring of at most `size` arrays. A gather takes an array of the
    ring that nothing else references (the batch tensor handed out earlier, its
    views, a NumPy array or DLPack capsule made from it, a graph that saved it: each
    holds a reference) and of the right shape; otherwise it allocates a new one,
    kept in the ring while there is room. A caller that keeps every batch (list(loader))
    therefore gets fresh memory for each, as without the ring."""

    def __init__(self, size: int = 3) -> None:
        self.size = size
        self.rings: list[list[np.ndarray]] = []

    def gather(self, tensors: Sequence[Tensor], idx: np.ndarray) -> tuple:
        if len(self.rings) != len(tensors):
            self.rings = [[] for _ in tensors]
        return tuple(Tensor._wrap(self._take(t._a, idx, ring)) for t, ring in zip(tensors, self.rings, strict=True))

    def _take(self, src: np.ndarray, idx: np.ndarray, ring: list) -> np.ndarray:
        shape = (len(idx), *src.shape[1:])
        out = None
        for i in range(len(ring)):
            if _ring_refs(ring, i) == _RING_ONLY:
                if ring[i].shape == shape and ring[i].dtype == src.dtype:
                    out = ring[i]
                    break
                if out is None:  # a free array of another shape (the short last batch): replaced
                    ring[i] = out = np.empty(shape, src.dtype)
                    break
        if out is None:
            out = np.empty(shape, src.dtype)
            if len(ring) < self.size:
                ring.append(out)
        if idx.dtype == np.int64:  # the gather kernel: whole rows copied in parallel
            _C.gather(src, [idx], out, [0])
        else:
            # indices were checked against the length (DataLoader._order): 'wrap' only maps
            # negative ones as indexing does, and skips take's buffered 'raise' mode
            np.take(src, idx, axis=0, out=out, mode="wrap")
        return out


class DistributedSampler:
    """The indices of one rank's shard of a dataset, for data-parallel training.

    Every rank draws the same permutation (from seed + epoch: call set_epoch at
    the start of each epoch) and takes every num_replicas-th index from its rank
    on, so the shards are disjoint and all have len(self) indices. When the
    dataset does not divide evenly, drop_last drops the tail; otherwise the
    first indices are repeated to fill the last round (as PyTorch does), so all
    ranks run the same number of batches. num_replicas and rank default to
    corten.distributed's world."""

    def __init__(
        self,
        dataset: Any,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from .. import distributed

            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} is not in [0, {num_replicas}) (num_replicas {num_replicas})")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, int(seed), drop_last, 0
        n = len(dataset)
        if drop_last:
            self.num_samples = n // self.num_replicas
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def indices(self) -> np.ndarray:
        n = len(self.dataset)
        order = randperm(n, Generator(self.seed + self.epoch))._a if self.shuffle else np.arange(n)
        if self.total_size > n:
            order = np.resize(order, self.total_size)  # repeats from the start, as often as needed
        return order[self.rank : self.total_size : self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class DataLoader:
    """Iterate over a dataset in batches.

    shuffle draws a fresh permutation each epoch from `generator` (a
    corten.random.Generator, or an int seed); without one, from corten's default
    generator (corten.manual_seed). A `sampler` (an iterable of indices with a
    length, e.g. DistributedSampler) chooses the samples and their order
    instead.

    state_dict() / load_state_dict() save and restore where an epoch stands (the
    generator state its order was drawn from and the batches handed out), so a
    resumed run continues the same order from the next batch. With a sampler the
    order is the sampler's (a DistributedSampler's depends only on its epoch, which
    the caller sets again before resuming)."""

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: Any = None,
        collate_fn: Any = None,
        sampler: Any = None,
    ) -> None:
        if int(batch_size) < 1:
            raise ValueError(f"batch_size should be a positive integer, got {batch_size}")
        if sampler is not None and shuffle:
            raise ValueError("sampler and shuffle=True are mutually exclusive: the sampler chooses the order")
        self.sampler = sampler
        self.dataset, self.batch_size, self.shuffle, self.drop_last = (
            dataset,
            int(batch_size),
            shuffle,
            drop_last,
        )
        if isinstance(generator, (int, np.integer)):
            generator = Generator(int(generator))
        self.generator = generator
        self.collate_fn = collate_fn or default_collate
        self._order_rng: tuple[int, int] | None = None  # generator state the current order came from
        self._batches = 0  # batches of the current epoch handed out
        self._resume: tuple[tuple[int, int] | None, int] | None = None

    def __len__(self) -> int:
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def state_dict(self) -> dict:
        """{"order_rng": [seed, offset] or None, "batches": handed out this epoch,
        "generator": the loader's own generator state, or None when it draws from
        corten's default generator (which the caller saves)}."""
        rng = None if self._order_rng is None else [int(v) for v in self._order_rng]
        own = None if self.generator is None else [int(v) for v in self.generator.get_state()]
        return {"order_rng": rng, "batches": self._batches, "generator": own}

    def load_state_dict(self, state: dict) -> None:
        """Make the next iteration replay the saved epoch's order from batch
        `batches` on. The loader's own generator is restored; corten's default
        generator is not touched (restore it separately)."""
        batches, rng, own = state.get("batches"), state.get("order_rng"), state.get("generator")
        if not isinstance(batches, int) or isinstance(batches, bool) or not 0 <= batches <= len(self):
            raise ValueError(f"DataLoader state: batches must be an int in [0, {len(self)}], got {batches!r}")
        if own is not None and (self.generator is None or not isinstance(own, (list, tuple)) or len(own) != 2
                                or not all(isinstance(v, int) for v in own)):
            raise ValueError(f"DataLoader state: generator must be [seed, offset] of the loader's own "
                             f"generator, got {own!r}")
        if own is not None:
            self.generator.set_state(tuple(own))  # type: ignore[union-attr]
        if batches == 0 and rng is None:  # saved before the epoch's order was drawn
            self._resume = None
            return
        if self.shuffle and (not isinstance(rng, (list, tuple)) or len(rng) != 2
                             or not all(isinstance(v, int) for v in rng)):
            raise ValueError(f"DataLoader state: order_rng must be [seed, offset] when shuffling, got {rng!r}")
        self._resume = (tuple(rng) if self.shuffle else None, batches)  # type: ignore[arg-type]

    def _order(self, n: int, rng: tuple[int, int] | None) -> np.ndarray | None:
        if self.sampler is not None:
            order = self.sampler.indices() if hasattr(self.sampler, "indices") else list(self.sampler)
            return np.asarray(order, np.int64)
        if not self.shuffle:
            return None
        if rng is not None:  # replay an order drawn earlier, leaving the generator alone
            g = Generator()
            g.set_state(rng)
            return randperm(n, g)._a
        g = self.generator or _random.default_generator
        self._order_rng = g.get_state()
        return randperm(n, g)._a

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        resume, self._resume = self._resume, None
        rng, start = resume if resume is not None else (None, 0)
        if rng is not None:
            self._order_rng = rng
        order = self._order(n, rng)
        n = n if order is None else len(order)
        self._batches = start
        bs = self.batch_size
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
        buffers = None
        if fast and order is not None:
            size = len(self.dataset)
            if order.size and (int(order.max()) >= size or int(order.min()) < -size):
                bad = int(order.max()) if int(order.max()) >= size else int(order.min())
                raise IndexError(f"DataLoader: index {bad} is out of range for a dataset of {size} samples")
            buffers = _BatchBuffers()
        for b in range(start, len(self)):
            lo, hi = b * bs, min((b + 1) * bs, n)
            idx = slice(lo, hi) if order is None else order[lo:hi]
            self._batches = b + 1
            if buffers is not None:
                yield buffers.gather(self.dataset.tensors, idx)  # type: ignore[arg-type]
            elif fast:
                yield self.dataset.batch(idx)
            else:
                rows = range(lo, hi) if order is None else order[lo:hi].tolist()
                yield self.collate_fn([self.dataset[i] for i in rows])


__all__ = ["Dataset", "TensorDataset", "DataLoader", "DistributedSampler", "default_collate"]
