"""`python -m corten bench`: table, JSON, comparison, chart, errors (tiny workloads, tiny budgets)."""

from __future__ import annotations

import gzip
import json
import sys

import numpy as np
import pytest
from corten.__main__ import main as corten_main
from corten.bench import cli, machine, runner, workloads
from corten.bench.workloads import Workload

TINY = ["--only", "overhead/add/10*", "--budget", "0.01"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main([*TINY, *args])
    out, err = capsys.readouterr()
    return code, out, err


def header(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("workload"))


def test_table_has_numpy_and_torch_columns(capsys):
    pytest.importorskip("torch")
    code, out, err = run(capsys)
    assert code == 0
    head = header(out)
    assert "numpy" in head and "torch" in head and "vs numpy" in head and "vs torch" in head
    assert "overhead/add/10 " in out and "overhead/add/10-grad" in out
    assert "cores" in out.splitlines()[0] and "simd" in out.splitlines()[0]
    assert "overhead/add/10" in err  # progress on stderr


@pytest.mark.parametrize("how", ["env", "import"])
def test_table_without_torch(capsys, monkeypatch, how):
    if how == "env":
        monkeypatch.setenv("CORTEN_BENCH_NO_TORCH", "1")
    else:
        monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    code, out, _ = run(capsys)
    assert code == 0
    head = header(out)
    assert "numpy" in head and "torch" not in head
    assert "torch" not in out.splitlines()[0]


def test_json_has_every_figure(capsys, tmp_path):
    path = tmp_path / "run.json"
    code, _, _ = run(capsys, "--json", str(path))
    assert code == 0
    doc = json.loads(path.read_text())
    assert {"version", "created", "machine", "settings", "workloads"} <= doc.keys()
    assert {"line", "cpu", "cores", "threads", "simd", "versions", "clock_mhz"} <= doc["machine"].keys()
    assert {"corten", "numpy"} <= doc["machine"]["versions"].keys()
    w = next(w for w in doc["workloads"] if w["name"] == "overhead/add/10")
    assert {"corten", "numpy"} <= w["libs"].keys()
    lib = w["libs"]["corten"]
    assert lib["median"] > 0 and len(lib["samples"]) >= 3 and lib["calls_per_sample"] >= 1
    assert lib["spread"] >= 0
    assert w["ratios"]["numpy"] == pytest.approx(w["libs"]["numpy"]["median"] / lib["median"])


def test_compare_prints_change(capsys, tmp_path):
    old = tmp_path / "old.json"
    assert run(capsys, "--json", str(old))[0] == 0
    code, out, _ = run(capsys, "--compare", str(old))
    assert code == 0
    text = out[out.index("old -> new") - 40:]
    assert "overhead/add/10" in text and "corten change" in text and "%" in text


def test_compare_rejects_bad_file(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    code, _, err = run(capsys, "--compare", str(bad))
    assert code == 2 and "not a corten bench JSON" in err


def test_plot_writes_png(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "chart.png"
    assert run(capsys, "--plot", str(path))[0] == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = run(capsys, "--plot", str(tmp_path / "x.png"))
    assert code == 2 and "needs matplotlib" in err


def test_unknown_only_pattern(capsys):
    assert cli.main(["--only", "no-such-workload"]) == 2
    err = capsys.readouterr().err
    assert "no workload matches --only 'no-such-workload'" in err and "matmul" in err


def test_missing_corten_feature_is_a_note():
    w = Workload("x/needs-missing", "overhead", dict, {"corten": lambda m, d: lambda: None},
                 needs=("no_such_feature",))
    r = runner.run_workload(w, runner.load_libraries(), 0.01)
    assert r.skipped and r.note == "skipped: needs corten.no_such_feature"


def test_select_quick_and_patterns():
    quick = {w.name for w in workloads.select(None, quick=True)}
    assert "matmul/f32/2048" not in quick and "train/fashion-mnist/epoch" not in quick
    assert "matmul/f32/512" in quick
    sums = [w.name for w in workloads.select("reduction/sum/a*")]
    assert sums == ["reduction/sum/axis0", "reduction/sum/axis1", "reduction/sum/all"]
    names = [w.name for w in workloads.WORKLOADS]
    assert len(names) == len(set(names))


def test_feature_detection():
    assert workloads.corten_feature("add") and workloads.corten_feature("autograd.no_grad")
    assert not workloads.corten_feature("no_such.thing")


def test_fashion_mnist_loader(tmp_path):
    imgs = np.arange(2 * 784, dtype=np.uint8).reshape(2, 784)
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(b"\0" * 16 + imgs.tobytes())
    with gzip.open(tmp_path / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(b"\0" * 8 + bytes([3, 7]))
    x, y = workloads.load_fashion_mnist(str(tmp_path))
    assert x.shape == (2, 784) and x.dtype == np.float32 and x.max() <= 1
    assert y.tolist() == [3, 7] and y.dtype == np.int64


def test_peak_and_machine_line():
    assert machine.peak_gflops(2, 2600.0) == pytest.approx(166.4)
    assert machine.peak_gflops(2, 2600.0, "float64") == pytest.approx(83.2)
    assert machine.peak_gflops(2, None) is None
    assert machine.physical_cores() >= 1


def test_dispatcher(capsys):
    assert corten_main(["bench", "--list"]) == 0
    assert "matmul/f32/512" in capsys.readouterr().out
    assert corten_main(["nope"]) == 2
    assert "unknown command 'nope'" in capsys.readouterr().err
    assert corten_main([]) == 0
    assert "bench" in capsys.readouterr().out


def test_command_runs_with_short_spinning_thread_pools():
    import os
    import subprocess

    drop = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OPENBLAS_THREAD_TIMEOUT", "OPENBLAS_NUM_THREADS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["CORTEN_BENCH_NO_TORCH"] = "1"
    proc = subprocess.run([sys.executable, "-m", "corten", "bench", *TINY, "--threads", "1"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.splitlines()[0]
    assert "GOMP_SPINCOUNT=10000" in line and "OPENBLAS_THREAD_TIMEOUT=20" in line, line
    assert "OPENBLAS_NUM_THREADS=1" in line, line
    assert "overhead/add/10" in proc.stdout


def test_threads_option(capsys):
    import corten

    before = corten.get_num_threads()
    code, out, _ = run(capsys, "--threads", "1")
    assert code == 0 and ", 1 thread," in out.splitlines()[0]
    assert corten.get_num_threads() == before  # restored after the run
    assert cli.main(["--threads", "0"]) == 2
    assert "--threads needs at least 1" in capsys.readouterr().err
