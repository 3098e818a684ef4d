"""The training job's recipe in idiomatic PyTorch, for comparison with
`python -m corten train`: pixels standardised with the training set's mean and
std, Linear 784->512, ReLU, Linear 512->10, cross-entropy,
RMSprop (lr 1e-3, alpha 0.9), batch 128, test accuracy after each epoch.

Batches are made as corten's DataLoader makes them: a fresh random permutation
per epoch, then one gather per tensor per batch (`x[idx]`), the last batch
short (469 steps per epoch). The same IDX files are read (the search order of
corten.datasets: --data, $CORTEN_DATA/NAME, /usr/share/datasets/NAME,
~/.cache/corten/NAME) with NumPy, without importing corten: this process is
PyTorch's alone, with PyTorch's defaults.

With --model cnn: the convnet of `python -m corten train --model cnn` (Conv2d(1,32,3)-ReLU-
MaxPool2d(2)-Conv2d(32,64,3)-ReLU-MaxPool2d(2)-Conv2d(64,64,3)-ReLU-Flatten-Linear(576,64)-ReLU-
Linear(64,10)) on (N, 1, 28, 28) images, batch 64 unless --batch-size is given.

    python benchmarks/train_torch_twin.py [--model mlp|cnn] [--epochs 5] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def read_idx(folder: Path, base: str) -> np.ndarray:
    """An IDX file (gzipped or not) as an array; the header's shape must match the data."""
    path = folder / base if (folder / base).is_file() else folder / (base + ".gz")
    raw = path.read_bytes()
    buf = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    if buf[:3] != b"\0\0\x08":
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    nd = buf[3]
    shape = tuple(int.from_bytes(buf[4 + 4 * i: 8 + 4 * i], "big") for i in range(nd))
    data = np.frombuffer(buf, np.uint8, offset=4 + 4 * nd)
    if data.size != math.prod(shape):
        raise SystemExit(f"{path}: {data.size} bytes of data for shape {shape}")
    return data.reshape(shape)


def load(name: str, root: str | None, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 784) float32 pixels in [0, 1] and int64 labels."""
    dirs = [Path(root), Path(root) / name] if root else []
    if os.environ.get("CORTEN_DATA"):
        dirs.append(Path(os.environ["CORTEN_DATA"]) / name)
    dirs += [Path("/usr/share/datasets") / name, Path.home() / ".cache" / "corten" / name]
    for d in dirs:
        if all((d / f).is_file() or (d / (f + ".gz")).is_file() for f in FILES[train]):
            images, labels = (read_idx(d, f) for f in FILES[train])
            x = images.reshape(len(images), -1).astype(np.float32) * np.float32(1 / 255)
            return torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))
    raise SystemExit(f"{name}: data files not found in " + ", ".join(map(str, dirs)))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--dataset", choices=["fashion-mnist", "mnist"], default="fashion-mnist")
    p.add_argument("--data", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="train on the first N samples only")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-normalize", action="store_true", help="feed pixels in [0, 1]")
    p.add_argument("--json", action="store_true", help="print one JSON line with the results")
    args = p.parse_args()

    t0 = time.perf_counter()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = (load(args.dataset, args.data, train) for train in (True, False))
    if not args.no_normalize:  # the training set's statistics, as the corten job
        mean, std = x_train.double().mean().item(), x_train.double().std(correction=0).item()
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    if args.limit:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    if args.model == "cnn":
        x_train, x_test = x_train.reshape(-1, 1, 28, 28), x_test.reshape(-1, 1, 28, 28)
    if args.batch_size is None:
        args.batch_size = 64 if args.model == "cnn" else 128
    t_data = time.perf_counter() - t0

    if args.model == "cnn":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
            nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10),
        )
    else:
        model = nn.Sequential(nn.Linear(784, args.hidden), nn.ReLU(), nn.Linear(args.hidden, 10))
    opt = torch.optim.RMSprop(model.parameters(), lr=args.lr, alpha=0.9)
    loss_fn = nn.CrossEntropyLoss()
    n, bs = len(x_train), args.batch_size
    history = []
    t_train = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        te = time.perf_counter()
        total, correct, seen, steps = 0.0, 0, 0, 0
        order = torch.randperm(n)
        for lo in range(0, n, bs):
            idx = order[lo:lo + bs]
            xb, yb = x_train[idx], y_train[idx]
            logits = model(xb)
            loss = loss_fn(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            correct += int((logits.argmax(1) == yb).sum())
            seen += len(yb)
            steps += 1
        secs = time.perf_counter() - te
        model.eval()
        with torch.no_grad():
            hits = sum(int((model(x_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000]).sum())
                       for i in range(0, len(x_test), 1000))
        history.append(
            {
                "epoch": epoch,
                "train_loss": total / seen,
                "train_acc": correct / seen,
                "test_acc": hits / len(x_test),
                "seconds": secs,
                "steps": steps,
            }
        )
        if not args.json:
            h = history[-1]
            print(
                f"epoch {epoch}: loss {h['train_loss']:.4f}  train acc {h['train_acc']:.4f}  "
                f"test acc {h['test_acc']:.4f}  {seen / secs:,.0f} samples/s"
            )
    train_secs = time.perf_counter() - t_train
    res = {
        "framework": f"torch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "history": history,
        "test_acc": history[-1]["test_acc"],
        "train_seconds": train_secs,
        "data_seconds": t_data,
        "total_seconds": time.perf_counter() - t0,
    }
    if args.json:
        print(json.dumps(res))
    else:
        print(f"test accuracy: {res['test_acc']:.4f}")
        print(f"time: {train_secs:.1f} s training, {res['total_seconds']:.1f} s total")


if __name__ == "__main__":
    main()
