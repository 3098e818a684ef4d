"""corten.distributed, DistributedDataParallel and DistributedSampler.

The multi-process tests launch tests/mpi_jobs.py under the venv's mpiexec (MPICH
from the `distributed` extra) with 2 and 3 ranks on this machine, each launch
under a timeout. They skip only when mpi4py is missing, and never with CI set.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import corten as ct
import numpy as np
import pytest
from corten import distributed as dist
from corten.data import DataLoader, DistributedSampler, TensorDataset
from corten.nn.parallel import DistributedDataParallel

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import mpi_jobs  # noqa: E402

TIMEOUT = 120  # seconds per launch: a hang fails the test instead of the suite
_in_ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
_under_asan = "libasan" in os.environ.get("LD_PRELOAD", "")
_have_mpi = importlib.util.find_spec("mpi4py") is not None
if _in_ci and not _under_asan and not _have_mpi:
    raise RuntimeError("CI is set but mpi4py is not installed: .ci/run installs the `distributed` extra")
needs_mpi = pytest.mark.skipif(not _have_mpi, reason="mpi4py is not installed (the `distributed` extra)")


def _mpiexec() -> str:
    local = Path(sys.executable).parent / "mpiexec"
    found = str(local) if local.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.fail("mpi4py is installed but no mpiexec was found")
    return found


def launch(n: int, *args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    cmd = [_mpiexec(), "-n", str(n), sys.executable, "-m", "mpi4py", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=HERE.parent)


# ---- a single process is a world of one -------------------------------------


def test_single_process_world_is_a_no_op():
    dist.init()
    assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
    dist.barrier()
    t = ct.tensor([1.0, -2.0, 3.0])
    for op in ("sum", "mean", "max", "min"):
        assert dist.all_reduce(t, op) is t and t.tolist() == [1.0, -2.0, 3.0]
    assert dist.broadcast(t) is t
    assert dist.all_gather(t).shape == (1, 3)
    assert dist.reduce_scatter(t).tolist() == t.tolist()
    with pytest.raises(ValueError, match="op must be one of"):
        dist.all_reduce(t, "prod")
    with pytest.raises(TypeError, match="float"):
        dist.all_reduce(ct.tensor([1, 2]), "mean")
    with pytest.raises(ValueError, match="src 1"):
        dist.broadcast(t, src=1)
    with pytest.raises(TypeError, match="Tensor"):
        dist.all_reduce(np.zeros(3))


def test_ddp_in_one_process_is_the_plain_model():
    model = mpi_jobs.make_model(seed=1)
    ddp = DistributedDataParallel(mpi_jobs.make_model(seed=1))
    assert list(ddp.state_dict()) == list(model.state_dict())  # no `module.` prefix
    x = ct.randn(6, mpi_jobs.FEATURES)
    model(x).sum().backward()
    ddp(x).sum().backward()
    for p, q in zip(model.parameters(), ddp.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    ddp.load_state_dict(model.state_dict())


# ---- post-accumulate-grad hooks and engine callbacks ----------------------------


def test_post_accumulate_hook_runs_once_after_the_last_gradient():
    w = ct.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    ((w * 3).sum() + (w * w).sum()).backward()  # two edges into w
    assert seen == [[5.0, 7.0]]
    ((w * 3).sum()).backward()
    assert seen == [[5.0, 7.0], [8.0, 10.0]]
    ct.autograd.grad((w * 2).sum(), [w])  # grad() accumulates nothing: no hook
    assert len(seen) == 2


def test_queued_callback_runs_after_the_pass():
    from corten.autograd import engine

    w = ct.tensor([1.0], requires_grad=True)
    order = []
    w.register_post_accumulate_grad_hook(lambda t: engine.queue_callback(lambda: order.append("end")))
    w.register_hook(lambda g: order.append("hook"))
    (w * 2).sum().backward()
    assert order == ["hook", "end"]
    with pytest.raises(RuntimeError, match="during a backward"):
        engine.queue_callback(lambda: None)
    with pytest.raises(RuntimeError, match="leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)


# ---- DistributedSampler ---------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 7, 10, 12])
@pytest.mark.parametrize("replicas", [1, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_shards(n, replicas, drop_last):
    ds = list(range(n))
    shards = [list(DistributedSampler(ds, replicas, r, seed=3, drop_last=drop_last)) for r in range(replicas)]
    lengths = {len(s) for s in shards}
    assert len(lengths) == 1  # the same number of samples, so of batches, everywhere
    size = lengths.pop()
    flat = [i for s in shards for i in s]
    if drop_last:
        assert size == n // replicas and len(set(flat)) == len(flat)  # disjoint
    else:
        assert size == -(-n // replicas) and set(flat) == set(range(n))  # everything, padded
        assert len(flat) - len(set(flat)) == size * replicas - n


def test_sampler_epochs_and_loader():
    ds = TensorDataset(np.arange(20, dtype=np.float32), np.arange(20))
    s = DistributedSampler(ds, num_replicas=2, rank=1, seed=5)
    first = list(s)
    assert list(s) == first
    s.set_epoch(1)
    assert list(s) != first  # a new permutation (deterministic: seed 5 + epoch 1)
    loader = DataLoader(ds, batch_size=4, sampler=s)
    batches = [yb.tolist() for _, yb in loader]
    assert len(loader) == 3 and [i for b in batches for i in b] == list(s)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, sampler=s, shuffle=True)
    with pytest.raises(ValueError, match="rank 2"):
        DistributedSampler(ds, num_replicas=2, rank=2)
    plain = DistributedSampler(ds, num_replicas=2, rank=0, shuffle=False)
    assert list(plain) == list(range(0, 20, 2))


# ---- several processes ------------------------------------------------------------


def _reference(opt_name: str, micro: int) -> dict:
    """One process, the whole batch B per step, no accumulation."""
    model = mpi_jobs.make_model(seed=100)  # rank 0's initialisation
    return mpi_jobs.train(model, opt_name, rank=0, world=1, micro=1)


@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
def test_ddp_matches_one_process_with_the_whole_batch(tmp_path, n):
    r = launch(n, "tests/mpi_jobs.py", "equivalence", str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    for opt_name in mpi_jobs.OPTIMIZERS:
        for micro in (1, 2):
            got = np.load(tmp_path / f"{opt_name}-{micro}.npz")
            want = _reference(opt_name, micro)
            assert sorted(got.files) == sorted(want)
            for k, v in want.items():
                np.testing.assert_allclose(got[k], v, rtol=2e-5, atol=2e-6, err_msg=f"{opt_name} micro={micro} {k}")


@needs_mpi
def test_collectives_against_numpy():
    r = launch(3, "tests/mpi_jobs.py", "collectives", "-")
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("collectives ok") == 3


@needs_mpi
def test_mismatched_collectives_raise_on_every_rank():
    r = launch(3, "tests/mpi_jobs.py", "mismatch", "-")
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("shape mismatch: all_reduce: tensors differ across ranks") == 3
    assert r.stdout.count("rank 0: shape (2,) float32, rank 1: shape (3,) float32, rank 2: shape (4,)") == 3
    assert r.stdout.count("dtype mismatch") == 3 and r.stdout.count("rank 1: shape (3,) float64") == 3
    assert r.stdout.count("model mismatch: DistributedDataParallel: the models differ") == 3
    assert r.stdout.count("still in step") == 3


@needs_mpi
def test_a_failing_rank_ends_the_whole_job():
    start = time.monotonic()
    r = launch(2, "tests/mpi_jobs.py", "crash", "-", timeout=60)
    assert r.returncode != 0
    assert "rank 1 fails on purpose" in r.stderr
    assert time.monotonic() - start < 60  # did not wait for the timeout


@needs_mpi
def test_distributed_training_job_checkpoint_loads_anywhere(tmp_path):
    from test_train import _toy_dataset

    data = _toy_dataset(tmp_path / "data", n_train=240, n_test=60)
    out = tmp_path / "out"
    args = ["--data", str(data), "--epochs", "2", "--hidden", "16", "--batch-size", "32", "--no-progress"]
    r = launch(2, "-m", "corten", "train", "--distributed", *args, "--out", str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("test accuracy:") == 1  # rank 0 alone logs
    assert "x 2 processes" in r.stdout
    from corten import train

    model = train.build_model(16)
    model.load_state_dict(ct.load(str(out / "model.safetensors")))
    x, y = train.load_data("fashion-mnist", str(data), False)[1].tensors
    with ct.no_grad():
        mine = model(x).numpy()
    acc = float((mine.argmax(1) == y.numpy()).mean())
    assert f"test accuracy: {acc:.4f}" in r.stdout  # the reduced metric is the whole test set's
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    net = torch.nn.Sequential(torch.nn.Linear(784, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10))
    net.load_state_dict(load_file(str(out / "model.safetensors")))
    with torch.no_grad():
        logits = net(torch.from_numpy(x.numpy()))
    np.testing.assert_allclose(logits.numpy(), mine, rtol=1e-4, atol=1e-4)


def test_a_plain_process_never_imports_mpi4py():
    code = (
        "import sys, corten as ct; from corten.nn.parallel import DistributedDataParallel as D; "
        "ct.distributed.init(); D(ct.nn.Linear(2, 2)); ct.distributed.all_reduce(ct.ones(2)); "
        "assert 'mpi4py' not in sys.modules, 'mpi4py was imported'"
    )
    env = {k: v for k, v in os.environ.items() if k not in dist._LAUNCHER_VARS}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, env=env)
    assert r.returncode == 0, r.stderr


def test_distributed_job_in_a_plain_process_runs_alone(tmp_path, capsys):
    """Without a launcher --distributed is a world of one: same model, its own shuffled order."""
    from corten import train
    from test_train import _toy_dataset

    data = _toy_dataset(tmp_path / "data", n_train=120, n_test=40)
    args = ["--data", str(data), "--epochs", "1", "--hidden", "8", "--batch-size", "32", "--no-progress"]
    assert train.main([*args, "--distributed", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "x 1 processes" in out and out.count("test accuracy:") == 1
    state = ct.load(str(tmp_path / "out" / "model.safetensors"))
    assert {k: tuple(v.shape) for k, v in state.items()} == {
        k: tuple(v.shape) for k, v in train.build_model(8).state_dict().items()
    }
