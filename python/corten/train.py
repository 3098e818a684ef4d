"""The training job: `python -m corten train [options]`.

Default recipe: pixels standardised with the training set's mean and std,
Linear 784->512, ReLU, Linear 512->10, softmax cross-entropy, RMSprop (lr 1e-3,
alpha 0.9), batch 128, 5 epochs on Fashion-MNIST. Prints a
progress bar per epoch, the test accuracy and the time; writes into --out a
resumable checkpoint (checkpoint.safetensors) after every epoch (and every
--checkpoint-every steps), and at the end the model (model.safetensors), the
per-epoch history (history.json) and a chart (training.png, when matplotlib is
installed). Every file is written atomically. --resume continues an interrupted
run; Ctrl-C finishes the step, writes the checkpoint and exits with status 130.

`--model cnn`: the small convnet Conv2d(1,32,3)-ReLU-MaxPool2d(2)-Conv2d(32,64,3)-ReLU-
MaxPool2d(2)-Conv2d(64,64,3)-ReLU-Flatten-Linear(576,64)-ReLU-Linear(64,10) on
(N, 1, 28, 28) images, batch 64 by default, otherwise the same recipe.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import corten as ct

from . import _atomic, nn, optim, train_state
from ._profile import StepProfile
from .data import DataLoader, TensorDataset
from .datasets import MNIST, DatasetError, FashionMNIST, pixel_moments, pixel_table, pixel_values
from .tensor import Tensor
from .train_dist import Job

DATASETS = {"fashion-mnist": FashionMNIST, "mnist": MNIST}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m corten train", description=__doc__.split("\n\n")[1])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--batch-size", type=int, default=None, help="default: 128 (mlp), 64 (cnn)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--optimizer", choices=["rmsprop", "adam", "adamw", "sgd"], default="rmsprop")
    p.add_argument("--hidden", type=int, default=512, help="hidden units (0: a linear model)")
    p.add_argument("--dataset", choices=sorted(DATASETS), default="fashion-mnist")
    p.add_argument("--data", metavar="DIR", default=None, help="folder with the IDX files (default: search)")
    p.add_argument("--download", action="store_true", help="download the dataset if it is not found")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="kernel threads (default: all cores)")
    p.add_argument(
        "--out", metavar="DIR", default="runs", help="where to write checkpoint, history and chart"
    )
    p.add_argument("--limit", type=int, default=None, help=argparse.SUPPRESS)  # train on the first N samples
    p.add_argument(
        "--checkpoint-every", type=int, default=0, metavar="N",
        help="also write the checkpoint every N steps (default: at the end of each epoch only)",
    )
    p.add_argument(
        "--resume", nargs="?", const="", default=None, metavar="PATH",
        help=f"continue from a checkpoint (default PATH: OUT/{train_state.FILENAME})",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument(
        "--profile", action="store_true",
        help="time the training steps by category (matmul, element-wise, loss, optimizer, data, python)",
    )
    p.add_argument(
        "--distributed", action="store_true", help="data-parallel over MPI ranks (see docs/distributed.md)"
    )
    p.add_argument(
        "--compile", action="store_true",
        help="replay each step's recorded kernel calls without the Python (corten.compile; same results)",
    )
    p.add_argument(
        "--no-normalize",
        action="store_true",
        help="feed pixels in [0, 1] (default: standardised with train stats)",
    )
    return p.parse_args(argv)


def build_model(hidden: int, inputs: int = 784, classes: int = 10) -> nn.Module:
    if hidden <= 0:
        return nn.Sequential(nn.Linear(inputs, classes))
    return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, classes))


def build_cnn(classes: int = 10) -> nn.Module:
    """The small convnet for (N, 1, 28, 28) images."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
        nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, classes),
    )  # fmt: skip


def as_images(ds: TensorDataset) -> TensorDataset:
    """A flattened (N, 784) dataset as (N, 1, 28, 28) images (a view)."""
    x, y = ds.tensors
    return TensorDataset(x.reshape(x.shape[0], 1, 28, 28), y)


def build_optimizer(name: str, params: Any, lr: float) -> optim.Optimizer:
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, alpha=0.9)
    if name == "adam":
        return optim.Adam(params, lr=lr)
    if name == "adamw":
        return optim.AdamW(params, lr=lr)
    return optim.SGD(params, lr=lr, momentum=0.9)


