"""Convolution, pooling and image layers against PyTorch (forward, gradients, second
derivatives) and finite differences (gradcheck in float64)."""

import corten as ct
import corten.nn.functional as F
import numpy as np
import pytest
from corten import nn
from corten.autograd import gradcheck
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
TF = torch.nn.functional


@st.composite
def conv_cases(draw, depthwise=False):
    """depthwise: one input channel per group (groups == C, the direct kernels), else any groups."""
    groups = draw(st.integers(2, 6) if depthwise else st.sampled_from([1, 1, 2, 3]))
    cg, og = 1 if depthwise else draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    eh, ew = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    h = draw(st.integers(max(1, eh - 2 * padding[0]), eh + 6))
    w = draw(st.integers(max(1, ew - 2 * padding[1]), ew + 6))
    n = draw(st.integers(1, 3))
    bias = draw(st.booleans())
    layout = draw(st.sampled_from(["contiguous", "permuted", "sliced"]))
    return dict(
        n=n,
        c=cg * groups,
        h=h,
        w=w,
        o=og * groups,
        k=(kh, kw),
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=bias,
        layout=layout,
    )


def _layout(a, layout):
    """a (float64 numpy) in a non-contiguous layout holding the same values."""
    if layout == "permuted":
        return ct.tensor(np.ascontiguousarray(a.transpose(0, 2, 3, 1))).permute(0, 3, 1, 2)
    if layout == "sliced":
        big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        big[..., ::2] = a
        return ct.tensor(big)[..., ::2]
    return ct.tensor(a)


def _both(a, layout="contiguous"):
    c = _layout(a, layout).detach()
    c.requires_grad_(True)
    return c, torch.tensor(a, requires_grad=True)


@settings(max_examples=60, deadline=None)
@given(case=conv_cases(), seed=st.integers(0, 2**31 - 1))
def test_conv2d_forward_grad_and_double_backward_match_torch(case, seed):
    _check_against_torch(case, seed)


@settings(max_examples=60, deadline=None)
@given(case=conv_cases(depthwise=True), seed=st.integers(0, 2**31 - 1))
def test_depthwise_conv2d_forward_grad_and_double_backward_match_torch(case, seed):
    _check_against_torch(case, seed)


