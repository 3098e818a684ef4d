import math

import corten as ct
import corten.nn as nn
import corten.nn.functional as F
import numpy as np
import pytest


def t64(a, grad=True):
    return ct.tensor(np.asarray(a, np.float64), requires_grad=grad)


def rnd(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).normal(size=shape) * scale


# ---- Module machinery ------------------------------------------------------------------


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 2, bias=False)
        self.register_buffer("steps", ct.zeros(1))
        self.register_buffer("scratch", ct.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def test_module_registration_and_traversal():
    m = Net()
    assert [n for n, _ in m.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight"]
    assert len(list(m.parameters())) == 3
    assert [type(c).__name__ for c in m.children()] == ["Linear", "ReLU", "Linear"]
    assert len(list(m.modules())) == 4
    assert list(m.state_dict()) == ["steps", "fc1.weight", "fc1.bias", "fc2.weight"] or set(
        m.state_dict()
    ) == {"steps", "fc1.weight", "fc1.bias", "fc2.weight"}
    assert "scratch" not in m.state_dict()
    assert m.fc2.bias is None
    assert isinstance(m.fc1.weight, nn.Parameter) and m.fc1.weight.requires_grad
    assert not isinstance(ct.zeros(2), nn.Parameter)
    assert m.num_parameters() == 4 * 3 + 3 + 3 * 2


def test_train_eval_zero_grad():
    m = Net()
    assert m.training and m.fc1.training
    m.eval()
    assert not m.training and not m.fc1.training
    m.train()
    assert m.fc2.training
    out = m(ct.ones(5, 4)).sum()
    out.backward()
    assert m.fc1.weight.grad is not None
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_setattr_rules():
    m = Net()
    with pytest.raises(TypeError):
        m.fc1 = ct.zeros(2)  # a child module slot takes modules or None
    with pytest.raises(TypeError):
        m.steps = 3
    m.steps = ct.ones(1)
    assert m.state_dict()["steps"].item() == 1
    m.fc1.weight = nn.Parameter(ct.zeros(3, 4))
    assert m.fc1.weight.shape == (3, 4)
    with pytest.raises(AttributeError, match="nope"):
        m.nope  # noqa: B018


def test_state_dict_round_trip_and_errors():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    for (n1, p1), (_, p2) in zip(a.named_parameters(), b.named_parameters(), strict=False):
        np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy(), err_msg=n1)
    sd = a.state_dict()
    del sd["fc1.bias"]
    sd["extra"] = ct.zeros(1)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "fc1.bias"') as e:
        b.load_state_dict(sd)
    assert 'Unexpected key(s) in state_dict: "extra"' in str(e.value)
    res = b.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == ["extra"]
    bad = a.state_dict()
    bad["fc1.weight"] = ct.zeros(4, 4)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight: .*\(4,4\).*\(3,4\)"):
        b.load_state_dict(bad)


def test_repr_tree():
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Dropout(0.2)))
    r = repr(m)
    assert "(0): Linear(in_features=2, out_features=3, bias=True)" in r
    assert "(1): ReLU()" in r
    assert "(2): Sequential(\n    (0): Dropout(p=0.2)\n  )" in r


def test_sequential_indexing():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[1], nn.ReLU) and len(s[:2]) == 2
    assert [type(x).__name__ for x in s] == ["Linear", "ReLU", "Linear"]


def test_linear_default_init_bounds():
    ct.manual_seed(1)
    lin = nn.Linear(400, 300)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    bound = 1 / math.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound  # uniform(-b, b) has std b/sqrt(3)
    assert w.dtype == np.float32


def test_init_functions():
    ct.manual_seed(0)
    w = ct.zeros(200, 100)
    nn.init.xavier_uniform_(w)
    assert np.abs(w.numpy()).max() <= math.sqrt(6 / 300)
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(w.numpy().std() - math.sqrt(2 / 100)) < 0.01
    nn.init.xavier_normal_(w)
    assert abs(w.numpy().std() - math.sqrt(2 / 300)) < 0.01
    nn.init.zeros_(w)
    assert (w.numpy() == 0).all()
    nn.init.ones_(w)
    assert (w.numpy() == 1).all()
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.kaiming_uniform_(ct.zeros(3))
    assert nn.init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(2 / 6))


