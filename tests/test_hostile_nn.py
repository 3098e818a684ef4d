"""Hostile inputs for nn, checkpoints and the IDX dataset reader (rows of the
table in docs/reliability.md): every bad file or state dict raises a Python
exception and leaves the model untouched."""

import gzip
import importlib.util
import struct

import corten as ct
import numpy as np
import pytest
from corten import nn

# Only the checkpoint tests need the safetensors package (the `train` extra).
needs_safetensors = pytest.mark.skipif(
    importlib.util.find_spec("safetensors") is None, reason="corten.save/load need the safetensors package"
)


def _model():
    ct.random.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def _snapshot(m):
    return {k: v.numpy(force=True).copy() for k, v in m.state_dict().items()}


def _unchanged(m, snap):
    return all(np.array_equal(v.numpy(force=True), snap[k]) for k, v in m.state_dict().items())


def test_state_dict_with_missing_unexpected_or_misshapen_entries():
    m = _model()
    snap = _snapshot(m)
    good = m.state_dict()
    missing = {k: v for k, v in good.items() if k != "0.bias"}
    extra = dict(good, **{"9.weight": ct.zeros(2)})
    misshapen = dict(good, **{"0.weight": ct.zeros((3, 5))})
    for bad in (missing, extra, misshapen):
        with pytest.raises(RuntimeError):
            m.load_state_dict({k: ct.ones(v.shape) if k != "0.weight" else v for k, v in bad.items()})
        assert _unchanged(m, snap)
    m.load_state_dict({k: v for k, v in missing.items()}, strict=False)
    with pytest.raises(RuntimeError):
        m.load_state_dict(misshapen, strict=False)  # a shape mismatch is always an error
    for junk in ({"0.weight": "abc"}, {"0.weight": [[1, 2], [3]]}, {"0.weight": None}):
        with pytest.raises((RuntimeError, ValueError, TypeError)):
            m.load_state_dict(dict(good, **junk))
    assert _unchanged(m, snap)


def test_state_dict_values_with_nan_and_other_dtypes():
    m = _model()
    sd = {k: np.full(v.shape, np.nan, np.float64) for k, v in m.state_dict().items()}
    m.load_state_dict(sd)  # values are copied, cast to the parameter dtype
    assert all(np.isnan(v.numpy(force=True)).all() for v in m.state_dict().values())
    assert all(v.dtype == "float32" for v in m.state_dict().values())


@needs_safetensors
def test_checkpoints_that_are_not_checkpoints(tmp_path):
    m = _model()
    good = tmp_path / "good.safetensors"
    ct.save(m.state_dict(), good)
    raw = good.read_bytes()
    cases = {
        "empty": b"",
        "random": np.random.default_rng(0).bytes(300),
        "truncated": raw[: len(raw) // 2],
        "header only": raw[:8],
        "huge header length": struct.pack("<Q", 2**62) + raw[8:],
        "header lies about offsets": raw.replace(b'"data_offsets":[0,', b'"data_offsets":[4,', 1),
        "not json": struct.pack("<Q", 5) + b"{{{{{" + raw[13:],
    }
    for name, data in cases.items():
        p = tmp_path / f"{name}.safetensors"
        p.write_bytes(data)
        with pytest.raises((ValueError, RuntimeError)):
            ct.load(p)
    with pytest.raises(FileNotFoundError):
        ct.load(tmp_path / "nope.safetensors")
    assert set(ct.load(good)) == set(m.state_dict())


@needs_safetensors
def test_checkpoint_with_dtypes_corten_lacks(tmp_path):
    from safetensors.numpy import save_file

    p = tmp_path / "odd.safetensors"
    save_file({"w": np.ones((2, 2), np.float16), "i": np.arange(3, dtype=np.int16),
               "u": np.arange(3, dtype=np.uint64), "b": np.array([True, False])}, str(p))
    loaded = ct.load(p)  # float16 -> float32, int16 -> int32, uint64 -> int64
    assert [loaded[k].dtype for k in "wiub"] == [ct.float32, ct.int32, ct.int64, ct.bool]
    for v in loaded.values():
        (v + v).numpy()
    save_file({"big": np.array([2**64 - 1], np.uint64)}, str(p))
    with pytest.raises(ValueError):
        ct.load(p)
    save_file({"c": np.ones(2, np.complex64) * 1j}, str(p))
    assert ct.load(p)["c"].tolist() == [1j, 1j]  # complex64 is a corten dtype
    save_file({"h": np.ones(2, np.float16).view(np.int16).astype(np.uint32)}, str(p))
    assert ct.load(p)["h"].dtype is ct.int64


# ---- IDX files -------------------------------------------------------------------


def _idx(dims, code=0x08, payload=None):
    head = bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    if payload is None:
        payload = bytes(int(np.prod(dims, dtype=object)) * {8: 1, 9: 1, 11: 2, 12: 4, 13: 4, 14: 8}[code])
    return head + payload


def test_idx_files_that_lie(tmp_path):
    from corten.datasets import DatasetError, read_idx

    cases = {
        "empty": b"",
        "short": b"\x00\x00",
        "bad magic": b"\x01\x02\x08\x01" + struct.pack(">I", 1) + b"\x00",
        "bad type": bytes([0, 0, 0x07, 1]) + struct.pack(">I", 1) + b"\x00",
        "truncated header": bytes([0, 0, 8, 3]) + struct.pack(">I", 2),
        "truncated data": _idx((4, 4), payload=b"\x00" * 5),
        "too much data": _idx((2,), payload=b"\x00" * 3),
        "product overflows 64 bits": _idx((65536, 65536, 65536, 65536), payload=b""),
        "huge claim": _idx((2**32 - 1, 2**32 - 1), payload=b"\x00" * 8),
        "255 dims": bytes([0, 0, 8, 255]) + b"\x00\x00\x00\x01" * 255 + b"\x07",
    }
    for name, data in cases.items():
        p = tmp_path / name.replace(" ", "_")
        p.write_bytes(data)
        with pytest.raises(DatasetError):
            read_idx(p)
    gz = tmp_path / "truncated.gz"
    gz.write_bytes(gzip.compress(_idx((3, 3)))[:-6])
    with pytest.raises(DatasetError):
        read_idx(gz)
    ok = tmp_path / "ok"
    ok.write_bytes(_idx((2, 3), code=0x0D, payload=np.arange(6, dtype=">f4").tobytes()))
    np.testing.assert_array_equal(read_idx(ok, ndim=2), np.arange(6, dtype=np.float32).reshape(2, 3))
    with pytest.raises(DatasetError):
        read_idx(ok, ndim=3)
