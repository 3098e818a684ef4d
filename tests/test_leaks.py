"""Memory: resident memory stays flat over many small grad-tracked ops, tensors
die with their last reference, and graph nodes die after backward (no cycles)."""

import gc
import os
import weakref

import corten as ct
import numpy as np
import pytest

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
UNDER_ASAN = "asan" in os.environ.get("LD_PRELOAD", "")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def _step(x, w):
    y = ct.tanh(x * w + 1.0) * 2.0 - x
    y = ct.where(y > 0, y, 0.1 * y)
    return (y * y).sum()


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
@pytest.mark.skipif(UNDER_ASAN, reason="ASan's quarantine holds freed memory; LSan covers C++ leaks there")
def test_resident_memory_stays_flat_over_100k_grad_ops():
    x = ct.tensor(np.linspace(-1, 1, 16), requires_grad=True)
    w = ct.tensor(np.full(16, 0.5), requires_grad=True)
    steps = 12_500  # ~8 recorded ops per step: 100,000 ops
    for _ in range(200):  # warm-up: allocator pools, caches
        _step(x, w).backward()
    gc.collect()
    before = rss_mb()
    for _ in range(steps):
        _step(x, w).backward()
        x.grad = w.grad = None
    gc.collect()
    grown = rss_mb() - before
    assert grown < 4.0, f"resident memory grew by {grown:.1f} MB over {steps} steps"


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
@pytest.mark.skipif(UNDER_ASAN, reason="ASan's quarantine holds freed memory; LSan covers C++ leaks there")
def test_resident_memory_stays_flat_over_1000_training_steps():
    nn = pytest.importorskip("corten.nn")
    optim = pytest.importorskip("corten.optim")
    ct.random.manual_seed(0)
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = ct.random.randn(64, 32)
    y = ct.random.randint(0, 10, (64,))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(50):  # warm-up: optimizer state, allocator pools
        step()
    gc.collect()
    before = rss_mb()
    for _ in range(1000):
        last = step()
    gc.collect()
    grown = rss_mb() - before
    assert np.isfinite(last)
    assert grown < 4.0, f"resident memory grew by {grown:.1f} MB over 1000 training steps"


def test_tensor_freed_with_its_last_reference():
    gc.disable()
    try:
        t = ct.ones(1000)
        r = weakref.ref(t)
        v = t.reshape(10, 100).T  # views keep the base alive...
        del t
        assert r() is not None
        del v  # ...and let it go with them
        assert r() is None
    finally:
        gc.enable()


def test_graph_nodes_and_intermediates_freed_after_backward():
    gc.disable()
    try:
        x = ct.tensor([1.0, 2.0, 3.0], requires_grad=True)
        h = ct.exp(x) * x
        h2 = ct.sigmoid(h).reshape(3, 1).broadcast_to((3, 4))
        loss = (h2 * h2).sum()
        refs = [weakref.ref(t) for t in (h, h2)] + [weakref.ref(h.grad_fn), weakref.ref(loss.grad_fn)]
        del h, h2
        loss.backward()
        del loss
        dead = [r() is None for r in refs]
        assert all(dead), dead
        assert x.grad is not None and x.grad.grad_fn is None
    finally:
        gc.enable()


def test_no_reference_cycles_from_a_training_loop():
    gc.collect()
    gc.disable()
    try:
        w = ct.tensor(np.ones(8), requires_grad=True)
        for _ in range(20):
            loss = (ct.tanh(w * 3.0) ** 2).sum()
            loss.backward()
            with ct.no_grad():
                w -= 0.01 * w.grad
            w.grad = None
        del loss
        assert gc.collect() == 0, "the graph left reference cycles for the collector"
    finally:
        gc.enable()


def test_create_graph_gradients_are_freed():
    gc.disable()
    try:
        x = ct.tensor([0.5, 1.5], requires_grad=True)
        y = (x**3).sum()
        y.backward(create_graph=True)
        g = x.grad
        ref = weakref.ref(g.grad_fn)
        x.grad = None
        del g, y
        assert ref() is None
    finally:
        gc.enable()
