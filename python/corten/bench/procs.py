"""The default method: each library in its own process, with that library's own defaults.

One worker process per library (bench/worker.py) lives for the whole run and is driven
over a pipe: set a workload up, warm it up, then round after round each worker times one
sample, in an order that rotates every round, so machine noise hits every library alike.
The harness sets no thread-pool tuning: each worker gets the environment the user started
`python -m corten bench` with (minus what corten's import set in this parent process), and
`--threads N` is applied per worker with the library's own API (corten and PyTorch:
`set_num_threads`; NumPy's BLAS: `OPENBLAS_NUM_THREADS` in that worker's environment only).

Each library keeps its own idle-spin policy, so a worker's threads may still spin on a core
after its sample (libgomp by default for a few ms, OpenBLAS for up to about 0.1 s). Before
each sample the parent waits until no thread of the worker that ran last is running
(`/proc/PID/task/*/stat`, up to `IDLE_TIMEOUT`), so no library runs beside another one's
spinning pool.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import corten

from .runner import Result, Side, WorkerError, skip_note, time_rounds
from .workloads import LIBRARIES, Workload

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
IDLE_TIMEOUT = 0.5  # seconds: a pool still running after this is left running
IDLE_POLL = 0.0005
PAUSE_WITHOUT_PROC = 0.2  # seconds between samples where /proc is not available


class Worker:
    def __init__(self, lib: str, env: dict[str, str]) -> None:
        self.lib = lib
        self.proc = subprocess.Popen([sys.executable, WORKER, lib], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env, text=True, bufsize=1)
        self.info: dict[str, Any] = {}

    def hello(self) -> dict[str, Any]:
        self.info = self.read()
        return self.info

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        self.send(cmd, **args)
        return self.read()

    def send(self, cmd: str, **args: Any) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise WorkerError(f"the {self.lib} worker exited (code {self.proc.poll()})") from None

    def read(self) -> dict[str, Any]:
        """The next reply; WorkerError for an error reply or a worker that exited."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise WorkerError(f"the {self.lib} worker exited (code {self.proc.wait()})")
        reply = json.loads(line)
        if "error" in reply:
            raise WorkerError(reply["error"])
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.stdin.close()  # type: ignore[union-attr]
                self.proc.wait(timeout=10)
            except (WorkerError, OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def worker_env(lib: str, threads: int | None) -> dict[str, str]:
    """The user's environment, without what importing corten set in this process, plus the
    thread count for this one worker when --threads is given."""
    env = {k: v for k, v in os.environ.items() if k not in corten.ENV_SET_ON_IMPORT}
    if threads is not None:
        env["CORTEN_BENCH_THREADS"] = str(threads)
        if lib == "numpy":
            env["OPENBLAS_NUM_THREADS"] = str(threads)
    return env


def start_workers(libs: list[str], threads: int | None) -> tuple[dict[str, Worker], list[str]]:
    """Workers for `libs`, started together; those that fail to start are left out, with a note."""
    started = {lib: Worker(lib, worker_env(lib, threads)) for lib in libs}
    workers, notes = {}, []
    for lib, w in started.items():
        try:
            w.hello()
            workers[lib] = w
        except (WorkerError, ValueError) as e:
            notes.append(f"{lib} left out: its worker did not start ({e})")
            w.close()
    return workers, notes


def _running_threads(pid: int) -> int | None:
    """How many threads of `pid` are running or runnable; None without /proc."""
    task = f"/proc/{pid}/task"
    try:
        tids = os.listdir(task)
    except OSError:
        return None
    running = 0
    for tid in tids:
        try:
            with open(f"{task}/{tid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # the thread ended
        if stat[stat.rindex(b")") + 2:][:1] == b"R":
            running += 1
    return running


def wait_idle(pid: int, timeout: float = IDLE_TIMEOUT) -> float:
    """Wait until no thread of `pid` runs (its pools have stopped spinning); seconds waited."""
    start = time.perf_counter()
    while True:
        n = _running_threads(pid)
        waited = time.perf_counter() - start
        if n is None:
            time.sleep(PAUSE_WITHOUT_PROC)
            return PAUSE_WITHOUT_PROC
        if n == 0 or waited > timeout:
            return waited
        time.sleep(IDLE_POLL)


class _Side:
    """One library's worker as the rounds loop sees it."""

    last_pid: int | None = None  # the worker that ran last, shared by all sides

    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    def settle(self) -> None:
        if _Side.last_pid is not None:
            wait_idle(_Side.last_pid)
        _Side.last_pid = self.worker.proc.pid

    def warm(self, twice: bool) -> float:
        self.settle()
        return float(self.worker.call("warm", twice=twice)["t"])

    def sample(self, n: int) -> float:
        self.settle()
        return float(self.worker.call("sample", n=n)["t"])


def run_workload(w: Workload, workers: dict[str, Worker], budget: float) -> Result:
    res = Result(w)
    note = skip_note(w)
    if note:
        res.note = note
        return res
    names = [lib for lib in LIBRARIES if lib in workers and lib in w.setups]
    sides: dict[str, Side] = {}
    errors: list[str] = []
    for lib in names:  # all set up at once: data making is not timed
        try:
            workers[lib].send("setup", name=w.name)
            sides[lib] = _Side(workers[lib])
        except WorkerError as e:
            errors.append(f"{lib} setup failed: {e}")
    for lib in list(sides):
        try:
            workers[lib].read()
        except WorkerError as e:
            errors.append(f"{lib} setup failed: {e}")
            del sides[lib]
    try:
        time_rounds(res, sides, budget, errors)
    finally:
        for lib in sides:
            try:
                workers[lib].call("drop")
            except WorkerError:
                pass
    return res