def test_init_is_reproducible():
    ct.manual_seed(3)
    a = nn.Linear(5, 4).weight.detach().numpy().copy()
    ct.manual_seed(3)
    b = nn.Linear(5, 4).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)


# ---- hand-computed values ----------------------------------------------------------------


def test_hand_computed_values():
    x = ct.tensor([[0.0, 0.0], [1.0, 1.0]])
    assert F.cross_entropy(x, ct.tensor([0, 1])).item() == pytest.approx(math.log(2))
    np.testing.assert_allclose(F.softmax(x, dim=1).numpy(), 0.5)
    np.testing.assert_allclose(
        F.log_softmax(ct.tensor([0.0, math.log(3)]), 0).numpy(), [math.log(0.25), math.log(0.75)], rtol=1e-6
    )
    assert F.mse_loss(ct.tensor([1.0, 3.0]), ct.tensor([0.0, 0.0])).item() == 5.0
    assert F.l1_loss(ct.tensor([1.0, -3.0]), ct.tensor([0.0, 0.0]), reduction="sum").item() == 4.0
    assert F.nll_loss(ct.tensor([[-1.0, -2.0]]), ct.tensor([1])).item() == 2.0
    assert F.binary_cross_entropy_with_logits(ct.tensor([0.0]), ct.tensor([1.0])).item() == pytest.approx(
        math.log(2)
    )
    np.testing.assert_array_equal(F.one_hot(ct.tensor([2, 0]), 3).numpy(), [[0, 0, 1], [1, 0, 0]])
    assert F.one_hot(ct.tensor([1, 3])).shape == (2, 4)
    y = nn.LayerNorm(2, elementwise_affine=False)(ct.tensor([[1.0, 3.0]]))
    np.testing.assert_allclose(y.numpy(), [[-1, 1]], rtol=1e-4)


def test_cross_entropy_huge_logits_finite():
    for dt in ("float32", "float64"):
        x = ct.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3]], dtype=dt, requires_grad=True)
        loss = F.cross_entropy(x, ct.tensor([1, 1]))
        loss.backward()
        assert np.isfinite(loss.item()) and loss.item() == pytest.approx(1e4)
        g = x.grad.numpy()
        assert np.isfinite(g).all()
        np.testing.assert_allclose(g, [[0.5, -0.5, 0], [0, 0, 0]], atol=1e-6)
        p = F.softmax(x.detach() * 10, dim=1).numpy()
        assert np.isfinite(p).all()


def test_cross_entropy_errors():
    x = ct.zeros(2, 3)
    with pytest.raises(ValueError, match="out of bounds for 3 classes"):
        F.cross_entropy(x, ct.tensor([0, 3]))
    with pytest.raises(ValueError, match="expected target of shape"):
        F.cross_entropy(x, ct.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, ct.tensor([0, 1]), reduction="avg")
    with pytest.raises(TypeError, match="floating"):
        F.cross_entropy(ct.zeros(2, 3, dtype="int64"), ct.tensor([0, 1]))
    with pytest.raises(ValueError, match="probability targets"):
        F.cross_entropy(x, ct.zeros(2, 4))


def test_cross_entropy_thread_independent():
    x = ct.tensor(rnd(5000, 37, seed=4).astype(np.float32), requires_grad=True)
    t = ct.tensor(np.random.default_rng(1).integers(0, 37, 5000))
    res = []
    old = ct.get_num_threads()
    try:
        for n in (1, 2, 3, 8):
            ct.set_num_threads(n)
            x.grad = None
            loss = F.cross_entropy(x, t, reduction="none")
            loss.sum().backward()
            res.append((loss.detach().numpy().tobytes(), x.grad.numpy().tobytes()))
    finally:
        ct.set_num_threads(old)
    for r in res[1:]:
        assert r == res[0]


def test_dropout():
    ct.manual_seed(0)
    x = ct.ones(1000, 100)
    y = F.dropout(x, 0.3).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    d = nn.Dropout(0.5).eval()
    assert d(x) is x
    assert (F.dropout(x, 1.0).numpy() == 0).all()
    with pytest.raises(ValueError):
        nn.Dropout(1.5)
    xg = ct.ones(10, requires_grad=True)
    F.dropout(xg, 0.5).sum().backward()
    assert set(np.unique(xg.grad.numpy())) <= {0.0, 2.0}


