"""corten.compile: a replayed step equals the eager step bit for bit, and a step the
recording cannot stand in for is refused (run eagerly, with the reason), never replayed wrong."""

from __future__ import annotations

import warnings

import corten as ct
import numpy as np
import pytest
from corten import _C, nn, optim
from corten.data import DataLoader, TensorDataset
from corten.optim.lr_scheduler import StepLR


def _data(n: int = 200, features: int = 12, classes: int = 4, seed: int = 0) -> TensorDataset:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = rng.integers(0, classes, n).astype(np.int64)
    return TensorDataset(ct.tensor(x), ct.tensor(y))


def _mlp(seed: int = 0) -> nn.Module:
    ct.manual_seed(seed)
    return nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4))


def _step_fn(model, opt, zero: str = "none", loss_fn=None):
    loss_fn = loss_fn or nn.CrossEntropyLoss()

    def step(x, y):
        if zero == "none":
            opt.zero_grad()
        elif zero == "zeros":
            opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _twins(make_opt, zero="none", model_fn=_mlp):
    """The same step twice from the same start: one eager, one compiled."""
    m1, m2 = model_fn(), model_fn()
    o1, o2 = make_opt(m1), make_opt(m2)
    eager = _step_fn(m1, o1, zero)
    compiled = ct.compile(_step_fn(m2, o2, zero), state=[m2, o2])
    return (m1, o1, eager), (m2, o2, compiled)


def _assert_same(m1, o1, m2, o2):
    for p, q in zip(m1.parameters(), m2.parameters(), strict=True):
        assert p._a.tobytes() == q._a.tobytes()
        assert (p.grad is None) == (q.grad is None)
        if p.grad is not None:
            assert p.grad._a.tobytes() == q.grad._a.tobytes()
    s1 = o1.state_dict()["state"]
    s2 = o2.state_dict()["state"]
    assert s1.keys() == s2.keys()
    for k in s1:
        for name, v in s1[k].items():
            w = s2[k][name]
            assert (np.asarray(v).tobytes() == np.asarray(w).tobytes()), (k, name)


def _run(eager, compiled, loader, epochs=3):
    losses = []
    for _ in range(epochs):
        for x, y in loader:
            a, b = eager(x, y), compiled(x, y)
            assert a.item() == b.item() or (np.isnan(a.item()) and np.isnan(b.item()))
            losses.append(b)
    return losses


OPTIMIZERS = {
    "rmsprop": lambda m: optim.RMSprop(m.parameters(), lr=1e-2, alpha=0.9),
    "rmsprop-centered-momentum": lambda m: optim.RMSprop(m.parameters(), lr=1e-2, momentum=0.5, centered=True),
    "sgd-momentum-decay": lambda m: optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3),
    "adam": lambda m: optim.Adam(m.parameters(), lr=1e-2),  # its step counts advance in the kernel
    "adamw-amsgrad": lambda m: optim.AdamW(m.parameters(), lr=1e-2, amsgrad=True),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("zero", ["none", "zeros", "accumulate"])
def test_replayed_steps_equal_eager_steps_bit_for_bit(name, zero):
    (m1, o1, eager), (m2, o2, compiled) = _twins(OPTIMIZERS[name], zero)
    loader = DataLoader(_data(), batch_size=32, shuffle=True)  # 6 full batches and one of 8 rows
    ct.manual_seed(3)
    losses = _run(eager, compiled, loader)
    assert compiled.reason is None
    assert compiled.replays >= 3 * 6 - 4  # recorded (twice when the first step differs), checked, replayed
    _assert_same(m1, o1, m2, o2)
    assert len({loss.item() for loss in losses}) > 1  # each returned loss is its own copy


def test_a_learning_rate_schedule_makes_the_step_record_again():
    (m1, o1, eager), (m2, o2, compiled) = _twins(OPTIMIZERS["sgd-momentum-decay"])
    s1, s2 = StepLR(o1, step_size=1, gamma=0.5), StepLR(o2, step_size=1, gamma=0.5)
    loader = DataLoader(_data(192), batch_size=32)
    for _ in range(4):
        _run(eager, compiled, loader, epochs=1)
        s1.step()
        s2.step()
    assert compiled.reason is None and compiled.replays > 0
    _assert_same(m1, o1, m2, o2)


def test_replaced_parameters_and_gradients_set_outside_are_followed():
    (m1, o1, eager), (m2, o2, compiled) = _twins(OPTIMIZERS["rmsprop"], zero="accumulate")
    loader = DataLoader(_data(192), batch_size=32)
    _run(eager, compiled, loader, epochs=1)
    with ct.no_grad():  # a new weight array and gradients set by hand, in both
        for m in (m1, m2):
            m[0].weight = nn.Parameter(ct.ones(16, 12) * 0.01)
    o1.param_groups[0]["params"][0] = m1[0].weight
    o2.param_groups[0]["params"][0] = m2[0].weight
    for m in (m1, m2):
        for p in m.parameters():
            p.grad = ct.full(p.shape, 0.25)
    _run(eager, compiled, loader, epochs=2)
    _assert_same(m1, o1, m2, o2)


