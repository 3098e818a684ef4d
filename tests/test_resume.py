"""The training job survives interruption: SIGKILL at chosen steps or in the middle
of a checkpoint write, and Ctrl-C, then --resume ends with the same weights, byte
for byte, as an uninterrupted run. Broken checkpoints give clear errors."""

import json
import os
import resource
import shlex
import signal
import subprocess
import sys

import corten as ct
import numpy as np
import pytest
from corten import train, train_state
from corten.checkpoint import CheckpointError
from test_train import _toy_dataset

pytest.importorskip("safetensors")

STEPS = 7  # steps per epoch: 200 samples in batches of 32


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return _toy_dataset(tmp_path_factory.mktemp("data"), 200, 40)


def _args(data, out, epochs=3, *extra):
    return ["--data", str(data), "--epochs", str(epochs), "--hidden", "8", "--batch-size", "32",
            "--optimizer", "adam", "--seed", "5", "--threads", "1", "--no-progress",
            "--checkpoint-every", "3", "--out", str(out), *extra]


def _run(args, env=None, expect=0):
    r = subprocess.run([sys.executable, "-m", "corten", "train", *args], capture_output=True, text=True,
                       timeout=300, env={**os.environ, **(env or {})})
    assert r.returncode == expect, (r.returncode, r.stdout, r.stderr)
    return r


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    _run(_args(data, out))
    return out


def _same_result(out, ref):
    from safetensors.numpy import load_file

    mine, theirs = (load_file(str(d / "model.safetensors")) for d in (out, ref))
    for k in theirs:  # the weights, byte for byte; then the whole files (corten writes them deterministically)
        assert mine[k].dtype == theirs[k].dtype and mine[k].tobytes() == theirs[k].tobytes(), k
    assert (out / "model.safetensors").read_bytes() == (ref / "model.safetensors").read_bytes()
    mine, theirs = (json.loads((d / "history.json").read_text())["history"] for d in (out, ref))
    for key in ("epoch", "train_loss", "train_acc", "test_acc"):
        assert [h[key] for h in mine] == [h[key] for h in theirs], key


# (kills): each a dict of environment variables for one run killed by SIGKILL; the
# run after the last one resumes to the end. Steps count from the start of each process.
KILLS = {
    "mid-epoch": [{train_state.SIGNAL_ENV: "5"}],
    "at epoch end, before its checkpoint": [{train_state.SIGNAL_ENV: str(STEPS)}],
    "second epoch, twice": [{train_state.SIGNAL_ENV: "11"}, {train_state.SIGNAL_ENV: "4"}],
    "during a checkpoint write": [{"CORTEN_TEST_KILL_IN_WRITE": "3"}],
    "during an epoch-end write": [{train_state.SIGNAL_ENV: "9"}, {"CORTEN_TEST_KILL_IN_WRITE": "2"}],
    "random step": [{train_state.SIGNAL_ENV: str(np.random.default_rng(19).integers(4, 3 * STEPS))}],
}


@pytest.mark.parametrize("kills", list(KILLS.values()), ids=list(KILLS))
def test_sigkill_then_resume_is_bit_identical(data, reference, tmp_path, kills):
    out = tmp_path / "out"
    for i, env in enumerate(kills):
        _run(_args(data, out, 3, *(["--resume"] if i else [])), env, expect=-signal.SIGKILL)
        ck = out / train_state.FILENAME
        assert ck.exists()
        ct.load(ck)  # whatever the moment of the kill, the checkpoint on disk is complete
        if "CORTEN_TEST_KILL_IN_WRITE" in env:  # the half-written temporary is all that was lost
            assert [n for n in os.listdir(out) if n.endswith(".tmp")], os.listdir(out)
    assert not (out / "model.safetensors").exists()
    _run(_args(data, out, 3, "--resume"))
    _same_result(out, reference)
    assert not [n for n in os.listdir(out) if n.endswith(".tmp")]


@pytest.mark.parametrize("step", [10, STEPS], ids=["mid-epoch", "last step of an epoch"])
def test_ctrl_c_writes_a_checkpoint_and_prints_how_to_resume(data, reference, tmp_path, step):
    out = tmp_path / "out"
    r = _run(_args(data, out), {train_state.SIGNAL_ENV: f"{step}:INT"}, expect=130)
    assert "interrupted: checkpoint written to" in r.stdout
    cmd = shlex.split(r.stdout.split("resume with: ", 1)[1].strip().splitlines()[0])
    assert cmd[:4] == ["python", "-m", "corten", "train"]
    assert cmd[-2:] == ["--resume", str(out / "checkpoint.safetensors")]
    sd = ct.load(out / "checkpoint.safetensors")
    epoch, batches = divmod(step, STEPS)
    if batches:  # the step under way was finished, and the checkpoint written after it
        assert (sd["epoch"], sd["loader"]["batches"], len(sd["history"])) == (epoch + 1, batches, epoch)
    else:  # on an epoch's last step the epoch is completed (evaluated, in the history) first
        assert (sd["epoch"], sd["loader"]["batches"], len(sd["history"])) == (epoch, STEPS, epoch)
        assert f"epoch {epoch}: loss" in r.stdout
    r2 = subprocess.run([sys.executable, *cmd[1:]], capture_output=True, text=True, timeout=300)
    assert r2.returncode == 0, r2.stderr
    expected = f"epoch {epoch + 1}, step {batches + 1}" if batches else f"epoch {epoch + 1}\n"
    assert "resuming from" in r2.stdout and expected in r2.stdout, r2.stdout
    _same_result(out, reference)


