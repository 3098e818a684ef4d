"""One library's side of `python -m corten bench`: a child process that sets up and times
workloads when the parent asks (the parent side is bench/procs.py).

Started as `python .../corten/bench/worker.py LIB`, not as a module of the corten package:
importing `corten` runs corten's `__init__`, which loads corten's OpenMP runtime with
corten's spin default, and NumPy's or PyTorch's process must not get that. Only the corten
worker imports corten. The registry (workloads.py) and machine.py are loaded from their
files; neither imports corten unless asked about a corten feature.

Protocol: one JSON object per line each way. The worker first writes a hello (library,
version, threads, pid); then for each request {"cmd": ...} it writes one reply, with an
"error" key when the request failed:
  setup {name}        make the workload's data and the callable to time
  warm {twice}        time one call (two when cheap): {"t": seconds}
  sample {n}          time n back-to-back calls: {"t": seconds per call}
  drop                forget the workload
  quit                exit
The library's thread count is the parent's choice, passed as CORTEN_BENCH_THREADS (set
with the library's own API here) or, for NumPy's BLAS, OPENBLAS_NUM_THREADS in this
process's environment.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any, TextIO

HERE = os.path.dirname(os.path.abspath(__file__))


def sample(fn: Callable[[], Any], n: int) -> float:
    """Seconds per call over n back-to-back calls, the garbage collector off."""
    gc_was = gc.isenabled()
    gc.disable()
    try:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - t) / n
    finally:
        if gc_was:
            gc.enable()


def warm(fn: Callable[[], Any], twice: bool) -> float:
    """The first call; the second call's time when `twice` and the first was cheap."""
    t = sample(fn, 1)
    return sample(fn, 1) if twice and t < 0.05 else t


def load_sibling(name: str) -> ModuleType:
    """bench/NAME.py loaded from its file, without importing the corten package."""
    spec = importlib.util.spec_from_file_location(f"_corten_bench_{name}", os.path.join(HERE, f"{name}.py"))
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up here
    spec.loader.exec_module(mod)
    return mod


def hello(lib: str, mod: ModuleType) -> dict:
    """What the parent reports about this worker: version, threads, pid, the thread-pool
    settings in its environment and whether corten is loaded in it."""
    machine = load_sibling("machine")
    info: dict[str, Any] = {"lib": lib, "version": getattr(mod, "__version__", "?"), "pid": os.getpid(),
                            "env": {k: os.environ[k] for k in machine.ENV_KEYS if k in os.environ},
                            "imports_corten": "corten" in sys.modules}
    if lib == "numpy":
        info["blas"] = machine.numpy_blas()
        info["threads"] = _numpy_threads()
    else:
        info["threads"] = mod.get_num_threads()
    return info


def _numpy_threads() -> int:
    try:
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return int(pools[0]["num_threads"])
    except ImportError:
        pass
    return int(os.environ.get("OPENBLAS_NUM_THREADS") or os.cpu_count() or 1)


def serve(lib: str, requests: TextIO, replies: TextIO) -> None:
    mod = importlib.import_module(lib)  # first: the library loads as in a user's program
    threads = os.environ.get("CORTEN_BENCH_THREADS")
    if threads and lib != "numpy":
        mod.set_num_threads(int(threads))
    registry = load_sibling("workloads")
    by_name = {w.name: w for w in registry.WORKLOADS}
    fn: Callable[[], Any] | None = None

    def reply(obj: dict) -> None:
        replies.write(json.dumps(obj) + "\n")
        replies.flush()

    reply(hello(lib, mod))
    for line in requests:
        req = json.loads(line)
        cmd = req.get("cmd")
        try:
            if cmd == "setup":
                fn = None
                gc.collect()
                w = by_name[req["name"]]
                fn = w.setups[lib](mod, w.data())
                reply({})
            elif cmd in ("warm", "sample"):
                if fn is None:
                    raise RuntimeError(f"{cmd} before setup")
                reply({"t": warm(fn, bool(req["twice"])) if cmd == "warm" else sample(fn, int(req["n"]))})
            elif cmd == "drop":
                fn = None
                gc.collect()
                reply({})
            elif cmd == "quit":
                return
            else:
                raise ValueError(f"unknown command {cmd!r}")
        except Exception as e:  # reported to the parent, which notes it in the table
            reply({"error": f"{type(e).__name__}: {e}"})


def main() -> int:
    if len(sys.argv) != 2 or sys.argv[1] not in ("corten", "numpy", "torch"):
        print("usage: worker.py {corten,numpy,torch}", file=sys.stderr)
        return 2
    # Replies go to the original stdout; anything a library prints goes to stderr.
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.argv[1], sys.stdin, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
