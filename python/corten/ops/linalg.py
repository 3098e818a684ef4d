"""Products: matmul (NumPy semantics, batched, broadcast) on the C++ gemm, and
dot, vdot, inner, outer, tensordot and einsum lowered onto it with views,
reshapes and sums, so every one of them is differentiable."""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from .. import _C
from .._dtype import promote_types
from .._shape import broadcast_shape, normalize_axis, shape_str
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import _as_tensor, _cast, _inplace_graph, _needs_graph, _needs_inplace_graph, _write_out
from .elementwise import add, multiply
from .reduction import sum as _sum
from .reduction import sum_to
from .shape import permute, reshape, reshape_result

_SIG = "(n?,k),(k,m?)->(n?,m?)"


def _tensor(x: Any, op: str, i: int) -> Tensor:
    t = _as_tensor(x)
    if t is None:
        if isinstance(x, (bool, int, float)):
            from .._creation import tensor

            return tensor(x)
        raise TypeError(f"{op}: operand {i} must be a tensor, got {type(x).__name__}")
    return t


def _promote(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    ta, tb = _tensor(a, op, 0), _tensor(b, op, 1)
    d = ta.dtype if ta.dtype is tb.dtype else promote_types(ta.dtype, tb.dtype)
    return _cast(ta, d), _cast(tb, d)


# ---- matmul ------------------------------------------------------------------------


def _matmul_shape(sa: tuple, sb: tuple) -> tuple:
    """Result shape of a @ b for operands of ndim >= 2 (NumPy rules), with errors
    that name both shapes."""
    if sb[-2] != sa[-1]:
        raise ValueError(
            f"matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature {_SIG} "
            f"(size {sb[-2]} is different from {sa[-1]}); shapes {shape_str(sa)} and {shape_str(sb)}"
        )
    if len(sa) == 2 and len(sb) == 2:
        return (sa[0], sb[1])
    if sa[:-2] == sb[:-2]:
        return sa[:-1] + sb[-1:]
    try:
        batch = broadcast_shape(sa[:-2], sb[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: operands could not be broadcast together with shapes {shape_str(sa)} {shape_str(sb)}"
        ) from None
    return tuple(batch) + (sa[-2], sb[-1])


def _run_matmul(a: Tensor, b: Tensor, shape: tuple, out: np.ndarray | None = None,
                accumulate: bool = False) -> np.ndarray:
    """a @ b (result `shape`) for same-dtype operands of ndim >= 2; writes into
    `out` when given (out must have that shape and dtype and not overlap a or b).
    Missing leading dims become size-1 dims, which the kernel broadcasts."""
    xa, xb = a._a, b._a
    if xa.dtype.kind == "c":
        from .complex import complex_matmul

        r = complex_matmul(a, b, shape)._a
        if out is None:
            return r
        if accumulate:
            _C.add(out, r, out)
        else:
            _C.copy(r, out)
        return out
    nd = len(shape)
    if xa.ndim != nd:
        xa = xa.reshape((1,) * (nd - xa.ndim) + xa.shape)
    if xb.ndim != nd:
        xb = xb.reshape((1,) * (nd - xb.ndim) + xb.shape)
    if out is None:
        out = np.empty(shape, xa.dtype)
        accumulate = False
    _C.matmul(xa, xb, out, accumulate)
    return out


class MatMul(Function):
    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        # a's gradient reads only b and b's only a: save just what is needed, so an
        # in-place write to the other operand does not refuse the backward pass.
        ctx.shapes = a.shape, b.shape
        ctx.save_for_backward(a if b._rg else None, b if a._rg else None)
        return Tensor._wrap(_run_matmul(a, b, _matmul_shape(a.shape, b.shape)))

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[:2]
        ga = sum_to(matmul(g, b.mT), ctx.shapes[0]) if need_a else None
        gb = sum_to(matmul(a.mT, g), ctx.shapes[1]) if need_b else None
        return ga, gb


def _array_reshape(t: Tensor, shape: tuple) -> Tensor:
    """An unrecorded reshape of a 1-D operand (never copies: a row or a column)."""
    return Tensor._wrap(t._a.reshape(shape))


def _matmul_nd(a: Tensor, b: Tensor, shape: tuple) -> Tensor:
    """a @ b for ndim >= 2 operands of one dtype, recorded when needed."""
    if a.dtype.kind == "f" and _needs_graph(a, b):
        return MatMul.apply(a, b)
    return Tensor._wrap(_run_matmul(a, b, shape))


def matmul(a: Any, b: Any, out: Tensor | None = None, accumulate: bool = False) -> Tensor:
    """Matrix product with NumPy's matmul semantics: 1-D operands are promoted to
    a row (a) or a column (b) and that dimension is removed from the result;
    leading (batch) dimensions broadcast. With `out`, the result is written there
    (or added to it when `accumulate`)."""
    if type(a) is Tensor and type(b) is Tensor and a.dtype is b.dtype and a._a.ndim >= 2 and b._a.ndim >= 2:
        # fast path: no promotion, no 1-D operands
        full = _matmul_shape(a.shape, b.shape)
        if out is None:
            return _matmul_nd(a, b, full)
        o = out._a if type(out) is Tensor else None
        if (
            o is not None and o.shape == full and o.dtype == a._a.dtype and not _needs_inplace_graph(out, a, b)
            and 0 not in o.strides and not np.may_share_memory(o, a._a) and not np.may_share_memory(o, b._a)
        ):
            _run_matmul(a, b, full, o, accumulate)
            out._bump_version()
            return out
    ta, tb = _promote(a, b, "matmul")
    for i, t in enumerate((ta, tb)):
        if t.ndim == 0:
            raise ValueError(
                f"matmul: Input operand {i} does not have enough dimensions (has 0, gufunc core with "
                f"signature {_SIG} requires 1)"
            )
    # Promoting 1-D operands: outside the graph, plain array reshapes (a recorded
    # view costs more than the whole product of two short vectors).
    shape_view = reshape if ta.dtype.kind == "f" and _needs_graph(ta, tb) else _array_reshape
    a2 = shape_view(ta, (1, ta.shape[0])) if ta.ndim == 1 else ta
    b2 = shape_view(tb, (tb.shape[0], 1)) if tb.ndim == 1 else tb
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(
            f"matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature {_SIG} "
            f"(size {b2.shape[-2]} is different from {a2.shape[-1]}); shapes {shape_str(ta.shape)} and "
            f"{shape_str(tb.shape)}"
        )
    full = _matmul_shape(a2.shape, b2.shape)
    drop = [len(full) - 2] if ta.ndim == 1 else []
    if tb.ndim == 1:
        drop.append(len(full) - 1)
    final = tuple(n for i, n in enumerate(full) if i not in drop)

    if out is None:
        r = _matmul_nd(a2, b2, full)
        return r if r.shape == final else reshape_result(r, final)

    if out.shape != final:
        raise ValueError(
            f"matmul: output with shape {shape_str(out.shape)} doesn't match the result shape "
            f"{shape_str(final)} "
            f"of {shape_str(ta.shape)} @ {shape_str(tb.shape)}"
        )
    if _needs_inplace_graph(out, ta, tb):
        if accumulate:
            return _inplace_graph(out, lambda base: add(base, matmul(ta, tb)))
        return _inplace_graph(out, lambda base: matmul(ta, tb))
    o = out._a
    if o.dtype == ta.dtype.np and not np.may_share_memory(o, ta._a) and not np.may_share_memory(o, tb._a):
        # Inserting the size-1 dims of promoted 1-D operands is always a view.
        _run_matmul(a2, b2, full, o.reshape(full), accumulate)
        out._bump_version()
        return out
    res = _run_matmul(a2, b2, full).reshape(final)
    if accumulate:
        res = res + o
    return _write_out("matmul", res, out)


# ---- products built on matmul --------------------------------------------------------


def tensordot(a: Any, b: Any, axes: Any = 2) -> Tensor:
    """Sum products over the given axes (NumPy's tensordot): axes=N pairs the
    last N axes of a with the first N of b; or two sequences of axes."""
    ta, tb = _promote(a, b, "tensordot")
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > ta.ndim or n > tb.ndim:
            raise ValueError(f"tensordot: axes={n} is out of range for shapes {shape_str(ta.shape)} and "
                             f"{shape_str(tb.shape)}")
        ax_a = list(range(ta.ndim - n, ta.ndim))
        ax_b = list(range(n))
    else:
        try:
            ax_a, ax_b = axes
        except (TypeError, ValueError):
            raise ValueError("tensordot: axes must be an integer or a pair of axis sequences") from None
        ax_a = [int(ax_a)] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [int(ax_b)] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
        if len(ax_a) != len(ax_b):
            raise ValueError("tensordot: the two axis sequences must have the same length")
        ax_a = [normalize_axis(int(x), ta.ndim) for x in ax_a]
        ax_b = [normalize_axis(int(x), tb.ndim) for x in ax_b]
    for x, y in zip(ax_a, ax_b, strict=True):
        if ta.shape[x] != tb.shape[y]:
            raise ValueError(
                f"tensordot: shape-mismatch for sum: axis {x} of {shape_str(ta.shape)} has size "
                f"{ta.shape[x]}, "
                f"axis {y} of {shape_str(tb.shape)} has size {tb.shape[y]}"
            )
    if len(set(ax_a)) != len(ax_a) or len(set(ax_b)) != len(ax_b):
        raise ValueError("tensordot: repeated axis")
    free_a = [i for i in range(ta.ndim) if i not in ax_a]
    free_b = [i for i in range(tb.ndim) if i not in ax_b]
    k = 1
    for x in ax_a:
        k *= ta.shape[x]
    ma = 1
    for x in free_a:
        ma *= ta.shape[x]
    nb = 1
    for x in free_b:
        nb *= tb.shape[x]
    pa = permute(ta, tuple(free_a + ax_a)) if free_a + ax_a != list(range(ta.ndim)) else ta
    pb = permute(tb, tuple(ax_b + free_b)) if ax_b + free_b != list(range(tb.ndim)) else tb
    r = matmul(reshape(pa, (ma, k)), reshape(pb, (k, nb)))
    return reshape(r, tuple(ta.shape[i] for i in free_a) + tuple(tb.shape[i] for i in free_b))


def dot(a: Any, b: Any) -> Tensor:
    """NumPy's dot: a product of scalars, matmul for 1-D/2-D operands, and for
    N-D a sum over the last axis of a and the second-to-last of b."""
    ta, tb = _promote(a, b, "dot")
    if ta.ndim == 0 or tb.ndim == 0:
        return multiply(ta, tb)
    if tb.ndim <= 2:
        if ta.shape[-1] != tb.shape[0 if tb.ndim == 1 else -2]:
            raise ValueError(
                f"shapes {shape_str(ta.shape)} and {shape_str(tb.shape)} not aligned: "
                f"{ta.shape[-1]} (dim {ta.ndim - 1}) != {tb.shape[0 if tb.ndim == 1 else -2]} "
                f"(dim {0 if tb.ndim == 1 else tb.ndim - 2})"
            )
        return matmul(ta, tb)
    if ta.shape[-1] != tb.shape[-2]:
        raise ValueError(
            f"shapes {shape_str(ta.shape)} and {shape_str(tb.shape)} not aligned: "
            f"{ta.shape[-1]} (dim {ta.ndim - 1}) != {tb.shape[-2]} (dim {tb.ndim - 2})"
        )
    return tensordot(ta, tb, axes=([ta.ndim - 1], [tb.ndim - 2]))


def vdot(a: Any, b: Any) -> Tensor:
    """Dot product of the two operands flattened; a complex first operand is conjugated."""
    ta, tb = _promote(a, b, "vdot")
    if ta.dtype.kind == "c":
        from .complex import conj

        ta = conj(ta)
    if ta.size != tb.size:
        raise ValueError(
            f"vdot: cannot take the dot product of {ta.size} and {tb.size} elements "
            f"(shapes {shape_str(ta.shape)} and {shape_str(tb.shape)})"
        )
    return matmul(reshape(ta, (-1,)), reshape(tb, (-1,)))


def inner(a: Any, b: Any) -> Tensor:
    """Sum of products over the last axes (NumPy's inner)."""
    ta, tb = _promote(a, b, "inner")
    if ta.ndim == 0 or tb.ndim == 0:
        return multiply(ta, tb)
    if ta.shape[-1] != tb.shape[-1]:
        raise ValueError(
            f"inner: shapes {shape_str(ta.shape)} and {shape_str(tb.shape)} not aligned: "
            f"{ta.shape[-1]} (dim {ta.ndim - 1}) != {tb.shape[-1]} (dim {tb.ndim - 1})"
        )
    return tensordot(ta, tb, axes=([ta.ndim - 1], [tb.ndim - 1]))


def outer(a: Any, b: Any) -> Tensor:
    """out[i, j] = a.ravel()[i] * b.ravel()[j]."""
    ta, tb = _promote(a, b, "outer")
    return multiply(reshape(ta, (-1, 1)), reshape(tb, (1, -1)))


# ---- einsum -------------------------------------------------------------------------


_LETTERS = frozenset(string.ascii_letters)
_ELL0 = 0xE000  # ellipsis dimensions get private-use characters as labels, right-aligned


def _label_name(c: str) -> str:
    return repr(c) if c in _LETTERS else f"'...' (dimension {ord(c) - _ELL0})"


def _check_term(t: str, where: str, subscripts: str) -> tuple[str, bool]:
    """(the letters of one term, whether it has an ellipsis); ValueError for anything else."""
    ell = "..." in t
    letters = t.replace("...", "", 1)
    for c in letters:
        if c == ".":
            raise ValueError(
                f"einsum: {where} contains a '.' that is not part of one ellipsis ('...') in {subscripts!r}"
            )
        if c not in _LETTERS:
            raise ValueError(f"einsum: invalid subscript {c!r} in {subscripts!r} (letters a-z, A-Z only)")
    return letters, ell


def _parse_einsum(subscripts: str, ndims: list[int]) -> tuple[list[str], str]:
    """Operand and output labels, one character per dimension: the letters, and a
    private label per ellipsis dimension (right-aligned across operands, as NumPy
    broadcasts them). Implicit output: the ellipsis dimensions, then the letters that
    appear once, sorted."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    s = subscripts.replace(" ", "")
    if s.count("->") > 1 or s.replace("->", "").count("-") or s.replace("->", "").count(">"):
        raise ValueError(f"einsum: invalid subscripts {subscripts!r}")
    lhs, rhs = s.split("->", 1) if "->" in s else (s, None)
    raw = lhs.split(",")
    if len(raw) != len(ndims):
        raise ValueError(f"einsum: {len(raw)} operand subscripts for {len(ndims)} operands in {subscripts!r}")
    parsed = [_check_term(t, f"operand {i}", subscripts) for i, t in enumerate(raw)]
    n_ell = []
    for i, ((letters, ell), nd) in enumerate(zip(parsed, ndims, strict=True)):
        if nd < len(letters) or (nd != len(letters) and not ell):
            raise ValueError(
                f"einsum: operand {i} has {nd} dimensions but subscripts {raw[i]!r} name {len(letters)}"
                + ("" if ell else " (use '...' for the others)")
            )
        n_ell.append(nd - len(letters) if ell else 0)
    n_max = max(n_ell)
    terms = []
    for (letters, ell), t, e in zip(parsed, raw, n_ell, strict=True):
        ell_labels = "".join(chr(_ELL0 + p) for p in range(n_max - e, n_max))
        terms.append(t.replace("...", ell_labels, 1) if ell else letters)
    all_ell = "".join(chr(_ELL0 + p) for p in range(n_max))
    if rhs is None:
        counts: dict[str, int] = {}
        for letters, _ in parsed:
            for c in letters:
                counts[c] = counts.get(c, 0) + 1
        return terms, all_ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    letters, ell = _check_term(rhs, "the output", subscripts)
    if len(set(letters)) != len(letters):
        raise ValueError(f"einsum: output subscript repeated in {subscripts!r}")
    for c in letters:
        if not any(c in t for t, _ in parsed):
            raise ValueError(f"einsum: output subscript {c!r} does not appear in the inputs of {subscripts!r}")
    if n_max and not ell:
        raise ValueError(
            f"einsum: the operands have {n_max} dimension(s) under '...' but the output {rhs!r} has no '...' "
            f"in {subscripts!r}"
        )
    return terms, rhs.replace("...", all_ell, 1) if ell else rhs


class _Diagonal(Function):
    """The diagonal over axes p < q of equal size, as a view: axis q goes, axis p
    steps along both (x[..., i, ..., i, ...] for each i)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, p: int, q: int) -> Tensor:
        ctx.shape, ctx.p, ctx.q = x.shape, p, q
        shape, strides = list(x.shape), list(x.strides)
        strides[p] += strides[q]
        del shape[q], strides[q]
        return x._make_view(shape, strides, x._storage()[1])

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return _DiagonalEmbed.apply(g, ctx.shape, ctx.p, ctx.q), None, None


class _DiagonalEmbed(Function):
    """Zeros of `shape` with g on the diagonal over axes p < q: the adjoint of _Diagonal."""

    @staticmethod
    def forward(ctx: Any, g: Tensor, shape: tuple, p: int, q: int) -> Tensor:
        ctx.p, ctx.q = p, q
        z = np.zeros(shape, g._a.dtype)
        strides = list(z.strides)
        strides[p] += strides[q]
        del strides[q]
        np.lib.stride_tricks.as_strided(z, g.shape, strides, writeable=True)[...] = g._a
        return Tensor._wrap(z)

    @staticmethod
    def backward(ctx: Any, gg: Tensor) -> Any:
        return _Diagonal.apply(gg, ctx.p, ctx.q), None, None, None


def _take_diagonals(t: Tensor, labels: str, i: int) -> tuple[Tensor, str]:
    """Collapse each label repeated within one operand ('ii' -> the diagonal 'i')."""
    while len(set(labels)) != len(labels):
        p = next(j for j, c in enumerate(labels) if labels.count(c) > 1)
        q = labels.index(labels[p], p + 1)
        if t.shape[p] != t.shape[q]:
            raise ValueError(
                f"einsum: dimensions in operand {i} for collapsing index {_label_name(labels[p])} don't match "
                f"({t.shape[p]} != {t.shape[q]})"
            )
        t, labels = _Diagonal.apply(t, p, q), labels[:q] + labels[q + 1:]
    return t, labels


def _sum_out(t: Tensor, labels: str, keep: set) -> tuple[Tensor, str]:
    """Sum over the labels of t not in `keep`."""
    axes = tuple(i for i, c in enumerate(labels) if c not in keep)
    if not axes:
        return t, labels
    return _sum(t, axis=axes), "".join(c for c in labels if c in keep)


def _contract(a: Tensor, la: str, b: Tensor, lb: str, keep: set) -> tuple[Tensor, str]:
    """Contract two labelled operands with one batched matmul, keeping `keep`."""
    a, la = _sum_out(a, la, keep | set(lb))
    b, lb = _sum_out(b, lb, keep | set(la))
    batch = [c for c in la if c in lb and c in keep]
    con = [c for c in la if c in lb and c not in keep]
    fa = [c for c in la if c not in lb]
    fb = [c for c in lb if c not in la]
    size = {c: a.shape[i] for i, c in enumerate(la)}
    size.update({c: b.shape[i] for i, c in enumerate(lb)})

    def prod(cs: list) -> int:
        n = 1
        for c in cs:
            n *= size[c]
        return n

    pa = permute(a, tuple(la.index(c) for c in batch + fa + con))
    pb = permute(b, tuple(lb.index(c) for c in batch + con + fb))
    nb, ma, k, nn = prod(batch), prod(fa), prod(con), prod(fb)
    r = matmul(reshape(pa, (nb, ma, k)), reshape(pb, (nb, k, nn)))
    labels = batch + fa + fb
    return reshape(r, tuple(size[c] for c in labels)), "".join(labels)


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation with NumPy's rules: labels missing from the output are
    summed; '...' stands for broadcast dimensions (size-1 dimensions broadcast,
    for letters too); a label repeated within one operand takes the diagonal
    ('ii->i', trace 'ii', 'iij->ij'). Diagonals are views; two-operand steps become
    one permute + reshape + batched matmul, applied left to right; everything is
    differentiable."""
    if not operands:
        raise ValueError("einsum: at least one operand is required")
    ts = [_tensor(x, "einsum", i) for i, x in enumerate(operands)]
    d = ts[0].dtype
    for t in ts[1:]:
        d = d if t.dtype is d else promote_types(d, t.dtype)
    ts = [_cast(t, d) for t in ts]
    terms, rhs = _parse_einsum(subscripts, [t.ndim for t in ts])
    for i, t in enumerate(ts):
        ts[i], terms[i] = _take_diagonals(t, terms[i], i)
    size: dict[str, int] = {}
    for i, (t, lab) in enumerate(zip(ts, terms, strict=True)):
        for c, n in zip(lab, t.shape, strict=True):
            have = size.setdefault(c, n)
            if have != n and 1 not in (have, n):
                raise ValueError(
                    f"einsum: size of label {_label_name(c)} for operand {i} ({n}) does not match previous "
                    f"terms ({have}); shapes {', '.join(shape_str(t.shape) for t in ts)}"
                )
            size[c] = n if have == 1 else have  # 1 broadcasts against any size, 0 included
    for i, (t, lab) in enumerate(zip(ts, terms, strict=True)):
        # A size-1 dimension against a longer one broadcasts: the operand does not vary along it.
        ones = [j for j, c in enumerate(lab) if t.shape[j] == 1 and size[c] != 1]
        if ones:
            ts[i] = reshape(t, tuple(n for j, n in enumerate(t.shape) if j not in ones))
            terms[i] = "".join(c for j, c in enumerate(lab) if j not in ones)
    cur, lab = ts[0], terms[0]
    for i in range(1, len(ts)):
        keep = set(rhs).union(*terms[i + 1:]) if i + 1 < len(ts) else set(rhs)
        cur, lab = _contract(cur, lab, ts[i], terms[i], keep)
    cur, lab = _sum_out(cur, lab, set(rhs))
    if lab != rhs:
        cur = permute(cur, tuple(lab.index(c) for c in rhs))
    return cur


def _rmatmul(self: Tensor, other: Any) -> Any:
    if _as_tensor(other) is None and not isinstance(other, (bool, int, float)):
        return NotImplemented
    return matmul(other, self)


def _matmul_method(self: Tensor, other: Any) -> Any:
    if _as_tensor(other) is None and not isinstance(other, (bool, int, float)):
        return NotImplemented
    return matmul(self, other)


def _imatmul(self: Tensor, other: Any) -> Tensor:
    return matmul(self, other, out=self)


METHODS = {  # attached in ops/methods.py
    "__matmul__": _matmul_method, "__rmatmul__": _rmatmul, "__imatmul__": _imatmul,
    "matmul": matmul, "dot": dot, "inner": inner, "outer": outer, "vdot": vdot, "tensordot": tensordot,
}
