"""The training job's recipe in idiomatic PyTorch, for comparison with
`python -m corten train`: pixels standardised with the training set's mean and
std, Linear 784->512, ReLU, Linear 512->10, cross-entropy,
RMSprop (lr 1e-3, alpha 0.9), batch 128, shuffled torch DataLoader over a
TensorDataset, test accuracy after each epoch. The same IDX files are read
with corten.datasets so both runs see identical data.

    python benchmarks/train_torch_twin.py [--epochs 5] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from corten.datasets import MNIST, FashionMNIST
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--dataset", choices=["fashion-mnist", "mnist"], default="fashion-mnist")
    p.add_argument("--data", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-normalize", action="store_true", help="feed pixels in [0, 1]")
    p.add_argument("--json", action="store_true", help="print one JSON line with the results")
    args = p.parse_args()

    t0 = time.perf_counter()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cls = FashionMNIST if args.dataset == "fashion-mnist" else MNIST
    sets = []
    mean = std = None
    for train in (True, False):
        ds = cls(args.data, train=train)
        x = torch.from_numpy(ds.images.numpy().reshape(len(ds), -1))
        if not args.no_normalize:
            if mean is None:  # the training set's statistics, as the corten job
                mean, std = x.double().mean().item(), x.double().std(correction=0).item()
            x = (x - mean) / std
        sets.append(TensorDataset(x, torch.from_numpy(ds.labels.numpy())))
    train_ds, test_ds = sets
    t_data = time.perf_counter() - t0

    model = nn.Sequential(nn.Linear(784, args.hidden), nn.ReLU(), nn.Linear(args.hidden, 10))
    opt = torch.optim.RMSprop(model.parameters(), lr=args.lr, alpha=0.9)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True)
    history = []
    t_train = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        te = time.perf_counter()
        total, correct, seen = 0.0, 0, 0
        for xb, yb in loader:
            logits = model(xb)
            loss = loss_fn(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            correct += int((logits.argmax(1) == yb).sum())
            seen += len(yb)
        secs = time.perf_counter() - te
        model.eval()
        with torch.no_grad():
            hits = sum(
                int((model(xb).argmax(1) == yb).sum()) for xb, yb in DataLoader(test_ds, batch_size=1000)
            )
        history.append(
            {
                "epoch": epoch,
                "train_loss": total / seen,
                "train_acc": correct / seen,
                "test_acc": hits / len(test_ds),
                "seconds": secs,
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
