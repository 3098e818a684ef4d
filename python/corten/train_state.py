"""Checkpoints of the training job (`python -m corten train`): what a checkpoint
holds, validated loading for --resume, the Ctrl-C stop flag and the test hooks.

A checkpoint is one safetensors file written atomically (see docs/checkpoints.md):
the model, the optimizer, the random generator, the data loader's position in
the epoch, the partial sums of the epoch in progress and the history, so a
resumed run ends with the same weights, bit for bit, as an uninterrupted one.
"""

from __future__ import annotations

import os
import shlex
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import checkpoint, nn, optim
from . import random as _random
from .checkpoint import CheckpointError
from .data import DataLoader

FORMAT = "corten.train"
VERSION = 1
FILENAME = "checkpoint.safetensors"
# Options that define the run: a resumed run must repeat them.
RECIPE = ("dataset", "model", "hidden", "optimizer", "lr", "batch_size", "limit", "no_normalize", "seed", "distributed")
# Test hook: "N" (or "N:KILL") makes the job SIGKILL itself after N steps of this
# process; "N:INT" sends itself SIGINT (a Ctrl-C) instead.
SIGNAL_ENV = "CORTEN_TEST_SIGNAL_AT_STEP"


class WriteError(OSError):
    """The checkpoint could not be written (the previous one is still intact)."""


def recipe(args: Any) -> dict:
    return {k: getattr(args, k, None) for k in RECIPE}


def save(
    path: str, args: Any, model: nn.Module, opt: optim.Optimizer, loader: DataLoader,
    epoch: int, partial: dict, history: list, input_stats: tuple[float, float],
) -> None:
    """Write the job's checkpoint atomically. `epoch` is the epoch in progress (or
    just finished, when the loader has handed out all its batches)."""
    checkpoint.save(
        {
            "format": FORMAT,
            "version": VERSION,
            "recipe": recipe(args),
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "rng": list(_random.default_generator.get_state()),
            "loader": loader.state_dict(),
            "epoch": epoch,
            "partial": dict(partial),
            "history": history,
            "input_mean": input_stats[0],
            "input_std": input_stats[1],
        },
        path,
    )


def load(path: str, args: Any, model: nn.Module, opt: optim.Optimizer, loader: DataLoader) -> dict:
    """Restore model, optimizer, generator and loader from `path`, after checking
    all of it; return {"epoch", "partial" (None when that epoch was finished),
    "history"}. CheckpointError names the file and the fault."""
    ck = checkpoint.load(path)  # CheckpointError for a file that is not a safetensors file

    def bad(what: str) -> CheckpointError:
        return CheckpointError(f"{path}: {what}")

    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        raise bad(f"not a training checkpoint of `python -m corten train` (no format {FORMAT!r})")
    if ck.get("version") != VERSION:
        raise bad(f"checkpoint format version {ck.get('version')!r}; this corten reads version {VERSION}")
    missing = [k for k in ("recipe", "model", "optimizer", "rng", "loader", "epoch", "partial", "history")
               if k not in ck]
    if missing:
        raise bad(f"missing key(s) {', '.join(missing)}")
    theirs, mine = ck["recipe"], recipe(args)
    diff = [f"--{k.replace('_', '-')} {theirs.get(k)!r} (this run: {mine[k]!r})"
            for k in RECIPE if isinstance(theirs, dict) and theirs.get(k) != mine[k]]
    if not isinstance(theirs, dict) or diff:
        raise bad("written by a run with other options: " + "; ".join(diff or ["unreadable recipe"])
                  + ". Resume with the options of the interrupted run.")
    rng = ck["rng"]
    if not (isinstance(rng, list) and len(rng) == 2 and all(isinstance(v, int) and v >= 0 for v in rng)):
        raise bad(f"random generator state must be [seed, offset], got {rng!r}")
    epoch = ck["epoch"]
    if not isinstance(epoch, int) or epoch < 0:
        raise bad(f"epoch must be a non-negative int, got {epoch!r}")
    own = model.state_dict()
    sd = ck["model"]
    if not isinstance(sd, dict):
        raise bad("the model entry is not a state dict")
    problems = [f"missing key {k!r}" for k in own if k not in sd]
    problems += [f"unexpected key {k!r}" for k in sd if k not in own]
    problems += [f"shape mismatch for {k!r}: {tuple(sd[k].shape)} in the file, {tuple(t.shape)} in the model"
                 for k, t in own.items() if k in sd and tuple(getattr(sd[k], "shape", ())) != tuple(t.shape)]
    if problems:
        raise bad("checkpoint of another model: " + "; ".join(problems[:6]))
    pos = ck["loader"]
    if not isinstance(pos, dict) or not isinstance(pos.get("batches"), int):
        raise bad(f"unreadable data loader position {pos!r}")
    finished = pos["batches"] == len(loader)  # the checkpoint of an epoch's end
    try:  # each validates before it assigns; the model goes last, as it cannot fail now
        if not finished:
            loader.load_state_dict(pos)
        opt.load_state_dict(ck["optimizer"])
        model.load_state_dict(sd)
    except (ValueError, TypeError, KeyError, RuntimeError) as e:
        raise bad(str(e)) from None
    _random.default_generator.set_state(tuple(rng))
    return {"epoch": epoch, "partial": None if finished else ck["partial"], "history": list(ck["history"])}


def resume_command(argv: list[str], path: str) -> str:
    """The command line that continues this run from `path`."""
    rest, skip = [], False
    for i, tok in enumerate(argv):
        if skip:
            skip = False
            continue
        if tok == "--resume":
            skip = i + 1 < len(argv) and not argv[i + 1].startswith("-")
            continue
        if not tok.startswith("--resume="):
            rest.append(tok)
    return shlex.join(["python", "-m", "corten", "train", *rest, "--resume", path])


class StopFlag:
    """Set by the first Ctrl-C (SIGINT): the job finishes the step, checkpoints and
    exits. A second Ctrl-C interrupts at once (KeyboardInterrupt)."""

    def __init__(self) -> None:
        self.set = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self.set:
            raise KeyboardInterrupt
        self.set = True

    @contextmanager
    def installed(self, enabled: bool = True) -> Iterator[StopFlag]:
        """Handle SIGINT inside the block (when enabled: a distributed run keeps the
        default, as its ranks could stop at different steps)."""
        if not enabled:
            yield self
            return
        try:
            old = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: Ctrl-C keeps its default behaviour
            yield self
            return
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, old)


class SignalHook:
    """The SIGNAL_ENV test hook: signal this process after a chosen number of steps."""

    def __init__(self) -> None:
        spec = os.environ.get(SIGNAL_ENV, "")
        n, _, name = spec.partition(":")
        self.at = int(n) if n else -1
        self.sig = signal.SIGINT if name.upper() == "INT" else signal.SIGKILL
        self.steps = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps == self.at:
            os.kill(os.getpid(), self.sig)
