"""The convnet job (`python -m corten train --model cnn`), briefly, on toy data and on
Fashion-MNIST when it is installed."""

import json
import os
import struct

import corten as ct
import numpy as np
import pytest
from corten import train
from corten.datasets import DatasetError, FashionMNIST


def _idx(path, arr):
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape) + arr.tobytes())


def _toy_dataset(folder, n_train=1280, n_test=64):
    """Two classes: a bright vertical bar vs a bright horizontal bar, on noise."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        y = (np.arange(n) % 2).astype(np.uint8)
        x = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        x[y == 0, :, 12:16] += 150
        x[y == 1, 12:16, :] += 150
        _idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), x)
        _idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), y)
    return folder


def test_cnn_job_on_toy_data(tmp_path, capsys):
    data = _toy_dataset(tmp_path / "data")
    out = tmp_path / "out"
    rc = train.main(
        [
            "--model",
            "cnn",
            "--data",
            str(data),
            "--epochs",
            "1",
            "--no-progress",
            "--out",
            str(out),
            "--seed",
            "1",
            "--threads",
            "1",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "93,322 parameters" in text and "batch 64" in text and "test accuracy:" in text
    hist = json.loads((out / "history.json").read_text())
    assert hist["args"]["batch_size"] == 64 and hist["history"][0]["steps"] == 20
    assert hist["test_acc"] > 0.9
    sd = ct.load(out / "model.safetensors")
    assert sd["0.weight"].shape == (32, 1, 3, 3) and sd["9.weight"].shape == (64, 576)
    model = train.build_cnn()
    model.load_state_dict(sd)
    assert model(ct.zeros((2, 1, 28, 28))).shape == (2, 10)


def test_cnn_job_briefly_on_fashion_mnist(tmp_path):
    try:
        FashionMNIST(train=False)
    except DatasetError:
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    rc = train.main(
        ["--model", "cnn", "--epochs", "1", "--limit", "1280", "--no-progress", "--out", str(tmp_path), "--seed", "0"]
    )
    assert rc == 0
    hist = json.loads((tmp_path / "history.json").read_text())
    assert hist["history"][0]["steps"] == 20
    assert hist["test_acc"] >= 0.5, hist