def test_a_convnet_step_replays_bit_for_bit():
    def cnn():
        ct.manual_seed(1)
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(4 * 4 * 4, 3))

    rng = np.random.default_rng(2)
    data = TensorDataset(ct.tensor(rng.normal(size=(48, 1, 8, 8)).astype(np.float32)),
                         ct.tensor(rng.integers(0, 3, 48).astype(np.int64)))
    (m1, o1, eager), (m2, o2, compiled) = _twins(OPTIMIZERS["sgd-momentum-decay"], model_fn=cnn)
    _run(eager, compiled, DataLoader(data, batch_size=16), epochs=2)
    assert compiled.reason is None and compiled.replays == 2  # SGD's first step (momentum created) differs
    _assert_same(m1, o1, m2, o2)


def _refused(step, state, loader, match):
    compiled = ct.compile(step, state=state)
    with pytest.warns(RuntimeWarning, match=match):
        for x, y in loader:
            compiled(x, y)
    assert compiled.replays == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once
        for x, y in loader:
            compiled(x, y)
    return compiled


def test_a_number_that_changes_every_step_is_refused_and_still_trains_correctly():
    (m1, o1, _), (m2, o2, _) = _twins(OPTIMIZERS["rmsprop"])
    calls = []

    def make(model, opt):
        inner = _step_fn(model, opt, loss_fn=lambda out, y: nn.functional.cross_entropy(out, y) * (1 + len(calls)))

        def step(x, y):
            calls.append(1)  # Python state: the loss is scaled by the call count
            return inner(x, y)

        return step

    eager, loader = make(m1, o1), DataLoader(_data(192), batch_size=32)
    _refused(make(m2, o2), [m2, o2], loader, "changed between steps|bit for bit")
    calls.clear()
    for _ in range(2):
        for x, y in loader:
            eager(x, y)
    _assert_same(m1, o1, m2, o2)


def test_a_value_read_in_python_is_refused():
    model = _mlp()
    opt = OPTIMIZERS["rmsprop"](model)
    inner = _step_fn(model, opt)
    seen = []

    def step(x, y):
        loss = inner(x, y)
        seen.append(loss.item())  # a side effect the kernels cannot replay
        return loss

    _refused(step, [model, opt], DataLoader(_data(96), batch_size=32), "Tensor.item")
    assert len(seen) == 6


def test_numpy_arithmetic_on_the_data_is_caught_by_the_check():
    model = _mlp()
    opt = OPTIMIZERS["rmsprop"](model)
    inner = _step_fn(model, opt)

    def step(x, y):  # NumPy, not a kernel: a recording would keep the first batch's result
        return inner(ct.Tensor._wrap(x._a * np.float32(2)), y)

    compiled = _refused(step, [model, opt], DataLoader(_data(96), batch_size=32), "bit for bit")
    assert "outside corten's kernels" in compiled.reason


def test_random_numbers_are_refused():
    ct.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 16), nn.Dropout(0.5), nn.Linear(16, 4))
    opt = OPTIMIZERS["rmsprop"](model)
    _refused(_step_fn(model, opt), [model, opt], DataLoader(_data(96), batch_size=32), "random numbers")


def test_bad_arguments_are_named():
    model = _mlp()
    opt = OPTIMIZERS["rmsprop"](model)
    with pytest.raises(TypeError, match="state must hold Modules and Optimizers, got int"):
        ct.compile(_step_fn(model, opt), state=[model, 3])
    with pytest.raises(TypeError, match="expected a function"):
        ct.compile(5)
    compiled = ct.compile(_step_fn(model, opt), state=[model, opt])
    x = ct.zeros(4, 12, requires_grad=True)
    with pytest.raises(TypeError, match="must not require grad"):
        compiled(x, ct.zeros(4, dtype=ct.int64))
    with pytest.raises(TypeError, match="tensors or hashable values, got list"):
        compiled(ct.zeros(4, 12), [1, 2])


def test_recording_restores_the_kernels_and_leaves_other_threads_alone():
    matmul = _C.matmul
    (m1, o1, eager), (m2, o2, compiled) = _twins(OPTIMIZERS["rmsprop"])
    _run(eager, compiled, DataLoader(_data(96), batch_size=32), epochs=2)
    assert _C.matmul is matmul
    assert ct.Tensor.item(ct.tensor(2.0)) == 2.0


