"""`python -m corten bench`: table, JSON, comparison, chart, errors (tiny workloads, tiny budgets)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
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


def test_measured_peak_rejects_bad_input():
    import math

    import corten

    peak = machine.measured_peak_gflops(1, "float64", seconds=0.002, repeats=1)
    assert math.isfinite(peak) and peak > 0
    with pytest.raises(ValueError, match="at least 1 thread"):
        machine.measured_peak_gflops(0)
    with pytest.raises(ValueError, match="float32 or float64"):
        machine.measured_peak_gflops(1, "int8")
    with pytest.raises(ValueError, match="threads must be in"):
        corten._C.peak_gflops(False, 0, 0.01, False)
    with pytest.raises(ValueError, match="seconds must be in"):
        corten._C.peak_gflops(False, 1, 0.0, False)


def test_peak_column_uses_the_peak_in_the_machine_info():
    from corten.bench import report

    w = Workload("matmul/f64/x", "matmul", dict, {}, flops=2e9, dtype="float64")
    r = runner.Result(w, {"corten": runner.LibResult([0.1, 0.1, 0.1], 1)})  # 20 GFLOP/s
    m = {"peak_gflops_float32": 80.0, "peak_gflops_float64": 40.0, "peak_source": "measured",
         "threads": 2, "cores": 2, "copy_gbs": None, "method_text": "x"}
    assert report.peak_fraction(r, m) == pytest.approx(0.5)
    assert "measured peak of 2 cores" in report.table([r], ["corten", "numpy"], m)
    nominal = machine.describe({"corten": "0", "numpy": "0"}, {"corten": 1, "numpy": 1}, None, "same-process",
                               {}, measure=False)
    assert nominal["peak_source"] == "nominal" and "peak (nominal)" in nominal["line"]
    assert "nominal 1 core x 32 flop/cycle" in report.table([r], ["corten"], nominal)


def test_dispatcher(capsys):
    assert corten_main(["bench", "--list"]) == 0
    assert "matmul/f32/512" in capsys.readouterr().out
    assert corten_main(["nope"]) == 2
    assert "unknown command 'nope'" in capsys.readouterr().err
    assert corten_main([]) == 0
    assert "bench" in capsys.readouterr().out


TUNING = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME", "OPENBLAS_THREAD_TIMEOUT", "OPENBLAS_NUM_THREADS")


def _command(*args: str, tmp_path=None) -> tuple[str, dict | None]:
    """`python -m corten bench` in a fresh process, without PyTorch and without any
    thread-pool setting in the environment; its stdout and --json document."""
    env = {k: v for k, v in os.environ.items() if k not in TUNING}
    env["CORTEN_BENCH_NO_TORCH"] = "1"
    extra = ["--json", str(tmp_path / "run.json")] if tmp_path else []
    proc = subprocess.run([sys.executable, "-m", "corten", "bench", *TINY, *args, *extra], env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "overhead/add/10" in proc.stdout
    return proc.stdout, json.loads((tmp_path / "run.json").read_text()) if tmp_path else None


def test_command_runs_each_library_in_its_own_process_with_its_defaults(tmp_path):
    out, doc = _command("--threads", "1", tmp_path=tmp_path)
    line = out.splitlines()[0]
    assert "method: each library in its own process with its own defaults" in line, line
    assert not any(k in line for k in TUNING), line  # the harness set none of them
    lines = out.splitlines()
    table_head = lines[lines.index(header(out)) - 1]  # the table says it too
    assert table_head.startswith("method: each library in its own process"), table_head
    m = doc["machine"]
    assert m["method"] == "per-process" and doc["settings"]["method"] == "per-process"
    assert m["lib_threads"] == {"corten": 1, "numpy": 1}
    numpy, corten = m["workers"]["numpy"], m["workers"]["corten"]
    assert len({numpy["pid"], corten["pid"], os.getpid()}) == 3
    assert not numpy["imports_corten"] and corten["imports_corten"]
    # --threads 1 reaches NumPy's BLAS through its worker's environment only; nothing else is set
    # (plus what the machine itself sets for every process, e.g. OPENBLAS_CORETYPE, which is reported as it is)
    inherited = {k: os.environ[k] for k in machine.ENV_KEYS if k in os.environ and k not in TUNING}
    assert numpy["env"] == {**inherited, "OPENBLAS_NUM_THREADS": "1"}
    # corten's own default, set by its import
    assert corten["env"] == {**inherited, "GOMP_SPINCOUNT": "30000", "KMP_BLOCKTIME": "1"}


def test_worker_environment():
    import corten
    from corten.bench import procs

    # the user's settings, without what importing corten set in this process
    user = {k: None if k in corten.ENV_SET_ON_IMPORT else os.environ.get(k) for k in TUNING}
    for lib in ("corten", "numpy", "torch"):
        env = procs.worker_env(lib, None)
        assert {k: env.get(k) for k in TUNING} == user
    numpy, torch = procs.worker_env("numpy", 3), procs.worker_env("torch", 3)
    assert numpy["OPENBLAS_NUM_THREADS"] == "3" and torch["CORTEN_BENCH_THREADS"] == "3"
    assert torch.get("OPENBLAS_NUM_THREADS") == os.environ.get("OPENBLAS_NUM_THREADS")


def test_same_process_runs_with_short_spinning_thread_pools():
    out, _ = _command("--threads", "1", "--same-process")
    line = out.splitlines()[0]
    assert "GOMP_SPINCOUNT=30000" in line and "OPENBLAS_THREAD_TIMEOUT=20" in line, line
    assert "OPENBLAS_NUM_THREADS=1" in line, line
    assert "method: same process, equal short spin for every pool" in line, line


def test_wait_idle_waits_for_a_busy_process_only():
    from corten.bench import procs

    if procs._running_threads(os.getpid()) is None:
        pytest.skip("needs /proc")
    code = "import sys, time; print('ready', flush=True); {}"
    idle = subprocess.Popen([sys.executable, "-c", code.format("time.sleep(60)")], stdout=subprocess.PIPE)
    busy = subprocess.Popen([sys.executable, "-c", code.format("exec('while True: pass')")], stdout=subprocess.PIPE)
    try:
        for p in (idle, busy):
            assert p.stdout.readline() == b"ready\n"
        assert procs.wait_idle(idle.pid, timeout=30) < 30
        assert procs.wait_idle(busy.pid, timeout=0.05) > 0.05  # gave up: still running
    finally:
        for p in (idle, busy):
            p.kill()
            p.wait()


def test_threads_option(capsys):
    import corten

    before = corten.get_num_threads()
    code, out, _ = run(capsys, "--threads", "1")
    assert code == 0 and ", 1 thread," in out.splitlines()[0]
    assert corten.get_num_threads() == before  # restored after the run
    assert cli.main(["--threads", "0"]) == 2
    assert "--threads needs at least 1" in capsys.readouterr().err


def test_a_worker_that_exits_is_a_note_and_the_others_go_on():
    from corten.bench import procs

    workers, notes = procs.start_workers(["corten", "numpy"], 1)
    try:
        assert notes == [] and set(workers) == {"corten", "numpy"}
        w = next(w for w in workloads.WORKLOADS if w.name == "overhead/add/10")
        workers["numpy"].proc.kill()
        workers["numpy"].proc.wait()
        r = procs.run_workload(w, workers, 0.01)
        assert set(r.libs) == {"corten"} and len(r.libs["corten"].samples) >= 3
        assert "numpy setup failed: the numpy worker exited" in r.note
    finally:
        for wk in workers.values():
            wk.close()
