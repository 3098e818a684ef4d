"""Hypothesis strategies for NumPy arrays in several memory layouts, shared by the
shape, indexing and join tests. Each array comes with the layout's name; the
corten tensor wraps the same memory (corten.from_numpy) so views can be checked
with np.shares_memory."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

WRITABLE = ("contiguous", "transposed", "stepped", "negative")
LAYOUTS = WRITABLE + ("broadcast",)


def shapes(min_dims: int = 0, max_dims: int = 6, min_side: int = 0, max_side: int = 4):
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


def _data(rng: np.random.Generator, shape: tuple, dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.kind in "iu":
        return np.asarray(rng.integers(-50, 50, shape), dtype)
    return np.asarray(rng.standard_normal(shape), dtype)


def make(rng: np.random.Generator, shape: tuple, layout: str, dtype=np.float64) -> np.ndarray:
    """An array of `shape` whose memory is laid out as `layout` says."""
    shape = tuple(shape)
    if layout == "contiguous":
        return _data(rng, shape, dtype)
    if layout == "transposed":
        return _data(rng, shape[::-1], dtype).T
    if layout == "stepped":
        big = _data(rng, tuple(2 * n for n in shape), dtype)
        return big[(Ellipsis,) + tuple(slice(None, None, 2) for _ in shape)]
    if layout == "negative":
        big = _data(rng, shape, dtype)
        return big[(Ellipsis,) + tuple(slice(None, None, -1) for _ in shape)]
    if layout == "broadcast":
        small = tuple(1 if rng.random() < 0.5 else n for n in shape)
        return np.broadcast_to(_data(rng, small, dtype), shape)
    raise ValueError(layout)


@st.composite
def arrays(draw, shape=None, layouts=LAYOUTS, dtype=np.float64, **shape_kw):
    if shape is None:
        shape = draw(shapes(**shape_kw))
    layout = draw(st.sampled_from(layouts))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return make(rng, shape, layout, dtype)


def seeds():
    return st.integers(0, 2**32 - 1).map(np.random.default_rng)
