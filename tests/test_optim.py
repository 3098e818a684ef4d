import corten as ct
import corten.optim as optim
import numpy as np
import pytest
from corten.optim import lr_scheduler


def _start(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(4, 3)), rng.normal(size=(3,))]


def _loss_c(ps):
    a, b = ps
    return (ct.tanh(a) * 1.5 + a * a * 0.3).sum() + (ct.sin(b) * b).sum()


def _loss_t(th, ps):
    a, b = ps
    return (th.tanh(a) * 1.5 + a * a * 0.3).sum() + (th.sin(b) * b).sum()


CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.001, alpha=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, eps=1e-6)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
]


@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_trajectory_matches_torch(name, kw):
    th = pytest.importorskip("torch")
    start = _start()
    cps = [ct.tensor(a, dtype="float64", requires_grad=True) for a in start]
    tps = [th.tensor(a, requires_grad=True) for a in start]
    copt = getattr(optim, name)(cps, **kw)
    topt = getattr(th.optim, name)(tps, **kw)
    for step in range(20):
        copt.zero_grad()
        topt.zero_grad()
        _loss_c(cps).backward()
        _loss_t(th, tps).backward()
        copt.step()
        topt.step()
        for c, t in zip(cps, tps, strict=False):
            np.testing.assert_allclose(
                c.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-12, err_msg=f"step {step}"
            )


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adam", "AdamW"])
def test_float32_steps_follow_float64(name):
    start = _start(1)
    runs = []
    for dt in ("float32", "float64"):
        ps = [ct.tensor(a, dtype=dt, requires_grad=True) for a in start]
        opt = getattr(optim, name)(ps, lr=0.01, **({"momentum": 0.9} if name == "SGD" else {}))
        for _ in range(5):
            opt.zero_grad()
            _loss_c(ps).backward()
            opt.step()
        assert ps[0].dtype == dt
        runs.append(ps[0].detach().numpy().astype(np.float64))
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-4, atol=1e-5)


def test_param_groups_and_zero_grad():
    a = ct.ones(3, requires_grad=True)
    b = ct.ones(2, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    (a.sum() + b.sum()).backward()
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), 0.9)
    np.testing.assert_allclose(b.detach().numpy(), 0.5)
    opt.zero_grad(set_to_none=False)
    assert (a.grad.numpy() == 0).all()
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    opt.step()  # no gradients: nothing moves
    np.testing.assert_allclose(a.detach().numpy(), 0.9)


def test_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([ct.ones(1, requires_grad=True)], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([ct.ones(1, requires_grad=True)], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta"):
        optim.Adam([ct.ones(1, requires_grad=True)], betas=(1.0, 0.9))
    p = ct.ones(1, requires_grad=True)
    with pytest.raises(ValueError, match="more than one"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="floating point"):
        optim.SGD([ct.ones(1, dtype="int64")], lr=0.1)


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adam"])
def test_state_dict_round_trip(name):
    kw = {
        "SGD": dict(lr=0.05, momentum=0.9),
        "RMSprop": dict(lr=0.01, centered=True, momentum=0.5),
        "Adam": dict(lr=0.05, amsgrad=True),
    }[name]
    start = _start(2)
    ps = [ct.tensor(a, dtype="float64", requires_grad=True) for a in start]
    opt = getattr(optim, name)(ps, **kw)

    def run(opt, ps, n):
        for _ in range(n):
            opt.zero_grad()
            _loss_c(ps).backward()
            opt.step()

    run(opt, ps, 5)
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"} and sd["param_groups"][0]["params"] == [0, 1]
    ps2 = [ct.tensor(p.detach().numpy(), requires_grad=True) for p in ps]
    opt2 = getattr(optim, name)(ps2, lr=123.0)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    run(opt, ps, 5)
    run(opt2, ps2, 5)
    for a, b in zip(ps, ps2, strict=False):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    with pytest.raises(ValueError, match="parameter groups"):
        opt2.load_state_dict({"state": {}, "param_groups": []})


def test_state_dict_loads_into_torch_and_back():
    th = pytest.importorskip("torch")
    start = _start(3)
    ps = [ct.tensor(a, dtype="float64", requires_grad=True) for a in start]
    opt = optim.Adam(ps, lr=0.05)
    for _ in range(3):
        opt.zero_grad()
        _loss_c(ps).backward()
        opt.step()
    sd = opt.state_dict()
    tps = [th.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ps]
    topt = th.optim.Adam(tps, lr=0.05)
    topt.load_state_dict(
        {
            "state": {
                i: {
                    k: th.tensor(np.asarray(v), dtype=th.float64)
                    if not isinstance(v, int)
                    else th.tensor(float(v))
                    for k, v in s.items()
                }
                for i, s in sd["state"].items()
            },
            "param_groups": sd["param_groups"],
        }
    )
    for _ in range(4):
        opt.zero_grad()
        topt.zero_grad()
        _loss_c(ps).backward()
        _loss_t(th, tps).backward()
        opt.step()
        topt.step()
    for c, t in zip(ps, tps, strict=False):
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-6)
    # and back: torch's state dict into a fresh corten optimizer
    opt3 = optim.Adam([ct.tensor(t.detach().numpy().copy(), requires_grad=True) for t in tps], lr=0.05)
    opt3.load_state_dict(topt.state_dict())
    assert opt3.state[opt3.param_groups[0]["params"][0]]["step"] == 7


def test_schedulers_match_torch():
    th = pytest.importorskip("torch")
    for make_c, make_t in [
        (
            lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
            lambda o: th.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
        ),
        (
            lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
            lambda o: th.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
        ),
    ]:
        copt = optim.SGD([ct.ones(1, requires_grad=True)], lr=0.2)
        topt = th.optim.SGD([th.ones(1, requires_grad=True)], lr=0.2)
        cs, ts = make_c(copt), make_t(topt)
        for _ in range(12):
            assert cs.get_last_lr()[0] == pytest.approx(ts.get_last_lr()[0], rel=1e-9, abs=1e-12)
            copt.step()
            topt.step()
            cs.step()
            ts.step()


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps),
                                  lambda ps: optim.RMSprop(ps), lambda ps: optim.AdamW(ps)])
def test_step_bumps_versions_so_a_stale_graph_raises(make):
    """A step writes the parameters in place: backward through a graph that saved
    them must refuse (as PyTorch does), not silently use the new weights."""
    p = ct.ones(3, requires_grad=True)
    x = ct.tensor([1.0, 2.0, 3.0])
    y = (p * x).sum() + (p * p).sum()
    y.backward(retain_graph=True)
    v = p._bump_version(0)
    make([p]).step()
    assert p._bump_version(0) == v + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_zero_grad_in_place_bumps_the_gradient_version():
    p = ct.ones(3, requires_grad=True)
    (p * 2).sum().backward()
    v = p.grad._bump_version(0)
    optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    assert p.grad._bump_version(0) == v + 1 and p.grad.tolist() == [0.0, 0.0, 0.0]