def load_data(
    name: str, root: str | None, download: bool, normalize: bool = True
) -> tuple[TensorDataset, TensorDataset, tuple[float, float]]:
    """Flattened (N, 784) train and test sets; with `normalize`, pixels are
    standardised with the training set's mean and standard deviation (returned)."""
    cls = DATASETS[name]
    (train_u8, train_y, _), (test_u8, test_y, _) = (
        cls.raw(root, train=split, download=download) for split in (True, False)
    )
    # Every pixel is one of 256 values: standardise the 256-entry table with the
    # same float32 ops a pass over the images would use (so the result is bit for
    # bit the same), then look each byte up in one pass.
    table = pixel_table()
    mean, std = 0.0, 1.0
    if normalize:
        mean, std = pixel_moments(train_u8, table)
        t = Tensor._wrap(table)
        t -= mean
        t /= std
    flat = [
        TensorDataset(Tensor._wrap(pixel_values(u8.reshape(len(u8), -1), table)), Tensor._wrap(y))
        for u8, y in ((train_u8, train_y), (test_u8, test_y))
    ]
    return flat[0], flat[1], (mean, std)


def evaluate(model: nn.Module, ds: TensorDataset, batch_size: int = 1000) -> float:
    model.eval()
    correct = 0
    with ct.no_grad():
        for xb, yb in DataLoader(ds, batch_size=batch_size):
            correct += int((model(xb)._a.argmax(axis=1) == yb._a).sum())
    model.train()
    return correct / len(ds)


