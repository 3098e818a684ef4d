"""Views and in-place writes under autograd: every view sees what happened to its
memory (autograd/views.py). Expected values are PyTorch's; the cross-check runs
each program on both libraries where PyTorch is installed."""

from __future__ import annotations

import corten as ct
import numpy as np
import pytest


def _leaf(values) -> ct.Tensor:
    return ct.tensor(values, dtype="float64", requires_grad=True)


def test_base_written_after_slicing_a_view():
    x = _leaf([1.0, 2.0, 3.0])
    y = x * 1
    v = y[1:]
    y *= 3
    (v * v).sum().backward()
    assert x.grad.tolist() == [0.0, 36.0, 54.0]


def test_base_written_after_reshaping_a_view():
    x = _leaf([1.0, 2.0, 3.0])
    y = x * 1
    v = y.reshape(3, 1)
    y *= 2
    (v * v).sum().backward()
    assert x.grad.tolist() == [8.0, 16.0, 24.0]


def test_write_through_a_sibling_view():
    x = _leaf([1.0, 2.0, 3.0])
    y = x * 1
    a, b = y[1:], y[:2]
    b[0] = 100.0
    ((a * a).sum() + (y * y).sum()).backward()
    assert y.tolist() == [100.0, 2.0, 3.0]
    assert x.grad.tolist() == [0.0, 8.0, 12.0]


def test_write_into_a_view_reaches_the_base_and_the_value():
    x = _leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w = _leaf([0.5, -1.0, 2.0])
    y = x * 1
    y[0].mul_(w)
    (y * y).sum().backward()
    assert x.grad.tolist() == [[0.5, 4.0, 24.0], [8.0, 10.0, 12.0]]
    assert w.grad.tolist() == [1.0, -8.0, 36.0]


def test_views_of_a_base_that_starts_requiring_grad():
    w = _leaf([0.5, -1.0, 2.0])
    y = ct.zeros((2, 3), dtype="float64")
    v = y[:, 1:]
    y[0] = w
    assert v.requires_grad
    ((v * v).sum() + y.sum()).backward()
    assert w.grad.tolist() == [1.0, -1.0, 5.0]


def test_a_value_saved_before_the_write_is_refused():
    x = _leaf([1.0, 2.0])
    y = x * 2
    z = y[0] * y[0]
    y[1] = 7.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_view_of_a_leaf_cannot_be_written():
    x = _leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="view of a leaf"):
        x[0].mul_(2)


def test_no_grad_view_written_with_grad_mode_on_is_refused():
    x = _leaf([1.0, 2.0])
    y = x * 1
    with ct.no_grad():
        v = y[0]
    with pytest.raises(RuntimeError, match="no_grad"):
        v.mul_(2)
    with ct.no_grad():
        u = y[1]
    y.mul_(3)  # u's memory changed while recording: using u's gradient has no single meaning
    with pytest.raises(RuntimeError, match="no_grad"):
        (u * x[1]).backward()


def test_expanded_view_cannot_be_written():
    x = _leaf([1.0, 2.0, 3.0])
    y = x * 1
    with pytest.raises(ValueError, match="more than one element"):
        y[0:1].expand(2, 3).add_(1)


def test_overwriting_a_tensor_gives_its_old_value_a_zero_gradient():
    x = _leaf([1.5, 2.5])
    y = x * 1
    y.copy_(ct.tensor([3.0, 4.0], dtype="float64"))
    assert y.requires_grad  # as in PyTorch: still in the graph, with a zero gradient to x
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_detach_in_place_of_a_view_is_refused():
    with pytest.raises(RuntimeError, match="detach"):
        ct.zeros(3)[1:].detach_()


def test_copy_into_a_base_holding_inf_gives_the_source():
    y = _leaf([1.0, 2.0]).exp() * np.inf  # copy_ must not compute base * 0 (inf * 0 = nan)
    y.copy_(_leaf([5.0, 6.0]))
    assert y.tolist() == [5.0, 6.0]