def _check_against_torch(case, seed):
    """Forward, the three first derivatives and second derivatives of conv2d against PyTorch."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"]))
    w = rng.standard_normal((case["o"], case["c"] // case["groups"], *case["k"]))
    b = rng.standard_normal(case["o"]) if case["bias"] else None
    kw = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"], groups=case["groups"])
    cx, tx = _both(x, case["layout"])
    cw, tw = _both(w, case["layout"])
    cb, tb = _both(b) if b is not None else (None, None)
    cy = F.conv2d(cx, cw, cb, **kw)
    ty = TF.conv2d(tx, tw, tb, **kw)
    np.testing.assert_allclose(cy.numpy(force=True), ty.detach().numpy(force=True), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(ty.shape)
    ins_c = [cx, cw] + ([cb] if cb is not None else [])
    ins_t = [tx, tw] + ([tb] if tb is not None else [])
    cg = ct.autograd.grad(cy, ins_c, ct.tensor(g), create_graph=True)
    tg = torch.autograd.grad(ty, ins_t, torch.tensor(g), create_graph=True)
    for a, e in zip(cg, tg, strict=False):
        np.testing.assert_allclose(a.numpy(force=True), e.detach().numpy(force=True), rtol=1e-10, atol=1e-10)
    # second order: d/d(x, w) of a weighted sum of the first derivatives
    vx, vw = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    cs = (cg[0] * ct.tensor(vx)).sum() + (cg[1] * ct.tensor(vw)).sum()
    ts = (tg[0] * torch.tensor(vx)).sum() + (tg[1] * torch.tensor(vw)).sum()
    c2 = ct.autograd.grad(cs, [cx, cw], allow_unused=True)
    t2 = torch.autograd.grad(ts, [tx, tw], allow_unused=True)
    for a, e in zip(c2, t2, strict=False):
        if e is None:
            assert a is None or not np.any(a.numpy(force=True))
        else:
            np.testing.assert_allclose(a.numpy(force=True), e.numpy(force=True), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    "kw",
    [dict(), dict(stride=2, padding=1), dict(dilation=2, padding=2), dict(groups=2), dict(padding="same"),
     dict(groups=4, stride=(2, 1), padding=(1, 2), dilation=(1, 2))],  # the last: depthwise
)
def test_conv2d_gradcheck(kw):
    rng = np.random.default_rng(1)
    x = ct.tensor(rng.standard_normal((2, 4, 6, 5)), requires_grad=True)
    w = ct.tensor(rng.standard_normal((4, 4 // kw.get("groups", 1), 3, 2)), requires_grad=True)
    b = ct.tensor(rng.standard_normal(4), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), [x, w, b])


@pytest.mark.parametrize("padding", [0, 2, "same", "valid"])
def test_conv1d_matches_torch(padding):
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((3, 4, 11)), rng.standard_normal((6, 2, 4)), rng.standard_normal(6)
    cx, tx = _both(x.reshape(3, 4, 1, 11))
    cx, tx = cx.reshape(3, 4, 11), tx.reshape(3, 4, 11)
    cw, tw = _both(w.reshape(6, 2, 1, 4))
    cw, tw = cw.reshape(6, 2, 4), tw.reshape(6, 2, 4)
    cy = F.conv1d(cx, cw, ct.tensor(b), padding=padding, groups=2)
    ty = TF.conv1d(tx, tw, torch.tensor(b), padding=padding, groups=2)
    np.testing.assert_allclose(cy.numpy(force=True), ty.detach().numpy(force=True), rtol=1e-10, atol=1e-10)
    cy.sum().backward()
    ty.sum().backward()
    assert gradcheck(
        lambda x, w: F.conv1d(x, w, padding=padding, groups=2),
        [ct.tensor(x, requires_grad=True), ct.tensor(w, requires_grad=True)],
    )


def test_conv2d_same_padding_even_kernel_matches_torch():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((5, 3, 4, 2))
    cx, tx = _both(x)
    cy, ty = (
        F.conv2d(cx, ct.tensor(w), padding="same", dilation=(1, 3)),
        TF.conv2d(tx, torch.tensor(w), padding="same", dilation=(1, 3)),
    )
    assert cy.shape == tuple(ty.shape) == (2, 5, 7, 6)
    np.testing.assert_allclose(cy.numpy(force=True), ty.detach().numpy(force=True), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(cy.shape)
    cy.backward(ct.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(cx.grad.numpy(force=True), tx.grad.numpy(force=True), rtol=1e-10, atol=1e-10)


def test_conv2d_float32_large_batch_matches_torch():
    # several images per GEMM tile, a pointwise (1x1) conv, and tiles within one large image
    rng = np.random.default_rng(4)
    for shape, wshape, kw in [
        ((64, 32, 13, 13), (64, 32, 3, 3), {}),
        ((5, 16, 9, 9), (8, 16, 1, 1), {}),
        ((2, 8, 70, 70), (4, 8, 3, 3), dict(padding=1)),
    ]:
        x = rng.standard_normal(shape).astype(np.float32)
        w = rng.standard_normal(wshape).astype(np.float32)
        cx, tx = _both(x)
        cw, tw = _both(w)
        cy, ty = F.conv2d(cx, cw, **kw), TF.conv2d(tx, tw, **kw)
        np.testing.assert_allclose(cy.numpy(force=True), ty.detach().numpy(force=True), rtol=1e-4, atol=1e-3)
        g = rng.standard_normal(cy.shape).astype(np.float32)
        cy.backward(ct.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(cx.grad.numpy(force=True), tx.grad.numpy(force=True), rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(cw.grad.numpy(force=True), tw.grad.numpy(force=True), rtol=1e-4, atol=2e-2)


@st.composite
def pool_cases(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    h, w = draw(st.integers(k[0], k[0] + 6)), draw(st.integers(k[1], k[1] + 6))
    return dict(
        shape=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w),
        k=k,
        s=s,
        p=p,
        layout=draw(st.sampled_from(["contiguous", "permuted", "sliced"])),
    )


@settings(max_examples=40, deadline=None)
@given(case=pool_cases(), seed=st.integers(0, 2**31 - 1), inc=st.booleans())
def test_pooling_matches_torch_to_second_order(case, seed, inc):
    rng = np.random.default_rng(seed)
    x = rng.permutation(np.prod(case["shape"])).reshape(case["shape"]).astype(np.float64) / 7  # no ties
    k, s, p = case["k"], case["s"], case["p"]
    for cf, tf in [
        (lambda t: F.max_pool2d(t, k, s, p), lambda t: TF.max_pool2d(t, k, s, p)),
        (
            lambda t: F.avg_pool2d(t, k, s, p, count_include_pad=inc),
            lambda t: TF.avg_pool2d(t, k, s, p, count_include_pad=inc),
        ),
    ]:
        cx, tx = _both(x, case["layout"])
        cy, ty = cf(cx), tf(tx)
        np.testing.assert_allclose(cy.numpy(force=True), ty.detach().numpy(force=True), rtol=1e-12, atol=1e-12)
        g = rng.standard_normal(ty.shape)
        (cgx,) = ct.autograd.grad(cy, [cx], ct.tensor(g), create_graph=True)
        (tgx,) = torch.autograd.grad(ty, [tx], torch.tensor(g), create_graph=True)
        np.testing.assert_allclose(cgx.numpy(force=True), tgx.detach().numpy(force=True), rtol=1e-12, atol=1e-12)
        # second order: the input gradient differentiated with respect to the output gradient
        v = rng.standard_normal(x.shape)
        cgg, tgg = ct.tensor(g, requires_grad=True), torch.tensor(g, requires_grad=True)
        (cgx2,) = ct.autograd.grad(cf(cx), [cx], cgg, create_graph=True)
        (tgx2,) = torch.autograd.grad(tf(tx), [tx], tgg, create_graph=True)
        (cd,) = ct.autograd.grad((cgx2 * ct.tensor(v)).sum(), [cgg])
        (td,) = torch.autograd.grad((tgx2 * torch.tensor(v)).sum(), [tgg])
        np.testing.assert_allclose(cd.numpy(force=True), td.numpy(force=True), rtol=1e-12, atol=1e-12)


def test_pooling_gradcheck_and_3d_input():
    rng = np.random.default_rng(5)
    x = ct.tensor(rng.permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) / 5.0, requires_grad=True)
    assert gradcheck(lambda t: F.max_pool2d(t, 3, 2, 1), [x])
    assert gradcheck(lambda t: F.avg_pool2d(t, (2, 3), 1, (1, 0)), [x])
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), [x])
    x3 = rng.standard_normal((3, 7, 6))
    np.testing.assert_allclose(
        F.max_pool2d(ct.tensor(x3), 2).numpy(force=True), TF.max_pool2d(torch.tensor(x3), 2).numpy(force=True)
    )


def test_max_pool_dilation_and_nan_match_torch():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 2, 9, 8))
    x[0, 1, 3, 4] = np.nan
    cy = F.max_pool2d(ct.tensor(x), 3, 2, 1, dilation=2).numpy(force=True)
    ty = TF.max_pool2d(torch.tensor(x), 3, 2, 1, dilation=2).numpy(force=True)
    np.testing.assert_array_equal(np.isnan(cy), np.isnan(ty))
    np.testing.assert_allclose(cy, ty)


@pytest.mark.parametrize("out", [(1, 1), (3, 3), (4, 5), (7, None), 2])
def test_adaptive_avg_pool2d_matches_torch(out):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 7, 10))
    cx, tx = _both(x)
    cy, ty = F.adaptive_avg_pool2d(cx, out), TF.adaptive_avg_pool2d(tx, out)
    np.testing.assert_allclose(cy.numpy(force=True), ty.detach().numpy(force=True), rtol=1e-12, atol=1e-12)
    cy.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(cx.grad.numpy(force=True), tx.grad.numpy(force=True), rtol=1e-12, atol=1e-12)


def test_batchnorm2d_train_eval_matches_torch():
    rng = np.random.default_rng(8)
    cm, tm = nn.BatchNorm2d(3, dtype="float64"), torch.nn.BatchNorm2d(3, dtype=torch.float64)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 5, 6)) * 2 + 1
        cx, tx = _both(x)
        cy, ty = cm(cx), tm(tx)
        np.testing.assert_allclose(cy.numpy(force=True), ty.detach().numpy(force=True), rtol=1e-10, atol=1e-10)
        g = rng.standard_normal(x.shape)
        cy.backward(ct.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(cx.grad.numpy(force=True), tx.grad.numpy(force=True), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(cm.running_mean.numpy(force=True), tm.running_mean.numpy(force=True), rtol=1e-12)
    np.testing.assert_allclose(cm.running_var.numpy(force=True), tm.running_var.numpy(force=True), rtol=1e-12)
    cm.eval(), tm.eval()
    x = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(
        cm(ct.tensor(x)).numpy(force=True), tm(torch.tensor(x)).detach().numpy(force=True), rtol=1e-10
    )
    xg = ct.tensor(x, requires_grad=True)
    assert gradcheck(lambda t: F.batch_norm(t, None, None, cm.weight.detach(), cm.bias.detach(), True), [xg])


def test_dropout2d_zeroes_whole_channels():
    ct.random.manual_seed(0)
    m = nn.Dropout2d(0.5)
    y = m(ct.ones((8, 16, 3, 3))).numpy(force=True)
    per_channel = y.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0 < (per_channel == 0).all(-1).sum() < 128
    m.eval()
    np.testing.assert_array_equal(m(ct.ones((2, 3, 2, 2))).numpy(force=True), 1)


def test_conv_layers_state_dict_interchanges_with_torch():
    ct.random.manual_seed(0)
    cm = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 4, (2, 3), stride=2, groups=4, bias=False),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )
    tm = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 4, (2, 3), stride=2, groups=4, bias=False),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
    )
    sd = cm.state_dict()
    assert {k: tuple(v.shape) for k, v in sd.items()} == {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    tm.load_state_dict({k: torch.tensor(v.numpy(force=True)) for k, v in sd.items()})
    x = np.random.default_rng(9).standard_normal((2, 3, 10, 12)).astype(np.float32)
    np.testing.assert_allclose(
        cm(ct.tensor(x)).numpy(force=True), tm(torch.tensor(x)).detach().numpy(force=True), rtol=1e-4, atol=1e-5
    )


def test_conv_init_matches_torch_bounds():
    ct.random.manual_seed(0)
    m = nn.Conv2d(16, 32, 3)
    bound = 1 / np.sqrt(16 * 9)  # kaiming_uniform(a=sqrt(5)) gives 1/sqrt(fan_in) for weights too
    w, b = m.weight.numpy(force=True), m.bias.numpy(force=True)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    assert "kernel_size=(3, 3)" in repr(m)


# Column tiles (cpp/conv.cpp): K = C*KH*KW rows of 8 bytes in float64 give 65536 / K columns per
# tile. These shapes put tile edges in the middle of an image row, cut the batch into units that do
# not divide it, give a 1x1 output, and read strided inputs.
TILE_CASES = [
    # 12x12 outputs, K = 576 -> 113 columns: tiles of 113 and 31 pixels, the first ending mid-row
    ((2, 64, 14, 14), (5, 64, 3, 3), {}),
    # the same with padding and stride 2 (tile edges on rows that read the padding)
    ((2, 64, 23, 25), (3, 64, 3, 3), dict(stride=2, padding=1)),
    # 3x3 outputs of 7 images: 12 images per tile, rebalanced into 4 units of 2 (the last of 1)
    ((7, 64, 5, 5), (6, 64, 3, 3), {}),
    # 1x1 outputs, 10 images per unit boundary
    ((10, 16, 3, 3), (4, 16, 3, 3), {}),
    # groups, with units of several images and dilation
    ((9, 12, 6, 7), (6, 4, 2, 3), dict(groups=3, dilation=(2, 1), padding=(1, 0))),
    # channels-last patches (8+ channels per group, whole small images) with groups, padding, stride
    ((6, 16, 6, 6), (8, 8, 3, 3), dict(groups=2, padding=1, stride=2)),
    ((5, 8, 7, 6), (3, 8, 2, 3), dict(padding=(2, 1), dilation=(2, 1))),
    # many columns per tile (K = 4): the 4096-column cap cuts a 70x70 image
    ((2, 1, 71, 70), (3, 1, 2, 2), {}),
]


@pytest.mark.parametrize("layout", ["contiguous", "permuted", "sliced"])
@pytest.mark.parametrize("shape, wshape, kw", TILE_CASES)
def test_conv2d_tiling_boundaries_match_torch(shape, wshape, kw, layout):
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal(shape), rng.standard_normal(wshape)
    b = rng.standard_normal(wshape[0])
    cx, tx = _both(x, layout)
    cw, tw = _both(w)
    cb, tb = _both(b)
    cy, ty = F.conv2d(cx, cw, cb, **kw), TF.conv2d(tx, tw, tb, **kw)
    np.testing.assert_allclose(cy.numpy(force=True), ty.detach().numpy(force=True), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(cy.shape)
    cy.backward(ct.tensor(g))
    ty.backward(torch.tensor(g))
    for c, t in ((cx, tx), (cw, tw), (cb, tb)):
        np.testing.assert_allclose(c.grad.numpy(force=True), t.grad.numpy(), rtol=1e-9, atol=1e-9)


def test_conv2d_gradcheck_over_uneven_units():
    # 5 images of 2x2 outputs: one tile would hold them all; the balanced cut gives units of 2, 2, 1
    rng = np.random.default_rng(12)
    x = ct.tensor(rng.standard_normal((5, 3, 4, 3)), requires_grad=True)
    w = ct.tensor(rng.standard_normal((2, 3, 3, 2)), requires_grad=True)
    b = ct.tensor(rng.standard_normal(2), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=(0, 1), stride=(1, 2)), [x, w, b])


@pytest.mark.parametrize(
    "shape, wshape, kw",
    [
        ((64, 32, 13, 13), (64, 32, 3, 3), {}),
        ((64, 64, 5, 5), (64, 64, 3, 3), {}),
        ((7, 64, 5, 5), (6, 64, 3, 3), {}),
        ((2, 64, 30, 30), (8, 64, 3, 3), dict(padding=1)),
        ((3, 8, 40, 40), (8, 4, 3, 3), dict(padding=1, groups=2)),
        ((4, 16, 30, 30), (32, 1, 3, 3), dict(padding=1, groups=16)),  # depthwise, 2 outputs per channel
        ((3, 24, 17, 17), (24, 1, 5, 5), dict(padding=2, stride=2, groups=24)),
    ],
)
def test_conv_results_do_not_depend_on_the_thread_count(shape, wshape, kw):
    rng = np.random.default_rng(10)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(wshape).astype(np.float32)
    before = ct.get_num_threads()
    results = []
    try:
        for nt in (1, 2, 3):
            ct.set_num_threads(nt)
            cx, cw = ct.tensor(x, requires_grad=True), ct.tensor(w, requires_grad=True)
            y = F.conv2d(cx, cw, **kw)
            p = F.max_pool2d(y, 2)
            p.sum().backward()
            results.append([y.numpy(force=True), p.numpy(force=True), cx.grad.numpy(), cw.grad.numpy()])
    finally:
        ct.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=False):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "xshape, wshape, kw",
    [
        ((2, 4, 5, 6), (4, 3, 3, 3), {}),
        ((2, 4, 5, 6), (4, 2, 3, 2), dict(stride=2, padding=1, output_padding=1)),
        ((3, 6, 4, 4), (6, 1, 2, 3), dict(stride=(2, 3), groups=3, dilation=(1, 2), output_padding=(1, 2))),
        ((1, 2, 1, 1), (2, 5, 4, 4), dict(stride=3)),
    ],
)
def test_conv_transpose2d_matches_torch(xshape, wshape, kw):
    rng = np.random.default_rng(13)
    x, w = rng.standard_normal(xshape), rng.standard_normal(wshape)
    b = rng.standard_normal(wshape[1] * kw.get("groups", 1))
    (cx, tx), (cw, tw), (cb, tb) = _both(x, "permuted"), _both(w), _both(b)
    cy, ty = F.conv_transpose2d(cx, cw, cb, **kw), TF.conv_transpose2d(tx, tw, tb, **kw)
    assert cy.shape == tuple(ty.shape)
    np.testing.assert_allclose(cy.numpy(force=True), ty.detach().numpy(force=True), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(cy.shape)
    cy.backward(ct.tensor(g))
    ty.backward(torch.tensor(g))
    for c, t in ((cx, tx), (cw, tw), (cb, tb)):
        np.testing.assert_allclose(c.grad.numpy(force=True), t.grad.numpy(), rtol=1e-10, atol=1e-10)
    fresh = [ct.tensor(a, requires_grad=True) for a in (x, w, b)]
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw), fresh)


def test_conv_transpose2d_refuses_bad_arguments():
    x, w = ct.zeros((1, 4, 3, 3)), ct.zeros((4, 2, 3, 3))
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="does not fit input"):
        F.conv_transpose2d(ct.zeros((1, 3, 3, 3)), w)
    with pytest.raises(ValueError, match="bias must have shape"):
        F.conv_transpose2d(x, w, ct.zeros(4))
    with pytest.raises(ValueError, match="not positive"):
        F.conv_transpose2d(ct.zeros((1, 4, 1, 1)), ct.zeros((4, 2, 1, 1)), padding=1)
    with pytest.raises(TypeError, match="share a dtype"):
        F.conv_transpose2d(x, w.astype(ct.float64))


@pytest.mark.parametrize(
    "shape, kw",
    [
        ((2, 3, 7, 8), dict(kernel_size=2)),
        ((2, 3, 7, 8), dict(kernel_size=3, stride=2, padding=1)),
        ((1, 2, 10, 9), dict(kernel_size=(2, 3), stride=(3, 2), dilation=(2, 1))),
        ((2, 5, 5), dict(kernel_size=2, stride=2)),
    ],
)
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_max_pool2d_ceil_mode_and_indices_match_torch(shape, kw, ceil_mode):
    rng = np.random.default_rng(14)
    x = rng.standard_normal(shape)
    cx, tx = _both(x) if len(shape) == 4 else (ct.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True))
    cy, ci = F.max_pool2d(cx, **kw, ceil_mode=ceil_mode, return_indices=True)
    ty, ti = TF.max_pool2d(tx, **kw, ceil_mode=ceil_mode, return_indices=True)
    assert cy.shape == tuple(ty.shape) and ci.shape == tuple(ti.shape) and ci.dtype == ct.int64
    np.testing.assert_array_equal(cy.numpy(force=True), ty.detach().numpy())
    np.testing.assert_array_equal(ci.numpy(), ti.numpy())
    g = rng.standard_normal(cy.shape)
    cy.backward(ct.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(cx.grad.numpy(force=True), tx.grad.numpy(), rtol=1e-12, atol=0)
    y = nn.MaxPool2d(**kw, ceil_mode=ceil_mode)(ct.tensor(x))
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    assert gradcheck(lambda x: F.max_pool2d(x, **kw, ceil_mode=ceil_mode), [ct.tensor(x, requires_grad=True)])


@pytest.mark.parametrize("layout", ["contiguous", "permuted", "sliced"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d_2x2_ties_nan_and_inf_match_torch(layout, dtype):
    # the 2x2 / stride 2 path: ties keep the first maximum, a NaN wins, odd sizes drop the edge
    rng = np.random.default_rng(15)
    x = rng.integers(-2, 3, (2, 3, 7, 9)).astype(dtype)
    x[0, 0, 0, 1] = x[0, 1, 2, 2] = x[1, 2, 5, 7] = np.nan
    x[1, 0, :2, :2] = -np.inf
    x[1, 1, 2:4, 0:2] = np.inf
    cx = _layout(x, layout)
    tx = torch.tensor(x)
    cy, ci = F.max_pool2d(cx, 2, return_indices=True)
    ty, ti = TF.max_pool2d(tx, 2, return_indices=True)
    np.testing.assert_array_equal(cy.numpy(), ty.numpy())
    np.testing.assert_array_equal(ci.numpy(), ti.numpy())