def test_steps_compiled_in_several_threads_and_nested_give_the_eager_bits():
    import threading

    twins = [_twins(OPTIMIZERS["rmsprop"]) for _ in range(3)]
    loader = DataLoader(_data(160), batch_size=32)
    errors = []

    def train(eager, compiled):
        try:
            _run(eager, compiled, loader, epochs=3)
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=train, args=(e, c)) for (_, _, e), (_, _, c) in twins]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for (m1, o1, _), (m2, o2, c) in twins:
        assert c.reason is None and c.replays > 0
        _assert_same(m1, o1, m2, o2)
    (m1, o1, eager), (m2, o2, inner) = _twins(OPTIMIZERS["sgd-momentum-decay"])
    outer = ct.compile(lambda x, y: inner(x, y), state=[m2, o2])  # the inner one runs eagerly inside
    _run(eager, outer, loader, epochs=3)
    assert outer.reason is None and outer.replays > 0
    _assert_same(m1, o1, m2, o2)


@pytest.mark.parametrize("kind", ["tensor", "post-accumulate"])
def test_a_step_with_gradient_hooks_is_refused(kind):
    model = _mlp()
    opt = OPTIMIZERS["rmsprop"](model)
    calls = []
    w = model[0].weight
    if kind == "tensor":
        w.register_hook(lambda g: calls.append(1))
    else:
        w.register_post_accumulate_grad_hook(lambda p: calls.append(1))
    _refused(_step_fn(model, opt), [model, opt], DataLoader(_data(96), batch_size=32), "hook")
    assert len(calls) == 6  # every step ran eagerly, hooks included


def test_freezing_a_parameter_or_writing_an_input_is_followed():
    (m1, o1, eager), (m2, o2, compiled) = _twins(OPTIMIZERS["sgd-momentum-decay"])
    loader = DataLoader(_data(192), batch_size=32)
    _run(eager, compiled, loader, epochs=1)
    for m in (m1, m2):  # frozen: no gradient, no update; the recording no longer fits
        m[2].bias.requires_grad_(False)
    _run(eager, compiled, loader, epochs=1)
    for m in (m1, m2):
        m[2].bias.requires_grad_(True)
    _run(eager, compiled, loader, epochs=1)
    assert compiled.reason is None
    _assert_same(m1, o1, m2, o2)

    model = _mlp()
    opt = OPTIMIZERS["rmsprop"](model)
    inner = _step_fn(model, opt)

    def step(x, y):
        x.mul_(0.5)  # written in place, by a kernel: the caller's tensor must see it
        return inner(x, y)

    _refused(step, [model, opt], DataLoader(_data(96), batch_size=32), "writes its input tensors")


def test_loading_an_optimizer_state_dict_makes_the_step_record_again():
    (m1, o1, eager), (m2, o2, compiled) = _twins(OPTIMIZERS["adam"])
    loader = DataLoader(_data(192), batch_size=32)
    _run(eager, compiled, loader, epochs=1)
    saved = o1.state_dict()  # both take the state of step 6 back after four more steps
    _run(eager, compiled, loader, epochs=1)
    o1.load_state_dict(saved)
    o2.load_state_dict(saved)
    _run(eager, compiled, loader, epochs=2)
    assert compiled.reason is None and compiled.replays > 0
    _assert_same(m1, o1, m2, o2)


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "viewed"])
def test_inputs_reach_the_replay_by_reference_or_by_copy(layout):
    """A contiguous input goes to the recorded kernels as it is; a transposed one, or one
    the step reads through a view, is copied into the recording's buffer first."""
    (m1, o1, _), (m2, o2, _) = _twins(OPTIMIZERS["rmsprop"])
    loss_fn = nn.CrossEntropyLoss()

    def make(model, opt):
        def step(x, y):
            if layout == "viewed":
                x = x.reshape(x.shape[0], 3, 4).reshape(x.shape[0], 12)
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return step

    eager, compiled = make(m1, o1), ct.compile(make(m2, o2), state=[m2, o2])
    rng = np.random.default_rng(4)
    for _ in range(8):
        xa = rng.normal(size=(12, 16)).astype(np.float32)
        x = ct.tensor(xa.T.copy()) if layout != "transposed" else ct.tensor(xa).T
        y = ct.tensor(rng.integers(0, 4, 16))
        assert eager(x, y).item() == compiled(x, y).item()
    # (a transposed input's first recording differs: the step copied it; the buffer is contiguous)
    assert compiled.reason is None and compiled.replays == (4 if layout == "transposed" else 5)
    plan = next(iter(compiled._plans.values()))
    assert (plan.direct[0] is None) == (layout == "viewed")
    _assert_same(m1, o1, m2, o2)
