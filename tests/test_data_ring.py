"""DataLoader's reused batch buffers: batches equal fresh gathers, and a batch the
caller still holds is never overwritten."""

import corten as ct
import numpy as np
from corten.data import DataLoader, TensorDataset


def _loader(n: int = 50, bs: int = 8, seed: int = 3) -> tuple[DataLoader, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x, y = rng.random((n, 5), dtype=np.float32), rng.integers(0, 10, n)
    return DataLoader(TensorDataset(ct.from_numpy(x), ct.from_numpy(y)), batch_size=bs, shuffle=True,
                      generator=seed), x, y


def test_batches_equal_fresh_gathers_in_the_loaders_order():
    loader, x, y = _loader()
    order = ct.random.randperm(50, ct.random.Generator(3)).numpy()
    for b, (xb, yb) in enumerate(loader):
        idx = order[b * 8:(b + 1) * 8]
        assert xb.dtype == ct.float32 and yb.dtype == ct.int64
        np.testing.assert_array_equal(xb.numpy(), x[idx])
        np.testing.assert_array_equal(yb.numpy(), y[idx])


def test_held_batches_keep_their_values():
    loader, x, _ = _loader()
    held = list(loader)  # every batch still referenced: none may share memory
    copies = [xb.numpy().copy() for xb, _ in held]
    for (xb, _), c in zip(held, copies, strict=True):
        np.testing.assert_array_equal(xb.numpy(), c)
    ptrs = {xb.numpy().__array_interface__["data"][0] for xb, _ in held}
    assert len(ptrs) == len(held)


def test_views_and_arrays_of_a_batch_keep_it():
    loader, _, _ = _loader()
    kept = []
    for xb, _ in loader:
        kept.append((xb[0:3], xb.numpy()[0].copy(), np.asarray(xb)[0:1]))
    for view, first, arr in kept:
        np.testing.assert_array_equal(arr[0], first)
        np.testing.assert_array_equal(view.numpy()[0], first)


def test_dropped_batches_are_reused():
    loader, _, _ = _loader()
    ptrs = set()
    for xb, _ in loader:
        ptrs.add(xb.numpy().__array_interface__["data"][0])
    assert len(ptrs) <= 4  # a ring of 3, plus the short last batch's own shape


def test_out_of_range_sampler_index_raises():
    x = ct.from_numpy(np.zeros((4, 2), np.float32))
    loader = DataLoader(TensorDataset(x), batch_size=2, sampler=[0, 1, 7, 2])
    try:
        list(loader)
    except IndexError as e:
        assert "7" in str(e)
    else:
        raise AssertionError("no IndexError")
