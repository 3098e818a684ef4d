"""Datasets and batching: Dataset, TensorDataset, DataLoader.

A DataLoader over a TensorDataset builds each batch with one gather per
tensor (or a slice when not shuffling); other datasets are indexed per sample
and collated by stacking.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

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


class DataLoader:
    """Iterate over a dataset in batches.

    shuffle draws a fresh permutation each epoch from `generator` (a
    corten.random.Generator, or an int seed); without one, from corten's default
    generator (corten.manual_seed)."""

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: Any = None,
        collate_fn: Any = None,
    ) -> None:
        if int(batch_size) < 1:
            raise ValueError(f"batch_size should be a positive integer, got {batch_size}")
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

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self, n: int) -> np.ndarray | None:
        if not self.shuffle:
            return None
        return randperm(n, self.generator)._a

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = self._order(n)
        bs = self.batch_size
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
        for b in range(len(self)):
            lo, hi = b * bs, min((b + 1) * bs, n)
            idx = slice(lo, hi) if order is None else order[lo:hi]
            if fast:
                yield self.dataset.batch(idx)
            else:
                rows = range(lo, hi) if order is None else order[lo:hi].tolist()
                yield self.collate_fn([self.dataset[i] for i in rows])


__all__ = ["Dataset", "TensorDataset", "DataLoader", "default_collate"]
