import gzip
import hashlib
import os
import struct

import corten as ct
import numpy as np
import pytest
from corten import datasets
from corten.data import DataLoader, Dataset, TensorDataset, default_collate
from corten.datasets import MNIST, DatasetError, FashionMNIST, read_idx

# ---- DataLoader ------------------------------------------------------------------------


def _ds(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return TensorDataset(ct.tensor(x), ct.tensor(np.arange(n)))


def test_tensor_dataset():
    ds = _ds()
    assert len(ds) == 10
    x, y = ds[3]
    np.testing.assert_array_equal(x.numpy(), [9, 10, 11])
    assert y.item() == 3
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(ct.zeros(3, 2), ct.zeros(4))


def test_loader_batches_in_order():
    batches = list(DataLoader(_ds(), batch_size=4))
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert batches[0][1].dtype == "int64"
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), np.arange(10))
    assert len(DataLoader(_ds(), batch_size=4)) == 3
    dl = DataLoader(_ds(), batch_size=4, drop_last=True)
    assert len(dl) == 2 and [b[0].shape[0] for b in dl] == [4, 4]
    with pytest.raises(ValueError):
        DataLoader(_ds(), batch_size=0)


def test_loader_shuffle_is_a_permutation_and_reproducible():
    ys = [
        np.concatenate([b[1].numpy() for b in DataLoader(_ds(50), 8, shuffle=True, generator=s)])
        for s in (1, 1)
    ]
    np.testing.assert_array_equal(ys[0], ys[1])
    assert sorted(ys[0]) == list(range(50)) and (ys[0] != np.arange(50)).any()
    dl = DataLoader(_ds(50), 8, shuffle=True, generator=ct.Generator(5))
    e1 = np.concatenate([b[1].numpy() for b in dl])
    e2 = np.concatenate([b[1].numpy() for b in dl])
    assert (e1 != e2).any()  # a new order each epoch
    x, y = next(iter(DataLoader(_ds(50), 8, shuffle=True, generator=2)))
    np.testing.assert_array_equal(x.numpy()[:, 0], y.numpy() * 3)  # rows stay paired


def test_loader_generic_dataset_collates():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": ct.tensor([float(i), float(i * i)]), "i": i}

    b = list(DataLoader(Squares(), batch_size=2))
    assert len(b) == 3
    np.testing.assert_array_equal(b[1]["x"].numpy(), [[2, 4], [3, 9]])
    assert b[2]["i"].tolist() == [4]
    assert default_collate([(1.0, 2), (3.0, 4)])[0].dtype == "float32"


# ---- IDX files -------------------------------------------------------------------------


