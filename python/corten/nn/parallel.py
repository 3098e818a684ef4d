"""DistributedDataParallel: one model replica per process, gradients averaged over MPI.

At construction rank 0's parameters and buffers are broadcast to every rank.
The parameters that need gradients are grouped into buckets of about bucket_mb
megabytes, in reverse order of registration (roughly the order backward
produces their gradients). A post-accumulate-grad hook on every parameter marks
it done; when a bucket is complete its gradients are copied into one flat
buffer and a non-blocking MPI allreduce starts, while backward goes on with the
earlier layers. Buckets start strictly in index order on every rank (MPI
matches collectives by order). A callback queued on the autograd engine waits
for the requests when the pass ends and writes the averages back into .grad.

state_dict()/load_state_dict() are the wrapped module's own (no `module.`
prefix, unlike PyTorch), so a checkpoint of a distributed run loads into the
plain model.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import distributed as dist
from ..autograd import engine
from ..tensor import Tensor
from .module import Module


class _Bucket:
    def __init__(self, params: list[Tensor]) -> None:
        self.params = params
        self.sizes = [p.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int).tolist()
        self.flat = np.empty(self.offsets[-1], params[0]._a.dtype)
        self.pending = len(params)
        self.request: Any = None

    def fill(self) -> None:
        """Copy the gradients into the flat buffer (zeros for a parameter without one)."""
        for p, lo, hi in zip(self.params, self.offsets, self.offsets[1:], strict=False):
            if p.grad is None:
                self.flat[lo:hi] = 0
            else:
                self.flat[lo:hi] = p.grad._a.reshape(-1)

    def unpack(self, scale: float) -> None:
        """Write sum * scale back into each .grad (one pass over the memory)."""
        factor = self.flat.dtype.type(scale)
        for p, lo, hi in zip(self.params, self.offsets, self.offsets[1:], strict=False):
            avg = self.flat[lo:hi].reshape(p.shape)
            if p.grad is None:
                p.grad = Tensor._wrap(avg * factor)
            else:
                np.multiply(avg, factor, out=p.grad._a)
                p.grad._bump_version()


class DistributedDataParallel(Module):
    """Wrap `module` for data-parallel training; call it like the module.

    bucket_mb: target size of one gradient allreduce. overlap=False starts every
    bucket only when backward has finished (for measuring what overlap saves).
    broadcast_buffers: re-send rank 0's buffers (e.g. BatchNorm statistics)
    before every forward outside no_sync(), which makes forward a collective
    for modules with buffers (every rank must call it). For evaluation on
    some ranks only, call the wrapped `.module` directly."""

    def __init__(
        self, module: Module, bucket_mb: float = 25.0, broadcast_buffers: bool = True, overlap: bool = True
    ) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps a Module, got {type(module).__name__}")
        if bucket_mb <= 0:
            raise ValueError(f"bucket_mb must be positive, got {bucket_mb}")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.overlap = overlap
        self._sync = True
        self._world = dist.get_world_size()
        self._comm = dist.comm()
        self._sync_state(module.parameters())
        self._sync_state(module.buffers())
        self._buckets = self._make_buckets([p for p in module.parameters() if p.requires_grad], bucket_mb)
        self._where: dict[int, _Bucket] = {id(p): b for b in self._buckets for p in b.params}
        self._handles = []
        if self._comm is not None:
            for b in self._buckets:
                for p in b.params:
                    self._handles.append(p.register_post_accumulate_grad_hook(self._grad_ready))
        self._active = False
        self._next = 0

    def _sync_state(self, tensors: Iterator[Tensor]) -> None:
        """Broadcast from rank 0; one metadata check for all the tensors together."""
        ts = list(tensors)
        if self._comm is None or not ts:
            return
        desc = repr([(tuple(t.shape), str(t._a.dtype)) for t in ts])
        dist.agree(self._comm, desc, "DistributedDataParallel: the models")
        for t in ts:
            dist.broadcast(t, src=0)

    @staticmethod
    def _make_buckets(params: list[Tensor], bucket_mb: float) -> list[_Bucket]:
        limit = bucket_mb * 1e6
        buckets: list[_Bucket] = []
        group: list[Tensor] = []
        nbytes = 0
        for p in reversed(params):
            if group and (nbytes + p._a.nbytes > limit or p._a.dtype != group[0]._a.dtype):
                buckets.append(_Bucket(group))
                group, nbytes = [], 0
            group.append(p)
            nbytes += p._a.nbytes
        if group:
            buckets.append(_Bucket(group))
        return buckets

    # ---- the gradient exchange --------------------------------------------
    def _grad_ready(self, p: Tensor) -> None:
        if not self._sync:
            return
        if not self._active:  # first gradient of this backward pass
            self._active = True
            self._next = 0
            for b in self._buckets:
                b.pending, b.request = len(b.params), None
            engine.queue_callback(self._finish)
        b = self._where[id(p)]
        b.pending -= 1
        if self.overlap:
            self._launch_ready()

    def _launch(self, b: _Bucket) -> None:
        MPI = dist._mpi()
        b.fill()
        b.request = self._comm.Iallreduce(MPI.IN_PLACE, b.flat, op=MPI.SUM)

    def _launch_ready(self) -> None:
        while self._next < len(self._buckets) and self._buckets[self._next].pending == 0:
            self._launch(self._buckets[self._next])
            self._next += 1
        if self._next:  # let MPI progress the requests in flight while backward goes on
            self._buckets[self._next - 1].request.Test()

    def _finish(self) -> None:
        self._active = False
        for b in self._buckets[self._next :]:  # unused parameters, or overlap off
            self._launch(b)
        self._next = len(self._buckets)
        dist._mpi().Request.Waitall([b.request for b in self._buckets])
        for b in self._buckets:
            b.unpack(1.0 / self._world)
            b.request = None

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Accumulate gradients locally (no communication) inside the block; the
        first backward after it averages everything accumulated."""
        old, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = old

    # ---- the wrapped module ---------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        self._active = False  # a backward that raised never reached _finish: start afresh
        if self.broadcast_buffers and self._comm is not None and self._sync:
            for t in self.module.buffers():
                dist.broadcast(t, src=0)
        return self.module(*args, **kwargs)

    def state_dict(self, prefix: str = "") -> OrderedDict:
        return self.module.state_dict(prefix)

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> Any:
        return self.module.load_state_dict(state_dict, strict)

    def extra_repr(self) -> str:
        return f"world_size={self._world}, buckets={len(self._buckets)}"


__all__ = ["DistributedDataParallel"]