def test_layer_norm_gradcheck():
    x = t64(rnd(3, 4))
    w, b = t64(rnd(4, seed=1)), t64(rnd(4, seed=2))
    assert ct.autograd.gradcheck(lambda x, w, b: F.layer_norm(x, 4, w, b), (x, w, b))


def test_embedding_errors_and_padding():
    e = nn.Embedding(5, 3, padding_idx=0)
    assert (e.weight.detach().numpy()[0] == 0).all()
    with pytest.raises(IndexError, match="out of bounds"):
        e(ct.tensor([5]))
    with pytest.raises(TypeError):
        e(ct.tensor([0.5]))
    out = e(ct.tensor([[0, 1], [1, 4]]))
    out.sum().backward()
    g = e.weight.grad.numpy()
    np.testing.assert_array_equal(g[:, 0], [0, 2, 0, 0, 1])


# ---- against PyTorch (float64, forward and gradients) ------------------------------------

torch = None


@pytest.fixture(scope="module")
def th():
    return pytest.importorskip("torch")


def _pair(a):
    """The same float64 data as a corten and a torch leaf."""
    import torch as _t

    return t64(a), _t.tensor(np.asarray(a, np.float64), requires_grad=True)


def _close(c, t, rtol=1e-7, atol=1e-9):
    np.testing.assert_allclose(
        np.asarray(c.detach().numpy() if hasattr(c, "detach") else c),
        t.detach().numpy(),
        rtol=rtol,
        atol=atol,
    )


def _check_layer(th, cm, tm, x, *, target_grad=True):
    """Copy cm's parameters into tm, run both on x, compare outputs and all gradients."""
    with th.no_grad():
        for (n, p), (tn, tp) in zip(cm.named_parameters(), tm.named_parameters(), strict=False):
            assert n == tn
            tp.copy_(th.from_numpy(p.detach().numpy().copy()))
    cx, tx = _pair(x)
    cy, ty = cm(cx), tm(tx)
    _close(cy, ty)
    gy = rnd(*cy.shape, seed=9)
    cy.backward(ct.tensor(gy))
    ty.backward(th.from_numpy(gy))
    _close(cx.grad, tx.grad)
    for (_, p), (_, tp) in zip(cm.named_parameters(), tm.named_parameters(), strict=True):
        _close(p.grad, tp.grad)
    for (_, b), (_, tb) in zip(cm.named_buffers(), tm.named_buffers(), strict=True):
        _close(b, tb)


def _lin_relu(m, sizes):
    """Sequential(Linear, ReLU, ...) of corten (float32 parameters) or torch (float64)."""
    seq = m.Sequential(*[mod for i, o in sizes for mod in (m.Linear(i, o), m.ReLU())])
    return seq if m is nn else seq.double()


LAYERS = [
    ("Linear", lambda m: m.Linear(5, 3, dtype=None) if m is nn else m.Linear(5, 3).double(), (4, 5)),
    ("Linear3d", lambda m: m.Linear(5, 2) if m is nn else m.Linear(5, 2).double(), (2, 3, 5)),
    ("ReLU", lambda m: m.ReLU(), (4, 5)),
    # Linear then ReLU in a Sequential run as one GEMM with a fused epilogue.
    ("LinearReLU", lambda m: _lin_relu(m, [(5, 3), (3, 2)]), (6, 5)),
    ("LinearReLU3d", lambda m: _lin_relu(m, [(5, 4)]), (2, 3, 5)),
    ("LeakyReLU", lambda m: m.LeakyReLU(0.2), (4, 5)),
    ("GELU", lambda m: m.GELU(), (4, 5)),
    ("GELUtanh", lambda m: m.GELU(approximate="tanh"), (4, 5)),
    ("Sigmoid", lambda m: m.Sigmoid(), (4, 5)),
    ("Tanh", lambda m: m.Tanh(), (4, 5)),
    ("Softmax", lambda m: m.Softmax(dim=1), (4, 5)),
    ("Softmax0", lambda m: m.Softmax(dim=0), (4, 5, 2)),
    ("LogSoftmax", lambda m: m.LogSoftmax(dim=-1), (4, 5)),
    ("LogSoftmax1", lambda m: m.LogSoftmax(dim=1), (3, 4, 2)),
    ("LayerNorm", lambda m: m.LayerNorm(5) if m is nn else m.LayerNorm(5).double(), (4, 5)),
    ("LayerNorm2", lambda m: m.LayerNorm((3, 5)) if m is nn else m.LayerNorm((3, 5)).double(), (2, 3, 5)),
    ("BatchNorm1d", lambda m: m.BatchNorm1d(5) if m is nn else m.BatchNorm1d(5).double(), (6, 5)),
    ("BatchNorm1d3", lambda m: m.BatchNorm1d(3) if m is nn else m.BatchNorm1d(3).double(), (4, 3, 5)),
    ("Flatten", lambda m: m.Flatten(), (2, 3, 4)),
    ("Identity", lambda m: m.Identity(), (2, 3)),
]