def _idx_bytes(arr, code=0x08):
    head = bytes([0, 0, code, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def _write(path, arr, gz=True, code=0x08):
    data = _idx_bytes(arr, code)
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(data)
        return str(path) + ".gz"
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def _fake_set(folder, n_train=12, n_test=5, gz=True):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _write(
            os.path.join(folder, f"{prefix}-images-idx3-ubyte"),
            rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
            gz,
        )
        _write(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), (np.arange(n) % 10).astype(np.uint8), gz)


def test_read_idx_good_files(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    for gz in (True, False):
        p = _write(tmp_path / f"a{gz}", a, gz)
        np.testing.assert_array_equal(read_idx(p, ndim=3), a)
    f = np.linspace(-1, 1, 6).reshape(2, 3)
    np.testing.assert_array_equal(read_idx(_write(tmp_path / "f", f, code=0x0E)), f)
    i = np.array([-5, 70000], np.int32)
    np.testing.assert_array_equal(read_idx(_write(tmp_path / "i", i, code=0x0C)), i)


def test_read_idx_bad_files(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = _idx_bytes(a)
    (tmp_path / "trunc").write_bytes(raw[:-5])
    with pytest.raises(DatasetError, match=r"trunc: file is truncated: header \(2, 3, 4\) needs 24 bytes"):
        read_idx(tmp_path / "trunc")
    (tmp_path / "long").write_bytes(raw + b"x")
    with pytest.raises(DatasetError, match="longer than its header"):
        read_idx(tmp_path / "long")
    (tmp_path / "magic").write_bytes(b"\x12\x34" + raw[2:])
    with pytest.raises(DatasetError, match="magic.*bad IDX magic|bad IDX magic number 0x1234"):
        read_idx(tmp_path / "magic")
    with pytest.raises(DatasetError, match="expected an IDX file of 1 dimensions, found 3"):
        read_idx(_write(tmp_path / "ok", a), ndim=1)
    gzd = gzip.compress(raw)
    (tmp_path / "cut.gz").write_bytes(gzd[: len(gzd) // 2])
    with pytest.raises(DatasetError, match="cut.gz: cannot decompress"):
        read_idx(tmp_path / "cut.gz")
    (tmp_path / "tiny").write_bytes(b"\x00")
    with pytest.raises(DatasetError, match="too short"):
        read_idx(tmp_path / "tiny")


@pytest.fixture
def no_system_data(monkeypatch, tmp_path):
    """Point every default location at empty temporary folders."""
    monkeypatch.delenv("CORTEN_DATA", raising=False)
    from pathlib import Path

    monkeypatch.setattr(
        datasets._IDXDataset,
        "search_path",
        classmethod(
            lambda cls, root=None: ([Path(root), Path(root) / cls.name] if root else []) + [cls.cache_dir()]
        ),
    )

    monkeypatch.setattr(
        datasets._IDXDataset, "cache_dir", classmethod(lambda cls: Path(tmp_path) / "cache" / cls.name)
    )
    return tmp_path


def test_dataset_from_root(tmp_path):
    _fake_set(tmp_path / "d")
    ds = FashionMNIST(tmp_path / "d", train=True)
    assert len(ds) == 12 and ds.images.shape == (12, 28, 28) and ds.images.dtype == "float32"
    assert ds.labels.dtype == "int64" and ds.labels.tolist()[:3] == [0, 1, 2]
    assert 0 <= ds.images.numpy().min() and ds.images.numpy().max() <= 1
    np.testing.assert_allclose(ds.images.numpy() * 255, ds.images_u8, atol=1e-3)
    assert len(FashionMNIST(tmp_path / "d", train=False)) == 5
    _fake_set(tmp_path / "r" / "mnist", gz=False)
    assert len(MNIST(tmp_path / "r")) == 12  # root/<name> works too


def test_dataset_pixels_are_the_scaled_bytes(tmp_path):
    _fake_set(tmp_path / "d")
    ds = FashionMNIST(tmp_path / "d", train=True)
    want = ds.images_u8.astype(np.float32) * np.float32(1 / 255)
    assert np.array_equal(ds.images.numpy(), want)


def test_load_data_matches_a_pass_over_the_float_pixels(tmp_path):
    """load_data standardises through a 256-entry table and a histogram; the result
    must be bit for bit what standardising the float pixels directly gives."""
    from corten.train import load_data

    _fake_set(tmp_path / "d", n_train=40, n_test=7)
    train_ds, test_ds, (mean, std) = load_data("fashion-mnist", str(tmp_path / "d"), False)
    raw = FashionMNIST(tmp_path / "d", train=True).images_u8
    pixels = raw.astype(np.float32) * np.float32(1 / 255)
    assert mean == pytest.approx(pixels.mean(dtype=np.float64), rel=1e-14)
    assert std == pytest.approx(pixels.std(dtype=np.float64), rel=1e-14)
    for ds, split in ((train_ds, True), (test_ds, False)):
        u8 = FashionMNIST(tmp_path / "d", train=split).images_u8
        x = ct.tensor(u8.reshape(len(u8), -1).astype(np.float32) * np.float32(1 / 255))
        x -= mean
        x /= std
        assert ds.tensors[0].shape == (len(u8), 784) and ds.tensors[0].dtype == ct.float32
        assert np.array_equal(ds.tensors[0].numpy(), x.numpy())
    plain, _, stats = load_data("fashion-mnist", str(tmp_path / "d"), False, normalize=False)
    assert stats == (0.0, 1.0) and np.array_equal(plain.tensors[0].numpy(), pixels.reshape(40, -1))


def test_dataset_refuses_non_byte_images(tmp_path):
    _fake_set(tmp_path / "d")
    _write(tmp_path / "d" / "train-images-idx3-ubyte", np.zeros((12, 28, 28), np.float32), code=0x0D)
    with pytest.raises(DatasetError, match="expected unsigned bytes"):
        FashionMNIST(tmp_path / "d", train=True)


def test_dataset_search_order(tmp_path, monkeypatch):
    _fake_set(tmp_path / "env" / "fashion-mnist", n_train=7)
    monkeypatch.setenv("CORTEN_DATA", str(tmp_path / "env"))
    ds = FashionMNIST()
    assert len(ds) == 7 or str(ds.root) == "/usr/share/datasets/fashion-mnist"
    dirs = [str(d) for d in FashionMNIST.search_path(tmp_path / "root")]
    assert dirs[:3] == [
        str(tmp_path / "root"),
        str(tmp_path / "root" / "fashion-mnist"),
        str(tmp_path / "env" / "fashion-mnist"),
    ]
    assert dirs[3] == "/usr/share/datasets/fashion-mnist" and dirs[4].endswith(".cache/corten/fashion-mnist")


def test_dataset_missing_message(no_system_data):
    with pytest.raises(DatasetError) as e:
        FashionMNIST(no_system_data / "nowhere")
    msg = str(e.value)
    assert "Looked in" in msg and str(no_system_data / "nowhere") in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "download=True" in msg


def test_dataset_mismatched_counts(tmp_path):
    _fake_set(tmp_path)
    _write(tmp_path / "train-labels-idx1-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(DatasetError, match="12 images but 3 labels"):
        FashionMNIST(tmp_path)


def test_download_via_file_url(no_system_data, monkeypatch):
    src = no_system_data / "mirror"
    _fake_set(src)
    md5 = {f: hashlib.md5((src / f).read_bytes()).hexdigest() for f in os.listdir(src)}
    monkeypatch.setattr(FashionMNIST, "mirrors", ("file:///nonexistent/", src.as_uri() + "/"))
    monkeypatch.setattr(FashionMNIST, "md5", md5)
    ds = FashionMNIST(train=True, download=True)
    assert len(ds) == 12 and ds.root == no_system_data / "cache" / "fashion-mnist"
    assert sorted(os.listdir(ds.root)) == sorted(md5)
    assert len(FashionMNIST(train=False)) == 5  # now found in the cache without downloading


def test_download_checksum_mismatch(no_system_data, monkeypatch):
    src = no_system_data / "mirror"
    _fake_set(src)
    monkeypatch.setattr(FashionMNIST, "mirrors", (src.as_uri(),))
    monkeypatch.setattr(FashionMNIST, "md5", {f: "0" * 32 for f in os.listdir(src)})
    with pytest.raises(DatasetError, match="checksum mismatch"):
        FashionMNIST(download=True)
    assert not any(p.suffix == ".part" for p in (no_system_data / "cache" / "fashion-mnist").iterdir())


def test_download_through_opener(no_system_data, monkeypatch):
    payload = {}
    src = no_system_data / "mirror"
    _fake_set(src)
    for f in os.listdir(src):
        payload[f] = (src / f).read_bytes()
    import io

    class Resp(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    seen = []

    def opener(url):
        seen.append(url)
        return Resp(payload[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(datasets, "_urlopen", opener)
    monkeypatch.setattr(MNIST, "md5", {f: hashlib.md5(b).hexdigest() for f, b in payload.items()})
    assert len(MNIST(download=True)) == 12
    assert seen[0].startswith(MNIST.mirrors[0]) and len(seen) == 4
