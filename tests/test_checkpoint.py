import corten as ct
import corten.nn as nn
import numpy as np
import pytest

pytest.importorskip("safetensors")


def _model():
    return nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 3))


def test_save_load_round_trip(tmp_path):
    ct.manual_seed(0)
    a = _model()
    a(ct.ones(5, 6))  # move the batch-norm running stats
    path = tmp_path / "sub" / "m.safetensors"
    ct.save(a.state_dict(), path)
    sd = ct.load(path)
    assert set(sd) == set(a.state_dict())
    assert sd["2.num_batches_tracked"].dtype == "int64"
    b = _model()
    b.load_state_dict(sd)
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), b.state_dict()[k].numpy(), err_msg=k)


def test_load_errors(tmp_path):
    ct.save({"0.weight": ct.zeros(4, 5)}, tmp_path / "bad.safetensors")
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight") as e:
        _model().load_state_dict(ct.load(tmp_path / "bad.safetensors"))
    assert "Missing key(s)" in str(e.value)
    with pytest.raises(FileNotFoundError):
        ct.load(tmp_path / "nope.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        ct.load(tmp_path / "junk.safetensors")
    with pytest.raises(TypeError):
        ct.save({"x": "text"}, tmp_path / "x.safetensors")


def test_corten_file_loads_in_torch_and_back(tmp_path):
    th = pytest.importorskip("torch")
    from safetensors.torch import load_file, save_file

    ct.manual_seed(1)
    cm = _model()
    cm(ct.ones(3, 6))
    ct.save(cm.state_dict(), tmp_path / "c.safetensors")
    tm = th.nn.Sequential(th.nn.Linear(6, 4), th.nn.ReLU(), th.nn.BatchNorm1d(4), th.nn.Linear(4, 3))
    tm.load_state_dict(load_file(str(tmp_path / "c.safetensors")))
    x = np.random.default_rng(0).normal(size=(2, 6)).astype(np.float32)
    cm.eval()
    tm.eval()
    with th.no_grad(), ct.no_grad():
        np.testing.assert_allclose(
            cm(ct.tensor(x)).numpy(), tm(th.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-6
        )
    # and a file written by PyTorch loads into corten
    with th.no_grad():
        for p in tm.parameters():
            p.mul_(2)
    save_file(tm.state_dict(), str(tmp_path / "t.safetensors"))
    cm.load_state_dict(ct.load(tmp_path / "t.safetensors"))
    with th.no_grad(), ct.no_grad():
        np.testing.assert_allclose(
            cm(ct.tensor(x)).numpy(), tm(th.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-6
        )
    # torch tensors can be loaded directly too
    cm.load_state_dict(tm.state_dict())
