"""The multi-tensor optimizer steps (one C++ call per parameter group) against the
one-parameter kernels: bit for bit, on any thread count, with mixed sizes and dtypes."""

import corten as ct
import corten.optim as optim
import numpy as np
import pytest
from corten import _C
from corten.optim.optimizer import Optimizer
from test_optim import CONFIGS

# One parameter split across threads (above twice the largest grain, 2^18), small
# ones sharing a piece, an empty one, and float64 next to float32.
SHAPES = [((600, 1000), "float32"), ((5,), "float32"), ((1,), "float64"), ((0,), "float32"),
          ((300, 137), "float64"), ((70001,), "float32")]


def _run(name, kw, threads, multi, steps=3):
    rng = np.random.default_rng(7)
    params = [ct.tensor(rng.normal(size=s), dtype=dt, requires_grad=True) for s, dt in SHAPES]
    opt = getattr(optim, name)(params, **kw)
    if not multi:  # the base class's loop: one `_update` (one-parameter kernel) per parameter
        opt._update_group = lambda *a: Optimizer._update_group(opt, *a)
    old = ct.get_num_threads()
    ct.set_num_threads(threads)
    try:
        for _ in range(steps):
            for p in params:
                p.grad = ct.tensor(rng.normal(size=p.shape), dtype=p.dtype)
            params[1].grad = None  # a parameter without a gradient is skipped
            opt.step()
    finally:
        ct.set_num_threads(old)
    return [p.detach().numpy().copy() for p in params], opt


@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_multi_tensor_step_equals_per_parameter_steps_on_any_thread_count(name, kw):
    want, ref = _run(name, kw, 1, multi=False)
    for threads in (1, 2, 3, 8):
        got, opt = _run(name, kw, threads, multi=True)
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(g, w, err_msg=f"parameter {i} at {threads} threads")
        for st, st_ref in zip(opt.state.values(), ref.state.values(), strict=True):
            assert st.keys() == st_ref.keys()
            for k in st:
                np.testing.assert_array_equal(st[k], st_ref[k], err_msg=k)
    assert not np.array_equal(want[0], _run(name, kw, 1, multi=False, steps=0)[0][0])  # the steps moved it


def test_multi_tensor_step_bumps_every_updated_parameter_version():
    a = ct.tensor(np.ones(3), requires_grad=True)
    b = ct.tensor(np.ones(2), requires_grad=True)
    opt = optim.RMSprop([a, b], lr=0.1)
    a.grad = ct.tensor(np.ones(3))
    va, vb = a._bump_version(0), b._bump_version(0)
    opt.step()
    assert a._bump_version(0) == va + 1 and b._bump_version(0) == vb  # b had no gradient


def _arrays(n=4, size=10):
    return [np.ones(size, np.float32) for _ in range(n)]


def test_multi_tensor_kernels_refuse_bad_lists():
    p, g, sq = _arrays(2), _arrays(2), _arrays(2)
    empty = [np.empty(0, np.float32)] * 2
    with pytest.raises(ValueError, match="2 parameters but 1 gradients"):
        _C.rmsprop_steps(p, g[:1], sq, empty, empty, 0.1, 0.9, 1e-8, 0.0, 0.0, False)
    with pytest.raises(ValueError, match="state list of 1"):
        _C.rmsprop_steps(p, g, sq[:1], empty, empty, 0.1, 0.9, 1e-8, 0.0, 0.0, False)
    with pytest.raises(ValueError, match="share memory"):
        _C.rmsprop_steps(p, g, [sq[0], p[1]], empty, empty, 0.1, 0.9, 1e-8, 0.0, 0.0, False)
    base = np.ones(30, np.float32)  # two parameters that overlap
    with pytest.raises(ValueError, match="share memory"):
        _C.sgd_steps([base[:20], base[10:]], _arrays(2, 20), empty, 0.1, 0.0, 0.0, False, 0.0, [False, False])
    with pytest.raises(ValueError, match="does not match"):
        _C.rmsprop_steps(p, [g[0], np.ones(9, np.float32)], sq, empty, empty, 0.1, 0.9, 1e-8, 0.0, 0.0, False)
    with pytest.raises(ValueError, match="missing state"):
        _C.rmsprop_steps(p, g, empty, empty, empty, 0.1, 0.9, 1e-8, 0.0, 0.0, False)
    with pytest.raises(ValueError, match="one 'first' flag"):
        _C.sgd_steps(p, g, empty, 0.1, 0.0, 0.0, False, 0.0, [False])
    counts = [np.array(0.0), np.array(0.0)]
    for bad in (-1.0, 0.5, np.inf, np.nan):
        with pytest.raises(ValueError, match="step count must be a non-negative whole number"):
            _C.adam_steps(p, g, sq, _arrays(2), empty, 0.1, 0.9, 0.99, 1e-8, 0.0, False, [counts[0], np.array(bad)])
    with pytest.raises(ValueError, match="0-d float64 array, got float32"):
        _C.adam_steps(p, g, sq, _arrays(2), empty, 0.1, 0.9, 0.99, 1e-8, 0.0, False,
                      [counts[0], np.array(1.0, np.float32)])
    with pytest.raises(ValueError, match="amsgrad needs"):
        _C.adam_steps(p, g, sq, _arrays(2), [np.ones(10, np.float32), np.empty(0, np.float32)],
                      0.1, 0.9, 0.99, 1e-8, 0.0, False, counts)
    assert [c.item() for c in counts] == [0.0, 0.0]  # a refused call advances no count
    with pytest.raises(ValueError, match="read-only"):
        ro = np.ones(10, np.float32)
        ro.flags.writeable = False
        _C.rmsprop_steps([ro, p[1]], g, sq, empty, empty, 0.1, 0.9, 1e-8, 0.0, 0.0, False)
    assert all((a == 1).all() for a in p + sq)  # nothing was written by a refused call


def test_multi_tensor_kernels_accept_an_empty_group():
    _C.rmsprop_steps([], [], [], [], [], 0.1, 0.9, 1e-8, 0.0, 0.0, False)
    _C.adam_steps([], [], [], [], [], 0.1, 0.9, 0.99, 1e-8, 0.0, False, [])
    _C.sgd_steps([], [], [], 0.1, 0.0, 0.0, False, 0.0, [])


def test_a_subclass_overriding_update_is_still_called_per_parameter():
    seen = []

    class Logged(optim.RMSprop):
        def _update(self, p, g, group, state):
            seen.append(p.shape)
            super()._update(p, g, group, state)

    a = ct.tensor(np.ones((2, 3)), requires_grad=True)
    b = ct.tensor(np.ones(4), requires_grad=True)
    opt = Logged([a, b], lr=0.1)
    a.grad, b.grad = ct.ones((2, 3), dtype="float64"), ct.ones(4, dtype="float64")
    opt.step()
    assert seen == [(2, 3), (4,)]
    assert (a.detach().numpy() < 1).all() and (b.detach().numpy() < 1).all()
