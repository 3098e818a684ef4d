import importlib.util
import json
import os
import struct
import subprocess
import sys

import corten as ct
import numpy as np
import pytest
from corten import train
from corten.__main__ import main as cli
from corten.datasets import DatasetError, FashionMNIST


def _idx(path, arr):
    with open(path, "wb") as f:
        f.write(
            bytes([0, 0, 8, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape) + arr.tobytes()
        )


def _toy_dataset(folder, n_train=300, n_test=100):
    """Two easy classes: bright top half vs bright bottom half, with noise."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        y = (np.arange(n) % 2).astype(np.uint8)
        x = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        x[y == 0, :14] += 150
        x[y == 1, 14:] += 150
        _idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), x)
        _idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), y)
    return folder


def test_cli_usage(capsys):
    assert cli([]) == 0
    assert "train" in capsys.readouterr().out
    assert cli(["frobnicate"]) == 2


def test_train_job_on_toy_data(tmp_path, capsys):
    data = _toy_dataset(tmp_path / "data")
    out = tmp_path / "out"
    rc = train.main(
        [
            "--data",
            str(data),
            "--epochs",
            "2",
            "--hidden",
            "16",
            "--batch-size",
            "32",
            "--no-progress",
            "--out",
            str(out),
            "--seed",
            "3",
            "--threads",
            "1",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "test accuracy:" in text and "time:" in text and "checkpoint:" in text
    hist = json.loads((out / "history.json").read_text())
    assert [h["epoch"] for h in hist["history"]] == [1, 2]
    assert hist["test_acc"] > 0.9
    sd = ct.load(out / "model.safetensors")
    assert set(sd) == {"0.weight", "0.bias", "2.weight", "2.bias"} and sd["0.weight"].shape == (16, 784)
    model = train.build_model(16)
    model.load_state_dict(sd)
    if (out / "training.png").exists():
        assert (out / "training.png").stat().st_size > 1000
    else:
        assert "chart: skipped" in text


@pytest.mark.parametrize("opt", ["adam", "adamw", "sgd"])
def test_train_job_optimizers(tmp_path, capsys, opt):
    data = _toy_dataset(tmp_path / "data", 64, 32)
    assert (
        train.main(
            [
                "--data",
                str(data),
                "--epochs",
                "1",
                "--hidden",
                "0",
                "--optimizer",
                opt,
                "--no-progress",
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 0
    )


def test_train_job_missing_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CORTEN_DATA", raising=False)
    if os.path.isdir("/usr/share/datasets/mnist"):
        pytest.skip("MNIST is installed system-wide")
    assert train.main(["--dataset", "mnist", "--data", str(tmp_path / "none"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "data files not found" in err and str(tmp_path / "none") in err


def test_chart_skipped_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert (
        train.save_chart(
            [{"epoch": 1, "train_loss": 1.0, "train_acc": 0.5, "test_acc": 0.5}], str(tmp_path / "c.png")
        )
        is False
    )


def test_python_dash_m(tmp_path):
    data = _toy_dataset(tmp_path / "data", 64, 32)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "corten",
            "train",
            "--data",
            str(data),
            "--epochs",
            "1",
            "--hidden",
            "8",
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "test accuracy" in r.stdout
    # The progress bar goes to stderr when tqdm is importable (the child runs this interpreter), never otherwise.
    assert ("epoch 1/1" in r.stderr) == (importlib.util.find_spec("tqdm") is not None), r.stderr


def test_one_epoch_fashion_mnist(tmp_path, capsys):
    try:
        FashionMNIST(train=False)
    except DatasetError:
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    rc = train.main(
        ["--epochs", "1", "--no-progress", "--out", str(tmp_path), "--seed", "0", "--threads", "1"]
    )
    assert rc == 0
    hist = json.loads((tmp_path / "history.json").read_text())
    assert hist["test_acc"] >= 0.80, hist


def test_profile_flag_prints_categories_and_leaves_kernels_unwrapped(tmp_path, capsys):
    from corten import _C

    matmul = _C.matmul
    data = _toy_dataset(tmp_path / "data", 64, 32)
    args = ["--data", str(data), "--epochs", "1", "--batch-size", "16", "--no-progress", "--out", str(tmp_path / "o")]
    assert train.main([*args, "--profile"]) == 0
    out = capsys.readouterr().out
    assert "profile: 4 steps" in out
    for cat in ("matmul", "element-wise", "loss", "optimizer", "data", "python"):
        assert f"\n  {cat} " in out
    assert _C.matmul is matmul  # the timers are removed after the epoch
    plain = json.loads((tmp_path / "o" / "history.json").read_text())["history"]
    assert train.main([*args, "--out", str(tmp_path / "p")]) == 0
    again = json.loads((tmp_path / "p" / "history.json").read_text())["history"]
    assert plain[0]["train_loss"] == again[0]["train_loss"]  # profiling changes no result


def test_profile_categories_follow_kernel_names():
    from corten._profile import category

    assert category("matmul") == category("matmul_epilogue") == "matmul"  # the fused bias/ReLU GEMM too
    assert category("rmsprop_steps") == "optimizer"
    assert category("relu") == "element-wise"


def test_out_that_is_a_file_is_refused_before_any_work(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("not a folder")
    assert train.main(["--data", str(tmp_path / "none"), "--out", str(target), "--no-progress"]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err
    assert target.read_text() == "not a folder"


def test_compile_flag_trains_to_the_same_bits(tmp_path):
    data = _toy_dataset(tmp_path / "data", 96, 32)
    args = ["--data", str(data), "--epochs", "3", "--batch-size", "16", "--no-progress", "--seed", "1"]
    assert train.main([*args, "--out", str(tmp_path / "e")]) == 0
    assert train.main([*args, "--out", str(tmp_path / "c"), "--compile"]) == 0
    eager = json.loads((tmp_path / "e" / "history.json").read_text())["history"]
    compiled = json.loads((tmp_path / "c" / "history.json").read_text())["history"]
    for a, b in zip(eager, compiled, strict=True):
        assert (a["train_loss"], a["test_acc"]) == (b["train_loss"], b["test_acc"])


def test_compile_flag_refuses_what_it_cannot_replay(tmp_path, capsys):
    data = _toy_dataset(tmp_path / "data", 64, 32)
    args = ["--data", str(data), "--no-progress", "--out", str(tmp_path / "o"), "--compile"]
    assert train.main([*args, "--profile"]) == 1
    assert "--compile cannot be combined" in capsys.readouterr().err


def test_profile_times_element_wise_kernels_and_restores_their_table():
    import corten as ct
    from corten._profile import StepProfile
    from corten.ops import elementwise

    relu = elementwise._KERNELS["relu"]
    prof = StepProfile()
    prof.install()
    try:
        ct.relu(ct.tensor([-1.0, 2.0]))
        ct.tensor([1.0]) + ct.tensor([2.0])
    finally:
        prof.uninstall()
    assert prof.kernel_calls["relu"] == 1 and prof.kernel_calls["add"] == 1
    assert elementwise._KERNELS["relu"] is relu