def test_resume_extends_a_finished_run(data, reference, tmp_path):
    out = tmp_path / "out"
    train.main(_args(data, out, 2))
    assert train.main(_args(data, out, 3, "--resume")) == 0
    _same_result(out, reference)


def test_checkpoint_holds_the_whole_run(data, reference):
    ck = ct.load(reference / "checkpoint.safetensors")
    assert ck["format"] == train_state.FORMAT and ck["version"] == train_state.VERSION
    assert ck["epoch"] == 3 and ck["loader"]["batches"] == STEPS and len(ck["history"]) == 3
    assert set(ck["model"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert {"exp_avg", "exp_avg_sq", "step"} == set(ck["optimizer"]["state"][0])
    assert ck["optimizer"]["state"][0]["step"].item() == 3 * STEPS
    assert ck["recipe"]["hidden"] == 8 and len(ck["rng"]) == 2
    # the file is plain safetensors: the model loads in PyTorch's reader too
    from safetensors.numpy import load_file

    flat = load_file(str(reference / "checkpoint.safetensors"))
    assert flat["model.0.weight"].shape == (8, 784) and flat["optimizer.state.0.exp_avg"].shape == (8, 784)


def _tamper(src, dst, fn):
    ck = ct.load(src)
    fn(ck)
    ct.save(ck, dst)


def _set(key, value):
    return lambda ck: ck.__setitem__(key, value)


HOSTILE = {
    "truncated": (lambda raw, p: p.write_bytes(raw[: len(raw) // 2]), "not a readable safetensors file"),
    "flipped header bytes": (lambda raw, p: p.write_bytes(raw[:9] + bytes(b ^ 0xFF for b in raw[9:40]) + raw[40:]),
                             "not a readable safetensors file"),
    "not safetensors": (lambda raw, p: p.write_bytes(b"PK\x03\x04 a zip file, not a checkpoint"),
                        "not a readable safetensors file"),
    "empty": (lambda raw, p: p.write_bytes(b""), "not a readable safetensors file"),
    "flipped data byte": (lambda raw, p: p.write_bytes(raw[:-5] + bytes([raw[-5] ^ 0x10]) + raw[-4:]),
                          "is corrupted"),
}
TAMPERED = {
    "missing key": (lambda ck: ck["model"].pop("2.bias"), "another model: missing key '2.bias'"),
    "wrong shape": (lambda ck: ck["model"].__setitem__("0.weight", ct.zeros(9, 784)),
                    r"shape mismatch for '0.weight': \(9, 784\)"),
    "wrong version": (_set("version", 99), "format version 99"),
    "no optimizer": (lambda ck: ck.pop("optimizer"), "missing key.*optimizer"),
    "other options": (lambda ck: ck["recipe"].__setitem__("hidden", 32), "--hidden 32"),
    "optimizer state shape": (lambda ck: ck["optimizer"]["state"][1].__setitem__("exp_avg", ct.ones(3)),
                              "exp_avg.*shape"),
    "bad loader position": (lambda ck: ck["loader"].__setitem__("batches", 99), "batches"),
}


def _snapshot(model, opt):
    return [p.detach().numpy().copy() for p in model.parameters()], {k: dict(v) for k, v in opt.state.items()}


@pytest.mark.parametrize("case", list(HOSTILE) + list(TAMPERED) + ["another model's file"])
def test_hostile_checkpoints(data, reference, tmp_path, capsys, case):
    src = reference / "checkpoint.safetensors"
    bad = tmp_path / "bad.safetensors"
    if case in HOSTILE:
        write, match = HOSTILE[case]
        write(src.read_bytes(), bad)
    elif case in TAMPERED:
        fn, match = TAMPERED[case]
        _tamper(src, bad, fn)
    else:
        bad.write_bytes((reference / "model.safetensors").read_bytes())
        match = "not a training checkpoint"
    args = train.parse_args(_args(data, tmp_path))
    ct.manual_seed(0)
    model = train.build_model(8)
    opt = train.build_optimizer("adam", model.parameters(), 1e-3)
    loader = ct.data.DataLoader(ct.data.TensorDataset(ct.zeros(200, 784), ct.zeros(200)), 32, shuffle=True)
    weights, _ = _snapshot(model, opt)
    rng = ct.random.default_generator.get_state()
    with pytest.raises(CheckpointError, match=match) as e:
        train_state.load(str(bad), args, model, opt, loader)
    assert str(bad) in str(e.value)
    for a, b in zip(weights, _snapshot(model, opt)[0], strict=True):  # nothing was half-loaded
        np.testing.assert_array_equal(a, b)
    assert not opt.state and ct.random.default_generator.get_state() == rng
    # and the job says so, naming the file
    assert train.main(_args(data, tmp_path / "o", 3, "--resume", str(bad))) == 1
    err = capsys.readouterr().err
    assert "cannot resume" in err and str(bad) in err


def test_resume_without_a_checkpoint(data, tmp_path, capsys):
    assert train.main(_args(data, tmp_path, 1, "--resume")) == 1
    assert "no checkpoint at" in capsys.readouterr().err


PEAK = "import resource, sys; from corten.train import main; main(sys.argv[1:]); " \
       "print('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"


def test_peak_memory_does_not_grow_with_epochs(data, tmp_path):
    def peak(epochs):
        r = subprocess.run([sys.executable, "-c", PEAK, *_args(data, tmp_path / str(epochs), epochs)],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        return int(r.stdout.rsplit("peak", 1)[1])

    short, long = peak(2), peak(20)
    assert long <= short * 1.05, (short, long)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0


def test_full_disk_stops_with_a_clear_error(data, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert train.main(_args(data, out, 1, "--checkpoint-every", "0")) == 0
    good = (out / "checkpoint.safetensors").read_bytes()

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", full_disk)
    assert train.main(_args(data, out, 2, "--resume")) == 1
    err = capsys.readouterr().err
    assert "cannot write the checkpoint" in err and "No space left" in err and "intact" in err
    assert (out / "checkpoint.safetensors").read_bytes() == good


def test_data_loader_state_replays_the_epoch_order():
    ds = ct.data.TensorDataset(ct.arange(50))
    ct.manual_seed(11)
    loader = ct.data.DataLoader(ds, batch_size=8, shuffle=True)
    it = iter(loader)
    seen = [next(it)[0].tolist() for _ in range(3)]
    state, rng = loader.state_dict(), ct.random.default_generator.get_state()
    rest = [b[0].tolist() for b in it]
    assert state["batches"] == 3 and sorted(sum(seen + rest, [])) == list(range(50))
    # a fresh loader (another process) continues the same order, the generator untouched
    ct.manual_seed(99)
    again = ct.data.DataLoader(ds, batch_size=8, shuffle=True)
    again.load_state_dict(state)
    assert [b[0].tolist() for b in again] == rest
    assert ct.random.default_generator.get_state() == (99, 0)
    # and the generator restored from the checkpoint draws what the first run drew next
    ct.random.default_generator.set_state(rng)
    a = ct.randn(4).tolist()
    ct.random.default_generator.set_state(rng)
    assert ct.randn(4).tolist() == a
    # a loader with its own generator brings it along: later epochs continue too
    own = ct.data.DataLoader(ds, batch_size=8, shuffle=True, generator=3)
    it = iter(own)
    next(it)
    saved = own.state_dict()
    rest, following = [b[0].tolist() for b in it], [b[0].tolist() for b in own]
    fresh = ct.data.DataLoader(ds, batch_size=8, shuffle=True, generator=77)
    fresh.load_state_dict(saved)
    assert [b[0].tolist() for b in fresh] == rest and [b[0].tolist() for b in fresh] == following
    with pytest.raises(ValueError, match="batches"):
        again.load_state_dict({"order_rng": [1, 2], "batches": 8})
    with pytest.raises(ValueError, match="own generator"):
        again.load_state_dict({"order_rng": [1, 2], "batches": 1, "generator": [1, 2]})
    with pytest.raises(ValueError, match="order_rng"):
        again.load_state_dict({"order_rng": None, "batches": 1})
    again.load_state_dict({"order_rng": None, "batches": 0})  # nothing drawn yet: a fresh epoch


def test_distributed_run_resumes_from_an_epoch_end(data, tmp_path):
    from test_distributed import _have_mpi, launch

    if not _have_mpi:
        pytest.skip("mpi4py is not installed (the `distributed` extra)")

    def job(out, epochs, *extra):
        args = ["--data", str(data), "--hidden", "8", "--batch-size", "32", "--seed", "5", "--threads", "1",
                "--no-progress", "--distributed", "--epochs", str(epochs), "--out", str(out), *extra]
        r = launch(2, "-m", "corten", "train", *args)
        assert r.returncode == 0, r.stderr[-3000:]
        return r

    job(tmp_path / "whole", 2)
    job(tmp_path / "part", 1)
    assert "resuming from" in job(tmp_path / "part", 2, "--resume").stdout
    _same_result(tmp_path / "part", tmp_path / "whole")


def test_distributed_refuses_step_checkpoints(data, tmp_path, capsys):
    assert train.main(_args(data, tmp_path, 1, "--distributed")) == 1
    assert "--checkpoint-every is not supported with --distributed" in capsys.readouterr().err
