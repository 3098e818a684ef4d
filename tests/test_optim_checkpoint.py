"""Optimizer state through corten.save / corten.load, and across to torch.optim and back."""

import corten as ct
import corten.optim as optim
import numpy as np
import pytest
from test_optim import _loss_c, _loss_t, _start

pytest.importorskip("safetensors")

CONFIGS = [
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3)),
]
IDS = [f"{n}-{k}" for n, k in CONFIGS]
STATE = {
    "SGD": {"momentum_buffer"},
    "RMSprop": {"step", "square_avg"},
    "Adam": {"step", "exp_avg", "exp_avg_sq"},
    "AdamW": {"step", "exp_avg", "exp_avg_sq"},
}


def _run_c(opt, ps, n):
    for _ in range(n):
        opt.zero_grad()
        _loss_c(ps).backward()
        opt.step()


def _run_t(th, opt, ps, n):
    for _ in range(n):
        opt.zero_grad()
        _loss_t(th, ps).backward()
        opt.step()


def _tree(obj, leaf):
    if isinstance(obj, dict):
        return {k: _tree(v, leaf) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_tree(v, leaf) for v in obj)
    return leaf(obj)


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_state_round_trips_through_a_file(tmp_path, name, kw):
    ps = [ct.tensor(a, dtype="float32", requires_grad=True) for a in _start(1)]
    opt = getattr(optim, name)(ps, **kw)
    _run_c(opt, ps, 4)
    ct.save(opt.state_dict(), tmp_path / "opt.safetensors")
    sd = ct.load(tmp_path / "opt.safetensors")
    assert set(sd) == {"state", "param_groups"} and sorted(sd["state"]) == [0, 1]
    assert STATE[name] <= set(sd["state"][0]), sd["state"][0]
    for i, p in enumerate(ps):
        for k, v in sd["state"][i].items():
            assert v.shape == (() if k == "step" else p.shape), k
    if "step" in sd["state"][0]:  # as torch.optim: a 0-d float32 tensor
        assert sd["state"][0]["step"].dtype == ct.float32 and sd["state"][0]["step"].item() == 4.0
    assert sd["param_groups"][0]["lr"] == kw["lr"] and sd["param_groups"][0]["params"] == [0, 1]
    ps2 = [ct.tensor(p.detach().numpy(), requires_grad=True) for p in ps]
    opt2 = getattr(optim, name)(ps2, lr=1.0)
    opt2.load_state_dict(sd)
    _run_c(opt, ps, 4)
    _run_c(opt2, ps2, 4)
    for a, b in zip(ps, ps2, strict=True):  # same file, same kernels: bit for bit
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_corten_checkpoint_continues_in_torch_and_back(tmp_path, name, kw):
    th = pytest.importorskip("torch")
    cps = [ct.tensor(a, dtype="float64", requires_grad=True) for a in _start(2)]
    copt = getattr(optim, name)(cps, **kw)
    _run_c(copt, cps, 5)
    ct.save(copt.state_dict(), tmp_path / "c.safetensors")
    # torch continues from corten's file ...
    tps = [th.tensor(p.detach().numpy(), requires_grad=True) for p in cps]
    topt = getattr(th.optim, name)(tps, lr=1.0)
    topt.load_state_dict(_tree(ct.load(tmp_path / "c.safetensors"),
                               lambda v: th.from_numpy(v.numpy().copy()) if isinstance(v, ct.Tensor) else v))
    _run_c(copt, cps, 5)
    _run_t(th, topt, tps, 5)
    for c, t in zip(cps, tps, strict=True):
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-12)
    # ... and corten continues from torch's
    ct.save(topt.state_dict(), tmp_path / "t.safetensors")
    cps2 = [ct.tensor(t.detach().numpy(), requires_grad=True) for t in tps]
    copt2 = getattr(optim, name)(cps2, lr=1.0)
    copt2.load_state_dict(ct.load(tmp_path / "t.safetensors"))
    assert copt2.param_groups[0]["lr"] == kw["lr"]
    _run_c(copt2, cps2, 5)
    _run_t(th, topt, tps, 5)
    for c, t in zip(cps2, tps, strict=True):
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-12)


def test_bad_optimizer_state_changes_nothing():
    ps = [ct.tensor(a, dtype="float32", requires_grad=True) for a in _start(3)]
    opt = optim.Adam(ps, lr=0.1)
    _run_c(opt, ps, 2)
    good = opt.state_dict()
    before = {k: v.numpy().copy() for k, v in good["state"][1].items()}

    def check(sd, match):
        with pytest.raises(ValueError, match=match):
            opt.load_state_dict(sd)
        after = opt.state_dict()
        assert opt.param_groups[0]["lr"] == 0.1
        for k, v in after["state"][1].items():
            np.testing.assert_array_equal(v.numpy(), before[k])

    wrong_shape = {**good, "state": {0: good["state"][0], 1: {**good["state"][1], "exp_avg": ct.ones(5)}}}
    check(dict(wrong_shape, param_groups=[{**good["param_groups"][0], "lr": 9.0}]), "exp_avg.*shape")
    check({"state": {0: {"momentum_buffer": ct.ones(4, 3)}}, "param_groups": good["param_groups"]},
          "another optimizer")
    check({**good, "state": {7: good["state"][0]}}, "parameter 7")
    check({**good, "state": {0: {**good["state"][0], "step": ct.tensor(-1.0)}}}, "step")
    check({"param_groups": good["param_groups"]}, "'state'")