def test_many_short_lived_views_do_not_accumulate():
    y = ct.zeros(4)
    for _ in range(1000):
        y[1:].sum()
    assert len(y._views) < 100


# ---- the same programs on PyTorch -------------------------------------------------------------------


def _programs(lib):
    def c1(x, w):
        y = x * 1
        y[0].mul_(w)
        return (y * y).sum()

    def c2(x, w):
        y = x * 1
        t = y.T
        t[1] += w[:2]
        return y.exp().sum()

    def c3(x, w):
        y = x * 1
        v = y[1]
        y.clamp_(2, 5)
        return (v * w).sum()

    def c4(x, w):
        y = x * 1
        y[:, ::2].copy_(w[:2])
        return (y * x).sum()

    def c5(x, w):
        y = x * 1
        y.reshape(3, 2).zero_()
        return (y + x).sum()

    def c6(x, w):
        y = x * 1
        v = y[0]
        v[1:] *= w[1:]
        return (y * y).sum() + (v * v).sum()

    def c7(x, w):
        y = x * 1
        v = y[0]
        with lib.no_grad():
            y.mul_(3)
        return (v * w).sum()

    def c8(x, w):
        y = x * 1
        d = y.detach()
        d.mul_(2)
        return (y * w).sum()

    def c9(x, w):
        y = (x * 1).T
        v = y.reshape(-1)[::2] if lib.__name__ == "torch" else y.reshape(-1)[::2]
        y[0] = w[:2]
        return (v * v).sum()

    def c10(x, w):
        y = x * 1
        a = y[0]
        a -= y[1]  # the right side is read before the write
        return (y * y).sum()

    return [c1, c2, c3, c4, c5, c6, c7, c8, c9, c10]


@pytest.mark.parametrize("case", range(10))
def test_programs_agree_with_pytorch(case):
    torch = pytest.importorskip("torch")
    xs, ws = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [0.5, -1.0, 2.0]

    def run(lib, make):
        x, w = make(xs), make(ws)
        out = _programs(lib)[case](x, w)
        out.backward()
        return float(out), np.asarray(x.grad.tolist()), np.asarray(w.grad.tolist()) if w.grad is not None else None

    ours = run(ct, _leaf)
    theirs = run(torch, lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
    assert ours[0] == pytest.approx(theirs[0], rel=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    assert (ours[2] is None) == (theirs[2] is None)
    if theirs[2] is not None:
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12)


def test_split_pieces_refuse_in_place_writes_and_stale_use_while_recording():
    x = _leaf([1.0, 2.0, 3.0, 4.0])
    a, _ = (x * 1).chunk(2)
    with pytest.raises(RuntimeError, match="several returned by one call"):
        a.mul_(3)
    y = x * 1
    a, _ = y.split(2)
    with ct.no_grad():
        y.add_(1)  # the pieces' memory changed after split
    with pytest.raises(RuntimeError, match="several returned by one call"):
        (a * 2).sum()
    b, _ = y.split(2)  # split again after the write: fine
    (b * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 0.0, 0.0]


def test_setitem_with_an_overlapping_value_reads_it_first():
    t = ct.tensor([0.0, 0.25, 0.5], dtype="float64")
    t[[1, 2, 0]] = t
    assert t.tolist() == [0.5, 0.0, 0.25]  # NumPy's answer: the value as if copied first


def test_results_of_one_dimensional_products_are_not_views():
    x = _leaf([1.0, 2.0])
    y = x @ x
    y.detach_()  # a view could not be detached in place
    assert not y.requires_grad and y.item() == 5.0


def test_exp_differentiates_from_its_output_after_its_input_is_written():
    x = _leaf([0.0, 1.0])
    y = x.exp()
    with ct.no_grad():
        x.add_(1.0)  # PyTorch keeps exp's output for backward: so does corten
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0]))