class _Bar:
    """A tqdm bar when tqdm is installed and wanted, else a silent stand-in."""

    def __init__(self, total: int, desc: str, enabled: bool) -> None:
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, desc=desc, unit="batch", dynamic_ncols=True, mininterval=0.25)
            except ImportError:
                pass

    def update(self, n: int, **stats: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix(stats, refresh=False)
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def training_step(model: nn.Module, opt: optim.Optimizer, loss_fn: nn.Module) -> Callable:
    """step(x, y) -> (loss, logits): forward, zero_grad, backward, optimizer step."""

    def step(xb: ct.Tensor, yb: ct.Tensor) -> tuple:
        logits = model(xb)
        loss = loss_fn(logits, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss, logits

    return step


def train_epoch(
    model: nn.Module, loader: DataLoader, opt: optim.Optimizer, loss_fn: nn.Module, desc: str, progress: bool,
    partial: dict | None = None, after_step: Callable[[dict], bool] | None = None,
    profile: StepProfile | None = None, step_fn: Callable | None = None,
) -> dict:
    """One epoch (or the rest of one: `partial` holds the sums of the steps done
    before a resume). after_step(sums) runs after every step; True stops the epoch
    early, and the result then has "stopped": True. With `profile`, the epoch's
    steps are timed by category (see corten._profile). `step_fn`: the step to run
    (default: training_step's; the job passes its compiled one under --compile)."""
    step_fn = step_fn or training_step(model, opt, loss_fn)
    if profile is None:
        return _epoch(loader, loader, step_fn, desc, progress, partial, after_step)
    profile.install()
    t = time.perf_counter()
    try:
        return _epoch(loader, profile.batches(loader), step_fn, desc, progress, partial, after_step)
    finally:
        profile.uninstall()
        profile.add_time(time.perf_counter() - t)


def _epoch(
    loader: DataLoader, batches: Any, step_fn: Callable, desc: str, progress: bool, partial: dict | None,
    after_step: Callable[[dict], bool] | None,
) -> dict:
    bar = _Bar(len(loader), desc, progress)
    p = partial or {}
    total_loss, correct, seen = float(p.get("loss_sum", 0.0)), int(p.get("correct", 0)), int(p.get("seen", 0))
    pending = 0
    start = time.perf_counter() - float(p.get("seconds", 0.0))
    first = int(p.get("batches", 0))  # steps of this epoch done before a resume
    if first:
        bar.update(first)
    for step, (xb, yb) in enumerate(batches, first):
        loss, logits = step_fn(xb, yb)
        n = yb.shape[0]
        total_loss += loss.item() * n
        correct += int((logits._a.argmax(axis=1) == yb._a).sum())
        seen += n
        pending += 1
        if pending == 20 or step == len(loader) - 1:
            rate = seen / max(time.perf_counter() - start, 1e-9)
            bar.update(
                pending,
                loss=f"{total_loss / seen:.4f}",
                acc=f"{correct / seen:.4f}",
                samples_s=f"{rate:,.0f}",
            )
            pending = 0
        if after_step is not None and after_step(
            {"loss_sum": total_loss, "correct": correct, "seen": seen, "batches": step + 1,
             "seconds": time.perf_counter() - start}
        ):
            bar.close()
            return {"stopped": True}
    bar.close()
    secs = time.perf_counter() - start
    return {
        "train_loss": total_loss / seen,
        "train_acc": correct / seen,
        "seconds": secs,
        "steps": len(loader),
        "samples_per_s": seen / secs,
    }


def _chart_figure_class() -> Any:
    """matplotlib's Figure, rendering with Agg (no pyplot, no display), or None."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure
    except ImportError:
        return None
    return Figure


class _ImportInBackground:
    """Imports the chart's matplotlib in a daemon thread while the data loads (gzip
    and the pixel lookups release the GIL), so the chart at the end does not wait
    about half a second for the import."""

    def __init__(self) -> None:
        self._result: list = []
        self._thread = threading.Thread(target=lambda: self._result.append(_chart_figure_class()), daemon=True)
        self._thread.start()

    def figure_class(self) -> Any:
        self._thread.join()
        return self._result[0] if self._result else _chart_figure_class()


def save_chart(history: list[dict], path: str, figure_class: Any = None) -> bool:
    """Loss and accuracy per epoch as a PNG; False when matplotlib is not installed."""
    Figure = figure_class or _chart_figure_class()
    if Figure is None:
        return False
    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(9, 3.5))
    a1, a2 = fig.subplots(1, 2)
    a1.plot(epochs, [h["train_loss"] for h in history], "o-")
    a1.set(title="training loss", xlabel="epoch", ylabel="cross-entropy")
    a2.plot(epochs, [h["train_acc"] for h in history], "o-", label="train")
    a2.plot(epochs, [h["test_acc"] for h in history], "s-", label="test")
    a2.set(title="accuracy", xlabel="epoch", ylabel="accuracy")
    a2.legend()
    for a in (a1, a2):
        a.grid(alpha=0.3)
        a.set_xticks(epochs)
    fig.tight_layout()
    with _atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    return True


def _reuse_freed_memory() -> None:
    """Keep freed buffers of up to 16 MiB in the heap (glibc) instead of returning
    them to the OS: every step allocates the same activation and gradient sizes,
    and fresh pages from mmap cost a page fault each."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 16 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        print(f"error: --out {args.out} is a file, not a folder", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    _reuse_freed_memory()
    job = Job(args.distributed)
    charting = _ImportInBackground() if job.is_main else None
    threads = job.threads(args.threads)
    if threads:
        ct.set_num_threads(threads)
    ct.manual_seed(args.seed)
    try:
        train_ds, test_ds, (mean, std) = load_data(
            args.dataset, args.data, args.download, not args.no_normalize
        )
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.limit:
        train_ds = TensorDataset(*train_ds.batch(slice(0, args.limit)))
    if args.model == "cnn":
        train_ds, test_ds = as_images(train_ds), as_images(test_ds)
    if args.batch_size is None:
        args.batch_size = 64 if args.model == "cnn" else 128
    t_data = time.perf_counter() - t0
    model = job.wrap(build_cnn() if args.model == "cnn" else build_model(args.hidden))
    opt = build_optimizer(args.optimizer, model.parameters(), args.lr)
    loss_fn = nn.CrossEntropyLoss()
    loader = job.loader(train_ds, args.batch_size, args.seed)
    print(
        f"corten {ct.__version__}: {args.dataset} ({len(train_ds)} train / {len(test_ds)} test), "
        f"{model.num_parameters():,} parameters, {args.optimizer} lr={args.lr}, batch {args.batch_size}, "
        f"{ct.get_num_threads()} threads" + (f" x {job.world} processes" if args.distributed else "")
    )
    ckpt_path = os.path.join(args.out, train_state.FILENAME)
    history: list[dict] = []
    first_epoch, partial = 1, None
    if args.distributed and args.checkpoint_every:
        print("error: --checkpoint-every is not supported with --distributed (checkpoints are written at "
              "the end of each epoch)", file=sys.stderr)
        return 1
    if args.compile and (args.distributed or args.profile):
        print("error: --compile cannot be combined with --distributed (the gradient exchange runs outside "
              "corten's kernels) or --profile (it times the Python a compiled step skips)", file=sys.stderr)
        return 1
    step_fn = training_step(model, opt, loss_fn)
    if args.compile:
        step_fn = ct.compile(step_fn, state=[model, opt])
    if args.resume is not None:
        resume = args.resume or ckpt_path
        try:
            state = train_state.load(resume, args, model, opt, loader)
        except (OSError, ValueError) as e:
            print(f"error: cannot resume: {e}", file=sys.stderr)
            return 1
        history, partial = state["history"], state["partial"]
        if args.distributed and partial is not None:  # each rank's partial sums are its own
            print(f"error: cannot resume: {resume} was written in the middle of an epoch; a distributed "
                  "run resumes from the end of an epoch", file=sys.stderr)
            return 1
        first_epoch = state["epoch"] + (partial is None)
        print(f"resuming from {resume}: epoch {first_epoch}"
              + (f", step {partial['batches'] + 1}" if partial else ""))
    if job.is_main:
        _atomic.remove_stale(ckpt_path)  # what a killed write left behind
    stop, hook = train_state.StopFlag(), train_state.SignalHook()
    every = args.checkpoint_every

    def write_checkpoint(epoch: int, sums: dict) -> None:
        if not job.is_main:  # every rank holds the same state; rank 0 writes it
            return
        try:
            train_state.save(ckpt_path, args, model, opt, loader, epoch, sums, history, (mean, std))
        except OSError as e:  # a full disk, a removed folder: the previous checkpoint is intact
            raise train_state.WriteError(f"cannot write the checkpoint {ckpt_path}: {e}") from None

    def interrupted() -> int:
        print(f"\ninterrupted: checkpoint written to {ckpt_path}\nresume with: "
              + train_state.resume_command(argv if argv is not None else sys.argv[1:], ckpt_path))
        return 130

    profile = StepProfile() if args.profile else None
    t_train = time.perf_counter()
    with stop.installed(enabled=not args.distributed):
        try:
            for epoch in range(first_epoch, args.epochs + 1):

                def after_step(sums: dict, epoch: int = epoch) -> bool:
                    hook.step()
                    if sums["batches"] == len(loader):  # the epoch's end writes (and stops if asked)
                        return False
                    if stop.set or (every and ((epoch - 1) * len(loader) + sums["batches"]) % every == 0):
                        write_checkpoint(epoch, sums)
                    return stop.set

                job.start_epoch(loader, epoch)
                stats = train_epoch(model, loader, opt, loss_fn, f"epoch {epoch}/{args.epochs}",
                                    job.is_main and not args.no_progress, partial, after_step, profile, step_fn)
                partial = None
                if stats.get("stopped"):
                    return interrupted()
                stats = job.reduce_stats(stats)
                stats["test_acc"] = job.evaluate(evaluate, model, test_ds)
                stats["epoch"] = epoch
                history.append(stats)
                write_checkpoint(epoch, {})
                print(
                    f"epoch {epoch}: loss {stats['train_loss']:.4f}  train acc {stats['train_acc']:.4f}  "
                    f"test acc {stats['test_acc']:.4f}  {stats['samples_per_s']:,.0f} samples/s"
                )
                if stop.set:
                    return interrupted()
        except train_state.WriteError as e:
            print(f"error: {e} (the previous checkpoint is intact)", file=sys.stderr)
            return 1
    train_secs = time.perf_counter() - t_train
    test_acc = history[-1]["test_acc"] if history else job.evaluate(evaluate, model, test_ds)
    if not job.is_main:  # rank 0 writes the checkpoint, history and chart
        return 0
    ckpt = os.path.join(args.out, "model.safetensors")
    ct.save(model.state_dict(), ckpt, metadata={"input_mean": repr(mean), "input_std": repr(std)})
    _atomic.write_text(
        os.path.join(args.out, "history.json"),
        json.dumps(
            {
                "args": vars(args),
                "history": history,
                "test_acc": test_acc,
                "train_seconds": train_secs,
                "data_seconds": t_data,
                "input_mean": mean,
                "input_std": std,
            },
            indent=1,
        ),
    )
    chart = os.path.join(args.out, "training.png")
    charted = save_chart(history, chart, charting.figure_class()) if history and charting else False
    total = time.perf_counter() - t0
    print(f"test accuracy: {test_acc:.4f}")
    print(f"time: {train_secs:.1f} s training, {total:.1f} s total (data loading {t_data:.1f} s)")
    if profile is not None:
        print(profile.report())
    print(f"model: {ckpt}\ncheckpoint: {ckpt_path} (resumable)")
    print(f"chart: {chart}" if charted else "chart: skipped (matplotlib is not installed)")
    return 0


__all__ = ["main", "build_model", "build_cnn", "build_optimizer", "evaluate", "load_data"]
