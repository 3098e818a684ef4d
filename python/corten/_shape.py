"""Index math as small pure functions: broadcasting, strides, reshape-as-view,
axis normalisation. Strides here are in elements, not bytes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

_INT64_MAX = 2**63 - 1


class AxisError(ValueError, IndexError):
    """An axis out of range (a ValueError and an IndexError, as NumPy's)."""


def shape_str(shape: Sequence[int]) -> str:
    """NumPy's compact spelling of a shape in messages: (2,3) and (4,)."""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ",".join(str(s) for s in shape) + ")"


def size_of(shape: Iterable[int]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def check_shape(shape: Sequence[int], itemsize: int = 8) -> tuple[int, ...]:
    """Validate a requested shape before anything is allocated."""
    out = []
    for s in shape:
        try:
            s = int(s.__index__())
        except AttributeError:
            raise TypeError(f"shape entries must be integers, got {type(s).__name__}") from None
        if s < 0:
            raise ValueError(f"negative dimensions are not allowed, got shape {shape_str(tuple(shape))}")
        out.append(s)
    n = size_of(out)
    if n * max(itemsize, 1) > _INT64_MAX:
        raise ValueError(f"tensor of shape {shape_str(out)} is too big: {n} elements overflow the address space")
    return tuple(out)


def contiguous_strides(shape: Sequence[int]) -> tuple[int, ...]:
    strides = [0] * len(shape)
    acc = 1
    for i in range(len(shape) - 1, -1, -1):
        strides[i] = acc
        acc *= max(shape[i], 1)
    return tuple(strides)


def is_contiguous(shape: Sequence[int], strides: Sequence[int]) -> bool:
    if 0 in shape:  # no elements: contiguous whatever the strides (as NumPy)
        return True
    expect = 1
    for n, st in zip(reversed(shape), reversed(strides), strict=False):
        if n != 1 and st != expect:
            return False
        expect *= n
    return True


def broadcast_shape(*shapes: Sequence[int]) -> tuple[int, ...]:
    """NumPy's broadcast of several shapes, or ValueError naming them all."""
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for s in shapes:
        off = ndim - len(s)
        for i, n in enumerate(s):
            cur = out[off + i]
            if cur == 1:
                out[off + i] = n
            elif n != 1 and n != cur:
                raise ValueError(
                    "operands could not be broadcast together with shapes "
                    + " ".join(shape_str(tuple(x)) for x in shapes)
                )
    return tuple(out)


def broadcast_strides(shape: Sequence[int], strides: Sequence[int], target: Sequence[int]) -> tuple[int, ...]:
    """Strides of a (shape, strides) view broadcast to `target`: 0 where stretched."""
    off = len(target) - len(shape)
    if off < 0:
        raise ValueError(f"cannot broadcast shape {shape_str(shape)} to {shape_str(target)}")
    out = [0] * len(target)
    for i, (n, st) in enumerate(zip(shape, strides, strict=False)):
        t = target[off + i]
        if n == t:
            out[off + i] = st if n != 1 else 0
        elif n == 1:
            out[off + i] = 0
        else:
            raise ValueError(f"cannot broadcast shape {shape_str(shape)} to {shape_str(target)}")
    return tuple(out)


def infer_reshape(size: int, shape: Sequence[int]) -> tuple[int, ...]:
    """Resolve one -1 in a requested shape; ValueError when sizes disagree."""
    shape = tuple(int(s) for s in shape)
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise ValueError("can only specify one unknown dimension")
    if any(s < -1 for s in shape):
        raise ValueError(f"invalid shape dimension in {shape_str(shape)}")
    known = size_of(s for s in shape if s != -1)
    if unknown:
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape tensor of size {size} into shape {shape_str(shape)}")
        shape = shape[: unknown[0]] + (size // known,) + shape[unknown[0] + 1 :]
    elif known != size:
        raise ValueError(f"cannot reshape tensor of size {size} into shape {shape_str(shape)}")
    return shape


def reshape_strides(shape: Sequence[int], strides: Sequence[int], new_shape: Sequence[int]) -> tuple[int, ...] | None:
    """Strides that let `new_shape` view the same memory, or None when a copy is needed.

    Groups old and new dimensions into runs with equal element counts; a run of
    old dimensions can be re-split only if it is contiguous within itself.
    """
    old = [(n, s) for n, s in zip(shape, strides, strict=False) if n != 1]
    if size_of(new_shape) == 0 or size_of(shape) == 0:
        return contiguous_strides(new_shape)
    new_strides = [0] * len(new_shape)
    oi = ni = 0
    while oi < len(old) and ni < len(new_shape):
        # Gather the smallest runs [oi, oj) and [ni, nj) with equal products.
        oj, nj = oi + 1, ni + 1
        op, np_ = old[oi][0], new_shape[ni]
        while op != np_:
            if np_ < op:
                np_ *= new_shape[nj]
                nj += 1
            else:
                op *= old[oj][0]
                oj += 1
        for k in range(oi, oj - 1):  # the old run must be contiguous
            if old[k][1] != old[k + 1][1] * old[k + 1][0]:
                return None
        st = old[oj - 1][1]
        for k in range(nj - 1, ni - 1, -1):
            new_strides[k] = st
            st *= new_shape[k]
        oi, ni = oj, nj
    # Trailing size-1 dimensions of the new shape keep a harmless stride.
    for k in range(ni, len(new_shape)):
        new_strides[k] = 1 if k == len(new_shape) - 1 else new_strides[k]
    return tuple(new_strides)


def normalize_axis(axis: int, ndim: int) -> int:
    try:
        axis = axis.__index__()
    except AttributeError:
        raise TypeError(f"axis must be an integer, got {type(axis).__name__}") from None
    if not (-ndim <= axis < ndim or (ndim == 0 and axis in (0, -1))):  # 0-d: 0 and -1, as PyTorch
        raise AxisError(f"axis {axis} is out of bounds for tensor of dimension {ndim}")
    return axis % ndim if ndim else 0


def normalize_axes(axis: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """Sorted, de-duplicated, non-negative axes; None means all of them."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, Sequence):
        axes = [normalize_axis(a, ndim) for a in axis]
        if len(set(axes)) != len(axes):
            raise ValueError("repeated axis")
        return tuple(sorted(axes))
    return (normalize_axis(axis, ndim),)


def index_to_offset(index: Sequence[int], strides: Sequence[int], offset: int = 0) -> int:
    return offset + sum(i * s for i, s in zip(index, strides, strict=False))