@pytest.mark.parametrize("name,make,shape", LAYERS, ids=[x[0] for x in LAYERS])
def test_layer_matches_torch(th, name, make, shape):
    cm = make(nn)
    for p in cm.parameters():  # the float64 twin of each parameter
        p._a = p._a.astype(np.float64)
    for _, b in cm.named_buffers():
        if b._a.dtype == np.float32:
            b._a = b._a.astype(np.float64)
    for p in cm.parameters():
        nn.init.normal_(p)
    _check_layer(th, cm, make(th.nn), rnd(*shape, seed=len(name)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
def test_sequential_linear_relu_is_bit_identical_to_the_separate_modules(dtype, bias):
    """Sequential(Linear, ReLU) runs the pair fused; its output and every gradient are
    the bits of calling the two modules in turn (first order and create_graph)."""
    seq = nn.Sequential(nn.Linear(37, 45, bias=bias, dtype=dtype), nn.ReLU(), nn.Linear(45, 13, dtype=dtype))
    x = np.random.default_rng(3).normal(size=(29, 37)).astype(dtype)
    g = np.random.default_rng(4).normal(size=(29, 13)).astype(dtype)
    results = []
    for fused in (True, False):
        for p in seq.parameters():
            p.grad = None
        xt = ct.tensor(x, requires_grad=True)
        y = seq(xt) if fused else seq[2](seq[1](seq[0](xt)))
        y.backward(ct.tensor(g))
        results.append([y.detach().numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in seq.parameters()])
    assert (results[0][0] > 0).any() and (results[0][1] != 0).any()
    for got, want in zip(results[0], results[1], strict=True):
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
    # Second order: gradients of a gradient agree too.
    grads = []
    for fused in (True, False):
        xt = ct.tensor(x, requires_grad=True)
        h = seq[:2](xt) if fused else seq[1](seq[0](xt))
        (gx,) = ct.autograd.grad((h * h).sum(), xt, create_graph=True)
        (ggx,) = ct.autograd.grad(gx.sum(), xt)
        grads.append((gx.detach().numpy(), ggx.numpy()))
    for got, want in zip(grads[0], grads[1], strict=True):
        np.testing.assert_array_equal(got, want)


def test_batchnorm_running_stats_and_eval(th):
    cm, tm = nn.BatchNorm1d(3), th.nn.BatchNorm1d(3).double()
    for b in ("running_mean", "running_var"):
        getattr(cm, b)._a = getattr(cm, b)._a.astype(np.float64)
    for p in cm.parameters():
        p._a = p._a.astype(np.float64)
    for i in range(3):
        x = rnd(8, 3, seed=i) * (i + 1) + i
        cm(t64(x, False))
        tm(th.from_numpy(x))
    _close(cm.running_mean, tm.running_mean)
    _close(cm.running_var, tm.running_var)
    assert cm.num_batches_tracked.item() == 3
    cm.eval()
    tm.eval()
    _check_layer(th, cm, tm, rnd(4, 3, seed=7))
    assert set(cm.state_dict()) == set(tm.state_dict())


def test_embedding_matches_torch(th):
    cm = nn.Embedding(6, 3, padding_idx=1)
    cm.weight._a = cm.weight._a.astype(np.float64)
    tm = th.nn.Embedding(6, 3, padding_idx=1).double()
    with th.no_grad():
        tm.weight.copy_(th.from_numpy(cm.weight.detach().numpy()))
    idx = np.array([[0, 1, 5], [5, 2, 1]])
    cy, ty = cm(ct.tensor(idx)), tm(th.from_numpy(idx))
    _close(cy, ty)
    g = rnd(2, 3, 3)
    cy.backward(ct.tensor(g))
    ty.backward(th.from_numpy(g))
    _close(cm.weight.grad, tm.weight.grad)


def _loss_pair(th, cfn, tfn, x, target, grad_target=False, **kw):
    cx, tx = _pair(x)
    if isinstance(target, np.ndarray) and target.dtype.kind == "f":
        ctg, ttg = _pair(target) if grad_target else (t64(target, False), th.from_numpy(target))
    else:
        ctg, ttg = ct.tensor(target), th.from_numpy(np.asarray(target))
    cl, tl = cfn(cx, ctg, **kw), tfn(tx, ttg, **kw)
    _close(cl, tl)
    g = rnd(*cl.shape, seed=3) if cl.ndim else np.array(1.7)
    cl.backward(ct.tensor(g, dtype="float64"))
    tl.backward(th.from_numpy(np.asarray(g, np.float64)))
    _close(cx.grad, tx.grad)
    if grad_target:
        _close(ctg.grad, ttg.grad)


CE_CASES = [
    dict(),
    dict(reduction="sum"),
    dict(reduction="none"),
    dict(ignore_index=2),
    dict(ignore_index=2, reduction="none"),
    dict(label_smoothing=0.1),
    dict(label_smoothing=0.25, ignore_index=0, reduction="sum"),
]


@pytest.mark.parametrize("kw", CE_CASES, ids=[str(k) for k in CE_CASES])
def test_cross_entropy_index_matches_torch(th, kw):
    x = rnd(7, 5, scale=3)
    t = np.array([0, 2, 4, 1, 2, 3, 0])
    _loss_pair(th, F.cross_entropy, th.nn.functional.cross_entropy, x, t, **kw)


@pytest.mark.parametrize("kw", [dict(), dict(reduction="none"), dict(label_smoothing=0.2, reduction="sum")])
def test_cross_entropy_probs_matches_torch(th, kw):
    x = rnd(4, 6)
    p = np.random.default_rng(2).dirichlet(np.ones(6), size=4)
    _loss_pair(th, F.cross_entropy, th.nn.functional.cross_entropy, x, p, **kw)


def test_cross_entropy_nd_and_1d_match_torch(th):
    _loss_pair(
        th,
        F.cross_entropy,
        th.nn.functional.cross_entropy,
        rnd(2, 4, 3),
        np.array([[0, 3, 1], [2, 2, 0]]),
        reduction="none",
    )
    _loss_pair(
        th, F.cross_entropy, th.nn.functional.cross_entropy, rnd(2, 4, 3), np.array([[0, 3, 1], [2, 2, 0]])
    )
    _loss_pair(th, F.cross_entropy, th.nn.functional.cross_entropy, rnd(5), np.array(3))


@pytest.mark.parametrize("kw", [dict(), dict(reduction="sum"), dict(reduction="none"), dict(ignore_index=1)])
def test_nll_matches_torch(th, kw):
    x = np.log(np.random.default_rng(0).dirichlet(np.ones(4), size=5))
    _loss_pair(th, F.nll_loss, th.nn.functional.nll_loss, x, np.array([0, 1, 3, 1, 2]), **kw)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_torch(th, reduction):
    x, y = rnd(3, 4), rnd(3, 4, seed=1)
    tf = th.nn.functional
    _loss_pair(th, F.mse_loss, tf.mse_loss, x, y, grad_target=True, reduction=reduction)
    _loss_pair(th, F.l1_loss, tf.l1_loss, x, y, grad_target=True, reduction=reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_matches_torch(th, reduction):
    x = rnd(3, 4, scale=4)
    x[0, 0] = 0.0
    y = np.random.default_rng(5).uniform(size=(3, 4))
    tf = th.nn.functional
    _loss_pair(
        th,
        F.binary_cross_entropy_with_logits,
        tf.binary_cross_entropy_with_logits,
        x,
        y,
        grad_target=True,
        reduction=reduction,
    )
    pw, w = np.array([0.5, 1.0, 2.0, 3.0]), rnd(3, 4, seed=8)
    cx, tx = _pair(x)
    cl = F.binary_cross_entropy_with_logits(
        cx, t64(y, False), weight=t64(w, False), reduction=reduction, pos_weight=t64(pw, False)
    )
    tl = tf.binary_cross_entropy_with_logits(
        tx, th.from_numpy(y), weight=th.from_numpy(w), reduction=reduction, pos_weight=th.from_numpy(pw)
    )
    _close(cl, tl)
    cl.sum().backward()
    tl.sum().backward()
    _close(cx.grad, tx.grad)


def test_loss_modules_match_functional(th):
    x = rnd(4, 3)
    t = np.array([0, 2, 1, 2])
    for cm, tm in [
        (nn.CrossEntropyLoss(label_smoothing=0.1), th.nn.CrossEntropyLoss(label_smoothing=0.1)),
        (nn.NLLLoss(reduction="sum"), th.nn.NLLLoss(reduction="sum")),
    ]:
        _close(cm(t64(x), ct.tensor(t)), tm(th.from_numpy(x), th.from_numpy(t)))
    y = rnd(4, 3, seed=1)
    for cm, tm in [
        (nn.MSELoss(), th.nn.MSELoss()),
        (nn.L1Loss(reduction="sum"), th.nn.L1Loss(reduction="sum")),
        (nn.BCEWithLogitsLoss(), th.nn.BCEWithLogitsLoss()),
    ]:
        _close(cm(t64(x), t64(y, False)), tm(th.from_numpy(x), th.from_numpy(y)))
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"


def test_float32_softmax_family_matches_torch(th):
    x = rnd(64, 10, scale=20).astype(np.float32)
    tx = th.from_numpy(x)
    _close(F.softmax(ct.tensor(x), 1), th.softmax(tx, 1), rtol=1e-5, atol=1e-7)
    _close(F.log_softmax(ct.tensor(x), 1), th.log_softmax(tx, 1), rtol=1e-5, atol=1e-5)
    t = np.arange(64) % 10
    _close(
        F.cross_entropy(ct.tensor(x), ct.tensor(t)),
        th.nn.functional.cross_entropy(tx, th.from_numpy(t)),
        rtol=1e-5,
    )


def test_embedding_gradient_is_differentiable_again():
    """Embedding's backward uses corten ops, so a gradient of its gradient exists:
    d/dw of sum(v * d/dw sum(E(w)^2)) = 2 * count(row) * v."""
    idx = ct.tensor([[0, 2], [2, 3]])
    w = ct.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    v = ct.tensor(np.linspace(-1, 1, 12).reshape(4, 3))
    (gw,) = ct.autograd.grad((ct.nn.functional.embedding(idx, w) ** 2).sum(), [w], create_graph=True)
    (gw * v).sum().backward()
    counts = np.array([1, 0, 2, 1.0])[:, None]
    np.testing.assert_allclose(w.grad.numpy(), 2 * counts * v.numpy())
    np.testing.assert_allclose(gw.detach().numpy(), 2 * counts * w.detach().numpy())


@pytest.mark.parametrize("beta,threshold", [(1.0, 20.0), (2.0, 5.0), (0.5, 1.0)])
def test_softplus_module_matches_pytorch(beta, threshold):
    torch = pytest.importorskip("torch")
    x = np.linspace(-30, 30, 61)
    ours = ct.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    y = ct.nn.Softplus(beta, threshold)(ours)
    t = torch.nn.Softplus(beta, threshold)(theirs)
    np.testing.assert_allclose(y.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-300)
    (y * y).sum().backward()
    (t * t).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


def test_softplus_second_derivative():
    """d2/dx2 softplus(x) = sigmoid(x) (1 - sigmoid(x)), through the op's own gradient rule."""
    x = ct.tensor([-3.0, 0.0, 2.5], dtype="float64", requires_grad=True)
    (g,) = ct.autograd.grad(ct.softplus(x).sum(), [x], create_graph=True)
    g.sum().backward()
    s = 1 / (1 + np.exp(-np.array([-3.0, 0.0, 2.5])))
    np.testing.assert_allclose(g.detach().numpy(), s, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), s * (1 - s), rtol=1e-12)


def test_softplus_and_batch_norm_refuse_bad_arguments():
    x = ct.tensor([[1.0, 2.0], [3.0, 5.0]])
    with pytest.raises(ValueError, match="beta must be positive"):
        ct.nn.functional.softplus(x, beta=0.0)
    with pytest.raises(ValueError, match="running_mean and running_var"):
        ct.nn.functional.batch_norm(x, None, None, training=False)
