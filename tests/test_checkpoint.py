import os

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
    with pytest.raises(TypeError, match="'x'"):
        ct.save({"x": object()}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="keys must be strings or ints"):
        ct.save({"x": {1.5: ct.ones(1)}}, tmp_path / "x.safetensors")


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


def test_nested_objects_round_trip(tmp_path):
    obj = {
        "state": {0: {"step": ct.tensor(3.0), "buf": ct.arange(4)}, 7: {}},
        "groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "foreach": None, "params": [0, 7]}],
        "name": "run", "nan": float("nan"), "big": 2**64 - 1,
    }
    ct.save(obj, tmp_path / "n.safetensors")
    back = ct.load(tmp_path / "n.safetensors")
    assert sorted(back["state"]) == [0, 7] and back["state"][7] == {}
    assert back["state"][0]["buf"].tolist() == [0, 1, 2, 3] and back["state"][0]["step"].item() == 3.0
    assert back["groups"] == obj["groups"] and isinstance(back["groups"][0]["betas"], tuple)
    assert back["name"] == "run" and np.isnan(back["nan"]) and back["big"] == 2**64 - 1
    from safetensors.numpy import load_file

    assert set(load_file(str(tmp_path / "n.safetensors"))) == {"state.0.step", "state.0.buf"}
    with pytest.raises(ValueError, match="both stored under the name 'a.b'"):
        ct.save({"a.b": ct.ones(1), "a": {"b": ct.ones(1)}}, tmp_path / "x.safetensors")


def test_damaged_structure_names_the_file(tmp_path):
    from corten.checkpoint import TREE_KEY, CheckpointError
    from safetensors.numpy import save_file

    p = tmp_path / "d.safetensors"
    for meta, arrays, match in [
        ({TREE_KEY: "{not json"}, {}, "not valid JSON"),
        ({TREE_KEY: '{"__dict__": [["w", {"__tensor__": "w"}]]}'}, {}, "missing tensor 'w'"),
        ({TREE_KEY: '{"__dict__": []}'}, {"stray": np.ones(2)}, "not named by its structure: stray"),
        ({TREE_KEY: '{"__what__": 1}'}, {}, "unreadable entry"),
    ]:
        save_file(arrays, str(p), metadata=meta)
        with pytest.raises(CheckpointError, match=match) as e:
            ct.load(p)
        assert str(p) in str(e.value)


def test_save_is_atomic(tmp_path, monkeypatch):
    p = tmp_path / "m.safetensors"
    ct.save({"w": ct.ones(3)}, p)
    old = p.read_bytes()

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", full_disk)  # fails after the new data was written and fsynced
    with pytest.raises(OSError, match="No space"):
        ct.save({"w": ct.zeros(3)}, p)
    monkeypatch.undo()
    assert p.read_bytes() == old and os.listdir(tmp_path) == ["m.safetensors"]  # no temporary left behind
    ct.save({"w": ct.zeros(3)}, p)
    assert ct.load(p)["w"].tolist() == [0, 0, 0] and os.listdir(tmp_path) == ["m.safetensors"]


def test_stale_temporaries_are_removed(tmp_path):
    from corten import _atomic

    p = tmp_path / "c.safetensors"
    (tmp_path / ".c.safetensors.abc123.tmp").write_bytes(b"half")
    (tmp_path / ".other.abc.tmp").write_bytes(b"keep")
    assert _atomic.remove_stale(p) == [".c.safetensors.abc123.tmp"]
    assert sorted(os.listdir(tmp_path)) == [".other.abc.tmp"]


def test_module_load_state_dict_is_all_or_nothing():
    m = _model()
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    sd = {k: np.full(v.shape, 7.0) for k, v in m.state_dict().items()}
    sd["3.bias"] = np.array(["x", "y", "z"])  # the last entry cannot be converted
    with pytest.raises(RuntimeError, match="3.bias"):
        m.load_state_dict(sd)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
    res = m.load_state_dict({"0.weight": np.zeros((4, 6)), "junk": np.ones(1)}, strict=False)
    assert res.missing_keys == [k for k in before if k != "0.weight"] and res.unexpected_keys == ["junk"]
    assert m.state_dict()["0.weight"].numpy().sum() == 0


def test_saved_files_get_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        ct.save({"w": ct.ones(2)}, tmp_path / "m.safetensors")
    finally:
        os.umask(mask)
    assert (tmp_path / "m.safetensors").stat().st_mode & 0o777 == 0o644


def test_written_files_are_standard_and_deterministic(tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import load_file

    rng = np.random.default_rng(0)
    arrays = {
        "f32": rng.normal(size=(3, 5)).astype(np.float32), "f64": rng.normal(size=7),
        "i64": np.arange(-3, 3), "i32": np.arange(5, dtype=np.int32), "u8": np.arange(4, dtype=np.uint8),
        "b": np.array([True, False, True]), "scalar": np.array(2.5), "empty": np.zeros((0, 4), np.float32),
        "big_endian": np.arange(6, dtype=">f4").reshape(2, 3), "strided": np.arange(20.0).reshape(4, 5)[:, ::2],
        "f16": np.array([1.5, -2.0], np.float16),
    }
    meta = {"b": "2", "a": "1"}
    ct.save(arrays, tmp_path / "a.safetensors", metadata=meta)
    ct.save(dict(reversed(arrays.items())), tmp_path / "b.safetensors", metadata=dict(reversed(meta.items())))
    raw = (tmp_path / "a.safetensors").read_bytes()
    assert raw == (tmp_path / "b.safetensors").read_bytes()  # insertion order does not matter
    n = int.from_bytes(raw[:8], "little")
    assert (8 + n) % 8 == 0
    back = load_file(str(tmp_path / "a.safetensors"))  # the reference reader agrees
    for k, v in arrays.items():
        assert back[k].shape == v.shape and back[k].dtype == v.dtype.newbyteorder("="), k
        np.testing.assert_array_equal(back[k], v, err_msg=k)
    with safe_open(str(tmp_path / "a.safetensors"), framework="np") as f:
        assert set(f.metadata()) == {"a", "b", "corten.crc32"}
    assert ct.checkpoint.load_metadata(tmp_path / "a.safetensors") == meta
    th = pytest.importorskip("torch")
    from safetensors.torch import load_file as torch_load

    t = torch_load(str(tmp_path / "a.safetensors"))
    assert t["scalar"].shape == () and t["b"].dtype == th.bool and t["f16"].dtype == th.float16
    np.testing.assert_array_equal(t["strided"].numpy(), arrays["strided"])


def test_flipped_data_bytes_are_caught_by_the_checksums(tmp_path):
    from corten.checkpoint import CheckpointError

    p = tmp_path / "m.safetensors"
    ct.save({"a": ct.arange(10.0), "b": ct.ones(3, dtype="int64")}, p)
    raw = bytearray(p.read_bytes())
    for at in (len(raw) - 1, len(raw) - 30):  # in "b", in "a": a bit flip the format itself cannot see
        bad = bytearray(raw)
        bad[at] ^= 0x01
        p.write_bytes(bytes(bad))
        with pytest.raises(CheckpointError, match="is corrupted") as e:
            ct.load(p)
        assert str(p) in str(e.value)
    p.write_bytes(bytes(raw).replace(b'"b":', b'"c":', 1))  # a checksum table naming other tensors
    with pytest.raises(CheckpointError, match="no checksum"):
        ct.load(p)
    p.write_bytes(bytes(raw))
    assert ct.load(p)["a"].tolist() == list(range(10))
